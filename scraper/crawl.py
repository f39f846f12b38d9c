"""Run one crawl in this process and report what it archived (used by ``dzarchive crawl`` and ``demo``)."""
from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive import Archive, ArchiveLock, ArchiveState
from archive.changes import baseline_crawl, crawl_changes
from archive.db import OtherSite
from archive.state import site_host
from archive.writes import beside_posts

from . import downloader
from .checks import CrawlInputError, check_start_url, check_timezone  # noqa: F401 - CrawlInputError re-exported
from .exit_codes import (  # noqa: F401 - re-exported: callers import them from here
    EXIT_BAD_INPUT, EXIT_ERRORS, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_OK, EXIT_OTHER_SITE,
    EXIT_WRITE_FAILED,
)
SUMMARY_EXAMPLES = 5  # changes of each kind a verbose summary lists
# The collector's thresholds while a crawl runs. A page's parse keeps a few thousand tracked objects alive at once
# (the tree's element proxies, the items) and frees them all by reference counting when it is done: at Python's
# 700 the young generation was collected ~0.46 times a page and the full heap every ~270 pages (10k-thread
# synthetic crawl: 4,810 + 437 + 39 collections, 2.5 s of 65 s). At 20,000 the same crawl collects 26 times
# (0.17 s), its peak RSS unchanged (180 MB; issue 22's bench holds the 100k crawl's to 500 MB).
CRAWL_GC_THRESHOLDS = (20_000, 10, 10)
logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    """The crawl's row in ``crawls``, the archive's table counts afterwards, and what the crawl found changed.

    ``changes`` maps each :data:`archive.changes.SUMMARY_GROUPS` heading to its rows; ``baseline`` is True when
    this crawl's rows are the archive's starting point (its first finished crawl), so nothing counts as changed.
    """

    db: str
    crawl: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    baseline: bool = False
    reason: str | None = None  # why Scrapy closed the spider ("finished", "shutdown", "closed_site", ...)
    login_error: str | None = None  # --login: why the site refused it
    barrier: str | None = None  # the firewall challenge or CC-defence check the crawl stopped at, in one line
    cc: dict = field(default_factory=dict)  # what the CC defence cost: hosts slowed, answers fetched again, reloads
    # The write that stopped the crawl ({"what", "path", "reason", "remedy"}: scraper/write_failures.py), and what
    # was archived before it ({"pages", "posts"}).
    write_failure: dict | None = None
    archived: dict = field(default_factory=dict)
    why: str | None = None  # a failed crawl: why, in one line (scraper/failures.py)

    @property
    def status(self) -> str:
        return self.crawl.get("status") or "failed"

    @property
    def exit_code(self) -> int:
        """0 finished with every page read; 5 finished, but some pages could not be fetched or read (their
        ``errors`` rows; ``--retry-errors`` fetches them); 1 failed; 6 stopped by a write that failed (a full
        disk); 130 interrupted."""
        if self.write_failure:
            return EXIT_WRITE_FAILED
        if self.status == "finished" and self.crawl.get("errors"):
            return EXIT_ERRORS
        return {"finished": EXIT_OK, "interrupted": EXIT_INTERRUPTED}.get(self.status, EXIT_FAILED)

    def summary(self, verbose: bool = False) -> str:
        """What the crawl archived and found changed; ``verbose`` lists the first few changes of each kind."""
        c, n = self.crawl, self.counts
        status = self.status + (" with errors" if self.exit_code == EXIT_ERRORS else "")
        said = self.why if self.status == "failed" and self.why else c.get("start_url", "")
        lines = [
            f"crawl {c.get('id', '?')} {status}: {said}",
            f"  fetched {c.get('pages') or 0} pages, wrote {c.get('items') or 0} rows, {c.get('errors') or 0} errors"
            + (f", Discuz! {c['site_version']}" if c.get("site_version") else ""),
            f"  archive {self.db}: {n.get('forums', 0)} forums, {n.get('threads', 0)} threads, "
            f"{n.get('posts', 0)} posts, {n.get('users', 0)} users, {n.get('user_stats', 0)} user-stat rows",
        ]
        beside = beside_posts(n)
        if beside:
            lines.append(f"  beside the posts: {beside}")
        if c.get("robots_forbidden"):
            lines.append(f"  robots.txt kept the crawl from {c['robots_forbidden']} page(s) (no spelling of them it allows);"
                         " see the site's /robots.txt")
        lines += self._change_lines(verbose)
        if self.login_error:
            lines.append(f"  {self.login_error}")
        lines += self._cc_lines()
        if self.barrier:
            lines.append(f"  stopped: {self.barrier}; nothing was marked gone, and what was archived before is kept")
        if self.write_failure_line:
            lines.append(f"  stopped: {self.write_failure_line}")
        if self.reason == "closed_site":
            lines.append("  the site says it is closed (站点已关闭), and said it again when asked again: the crawl stopped,"
                         " keeping everything archived; run it again once the site is open")
        if c.get("errors") and self.exit_code == EXIT_ERRORS:
            lines.append(f"  {c['errors']} page(s) could not be fetched or read; fetch just those again:"
                         f" dzarchive crawl {c.get('start_url', 'URL')} --db {self.db} --retry-errors")
            lines.append(f"  see: dzarchive query \"SELECT kind, url, message FROM errors WHERE crawl_id = {c.get('id')}\""
                         f" --db {self.db}")
        return "\n".join(lines)

    @property
    def write_failure_line(self) -> str | None:
        """The one line that says which write failed, what the archive holds, and how to carry on; None when every
        write succeeded."""
        failure = self.write_failure
        if not failure:
            return None
        pages, posts = self.archived.get("pages", 0), self.archived.get("posts", 0)
        return (f"could not write {failure['what']} {failure['path']}: {failure['reason']} — stopped after archiving"
                f" {pages} page{'s' if pages != 1 else ''} ({posts} post{'s' if posts != 1 else ''});"
                f" {failure['remedy']} and run the same command again to resume")

    def _cc_lines(self) -> list[str]:
        """What Discuz!'s CC defence cost the crawl (scraper/barriers.py), when it answered at all."""
        cc, lines = self.cc, []
        if cc.get("slowed"):
            lines.append(f"  the forum's CC defence (Discuz! attackevasive 1) refuses requests less than a second"
                         f" apart: {', '.join(cc['slowed'])} was crawled one request at a time, {cc.get('interval', 1.1):.1f} s"
                         f" apart, from then on ({cc.get('refused', 0)} refused answer(s) fetched again)")
        if cc.get("reloads"):
            lines.append(f"  the forum's CC defence (Discuz! attackevasive 4) asked for {cc['reloads']} reload(s):"
                         " each page fetched again with its cookie")
        return lines

    def _change_lines(self, verbose: bool) -> list[str]:
        if self.baseline and self.status != "failed":
            return ["  first crawl of this archive: what it archived is what later crawls are compared with"]
        if self.baseline:
            return []  # a failed first crawl is no starting point to say anything of
        if not self.changes:
            return []
        if not any(self.changes.values()):
            return ["  changes: none"]
        counts = []
        for heading, rows in self.changes.items():
            text = f"{heading} {len(rows)}"
            if heading == "posts gone" and rows:
                by_status = {}
                for row in rows:
                    by_status[row["status"]] = by_status.get(row["status"], 0) + 1
                text += f" ({', '.join(f'{k} {v}' for k, v in sorted(by_status.items()))})"
            counts.append(text)
        lines = ["  changes: " + ", ".join(counts)]
        if verbose:
            for heading, rows in self.changes.items():
                if rows:
                    shown = "; ".join(_describe(row) for row in rows[:SUMMARY_EXAMPLES])
                    more = f"; and {len(rows) - SUMMARY_EXAMPLES} more" if len(rows) > SUMMARY_EXAMPLES else ""
                    lines.append(f"    {heading}: {shown}{more}")
            lines.append(f"  list them: dzarchive changes --crawl {self.crawl.get('id')} --db {self.db}")
        return lines


