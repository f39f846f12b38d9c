"""Run one crawl in this process and report what it archived (used by ``dzarchive crawl`` and ``demo``)."""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive import Archive, ArchiveLock

EXIT_OK, EXIT_FAILED, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 3, 130
MIN_DOWNLOAD_DELAY = 0.01  # seconds; a delay of 0 breaks the per-host cap (see crawl_settings)
logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    """The crawl's row in ``crawls`` and the archive's table counts afterwards."""

    db: str
    crawl: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.crawl.get("status") or "failed"

    @property
    def exit_code(self) -> int:
        return {"finished": EXIT_OK, "interrupted": EXIT_INTERRUPTED}.get(self.status, EXIT_FAILED)

    def summary(self) -> str:
        c, n = self.crawl, self.counts
        lines = [
            f"crawl {c.get('id', '?')} {self.status}: {c.get('start_url', '')}",
            f"  fetched {c.get('pages') or 0} pages, wrote {c.get('items') or 0} rows, {c.get('errors') or 0} errors"
            + (f", Discuz! {c['site_version']}" if c.get("site_version") else ""),
            f"  archive {self.db}: {n.get('forums', 0)} forums, {n.get('threads', 0)} threads, "
            f"{n.get('posts', 0)} posts, {n.get('users', 0)} users, {n.get('user_stats', 0)} user-stat rows",
        ]
        if c.get("errors"):
            lines.append(f"  see: dzarchive query \"SELECT kind, url, message FROM errors WHERE crawl_id = {c.get('id')}\""
                         f" --db {self.db}")
        return "\n".join(lines)


def crawl_settings(db: str, timezone_name: str | None = None, profiles: bool = True,
                   overrides: dict | None = None) -> Settings:
    """dzarchive's Scrapy settings with the crawl's options applied."""
    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set("DZ_DB", str(db), priority="cmdline")
    if timezone_name:
        settings.set("DZ_TIMEZONE", timezone_name, priority="cmdline")
    settings.set("DZ_PROFILES", profiles, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if settings.getfloat("DOWNLOAD_DELAY") < MIN_DOWNLOAD_DELAY:
        # Scrapy >= 2.14.2 on asyncio starts several downloads before a slot counts them as transferring when
        # there is no delay, and then exceeds CONCURRENT_REQUESTS_PER_DOMAIN (measured: 9 in flight against 2).
        logger.warning("DOWNLOAD_DELAY %s would let more than CONCURRENT_REQUESTS_PER_DOMAIN requests run at once; "
                       "using %s s", settings.get("DOWNLOAD_DELAY"), MIN_DOWNLOAD_DELAY)
        settings.set("DOWNLOAD_DELAY", MIN_DOWNLOAD_DELAY, priority="cmdline")
    return settings


STOPPED_CLEANLY = "dzarchive-stopped-cleanly"  # in the jobdir: its state is whole and may be resumed


def jobdir_for(db: str | Path) -> Path:
    """Where a crawl into ``db`` keeps Scrapy's job state (the request queue), beside the archive."""
    return Path(f"{db}.jobdir")


def run_crawl(url: str, *, db: str = "data/archive.db", timezone_name: str | None = None, profiles: bool = True,
              full: bool = False, settings: dict | None = None, proxy: str | None = None) -> CrawlResult:
    """Crawl ``url`` into ``db`` (blocking; once per process, as Scrapy's reactor cannot restart).

    Incremental when ``db`` already holds the site, unless ``full``. Holds the archive's lock for
    the whole run (raises :class:`~archive.ArchiveLocked` if another crawl has it).
    After a graceful stop (Ctrl-C, SIGTERM) Scrapy's job state in ``DB.jobdir`` (pending requests
    and those already seen) lets the same call continue exactly where it stopped. After a hard
    kill that state may be half-written and is discarded: the archive, committed page by page,
    says what is missing (scraper/state.py), and the incremental walk fetches it. ``proxy``
    routes plain-HTTP requests through an HTTP proxy, as ``http_proxy`` would.
    """
    from scraper.spiders.site import SiteSpider

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    jobdir = jobdir_for(db)
    overrides = {"DZ_LOCK_HELD": True, "DZ_FULL": full, "JOBDIR": str(jobdir), **(settings or {})}
    saved_proxy = os.environ.get("http_proxy")
    with ArchiveLock(db):
        stopped_cleanly = jobdir / STOPPED_CLEANLY
        if jobdir.exists() and not stopped_cleanly.exists():
            # The last run died without shutting down (kill -9, power cut): its job state may be
            # half-written and remembers requests whose pages never reached the archive. The
            # archive itself says what is left to fetch, so start afresh.
            shutil.rmtree(jobdir, ignore_errors=True)
        stopped_cleanly.unlink(missing_ok=True)
        if proxy:
            os.environ["http_proxy"] = proxy
        try:
            process = CrawlerProcess(crawl_settings(db, timezone_name, profiles, overrides))
            crawler = process.create_crawler(SiteSpider)
            process.crawl(crawler, start_url=url)
            process.start()
        finally:
            if proxy:
                if saved_proxy is None:
                    os.environ.pop("http_proxy", None)
                else:
                    os.environ["http_proxy"] = saved_proxy
        row = crawler.stats.get_value("dzarchive/crawl") or {}
        if row.get("status") == "finished":
            shutil.rmtree(jobdir, ignore_errors=True)  # the next run starts afresh (incremental)
        elif row.get("status") == "interrupted" and jobdir.exists():
            stopped_cleanly.touch()  # the next run continues from the saved queue
    archive = Archive(db)
    try:
        if not row:
            crawls = archive.last_crawls(1)
            row = crawls[0] if crawls else {}
        counts = archive.counts()
    finally:
        archive.close()
    return CrawlResult(db=str(db), crawl=row, counts=counts)
