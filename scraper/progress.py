"""A one-line progress report on stderr while a crawl runs (when stderr is a terminal)."""
from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.records import PageRecord


class Progress:
    """Scrapy extension: every ``DZ_PROGRESS_INTERVAL`` seconds, rewrite one status line on stderr.

    Enabled by ``DZ_PROGRESS`` (the CLI turns it on when stderr is a terminal).
    """

    def __init__(self, stats, stream=None, interval: float = 2.0):
        self.stats = stats
        self.stream = stream or sys.stderr
        self.interval = interval
        self.posts = 0
        self.pages = 0
        self.last = 0.0
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("DZ_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler.stats, interval=crawler.settings.getfloat("DZ_PROGRESS_INTERVAL", 2.0))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, PageRecord):
            self.pages += 1
            self.posts += len(item.rows.get("posts", []))
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def line(self) -> str:
        errors = self.stats.get_value("log_count/ERROR", 0) if self.stats else 0
        return (f"{self.pages} pages archived, {self.posts} posts read, {errors} errors,"
                f" {time.monotonic() - self.started:.0f} s ")

    def spider_closed(self, spider=None, reason=None):
        if self.last:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
