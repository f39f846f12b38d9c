"""Soft error pages (served with HTTP 200) are confirmed before they change anything.

A flaky or overloaded Discuz! answers with its own error pages — "主题不存在" (not found), "站点已关闭" (closed
site), "Discuz! System Error" — with status 200, for a thread or forum that is there a moment later. Taken at their
word, one such page on page 2 of a thread marks its archived posts ``deleted``, and a list page that said "closed"
hides all the threads it lists. So a page that contradicts what the crawl or the archive holds is fetched again
later in the crawl (:class:`SoftErrorConfirmation`: at the lowest priority, after an exponential back-off that
:class:`ConfirmBackoffMiddleware` enforces), a bounded number of times; only an answer that stays the same is
archived. A good answer in between is simply archived, and resets the thread's or forum's status.
"""
from __future__ import annotations

import asyncio
import time

from scraper.items import STATUS_CLOSED_SITE, STATUS_NOT_FOUND, STATUS_SYSTEM_ERROR

CONFIRM_META = "dz_confirm"  # how many times this page has been fetched again to confirm what it said
NOT_BEFORE_META = "dz_not_before"  # wall-clock time before which the confirming fetch must not start
PRIORITY_CONFIRM = -100
# Request meta Scrapy sets while fetching: a request fetched again starts without it.
SCRAPY_META = {"download_slot", "download_latency", "retry_times", "redirect_times", "redirect_ttl", "redirect_urls",
               "redirect_reasons", "cache_timestamp", "depth"}  # after everything else the crawl has to fetch

# Always a contradiction: the site says it is closed or broken (it was open a moment ago).
CONFIRM_ALWAYS = {STATUS_CLOSED_SITE, STATUS_SYSTEM_ERROR}
# "Gone": contradicts a page that showed the thing (a list row, the index's forum, a post's author) or one read of it.
CONFIRM_IF_SHOWN = {STATUS_NOT_FOUND}
# "Not for you": contradicts only pages of it already read (a guest is routinely shown members-only forums).
CONFIRM_IF_READ = {"no_permission", "login_required", "password"}


class SoftErrorConfirmation:
    """Decides whether a soft error page needs confirming, and makes the request that confirms it.

    Settings: ``DZ_CONFIRM_TIMES`` (fetches again before the page is believed; default 3) and
    ``DZ_CONFIRM_BACKOFF`` (seconds before the first; doubled for each next one; default 1.0).
    """

    def __init__(self, times: int = 3, backoff: float = 1.0):
        self.times = times
        self.backoff = backoff

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.getint("DZ_CONFIRM_TIMES", 3), s.getfloat("DZ_CONFIRM_BACKOFF", 1.0))

    @staticmethod
    def contradicts(status: str, shown: bool, read: bool) -> bool:
        """Whether a soft error page with ``status`` contradicts what is known about the thread, forum or user it
        stands for: ``shown`` by a readable page of this crawl (a list row, the index), ``read`` (pages of it are in
        the archive or were read by this crawl)."""
        return status in CONFIRM_ALWAYS or (status in CONFIRM_IF_SHOWN and (shown or read)) or \
            (status in CONFIRM_IF_READ and read)

    def retry(self, request, status: str):
        """The request that fetches ``request``'s page again later, or ``None`` when it was confirmed enough."""
        done = request.meta.get(CONFIRM_META, 0)
        if done >= self.times:
            return None
        meta = {k: v for k, v in request.meta.items() if k not in SCRAPY_META and not k.startswith("_")}
        meta.update({CONFIRM_META: done + 1, NOT_BEFORE_META: time.time() + self.backoff * 2 ** done})
        return request.replace(meta=meta, priority=PRIORITY_CONFIRM, dont_filter=True)


class ConfirmBackoffMiddleware:
    """Downloader middleware: holds a confirming request until its back-off has passed (``dz_not_before``)."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    async def process_request(self, request, spider=None):
        wait = request.meta.get(NOT_BEFORE_META, 0) - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        return None
