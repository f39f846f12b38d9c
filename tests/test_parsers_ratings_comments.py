"""评分 (rate logs) and 点评 (comments) under posts: the captures' database truth, and template-built variants.

Fixtures: G (X3.5, 13 ratings on 8 posts, 6 comments on 5 posts), G-tc (the same site in traditional
characters), K (Discuz 7.0: 13 ratings on 9 posts, no 点评). The unit tests build markup from the templates
(X3.5 ``viewthread_node_body.htm``, X2.0 ``viewthread_node_body.htm``, 7.0/7.2 ``viewthread_node.htm``,
6.0 ``viewthread.htm``) for what the captures do not show.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pytest
from lxml import etree

from scraper.items import KIND_VIEWTHREAD, ParsedPage, Post
from scraper.parsers import parse_page
from scraper.parsers.comments import read_comments
from scraper.parsers.extras import FAMILY_7X, FAMILY_X, ThreadContext, post_containers
from scraper.parsers.ratings import read_ratings

from .conftest import FIXTURES, REAL, captured_pages, expected

SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
SITE_K = FIXTURES / "discuz-70-utf8-k"
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 5, 19, 11, tzinfo=timezone.utc)


def _needs(folder):
    return pytest.mark.skipif(not folder.exists(), reason=f"../shared/fixtures/{folder.name} is not there")


@lru_cache(maxsize=None)
def thread_pages(folder):
    """Every thread page of a capture, parsed as the crawler would."""
    out = []
    for p in captured_pages(folder):
        if p.status != 200 or "html" not in p.content_type:
            continue
        parsed = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
        if parsed.kind == KIND_VIEWTHREAD:
            out.append(parsed)
    return tuple(out)


def guest_pids(folder):
    truth = expected(folder)
    shown = {t["tid"] for t in truth["threads"] if t.get("guest_visible", t.get("visible_to_guest", True))}
    return {p["pid"] for p in truth["posts"] if p["tid"] in shown and not p.get("invisible")
            and p.get("guest_visible", p.get("visible_to_guest", True))}


def ratings_read(folder):
    """(pid, tid, uid, username, credit) -> (score, reason) over every page (a post shown twice reads the same)."""
    out = {}
    for page in thread_pages(folder):
        for r in page.ratings:
            key = (r.pid, r.tid, r.uid, r.username, r.credit)
            assert out.setdefault(key, (r.score, r.reason)) == (r.score, r.reason)
    return out


def ratings_truth(folder):
    visible = guest_pids(folder)
    return {(r["pid"], r["tid"], r["uid"], r["username"], r["extcredit_name"]): (r["score"], r["reason"] or None)
            for r in expected(folder)["ratings"] if r["pid"] in visible}


def posts_read(folder):
    """pid -> the Post item (the last page showing it)."""
    return {post.pid: post for page in thread_pages(folder) for post in page.posts}


# ---- ratings on the captures ---------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", [pytest.param(SITE_G, marks=_needs(SITE_G)),
                                    pytest.param(SITE_G_TC, marks=_needs(SITE_G_TC)),
                                    pytest.param(SITE_K, marks=_needs(SITE_K))], ids=["G", "G-tc", "K"])
def test_every_guest_visible_rating_is_read_with_rater_credit_score_and_reason(folder):
    truth = ratings_truth(folder)
    assert len(truth) == 13
    assert ratings_read(folder) == truth


@pytest.mark.parametrize("folder", [pytest.param(SITE_G, marks=_needs(SITE_G)),
                                    pytest.param(SITE_G_TC, marks=_needs(SITE_G_TC)),
                                    pytest.param(SITE_K, marks=_needs(SITE_K))], ids=["G", "G-tc", "K"])
def test_rate_count_is_the_number_of_raters_of_each_post(folder):
    raters = defaultdict(set)
    for r in expected(folder)["ratings"]:
        raters[r["pid"]].add(r["uid"])
    posts = posts_read(folder)
    assert {pid: posts[pid].rate_count for pid in raters} == {pid: len(uids) for pid, uids in raters.items()}
    # Posts without a rate log say nothing.
    assert {post.rate_count for pid, post in posts.items() if pid not in raters} == {None}


@pytest.mark.parametrize("folder", [pytest.param(SITE_G, marks=_needs(SITE_G)),
                                    pytest.param(SITE_G_TC, marks=_needs(SITE_G_TC))], ids=["G", "G-tc"])
def test_x35_rate_totals_are_the_header_totals_per_credit(folder):
    totals = defaultdict(Counter)
    for r in expected(folder)["ratings"]:
        totals[r["pid"]][r["extcredit_name"]] += r["score"]
    posts = posts_read(folder)
    assert {pid: posts[pid].rate_totals for pid in totals} == {pid: dict(c) for pid, c in totals.items()}
    assert posts[2093].rate_totals == ({"威望": -1, "金钱": -8} if folder == SITE_G else {"威望": -1, "金錢": -8})


@_needs(SITE_K)
def test_70_prints_no_totals_and_reads_negative_scores_given_as_bare_text():
    posts = posts_read(SITE_K)
    assert posts[1].rate_totals == {} and posts[1].rate_count == 2
    read = ratings_read(SITE_K)
    # 7.0 prints "与主题无关 &nbsp;&nbsp;威望 -2 点" without an <em>.
    assert read[(45, 1, 5, "白马寺钟声", "威望")] == (-2, "与主题无关")
    assert read[(74, 5, 5, "白马寺钟声", "威望")] == (-3, "请文明发言")
    # One rater, two credits, one reason.
    assert read[(26, 3, 1, "admin", "金钱")] == (25, "精华探店")
    assert read[(26, 3, 1, "admin", "威望")] == (6, "精华探店")


@_needs(SITE_G)
def test_a_rating_without_reason_has_none():
    read = ratings_read(SITE_G)
    assert read[(2126, 138, 39, "彩灯匠人", "金钱")] == (15, None)
    assert read[(2093, 135, 47, "贡井老街", "威望")] == (-1, None)


@pytest.mark.parametrize("folder", [pytest.param(SITE_G, marks=_needs(SITE_G)),
                                    pytest.param(SITE_G_TC, marks=_needs(SITE_G_TC)),
                                    pytest.param(SITE_K, marks=_needs(SITE_K))], ids=["G", "G-tc", "K"])
def test_reading_ratings_and_comments_leaves_no_page_partial(folder):
    for page in thread_pages(folder):
        assert not [m for m in page.missing if m.startswith(("rating", "comment"))], page.url


# ---- comments on the captures --------------------------------------------------------------------------------
def comments_read(folder):
    out = {}
    for page in thread_pages(folder):
        for c in page.post_comments:
            out[(c.pid, c.tid, c.author_uid, c.author, c.comment)] = c.posted_at
    return out


@pytest.mark.parametrize("folder", [pytest.param(SITE_G, marks=_needs(SITE_G)),
                                    pytest.param(SITE_G_TC, marks=_needs(SITE_G_TC))], ids=["G", "G-tc"])
def test_every_guest_visible_comment_is_read_with_author_text_and_time(folder):
    visible = guest_pids(folder)
    truth = {(c["pid"], c["tid"], c["authorid"], c["author"], c["comment"]):
             datetime.fromisoformat(c["dateline"]).replace(second=0)
             for c in expected(folder)["comments"] if c["pid"] in visible}
    assert len(truth) == 6
    assert comments_read(folder) == truth


@pytest.mark.parametrize("folder", [pytest.param(SITE_G, marks=_needs(SITE_G)),
                                    pytest.param(SITE_G_TC, marks=_needs(SITE_G_TC))], ids=["G", "G-tc"])
def test_comment_counts_on_posts(folder):
    per_post = Counter(c["pid"] for c in expected(folder)["comments"])
    posts = posts_read(folder)
    assert {pid: (posts[pid].comments_shown, posts[pid].comments_more) for pid in per_post} == \
        {pid: (n, False) for pid, n in per_post.items()}
    # Every other X post has an empty comment_PID block: none shown, nothing said about more; a banned post's
    # body (and its block) is not rendered at all.
    others = {pid: (p.comments_shown, p.comments_more) for pid, p in posts.items() if pid not in per_post}
    banned = {2111, 2113, 2208}
    assert {others[pid] for pid in banned} == {(None, None)}
    assert {shown for pid, shown in others.items() if pid not in banned} == {(0, None)}


@_needs(SITE_G)
def test_comment_text_and_time_text_stay_apart():
    page = next(p for p in thread_pages(SITE_G) if any(c.pid == 2126 for c in p.post_comments))
    first = next(c for c in page.post_comments if c.pid == 2126)
    assert (first.comment, first.posted_at_text) == ("建议多拍几张细节", "2025-10-22 09:11")


@_needs(SITE_K)
def test_70_has_no_comments():
    assert not comments_read(SITE_K)
    assert {(p.comments_shown, p.comments_more) for p in posts_read(SITE_K).values()} == {(None, None)}


@pytest.mark.skipif(not (REAL / "bbs.talkop.com").exists(), reason="../shared/fixtures/real is not there")
def test_real_x34_page_comment():
    body = (REAL / "bbs.talkop.com" / "viewthread-1.html").read_bytes()
    page = parse_page("http://bbs.talkop.com/thread-108869-1-1.html", body, content_type="text/html")
    assert [(c.pid, c.author_uid, c.author, c.comment, c.posted_at) for c in page.post_comments] == [
        (608949, 1378, "岛市顽主", "红茶辛苦了", datetime(2018, 12, 5, 19, 6, tzinfo=CST))]
    assert {p.pid: p.comments_shown for p in page.posts}[608949] == 1


# ---- template-built variants -------------------------------------------------------------------------------------
def run(reader, body: str, pids: dict[int, int], family: str = FAMILY_X, xml: bool = False) -> ParsedPage:
    """Run ``reader`` on a page made of ``body``; ``pids`` maps each post's pid to its tid."""
    markup = f"<html><head><title>t</title></head><body>{body}</body></html>"
    root = etree.fromstring(markup) if xml else etree.HTML(markup)
    page = ParsedPage(url="http://bbs.example.test/thread-9-1-1.html", kind=KIND_VIEWTHREAD, tid=9,
                      posts=[Post(pid=pid, tid=tid) for pid, tid in pids.items()])
    reader(page, root, ThreadContext(url=page.url, tid=9, family=family, now=NOW, tz=CST,
                                     posts=post_containers(root)))
    return page


