"""What stands in front of real forums (issue 20): Discuz!'s CC defence pages and firewall/CDN challenges, recognised
(scraper/parsers/barriers.py), acted on (scraper/barriers.py) and stopped at (the spider), end to end for the
firewalls and the CC defence's ``2`` and ``8``. The CC defence's ``1`` and ``4`` crawled through: test_cc_defence.py.

The CC pages are :func:`testbed.cc_defence.security_page`'s bytes (securitymessage() echo for echo); the firewall
pages (:data:`testbed.cc_defence.FIREWALL_CHALLENGES`) are written from what those products serve.
"""
from __future__ import annotations

import sqlite3
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Slot
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from scraper.barriers import (BARRIER_META, CC_ANSWERS_META, RELOADED_META, STAT_BARRIER, STAT_REFUSED,
                              STAT_RELOADS, STAT_SLOWED, BarrierMiddleware, StoppedAtBarrier)
from scraper.confirm import NOT_BEFORE_META
from scraper.items import KIND_SPECIAL, STATUS_BARRIER, STATUS_FLOOD
from scraper.parsers import parse_page
from scraper.parsers.barriers import (BTWAF, CC_FIRST, CC_FLOOD, CC_PROXY, CC_QUESTION, CC_RELOAD, CLOUDFLARE,
                                      JIASULE, SAFEDOG, WZWS, YUNSUO, recognise)
from scraper.spiders.site import SiteSpider
from testbed.cc_defence import (CC_TEXTS, FIREWALL_CHALLENGES, CCDefenceServer, ChallengeReplayServer, question_form,
                                security_page, system_error_page)
from testbed.replay import ReplayServer

from .conftest import FIXTURES, captured_pages, requires_fixtures, whole_site_captures
from .test_e2e import fast, run_cli

SITE_F = FIXTURES / "discuz-x35-utf8-f"
START_F = "http://bbs.sample.test/forum.php"
HOST = "bbs.sample.test"
KIND_OF_CHALLENGE = {"jiasule": JIASULE, "jiasule-go": JIASULE, "cloudflare": CLOUDFLARE, "cloudflare-503": CLOUDFLARE,
                     "safedog": SAFEDOG, "yunsuo": YUNSUO, "btwaf": BTWAF, "btwaf-cc": BTWAF, "wzws": WZWS,
                     "wzws-493": WZWS}
# The name each stop line gives the barrier.
NAMED = {JIASULE: "加速乐", CLOUDFLARE: "Cloudflare", SAFEDOG: "安全狗", YUNSUO: "云锁", BTWAF: "宝塔", WZWS: "360 网站卫士"}
# X's lang_security.php in a traditional-Chinese pack.
TC_TEXTS = {1: ("頻繁刷新限制", "您訪問本站速度過快或者刷新間隔時間小於兩秒！請等待頁面自動跳轉 ..."),
            2: ("代理伺服器訪問限制", "本站現在限制使用代理伺服器訪問，請去除您的代理設置，直接訪問本站。"),
            4: ("頁面重載開啟", "歡迎光臨本站，頁面正在重新載入，請稍候 ...")}
LASTREQUEST_SET = {"Set-Cookie": ["Rk2c_2132_saltkey=a1b2c3d4; expires=Thu, 31-Dec-2026 20:12:34 GMT; path=/; HttpOnly",
                                  "Rk2c_2132_lastrequest=MTIzNDU2; expires=Sat, 12-Dec-2082 20:12:34 GMT; path=/;"
                                  " HttpOnly"]}
PHP8_TRACE = [("forum.php", 57, "C::app()"), ("source/include/misc/misc_security.php", 34, "break")]


