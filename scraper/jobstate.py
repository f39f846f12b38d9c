"""The crawl's job state (``JOBDIR``): kept in memory while the crawl runs, written when it stops before finishing.

A crawl is continued only after a graceful stop (Ctrl-C, SIGTERM): after a hard kill ``run_crawl`` discards
the job state (the archive, committed page by page, says what is left), and after a finished crawl it removes
it. Scrapy's own scheduler and SpiderState write that state all the time anyway: every request pickled to a
disk queue and read back (a few per cent of a crawl's time), and the spider's bookkeeping pickled at every
close, finished or not (at 100k threads, the crawl's memory peak). Here the queue lives in memory and both are
written once, when the crawl stops before finishing; a continued crawl reads them back as Scrapy's would.
"""
from __future__ import annotations

import logging
import os

from .write_failures import CLOSE_WRITE_FAILED, JobSpiderState, JobStateScheduler, stop_crawl

logger = logging.getLogger(__name__)

FINISHED = "finished"  # the close reason of a crawl that ran out of requests: nothing of it is continued


class CheckpointScheduler(JobStateScheduler):
    """The scheduler (``SCHEDULER``), with its requests in memory, written to ``JOBDIR`` at a stop.

    In: requests from the engine; out: the same requests, highest priority first and, within a priority, last
    in first out (as Scrapy's default queues). On open, a queue saved by a stopped run is read back into memory
    in the same order; on a close other than ``finished`` (or a failed write, whose job state is discarded), the
    pending requests are written to the disk queue in the same order, so the next run continues exactly where
    this one stopped. The requests seen (the dupefilter's ``requests.seen``) are written as Scrapy writes them.
    """

    def open(self, spider):
        result = super().open(spider)
        if self.dqs is not None:
            saved = []
            while (request := self.dqs.pop()) is not None:
                saved.append(request)
            self._write_dqs_state(self.dqdir, self.dqs.close())  # emptied: its files are removed
            self.dqs = None
            for request in reversed(saved):  # LIFO within a priority: the first popped is pushed last
                self.mqs.push(request)
        return result

    def _dqpush(self, request) -> bool:
        return False  # while running, every request waits in memory (Scrapy's fallback for unpicklable ones)

    def close(self, reason: str):
        if self.dqdir and reason not in (FINISHED, CLOSE_WRITE_FAILED):
            try:
                self._save(reason)
            except OSError as exc:
                stop_crawl(self.crawler, "the job state", self.dqdir or os.getcwd(), exc)
        return super().close(reason)

    def _save(self, reason: str) -> None:
        pending = []
        while (request := self.mqs.pop()) is not None:
            pending.append(request)
        self.dqs = self._dq()
        unserializable = 0
        for request in reversed(pending):
            try:
                self.dqs.push(request)
            except ValueError:  # one pickle cannot write (Scrapy keeps those in memory only: lost at a stop too)
                unserializable += 1
        if unserializable and self.stats is not None:
            self.stats.inc_value("scheduler/unserializable", unserializable)
        logger.info("stopped (%s): %d pending requests saved for the next run", reason, len(pending) - unserializable)


class StoppedSpiderState(JobSpiderState):
    """The SpiderState extension, but the spider's ``state`` is written only when the crawl stops before
    finishing: a finished crawl's job state is removed unread (``run_crawl``), and pickling a large crawl's
    bookkeeping only to delete it was the peak of its memory."""

    def _spider_closed(self, spider, reason=None) -> None:
        if reason != FINISHED:
            super()._spider_closed(spider, reason)