def ratings_of(page):
    return [(r.pid, r.uid, r.username, r.credit, r.score, r.reason) for r in page.ratings]


def x3_row(pid, uid, name, cells, reason):
    tds = "".join(f'<td class="xi1"> + {c}</td>' if c and c > 0 else f'<td class="xg1">{"" if c is None else c}</td>'
                  for c in cells)
    return (f'<tr id="rate_{pid}_{uid}"><td><a href="home.php?mod=space&amp;uid={uid}" target="_blank">'
            f'<img src="a.png" /></a> <a href="home.php?mod=space&amp;uid={uid}" target="_blank">{name}</a></td>'
            f'{tds}<td class="xg1">{reason}</td></tr>')


def x3_ratelog(pid, count, heads, rows, people="参与人数", reason="理由"):
    """viewthread_node_body.htm with ratelogon: dl#ratelog_PID > table.ratl."""
    ths = "".join(f'<th class="xw1" width="80">{name} <i><span class="xi1">{total}</span></i></th>'
                  for name, total in heads)
    return (f'<div id="post_{pid}"><table id="pid{pid}"><tr><td class="plc"><div class="pct">'
            f'<div id="comment_{pid}" class="cm"></div>'
            f'<h3 class="psth xs1"><span class="icon_ring vm"></span>评分</h3>'
            f'<dl id="ratelog_{pid}" class="rate"><dd style="margin:0"><div id="post_rate_{pid}"></div>'
            f'<table class="ratl"><tr><th class="xw1" width="120"><a href="forum.php?mod=misc&amp;action=viewratings'
            f'&amp;tid=9&amp;pid={pid}" title="查看全部评分"> {people} <span class="xi1">{count}</span></a></th>'
            f'{ths}<th><a href="javascript:;" class="y xi2 op">收起</a><i class="txt_h">{reason}</i></th></tr>'
            f'<tbody class="ratl_l">{"".join(rows)}</tbody></table>'
            f'<p class="ratc"><a href="forum.php?mod=misc&amp;action=viewratings&amp;tid=9&amp;pid={pid}" '
            f'class="xi2">查看全部评分</a></p></dd></dl></div></td></tr></table></div>')


