"""Parsers on real Discuz! pages: whole-site captures against their database, real-world pages against INDEX.md."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page

from .conftest import (
    FIXTURES, REAL, SITE_A, SITE_MEMBER, captured_pages, expected, requires_fixtures, whole_site_captures,
)
from .ground_truth import STATUS_NOTES, compare_capture


def shown_to_guest(item: dict) -> bool:
    """Whether a post, thread or forum of expected.json is one a guest's pages show (README: guest_visible)."""
    return item.get("visible_to_guest", item.get("guest_visible", True))

pytestmark = requires_fixtures
CST = timezone(timedelta(hours=8))


def page_at(folder, url):
    for p in captured_pages(folder):
        if p.url == url:
            return parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
    raise KeyError(url)


@pytest.mark.parametrize("capture", whole_site_captures(), ids=lambda p: p.name)
def test_capture_matches_database_ground_truth(capture):
    result = compare_capture(capture)
    failures = {name: mismatches[:5] for name, mismatches in result.mismatches.items() if mismatches}
    assert failures == {}
    # Every post, thread and user a guest's pages show was actually compared.
    truth = expected(capture)
    posts = [p for p in truth["posts"] if shown_to_guest(p)]
    assert result.matches["post.floor"] == len(posts) > 0
    whole = [p for p in posts if STATUS_NOTES.get(p["status_note"].split(" ", 1)[0]) == "ok"]
    assert result.matches["post.content_text"] == len(whole)
    assert result.matches.get("post.unshown_not_parsed", 0) == len(truth["posts"]) - len(posts)
    # Every member a guest's pages show as a post's author; members without a post appear on no other page
    # than their own profile (linked from a debate, an activity or a moderation line).
    posters = {p["authorid"] for p in posts}
    assert result.matches["user.post.credits"] == len([u for u in truth["users"] if u["uid"] in posters]) > 0
    visible = [t for t in truth["threads"] if t["tid"] not in truth["hidden_threads"] and shown_to_guest(t)]
    assert result.matches["thread.page.title"] == len(visible)


def test_relative_times_use_the_exact_span_title():
    page = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=2&page=7")
    posts = {p.pid: p for p in page.posts}
    assert posts[75].posted_at_text == "3 天前"
    assert posts[75].posted_at == datetime(2026, 11, 22, 10, 53, 53, tzinfo=CST)
    assert posts[76].posted_at_text == "昨天 11:43"
    assert posts[76].posted_at == datetime(2026, 11, 24, 11, 43, 53, tzinfo=CST)
    assert posts[77].posted_at_text == "21 分钟前"
    assert posts[77].posted_at == datetime(2026, 11, 25, 11, 33, 53, tzinfo=CST)


def test_rounded_figures_keep_what_the_page_shows_and_the_exact_value():
    page = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=2&page=1")
    stats = {s.uid: s for s in page.user_stats}
    assert stats[3].raw["回帖"] == "4万"
    assert stats[3].replies == 41088 and stats[3].approx == []
    # 回帖 on this release is posts minus threads: the total is rebuilt.
    assert stats[3].posts == 41088 + 112
    assert stats[3].extcredits["铜板"] == {"value": 51645, "unit": "枚"}
    assert stats[3].online_hours == 13578


def test_quote_edit_note_code_and_image_are_separated_from_text():
    page = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=2&page=1")
    posts = {p.pid: p for p in page.posts}
    quote = posts[18].quotes[0]
    assert (quote.pid, quote.author, quote.time_text) == (13, "西秦小编", "2024-10-1 09:00")
    assert posts[18].content_text == "当然是老街那家！"
    assert "<blockquote>" in posts[18].content_html
    assert (posts[20].edited_by, posts[20].edited_at) == ("老盐工", datetime(2024, 10, 3, 10, 15, tzinfo=CST))
    assert "本帖最后由" not in posts[20].content_text
    assert posts[22].content_text == "菜单整理成代码块了：\n水煮牛肉 68\n冷吃兔 45\n鲜锅兔 58"
    page2 = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=2&page=2")
    images = [a for a in page2.attachments if a.pid == 24]
    assert [(a.kind, a.url) for a in images] == [("image", "http://bbs.example.test/static/image/common/logo.png")]


def test_special_pages_are_recognised():
    missing_forum = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=forumdisplay&fid=999")
    assert (missing_forum.kind, missing_forum.status, missing_forum.fid) == ("special", "not_found", 999)
    assert missing_forum.message == "抱歉，指定的版块不存在"
    missing_thread = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=9999&page=1")
    assert (missing_thread.status, missing_thread.http_status, missing_thread.tid) == ("not_found", 404, 9999)
    members_only = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=27")
    assert (members_only.kind, members_only.status) == ("special", "login_required")
    assert members_only.posts == [] and members_only.threads == []


