"""Parsers on real Discuz! pages: whole-site captures against their database, real-world pages against INDEX.md."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page

from .conftest import REAL, SITE_A, SITE_MEMBER, captured_pages, requires_fixtures, whole_site_captures
from .ground_truth import compare_capture

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
    # Every post, thread and user of the ground truth was actually compared.
    from .conftest import expected

    truth = expected(capture)
    assert result.matches["post.floor"] == len(truth["posts"])
    assert result.matches["post.content_text"] >= len(truth["posts"]) - 1
    # Every member a guest's pages show (as a post's author); members without a post appear nowhere.
    posters = {p["authorid"] for p in truth["posts"] if p.get("visible_to_guest", True)}
    assert result.matches["user.post.credits"] == len([u for u in truth["users"] if u["uid"] in posters]) > 0
    visible = [t for t in truth["threads"] if t["tid"] not in truth["hidden_threads"]]
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