def test_x3_ratelog_shows_the_last_raters_and_counts_them_all():
    # ratelogrecord 2: 参与人数 12 and the totals of all twelve, two rows shown; a negative total; an empty cell.
    body = x3_ratelog(301, 12, [("威望", "+9"), ("金钱", "-5")], [
        x3_row(301, 36, "盐都张哥", [3, -8], "好帖"),
        x3_row(301, 38, "釜溪河畔", [None, 10], ""),
    ])
    page = run(read_ratings, body, {301: 9})
    assert ratings_of(page) == [(301, 36, "盐都张哥", "威望", 3, "好帖"), (301, 36, "盐都张哥", "金钱", -8, "好帖"),
                                (301, 38, "釜溪河畔", "金钱", 10, None)]
    assert (page.posts[0].rate_count, page.posts[0].rate_totals) == (12, {"威望": 9, "金钱": -5})
    assert {r.tid for r in page.ratings} == {9}


def test_x3_ratelog_in_traditional_characters():
    body = x3_ratelog(302, 1, [("金錢", "+15")], [x3_row(302, 39, "彩燈匠人", [15], "原創攝影")],
                      people="參與人數", reason="理由")
    page = run(read_ratings, body, {302: 9})
    assert ratings_of(page) == [(302, 39, "彩燈匠人", "金錢", 15, "原創攝影")]
    assert page.posts[0].rate_totals == {"金錢": 15}


