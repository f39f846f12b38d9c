"""Downloader middleware: pass Discuz!'s CC defence as a browser does, and hand every other barrier to the spider.

What an answer is comes from :func:`scraper.parsers.barriers.recognise` (status, headers, bytes). What
:class:`BarrierMiddleware` does about it:

- **页面重载开启** (``attackevasive`` 4): the answer set the ``lastrequest`` cookie (the cookie middleware, nearer the
  network, has kept it); the same URL is fetched again after the page's own delay (its ``setTimeout``, about a
  second), once per visit. The answer is neither a page nor an error: it never reaches the spider.
- **频繁刷新限制** (``attackevasive`` 1), and on PHP 8 the 503 "Discuz! System Error" a first request gets under it
  (``Retry-After: 3600``): that host is crawled one request at a time, at least ``DZ_CC_INTERVAL`` seconds apart (the
  check compares whole seconds), for the rest of the crawl, said once in the log and in the summary; the refused
  page is fetched again, after about a second (not at once, not in an hour), and never archived as the page.
  A page that asks to be reloaded again after its reload is taken for the same check.
- **Everything else** (the CC defence's ``2`` and ``8``, firewall and CDN challenges): nothing here answers a
  question or runs a challenge meant for a person. The crawl is closed (reason ``barrier``) with one line that names
  it and what to do (``dzarchive/barrier``, for the summary), nothing more is sent, and the answer goes to the
  spider unretried and whatever its status (``dz_barrier`` in its meta), which archives nothing of it.

A visit gets ``DZ_CC_REFETCHES`` answers of the defence at most; past that the page goes to the spider, which reads
it as flood control (retried, then counted as an error). Order 587: after the cookie middleware (700), redirects
(600) and decompression (590) have seen the answer; before a challenge's meta refresh is followed (580) or a 503 is
retried (550).
"""
from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.core.downloader import Slot
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from scraper.confirm import NOT_BEFORE_META, SCRAPY_META
from scraper.parsers.barriers import CC_FIRST, CC_FLOOD, CC_RELOAD, Barrier, recognise

logger = logging.getLogger(__name__)

BARRIER_META = "dz_barrier"  # on a response the spider must stop at: the Barrier
CC_ANSWERS_META = "dz_cc_answers"  # how many answers of the CC defence this visit has had
RELOADED_META = "dz_cc_reloaded"  # this visit reloaded once already
# Crawl stats the summary reads (scraper/crawl.py).
STAT_SLOWED = "dzarchive/cc_slowed"  # hosts crawled one request a second for the CC defence
STAT_REFUSED = "dzarchive/cc_refused"  # answers of the CC defence, fetched again
STAT_RELOADS = "dzarchive/cc_reloads"  # 页面重载开启 pages reloaded
STAT_INTERVAL = "dzarchive/cc_interval"  # their pace, seconds between requests
STAT_BARRIER = "dzarchive/barrier"  # the barrier the crawl stopped at, in one line
CLOSE_BARRIER = "barrier"  # the crawl's close reason then
# Answers up to this size (and refusals, status >= 400) are read as soon as they are downloaded: the CC defence's
# pages are 1–5 KB.
EARLY_BYTES = 8192
# A slot's delay without random variation (Scrapy 2.19's jitter; randomize_delay before).
_NO_JITTER = {"jitter": 0.0} if hasattr(Slot, "jitter") else {"randomize_delay": False}


class StoppedAtBarrier(IgnoreRequest):
    """A request not sent because the crawl met a barrier it stops at: no error of the page's (the spider ignores
    it)."""