def test_logged_in_pages_parse_like_guest_pages():
    member = page_at(SITE_MEMBER, "http://bbs.example.test/forum.php?mod=viewthread&tid=27")
    assert member.kind == "viewthread"
    assert member.threads[0].title == "站务：会员守则"
    assert [(p.floor, p.author, p.posted_at) for p in member.posts] == [
        (1, "admin", datetime(2024, 1, 1, 10, 0, tzinfo=CST))]
    guest = page_at(SITE_A, "http://bbs.example.test/forum.php?mod=viewthread&tid=1")
    seen = page_at(SITE_MEMBER, "http://bbs.example.test/forum.php?mod=viewthread&tid=1")
    assert [(p.pid, p.floor, p.author_uid) for p in seen.posts] == [(p.pid, p.floor, p.author_uid) for p in guest.posts]
    forums = page_at(SITE_MEMBER, "http://bbs.example.test/forum.php?mod=forumdisplay&fid=43")
    assert (forums.kind, forums.fid, [t.tid for t in forums.threads]) == ("forumdisplay", 43, [27])


# --- real-world pages (../shared/fixtures/real/INDEX.md) ---------------------------------------

def real(path: str, url: str):
    return parse_page(url, (REAL / path).read_bytes())


def test_talkop_guest_thread_page():
    page = real("bbs.talkop.com/viewthread-1.html", "http://bbs.talkop.com/thread-108869-1-1.html")
    thread = page.threads[0]
    assert (thread.tid, thread.fid, thread.views, thread.replies, page.pages) == (108869, 49, 25031, 74, 8)
    assert thread.title == "【TalkOP汉化】海贼王资料集生命卡ONE PIECE图鉴全图翻译（201811可可亚西村+大监狱）"
    assert [p.pid for p in page.posts] == [608948, 608949, 608950, 608951, 608952, 608958, 608971, 608977, 608978,
                                            608983]
    first, second, third = page.posts[:3]
    assert (first.floor, first.author, first.author_uid, first.posted_at) == (
        1, "鹰目", 2, datetime(2018, 11, 1, 23, 44, tzinfo=CST))
    assert (second.floor, second.author, second.author_uid) == (2, "红茶北冰洋", 5047)
    assert second.content_text == "翻译翻得我灵魂升天……………………………………我爱斯摩格（冷静点"
    assert (third.floor, third.author, third.author_uid) == (3, "智障田螺", 98050)
    stats = {s.uid: s for s in page.user_stats}
    assert (stats[2].threads, stats[2].posts, stats[2].credits) == (3164, 9437, 44705)
    assert stats[2].raw["积分"] == "4万" and stats[2].raw["签到天数"] == "1289 天"
    assert (stats[5047].threads, stats[5047].posts, stats[5047].credits) == (21, 233, 1200)
    users = {u.uid: u for u in page.users}
    assert users[2].group_title == "管理员"
    # The guest notice Discuz puts inside messages with attachments is not post content.
    assert "马上注册" not in first.content_text


def test_talkop_browser_saved_logged_in_thread_page():
    page = real("bbs.talkop.com/viewthread-2.html", "http://bbs.talkop.com/forum.php?mod=viewthread&tid=117429")
    thread = page.threads[0]
    assert (thread.tid, thread.fid, thread.views, thread.replies, page.pages) == (117429, 49, 8430, 93, 10)
    assert [p.pid for p in page.posts] == [735608, 735610, 735618, 735621, 735622, 735623, 735627, 735630, 735631,
                                            735636]
    first, second, third = page.posts[:3]
    assert (first.floor, first.author, first.author_uid, first.posted_at) == (
        1, "鹰目", 2, datetime(2019, 8, 2, 0, 20, tzinfo=CST))
    assert (second.floor, second.author, second.author_uid, second.posted_at) == (
        2, "飯糰超人", 10352, datetime(2019, 8, 2, 0, 40, tzinfo=CST))
    assert (third.floor, third.author, third.author_uid) == (3, "dsfgt6", 140405)
    stats = {s.uid: s for s in page.user_stats}
    assert (stats[2].threads, stats[2].posts, stats[2].credits) == (3165, 9439, 44712)
    assert (stats[10352].threads, stats[10352].posts, stats[10352].credits) == (1, 666, 2928)
    assert {u.uid: u.group_title for u in page.users}[10352] == "超新星"