def test_x20_ratelog_names_credits_alone_and_totals_them_below():
    # X2.0: "有 N 人评分", <th><i>威望</i></th>, totals in p.ratc (总评分: 威望 + 2 金钱 -3).
    body = ('<div id="post_401"><table id="pid401"><tr><td class="plc">'
            '<dl id="ratelog_401" class="rate"><dd style="margin:0"><div id="post_rate_401"></div>'
            '<table class="ratl"><tr><th class="xw1" width="120"><a href="forum.php?mod=misc&amp;action=viewratings'
            '&amp;tid=9&amp;pid=401" title="查看全部评分">有 <span class="xi1">2</span> 人评分</a></th>'
            '<th width="50"><i>威望</i></th><th width="50"><i>金钱</i></th>'
            '<th><a href="javascript:;" class="y xi2 op">收起</a><i>理由</i></th></tr>'
            '<tbody class="ratl_l">'
            + x3_row(401, 5, "老张", [2, None], "顶") + x3_row(401, 6, "小王", [None, -3], "")
            + '</tbody></table><p class="ratc">总评分:&nbsp;<span class="xi1">威望 + 2</span>&nbsp;'
            '<span class="xg1">金钱 -3</span>&nbsp;&nbsp;<a href="forum.php?mod=misc&amp;action=viewratings&amp;'
            'tid=9&amp;pid=401" class="xi2">查看全部评分</a></p></dd></dl></td></tr></table></div>')
    page = run(read_ratings, body, {401: 9})
    assert ratings_of(page) == [(401, 5, "老张", "威望", 2, "顶"), (401, 6, "小王", "金钱", -3, None)]
    assert (page.posts[0].rate_count, page.posts[0].rate_totals) == (2, {"威望": 2, "金钱": -3})


