"""The ``dzarchive`` command: thin wrappers over :mod:`scraper.crawl`, the parsers and the archive."""
from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from scraper import exit_codes
from scraper.items import to_dict

DEFAULT_DB = "data/archive.db"
# scraper.settings.DOWNLOAD_DELAY, for --help: that module imports Scrapy, which the research commands never need
# (tests/test_cli_help.py holds the two equal).
DEFAULT_DELAY = 0.25


class DzarchiveGroup(click.Group):
    """The ``dzarchive`` group. The researchers' and the queue's commands are added (and their modules imported,
    with :mod:`research`) only when a command this file does not define is asked for, or the list of them: a crawl
    starts without them."""

    _all_added = False

    def _add_all(self) -> None:
        if not self._all_added:
            self._all_added = True
            from .queue_commands import register as register_queue_commands
            from .research_commands import register as register_research_commands

            register_research_commands(self)
            register_queue_commands(self)

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is None and not self._all_added:
            self._add_all()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx):
        self._add_all()
        return super().list_commands(ctx)

    def invoke(self, ctx):
        """Run the command; a bad option or argument value (click.BadParameter, from click's types or a command's
        checks) is said in one line, exit 2, without the usage lines click puts above it."""
        try:
            return super().invoke(ctx)
        except click.BadParameter as exc:
            if isinstance(exc, click.MissingParameter):
                raise
            raise BadValue(exc.format_message()) from None


class BadValue(click.UsageError):
    """A bad option or argument value: ``Error: Invalid value for '--tz': ...`` on one line, exit 2."""

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


def _checked(check, *, keep: bool = False):
    """A click callback that runs ``check`` (a :mod:`scraper.checks` function) on the value given, a
    :class:`~scraper.checks.CrawlInputError` becoming click's BadParameter; the callback returns what ``check``
    returns, or (``keep``) the value as given."""

    def callback(ctx, param, value):
        from scraper.checks import CrawlInputError

        if value is None:
            return value
        try:
            if isinstance(value, tuple):  # a repeatable option: each of its values
                checked = tuple(check(v) for v in value)
            else:
                checked = check(value)
        except CrawlInputError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
        return value if keep else checked

    return callback


def _check_tz(value):
    from scraper.checks import check_timezone

    return check_timezone(value)


def _check_url(value):
    from scraper.checks import check_start_url

    return check_start_url(value)


def _check_setting(value):
    from scraper.checks import check_setting

    return check_setting(value)


def _check_delay(value):
    import math

    from scraper.checks import CrawlInputError

    if not math.isfinite(value):
        raise CrawlInputError(f"{value} is not a number of seconds")
    return value


def _check_date(value):
    from scraper.checks import CrawlInputError
    from scraper.parsers.dates import parse_http_date

    if parse_http_date(value) is None:
        raise CrawlInputError(f"{value!r} is not an HTTP date (e.g. 'Tue, 03 Dec 2024 08:00:00 GMT')")
    return value


# Commands whose crawl turns the collector back on when it starts (scraper.crawl.run_crawl): see main().
CRAWLING_COMMANDS = ("crawl", "demo")


@click.group(cls=DzarchiveGroup)
@click.version_option(package_name="dzarchive")
@click.pass_context
def cli(ctx):
    """dzarchive: crawl Discuz! forums into a faithful SQLite archive."""
    if ctx.invoked_subcommand not in CRAWLING_COMMANDS:
        gc.enable()


@cli.command(epilog=exit_codes.help_text())
@click.argument("url", callback=_checked(_check_url, keep=True))
@click.option("--db", default=DEFAULT_DB, show_default=True, metavar="PATH", help="SQLite archive to create or update.")
@click.option("--tz", "timezone_name", default="+08:00", show_default=True, callback=_checked(_check_tz),
              help="The forum's time zone (Discuz prints local times without an offset).")
@click.option("--profiles/--no-profiles", default=True, show_default=True,
              help="Also fetch each poster's profile page (exact registration time and figures).")
@click.option("--full", is_flag=True,
              help="Walk every list page and fetch every thread, not only what changed since the last crawl.")
