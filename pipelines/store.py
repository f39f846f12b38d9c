"""Stage 3: write each page's rows to the SQLite archive and keep the ``crawls`` row up to date."""
from __future__ import annotations

import logging
import time

from scrapy import signals

from archive import Archive, ArchiveLock
from archive.records import FetchError, PageRecord

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
        self.pages_ok = 0
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
        # Held by run_crawl, which checked the whole file before taking the lock.
        self.archive = Archive(self.db_path, checked=self.lock_held)
        spider = spider or getattr(self.crawler, "spider", None)
        start_url = getattr(spider, "start_url", None) or ""
        self.crawl_id = self.archive.start_crawl(start_url, self.timezone_name)
        if spider is not None:
            spider.crawl_id = self.crawl_id
        logger.info("archiving into %s (crawl %s)", self.db_path, self.crawl_id)

    def process_item(self, item, spider=None):
        if isinstance(item, PageRecord):
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending.append(item)
            if len(self.pending) >= self.batch or time.monotonic() - self.pending_since >= self.batch_seconds:
                self.flush()
            if item.status in ("ok", "partial"):  # a partial page is archived for what it could read
                self.pages_ok += 1
                self.version = self.version or item.version
            for kind, message in item.errors:
                if kind != "special":
                    logger.error("%s: %s (%s)", kind, message, item.url)
        elif isinstance(item, FetchError):
            self.archive.record_error(item, self.crawl_id)
            logger.error("%s error: %s (%s)", item.kind, item.message, item.url)
        return item

    def flush(self) -> None:
        """Write the pages waiting for their batch, in one transaction."""
        if self.pending and self.archive is not None:
            self.items += self.archive.write_many(self.pending, self.crawl_id, keep_all_pages=self.keep_all_pages)
        self.pending = []

    def spider_closed(self, spider, reason):
        if self.archive is None:
            return
        self.flush()
        stats = self.crawler.stats if self.crawler is not None and self.crawler.stats is not None else None
        pages = stats.get_value("response_received_count", 0) if stats else 0
        followed = stats.get_value("dzarchive/links_followed", 0) if stats else 0
        forbidden = stats.get_value("dzarchive/robots_forbidden", 0) if stats else 0
        status = _CLOSE_STATUS.get(reason, "failed")
        if status == "finished" and (self.pages_ok == 0 or (self.pages_ok == 1 and followed)):
            # Nothing readable was archived, or nothing past a start page that led elsewhere: the site,
            # URL, robots.txt or network is wrong, whatever Scrapy says of the run.
            status = "failed"
        row = self.archive.finish_crawl(self.crawl_id, status, pages=pages, items=self.items, version=self.version,
                                        robots_forbidden=forbidden)
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("dzarchive/crawl", row)
        self.archive.close()
        if self.lock is not None:
            self.lock.release()