def test_x3_hover_list_when_the_rate_log_table_is_off():
    # ratelogon off: dt strong = raters, each li a p#rate_PID_UID whose tip holds reason and scores.
    # The template writes the tip's markup raw into the attribute (reason escaped by dhtmlspecialchars).
    tip1 = "<strong>好帖 &amp; 赞</strong>&nbsp;\n<em class='xi1'>威望 + 3 点</em>\n<span>金钱 -8 枚</span>\n"
    tip2 = "<strong></strong>&nbsp;<em class='xi1'>贡献 + 1 </em>"
    body = ('<div id="post_501"><table id="pid501"><tr><td class="plc">'
            '<dl id="ratelog_501" class="rate"><dt><strong><a href="forum.php?mod=misc&amp;action=viewratings&amp;'
            'tid=9&amp;pid=501" title="有7人评分, 查看全部评分">7</a></strong><p><a href="#">查看全部评分</a></p></dt>'
            '<dd><div id="post_rate_501"></div><ul class="cl">'
            f'<li><p id="rate_501_36" onmouseover="showTip(this)" tip="{tip1}" class="mtn mbn">'
            '<a href="home.php?mod=space&amp;uid=36" target="_blank" class="avt"><img src="a.png" /></a></p>'
            '<p><a href="home.php?mod=space&amp;uid=36" target="_blank">盐都张哥</a></p></li>'
            f'<li><p id="rate_501_38" onmouseover="showTip(this)" tip="{tip2}" class="mtn mbn">'
            '<a href="home.php?mod=space&amp;uid=38" target="_blank" class="avt"><img src="a.png" /></a></p>'
            '<p><a href="home.php?mod=space&amp;uid=38" target="_blank">釜溪河畔</a></p></li>'
            '</ul></dd></dl></td></tr></table></div>')
    page = run(read_ratings, body, {501: 9})
    assert ratings_of(page) == [(501, 36, "盐都张哥", "威望", 3, "好帖 & 赞"), (501, 36, "盐都张哥", "金钱", -8, "好帖 & 赞"),
                                (501, 38, "釜溪河畔", "贡献", 1, None)]
    assert (page.posts[0].rate_count, page.posts[0].rate_totals) == (7, {})


def seven_x_post(pid, items, count, count_label="评分次数"):
    """viewthread_node.htm of 7.0/7.2: dl.newrate around div#post_rate_PID."""
    return (f'<div id="post_{pid}"><table id="pid{pid}" summary="pid{pid}"><tr><td class="postcontent">'
            f'<dl class="newrate"><dt><strong><a href="misc.php?action=viewratings&amp;tid=9&amp;pid={pid}" '
            f'title="本帖最近评分记录">{count}</a></strong><p>{count_label}</p></dt><dd><ul class="s_clear">'
            f'<div id="post_rate_{pid}"></div>{"".join(items)}</ul></dd></dl></td></tr></table></div>')


def hover_item(pid, uid, name, box):
    return (f'<li><div id="rate_{pid}_{uid}_menu" class="attach_popup" style="display: none;">'
            f'<p class="cornerlayger">{box}</p><p class="minicorner"></p></div>'
            f'<p id="rate_{pid}_{uid}" onmouseover="showMenu(this.id,false,2)" class="rateavatar">'
            f'<a href="space.php?uid={uid}" target="_blank"><img src="a.png" /></a></p>'
            f'<p><a href="space.php?uid={uid}" target="_blank">{name}</a></p></li>')


