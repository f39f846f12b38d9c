"""``dzarchive enqueue | worker | status`` (and ``run --redis``): thin commands over :mod:`dzarchive.queue`.
``register(cli)`` adds them to the main ``dzarchive`` group. They need the optional extra ``dzarchive[queue]``.
"""
from __future__ import annotations

import copy
import json
import sys

import click

from .research_commands import output_options, print_rows

STATUS_COLUMNS = ("site", "state", "worker", "since", "pages", "detail", "last")


def _queue():
    from . import queue

    if queue.redis is None:
        raise click.ClickException("the queue needs the optional extra: pip install 'dzarchive[queue]'")
    return queue


def _connect(redis_url: str):
    queue = _queue()
    try:
        return queue.connect(redis_url)
    except queue.QueueError as exc:
        raise click.ClickException(str(exc)) from None


def _delays(text: str) -> tuple[int, ...]:
    try:
        delays = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r}: seconds separated by commas, such as 30,300,1800",
                                 param_hint="--retry-delays") from None
    if any(d < 0 for d in delays):
        raise click.BadParameter("delays cannot be negative", param_hint="--retry-delays")
    return delays


def enqueue_sites(config_path: str, redis_url: str, retries: int | None = None, retry_delays: str | None = None):
    """Queue one job per site of ``config_path`` and print what happened to each (``enqueue`` and ``run --redis``)."""
    from .config import ConfigError, load_config

    queue = _queue()
    try:
        jobs = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    conn = _connect(redis_url)
    done = queue.enqueue(conn, jobs, retries=queue.DEFAULT_RETRIES if retries is None else retries,
                         retry_delays=_delays(retry_delays) if retry_delays else queue.DEFAULT_RETRY_DELAYS)
    for item in done:
        click.echo(f"{item.action:<15} {item.site}  {item.url}")
    click.echo(f"{sum(i.action != 'already queued' for i in done)} of {len(done)} site(s) queued on {redis_url}")


def register(cli: click.Group) -> None:
    """Add the queue commands to ``cli``."""

    @cli.command()
    @click.option("--config", "config_path", default="dzarchive.toml", show_default=True,
                  type=click.Path(dir_okay=False), help="The sites to queue (see README).")
    @click.option("--redis", "redis_url", required=True, metavar="URL", help="The queue: redis://HOST:6379/0.")
    @click.option("--retries", type=click.IntRange(0, 100), default=None,
                  help="Attempts after a failed or abandoned one (default 3).")
    @click.option("--retry-delays", default=None, metavar="S,S,...",
                  help="Seconds to wait before each retry (default 30,300,1800).")
    def enqueue(config_path, redis_url, retries, retry_delays):
        """Queue one crawl job per site of a config file, for `dzarchive worker`s on any machine.

        A site whose job still waits is not queued twice; a site being crawled gets its next run queued after it.
        """
        enqueue_sites(config_path, redis_url, retries, retry_delays)

    @cli.command()
    @click.option("--redis", "redis_url", required=True, metavar="URL", help="The queue: redis://HOST:6379/0.")
    @click.option("--archives", type=click.Path(file_okay=False), default=None,
                  help="The folder of archives every worker reaches (may be shared storage); "
                       "default: each site's database path.")
    @click.option("--jobs", "-j", type=click.IntRange(1, 256), default=1, show_default=True,
                  help="Crawls at once in this worker (each on its own site).")
    @click.option("--workdir", type=click.Path(file_okay=False), default=None,
                  help="Local disk for the archives being crawled (default: the temp folder).")
    @click.option("--heartbeat", type=click.FloatRange(1, 3600), default=10.0, show_default=True,
                  help="Seconds between heartbeats; a worker silent for 3 is taken as dead.")
    @click.option("--checkpoint", type=click.FloatRange(1), default=300.0, show_default=True,
                  help="Seconds between copies of a running crawl's archive back to --archives.")
    @click.option("--name", default=None, help="The worker's name in `status` (default HOST.PID).")
    def worker(redis_url, archives, jobs, workdir, heartbeat, checkpoint, name):
        """Run queued site crawls, JOBS at a time, until stopped (SIGTERM, Ctrl-C)."""
        queue = _queue()
        _connect(redis_url)
        config = queue.WorkerConfig(redis_url=redis_url, archives=archives, workdir=workdir, heartbeat=heartbeat,
                                    checkpoint=checkpoint)
        click.echo(f"dzarchive worker: {jobs} crawl(s) at once from {redis_url}"
                   + (f", archives in {archives}" if archives else ""), err=True)
        try:
            sys.exit(queue.run_worker(config, jobs=jobs, name=name))
        except queue.QueueError as exc:
            raise click.ClickException(str(exc)) from None

    @cli.command("queue-status")
    @click.option("--redis", "redis_url", required=True, metavar="URL", help="The queue: redis://HOST:6379/0.")
    @output_options
    def queue_status(redis_url, fmt, no_headers, width):
        """The crawl queue: each queued site, queued, running (where, since when, pages so far), failed (why) or
        finished, with its last crawl's summary. (What an archive holds: `stats`.)"""
        queue = _queue()
        rows = queue.status(_connect(redis_url))
        if fmt == "json":
            for row in rows:
                click.echo(json.dumps(row, ensure_ascii=False))
            return
        print_rows(STATUS_COLUMNS, ([row["site"], row["state"], row["worker"], row["since"], row["pages"],
                                     row["detail"], _last(row["last"])] for row in rows),
                   fmt, headers=not no_headers, widths={"detail": 50, "last": 70}, width=width)

    # Its first name, kept working but no longer listed: beside `stats` it read as the archive's state.
    status = copy.copy(queue_status)
    status.hidden = True
    cli.add_command(status, "status")

    def _last(last):
        if not last:
            return None
        lines = (last.get("summary") or "").splitlines()
        return " / ".join(line.strip() for line in lines[:3])