# -- recognition ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["X3.5", "7"])
@pytest.mark.parametrize("inajax", [False, True], ids=["page", "inajax"])
def test_the_cc_defence_pages_say_which_check_answered(version, inajax):
    expected = {1: (CC_FLOOD, STATUS_FLOOD), 2: (CC_PROXY, STATUS_BARRIER), 4: (CC_RELOAD, STATUS_FLOOD)}
    for check, (subject, message) in CC_TEXTS.items():
        body = security_page(subject, message, reload=check != 2, inajax=inajax, version=version)
        barrier = recognise(200, body)
        assert (barrier.kind, barrier.status) == expected[check], (check, body[:300])
        # The page's own setTimeout("reload()", 1001); the inajax XML states none and gets the same.
        assert barrier.delay == (0.0 if check == 2 else 1.001)
    question, form = question_form(version)
    barrier = recognise(200, security_page(question, form, reload=False, form=True, inajax=inajax, version=version))
    assert (barrier.kind, barrier.status, barrier.detail) == (CC_QUESTION, STATUS_BARRIER, question)


def test_the_7x_pages_spell_their_texts_as_entities():
    body = security_page(*CC_TEXTS[1], version="7")
    assert b"&#x9891;&#x7e41;&#x5237;&#x65b0;&#x9650;&#x5236;" in body and "频繁".encode() not in body
    assert recognise(200, body).kind == CC_FLOOD


def test_traditional_chinese_and_unknown_language_packs_are_read_by_the_pages_shape():
    for check, kind in ((1, CC_FLOOD), (2, CC_PROXY), (4, CC_RELOAD)):
        assert recognise(200, security_page(*TC_TEXTS[check], reload=check != 2)).kind == kind
    # Words no table knows: a page that reloads itself is reloaded; one that neither reloads nor asks is 2's.
    assert recognise(200, security_page("Refresh limit", "Please wait ...")).kind == CC_RELOAD
    assert recognise(200, security_page("Proxy refused", "No proxies", reload=False)).kind == CC_PROXY


def test_a_gbk_forums_cc_page_is_read_in_its_charset():
    page = security_page(*CC_TEXTS[1]).decode("utf-8").encode("gbk")
    assert recognise(200, page, {"Content-Type": "text/html; charset=gbk"}).kind == CC_FLOOD


def test_php8s_503_for_a_first_request_is_known_by_the_cookie_it_sets():
    body = system_error_page(HOST, "Unsupported operand types: int - string", PHP8_TRACE)
    barrier = recognise(503, body, {"Retry-After": "3600", **LASTREQUEST_SET})
    assert (barrier.kind, barrier.passable, barrier.delay) == (CC_FIRST, True, 1.0)
    # Without the CC defence's cookie it is the forum's own error (confirmed as such: scraper/confirm.py).
    assert recognise(503, body, {"Retry-After": "3600"}) is None
    assert recognise(503, body) is None
    assert recognise(200, body, LASTREQUEST_SET) is None


@pytest.mark.parametrize("name", sorted(FIREWALL_CHALLENGES))
def test_each_firewall_challenge_is_recognised_by_status_markup_and_headers(name):
    status, headers, body = FIREWALL_CHALLENGES[name]
    barrier = recognise(status, body, headers)
    assert barrier.kind == KIND_OF_CHALLENGE[name]
    assert not barrier.passable and barrier.status == STATUS_BARRIER
    assert NAMED[barrier.kind] in barrier.line() and "--cookies" in barrier.line() and "--delay" in barrier.line()


def test_firewalls_known_by_their_headers_alone():
    bare = b"<html><body>Forbidden</body></html>"
    assert recognise(403, bare, {"cf-mitigated": "challenge", "Server": "cloudflare"}).kind == CLOUDFLARE
    assert recognise(521, bare, {"Set-Cookie": "__jsluid_h=0b9bb3e0; path=/"}).kind == JIASULE
    assert recognise(493, bare, {"WZWS-Ray": "1234-1690000000.123"}).kind == WZWS
    assert recognise(403, bare, {"Set-Cookie": "safedog-flow-item=B997255C; path=/"}).kind == SAFEDOG
    assert recognise(403, bare, {"Set-Cookie": "yunsuo_session_verify=1a33; path=/"}).kind == YUNSUO
    # The same products' cookies and headers on the forum's pages, or on their other errors, are no challenge.
    assert recognise(200, bare, {"Set-Cookie": "__jsluid_h=0b9bb3e0; path=/"}) is None
    assert recognise(404, bare, {"Set-Cookie": "safedog-flow-item=B997255C; path=/"}) is None
    assert recognise(200, bare, {"WZWS-Ray": "1234-1690000000.123"}) is None
    assert recognise(200, bare, {"Server": "cloudflare", "CF-RAY": "8a1b2c3d4e5f-HKG"}) is None