class BarrierMiddleware:
    """See the module docstring. Settings: ``DZ_CC_INTERVAL`` (seconds between requests to a host whose CC defence
    refused requests less than a second apart; default 1.1, a margin over the check's whole second for the time a
    request takes to arrive) and ``DZ_CC_REFETCHES`` (answers of the defence one visit may get; default 3)."""

    def __init__(self, crawler, interval: float = 1.1, refetches: int = 3):
        self.crawler = crawler
        self.interval = interval
        self.refetches = refetches
        self.slowed: set[str] = set()  # download slots (hosts) held at one request per interval
        self.stopped: Barrier | None = None  # the barrier the crawl stops at: nothing more is sent
        self.said_kept_coming = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        middleware = cls(crawler, s.getfloat("DZ_CC_INTERVAL", 1.1), s.getint("DZ_CC_REFETCHES", 3))
        # AutoThrottle (an extension, connected first) lowers a slot's delay on this signal, before the slot lets its
        # next request go: the floor is put back in between.
        crawler.signals.connect(middleware._response_downloaded, signal=signals.response_downloaded)
        return middleware

    # -- requests: a slowed host keeps its pace --------------------------------------------------------------------
    def process_request(self, request, spider=None):
        if self.stopped is not None:  # the spider is closing the crawl: not one more request into the barrier
            raise StoppedAtBarrier(self.stopped.name)
        if self.slowed:
            key = self._downloader().get_slot_key(request)
            if key in self.slowed:
                self._hold(key)
                request.meta["autothrottle_dont_adjust_delay"] = True
        return None

    def _response_downloaded(self, response, request, spider=None):
        # Read here already (before the slot lets its next request go, in the same turn), not only when the answer
        # reaches process_response: else the request right behind a refused one goes as fast, and is refused too,
        # and the one behind a challenge meets it too.
        key = request.meta.get("download_slot")
        if self.stopped is None and key not in self.slowed and (len(response.body) <= EARLY_BYTES
                                                                 or response.status >= 400):
            barrier = recognise(response.status, response.body, response.headers)
            if barrier is not None and not barrier.passable:
                self._stop(barrier, request.url)
            elif barrier is not None and self._refuses(request, barrier):
                self._slow(key, barrier)
        if key in self.slowed:
            self._hold(key)

    # -- answers ---------------------------------------------------------------------------------------------------
    def process_response(self, request, response, spider=None):
        barrier = recognise(response.status, response.body, response.headers)
        if barrier is None:
            return response
        if not barrier.passable:
            # For the spider to stop at: not retried (a 503 challenge), not dropped as an HTTP error (a 521).
            self._stop(barrier, request.url)
            request.meta.update({BARRIER_META: barrier, "dont_retry": True, "handle_httpstatus_all": True})
            return response
        answers = request.meta.get(CC_ANSWERS_META, 0)
        if answers >= self.refetches:
            # Cookies that do not stick (a cookie domain that is not this host's?): said once, then left to the spider.
            log = logger.debug if self.said_kept_coming else logger.warning
            log("%s still answers %s after %d tries with its cookie: read as flood control", barrier.name,
                request.url, answers)
            self.said_kept_coming = True
            return response
        stats = self.crawler.stats
        if self._refuses(request, barrier):
            self._slow(self._downloader().get_slot_key(request), barrier)
            stats.inc_value(STAT_REFUSED)
        else:
            stats.inc_value(STAT_RELOADS)
            logger.info("%s on %s: fetched again with its cookie after %.1f s", barrier.name, request.url,
                        barrier.delay)
        return self._again(request, barrier, answers)

    @staticmethod
    def _refuses(request, barrier: Barrier) -> bool:
        """Whether the answer is the one-second check's (1, its PHP 8 503, or a reload asked again on the reload)."""
        return barrier.kind in (CC_FLOOD, CC_FIRST) or (barrier.kind == CC_RELOAD
                                                         and bool(request.meta.get(RELOADED_META)))

    def _stop(self, barrier: Barrier, url: str) -> None:
        """Stop the crawl, and send nothing more: the requests waiting in the downloader's slots fail as
        :class:`StoppedAtBarrier` (the spider ignores them), and later ones are refused in :meth:`process_request`.
        The crawl is closed here too, for the answer the spider never sees (a challenge to robots.txt)."""
        if self.stopped is not None:
            return
        self.stopped = barrier
        if not self.crawler.stats.get_value(STAT_BARRIER):
            self.crawler.stats.set_value(STAT_BARRIER, barrier.line())
        logger.info("stopped at %s: %s", url, barrier.line())
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_BARRIER))
        for slot in self._downloader().slots.values():
            while getattr(slot, "queue", None):
                _, waiting = slot.queue.popleft()
                waiting.errback(Failure(StoppedAtBarrier(barrier.name)))

    def _again(self, request, barrier: Barrier, answers: int):
        """The same page fetched again, after the answer's own delay (a slowed host's pace applies on top)."""
        meta = {k: v for k, v in request.meta.items() if k not in SCRAPY_META and not k.startswith("_")}
        meta.pop("autothrottle_dont_adjust_delay", None)
        meta[CC_ANSWERS_META] = answers + 1
        if barrier.kind == CC_RELOAD:
            meta[RELOADED_META] = True
        if barrier.delay:
            meta[NOT_BEFORE_META] = time.time() + barrier.delay
        return request.replace(meta=meta, dont_filter=True)

    # -- one request at a time, a second apart -------------------------------------------------------------------
    def _slow(self, key: str, barrier: Barrier) -> None:
        if key in self.slowed:
            return
        self.slowed.add(key)
        # A slot idle for a minute is dropped and made again from DOWNLOAD_SLOTS: made slow from the start.
        self._downloader().per_slot_settings[key] = {"concurrency": 1, "delay": self.interval, **_NO_JITTER}
        self._hold(key)
        stats = self.crawler.stats
        stats.set_value(STAT_SLOWED, sorted(self.slowed))
        stats.set_value(STAT_INTERVAL, self.interval)
        logger.warning("%s: %s is crawled one request at a time, %.1f s apart, for the rest of the crawl",
                       barrier.name, key, self.interval)

    def _hold(self, key: str) -> None:
        """Put the slot of ``key`` back at one request at a time, ``interval`` apart, without random jitter."""
        slot = self._downloader().slots.get(key)
        if slot is None:
            return
        slot.concurrency = 1
        slot.delay = max(slot.delay, self.interval)
        for name, value in _NO_JITTER.items():
            setattr(slot, name, value)

    def _downloader(self):
        return self.crawler.engine.downloader