def test_70_hover_box_with_two_negative_scores_printed_back_to_back():
    # 7.0 prints each negative score as bare text, with no break between them: "威望 -2 点金钱 -5 枚".
    body = seven_x_post(601, [hover_item(601, 5, "白马寺钟声", "灌水 &nbsp;&nbsp;威望 -2 点金钱 -5 枚"),
                              hover_item(601, 4, "浆面条", "&nbsp;&nbsp;<em>威望 + 5 点</em>\n金钱 -3 枚")], 2)
    page = run(read_ratings, body, {601: 9}, family=FAMILY_7X)
    assert ratings_of(page) == [(601, 5, "白马寺钟声", "威望", -2, "灌水"), (601, 5, "白马寺钟声", "金钱", -5, "灌水"),
                                (601, 4, "浆面条", "威望", 5, None), (601, 4, "浆面条", "金钱", -3, None)]
    assert (page.posts[0].rate_count, page.posts[0].rate_totals) == (2, {})


def test_72_hover_box_puts_negative_scores_in_a_span_in_traditional_characters():
    body = seven_x_post(602, [hover_item(602, 7, "老君山驢友", "好 &nbsp;&nbsp;<em>威望 + 1 點</em>\n"
                                                                  "<span>金錢 -3 枚</span>\n")], 1, "評分次數")
    page = run(read_ratings, body, {602: 9}, family=FAMILY_7X)
    assert ratings_of(page) == [(602, 7, "老君山驢友", "威望", 1, "好"), (602, 7, "老君山驢友", "金錢", -3, "好")]
    assert page.posts[0].rate_count == 1


def test_72_ratelist_rows():
    # 7.2 with ratelogon: li#rate_PID_UID.ratelistavatar: avatar, "name:", reason, scores.
    item = ('<ul class="s_clear ratelist"><li id="rate_603_5" class="ratelistavatar">'
            '<a href="space.php?uid=5" target="_blank"><img src="a.png" /></a>'
            '<a href="space.php?uid=5" target="_blank">白马寺钟声:</a>\n实用路线<em>威望 + 4 点</em>\n'
            '<span>金钱 -1 枚</span>\n</li></ul>')
    page = run(read_ratings, seven_x_post(603, [item], 1), {603: 9}, family=FAMILY_7X)
    assert ratings_of(page) == [(603, 5, "白马寺钟声", "威望", 4, "实用路线"), (603, 5, "白马寺钟声", "金钱", -1, "实用路线")]


def test_60_fieldset_rows_carry_their_time():
    # 6.0 viewthread.htm: one li per forum_ratelog row, "<cite>name</cite> 威望 <strong>+2</strong> <em>reason</em> time".
    body = ('<table id="pid88" summary="pid88"><tr><td class="postcontent"><div class="postmessage">正文'
            '<fieldset><legend><a href="misc.php?action=viewratings&amp;tid=9&amp;pid=88" title="查看评分记录">'
            '本帖最近评分记录</a></legend><ul>'
            '<li><cite><a href="space.php?uid=3" target="_blank">版主甲</a></cite> 威望 <strong>+2</strong> '
            '<em>好文</em> 2008-5-1 10:20</li>'
            '<li><cite><a href="space.php?uid=4" target="_blank">乙</a></cite> 金钱 <strong>-5</strong> '
            '<em></em> 2008-5-2 08:00</li></ul></fieldset></div></td></tr></table>')
    page = run(read_ratings, body, {88: 9}, family=FAMILY_7X)
    assert ratings_of(page) == [(88, 3, "版主甲", "威望", 2, "好文"), (88, 4, "乙", "金钱", -5, None)]
    assert [(r.rated_at, r.rated_at_text) for r in page.ratings] == [
        (datetime(2008, 5, 1, 10, 20, tzinfo=CST), "2008-5-1 10:20"),
        (datetime(2008, 5, 2, 8, 0, tzinfo=CST), "2008-5-2 08:00")]
    assert page.posts[0].rate_count is None