def _describe(row: dict) -> str:
    """One change, by its ids, for the verbose summary."""
    kind = row["kind"]
    if row["item"] == "user":
        figures = ", ".join(f"{name} {old} -> {new}" for name, old, new in row["figures"])
        return f"uid {row['uid']} {row.get('username') or ''} ({figures})"
    if row["item"] == "thread":
        if kind == "new":
            return f"tid {row['tid']} (fid {row['fid']}) {row.get('title') or ''}".rstrip()
        return f"tid {row['tid']} {row['field']} {row['before']} -> {row['after']}"
    where = f"pid {row['pid']} (tid {row['tid']} floor {row['floor']}"
    if kind == "gone":
        return f"{where}, {row['status']}; last seen by crawl {row['last_crawl']}; absent from {row['url']})"
    return where + ")"


class NetworkErrorsOnOneLine(logging.Filter):
    """Logs a network failure (refused, unreachable, DNS, timeout) as its one-line message, without the 60-line
    traceback Scrapy's robots.txt middleware attaches: the host is unreachable, not the program broken."""

    QUIET_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)

    def filter(self, record: logging.LogRecord) -> bool:
        from twisted.internet.error import ConnectError, DNSLookupError, TimeoutError as TwistedTimeout
        from twisted.web._newclient import ResponseNeverReceived

        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None and not isinstance(exc, (ConnectError, DNSLookupError, TwistedTimeout,
                                                       ResponseNeverReceived)):
            exc = exc.__cause__ or exc.__context__
        if exc is not None:
            record.exc_info = record.exc_text = None
        return True

    @classmethod
    def install(cls) -> None:
        for name in cls.QUIET_LOGGERS:
            _add_filter_once(name, cls())


