"""Scrapy's downloader, holding the per-host cap when there is no download delay (``DOWNLOADER``).

Scrapy (2.14.2 and later, on asyncio) takes requests off a host's slot queue while the slot has free
transfer places, but a request only counts as transferring once its download task first runs, on a later
turn of the event loop. With a delay, one request leaves the queue per turn and the cap holds; with
``DOWNLOAD_DELAY = 0`` the whole queue leaves at once (measured: 7 in flight against a cap of 2). Here a
request counts as transferring from the moment it leaves the queue, so a crawl with no delay (a loopback
replay, the benchmarks) keeps ``CONCURRENT_REQUESTS_PER_DOMAIN`` without being slowed by a made-up delay.
"""
from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot

try:  # Scrapy internals the override below is written against (Scrapy 2.19)
    from scrapy.utils.defer import _schedule_coro
except ImportError:  # pragma: no cover - another Scrapy: crawl_settings() keeps the cap with a delay instead
    _schedule_coro = None

# Whether this Scrapy has what CappedDownloader relies on; without it a zero delay is raised (crawl_settings).
SUPPORTED = _schedule_coro is not None and hasattr(Downloader, "_wait_for_download") and \
    hasattr(Downloader, "_process_queue") and hasattr(Slot, "free_transfer_slots")
# The delay that keeps the cap with Scrapy's own downloader (2.14.2+ on asyncio lets a slot's whole queue out at
# once without one).
FALLBACK_DELAY = 0.01


class CappedDownloader(Downloader):
    """:class:`scrapy.core.downloader.Downloader` whose slots never have more than their concurrency in flight."""

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall or slot.delay:
            # A delay lets one request out per turn: Scrapy's own loop keeps the cap.
            super()._process_queue(slot)
            return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = monotonic()
            request, queue_dfd = slot.queue.popleft()
            # Counted now, not when the task starts: _download adds it again (a set) and removes it when done.
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
