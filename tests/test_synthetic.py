"""The synthetic forum (testbed/synthetic.py): its pages parse to the ids and counts it was asked for,
and the spider's work per list page does not grow with the forum."""
from __future__ import annotations

import sqlite3
import urllib.request

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from scraper.parsers import parse_page
from scraper.spiders.site import SiteSpider
from testbed.replay import ReplayServer
from testbed.synthetic import POSTS_PER_PAGE, THREADS_PER_PAGE, SyntheticForum

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli

LIST = "http://bbs.example.test/forum.php?mod=forumdisplay&fid=2&page={}"
THREAD = "http://bbs.example.test/forum.php?mod=viewthread&tid={}&page={}"


def _parse(forum: SyntheticForum, url: str):
    entry = forum.lookup(url)
    assert entry is not None, url
    return parse_page(url, entry.body(), content_type=entry.content_type, date_header=entry.headers["Date"])


@requires_fixtures
def test_list_pages_show_the_threads_asked_for_newest_first():
    forum = SyntheticForum(SITE_A, threads=1010)
    assert forum.list_pages == 51
    first = _parse(forum, LIST.format(1))
    assert (first.kind, first.status, first.fid, first.page, first.pages) == ("forumdisplay", "ok", 2, 1, 51)
    assert [t.tid for t in first.threads] == list(range(1010, 990, -1))
    assert [t.replies for t in first.threads] == [forum.replies(t) for t in range(1010, 990, -1)]
    assert first.threads[0].title == "合成主题 1010 号：盐帮菜第 40 家"
    middle = _parse(forum, LIST.format(26))
    assert [t.tid for t in middle.threads] == list(range(510, 490, -1)) and middle.pages == 51
    last = _parse(forum, LIST.format(51))
    assert [t.tid for t in last.threads] == list(range(10, 0, -1))
    assert forum.lookup(LIST.format(52)) is None


@requires_fixtures
def test_thread_pages_hold_the_posts_floors_and_pages_asked_for():
    forum = SyntheticForum(SITE_A, threads=100, multi_page_every=10, pages_per_long_thread=3)
    assert forum.thread_pages(40) == 3 and forum.thread_pages(41) == 1
    seen = []
    for page in (1, 2, 3):
        parsed = _parse(forum, THREAD.format(40, page))
        assert (parsed.kind, parsed.status, parsed.tid, parsed.fid, parsed.page, parsed.pages) == (
            "viewthread", "ok", 40, 2, page, 3)
        assert parsed.threads[0].replies == forum.replies(40)
        seen += [(p.pid, p.floor) for p in parsed.posts]
        assert all(p.posted_at is not None and p.author_uid for p in parsed.posts)
    assert seen == [(forum.pid(40, n), n) for n in range(1, forum.replies(40) + 2)]
    assert len(seen) == 2 * POSTS_PER_PAGE + forum.posts_on(40, 3)
    single = _parse(forum, THREAD.format(41, 1))
    assert single.pages == 1 and [p.floor for p in single.posts] == list(range(1, forum.replies(41) + 2))
    assert single.posts[0].content_text.startswith("第 41 帖第 1 楼的内容。")
    assert forum.lookup(THREAD.format(41, 2)) is None and forum.lookup(THREAD.format(101, 1)) is None
    expected = forum.expected()
    assert expected["threads"] == 100 and expected["list_pages"] == 100 // THREADS_PER_PAGE


@requires_fixtures
def test_the_replay_server_serves_the_synthetic_forum_as_a_proxy():
    forum = SyntheticForum(SITE_A, threads=50)
    with ReplayServer(forum) as server:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.url}))
        body = opener.open(LIST.format(2), timeout=10).read()
    page = parse_page(LIST.format(2), body)
    assert [t.tid for t in page.threads] == list(range(30, 10, -1))


def _requests_from_list_page(forum: SyntheticForum, page: int, tmp_path) -> list[Request]:
    crawler = get_crawler(SiteSpider, {"DZ_DB": str(tmp_path / "none.db"), "DZ_PROFILES": False})
    spider = SiteSpider.from_crawler(crawler, start_url=LIST.format(1))
    entry = forum.lookup(LIST.format(page))
    response = HtmlResponse(LIST.format(page), body=entry.body(), headers=entry.headers, request=Request(LIST.format(page)))
    return [r for r in spider.parse(response) if isinstance(r, Request)]


@requires_fixtures
def test_the_spiders_requests_per_list_page_do_not_grow_with_the_number_of_list_pages(tmp_path):
    small, large = SyntheticForum(SITE_A, threads=1_000), SyntheticForum(SITE_A, threads=100_000)
    assert (small.list_pages, large.list_pages) == (50, 5000)
    counts = {}
    for forum in (small, large):
        middle = forum.list_pages // 2
        requests = _requests_from_list_page(forum, middle, tmp_path)
        lists = [r for r in requests if "forumdisplay" in r.url]
        threads = [r for r in requests if "viewthread" in r.url]
        # The pager's links (about ten pages around this one, the first and the last), never every page.
        assert len(lists) <= 12, len(lists)
        assert len(threads) == THREADS_PER_PAGE
        counts[forum.list_pages] = (len(lists), len(threads))
    assert counts[50] == counts[5000]


@requires_fixtures
def test_a_forum_of_many_posters_gives_each_thread_its_own_and_a_crawl_archives_them_all(tmp_path):
    forum = SyntheticForum(SITE_A, threads=60, multi_page_every=0, posters=60)
    assert len({forum.poster(tid, 1) for tid in range(1, 61)}) == 60
    assert SyntheticForum(SITE_A, threads=60).expected()["users"] == 50  # the default: 50 members post
    first = _parse(forum, THREAD.format(17, 1))
    assert [p.author_uid for p in first.posts] == [forum.poster(17, floor) for floor in range(1, len(first.posts) + 1)]
    db = tmp_path / "archive.db"
    with ReplayServer(forum) as server:
        result = run_cli(*fast("crawl", LIST.format(1), "--db", str(db), "--no-profiles", "-s", "CONCURRENT_REQUESTS=16",
                                "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"), proxy=server.url)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    expected = forum.expected()
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == expected["posts"]
    assert conn.execute("SELECT count(DISTINCT author_uid) FROM posts").fetchone()[0] == expected["users"] == 60