class PageErrorsAtInfo(logging.Filter):
    """Logs a page the crawl could not fetch or read at INFO, not ERROR: it is counted in the progress line and the
    summary, which says what to do about it, and kept in the ``errors`` table; on the terminal (no ``--log-file``) it
    shows with ``-v``. Without this, one refused connection is four ERROR lines (robots.txt given up, its
    middleware's "Error downloading", the page given up, the store's error) under a progress line that says 1.

    Only these messages of these loggers are demoted: anything else logged at ERROR (a bug, a failed write) stays.
    """

    DEMOTED = {
        "scrapy.downloadermiddlewares.retry": ("Gave up retrying",),
        "scrapy.downloadermiddlewares.robotstxt": ("Error downloading",),
        "scrapy.core.scraper": ("Error downloading",),
        "pipelines.store": ("%s error: %s (%s)", "%s: %s (%s)"),  # a FetchError; a page's own error
    }

    def __init__(self, starts: tuple[str, ...]):
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and isinstance(record.msg, str) and record.msg.startswith(self.starts):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None  # the message says it; the traceback is Twisted's plumbing
        return True

    @classmethod
    def install(cls) -> None:
        for name, starts in cls.DEMOTED.items():
            _add_filter_once(name, cls(starts))


def _add_filter_once(logger_name: str, log_filter: logging.Filter) -> None:
    """Add ``log_filter`` to the logger unless a filter of its class is there already (a second crawl in the
    same process, as the tests and the queue's worker run them)."""
    logger_ = logging.getLogger(logger_name)
    if not any(isinstance(f, type(log_filter)) for f in logger_.filters):
        logger_.addFilter(log_filter)


