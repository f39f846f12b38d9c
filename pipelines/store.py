"""Stage 3: write each page's rows to the SQLite archive and keep the ``crawls`` row up to date."""
from __future__ import annotations

import logging
import time

from scrapy import signals

from archive import Archive, ArchiveLock
from archive.records import FetchError, PageRecord
from scraper.write_failures import CLOSE_WRITE_FAILED, is_write_failure, stop_crawl, write_failure

logger = logging.getLogger(__name__)

# Scrapy close reasons -> crawls.status
_CLOSE_STATUS = {"finished": "finished", "shutdown": "interrupted", "cancelled": "interrupted"}


class StorePipeline:
    """Owns the archive for one crawl: opens it, records the crawl, writes pages, closes the crawl.

    Settings: ``DZ_DB`` (archive path), ``DZ_TIMEZONE``, ``DZ_KEEP_PAGES`` (``failed`` or ``all``),
    ``DZ_STORE_BATCH`` (pages per transaction, default 50) and ``DZ_STORE_BATCH_SECONDS`` (the longest
    a page waits for its batch, default 0.5). Pages are written whole, several to a transaction
    (:meth:`Archive.write_many`); the last batch is written when the spider closes, however it closes
    but by a hard kill, which loses at most one batch of whole pages that the next run fetches again.

    A write that fails (a full disk, a read-only file system, an I/O error, the database locked past its busy
    timeout) stops the crawl at once (:func:`scraper.write_failures.stop_crawl`): the batch it was writing is
    rolled back whole, nothing more is written, and the crawl's stats say how many pages and posts were archived
    (``dzarchive/archived``), which the next run does not fetch again.
    """

    def __init__(self, db_path: str, *, timezone_name: str | None = None, keep_all_pages: bool = False,
                 crawler=None, lock_held: bool = False, batch: int = 50, batch_seconds: float = 0.5):
        self.db_path = db_path
        self.timezone_name = timezone_name
        self.keep_all_pages = keep_all_pages
        self.crawler = crawler
        self.archive: Archive | None = None
        self.crawl_id: int | None = None
        self.items = 0
        self.pages_ok = 0  # pages committed to the archive that it could read (ok or partial)
        # Pages the spider fetched and read (its PageRecords, whatever they said): the crawl's "fetched N pages". Not
        # Scrapy's response count, which adds robots.txt, the login form, media files and, with --warc, requisites.
        self.fetched = 0
        self.posts = 0  # post rows those pages carried
        self.failed = False  # a write failed: nothing more is written
        self.version: str | None = None
        self.lock_held = lock_held
        self.lock: ArchiveLock | None = None
        self.batch = max(1, batch)
        self.batch_seconds = batch_seconds
        self.pending: list[PageRecord] = []
        self.pending_since = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        pipeline = cls(s.get("DZ_DB", "data/archive.db"), timezone_name=s.get("DZ_TIMEZONE", "+08:00"),
                       keep_all_pages=s.get("DZ_KEEP_PAGES", "failed") == "all", crawler=crawler,
                       lock_held=s.getbool("DZ_LOCK_HELD", False), batch=s.getint("DZ_STORE_BATCH", 50),
                       batch_seconds=s.getfloat("DZ_STORE_BATCH_SECONDS", 0.5))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None):
        if not self.lock_held:  # `scrapy crawl` runs without the CLI, which holds the lock itself
            self.lock = ArchiveLock(self.db_path).acquire()
        spider = spider or getattr(self.crawler, "spider", None)
        start_url = getattr(spider, "start_url", None) or ""
        try:
            # Held by run_crawl, which checked the whole file before taking the lock.
            self.archive = Archive(self.db_path, checked=self.lock_held)
            self.crawl_id = self.archive.start_crawl(start_url, self.timezone_name)
        except Exception as exc:  # noqa: BLE001 - only a failed write is caught: anything else is raised again
            if not is_write_failure(exc):
                raise
            self._failed(exc)
            return
        if spider is not None:
            spider.crawl_id = self.crawl_id
        logger.info("archiving into %s (crawl %s)", self.db_path, self.crawl_id)

    def process_item(self, item, spider=None):
        if isinstance(item, PageRecord):
            self.fetched += 1
        if self.failed or write_failure(self.crawler):
            # The crawl is stopping for a write that failed (here, or of a WARC or media file): what is still in
            # flight is not archived, and is fetched by the next run.
            return item
        if isinstance(item, PageRecord):
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending.append(item)
            if len(self.pending) >= self.batch or time.monotonic() - self.pending_since >= self.batch_seconds:
                self.flush()
            if self.failed:
                return item
            for kind, message in item.errors:
                if kind != "special":
                    logger.error("%s: %s (%s)", kind, message, item.url)
        elif isinstance(item, FetchError):
            try:
                self.archive.record_error(item, self.crawl_id)
            except Exception as exc:  # noqa: BLE001 - only a failed write is caught
                if not is_write_failure(exc):
                    raise
                self._failed(exc)
                return item
            logger.error("%s error: %s (%s)", item.kind, item.message, item.url)
        return item

    def flush(self) -> None:
        """Write the pages waiting for their batch, in one transaction (all of them, or none when the write
        fails: then the crawl stops, see :meth:`_failed`)."""
        pending, self.pending = self.pending, []
        if not pending or self.archive is None or self.failed:
            return
        try:
            self.items += self.archive.write_many(pending, self.crawl_id, keep_all_pages=self.keep_all_pages)
        except Exception as exc:  # noqa: BLE001 - only a failed write is caught
            if not is_write_failure(exc):
                raise
            self._failed(exc)
            return
        for record in pending:  # counted once committed: the summary says what the archive holds
            if record.status in ("ok", "partial"):  # a partial page is archived for what it could read
                self.pages_ok += 1
                self.posts += len(record.rows.get("posts", ()))
                self.version = self.version or record.version
        self._note_archived()

    def _failed(self, exc: BaseException) -> None:
        """A write of the archive failed: write nothing more, and stop the crawl."""
        self.failed = True
        stop_crawl(self.crawler, "the archive", self.db_path, exc)
        self._note_archived()

    def _note_archived(self) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("dzarchive/archived", {"pages": self.pages_ok, "posts": self.posts})

    def spider_closed(self, spider, reason):
        try:
            self._close_crawl(reason)
        finally:
            if self.archive is not None:
                self.archive.close()
            if self.lock is not None:
                self.lock.release()

    def _close_crawl(self, reason: str) -> None:
        if self.archive is None or self.crawl_id is None:
            return
        self.flush()
        stats = self.crawler.stats if self.crawler is not None and self.crawler.stats is not None else None
        pages = self.fetched
        followed = stats.get_value("dzarchive/links_followed", 0) if stats else 0
        forbidden = stats.get_value("dzarchive/robots_forbidden", 0) if stats else 0
        status = _CLOSE_STATUS.get(reason, "failed")
        if self.failed or write_failure(self.crawler) or reason == CLOSE_WRITE_FAILED:
            status = "failed"
        elif status == "finished" and (self.pages_ok == 0 or (self.pages_ok == 1 and followed)):
            # Nothing readable was archived, or nothing past a start page that led elsewhere: the site,
            # URL, robots.txt or network is wrong, whatever Scrapy says of the run.
            status = "failed"
        try:
            row = self.archive.finish_crawl(self.crawl_id, status, pages=pages, items=self.items,
                                            version=self.version, robots_forbidden=forbidden)
        except Exception as exc:  # noqa: BLE001 - only a failed write is caught
            if not is_write_failure(exc):
                raise
            self._failed(exc)
            # The row stays 'running' in the file (the next crawl marks it interrupted); the summary tells the truth.
            row = dict(self._crawl_row(), status="failed", pages=pages, items=self.items)
        if stats is not None:
            stats.set_value("dzarchive/crawl", row)

    def _crawl_row(self) -> dict:
        try:
            return self.archive.crawl(self.crawl_id)
        except Exception:  # noqa: BLE001 - a database that cannot even be read: the summary says less
            return {"id": self.crawl_id}