def test_talkop_forum_list_filtered_by_type():
    page = real("bbs.talkop.com/forumdisplay-1.html",
                "http://bbs.talkop.com/forum.php?mod=forumdisplay&fid=49&filter=typeid&typeid=145")
    assert (page.kind, page.fid, page.pages) == ("forumdisplay", 49, 1)
    assert len(page.threads) == 14 and not any(t.is_sticky for t in page.threads)
    rows = {t.tid: t for t in page.threads}
    first = page.threads[0]
    assert (first.tid, first.type_prefix, first.author, first.author_uid) == (109548, "[生命卡]", "鹰目", 2)
    assert first.title == "【TalkOP汉化】海贼王资料集生命卡ONE PIECE图鉴完全版汉化（201809初始套装32张+和之国2张）"
    assert (first.replies, first.views, first.last_poster) == (1121, 64782, "kiku")
    assert first.created_at == datetime(2018, 11, 25, 13, 43, tzinfo=CST)
    assert first.last_post_at == datetime(2019, 12, 4, 2, 44, tzinfo=CST)
    assert (rows[111668].replies, rows[111668].views) == (568, 25375)
    assert (rows[108869].replies, rows[108869].views) == (74, 25031)
    assert (rows[107596].replies, rows[107596].views) == (96, 26247)
    assert (rows[117429].replies, rows[117429].views) == (93, 8407)
    assert page.threads[-2].tid == 108869 and page.threads[-1].tid == 107596
    assert [f.name for f in page.forums if f.fid == 49] == ["TalkOP汉化区"]


# --- the README facts of captures G, G-TC and K, and what their comparison found -------------------------

SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
SITE_K = FIXTURES / "discuz-70-utf8-k"


@pytest.mark.parametrize("capture, change, field, count", [
    # 7.0 prints H:i: compared to the second, every post time but those on a full minute would differ.
    (SITE_K, {"post_times_with_seconds": True}, "post.posted_at", 140),
    # G has 8 posts per page: at the default 10, the long thread and the debate would have the wrong count.
    (SITE_G, {"posts_per_page": 10}, "thread.page.pages", 2),
    # K's post block shows no thread count: demanding one finds None for every poster.
    (SITE_K, {"post_block_counts": frozenset({"credits", "threads", "posts"})}, "user.post.threads", 19),
])
def test_capture_facts_are_what_the_pages_show_not_loosenings(capture, change, field, count):
    import dataclasses

    from .ground_truth import capture_facts

    result = compare_capture(capture, facts=dataclasses.replace(capture_facts(capture), **change))
    assert len(result.mismatches[field]) == count


def test_70_thread_replies_come_from_the_last_page_and_the_goods_count():
    # 7.0's pager shows no count and the page no 回复: page 1 of 4 cannot tell, the last page's last floor can.
    assert page_at(SITE_K, "http://bbs.k7.test/thread-1-1-1.html").threads[0].replies is None
    last = page_at(SITE_K, "http://bbs.k7.test/thread-1-4-1.html")
    assert (last.page, last.pages, last.posts[-1].floor, last.threads[0].replies) == (4, 4, 58, 57)
    # The trade thread: 3 reply floors, and its 2 goods posts count in replies (商品数: 2), as on the list.
    trade = page_at(SITE_K, "http://bbs.k7.test/thread-6-1-1.html")
    assert ([p.floor for p in trade.posts], trade.threads[0].replies) == ([1, 2, 3, 4], 5)


def test_70_closed_thread_is_read_from_its_last_moderation_line():
    closed = page_at(SITE_K, "http://bbs.k7.test/thread-2-1-1.html")  # 本主题由 白马寺钟声 于 … 关闭
    assert closed.threads[0].is_closed is True
    # tid 1's last moderation was 加入精华, and tid 3 has none: the page does not say.
    assert page_at(SITE_K, "http://bbs.k7.test/thread-1-1-1.html").threads[0].is_closed is None
    assert page_at(SITE_K, "http://bbs.k7.test/thread-3-1-1.html").threads[0].is_closed is None


def test_70_list_times_use_the_exact_span_title():
    # 3&nbsp;天前&nbsp;14:17 with title 2026-12-03 14:17; the Date header is 2026-12-06 03:27 (+08:00).
    rows = {t.tid: t for t in page_at(SITE_K, "http://bbs.k7.test/forum-3-1.html").threads}
    assert rows[16].last_post_at_text == "3 天前 14:17"
    assert rows[16].last_post_at == datetime(2026, 12, 3, 14, 17, tzinfo=CST)


@pytest.mark.parametrize("capture", [SITE_G, SITE_G_TC], ids=["g", "g-tc"])
def test_x35_anonymous_post_shows_the_anonymous_name_and_no_uid(capture):
    post = next(p for p in page_at(capture, "http://bbs.zigong.test/thread-144-1-1.html").posts if p.pid == 2185)
    assert (post.author, post.author_uid, post.floor) == ("匿名", None, 3)


def test_global_sticky_row_leaves_its_forum_to_the_thread_page():
    # tid 140 (displayorder 3) heads every forum's list: the rows cannot say which forum is its own.
    for url in ("http://bbs.zigong.test/forum-11-1.html", "http://bbs.zigong.test/forum-12-1.html"):
        row = next(t for t in page_at(SITE_G, url).threads if t.tid == 140)
        assert (row.is_sticky, row.fid) == (True, None)
    assert page_at(SITE_G, "http://bbs.zigong.test/thread-140-1-1.html").threads[0].fid == 11