def _drop_unlogged_records() -> None:
    """Let the loggers drop at once the records no handler would write (Scrapy's DEBUG lines per request and item
    under the default INFO), instead of making each one to throw it away at the handler.

    Scrapy sets the root logger to let everything through (NOTSET) and filters in its handlers: the root logger's
    level is raised to the lowest level among the root's handlers, so that what reaches a handler is unchanged. A
    handler that takes everything (pytest's, a DEBUG log) leaves it as it is. Called once the crawl's handlers are
    in place (spider_opened); run_crawl puts the level back afterwards.
    """
    handlers = logging.root.handlers
    lowest = min((handler.level for handler in handlers), default=logging.NOTSET)
    if lowest > logging.root.level:
        logging.root.setLevel(lowest)


class NothingToRetry(CrawlInputError):
    """``--retry-errors`` on an archive whose last crawls fetched everything."""


def _failed_urls(db: str | Path) -> list[str]:
    state = ArchiveState(db)
    try:
        return state.failed_urls()
    finally:
        state.close()


def check_crawl_input(url: str, db: str | Path, timezone_name: str | None, settings: dict) -> str:
    """Everything a crawl is given, checked before anything is written; returns the start URL to use.

    Raises :class:`CrawlInputError` (one line, for the user) for a bad URL, time zone, cookies file, or an archive
    that is not dzarchive's or cannot be written.
    """
    from archive.access import ArchiveNotWritable, NotAnArchive, check_archive, check_writable
    from scraper.cookies import CookiesFileError, read_cookies_file
    start = check_start_url(url)
    try:
        check_timezone(timezone_name)
    except CrawlInputError as exc:
        raise CrawlInputError(f"--tz: {exc}") from None
    if settings.get("DZ_COOKIES"):
        try:
            read_cookies_file(settings["DZ_COOKIES"], urlsplit(start).hostname)
        except CookiesFileError as exc:
            raise CrawlInputError(f"--cookies: {exc}") from None
        mode = Path(settings["DZ_COOKIES"]).stat().st_mode & 0o777
        if mode & 0o077:
            # A member's session is as good as their password: said, not refused (the file is the operator's).
            sys.stderr.write(f"dzarchive: warning: {settings['DZ_COOKIES']} holds a login session and others may read"
                             f" it (mode {mode:04o}): chmod 600 {settings['DZ_COOKIES']}\n")
    try:
        check_archive(db)
        check_writable(db)
    except (NotAnArchive, ArchiveNotWritable) as exc:
        raise CrawlInputError(str(exc)) from None
    return start


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
    if not settings.getbool("ROBOTSTXT_OBEY") and not settings.getbool("DZ_IGNORE_ROBOTS"):
        raise CrawlInputError("ROBOTSTXT_OBEY=False: not obeying the site's robots.txt needs --ignore-robots"
                              " (-s DZ_IGNORE_ROBOTS=1)")
    if settings.getbool("DZ_IGNORE_ROBOTS"):
        # Said on stderr whatever the log level: the operator asked for something the site's admins asked not to.
        sys.stderr.write("dzarchive: warning: --ignore-robots: the site's robots.txt is NOT obeyed; it says what its"
                         " admins do not want crawled\n")
        logger.warning("robots.txt is not obeyed (--ignore-robots)")
        settings.set("ROBOTSTXT_OBEY", False, priority="cmdline")
    if not downloader.SUPPORTED and settings.getfloat("DOWNLOAD_DELAY") < downloader.FALLBACK_DELAY:
        # A Scrapy whose downloader internals differ: its own downloader, and a delay that keeps the cap.
        logger.warning("DOWNLOAD_DELAY %s would let more than CONCURRENT_REQUESTS_PER_DOMAIN requests run at once"
                       " with this Scrapy; using %s s", settings.get("DOWNLOAD_DELAY"), downloader.FALLBACK_DELAY)
        settings.set("DOWNLOADER", "scrapy.core.downloader.Downloader", priority="cmdline")
        settings.set("DOWNLOAD_DELAY", downloader.FALLBACK_DELAY, priority="cmdline")
    return settings


STOPPED_CLEANLY = "dzarchive-stopped-cleanly"  # in the jobdir: its state is whole and may be resumed


