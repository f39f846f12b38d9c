"""What a user sees during a crawl: pages done of pages known, rate, ETA, errors; and what Ctrl-C does."""
from __future__ import annotations

import io
import os

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from archive.records import FetchError, PageRecord
from scraper.progress import STOPPING, Progress, Snapshot
from scraper.spiders.site import SiteSpider
from testbed.replay import ReplayServer

from .conftest import SITE_A, crawl_until_interrupted, requires_fixtures

THREAD_PAGE = PageRecord(url="u", kind="viewthread", status="ok", fetched_at="t",
                         rows={"threads": [{"tid": 1}], "posts": [{"pid": 1}, {"pid": 2}], "users": [{"uid": 5}]})


def test_progress_counts_pages_done_and_known_with_rate_and_errors():
    out, waiting = io.StringIO(), [5]
    progress = Progress(None, stream=out, interval=0, pending=lambda: waiting[0])
    progress.started -= 4  # four seconds into the crawl
    progress.item_scraped(THREAD_PAGE)
    progress.item_scraped(THREAD_PAGE)
    progress.item_scraped(FetchError(url="u2", kind="fetch", message="refused"))
    state = progress.snapshot()
    assert (state.done, state.known, state.posts, state.errors) == (3, 8, 4, 1)
    assert 0.7 < state.rate < 0.76
    waiting[0] = 0
    progress.spider_closed()
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("progress: 3/3 pages, 4 posts, 0.7 pages/s, ETA 0 s, 1 errors, 4 s")


def test_the_eta_waits_until_no_list_page_is_left():
    progress = Progress(None, stream=io.StringIO(), pending=lambda: 10)
    progress.started -= 10
    progress.request_scheduled(Request("http://bbs.example.test/forum.php?mod=forumdisplay&fid=2&page=2"))
    progress.request_scheduled(Request("http://bbs.example.test/thread-7-1-1.html"))
    for _ in range(5):
        progress.item_scraped(THREAD_PAGE)
    assert progress.snapshot().eta is None and "ETA after the list pages" in progress.snapshot().line()
    progress.request_done(Request("http://bbs.example.test/forum.php?mod=forumdisplay&fid=2&page=2"))
    state = progress.snapshot()
    assert state.lists_waiting == 0 and state.eta == pytest.approx(20, rel=0.05)  # 10 left at 0.5 pages/s
    assert Snapshot(done=90, known=100, posts=0, errors=0, elapsed=3600, lists_waiting=0).line().endswith(
        "ETA 6 min 40 s, 0 errors, 1 h 00 min")


def test_on_a_terminal_it_is_a_rich_bar():
    out = io.StringIO()
    progress = Progress(None, stream=out, bar=True, pending=lambda: 3)
    progress._bar.start()
    progress.item_scraped(THREAD_PAGE)
    progress.spider_closed()  # the last state stays on screen
    shown = out.getvalue()
    assert "1/4" in shown and "pages" in shown and "ETA" in shown and "0 errors" in shown


def test_progress_is_off_unless_asked_for():
    with pytest.raises(NotConfigured):
        Progress.from_crawler(get_crawler(SiteSpider, {"DZ_PROGRESS": False}))


@requires_fixtures
def test_a_crawl_without_a_terminal_logs_plain_progress_lines_and_ctrl_c_says_what_it_does(tmp_path):
    with ReplayServer(SITE_A) as server:
        stopped = crawl_until_interrupted(server, tmp_path / "a.db", "-s", "DZ_PROGRESS_INTERVAL=0",
                                          path=os.environ.get("PATH", "/usr/bin:/bin"))
    out, err = stopped.stdout, stopped.stderr
    assert stopped.returncode == 130, err
    lines = err.splitlines()
    progress = [line for line in lines if line.startswith("progress: ")]
    assert progress and all("/" in line.split()[1] and "pages/s" in line for line in progress)
    done, known = map(int, progress[-1].split()[1].split("/"))
    assert 0 < done <= known
    assert STOPPING in lines
    assert lines.index(STOPPING) < len(lines) - 1 or "interrupted" in out
    assert "Ctrl-C again stops at once" in STOPPING