@click.option("--cookies", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A cookies.txt (Netscape format) exported from a logged-in browser: crawl as that member.")
@click.option("--login", "login_user", default=None, metavar="USER",
              help="Log in as USER through the site's login form; the password comes from DZARCHIVE_PASSWORD or a "
                   "prompt, and is never stored.")
@click.option("--keep-pages", type=click.Choice(["failed", "all"]), default="failed", show_default=True,
              help="Keep raw page bodies in the archive: only unreadable ones, or all.")
@click.option("--warc", "warc_dir", type=click.Path(file_okay=False), default=None,
              help="Also write every request and response as WARC/1.1 files (.warc.gz) into this folder.")
@click.option("--wacz", "wacz_file", type=click.Path(dir_okay=False), default=None,
              help="After the crawl, pack the archive's WARCs into this WACZ file (needs --warc).")
@click.option("--media", is_flag=True, help="Download the images and attachments posts show (into ARCHIVE.media/).")
@click.option("--media-offsite", is_flag=True, help="With --media: also images hosted on other sites.")
@click.option("--delay", type=click.FloatRange(min=0), default=None, metavar="SECONDS", callback=_checked(_check_delay),
              help=f"Seconds between requests to a host; AutoThrottle adapts from it.  [default: {DEFAULT_DELAY}]")
@click.option("--contact", default=None, metavar="EMAIL|URL",
              help="How the forum's admins can reach you, sent in the User-Agent "
                   "(dzarchive/VERSION (Discuz! forum archiver; contact: ...)).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help="Write the crawl log here.")
@click.option("-v", "--verbose", count=True, help="-v: progress log, -vv: debug log.")
@click.option("--retry-errors", is_flag=True,
              help="Fetch only the pages the last crawls could not fetch or read (their errors rows), and what they lead to.")
@click.option("--ignore-robots", is_flag=True, help="Do not obey the site's robots.txt (prints a warning).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", callback=_checked(_check_setting, keep=True),
              help="Any Scrapy setting.")
def crawl(url, db, timezone_name, profiles, full, cookies, login_user, keep_pages, warc_dir, wacz_file, media, media_offsite, delay,
          contact, log_file, verbose, retry_errors, ignore_robots, overrides):
    """Archive the Discuz! site, forum or thread at URL.

    URL may be the forum index (forum.php), a forum list page (forum-2-1.html,
    forum.php?mod=forumdisplay&fid=2) or a thread page (thread-7-1-1.html,
    forum.php?mod=viewthread&tid=7): the crawl covers what it points at.
    """
    from archive import ArchiveLocked
    from archive.db import OtherSite

    from scraper.crawl import EXIT_BAD_INPUT, EXIT_LOCKED, EXIT_OTHER_SITE, CrawlInputError, NothingToRetry, run_crawl

    # Progress: a bar on a terminal that shows no log, else a plain line every DZ_PROGRESS_INTERVAL seconds.
    settings = {"DZ_KEEP_PAGES": keep_pages, "LOG_LEVEL": ["WARNING", "INFO", "DEBUG"][min(verbose, 2)],
                "DZ_PROGRESS": True, "DZ_PROGRESS_BAR": sys.stderr.isatty() and (not verbose or bool(log_file))}
    if delay is not None:
        settings["DOWNLOAD_DELAY"] = delay
        settings["AUTOTHROTTLE_START_DELAY"] = delay
    if log_file:
        settings["LOG_FILE"] = log_file
        settings["LOG_LEVEL"] = ["INFO", "INFO", "DEBUG"][min(verbose, 2)]
    if cookies:
        settings["DZ_COOKIES"] = cookies
    if contact:
        settings["DZ_CONTACT"] = contact
    if wacz_file and not warc_dir:
        raise click.UsageError("--wacz packs the crawl's WARC files: give --warc DIR too")
    if warc_dir:
        from scraper.warc import warc_settings

        settings.update(warc_settings(warc_dir))
    if media or media_offsite:
        settings["DZ_MEDIA"] = True
        settings["DZ_MEDIA_OFFSITE"] = media_offsite
    if login_user:
        password = os.environ.get("DZARCHIVE_PASSWORD") or click.prompt(f"password for {login_user}", hide_input=True,
                                                                        err=True)
        settings.update(DZ_LOGIN_USER=login_user, DZ_LOGIN_PASSWORD=password)
    if retry_errors:
        settings["DZ_RETRY_ERRORS"] = True
    if ignore_robots:
        settings["DZ_IGNORE_ROBOTS"] = True
    for override in overrides:
        name, _, value = override.partition("=")
        settings[name.strip()] = value
    try:
        result = run_crawl(url, db=db, timezone_name=timezone_name, profiles=profiles, full=full, settings=settings)
    except NothingToRetry as exc:
        click.echo(f"dzarchive: {exc}", err=True)
        sys.exit(0)
    except CrawlInputError as exc:
        click.echo(f"dzarchive: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except ArchiveLocked as exc:
        click.echo(f"dzarchive: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except OtherSite as exc:
        click.echo(f"dzarchive: {exc}", err=True)
        sys.exit(EXIT_OTHER_SITE)
    click.echo(result.summary(verbose=bool(verbose)))
    if wacz_file and result.exit_code != EXIT_LOCKED:
        _pack_wacz(db, wacz_file)
    sys.exit(result.exit_code)


def _pack_wacz(db: str, output: str, warcs: tuple = ()) -> None:
    from scraper.wacz import WaczError, pack_wacz

    try:
        packed = pack_wacz(db, output, warcs=[Path(w) for w in warcs] or None)
    except WaczError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {packed.path}: {packed.warcs} WARC file(s), {packed.pages} pages, {packed.size} bytes")


@cli.command()
@click.argument("archive", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False),
              help="The WACZ file to write (default: ARCHIVE with .wacz).")
@click.option("--warc", "warcs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Pack these WARC files instead of those the archive's crawls wrote (repeatable).")
def wacz(archive, output, warcs):
    """Pack the WARC files of ARCHIVE's crawls (--warc), a CDXJ index and pages.jsonl into a WACZ file.

    pages.jsonl lists every thread page, titled from the archive. ReplayWeb.page opens the result.
    """
    if not Path(archive).is_file():
        raise click.ClickException(f"no archive at {archive}")
    _pack_wacz(archive, output or str(Path(archive).with_suffix(".wacz")), warcs)


@cli.command()
@click.option("--config", "config_path", default="dzarchive.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The sites to archive and how (see README).")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Queue the sites for `dzarchive worker`s instead of crawling them here (as `enqueue`).")
def run(config_path, redis_url):
    """Archive every site listed in a config file, one after the other (for cron or a systemd timer).

    Each site runs as its own `dzarchive crawl`. Exit code 1 when any of them failed, else 5 when any
    finished with errors (pages it could not read), else 0. With --redis, the sites are queued for the
    workers instead.
    """
    import subprocess

    from .config import ConfigError, load_config

    if redis_url:
        from .queue_commands import enqueue_sites

        return enqueue_sites(config_path, redis_url)
    try:
        jobs = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    from scraper.exit_codes import EXIT_ERRORS, EXIT_FAILED

    failures = with_errors = 0
    for job in jobs:
        click.echo(f"== {job.url} -> {job.database}")
        done = subprocess.run([sys.executable, "-m", "dzarchive", *job.crawl_args()])
        # A crawl that finished with errors archived what it could: not a failed site, but not a clean one.
        with_errors += done.returncode == EXIT_ERRORS
        failures += done.returncode not in (0, EXIT_ERRORS)
    if failures:
        click.echo(f"{failures} of {len(jobs)} site(s) failed", err=True)
    if with_errors:
        click.echo(f"{with_errors} of {len(jobs)} site(s) finished with errors "
                   "(`dzarchive crawl --retry-errors` fetches what they could not)", err=True)
    sys.exit(EXIT_FAILED if failures else EXIT_ERRORS if with_errors else 0)


@cli.command()
@click.argument("page", type=click.File("rb"))
@click.option("--url", required=True, callback=_checked(_check_url),
              help="The URL the page was fetched from (it tells ids and page numbers).")
@click.option("--content-type", default=None, help="The Content-Type header, if known (for its charset).")
@click.option("--date", "date_header", default=None, callback=_checked(_check_date),
              help="The Date header it was served with: anchors relative times (3 天前). Default: now.")
@click.option("--tz", "timezone_name", default="+08:00", show_default=True, callback=_checked(_check_tz),
              help="The forum's time zone.")
def parse(page, url, content_type, date_header, timezone_name):
    """Run the parsers on one saved PAGE (or - for stdin) and print what they extract as JSON."""
    from scraper.parsers import parse_page

    parsed = parse_page(url, page.read(), content_type=content_type, date_header=date_header, tz=timezone_name)
    click.echo(json.dumps(to_dict(parsed), ensure_ascii=False, indent=2))
    if parsed.kind == "special" and parsed.status == "unknown":
        sys.exit(1)


@cli.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, metavar="PATH",
              help="The archive whose kept pages to read again.")
@click.option("--all", "all_pages", is_flag=True, help="Every kept page, not only those that could not be read.")
@click.option("--tz", "timezone_name", default="+08:00", show_default=True, callback=_checked(_check_tz),
              help="The forum's time zone.")
@click.option("--warc", "from_warc", is_flag=True,
              help="Read the pages from the WARC FILES given instead, building or updating --db.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def reparse(db, all_pages, timezone_name, from_warc, files):
    """Parse the pages kept in the archive again (after a parser fix) and archive what they yield.

    With --warc FILES..., the pages come from WARC files (of a crawl with --warc): the archive is
    rebuilt or updated from them alone.
    """
    from scraper.reparse import reparse as run_reparse

    if from_warc or files:
        if not (from_warc and files):
            raise click.UsageError("give WARC files with --warc: dzarchive reparse --warc FILE.warc.gz ...")
        from scraper.reparse import WarcReadError, reparse_warc

        try:
            result = reparse_warc(db, list(files), timezone_name=timezone_name)
        except WarcReadError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"read {result.pages} page(s) from {len(files)} WARC file(s): {result.readable} readable,"
                   f" {result.rows} rows written to {db}")
        sys.exit(0 if result.readable else 1)
    if not Path(db).exists():
        raise click.ClickException(f"no archive at {db}")
    result = run_reparse(db, only_unreadable=not all_pages, timezone_name=timezone_name)
    click.echo(f"re-parsed {result.pages} page(s): {result.readable} now readable, {result.rows} rows written")


@cli.command()
@click.option("--db", default="data/demo.db", show_default=True, metavar="PATH", help="Archive to write the demo into.")
@click.option("--serve", is_flag=True, help="Keep serving the sample forum after the crawl (Ctrl-C to stop).")
def demo(db, serve):
    """Generate a small sample Discuz! forum, serve it on loopback, and archive it."""
    from scraper.crawl import run_crawl
    from testbed.demo_site import build_demo_site
    from testbed.replay import ReplayServer, wait_for_interrupt

    with tempfile.TemporaryDirectory(prefix="dzarchive-demo-") as tmp:
        site = build_demo_site(Path(tmp) / "site")
        with ReplayServer(site) as server:
            start = server.capture.site + "forum.php"
            click.echo(f"sample forum {server.capture.site} served by {server.url} (as an HTTP proxy)")
            # Loopback: no politeness delay needed.
            result = run_crawl(start, db=db, proxy=server.url, settings={
                "LOG_LEVEL": "WARNING", "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
            click.echo(result.summary())
            if result.exit_code == 0:
                click.echo(f"\nTry:  dzarchive stats --db {db}\n"
                           f"      dzarchive search 龙井 --db {db}\n"
                           f"      dzarchive query 'SELECT tid, title, replies FROM threads LIMIT 5' --db {db}")
            if serve:
                wait_for_interrupt(lambda: click.echo(f"serving {server.capture.site} at {server.url}; Ctrl-C to stop"))
                click.echo("stopped serving the sample forum")
    sys.exit(result.exit_code)


def main(argv=None):
    """The ``dzarchive`` command (the program starts it through :mod:`dzarchive.launch`)."""
    # Start-up (imports, and for a crawl Scrapy's set-up) makes objects that live as long as the process: the
    # collector would only walk them again and again (~50 ms of a crawl's start-up). It is off until the command
    # starts its work: at once for most (cli()), when the reactor starts for a crawl (run_crawl).
    gc.disable()
    try:
        cli.main(args=argv, prog_name="dzarchive")
    finally:
        # The process ends here: a last collection of everything it holds would only delay its exit (by 0.1-0.2 s
        # after a crawl). Exit handlers still run and objects still go as their references do.
        gc.freeze()


if __name__ == "__main__":
    main()