def jobdir_for(db: str | Path) -> Path:
    """Where a crawl into ``db`` keeps Scrapy's job state (the request queue), beside the archive."""
    return Path(f"{db}.jobdir")


def run_crawl(url: str, *, db: str = "data/archive.db", timezone_name: str | None = None, profiles: bool = True,
              full: bool = False, settings: dict | None = None, proxy: str | None = None) -> CrawlResult:
    """Crawl ``url`` into ``db`` (blocking; once per process, as Scrapy's reactor cannot restart).

    Incremental when ``db`` already holds the site, unless ``full``. Holds the archive's lock for
    the whole run (raises :class:`~archive.ArchiveLocked` if another crawl has it), and refuses an archive
    of another site (raises :class:`~archive.db.OtherSite`, having written nothing).
    After a graceful stop (Ctrl-C, SIGTERM) Scrapy's job state in ``DB.jobdir`` (pending requests
    and those already seen) lets the same call continue exactly where it stopped. After a hard
    kill that state may be half-written and is discarded: the archive, committed page by page,
    says what is missing (scraper/state.py), and the incremental walk fetches it. ``proxy``
    routes plain-HTTP requests through an HTTP proxy, as ``http_proxy`` would.
    """
    from scraper.barriers import STAT_BARRIER, STAT_INTERVAL, STAT_REFUSED, STAT_RELOADS, STAT_SLOWED
    from scraper.failures import STAT_FIRST_FAILURE, STAT_START_FAILURE, crawl_failure
    from scraper.spiders.site import SiteSpider

    from scraper.write_failures import STAT_WRITE_FAILURE, is_write_failure, reason_of, remedy_of

    url = check_crawl_input(url, db, timezone_name, settings or {})
    if (settings or {}).get("DZ_RETRY_ERRORS") and not _failed_urls(db):
        raise NothingToRetry(f"--retry-errors: nothing to retry, the last crawls into {db} fetched every page they"
                              " asked for")
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    jobdir = jobdir_for(db)
    overrides = {"DZ_LOCK_HELD": True, "DZ_FULL": full, "JOBDIR": str(jobdir), **(settings or {})}
    saved_proxy = os.environ.get("http_proxy")
    with ArchiveLock(db):
        held = ArchiveState(db).site_host() if Path(db).exists() else None
        if held and held != site_host(url):
            raise OtherSite(f"{db} holds the site {held}, not {site_host(url)}: one archive holds one site"
                            f" (give this crawl its own, e.g. --db data/{site_host(url)}.db); nothing was written")
        stopped_cleanly = jobdir / STOPPED_CLEANLY
        if jobdir.exists() and not stopped_cleanly.exists():
            # The last run died without shutting down (kill -9, power cut): its job state may be
            # half-written and remembers requests whose pages never reached the archive. The
            # archive itself says what is left to fetch, so start afresh.
            shutil.rmtree(jobdir, ignore_errors=True)
        stopped_cleanly.unlink(missing_ok=True)
        try:
            # Job state is the crawl's queue of URLs (a session id may be one of their parameters): only ours to read.
            jobdir.mkdir(mode=0o700, exist_ok=True)
            jobdir.chmod(0o700)
        except OSError as exc:  # a full disk before the crawl began: nothing was written
            shutil.rmtree(jobdir, ignore_errors=True)
            return CrawlResult(db=str(db), write_failure={"what": "the job state", "path": str(jobdir),
                                                          "reason": reason_of(exc), "remedy": remedy_of(exc)})
        if proxy:
            os.environ["http_proxy"] = proxy
        NetworkErrorsOnOneLine.install()
        if not (settings or {}).get("LOG_FILE"):
            PageErrorsAtInfo.install()  # a log file keeps them at ERROR: there they are what the reader looks for
        root_level = logging.root.level
        try:
            process = CrawlerProcess(crawl_settings(db, timezone_name, profiles, overrides))
            crawler = process.create_crawler(SiteSpider)
            crawler.signals.connect(_drop_unlogged_records, signal=signals.spider_opened)
            process.crawl(crawler, start_url=url)
            # What the set-up made (modules, classes, Scrapy's components: ~90k objects) lives as long as the
            # crawl: out of the collector's reach, its full collections walk only what the crawl allocates. (The
            # command line turns the collector off for its start-up: the crawl runs with it on.)
            gc.freeze()
            thresholds = gc.get_threshold()
            gc.set_threshold(*CRAWL_GC_THRESHOLDS)
            gc.enable()
            try:
                process.start()
            finally:
                gc.set_threshold(*thresholds)
        finally:
            logging.root.setLevel(root_level)
            if proxy:
                if saved_proxy is None:
                    os.environ.pop("http_proxy", None)
                else:
                    os.environ["http_proxy"] = saved_proxy
        row = crawler.stats.get_value("dzarchive/crawl") or {}
        reason = crawler.stats.get_value("finish_reason")
        login_error = crawler.stats.get_value("dzarchive/login_error")
        barrier = crawler.stats.get_value(STAT_BARRIER)
        why = crawl_failure(crawler.stats.get_value(STAT_START_FAILURE), crawler.stats.get_value(STAT_FIRST_FAILURE),
                            robots_forbidden=crawler.stats.get_value("dzarchive/robots_forbidden") or 0,
                            retrying=bool((settings or {}).get("DZ_RETRY_ERRORS")))
        cc = {"slowed": crawler.stats.get_value(STAT_SLOWED), "interval": crawler.stats.get_value(STAT_INTERVAL),
              "refused": crawler.stats.get_value(STAT_REFUSED), "reloads": crawler.stats.get_value(STAT_RELOADS)}
        write_failure = crawler.stats.get_value(STAT_WRITE_FAILURE)
        archived = crawler.stats.get_value("dzarchive/archived") or {}
        if row.get("status") == "interrupted" and not write_failure and jobdir.exists():
            try:
                stopped_cleanly.touch()  # the next run continues from the saved queue
            except OSError:  # a full disk: the next run starts afresh from what the archive holds
                shutil.rmtree(jobdir, ignore_errors=True)
        else:
            # A crawl that ended (finished, failed, stopped by a write that failed) leaves no job state: the next
            # run starts afresh (incremental), and the requests seen of a stopped crawl include pages never archived.
            shutil.rmtree(jobdir, ignore_errors=True)
    try:
        # Only read after a failed write: opening for writing would make (or upgrade) the schema.
        archive = Archive(db, checked=True, create=not write_failure)  # checked before the crawl, written since
    except OSError as exc:
        if not write_failure:
            raise
        logger.debug("archive not readable after the failed write: %s", exc)
        archive = None
    counts, changes, baseline = {}, {}, False
    try:
        if archive is not None and not write_failure:
            if not row:
                crawls = archive.last_crawls(1)
                row = crawls[0] if crawls else {}
            counts = archive.counts()
            changes = crawl_changes(archive.db.conn, row["id"]) if row.get("id") else {}
            baseline = bool(row.get("id")) and row["id"] <= baseline_crawl(archive.db.conn)
        elif archive is not None:
            counts = archive.counts()  # what the archive holds: the stopped crawl's committed pages, and before
    except Exception as exc:  # noqa: BLE001 - after a failed write, the summary says what it can read
        if not (write_failure and is_write_failure(exc)):
            raise
    finally:
        if archive is not None:
            archive.close()
    return CrawlResult(db=str(db), crawl=row, counts=counts, changes=changes, baseline=baseline, reason=reason,
                       login_error=login_error, barrier=barrier, cc={k: v for k, v in cc.items() if v},
                       why=None if barrier or login_error or reason == "closed_site" or write_failure else why,
                       write_failure=write_failure, archived=archived)
