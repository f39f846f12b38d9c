"""Flaky servers: faults injected into a replay of the real fixture site, crawled with `dzarchive crawl`.

testbed/flaky.py fails a seeded share of responses (HTTP errors, resets, truncations, timeouts, Discuz error pages
served with 200) or, scripted, one page's answers. What must hold: nothing archived is lost or wrongly marked gone,
nothing is missed for good, and a crawl that could not read everything does not say it finished cleanly.
"""
from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from testbed.flaky import FlakyReplayServer, archive_share

from .conftest import SITE_A, requires_fixtures
from .test_e2e import run_cli

pytestmark = requires_fixtures
START = "http://bbs.example.test/forum.php"
THREAD_2_PAGE_2 = "forum.php?mod=viewthread&tid=2&page=2"
FORUM_2 = "forum.php?mod=forumdisplay&fid=2&page=1"
# Loopback: no politeness delay, a short timeout for the stalls, a short back-off before confirming.
FAST = ("-s", "DOWNLOAD_DELAY=0.01", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=2",
        "-s", "DZ_CONFIRM_BACKOFF=0.1")


def crawl(server, db, *extra):
    return run_cli("crawl", START, "--db", str(db), *FAST, *extra, proxy=server.url)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A crawl of the site with nothing failing: what every other crawl is compared with."""
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    with FlakyReplayServer(SITE_A, rate=0) as server:
        assert crawl(server, db).returncode == 0
    return db


def query(db, sql, *args):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("seed", [1, 3])
def test_one_run_against_a_flaky_server_archives_all_of_a_clean_crawl(clean, tmp_path, seed):
    with FlakyReplayServer(SITE_A, rate=0.21, seed=seed) as server:
        result = crawl(server, tmp_path / "flaky.db")
    assert server.fault_rate > 0.1 and len(server.faults_served) >= 5, server.faults_served
    assert result.returncode == 0, result.stdout + result.stderr
    assert archive_share(clean, tmp_path / "flaky.db") == 1.0
    assert query(tmp_path / "flaky.db", "SELECT count(*) FROM post_absences") == [(0,)]


def test_a_not_found_answer_on_page_2_marks_nothing_until_it_is_confirmed(clean, tmp_path):
    db = tmp_path / "a.db"
    with FlakyReplayServer(SITE_A, rate=0) as server:
        assert crawl(server, db).returncode == 0
    posts = query(db, "SELECT count(*) FROM posts WHERE tid = 2 AND status = 'ok'")[0][0]
    # Twice "not found", then the page again: a flaky answer, to be ignored.
    with FlakyReplayServer(SITE_A, rate=0, script={THREAD_2_PAGE_2: ["not_found", "not_found"]}) as server:
        result = crawl(server, db, "--full")
    assert result.returncode == 0, result.stderr
    assert server.faults_served["not_found"] == 2
    assert query(db, "SELECT count(*) FROM posts WHERE tid = 2 AND status = 'ok'") == [(posts,)]
    assert query(db, "SELECT count(*) FROM post_absences") == [(0,)]
    assert query(db, "SELECT status FROM threads WHERE tid = 2") == [("ok",)]
    # "Not found" every time it is asked: the thread is gone, and its posts are marked so.
    with FlakyReplayServer(SITE_A, rate=0, script={THREAD_2_PAGE_2: ["not_found"] * 10}) as server:
        crawl(server, db, "--full")
    assert server.faults_served["not_found"] == 4  # the answer, and three times again
    assert query(db, "SELECT count(*) FROM posts WHERE tid = 2 AND status = 'ok'") == [(0,)]
    assert query(db, "SELECT count(*) FROM post_absences WHERE tid = 2 AND status = 'deleted'")[0][0] >= posts


@pytest.mark.parametrize("fault", ["closed_site", "not_found"])
def test_a_list_page_that_says_closed_or_not_found_is_asked_again_and_its_threads_are_archived(clean, tmp_path,
                                                                                                fault):
    # A first crawl: the index showed the forum, so a "not found" for it is not believed at once either.
    with FlakyReplayServer(SITE_A, rate=0, script={FORUM_2: [fault, fault]}) as server:
        result = crawl(server, tmp_path / "a.db")
    assert result.returncode == 0, result.stderr
    assert archive_share(clean, tmp_path / "a.db") == 1.0
    assert server.faults_served[fault] == 2
    assert query(tmp_path / "a.db", "SELECT fid, status FROM forums ORDER BY fid") == \
        query(clean, "SELECT fid, status FROM forums ORDER BY fid")


def test_a_site_that_stays_closed_stops_the_crawl_keeps_everything_and_exits_non_zero(clean, tmp_path):
    db = tmp_path / "a.db"
    with FlakyReplayServer(SITE_A, rate=0) as server:
        assert crawl(server, db).returncode == 0
    before = query(db, "SELECT pid, status FROM posts ORDER BY pid")
    with FlakyReplayServer(SITE_A, rate=0, script={FORUM_2: ["closed_site"] * 10}) as server:
        result = crawl(server, db, "--full")
    assert result.returncode == 1
    assert "the site says it is closed (站点已关闭)" in result.stdout
    assert "Traceback" not in result.stderr
    assert query(db, "SELECT pid, status FROM posts ORDER BY pid") == before
    assert query(db, "SELECT count(*) FROM forums WHERE status = 'closed_site'") == [(0,)]
    assert query(db, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [("failed",)]
    assert query(db, "SELECT kind, message FROM errors WHERE crawl_id = 2") == [("soft", "closed_site: 站点已关闭，请稍后访问")]


def test_soft_error_pages_count_as_errors_in_the_summary_and_the_exit_code(clean, tmp_path):
    with FlakyReplayServer(SITE_A, rate=0, script={THREAD_2_PAGE_2: ["flood"] * 10}) as server:
        result = crawl(server, tmp_path / "a.db", "-s", "RETRY_TIMES=1")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "finished with errors" in result.stdout and ", 1 errors" in result.stdout
    assert "--retry-errors" in result.stdout
    assert query(tmp_path / "a.db", "SELECT kind FROM errors WHERE kind != 'special'") == [("soft",)]


def test_a_good_answer_resets_a_forum_status_an_error_page_set(tmp_path):
    from archive import Archive
    from pipelines.normalise import normalise_page
    from scraper.parsers import parse_page

    from .conftest import captured_pages

    archive = Archive(tmp_path / "a.db")
    pages = {p.url: p for p in captured_pages(SITE_A)}
    missing = pages["http://bbs.example.test/forum.php?mod=forumdisplay&fid=999"]
    good = pages["http://bbs.example.test/" + FORUM_2]
    for page in (good, missing, good):
        url = good.url if page is missing else page.url  # the not-found answer, as if fid 2 had sent it
        parsed = parse_page(url, page.body, content_type=page.content_type, http_status=200)
        parsed.fid = parsed.fid or 2
        archive.write(normalise_page(parsed))
        if page is missing:
            assert archive.db.execute("SELECT status FROM forums WHERE fid = 2").fetchone() == ("not_found",)
    assert archive.db.execute("SELECT status FROM forums WHERE fid = 2").fetchone() == ("ok",)


def test_normal_answers_bring_a_flood_raised_delay_back_down():
    from scrapy.core.downloader import Slot
    from scrapy.utils.test import get_crawler

    from scraper.spiders.site import SiteSpider

    crawler = get_crawler(SiteSpider, {"DOWNLOAD_DELAY": 7.0, "AUTOTHROTTLE_ENABLED": False, "DZ_DB": ""})
    spider = SiteSpider.from_crawler(crawler, start_url=START)
    slot = Slot(concurrency=2, delay=7.0, jitter=0)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"bbs.example.test": slot}))
    response = SimpleNamespace(meta={"download_slot": "bbs.example.test"})
    for _ in range(4):
        spider._slow_down(response)
    assert slot.delay == 60.0  # four flood pages
    for _ in range(10):
        spider._speed_up(response)
    assert slot.delay == 7.0


def test_retry_errors_fetches_just_what_the_last_crawl_could_not(clean, tmp_path):
    db = tmp_path / "a.db"
    with FlakyReplayServer(SITE_A, rate=0, script={THREAD_2_PAGE_2: ["503"] * 2}) as server:
        first = crawl(server, db, "-s", "RETRY_TIMES=1")
    assert first.returncode == 5, first.stdout + first.stderr
    assert query(db, "SELECT kind, message FROM errors WHERE kind != 'special'") == [("http", "HTTP 503")]
    assert archive_share(clean, db) < 1.0
    with FlakyReplayServer(SITE_A, rate=0) as server:
        retried = crawl(server, db, "--retry-errors")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    # The page that failed, then only what it leads to that the archive lacks: the thread's later pages (its
    # pager links pages 3-7) and the profile of a poster shown there. No index, no list page, no other thread.
    asked = [r for r in server.requests if r != "/robots.txt"]
    assert asked[0] == "/forum.php?mod=viewthread&tid=2&extra=&page=2"
    assert all("tid=2&" in r or r.startswith("/home.php?mod=space&uid=") for r in asked), asked
    assert len(asked) <= 8
    assert archive_share(clean, db) == 1.0
    again = run_cli("crawl", START, "--db", str(db), "--retry-errors")
    assert again.returncode == 0 and "nothing to retry" in again.stderr