def test_errors_that_are_not_challenges_are_left_to_the_crawl():
    # Cloudflare's "Web server is down" (521 from the origin), a plain nginx 403 and 503: HTTP errors, retried or kept.
    origin_down = (b'<!DOCTYPE html><html><head><title>bbs.sample.test | 521: Web server is down</title><link rel="'
                   b'stylesheet" href="/cdn-cgi/styles/cf.errors.css" /></head><body><div id="cf-wrapper"><h1>Web'
                   b' server is down</h1><span class="cf-error-code">521</span></div></body></html>')
    assert recognise(521, origin_down, {"Server": "cloudflare"}) is None
    assert recognise(403, b"<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1>"
                          b"</center><hr><center>nginx</center></body></html>", {"Server": "nginx"}) is None
    assert recognise(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>") is None
    # A web server's own "no such site" page names its panel: a 404, not a block.
    no_site = "<html><head><title>没有找到站点</title></head><body><h1>没有找到站点</h1><p>您的请求在Web服务器中没有找到对应的站点！" \
              "</p><p>宝塔Linux面板</p></body></html>"
    assert recognise(404, no_site.encode("utf-8")) is None
    assert recognise(403, no_site.replace("没有找到站点", "网站防火墙").encode("utf-8")).kind == BTWAF
    assert recognise(200, b"") is None and recognise(None, None) is None


@requires_fixtures
def test_no_page_of_any_capture_is_a_barrier():
    """Every page of every capture (threads quoting anything, error pages, profiles, robots.txt) is the forum's own."""
    pages = [page for folder in whole_site_captures() for page in captured_pages(folder)]
    assert len(pages) > 300
    for page in pages:
        assert recognise(page.status, page.body, {"Content-Type": page.content_type}) is None, page.url


@requires_fixtures
def test_a_forum_page_quoting_a_challenge_is_the_forums_page():
    thread = next(p for p in captured_pages(SITE_F) if "thread-8-1-1" in p.url).body
    quoting = thread.replace(b"</body>", b"<p>Just a moment... window._cf_chl_opt 404.safedog.cn __jsl_clearance"
                                         b" class=\"yunsuologo\" /wzws-waf-cgi/</p></body>")
    assert recognise(200, quoting) is None and recognise(403, quoting, {"cf-mitigated": "challenge"}).kind == CLOUDFLARE


def test_parse_page_reads_them_as_special_pages_that_say_which_barrier():
    """Not 'no Discuz! markup recognised' (an unreadable start page): flood control, or a barrier, named."""
    page = parse_page(START_F, security_page(*CC_TEXTS[4]))
    assert (page.kind, page.status) == (KIND_SPECIAL, STATUS_FLOOD) and "页面重载开启" in page.message
    page = parse_page("http://bbs.sample.test/thread-8-1-1.html", security_page(*CC_TEXTS[1], version="7"))
    assert (page.kind, page.status, page.tid) == (KIND_SPECIAL, STATUS_FLOOD, 8) and "attackevasive 1" in page.message
    page = parse_page(START_F, security_page(*CC_TEXTS[2], reload=False))
    assert page.status == STATUS_BARRIER and "without a proxy" in page.message
    for name, (status, _, body) in FIREWALL_CHALLENGES.items():
        page = parse_page(START_F, body, http_status=status)
        assert (page.kind, page.status) == (KIND_SPECIAL, STATUS_BARRIER), name
        assert NAMED[KIND_OF_CHALLENGE[name]] in page.message


# -- the middleware --------------------------------------------------------------------------------------------------
class _Downloader:
    """What BarrierMiddleware uses of Scrapy's downloader: its slots, DOWNLOAD_SLOTS and the slot key."""

    def __init__(self):
        self.slots = {HOST: Slot(4, 0.25, 0.5), "other.example": Slot(4, 0.25, 0.5)}
        self.per_slot_settings = {}

    def get_slot_key(self, request):
        return request.meta.get("download_slot") or urlsplit(request.url).hostname


def _middleware(**settings):
    crawler = get_crawler(Spider, settings_dict=settings)
    closed = []

    def close_spider_async(reason):  # the engine's is a coroutine; nothing here to await
        closed.append(reason)

    crawler.engine = SimpleNamespace(downloader=_Downloader(), close_spider_async=close_spider_async, closed=closed)
    return BarrierMiddleware.from_crawler(crawler), crawler


def _answer(url, body, status=200, headers=None, meta=None):
    request = Request(url, meta=dict(meta or {}), priority=20)
    return request, HtmlResponse(url, status=status, headers=headers or {}, body=body, request=request)


def test_a_reload_page_is_fetched_again_after_its_own_delay_once_per_visit():
    middleware, crawler = _middleware()
    request, response = _answer(START_F, security_page(*CC_TEXTS[4]), meta={"start": True})
    again = middleware.process_response(request, response)
    assert isinstance(again, Request) and again.url == START_F and again.dont_filter and again.priority == 20
    assert again.meta["start"] and again.meta[RELOADED_META] and again.meta[CC_ANSWERS_META] == 1
    assert 0.9 < again.meta[NOT_BEFORE_META] - time.time() <= 1.001
    assert crawler.stats.get_value(STAT_RELOADS) == 1 and not middleware.slowed
    # Asked to reload again on the reload (the cookie did not pass): taken for the one-second check.
    third = middleware.process_response(again, HtmlResponse(START_F, body=security_page(*CC_TEXTS[4]), request=again))
    assert isinstance(third, Request) and middleware.slowed == {HOST}


def test_too_fast_slows_that_host_to_one_request_a_second_for_the_rest_of_the_crawl():
    middleware, crawler = _middleware()
    downloader = crawler.engine.downloader
    request, response = _answer("http://bbs.sample.test/thread-8-1-1.html", security_page(*CC_TEXTS[1]),
                                meta={"download_slot": HOST, "identity": ("viewthread", 8, 1)})
    again = middleware.process_response(request, response)
    assert isinstance(again, Request) and again.meta["identity"] == ("viewthread", 8, 1)
    slot = downloader.slots[HOST]
    assert (slot.concurrency, slot.delay, slot.jitter) == (1, 1.1, 0.0)
    assert downloader.per_slot_settings[HOST] == {"concurrency": 1, "delay": 1.1, "jitter": 0.0}  # a slot made anew
    assert crawler.stats.get_value(STAT_SLOWED) == [HOST] and crawler.stats.get_value(STAT_REFUSED) == 1
    assert downloader.slots["other.example"].delay == 0.25  # other hosts keep their pace
    # AutoThrottle or the spider lowering the delay is undone before the slot lets its next request go.
    slot.delay, slot.concurrency = 0.3, 4
    middleware._response_downloaded(response, request)
    assert (slot.concurrency, slot.delay) == (1, 1.1)
    slot.delay = 0.3
    later = Request("http://bbs.sample.test/thread-9-1-1.html")
    assert middleware.process_request(later) is None
    assert slot.delay == 1.1 and later.meta["autothrottle_dont_adjust_delay"] is True


def test_the_refusal_slows_the_host_as_soon_as_it_is_downloaded():
    """Before the slot lets its next request go (the same turn): else the request behind it is refused as well."""
    middleware, crawler = _middleware()
    request, response = _answer("http://bbs.sample.test/thread-8-1-1.html", security_page(*CC_TEXTS[1]),
                                meta={"download_slot": HOST})
    middleware._response_downloaded(response, request)
    assert middleware.slowed == {HOST} and crawler.engine.downloader.slots[HOST].delay == 1.1
    # A reload page on a first visit is no refusal: the pace stays.
    middleware, crawler = _middleware()
    request, response = _answer(START_F, security_page(*CC_TEXTS[4]), meta={"download_slot": HOST})
    middleware._response_downloaded(response, request)
    assert not middleware.slowed and crawler.engine.downloader.slots[HOST].delay == 0.25


def test_a_challenge_stops_the_crawl_as_soon_as_it_is_downloaded():
    middleware, crawler = _middleware()
    status, headers, body = FIREWALL_CHALLENGES["jiasule"]
    request, response = _answer(START_F, body, status=status, headers=headers, meta={"download_slot": HOST})
    middleware._response_downloaded(response, request)
    assert middleware.stopped.kind == JIASULE and crawler.engine.closed == ["barrier"]
    assert "加速乐" in crawler.stats.get_value(STAT_BARRIER)


def test_the_spider_does_not_speed_a_slowed_host_up_again():
    """Without AutoThrottle the spider halves a delay flood pages raised, but not below the slot's own delay."""
    crawler = get_crawler(SiteSpider, settings_dict={"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0})
    downloader = _Downloader()
    downloader.slots[HOST].delay = 4.4
    downloader.per_slot_settings[HOST] = {"concurrency": 1, "delay": 1.1, "jitter": 0.0}
    crawler.engine = SimpleNamespace(downloader=downloader)
    spider = SiteSpider(start_url=START_F)
    spider.crawler = crawler
    response = HtmlResponse(START_F, body=b"<html></html>", request=Request(START_F, meta={"download_slot": HOST}))
    for _ in range(4):
        spider._speed_up(response)
    assert downloader.slots[HOST].delay == 1.1


def test_php8s_first_request_503_is_fetched_again_after_a_second_not_an_hour_nor_at_once():
    middleware, _ = _middleware()
    body = system_error_page(HOST, "Unsupported operand types: int - string", PHP8_TRACE)
    request, response = _answer(START_F, body, status=503, headers={"Retry-After": "3600", **LASTREQUEST_SET})
    again = middleware.process_response(request, response)
    assert isinstance(again, Request) and 0.9 < again.meta[NOT_BEFORE_META] - time.time() <= 1.0
    assert middleware.slowed == {HOST}
    # The same page without the defence's cookie: the forum's own error, for the retry and confirmation logic.
    request, response = _answer(START_F, body, status=503, headers={"Retry-After": "3600"})
    assert middleware.process_response(request, response) is response


def test_a_visit_gets_a_bounded_number_of_answers_of_the_defence():
    middleware, _ = _middleware()
    request, response = _answer(START_F, security_page(*CC_TEXTS[1]), meta={CC_ANSWERS_META: 3})
    assert middleware.process_response(request, response) is response  # the spider reads it as flood control


def test_a_barrier_goes_to_the_spider_unretried_and_nothing_more_is_sent():
    middleware, crawler = _middleware()
    waiting = Deferred()
    queued = Request("http://bbs.sample.test/thread-9-1-1.html")
    crawler.engine.downloader.slots[HOST].queue.append((queued, waiting))
    failures = []
    waiting.addErrback(failures.append)
    status, headers, body = FIREWALL_CHALLENGES["cloudflare-503"]
    request, response = _answer(START_F, body, status=status, headers=headers)
    assert middleware.process_response(request, response) is response
    assert request.meta[BARRIER_META].kind == CLOUDFLARE
    assert request.meta["dont_retry"] and request.meta["handle_httpstatus_all"]  # not retried, not an HTTP error
    assert failures and failures[0].check(StoppedAtBarrier)  # the request that waited for a transfer place
    assert crawler.engine.closed == ["barrier"] and "Cloudflare" in crawler.stats.get_value(STAT_BARRIER)
    with pytest.raises(StoppedAtBarrier):
        middleware.process_request(Request("http://bbs.sample.test/thread-10-1-1.html"))


@requires_fixtures
def test_the_forums_own_answers_pass_untouched():
    middleware, crawler = _middleware()
    for page in captured_pages(SITE_F):
        request, response = _answer(page.url, page.body, status=page.status,
                                    headers={"Content-Type": page.content_type})
        assert middleware.process_response(request, response) is response
        assert BARRIER_META not in request.meta
    assert not middleware.slowed and crawler.stats.get_value(STAT_REFUSED) is None


# -- crawls stopped at a barrier -------------------------------------------------------------------------------------
def _stop_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("  stopped:")]


def _rows(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def archived_f(tmp_path_factory):
    """Capture F crawled once, whole: the archive later crawls meet a barrier on."""
    db = tmp_path_factory.mktemp("f") / "f.db"
    with ReplayServer(SITE_F, exact=True) as server:
        result = run_cli(*fast("crawl", START_F, "--db", str(db)), proxy=server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def _assert_nothing_gone(db, crawl_id):
    assert _rows(db, "SELECT count(*) FROM post_absences") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM posts WHERE status IN ('deleted', 'hidden')") == [(0,)]
    assert set(_rows(db, "SELECT DISTINCT status FROM threads")) <= {("ok",)}
    assert _rows(db, f"SELECT count(*) FROM errors WHERE crawl_id = {crawl_id}") == [(0,)]  # not the forum's error


@requires_fixtures
@pytest.mark.parametrize("name", sorted(FIREWALL_CHALLENGES))
def test_a_firewall_stops_the_crawl_at_once_with_one_line_that_says_what_to_do(name, tmp_path):
    db = tmp_path / "a.db"
    with ChallengeReplayServer(SITE_F, name, exact=True) as server:
        result = run_cli(*fast("crawl", START_F, "--db", str(db)), proxy=server.url)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = _stop_lines(result)
    assert len(lines) == 1 and NAMED[KIND_OF_CHALLENGE[name]] in lines[0], result.stdout
    assert "--cookies" in lines[0] and "--delay" in lines[0]
    assert "Traceback" not in result.stderr
    assert server.challenges <= 2  # robots.txt and the start page: nothing more was sent into it
    assert _rows(db, "SELECT count(*) FROM posts") == [(0,)]
    assert _rows(db, "SELECT status FROM crawls") == [("failed",)]
    _assert_nothing_gone(db, 1)


@requires_fixtures
def test_a_firewall_in_the_middle_of_a_full_recrawl_marks_nothing_gone(archived_f, tmp_path):
    db = tmp_path / "again.db"
    db.write_bytes(archived_f.read_bytes())
    with ChallengeReplayServer(SITE_F, "cloudflare", after=12, exact=True) as server:
        result = run_cli(*fast("crawl", START_F, "--db", str(db), "--full"), proxy=server.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(_stop_lines(result)) == 1 and "Cloudflare" in _stop_lines(result)[0]
    # The requests in flight when the first came back (CONCURRENT_REQUESTS_PER_DOMAIN), and nothing after them.
    assert 1 <= server.challenges <= 4, server.challenges
    assert _rows(db, "SELECT count(*) FROM posts") == [(156,)]
    _assert_nothing_gone(db, 2)


@requires_fixtures
@pytest.mark.parametrize("check, words", [("2", ("代理服务器访问限制", "without a proxy")),
                                          ("8", ("question", "--cookies"))])
def test_the_cc_defences_proxy_ban_and_question_stop_the_crawl(check, words, archived_f, tmp_path):
    """``2`` (requests through a proxy, here one that adds Via) and ``8`` (a question for a person): one line, exit 1,
    on a first crawl and on a re-crawl of an archive (nothing marked gone)."""
    for db in (tmp_path / "new.db", tmp_path / "again.db"):
        if db.name == "again.db":
            db.write_bytes(archived_f.read_bytes())
        with CCDefenceServer(SITE_F, attackevasive=f"1|4|{check}", via_proxy=True, exact=True) as server:
            result = run_cli(*fast("crawl", START_F, "--db", str(db), "--full"), proxy=server.url)
        assert result.returncode == 1, result.stdout + result.stderr
        lines = _stop_lines(result)
        assert len(lines) == 1 and all(word in lines[0] for word in words), result.stdout
        assert f"attackevasive {check}" in lines[0] and "Traceback" not in result.stderr
        assert server.answers[check] == 1 and server.answers["page"] == 0  # the start page's answer, nothing more
        _assert_nothing_gone(db, 2 if db.name == "again.db" else 1)