def test_rate_log_is_found_in_a_tree_without_an_id_index():
    # An XHTML tree parsed as XML indexes no ids: the post itself is searched.
    body = x3_ratelog(701, 1, [("威望", "+1")], [x3_row(701, 1, "admin", [1], "赞")])
    page = run(read_ratings, body, {701: 9}, xml=True)
    assert ratings_of(page) == [(701, 1, "admin", "威望", 1, "赞")]


def test_post_without_rate_log_gets_nothing():
    body = ('<div id="post_702"><table id="pid702"><tr><td class="plc"><div id="comment_702" class="cm"></div>'
            '<div id="post_rate_div_702"></div></td></tr></table></div>')
    page = run(read_ratings, body, {702: 9})
    assert (page.ratings, page.posts[0].rate_count, page.posts[0].rate_totals, page.missing) == ([], None, {}, [])


def comment_pstl(uid, name, text, time, links=""):
    author = (f'<a href="home.php?mod=space&amp;uid={uid}" class="xi2 xw1">{name}</a>' if uid else name)
    return (f'<div class="pstl xs1 cl"><div class="psta vm"><a href="home.php?mod=space&amp;uid={uid}" c="1">'
            f'<img src="a.png" /></a>{author}</div><div class="psti">{text}&nbsp;{links}'
            f'<span class="xg1">{time}</span></div></div>')


def x3_comments(pid, items, more=False, stars=False, heading="点评"):
    """viewthread_node_body.htm lines 181-211."""
    pager = (f'<div class="pgs mbm mtn cl"><div class="pg"><a href="javascript:;" class="nxt" onclick="ajaxget('
             f"'forum.php?mod=misc&amp;action=commentmore&amp;tid=9&amp;pid={pid}&amp;page=2', 'comment_{pid}')\">"
             '下一页</a></div></div>') if more else ""
    star = ('<div class="pstl"><i class="cmstarv">4.0</i><span class="fico-star fc-l fnmr"></span></div>'
            if stars else "")
    return (f'<div id="post_{pid}"><table id="pid{pid}"><tr><td class="plc"><div class="pct">'
            f'<div id="comment_{pid}" class="cm"><h3 class="psth xs1"><span class="icon_ring vm"></span>{heading}</h3>'
            f'{star}{"".join(items)}{pager}</div><div id="post_rate_div_{pid}"></div></div></td></tr></table></div>')


def test_more_comments_than_shown_set_comments_more():
    items = [comment_pstl(10 + i, f"用户{i}", f"第{i}条", f"发表于 2026-11-{20 + i} 10:0{i}") for i in range(5)]
    page = run(read_comments, x3_comments(801, items, more=True), {801: 9})
    assert [(c.author_uid, c.author, c.comment, c.posted_at) for c in page.post_comments] == [
        (10 + i, f"用户{i}", f"第{i}条", datetime(2026, 11, 20 + i, 10, i, tzinfo=CST)) for i in range(5)]
    assert (page.posts[0].comments_shown, page.posts[0].comments_more) == (5, True)


def test_comment_from_a_reply_relative_time_guest_and_star_scores():
    links = ('<a href="forum.php?mod=redirect&amp;goto=findpost&amp;pid=820&amp;ptid=9" class="xi2">详情</a>\n'
             '<a href="forum.php?mod=post&amp;action=reply&amp;fid=2&amp;tid=9&amp;repquote=820&amp;extra=&amp;page=1" '
             'class="xi2" onclick="showWindow(\'reply\', this.href)">回复</a>')
    items = [
        comment_pstl(12, "阿明", "<b>好</b>主意", '发表于 <span title="2026-12-5 21:40">6&nbsp;小时前</span>', links),
        comment_pstl(0, "游客", '<font color="#ff0000">路过</font>',
                     '发表于 <span title="2026-12-4 09:15">昨天&nbsp;09:15</span>&nbsp;IP:203.0.113.*&nbsp;'
                     '<a href="javascript:;" onclick="modaction(\'delcomment\', 7)">删除</a>'),
    ]
    page = run(read_comments, x3_comments(802, items, stars=True), {802: 9})
    assert [(c.author_uid, c.author, c.comment, c.posted_at, c.posted_at_text) for c in page.post_comments] == [
        (12, "阿明", "好主意", datetime(2026, 12, 5, 21, 40, tzinfo=CST), "6 小时前"),
        (None, "游客", "路过", datetime(2026, 12, 4, 9, 15, tzinfo=CST), "昨天 09:15")]
    assert (page.posts[0].comments_shown, page.posts[0].comments_more) == (2, False)


