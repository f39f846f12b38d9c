"""What a user sees while a crawl runs: pages done of pages known, rate, ETA and errors on stderr, and at
once on Ctrl-C what stopping means.

On a terminal the figures are a ``rich`` progress bar; elsewhere (cron, a pipe, ``-v``) a plain line
every ``DZ_PROGRESS_INTERVAL`` seconds. Pages known are those archived plus those waiting in Scrapy's
scheduler and in the downloader. The total grows while forum list pages are being read (each one
reveals threads), so the ETA is shown only once no list page is waiting.
"""
from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass
from typing import Callable

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.records import FetchError, PageRecord

from .urls import classify

LIST_KINDS = {"index", "forumdisplay"}  # pages that reveal more pages to fetch
# A page's error kinds that are no error of the crawl's: a thread deleted or hidden is the page's state, archived as
# such. The summary's count (``crawls.errors``, archive/db.py finish_crawl) leaves them out as well.
NOT_ERRORS = {"special"}
STOPPING = ("stopping: finishing the pages in progress and saving the queue; the same command carries on "
            "where it stopped. Ctrl-C again stops at once (every page archived so far is kept; the next run "
            "finds what is missing from the archive).")


@dataclass(frozen=True)
class Snapshot:
    """The crawl's figures at one moment."""

    done: int  # pages archived or failed
    known: int  # done + waiting + being fetched
    posts: int
    errors: int
    elapsed: float  # seconds
    lists_waiting: int  # forum list / index pages scheduled and not yet fetched

    @property
    def rate(self) -> float:
        """Pages per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far, once every list page is read (before, the total still grows)."""
        if self.lists_waiting or not self.done or self.rate <= 0:
            return None
        return max(0, self.known - self.done) / self.rate

    def line(self) -> str:
        """``21/57 pages, 42 posts, 2.3 pages/s, ETA 16 s, 0 errors, 9 s``."""
        eta = _duration(self.eta) if self.eta is not None else "after the list pages"
        return (f"{self.done}/{self.known} pages, {self.posts} posts, {self.rate:.1f} pages/s, ETA {eta}, "
                f"{self.errors} errors, {_duration(self.elapsed)}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Scrapy extension: the crawl's progress on stderr. Enabled by ``DZ_PROGRESS`` (the CLI sets it).

    ``bar=True`` draws a rich progress bar (the CLI's choice when stderr is a terminal and no log is
    shown there); otherwise a plain line is written every ``interval`` seconds. ``pending`` says how
    many requests wait in the scheduler and downloader (read from the engine when crawling).
    """

    def __init__(self, stats=None, stream=None, *, interval: float = 10.0, bar: bool = False,
                 pending: Callable[[], int] | None = None):
        self.stats = stats
        self.stream = stream or sys.stderr
        self.interval = interval
        self.pending = pending or (lambda: 0)
        self.pages = 0
        self.failed = 0
        self.errors = 0  # as the summary counts them: errors_of() each item
        self.shown: tuple | None = None  # the figures of the last plain line written
        self.posts = 0
        self.lists_scheduled: set[str] = set()
        self.started = time.monotonic()
        self.last = 0.0
        self.stopping = False
        self._bar = self._task = None
        if bar:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn

            console = Console(file=self.stream, stderr=self.stream is sys.stderr)
            self._bar = RichProgress(TextColumn("archiving"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("pages  {task.fields[info]}"), console=console,
                                     refresh_per_second=4)
            self._task = self._bar.add_task("crawl", total=None, info="")

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("DZ_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler.stats, interval=settings.getfloat("DZ_PROGRESS_INTERVAL", 10.0),
                  bar=settings.getbool("DZ_PROGRESS_BAR"), pending=lambda: _pending(crawler))
        for handler, signal_ in ((ext.engine_started, signals.engine_started),
                                 (ext.request_scheduled, signals.request_scheduled),
                                 (ext.request_dropped, signals.request_dropped),
                                 (ext.request_done, signals.request_left_downloader),
                                 (ext.item_scraped, signals.item_scraped),
                                 (ext.spider_closed, signals.spider_closed)):
            crawler.signals.connect(handler, signal=signal_)
        return ext

    # -- what happened --------------------------------------------------------------------------
    def request_scheduled(self, request, spider=None):
        if classify(request.url).kind in LIST_KINDS:
            self.lists_scheduled.add(request.url)

    def request_dropped(self, request, spider=None):  # a duplicate the scheduler refused
        self.lists_scheduled.discard(request.url)

    def request_done(self, request, spider=None):
        self.lists_scheduled.discard(request.url)

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, PageRecord):
            self.pages += 1
            self.posts += len(item.rows.get("posts", []))
        elif isinstance(item, FetchError):
            self.failed += 1
        self.errors += errors_of(item)
        self.show()

    def snapshot(self) -> Snapshot:
        done = self.pages + self.failed
        return Snapshot(done=done, known=done + self.pending(), posts=self.posts, errors=self.errors,
                        elapsed=time.monotonic() - self.started, lists_waiting=len(self.lists_scheduled))

    # -- showing it -----------------------------------------------------------------------------
    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._bar is not None:
            state = self.snapshot()
            eta = f"ETA {_duration(state.eta)}" if state.eta is not None else "ETA after the list pages"
            self._bar.update(self._task, completed=state.done, total=max(state.known, 1),
                             info=f"{state.rate:.1f}/s  {eta}  {state.errors} errors  {state.posts} posts")
        elif force or now - self.last >= self.interval:
            state = self.snapshot()
            figures = (state.done, state.known, state.posts, state.errors)
            if force and figures == self.shown:
                return  # the last line said it already (its rate and time were as good)
            self.last, self.shown = now, figures
            self.stream.write(f"progress: {state.line()}\n")
            self.stream.flush()

    def engine_started(self):
        self.started = time.monotonic()
        if self._bar is not None:
            self._bar.start()
        self._hook_ctrl_c()

    def spider_closed(self, spider=None, reason=None):
        if self._bar is not None:
            self.show()
            self._bar.stop()
        elif self.pages or self.failed:
            self.show(force=True)  # the last state, unless the line before showed it already

    def _hook_ctrl_c(self) -> None:
        """Say at once what the first Ctrl-C does, then let Scrapy's handler stop the crawl.

        Scrapy's handler (installed before the engine starts) only logs at INFO, which the CLI's
        default log level hides; it swaps in its own "stop now" handler for the second Ctrl-C.
        """
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):
            return

        def on_ctrl_c(signum, frame):
            if not self.stopping:
                self.stopping = True
                from twisted.internet import reactor

                reactor.callFromThread(self.say_stopping)  # not from the handler: it may interrupt a write
            previous(signum, frame)

        signal.signal(signal.SIGINT, on_ctrl_c)

    def say_stopping(self) -> None:
        if self._bar is not None:
            self._bar.console.print(STOPPING)
        else:
            self.stream.write(STOPPING + "\n")
            self.stream.flush()


def errors_of(item) -> int:
    """The crawl's errors an item stands for, counted as the summary counts the ``errors`` rows the store writes for it
    (archive/db.py ``finish_crawl``): 1 for a request that got no page (however many times it was retried), 1 for
    each error of a page that could not be read (or read whole), none for a page's own state (a deleted thread)."""
    if isinstance(item, FetchError):
        return 1
    if isinstance(item, PageRecord):
        return sum(1 for kind, _ in item.errors if kind not in NOT_ERRORS)
    return 0


def _pending(crawler) -> int:
    """Requests waiting in the scheduler and being downloaded (0 before the engine runs)."""
    engine = getattr(crawler, "engine", None)
    if engine is None:
        return 0
    slot = getattr(engine, "_slot", None) or getattr(engine, "slot", None)
    waiting = len(slot.scheduler) if slot is not None and slot.scheduler is not None else 0
    downloader = getattr(engine, "downloader", None)
    return waiting + (len(downloader.active) if downloader is not None else 0)
