"""Mobile-API answers (api/mobile/index.php JSON) into the same items as the HTML parsers.

Real answers: ../shared/fixtures/real/bbs.saraba1st.com/*.json (values from real/INDEX.md) and the
``pages/api-*.json`` of the discuz-x34-utf8-a-state2 capture (checked against its database). The
small synthetic answers at the end cover the states those files lack.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page

from .conftest import REAL, SITE_A2, captured_pages, requires_fixtures

CST = timezone(timedelta(hours=8))
S1 = "http://bbs.saraba1st.com/2b/api/mobile/index.php?version=1&module="
API = "http://bbs.example.test/api/mobile/index.php?version=4&module="


def saraba(name: str, url: str):
    return parse_page(url, (REAL / "bbs.saraba1st.com" / name).read_bytes())


def state2(url: str):
    for page in captured_pages(SITE_A2):
        if page.url == url:
            return parse_page(page.url, page.body, content_type=page.content_type, http_status=page.status,
                              date_header=page.date)
    raise KeyError(url)


@requires_fixtures
def test_real_viewthread_answer():
    page = saraba("mobileapi-viewthread-1.json", S1 + "viewthread&tid=1814693")
    assert (page.kind, page.status, page.tid, page.fid, page.page, page.pages) == ("viewthread", "ok", 1814693, 115, 1, 1)
    thread = page.threads[0]
    assert (thread.title, thread.author, thread.author_uid, thread.views, thread.replies) == (
        "固态硬盘 内存", "sonic3908", 137121, 341, 0)
    first, second = page.posts
    assert (first.pid, first.floor, first.is_first, first.author_uid) == (42787580, 1, True, 137121)
    # dbdateline is exact to the second; dateline is what the page showed.
    assert (first.posted_at, first.posted_at_text) == (datetime(2019, 3, 3, 23, 27, 35, tzinfo=CST), "2019-3-3 23:27")
    assert (first.content_text, first.status) == ("", "ok")  # a trade thread's first post has no message key
    assert second.content_text == ("for手机用户：闪迪SSD PLUS 120G全新未拆，150 三星DDR3 1600，8G*2，380 "
                                   "单买不包邮，全部打包包邮 有意者短消息或者留言")
    assert [(a.pid, a.aid, a.kind, a.url, a.name) for a in page.attachments] == [
        (42787580, 542440, "image", "https://img.saraba1st.com/forum/201903/03/232439c7zzndb331rylnnv.jpeg",
         "20190303_181034-01-01-01.jpeg"),
        (42787580, 542441, "image", "https://img.saraba1st.com/forum/201903/03/232440u27tr24xzblc1kyb.jpeg",
         "20190125_220729-01-01.jpeg")]
    assert [u.uid for u in page.users] == [137121] and page.user_stats == []  # the API has no per-post stats


@requires_fixtures
def test_real_error_answer_is_a_missing_thread():
    page = saraba("mobileapi-viewthread-error-2.json", S1 + "viewthread&tid=1")
    assert (page.kind, page.status, page.message) == ("special", "not_found", "抱歉，指定的主题不存在或已被删除或正在被审核")
    assert page.posts == [] and page.threads == [] and page.tid == 1


@requires_fixtures
@pytest.mark.parametrize("name, fid, forum, first, second", [
    ("mobileapi-forumdisplay-1.json", 6, "动漫论坛",
     (1803713, "2019年冬季在播动画专楼汇总", "vxzms", 444069, 22, 11079, "vxzms", "2019-1-11 22:29", "2019-2-15 18:19"),
     (1175676, "比村乳业再度开张了", "黄金蔷薇", 264690, 4066, 607019, "哈里.谢顿", "2015-11-26 22:31", "2019-3-4 09:32")),
    ("mobileapi-forumdisplay-2.json", 51, "ＰＣ数码",
     (800635, "【萌叔】20180113，更新15年抽奖奖品公示，奖品总额翻倍。", "颓废至死", 71755, 879, 593726, "shiji5",
      "2012-4-9 15:22", "2019-1-26 13:00"),
     (1815587, "你们都是用什么测试内存性能的？", "台球论坛网友", 107254, 4, 258, "小野賢章", "2019-3-7 23:54", "2019-3-8 12:38")),
])
def test_real_forumdisplay_answers(name, fid, forum, first, second):
    page = saraba(name, S1 + f"forumdisplay&fid={fid}")
    assert (page.kind, page.fid, page.page, len(page.threads)) == ("forumdisplay", fid, 1, 50)
    assert page.forums[0].fid == fid and page.forums[0].name == forum
    for want, got in ((first, page.threads[0]), (second, page.threads[1])):
        assert (got.tid, got.title, got.author, got.author_uid, got.replies, got.views, got.last_poster,
                got.created_at_text, got.last_post_at_text) == want
        # Exact times from dbdateline/dblastpost, matching the minute the list showed.
        assert got.created_at.strftime("%Y-%-m-%-d %H:%M") == want[7]
        assert got.last_post_at.strftime("%Y-%-m-%-d %H:%M") == want[8]


@requires_fixtures
def test_real_forumdisplay_pages_and_sub_forums():
    page = saraba("mobileapi-forumdisplay-1.json", S1 + "forumdisplay&fid=6")
    assert page.pages == 3149  # ceil(157404 threads / 50 per page)
    assert [(f.fid, f.name, f.parent_fid, f.type) for f in page.forums[1:]] == [(83, "动漫投票鉴赏", 6, "sub")]


# --- the state2 capture's answers -----------------------------------------------------------------

@requires_fixtures
def test_capture_check_index_and_forum_answers():
    check = state2(API + "check")
    assert (check.kind, check.status, check.version) == ("special", "ok", "X3.2")
    index = state2(API + "forumindex")
    assert [(f.fid, f.name, f.parent_fid, f.type) for f in index.forums] == [
        (1, "盐都社区", None, "group"), (2, "盐都杂谈", 1, "forum"), (40, "新闻资讯", 1, "forum"), (41, "摄影天地", 40, "sub")]
    forum = state2(API + "forumdisplay&fid=2&page=1")
    assert (forum.kind, forum.fid, forum.page, forum.pages) == ("forumdisplay", 2, 1, 3)
    sticky = forum.threads[0]
    assert (sticky.tid, sticky.is_sticky, sticky.fid, sticky.created_at) == (3, True, 2, datetime(2024, 11, 1, 8, 0, tzinfo=CST))


@requires_fixtures
def test_capture_viewthread_answer_with_a_quote():
    page = state2(API + "viewthread&tid=2&page=2")
    assert (page.tid, page.page, page.pages, [p.floor for p in page.posts]) == (2, 2, 13, [6, 7, 8, 9, 10])
    post = next(p for p in page.posts if p.pid == 18)
    # The API renders a quote as div.reply_wrap with the findpost link.
    assert [(q.pid, q.author, q.time_text) for q in post.quotes] == [(13, "西秦小编", "2024-10-1 09:00")]
    assert post.content_text == "当然是老街那家！"


@requires_fixtures
def test_capture_profile_answer():
    page = state2(API + "profile&uid=2")
    user, stats = page.users[0], page.user_stats[0]
    assert (page.kind, user.uid, user.username, user.group_id, user.group_title) == ("profile", 2, "西秦小编", 15, "论坛元老")
    assert user.registered_at == datetime(2010, 6, 10, 10, 0, tzinfo=CST)
    assert (stats.credits, stats.threads, stats.posts, stats.online_hours, stats.followers) == (392061, 51000, 93002, 18487, 49)
    assert stats.extcredits["威望"] == {"value": 40638, "unit": "点"}
    assert stats.extcredits["鲜花"] == {"value": 329, "unit": "朵"}


@requires_fixtures
@pytest.mark.parametrize("url, status", [
    (API + "viewthread&tid=27&page=1", "login_required"),  # messagestr is the language key here: messageval decides
    (API + "viewthread&tid=9999&page=1", "not_found"),
])
def test_capture_error_answers(url, status):
    page = state2(url)
    assert (page.kind, page.status) == ("special", status)


@requires_fixtures
def test_capture_answers_match_the_database():
    from bench.accuracy import _capture_pages, compare_api_answers

    result = compare_api_answers(SITE_A2, _capture_pages(SITE_A2, api=True))
    assert {name: bad[:3] for name, bad in result.mismatches.items() if bad} == {}
    assert result.matches["api.post.posted_at"] == 138 and result.matches["api.user.credits"] == 15


# --- synthetic answers ----------------------------------------------------------------------------

def answer(variables: dict | None = None, **top) -> bytes:
    data = {"Version": "4", "Charset": "UTF-8", **top}
    if variables is not None:
        data["Variables"] = variables
    return json.dumps(data, ensure_ascii=True).encode()


def test_plugin_off_and_login_wall_answers():
    off = parse_page(API + "check", b'{"testcookie":null}')
    assert (off.kind, off.status) == ("special", "unknown") and "plugin" in off.message
    wall = parse_page(API + "viewthread&tid=5", b'{"error":"to_login"}')
    assert (wall.kind, wall.status, wall.tid) == ("special", "login_required", 5)


@pytest.mark.parametrize("message, status", [
    ("提示: <em>作者被禁止或删除 内容自动屏蔽</em>", "banned_author"),
    ("提示: <em>该帖被管理员或版主屏蔽</em>", "banned_single"),
    ("此帖仅作者可见", "hidden_reply"),
    ("提示: 这不是屏蔽，只是一段普通的回复", "ok"),
])
def test_server_message_substitutions_are_post_states(message, status):
    body = answer({"thread": {"tid": "5", "fid": "2", "subject": "A &amp; B", "replies": "1", "views": "3"},
                   "postlist": [{"pid": "9", "tid": "5", "first": "0", "number": "2", "author": "甲", "authorid": "4",
                                 "dbdateline": "1700000000", "dateline": "2023-11-15&nbsp;06:13", "message": message}],
                   "ppp": "5"})
    page = parse_page(API + "viewthread&tid=5&page=1", body)
    assert page.posts[0].status == status
    assert (page.threads[0].title, page.posts[0].posted_at_text) == ("A & B", "2023-11-15 06:13")


def test_strings_nulls_and_lists_where_objects_were_expected():
    body = answer({"forum": {"fid": "7", "name": "版块", "threads": "0", "fup": "0"}, "forum_threadlist": [],
                   "sublist": None, "tpp": "20", "page": "1"})
    page = parse_page(API + "forumdisplay&fid=7", body)
    assert (page.kind, page.fid, page.pages, page.threads) == ("forumdisplay", 7, 1, [])
    assert page.forums[0].parent_fid is None
    attach_list = answer({"thread": {"tid": "5"}, "postlist": [{"pid": "9", "number": "1", "first": "1", "message": "x",
                                                               "attachments": [{"aid": "3", "url": "data/attachment/forum/",
                                                                                "attachment": "a/b.zip", "isimage": "0",
                                                                                "filename": "b.zip"}]}]})
    page = parse_page(API + "viewthread&tid=5", attach_list)
    assert [(a.kind, a.url, a.name) for a in page.attachments] == [
        ("file", "http://bbs.example.test/data/attachment/forum/a/b.zip", "b.zip")]