def test_comment_in_traditional_characters_with_an_absolute_time_and_an_ip():
    items = [comment_pstl(47, "貢井老街", "天車好有年代感", "發表於 2025-10-20 19:07&nbsp;IP:203.0.113.*")]
    page = run(read_comments, x3_comments(803, items, heading="點評"), {803: 9})
    c = page.post_comments[0]
    assert (c.author, c.comment, c.posted_at, c.posted_at_text) == (
        "貢井老街", "天車好有年代感", datetime(2025, 10, 20, 19, 7, tzinfo=CST), "2025-10-20 19:07")


def test_x20_comment_has_its_author_before_the_text():
    body = ('<div id="post_804"><table id="pid804"><tr><td class="plc"><div id="comment_804" class="cm">'
            '<h3 class="psth xs1">点评</h3><div class="pstl xs1"><div class="psta">'
            '<a href="home.php?mod=space&amp;uid=7" c="1"><img src="a.png" /></a></div>'
            '<div class="psti"><a href="home.php?mod=space&amp;uid=7" class="xi2 xw1">小李</a>\n'
            '&nbsp;说得对&nbsp;\n<span class="xg1">发表于 2011-3-5 10:20</span></div></div></div>'
            '</td></tr></table></div>')
    page = run(read_comments, body, {804: 9})
    assert [(c.author_uid, c.author, c.comment, c.posted_at) for c in page.post_comments] == [
        (7, "小李", "说得对", datetime(2011, 3, 5, 10, 20, tzinfo=CST))]


def test_empty_comment_block_counts_none_shown_and_7x_posts_say_nothing():
    x_page = run(read_comments, '<div id="post_805"><table id="pid805"><tr><td><div id="comment_805" class="cm">'
                                '</div></td></tr></table></div>', {805: 9})
    assert (x_page.post_comments, x_page.posts[0].comments_shown, x_page.posts[0].comments_more) == ([], 0, None)
    seven = run(read_comments, seven_x_post(806, [], 0), {806: 9}, family=FAMILY_7X)
    assert (seven.posts[0].comments_shown, seven.posts[0].comments_more) == (None, None)


@pytest.mark.skipif(not SITE_G.exists(), reason="fixtures missing")
def test_a_commenters_uid_is_read_from_the_avatar_under_a_sites_own_space_rule():
    """An admin's rule for member spaces (m-53.htm) says nothing a default rule reads: the commenter's avatar
    (avatar.php?uid=53) still states who commented."""
    truth = expected(SITE_G)["comments"]
    pages = [p for p in captured_pages(SITE_G) if b'class="pstl xs1 cl"' in p.body]
    assert pages
    found = {}
    for p in pages:
        body = re.sub(rb"space-uid-(\d+)\.html", rb"m-\1.htm", p.body)
        page = parse_page(p.url, body, content_type=p.content_type, date_header=p.date)
        found.update({(c.pid, c.comment): (c.author_uid, c.author) for c in page.post_comments})
    assert found and len(found) == len({(c["pid"], c["comment"]) for c in truth})
    for c in truth:
        assert found[(c["pid"], c["comment"])] == (c["authorid"], c["author"])
