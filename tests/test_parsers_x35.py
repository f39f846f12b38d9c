"""Parsers on capture F, a stock Discuz! X3.5 with URL rewriting (its README and expected.json)."""
from __future__ import annotations

import dataclasses

import pytest

from scraper.parsers import parse_page

from .conftest import FIXTURES, captured_pages, expected
from .ground_truth import bbcode_text, capture_facts, compare_capture

SITE_F = FIXTURES / "discuz-x35-utf8-f"
pytestmark = pytest.mark.skipif(not SITE_F.exists(), reason="../shared/fixtures/discuz-x35-utf8-f is not there")
HOST = "http://bbs.sample.test/"


def page_at(path):
    """Capture F's page for ``HOST + path``, parsed as the crawler would."""
    for p in captured_pages(SITE_F):
        if p.url == HOST + path:
            return parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
    raise KeyError(path)


def rows(path):
    return {t.tid: t for t in page_at(path).threads}


def test_x35_forum_sticky_icon_keeps_the_thread_in_its_forum():
    # <i class="tpin tpin1"> (displayorder 1) replaces X3.4's pin_1.gif: the sticky belongs to this forum.
    listed = rows("forum-36-1.html")
    assert (listed[7].is_sticky, listed[7].fid) == (True, 36)
    assert [t.fid for t in listed.values()] == [36] * 5


def test_x35_digest_badge_marks_the_list_row():
    # <span class="tbox tdigest">精华1</span> after the title; tids 8 and 16 are the digests.
    digests = {tid for path in ("forum-36-1.html", "forum-36-2.html", "forum-37-1.html", "forum-38-1.html",
                                "forum-39-1.html") for tid, t in rows(path).items() if t.is_digest}
    assert digests == {8, 16}


def test_x35_lock_icon_marks_a_closed_thread_page():
    # <i class="fico-lock fc-s" title="关闭"> beside the subject; tid 23 is the closed one.
    assert page_at("thread-23-1-1.html").threads[0].is_closed is True
    assert page_at("thread-22-1-1.html").threads[0].is_closed is False
    assert page_at("thread-8-3-1.html").threads[0].is_closed is False


@pytest.mark.parametrize("path, page, pages", [
    ("thread-8-1-1.html", 1, 6),  # all page links shown, "共 6 页"
    ("thread-8-6-1.html", 6, 6),
    ("forum.php?mod=viewthread&tid=8&extra=page%3D1&page=3", 3, 6),
    ("thread-9-2-2.html", 2, 2),
    ("thread-16-3-1.html", 3, 3),
    ("thread-7-1-1.html", 1, 1),  # one page: no pager at all
])
def test_x35_pager_gives_page_and_page_count(path, page, pages):
    parsed = page_at(path)
    assert (parsed.page, parsed.pages, parsed.threads[0].pages) == (page, pages, pages)


def test_x35_profile_reads_extcredits_by_label():
    parsed = page_at("home.php?mod=space&uid=2&do=profile")
    stats = parsed.user_stats[0]
    assert (stats.source, stats.uid) == ("profile", 2)
    assert stats.extcredits == {"威望": {"value": 3120, "unit": None}, "金钱": {"value": 61480, "unit": None},
                                "贡献": {"value": 880, "unit": None}}
    # 回帖数 / 主题数 are links in the 统计信息 line; posts is their sum.
    assert (stats.replies, stats.threads, stats.posts, stats.credits) == (235480, 18820, 254300, 322900)
    assert stats.online_hours == 30210


def test_x35_post_block_is_read_for_what_it_shows_only():
    # This install's block beside a post shows 主题 / 回帖 / 积分 and the group: no extcredit,
    # online time or followers may be made up from it.
    stats = {s.uid: s for s in page_at("thread-8-1-1.html").user_stats}
    assert stats[4].raw == {"主题": "503", "回帖": "1万", "积分": "1万"}
    assert (stats[4].threads, stats[4].replies, stats[4].posts, stats[4].credits) == (503, 11505, 12008, 17287)
    assert (stats[4].extcredits, stats[4].online_hours, stats[4].followers) == ({}, None, None)


def test_bbcode_list_items_read_as_lines_like_the_rendered_li():
    message = "分类：\n[list]\n[*][b]攻略[/b]：路线\n[*]游记\n[/list]\n\n完"
    assert bbcode_text(message) == "分类：\n\n攻略：路线\n游记\n\n完"
    truth = next(p for p in expected(SITE_F)["posts"] if p["pid"] == 301)
    post = next(p for p in page_at("thread-7-1-1.html").posts if p.pid == 301)
    assert "[*]" in truth["message_bbcode"]
    assert post.content_text == bbcode_text(truth["message_bbcode"])
    assert "攻略：路线、费用、住宿推荐\n游记：图文游记、出行见闻" in post.content_text


def test_views_compare_in_the_direction_the_capture_readme_gives():
    # F's expected views were read after the capture: the pages show at most that many.
    facts = capture_facts(SITE_F)
    assert (facts.views_read_after_capture, facts.posts_per_page) == (True, 6)
    result = compare_capture(SITE_F)
    assert result.matches["thread.page.views_at_most"] == len(expected(SITE_F)["threads"]) == 18
    assert "thread.page.views_at_least" not in result.matches
    # Compared the other way, as for capture A, every thread would be wrong: the flag is not a loosening.
    as_if_before = compare_capture(SITE_F, facts=dataclasses.replace(facts, views_read_after_capture=False))
    assert len(as_if_before.mismatches["thread.page.views_at_least"]) == 18


def test_members_no_page_shows_are_not_demanded_nor_invented():
    # admin (uid 1) has no post, so no guest page names him; the other 12 members are all found.
    result = compare_capture(SITE_F)
    assert result.matches["user.unshown_not_parsed"] == 1
    assert result.matches["user.found"] == 12
    assert not result.mismatches.get("user.found")
