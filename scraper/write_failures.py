"""A write that failed stops the crawl at once: the archive, a WARC file, a media file or Scrapy's job state.

A full disk, a read-only file system, an I/O error or a database another program keeps locked past the busy
timeout do not go away by themselves: a crawl that went on would fetch pages it cannot keep. So the component
whose write failed calls :func:`stop_crawl`, which records the failure in the crawl's stats
(:data:`STAT_WRITE_FAILURE`), closes the spider (no request is sent any more; those waiting in the downloader
fail as :class:`StoppedWriting`, which the spider ignores) and writes nothing more. What was committed stays:
the archive is written in whole-page transactions, so the same command on a roomy disk carries on from there.
``scraper.crawl`` turns the stats into one line and exit code 6 (:data:`scraper.exit_codes.EXIT_WRITE_FAILED`).
"""
from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path

from scrapy import signals
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.spiderstate import SpiderState
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

STAT_WRITE_FAILURE = "dzarchive/write_failure"  # {"what", "path", "reason", "remedy"}: the write that stopped the crawl
CLOSE_WRITE_FAILED = "write_failed"  # the spider's close reason then

# SQLite's primary result codes that say the file could not be written, not that a statement is wrong (a
# statement that is wrong is a bug, and keeps its traceback): PERM, BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL,
# CANTOPEN, NOTADB.
_SQLITE_WRITE_CODES = {3, 5, 6, 8, 10, 11, 13, 14, 26}
_SQLITE_FULL, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_PERM = 13, 5, 6, 8, 3
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


class StoppedWriting(IgnoreRequest):
    """A request not sent (or whose answer is not kept) because a write failed and the crawl is stopping."""


def is_write_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says a file could not be written (disk full, read-only, I/O error, locked), not a bug."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, (sqlite3.OperationalError, sqlite3.DatabaseError)) and not isinstance(
            exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None:  # an SQLite too old to say: its messages then
            return any(text in str(exc) for text in ("full", "disk I/O", "readonly", "locked", "malformed"))
        return code & 0xFF in _SQLITE_WRITE_CODES
    return False


def reason_of(exc: BaseException) -> str:
    """What went wrong, in the words of the system: ``database or disk is full``, ``No space left on device``."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def remedy_of(exc: BaseException) -> str:
    """What the user can do before running the same command again."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    number = exc.errno if isinstance(exc, OSError) else None
    if code == _SQLITE_FULL or number in _FULL_ERRNOS or "full" in str(exc):
        return "free space"
    if code in (_SQLITE_READONLY, _SQLITE_PERM) or number in _READONLY_ERRNOS:
        return "make it writable"
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return "stop the program that keeps it locked"
    return "check the disk"


def stop_crawl(crawler, what: str, path: str | Path, exc: BaseException) -> None:
    """Stop the crawl because writing ``what`` (``"the archive"``, ``"the WARC file"``, ...) at ``path`` failed
    with ``exc``. The first failure is the one reported; later calls do nothing."""
    stats = getattr(crawler, "stats", None)
    if stats is None or stats.get_value(STAT_WRITE_FAILURE):
        return
    stats.set_value(STAT_WRITE_FAILURE, {"what": what, "path": str(path), "reason": reason_of(exc),
                                         "remedy": remedy_of(exc)})
    # The terminal gets one line from scraper/crawl.py; the log (-v, --log-file) says more, -vv has the traceback.
    logger.info("could not write %s %s: %s; stopping the crawl", what, path, reason_of(exc))
    logger.debug("the failed write", exc_info=(type(exc), exc, exc.__traceback__))
    engine = getattr(crawler, "engine", None)
    if engine is None:
        return
    from twisted.internet import reactor

    # Closed from the reactor's next turn: the component may be inside the engine's own call (opening the spider).
    reactor.callLater(0, _close, crawler)
    downloader = getattr(engine, "downloader", None)
    for slot in getattr(downloader, "slots", {}).values():
        while getattr(slot, "queue", None):
            _, waiting = slot.queue.popleft()
            waiting.errback(Failure(StoppedWriting(f"could not write {what}")))


def _close(crawler, tries: int = 100) -> None:
    engine = crawler.engine
    if engine is None:
        return
    if engine.spider is not None and getattr(engine, "_slot", None) is not None:
        deferred_from_coro(engine.close_spider_async(reason=CLOSE_WRITE_FAILED))
    elif tries and getattr(crawler, "crawling", True):  # the spider is still being opened: close it once it is
        from twisted.internet import reactor

        reactor.callLater(0.05, _close, crawler, tries - 1)


def write_failure(crawler) -> dict | None:
    """The write failure that stopped the crawl, if one did (see :func:`stop_crawl`)."""
    stats = getattr(crawler, "stats", None)
    return stats.get_value(STAT_WRITE_FAILURE) if stats is not None else None


class JobStateScheduler(Scheduler):
    """Scrapy's scheduler, whose job state (``JOBDIR``: the queue and the requests seen) stops the crawl when it
    cannot be written, instead of failing the spider's callback with a traceback and going on. A request whose
    state could not be written is kept in memory; the stop discards the job state anyway (scraper/crawl.py)."""

    def enqueue_request(self, request) -> bool:
        try:
            return super().enqueue_request(request)
        except OSError as exc:
            stop_crawl(self.crawler, "the job state", self.dqdir or os.getcwd(), exc)
            return False

    def next_request(self):
        try:
            return super().next_request()
        except OSError as exc:  # the disk queue writes as it reads (queuelib truncates the file it pops from)
            stop_crawl(self.crawler, "the job state", self.dqdir or os.getcwd(), exc)
            return None

    def close(self, reason: str):
        if reason == CLOSE_WRITE_FAILED:
            # The job state is discarded after this crawl (its requests seen include pages never archived).
            try:
                return super().close(reason)
            except OSError:
                return None
        try:
            return super().close(reason)
        except OSError as exc:
            stop_crawl(self.crawler, "the job state", self.dqdir or os.getcwd(), exc)
            return None


class JobSpiderState(SpiderState):
    """Scrapy's ``SpiderState`` (the spider's ``state`` kept in ``JOBDIR``), which writes nothing after a write
    failed (the job state is discarded then), and stops the crawl instead of a traceback when it cannot write."""

    @classmethod
    def from_crawler(cls, crawler):
        extension = super().from_crawler(crawler)
        extension.crawler = crawler
        crawler.signals.disconnect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension._spider_closed, signal=signals.spider_closed)
        return extension

    def _spider_closed(self, spider, reason=None) -> None:
        if reason == CLOSE_WRITE_FAILED or write_failure(self.crawler):
            return
        try:
            self.spider_closed(spider)
        except OSError as exc:
            stop_crawl(self.crawler, "the job state", self.jobdir, exc)
