"""The activity and trade readers (scraper/parsers/activities.py, trades.py), the goods page (do=tradeinfo) and how
the crawler reaches it: real captures against database truth, and markup written from the templates for what the
captures lack.

Truth: ``activity`` and ``trade`` in expected.json of discuz-x35-utf8-g (activity tid 153 with 8 applicants, 6
approved; trade tid 149, goods post pid 2225), its Traditional-Chinese twin discuz-x35-utf8-g-tc, and
discuz-70-utf8-k (activity tid 15, ``applicants_shown``; trade tid 6 with two goods, pids 82/83, both goods pages
captured). The unit markup follows X3.5 ``template/default/forum/viewthread_activity.htm``,
``viewthread_trade.htm``, ``trade_info.htm`` and 7.0 ``templates/default/viewthread_activity*.htm``,
``viewthread_trade.htm``, ``trade_info.htm``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from twisted.python.failure import Failure

from archive.changes import page_shows_posts_in_full
from pipelines.normalise import normalise_page
from scraper.items import KIND_TRADEINFO, KIND_VIEWTHREAD, ParsedPage, Post, Thread
from scraper.parsers import parse_page
from scraper.parsers.activities import read_activities
from scraper.parsers.extras import FAMILY_7X, FAMILY_X, ThreadContext, post_containers
from scraper.parsers.labels import simplified, traditional
from scraper.parsers.trades import is_tradeinfo_url, read_trades
from scraper.urls import classify

from .conftest import FIXTURES, captured_pages, expected
from .ground_truth import bbcode_text
from .test_spider import respond, spider_for

G = FIXTURES / "discuz-x35-utf8-g"
G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
K = FIXTURES / "discuz-70-utf8-k"
SITES = [pytest.param(G, id="G"), pytest.param(G_TC, id="G-tc"), pytest.param(K, id="K")]
needs_sites = pytest.mark.skipif(not all((s / "expected.json").exists() for s in (G, G_TC, K)),
                                 reason="fixtures discuz-x35-utf8-g(-tc) / discuz-70-utf8-k missing")

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 3, 55, 10, tzinfo=timezone.utc)  # 11:55:10 in UTC+8
DATE = "Wed, 25 Nov 2026 03:55:10 GMT"


# --- real captures -----------------------------------------------------------------------------------

def captured(folder, url: str):
    """(the page at ``url`` as the crawl met it, parsed; the capture's Date)."""
    [page] = [p for p in captured_pages(folder) if p.url == url]
    return parse_page(page.url, page.body, content_type=page.content_type, http_status=page.status,
                      date_header=page.date), page


def site_root(folder) -> str:
    return "http://bbs.k7.test/" if folder == K else "http://bbs.zigong.test/"


def thread_page_1(folder, tid):
    return captured(folder, f"{site_root(folder)}thread-{tid}-1-1.html")[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def to_minute(text: str) -> datetime:
    return at(text).replace(second=0)


@needs_sites
@pytest.mark.parametrize("folder", SITES)
def test_activity_box_holds_what_the_database_has(folder):
    [truth] = expected(folder)["activity"]
    page = thread_page_1(folder, truth["tid"])
    [activity] = page.activities
    assert (activity.status, activity.missing) == ("ok", [])
    assert activity.tid == truth["tid"]
    assert activity.class_name == truth["class"]
    assert activity.place == truth["place"]
    assert (activity.starts_at, activity.ends_at) == (at(truth["starttime"]), at(truth["endtime"]))
    assert simplified(activity.time_text).endswith(" 商定")  # FROM 至 TO 商定 (activity_start_between)
    assert activity.expires_at == at(truth["expiration"])
    assert activity.cost == truth["cost"]
    assert activity.gender == {0: "不限", 1: "男", 2: "女"}[truth["gender"]]
    # 已报名人数 / 已通过: the approved applicants (forum_activity.applynumber); the places, rebuilt from 剩余名额.
    assert activity.applicants == truth["applynumber"]
    assert activity.number == truth["number"]
    assert activity.remaining == truth["number"] - truth["applynumber"]
    assert next(t for t in page.threads if t.tid == truth["tid"]).special == "activity"
    assert "activity" not in page.missing


@needs_sites
@pytest.mark.parametrize("folder", [pytest.param(G, id="G"), pytest.param(G_TC, id="G-tc")])
def test_x3_guests_see_approved_and_pending_applicants_with_their_notes_and_times(folder):
    [truth] = expected(folder)["activity"]
    [activity] = thread_page_1(folder, truth["tid"]).activities
    # X3.5 lists the approved (已通过) with their notes, and those awaiting approval (暂未通过) without.
    assert {(a.uid, a.username, a.verified, a.message) for a in activity.applicant_list} == {
        (a["uid"], a["username"], bool(a["verified"]), (a["message"] or None) if a["verified"] else None)
        for a in truth["applicants"]}
    # 申请时间 is shown relative (4 天前), its minute exact in the span's title.
    assert {a.uid: a.applied_at for a in activity.applicant_list} == {
        a["uid"]: to_minute(a["dateline"]) for a in truth["applicants"]}
    assert all(a.applied_at_text == "4 天前" for a in activity.applicant_list)
    # 已报名人数 (8) counts the pending too: they are said apart.
    assert activity.pending == sum(1 for a in truth["applicants"] if not a["verified"])


@needs_sites
def test_7x_guests_see_the_approved_applicants_in_the_pages_order():
    [truth] = expected(K)["activity"]
    [activity] = thread_page_1(K, truth["tid"]).activities
    by_uid = {a["uid"]: a for a in truth["applicants"]}
    assert [a.uid for a in activity.applicant_list] == truth["applicants_shown"]
    for applicant in activity.applicant_list:
        want = by_uid[applicant.uid]
        assert (applicant.username, applicant.verified, applicant.message) == (
            want["username"], True, want["message"] or None)
        assert applicant.applied_at == to_minute(want["dateline"])
    assert activity.pending is None  # 7.x shows the pending only to the thread's author


@needs_sites
@pytest.mark.parametrize("folder", SITES)
def test_trade_thread_page_has_one_trade_per_goods_box(folder):
    truth = expected(folder)["trade"]
    tid = truth[0]["tid"]
    page = thread_page_1(folder, tid)
    attachments = {a["aid"]: a for a in expected(folder)["attachments"]}
    assert [t.pid for t in page.trades] == [t["pid"] for t in truth]
    for trade, want in zip(page.trades, truth):
        assert (trade.status, trade.missing) == ("ok", [])
        assert (trade.tid, trade.item) == (want["tid"], want["item"])
        assert (trade.price, trade.cost_price, trade.credit_price) == (
            float(want["price"]), float(want["costprice"]), None)
        assert (trade.seller, trade.seller_uid) == (want["seller"], want["sellerid"])
        assert trade.url == want["goods_post"]["url"]
        assert trade.image_url == (attachments[want["aid"]]["url"] if want["aid"] else None)
        # X shows 全新/二手 in the box; 7.x only on the goods page.
        assert trade.quality == (want["quality_name"] if folder != K else None)
        assert trade.expires_at is None and trade.expires_at_text is None  # goods that never expire
    assert next(t for t in page.threads if t.tid == tid).special == "trade"
    # The goods posts are not floors: the page's posts are the thread's own.
    assert not {t["pid"] for t in truth} & {p.pid for p in page.posts}
    # The boxes lead to the goods pages, as their own kind, never as another spelling of the thread's page 1.
    assert [(link.kind, link.id, link.url) for link in page.links if "tradeinfo" in link.url] == [
        (KIND_TRADEINFO, t["pid"], t["goods_post"]["url"]) for t in truth]


@needs_sites
@pytest.mark.parametrize("folder", SITES)
def test_goods_page_carries_the_goods_posts_own_text_and_every_fact_it_shows(folder):
    attachments = {a["aid"]: a for a in expected(folder)["attachments"]}
    for want in expected(folder)["trade"]:
        url = want["goods_post"]["url"]
        page, _ = captured(folder, url)
        assert (page.kind, page.status, page.tid, page.page) == (KIND_TRADEINFO, "ok", want["tid"], None)
        assert page.posts == [] and page.threads == []
        [trade] = page.trades
        assert (trade.status, trade.missing) == ("ok", [])
        assert (trade.tid, trade.pid, trade.item, trade.url) == (want["tid"], want["pid"], want["item"], url)
        assert trade.content_text == bbcode_text(want["goods_post"]["message_bbcode"])
        assert trade.content_html.replace("<br>", "").replace("\n", "") == trade.content_text.replace("\n", "")
        assert (trade.price, trade.cost_price) == (float(want["price"]), float(want["costprice"]))
        assert (trade.amount, trade.locus, trade.quality, trade.sold) == (
            want["amount"], want["locus"], want["quality_name"], 0)
        shown = simplified(trade.transport)
        if want["transport"] == 1:
            assert shown == "卖家承担运费"
        else:  # buyer pays: the fees offered, or 无运费 when none is set
            assert shown == "无运费" or shown.startswith(("快递", "平邮", "EMS"))
        assert trade.image_url == (attachments[want["aid"]]["url"] if want["aid"] else None)
        # X names the seller (and links the profile) above the goods; 7.x does not.
        assert (trade.seller, trade.seller_uid) == ((None, None) if folder == K else (want["seller"], want["sellerid"]))


@needs_sites
def test_g_goods_page_transport_shows_the_express_fee():
    page, _ = captured(G, expected(G)["trade"][0]["goods_post"]["url"])
    assert page.trades[0].transport == "快递 12 元"


@needs_sites
@pytest.mark.parametrize("folder", SITES)
def test_goods_page_is_never_a_thread_page_and_proves_no_post_gone(folder):
    url = expected(folder)["trade"][0]["goods_post"]["url"]
    page, raw = captured(folder, url)
    assert is_tradeinfo_url(url) and classify(url).kind == "other"
    record = normalise_page(page)
    assert record.rows["thread_pages"] == [] and record.thread_view is None and record.states == {}
    assert not page_shows_posts_in_full(record)
    # The same URL answering with an error page says nothing about the thread either.
    error = parse_page(url, "<html><body><div id=\"messagetext\" class=\"alert_error\"><p>抱歉，指定的主题不存在或已被删除"
                            "或正在被审核</p></div></body></html>".encode("utf-8"), content_type="text/html; charset=utf-8")
    assert (error.kind, error.status, error.tid) == ("special", "not_found", None)
    assert normalise_page(error).states == {}


@needs_sites
def test_thread_pages_without_the_boxes_yield_neither():
    page = thread_page_1(G, 137)  # the poll thread
    assert page.activities == [] and page.trades == []
    assert next(t for t in page.threads if t.tid == 137).special != "activity"


# --- the crawler ---------------------------------------------------------------------------------------

@needs_sites
@pytest.mark.parametrize("folder, start", [pytest.param(G, "http://bbs.zigong.test/forum.php", id="G"),
                                           pytest.param(K, "http://bbs.k7.test/index.php", id="K")])
def test_spider_follows_each_goods_box_to_its_goods_page_once(tmp_path, folder, start):
    spider = spider_for(start, tmp_path)
    truth = expected(folder)["trade"]
    thread_url = f"{site_root(folder)}thread-{truth[0]['tid']}-1-1.html"
    body = next(p.body for p in captured_pages(folder) if p.url == thread_url)
    out = list(spider.parse(respond(thread_url, body)))
    goods = [r for r in out if isinstance(r, Request) and "tradeinfo" in r.url]
    assert [(r.url, r.meta["identity"], r.priority) for r in goods] == [
        (t["goods_post"]["url"], (KIND_TRADEINFO, t["pid"], 1), 30) for t in truth]
    # The thread page fetched again (another spelling) asks for none of them twice.
    again = list(spider.parse(respond(f"{site_root(folder)}forum.php?mod=viewthread&tid={truth[0]['tid']}", body)))
    assert not [r for r in again if isinstance(r, Request) and "tradeinfo" in r.url]
    # The goods page itself becomes the item (with its text) and leads nowhere.
    request = goods[0]
    page_body = next(p.body for p in captured_pages(folder) if p.url == request.url)
    before = set(spider.archived)
    out = list(spider.parse(respond(request.url, page_body, request)))
    assert [type(o) for o in out] == [ParsedPage]
    assert out[0].kind == KIND_TRADEINFO and out[0].trades[0].content_text
    # Archived as the goods page it is, not as (another spelling of) the thread's page 1.
    assert spider.archived - before == {(KIND_TRADEINFO, truth[0]["pid"], 1)}


def test_goods_page_forbidden_by_robots_is_counted_like_any_page(tmp_path):
    spider = spider_for("http://bbs.test/forum.php", tmp_path)
    request = Request("http://bbs.test/forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=75",
                      meta={"identity": (KIND_TRADEINFO, 75, 1), "link": None})
    failure = Failure(IgnoreRequest("Forbidden by robots.txt"))
    failure.request = request
    assert list(spider.on_error(failure)) == []
    assert (KIND_TRADEINFO, 75, 1) in spider.robots_forbidden


# --- markup written from the templates ------------------------------------------------------------------

BASE = "http://bbs.test/forum.php?mod=viewthread&tid=7"


def read_first_post(box_html: str, *, family: str = FAMILY_X, now: datetime | None = NOW, after: str = "",
                    wrap_7x: bool = False) -> ParsedPage:
    """Run both readers on a first post (pid 70, by 卖家甲 uid 5) holding ``box_html`` (X: beside the message in
    div.pcbs; 7.x: in div.postmessage before div.specialmsg, which holds the message and ``after``)."""
    if wrap_7x:
        inner = f"""<div class="postmessage firstpost">{box_html}<div class="specialmsg"><table cellspacing="0"
cellpadding="0"><tr><td class="t_msgfont" id="postmessage_70">正文</td></tr></table>{after}</div></div>"""
    else:
        inner = f"""<div class="pct"><div class="pcb"><div class="pcbs">{box_html}<table cellspacing="0"
cellpadding="0"><tr><td class="t_f" id="postmessage_70">正文</td></tr></table>{after}</div></div></div>"""
    html = f"""<html><head><meta charset="utf-8"></head><body><div id="postlist">
<div id="post_70"><table id="pid70"><tr><td class="plc">{inner}</td></tr></table></div>
<div id="post_71"><table id="pid71"><tr><td class="t_f" id="postmessage_71">第二楼</td></tr></table></div>
</div></body></html>"""
    root = etree.HTML(html.encode("utf-8"))
    page = ParsedPage(url=BASE, kind=KIND_VIEWTHREAD, tid=7, page=1, threads=[Thread(tid=7)],
                      posts=[Post(pid=70, tid=7, floor=1, is_first=True, author="卖家甲", author_uid=5),
                             Post(pid=71, tid=7, floor=2)])
    ctx = ThreadContext(url=BASE, tid=7, family=family, now=now, tz=CST, posts=post_containers(root))
    read_activities(page, root, ctx)
    read_trades(page, root, ctx)
    return page


def _later_page(floors: tuple[int | None, int | None]) -> tuple[ParsedPage, etree._Element, ThreadContext]:
    """Two posts (pid 70 holding an activity box, 71) with the floors given and neither read as the first."""
    rows = "<dt>活动类型:</dt><dd><strong>聚会</strong></dd><dt>活动地点:</dt><dd>彩灯公园</dd>"
    html = f"""<html><head><meta charset="utf-8"></head><body><div id="postlist"><div id="post_70"><table
id="pid70"><tr><td class="plc"><div class="pct"><div class="pcb"><div class="pcbs">{x3_activity(rows)}<table><tr>
<td class="t_f" id="postmessage_70">正文</td></tr></table></div></div></div></td></tr></table></div><div
id="post_71"><table id="pid71"><tr><td class="t_f" id="postmessage_71">楼下</td></tr></table></div></div></body></html>"""
    root = etree.HTML(html.encode("utf-8"))
    page = ParsedPage(url=BASE + "&page=2", kind=KIND_VIEWTHREAD, tid=7, page=2, threads=[Thread(tid=7)],
                      posts=[Post(pid=70, tid=7, floor=floors[0]), Post(pid=71, tid=7, floor=floors[1])])
    return page, root, ThreadContext(url=page.url, tid=7, posts=post_containers(root))


def test_a_later_page_whose_posts_show_their_floors_has_no_opening_post_to_walk_for_boxes():
    # The templates print a special thread's box in the opening post only (viewthread_node: $post['first']): a
    # page whose every post shows a floor, none the first, holds none, and no post is walked for one.
    page, root, ctx = _later_page((9, 10))
    assert ctx.opening_posts(page) == []
    read_activities(page, root, ctx)
    assert page.activities == [] and ctx.facts(page, 70).classes is None
    # A theme that hides the floors: any post may be the opening one, each is walked (and the box found).
    for floors in ((None, None), (None, 10)):
        page, root, ctx = _later_page(floors)
        assert [pid for pid, _ in ctx.opening_posts(page)] == [70, 71]
        read_activities(page, root, ctx)
        assert [a.class_name for a in page.activities] == ["聚会"]


@needs_sites
@pytest.mark.parametrize("folder", SITES)
def test_the_captures_later_thread_pages_have_no_opening_post(folder):
    later = [p for p in captured_pages(folder) if p.status == 200 and classify(p.url).kind == KIND_VIEWTHREAD
             and (classify(p.url).page or 1) > 1]
    assert later
    for captured_page in later:
        page = parse_page(captured_page.url, captured_page.body, content_type=captured_page.content_type,
                          date_header=captured_page.date)
        if not page.posts:
            continue
        assert all(post.floor is not None and post.floor > 1 for post in page.posts), captured_page.url
        root = etree.HTML(captured_page.body)
        ctx = ThreadContext(url=page.url, tid=page.tid, posts=post_containers(root, [p.pid for p in page.posts]))
        assert ctx.opening_posts(page) == []


def x3_activity(rows: str, nums: str = "") -> str:
    return f"""<div class="act pbm cl"><div class="spvimg">
<a href="javascript:;"><img src="data/attachment/forum/202611/01/act.jpg.thumb.jpg"
 onclick="zoom(this, 'data/attachment/forum/202611/01/act.jpg')" width="300" /></a></div>
<div class="spi"><dl>{rows}</dl>{nums}</div></div>"""


def test_x3_activity_starting_yesterday_without_cost_or_place_limit():
    # dgmdate(…, 'u'): a start within the last week is relative, its exact time in the span's title; no 每人花销
    # row (free) and no 剩余名额 row (no limit on places); nobody approved yet, one application pending.
    rows = """<dt>活动类型:</dt><dd><strong>聚会</strong></dd>
<dt>开始时间:</dt><dd><span title="2026-11-24 19:30">昨天&nbsp;19:30</span></dd>
<dt>活动地点:</dt><dd>彩灯公园</dd><dt>性别:</dt><dd>女</dd>"""
    nums = '<dl class="nums mtw"><dt>已报名人数:</dt><dd><em>1</em> 人</dd></dl><dl><dt></dt><dd></dd></dl>'
    pending = """<div class="ptm pbm xs1"><h2>暂未通过 (1 人)</h2><table class="dt"><tr><th width="140">&nbsp;</th>
<th>留言</th><th width="110">申请时间</th></tr><tr><td>
<a target="_blank" href="home.php?mod=space&amp;uid=90" class="ratl vm"><img src="avatar.php?uid=90" /></a>
<a target="_blank" href="home.php?mod=space&amp;uid=90">荣州学子</a></td><td></td>
<td><span title="2026-11-25 09:12">2&nbsp;小时前</span></td></tr></table></div>"""
    [activity] = read_first_post(x3_activity(rows, nums), after=pending).activities
    assert (activity.status, activity.class_name, activity.place, activity.gender) == ("ok", "聚会", "彩灯公园", "女")
    assert (activity.starts_at_text, activity.starts_at) == ("昨天 19:30", datetime(2026, 11, 24, 19, 30, tzinfo=CST))
    assert activity.ends_at is None and activity.expires_at is None
    assert (activity.cost, activity.number, activity.applicants, activity.pending) == (0, 0, 0, 1)
    assert activity.image_url == "http://bbs.test/data/attachment/forum/202611/01/act.jpg"
    [applicant] = activity.applicant_list
    assert (applicant.uid, applicant.username, applicant.verified, applicant.message) == (90, "荣州学子", False, None)
    assert applicant.applied_at == datetime(2026, 11, 25, 9, 12, tzinfo=CST)


def test_x3_full_activity_keeps_the_places_unknown_and_reads_the_approved_list_heading():
    rows = """<dt>活动类型:</dt><dd><strong>户外</strong></dd>
<dt>开始时间:</dt><dd>2026-12-1 08:00 至 2026-12-1 18:00 商定</dd><dt>活动地点:</dt><dd>荣县</dd>
<dt>性别:</dt><dd> 男</dd><dt>每人花销:</dt><dd>80 元</dd>"""
    nums = """<dl class="nums mtw"><dt>已报名人数:</dt><dd><em>12</em> 人</dd></dl>
<dl><dt>剩余名额:</dt><dd>0 人</dd><dt>报名截止:</dt><dd>2026-11-30 20:00</dd></dl>"""
    approved = """<div class="ptm pbm xs1" id="applylist_7"><h2>已通过 (12 人)</h2><table class="dt"><tr>
<th width="140">&nbsp;</th><th>留言</th><th width="60">每人花销</th><th width="110">申请时间</th></tr><tr><td>
<a href="home.php?mod=space&amp;uid=41" class="ratl vm"><img src="a.php" /></a>
<a href="home.php?mod=space&amp;uid=41">恐龙迷小刘</a></td><td><p>带两个人</p></td><td>80 元</td>
<td>2026-11-20 10:17</td></tr></table>
<div class="pgs mbm cl"><div class="pg"><a class="nxt" href="javascript:;">下一页</a></div></div></div>"""
    [activity] = read_first_post(x3_activity(rows, nums), after=approved).activities
    assert (activity.starts_at, activity.ends_at) == (datetime(2026, 12, 1, 8, tzinfo=CST),
                                                      datetime(2026, 12, 1, 18, tzinfo=CST))
    assert (activity.cost, activity.gender, activity.applicants, activity.pending) == (80, "男", 12, 0)
    # 剩余名额 0: full, and max(places − approved, 0) no longer tells how many places there were.
    assert (activity.remaining, activity.number) == (0, None)
    assert activity.expires_at == datetime(2026, 11, 30, 20, tzinfo=CST)
    [applicant] = activity.applicant_list
    assert (applicant.uid, applicant.message, applicant.verified, applicant.applied_at) == (
        41, "带两个人", True, datetime(2026, 11, 20, 10, 17, tzinfo=CST))


def test_activity_box_missing_its_place_is_kept_partial():
    rows = '<dt>活动类型:</dt><dd><strong>聚会</strong></dd><dt>开始时间:</dt><dd>2026-12-1 08:00</dd>'
    nums = '<dl class="nums mtw"><dt>已报名人数:</dt><dd><em>0</em> 人</dd></dl>'
    [activity] = read_first_post(x3_activity(rows, nums)).activities
    assert (activity.status, activity.missing) == ("partial", ["place"])
    assert activity.class_name == "聚会" and activity.applicants == 0


def x7_activity(cls: str, rows: str) -> str:
    return f"""<div class="activity_info"><table summary="活动信息" cellpadding="0" cellspacing="0" class="formtable">
<tr><th><strong>{cls}</strong></th><td></td></tr>{rows}</table></div>"""


def test_7x_activity_as_its_author_sees_it_lists_the_pending_with_contact_and_actions():
    rows = """<tr><th>开始时间</th><td>2026-12-01 09:00</td></tr><tr><th>活动地点</th><td>龙门石窟</td></tr>
<tr><th>每人花销</th><td>0 元</td></tr><tr><th>性别</th><td> 不限</td></tr>"""
    after = """<hr class="dashline" /><table summary="活动信息" cellpadding="0" cellspacing="0" class="formtable"><tr>
<th>已报名人数:</th><td class="actnum">1 人</td><td class="actctrl"><a href="misc.php?action=activityapplylist">查看</a>
</td><td rowspan="2"></td></tr></table>
<hr class="dashline"/><h4 class="avt_title">最新报名会员</h4><ul class="avt_list s_clear">
<li onmouseover="showMenu(this.id,false,2,2)" id="aplayuid21"><a target="_blank" href="space.php?uid=21"><img
 src="avatar.php?uid=21" /></a><p><a target="_blank" href="space.php?uid=21">伊川老乡</a></p></li>
<div class="attach_popup" id="aplayuid21_menu" style="display: none"><div class="cornerlayger">
<p>QQ 12345</p><p>周六要加班</p><p>20 元</p><p>2026-11-20 19:59</p>
<p><a href="misc.php?action=activityapplylist&amp;uid=21">确认</a> | <a href="misc.php">删除</a></p></div></div></ul>
<hr class="dashline"/><h4 class="avt_title">最新参加会员</h4><ul class="avt_list s_clear">
<li onmouseover="showMenu(this.id,false,2)" id="aplayuid9"><a target="_blank" href="space.php?uid=9"><img
 src="avatar.php?uid=9" /></a><p><a target="_blank" href="space.php?uid=9">龙门看山</a></p></li>
<div class="attach_popup" id="aplayuid9_menu" style="display: none"><div class="cornerlayger">
<p>QQ 999</p><p></p><p>自付</p><p>2026-11-20 13:18</p></div></div></ul>"""
    [activity] = read_first_post(x7_activity("观光", rows), family=FAMILY_7X, after=after, wrap_7x=True).activities
    assert (activity.status, activity.class_name, activity.place, activity.cost) == ("ok", "观光", "龙门石窟", 0)
    assert activity.starts_at == datetime(2026, 12, 1, 9, tzinfo=CST) and activity.ends_at is None
    # No 剩余名额 row: places are not limited; 7.x's 已报名人数 is the approved alone.
    assert (activity.applicants, activity.number, activity.remaining) == (1, 0, None)
    assert [(a.uid, a.username, a.verified, a.message, a.applied_at) for a in activity.applicant_list] == [
        (21, "伊川老乡", False, "周六要加班", datetime(2026, 11, 20, 19, 59, tzinfo=CST)),
        (9, "龙门看山", True, None, datetime(2026, 11, 20, 13, 18, tzinfo=CST))]


def test_7x_traditional_activity_labels_read_like_the_simplified_ones():
    rows = traditional("""<tr><th>开始时间</th><td>2026-12-01 09:00 至 2026-12-01 17:00 商定</td></tr>
<tr><th>活动地点</th><td>王城公园</td></tr><tr><th>每人花销</th><td>50 元</td></tr><tr><th>性别</th><td>不限</td></tr>
<tr><th>征集截止日期</th><td>2026-11-30 22:00</td></tr>""")
    after = traditional("""<table class="formtable"><tr><th>已报名人数:</th><td class="actnum">3 人</td></tr>
<tr><th>剩余名额</th><td class="actnum">7 人</td></tr></table>""")
    [activity] = read_first_post(x7_activity("賞花", rows), family=FAMILY_7X, after=after, wrap_7x=True).activities
    assert activity.status == "ok" and activity.place == traditional("王城公园")
    assert (activity.starts_at, activity.ends_at, activity.expires_at) == (
        datetime(2026, 12, 1, 9, tzinfo=CST), datetime(2026, 12, 1, 17, tzinfo=CST),
        datetime(2026, 11, 30, 22, tzinfo=CST))
    assert (activity.cost, activity.applicants, activity.remaining, activity.number) == (50, 3, 7, 10)


def x3_goods_box(pid: int, name: str, kind: str, left: str, money: str, picture: bool = True) -> str:
    image = (f'<img src="data/attachment/forum/202611/20/g{pid}.jpg.thumb.jpg" '
             f"onclick=\"zoom(this, 'data/attachment/forum/202611/20/g{pid}.jpg')\" width=\"90\" alt=\"{name}\" />"
             if picture else f'<div class="nophoto" title="{name}"></div>')
    return f"""<div class="trdb"><div id="trade{pid}" class="trdl cl">
<div class="tt" onclick="display('trade{pid}');ajaxget('forum.php?mod=viewthread&do=tradeinfo&tid=7&pid={pid}',
'tradeinfo{pid}','tradeinfo{pid}')"><em class="hot">推荐商品</em>{image}</div>
<div class="ta spi"><span class="y"><a href="javascript:;">展开</a></span>
<h4><a href="forum.php?mod=viewthread&amp;do=tradeinfo&amp;tid=7&amp;pid={pid}" target="_blank">{name}</a></h4>
<dl class="z"><dt>商品类型:</dt><dd>{kind}</dd><dt>剩余时间:</dt><dd>{left}</dd></dl>
<div class="z mtn">{money}</div></div></div><div id="tradeinfo{pid}"></div></div>"""


def test_x3_goods_boxes_with_credit_prices_time_left_and_closed_sales():
    boxes = '<div class="trdc xs1"><em>商品数: 2</em></div><div class="xs1 cl">' + x3_goods_box(
        75, "二手相机", "二手 商品", "3天5小时",
        '<strong>1200.00</strong>&nbsp;元&nbsp;&nbsp;附加 <strong>50</strong>&nbsp;枚金钱'
        '<p class="xg1"><del>3000.00 元</del><del>附加 80 枚金钱</del></p>') + x3_goods_box(
        76, "旧书一本", "全新 商品", "<em>成交结束</em>", '<strong>30</strong>&nbsp;枚金钱<p class="xg1"></p>',
        picture=False) + "</div>"
    page = read_first_post(boxes)
    camera, book = page.trades
    assert (camera.pid, camera.item, camera.quality, camera.price, camera.credit_price, camera.cost_price) == (
        75, "二手相机", "二手", 1200.0, 50, 3000.0)
    assert camera.expires_at_text == "3天5小时" and camera.expires_at == NOW + timedelta(days=3, hours=5)
    assert camera.image_url == "http://bbs.test/data/attachment/forum/202611/20/g75.jpg"
    assert camera.url == "http://bbs.test/forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=75"
    assert (camera.seller, camera.seller_uid, camera.status) == ("卖家甲", 5, "ok")
    # Sold in credits only; the sale is over.
    assert (book.price, book.credit_price, book.cost_price, book.quality) == (None, 30, None, "全新")
    assert (book.expires_at_text, book.expires_at, book.image_url, book.status) == ("成交结束", None, None, "ok")
    assert page.threads[0].special == "trade"


def test_trade_thread_whose_goods_are_all_hidden_is_still_a_trade_thread():
    page = read_first_post('<div class="trdc xs1"><em>商品数: 0</em></div>'
                           '<div class="locked">*** 本商品主题尚未开放 ***</div>')
    assert page.trades == [] and page.threads[0].special == "trade"


def test_7x_goods_boxes_link_their_goods_page_only_in_the_onclick():
    show = ("display('trade82');ajaxget('viewthread.php?do=tradeinfo&amp;tid=7&amp;pid=82',"
            "'tradeinfo82','tradeinfo82')")
    box = f"""<div class="tradectrl"><em>商品数: 2</em></div><div class="tradethumblist s_clear">
<div class="treadbox"><dl id="trade82"><dt class="thumblist" onclick="{show}">
<img src="images/default/trade_nophoto.gif" width="96" height="96" alt="山地车" /></dt><dd>
<span class="infoview"><a href="javascript:;" onclick="{show}">展开</a></span>
<h2 class="tradename"><a href="javascript:;">山地车</a></h2><p><em>成交结束</em></p>
<p>现价 <strong class="price">450.00</strong> 元</p></dd></dl><div id="tradeinfo82"></div></div></div>"""
    [trade] = read_first_post(box, family=FAMILY_7X, wrap_7x=True).trades
    assert (trade.pid, trade.item, trade.price, trade.cost_price, trade.image_url) == (82, "山地车", 450.0, None, None)
    assert trade.url == "http://bbs.test/viewthread.php?do=tradeinfo&tid=7&pid=82"
    assert trade.expires_at_text == "成交结束" and trade.status == "ok"


X3_GOODS_PAGE = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="generator" content="Discuz! X3.5" /></head><body>
<div id="pt" class="bm cl"><div class="z"><a href="./">论坛</a> <em>&rsaquo;</em> <a href="forum-3-1.html">二手</a>
<em>&rsaquo;</em> <a href="thread-7-1-1.html">查看主题</a></div></div>
<div id="ct" class="wp ct2 cl"><div class="mn"><div class="bm bw0">
<div class="ih cl bbda"><div class="icn avt"><a href="space-uid-5.html"><img src="avatar.php?uid=5" /></a></div>
<dl><dt class="ptn"><span class="y"><a href="home.php?mod=spacecp&amp;ac=pm&amp;touid=5">发短消息</a>&nbsp;</span>
卖家甲 <span title="在线" class="olicon vm"></span></dt>
<dd class="mtn"><a href="thread-7-1-1.html">出闲置</a> <em>&rsaquo;</em> 查看商品</dd></dl></div>
<h1 class="ph mtm">
<a href="forum.php?mod=viewthread&amp;tid=7&amp;do=tradeinfo&amp;pid=75" target="_blank">二手相机</a></h1>
<div class="bbda ptm act cl"><div class="cl"><div class="spvimg"><em class="hot">推荐商品</em>
<a href="javascript:;"><img src="data/attachment/forum/g75.jpg.thumb.jpg"
 onclick="zoom(this, 'data/attachment/forum/g75.jpg')" /></a></div>
<div class="spi cl"><dl><dt>商品类型:</dt><dd>二手 商品</dd>
<dt>运费:</dt><dd> 平邮 10 元 快递 12 元 EMS 20 元</dd>
<dt>剩余时间:</dt><dd>2 天 3 小时</dd><dt>商品数量:</dt><dd>1</dd><dt>地点:</dt><dd>四川 自贡</dd>
<dt>累计售出:</dt><dd>4</dd></dl>
<dl class="nums"><dt>现价:</dt><dd><p><em>1200.00</em>&nbsp;元</p><p>附加 <em>50</em>&nbsp;枚金钱</p></dd></dl>
<dl><dt>原价:</dt><dd class="xg1"><del>3000.00 元</del><br /><del>附加 80 枚金钱</del></dd></dl>
<p class="pns mbm"><button class="pn"><span>购买</span></button></p></div></div>
<div class="cl mtw"><div class="c pbm">九成新，附带原装充电器。<br />
<img id="aimg_81" aid="81" src="static/image/common/none.gif" zoomfile="data/attachment/forum/side.jpg"
 file="data/attachment/forum/side.jpg" alt="side.jpg" /><br />
<script type="text/javascript">alert(1)</script>同城面交。</div>
<div class="pattl"><dl class="tattl"><dd><p class="attnm">
<a href="forum.php?mod=attachment&amp;aid=ODJ8">说明书.pdf</a></p></dd></dl></div>
<div id="comment_75" class="cl tpst cm"></div></div>
</td></tr></td></tr></table></div></div></div></div></body></html>"""


def test_x3_goods_page_reads_seller_fees_time_left_credits_and_the_message_without_the_attachment_list():
    url = "http://bbs.test/forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=75"
    page = parse_page(url, X3_GOODS_PAGE.encode("utf-8"), content_type="text/html; charset=utf-8", date_header=DATE)
    assert (page.kind, page.status, page.tid, page.posts, page.missing) == (KIND_TRADEINFO, "ok", 7, [], [])
    [trade] = page.trades
    assert (trade.pid, trade.item, trade.seller, trade.seller_uid, trade.url) == (75, "二手相机", "卖家甲", 5, url)
    assert (trade.quality, trade.transport, trade.amount, trade.locus, trade.sold) == (
        "二手", "平邮 10 元 快递 12 元 EMS 20 元", 1, "四川 自贡", 4)
    assert (trade.price, trade.credit_price, trade.cost_price) == (1200.0, 50, 3000.0)
    assert trade.expires_at == NOW + timedelta(days=2, hours=3) and trade.expires_at_text == "2 天 3 小时"
    assert trade.image_url == "http://bbs.test/data/attachment/forum/g75.jpg"
    assert trade.content_text == "九成新，附带原装充电器。\n\n同城面交。"
    assert "data/attachment/forum/side.jpg" in trade.content_html and "alert" not in trade.content_html
    assert "说明书" not in trade.content_html
    # The page's links go back to the thread and the seller; none stands for a thread page of its own.
    assert not [link for link in page.links if "tradeinfo" in link.url]


X7_GOODS_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="generator" content="Discuz! 7.0.0" /></head><body>
<div id="nav"><a href="index.php">論壇</a> &raquo; <a href="forum-5-1.html">二手置換</a> &raquo;
<a href="viewthread.php?tid=6">轉讓</a></div>
<div id="wrap" class="wrap s_clear"><div class="main"><div class="content">
<div class="viewthread tradeinfo s_clear">
<div class="tradethumb"><img src="images/default/trade_nophoto.gif" alt="頭盔" /></div>
<div class="tradeattribute"><h4>頭盔</h4><dl><dt>商品類型:</dt><dd>全新 商品</dd>
<dt>運費:</dt><dd>賣家承擔運費</dd><dt>剩餘時間:</dt><dd><em>成交結束</em></dd><dt>商品數量:</dt><dd>0</dd>
<dt>地點:</dt><dd>洛陽</dd><dt>累計售出:</dt><dd>2</dd><dt>原價:</dt><dd><del>129.00 元</del></dd><dt>現價:</dt>
<dd><strong class="price">60.00</strong>&nbsp;元</dd></dl></div>
<div class="postmessage"><div class="box typeoption"><h4>騎行裝備</h4><table class="formtable datatable">
<tr><th>尺碼</th><td>M</td></tr></table></div>
全新未拆封。<div class="box postattachlist"><h4>附件</h4><dl class="t_attachlist"><dt>
<a href="attachment.php?aid=12&amp;k=x">票據.jpg</a></dt></dl></div></div>
</td></tr></td></tr></table></div></div></div></div></body></html>"""


def test_7x_traditional_goods_page_leaves_the_type_table_and_attachment_list_out_of_the_text():
    url = "http://bbs.test/viewthread.php?do=tradeinfo&tid=6&pid=83"
    page = parse_page(url, X7_GOODS_PAGE.encode("utf-8"), content_type="text/html; charset=utf-8", date_header=DATE)
    assert (page.kind, page.status, page.tid) == (KIND_TRADEINFO, "ok", 6)
    [trade] = page.trades
    assert (trade.pid, trade.item, trade.quality, trade.transport) == (83, "頭盔", "全新", "賣家承擔運費")
    assert (trade.amount, trade.sold, trade.locus, trade.price, trade.cost_price) == (0, 2, "洛陽", 60.0, 129.0)
    assert (trade.expires_at_text, trade.expires_at, trade.image_url, trade.seller) == ("成交結束", None, None, None)
    assert trade.content_text == "全新未拆封。"


def test_goods_page_without_the_goods_message_is_kept_partial():
    url = "http://bbs.test/viewthread.php?do=tradeinfo&tid=6&pid=83"
    body = X7_GOODS_PAGE.replace('<div class="postmessage">', '<div class="theme-message">')
    page = parse_page(url, body.encode("utf-8"), content_type="text/html; charset=utf-8")
    assert (page.kind, page.status, page.missing) == (KIND_TRADEINFO, "partial", ["trade.content_text"])
    assert page.trades[0].status == "partial" and page.trades[0].item == "頭盔"


def test_goods_page_url_answered_without_goods_is_not_made_into_a_goods_page():
    # do=tradeinfo answered with a page holding a div.act that is no goods box (Discuz ignores do= on a thread that
    # is no trade): no goods item is made up.
    url = "http://bbs.test/forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=70"
    body = """<html><head><meta charset="utf-8"></head><body><div class="bbda ptm act cl"><div class="spi"><dl>
<dt>活动类型:</dt><dd><strong>聚会</strong></dd></dl></div></div></body></html>"""
    page = parse_page(url, body.encode("utf-8"), content_type="text/html; charset=utf-8")
    assert page.kind != KIND_TRADEINFO and page.trades == []
