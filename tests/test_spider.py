"""The site spider alone: what it asks for next, given responses (no network)."""
from __future__ import annotations

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from scraper.items import ParsedPage
from scraper.spiders.site import SiteSpider

from .conftest import SITE_A, captured_pages, requires_fixtures

FLOOD = '<html><body><div id="messagetext" class="alert_error"><p>刷新过于频繁，请 3 秒后再试</p></div></body></html>'


def spider_for(start_url: str, tmp_path, **settings) -> SiteSpider:
    crawler = get_crawler(SiteSpider, {"DZ_DB": str(tmp_path / "none.db"), **settings})
    return SiteSpider.from_crawler(crawler, start_url=start_url)


def respond(url: str, body: bytes, request: Request | None = None, date="Wed, 25 Nov 2026 03:55:10 GMT"):
    request = request or Request(url)
    return HtmlResponse(url, body=body, headers={"Date": date, "Content-Type": "text/html; charset=utf-8"},
                        request=request)


def test_flood_control_page_is_retried_not_archived(tmp_path):
    spider = spider_for("http://bbs.example.test/forum.php", tmp_path)
    url = "http://bbs.example.test/forum.php?mod=viewthread&tid=7"
    out = list(spider.parse(respond(url, FLOOD.encode())))
    assert len(out) == 1 and isinstance(out[0], Request)
    assert out[0].url == url and out[0].dont_filter and out[0].meta["retry_times"] == 1
    # Once the retries are spent, the page is archived as what it is, so nothing goes unnoticed.
    exhausted = Request(url, meta={"retry_times": 3})
    out = list(spider.parse(respond(url, FLOOD.encode(), exhausted)))
    assert isinstance(out[0], ParsedPage) and out[0].status == "flood"


@requires_fixtures
def test_first_crawl_walks_index_forums_threads_pages_and_profiles(tmp_path):
    spider = spider_for("http://bbs.example.test/forum.php", tmp_path)
    pages = {p.url: p for p in captured_pages(SITE_A)}

    def follow(url):
        p = pages[url]
        return [r for r in spider.parse(respond(url, p.body)) if isinstance(r, Request)]

    index = follow("http://bbs.example.test/forum.php")
    assert [(r.url, r.priority) for r in index] == [
        ("http://bbs.example.test/forum.php?mod=forumdisplay&fid=2", 10),
        ("http://bbs.example.test/forum.php?mod=forumdisplay&fid=40", 10)]
    listing = follow("http://bbs.example.test/forum.php?mod=forumdisplay&fid=2")
    threads = [r for r in listing if "viewthread" in r.url]
    assert len(threads) == 20 and all(r.priority == 20 for r in threads)
    assert [r.url for r in listing if "forumdisplay" in r.url] == [
        "http://bbs.example.test/forum.php?mod=forumdisplay&fid=2&page=2"]
    thread = follow("http://bbs.example.test/forum.php?mod=viewthread&tid=2")
    later_pages = [r for r in thread if "viewthread" in r.url]
    assert [r.url.rsplit("=", 1)[1] for r in later_pages] == ["2", "3", "4", "5", "6", "7"]
    # Threads outrank list pages, and a thread's later pages outrank new threads.
    assert all(r.priority == 30 for r in later_pages)
    assert {r.url for r in thread if "home.php" in r.url} == {
        f"http://bbs.example.test/home.php?mod=space&uid={uid}&do=profile" for uid in (2, 3, 9)}


LEGACY_PAGER = ('<div class="pages"><em>&nbsp;25&nbsp;</em><strong>1</strong>'
                '<a href="viewthread.php?tid=77&amp;extra=page%3D1&amp;page=2">2</a>'
                '<a href="viewthread.php?tid=77&amp;extra=page%3D1&amp;page=3">3</a>'
                '<a href="viewthread.php?tid=77&amp;extra=page%3D1&amp;page=2" class="next">&rsaquo;&rsaquo;</a></div>')


def test_legacy_thread_pages_lead_to_their_pager_links_and_profiles(tmp_path):
    from .test_parsers_legacy import legacy_thread_page, three_posts

    spider = spider_for("http://bbs.old.test/index.php", tmp_path)
    url = "http://bbs.old.test/viewthread.php?tid=77"
    body = legacy_thread_page(*three_posts(), pager=LEGACY_PAGER, maxpage=3).encode("utf-8")
    out = list(spider.parse(respond(url, body)))
    page = next(o for o in out if isinstance(o, ParsedPage))
    requests = [o.url for o in out if isinstance(o, Request)]
    assert (page.kind, page.version, page.pages) == ("viewthread", "7.2", 3)
    # The pager's own spelling (with its extra=), each page once although page 2 is linked twice.
    assert [r for r in requests if "viewthread" in r] == [
        "http://bbs.old.test/viewthread.php?tid=77&extra=page%3D1&page=2",
        "http://bbs.old.test/viewthread.php?tid=77&extra=page%3D1&page=3"]
    # 7.x profiles (space.php) are read now, so the posters' profile links are followed too.
    assert [r for r in requests if "space.php" in r] == ["http://bbs.old.test/space.php?uid=21",
                                                         "http://bbs.old.test/space.php?uid=37"]


def test_a_thread_whose_theme_hides_its_pager_gets_its_pages_in_the_sites_own_pattern(tmp_path):
    from .test_parsers_legacy import legacy_thread_page, three_posts

    spider = spider_for("http://bbs.old.test/index.php", tmp_path)
    # An earlier page of another thread linked page 2 as t-5-2.html: that is how this site spells pages.
    spider.urls.learn("viewthread", 5, 2, "http://bbs.old.test/t-5-2.html")
    body = legacy_thread_page(*three_posts(), maxpage=3).encode("utf-8")  # thread 88 (its markup says), 3 pages
    out = list(spider.parse(respond("http://bbs.old.test/t-88-1.html", body)))
    assert [o.url for o in out if isinstance(o, Request) and "t-" in o.url] == [
        "http://bbs.old.test/t-88-2.html", "http://bbs.old.test/t-88-3.html"]


def test_each_page_is_fetched_once_however_it_is_spelled():
    from scraper.fingerprint import DiscuzRequestFingerprinter

    fingerprint = DiscuzRequestFingerprinter().fingerprint
    same = ["http://bbs.example.test/forum.php?mod=viewthread&tid=2&extra=page%3D1",
            "http://bbs.example.test/forum.php?tid=2&mod=viewthread&page=1&fromuid=9#pid13"]
    assert fingerprint(Request(same[0])) == fingerprint(Request(same[1]))
    assert fingerprint(Request("http://bbs.example.test/thread-2-3-1.html")) == \
        fingerprint(Request("http://bbs.example.test/thread-2-3-7.html"))
    assert fingerprint(Request(same[0])) != fingerprint(Request(same[0] + "&page=2"))
