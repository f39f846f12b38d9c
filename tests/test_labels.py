"""Labels in both scripts: the one table of :mod:`scraper.parsers.labels` and the readers that use it.

Discuz's Traditional-Chinese packs (TC_UTF8, TC_BIG5) print every label the simplified packs print with
traditional characters (本帖最後由 … 於 … 編輯, 該帖被管理員或版主屏蔽, 積分, 回覆), and a few in other words
(線上時間, 登入). A label named once, in simplified characters, must serve both.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page
from scraper.parsers.dates import parse_discuz_time
from scraper.parsers.labels import (
    LabelTable, any_label_re, chars, label_pattern, label_re, label_regex, simplified, spellings, traditional,
    xpath_contains,
)
from scraper.parsers.stats import KNOWN_LABELS

from .conftest import FIXTURES, captured_pages, expected, requires_fixtures

CST = timezone(timedelta(hours=8))
DATE_HEADER = "Sat, 05 Dec 2026 19:12:00 GMT"  # 2026-12-06 03:12 in UTC+8
SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
SITE_K = FIXTURES / "discuz-70-utf8-k"

# (simplified, as a traditional pack prints it): the G-TC capture's pages (OpenCC s2t of the X3.5 packs) and
# Discuz's own TC packs.
BOTH_SCRIPTS = [
    ("该帖被管理员或版主屏蔽", "該帖被管理員或版主屏蔽"),
    ("作者被禁止或删除 内容自动屏蔽", "作者被禁止或刪除 內容自動屏蔽"),
    ("游客，如果您要查看本帖隐藏内容请回复", "遊客，如果您要查看本帖隱藏內容請回覆"),
    ("本帖最后由", "本帖最後由"),
    ("发表于", "發表於"),
    ("抱歉，您尚未登录，没有权限访问该版块", "抱歉，您尚未登錄，沒有權限訪問該版塊"),
    ("指定的主题不存在或已被删除或正在被审核", "指定的主題不存在或已被刪除或正在被審核"),
    ("在线时间", "在線時間"),
    ("注册时间", "註冊時間"),
    ("最后访问", "最後訪問"),
    ("用户组", "用戶組"),
    ("回帖数", "回帖數"),
    ("主题数", "主題數"),
    ("分钟前", "分鐘前"),
    ("小时前", "小時前"),
    ("刚刚", "剛剛"),
    ("商品数", "商品數"),
    ("本主题由", "本主題由"),
    ("无效楼层", "無效樓層"),
    ("沙发", "沙發"),
]


# --- the table -------------------------------------------------------------------------------

@pytest.mark.parametrize("label, tc", BOTH_SCRIPTS)
def test_a_label_named_once_matches_both_scripts(label, tc):
    pattern = label_re(label)
    assert pattern.fullmatch(label) and pattern.fullmatch(tc)
    assert tc in spellings(label)
    assert simplified(tc) == label
    assert traditional(label) == tc


def test_a_character_with_several_traditional_forms_matches_each():
    # 回复 is 回覆 in the packs, but OpenCC writes 请回复 as 請回復: both are read.
    for text in ("回复", "回覆", "回復", "請回復", "请回覆"):
        assert label_re("回复").search(text), text
    assert {"請回覆", "請回復"} <= set(spellings("请回复"))
    assert not label_re("回复").search("回帖")


@pytest.mark.parametrize("label, other", [
    ("在线时间", "線上時間"), ("最后登录", "最後登入"), ("用户组", "會員組"), ("回复", "回應"), ("浏览", "觀看"),
])
def test_labels_a_traditional_pack_words_differently_are_synonyms(label, other):
    assert label_re(label).fullmatch(other)
    assert other in spellings(label)
    assert LabelTable({label: "x"}).find(other) == "x"


def test_label_regex_turns_only_the_labels_into_classes():
    assert label_regex(r"共\s*(\d+)\s*页") == r"共\s*(\d+)\s*[页頁]"
    # Inside a class the forms join the class; negated classes, escapes and a leading "]" are kept as written.
    assert label_regex(r"[于於]") == "[于於於]"
    assert label_regex(r"[^\d:：]") == r"[^\d:：]"
    assert label_regex(r"\[i=s\][^\[]*?编辑\s*\[/i\]") == r"\[i=s\][^\[]*?[编編][辑輯]\s*\[/i\]"
    assert label_regex(r"[]后]后") == "[]后後][后後]"
    assert re.fullmatch(label_regex(r"\[i=s\][^\[]*?编辑\s*\[/i\]"), "[i=s] 本帖最後由 甲 於 2024-1-1 10:00 編輯 [/i]")


def test_label_pattern_keeps_groups_and_flags():
    edit = label_pattern(r"本帖最后由\s*(?P<editor>.+?)\s*于\s*(?P<time>\S+ \S+)\s*编辑")
    m = edit.search(" 本帖最後由 鹽都張哥 於 2026-1-6 09:30 編輯 ")
    assert (m.group("editor"), m.group("time")) == ("鹽都張哥", "2026-1-6 09:30")
    assert label_pattern("login", re.I).search("LOGIN")


def test_label_table_finds_a_label_in_either_script():
    table = LabelTable({"积分": "credits", "注册时间": "registered"})
    assert table.find("积分") == table.find("積分") == "credits"
    assert table.find("註冊時間") == table.find("注冊時間") == "registered"
    assert table.find("威望") is None and not table.has("威望")
    assert KNOWN_LABELS.find("閱讀權限") == "readperm" and KNOWN_LABELS.find("聽眾") == "followers"


def test_xpath_predicate_names_every_spelling():
    predicate = xpath_contains("用户组")
    for spelling in ("用户组", "用戶組", "會員組"):
        assert f"'{spelling}'" in predicate


def test_any_label_re_and_chars_escape_regex_syntax():
    assert any_label_re("积分高于", "隐藏").search("積分高於 100 才可瀏覽")
    assert re.fullmatch(chars("UID(1)"), "UID(1)")


# --- the readers, on a Traditional-Chinese page -------------------------------------------------------

NOW = datetime(2026, 12, 5, 19, 12, tzinfo=timezone.utc)  # 2026-12-06 03:12 in UTC+8


@pytest.mark.parametrize("shown, want", [
    ("2 小时前", datetime(2026, 12, 6, 1, 12, tzinfo=CST)),
    ("2 小時前", datetime(2026, 12, 6, 1, 12, tzinfo=CST)),
    ("25 分鐘前", datetime(2026, 12, 6, 2, 47, tzinfo=CST)),
    ("半小時前", datetime(2026, 12, 6, 2, 42, tzinfo=CST)),
    ("剛剛", datetime(2026, 12, 6, 3, 12, tzinfo=CST)),
    ("刚才", datetime(2026, 12, 6, 3, 12, tzinfo=CST)),  # 7.x says 刚才
    ("前天 21:35", datetime(2026, 12, 4, 21, 35, tzinfo=CST)),
    # 7.x: "N 天前 H:i" is that calendar day at that time (X prints "N 天前" alone).
    ("3 天前 14:17", datetime(2026, 12, 3, 14, 17, tzinfo=CST)),
    ("發表時間: 2026-1-6 09:30", datetime(2026, 1, 6, 9, 30, tzinfo=CST)),
    ("發表於 2026-1-6 09:30", datetime(2026, 1, 6, 9, 30, tzinfo=CST)),
])
def test_relative_and_prefixed_times_in_both_scripts(shown, want):
    assert parse_discuz_time(shown, now=NOW) == want

def _tc_post(pid: int, floor: str, message: str = "", *, uid: int = 5, author: str = "鹽都張哥",
             time_html: str = "發表於 2026-1-6 09:30:15", locked: str = "", pls: str = "") -> str:
    body = (f'<div class="locked">{locked}</div>' if locked else
            f'<div class="t_fsz"><table><tr><td class="t_f" id="postmessage_{pid}">{message}</td></tr></table></div>')
    return f"""<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}"><tr>
<td class="pls" rowspan="2"><div id="favatar{pid}" class="pls favatar">
<div class="pi"><div class="authi"><a href="space-uid-{uid}.html" class="xw1">{author}</a></div></div>{pls}</div></td>
<td class="plc"><div class="pi"><strong><a href="forum.php?mod=redirect&amp;goto=findpost&amp;ptid=7&amp;pid={pid}"
 id="postnum{pid}">{floor}</a></strong>
<div class="pti"><div class="authi"><em id="authorposton{pid}">{time_html}</em></div></div></div>
<div class="pct"><div class="pcb">{body}</div></div></td></tr></table></div>"""


def _tc_thread_page(*posts: str, header: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=big5" />
<meta name="generator" content="Discuz! X3.5" /></head><body>
<script type="text/javascript">var fid = parseInt('11'), tid = parseInt('7');</script>
<div id="pt"><a href="forum.php">論壇</a><a href="forum-11-1.html">鹽都雜談</a></div>
<div id="pgt"><div class="pg"><strong>1</strong><a href="forum.php?mod=viewthread&amp;tid=7&amp;page=2">2</a>
<label><span title="共 3 頁"> / 3 頁</span></label></div></div>
<div id="postlist"><table><tr><td class="pls"><div class="hm">{header}</div></td><td class="plc"><h1 class="ts">
<span id="thread_subject">測試主題</span></h1></td></tr></table>
{''.join(posts)}
</div></body></html>"""


def test_big5_traditional_page_reads_states_edits_times_floors_and_stats():
    pls = ('<div class="tns"><table><th><p><a>52</a></p>主題</th><th><p><a>6萬</a></p>回帖</th>'
           '<td><p><a>1751</a></p>積分</td></table></div>'
           '<p><em><a href="home.php?mod=spacecp&amp;ac=usergroup&amp;gid=14">金牌會員</a></em></p>'
           '<dl class="pil cl"><dt>線上時間</dt><dd>12 小時</dd><dt>金錢</dt><dd>40 枚</dd></dl>')
    html = _tc_thread_page(
        _tc_post(1, "樓主", '<i class="pstatus"> 本帖最後由 鹽都張哥 於 2026-1-6 09:30 編輯 </i><br /><br />正文',
                 pls=pls),
        _tc_post(2, "沙發", uid=60, author="誠信代辦", time_html="發表於 2&nbsp;小時前",
                 locked="提示: <em>作者被禁止或刪除 內容自動屏蔽</em>"),
        _tc_post(3, "板凳", uid=65, author="大安老住戶", time_html="發表於 <span title=\"2026-12-5 09:15\">昨天&nbsp;09:15</span>",
                 locked="提示: <em>該帖被管理員或版主屏蔽</em>"),
        _tc_post(4, "<em>4</em><sup>#</sup>", '可見部分<div class="locked">遊客，如果您要查看本帖隱藏內容請<a href="#">回覆</a></div>',
                 uid=42, author="冷喫兔掌櫃", time_html="發表於 25&nbsp;分鐘前"),
        # A theme without the span.xi1 pair: the labels are read.
        header='<span class="xg1">查看: 8342</span> | <span class="xg1">回覆: 2</span>')
    body = html.encode("big5")
    page = parse_page("http://bbs.zigong.test/forum.php?mod=viewthread&tid=7", body, date_header=DATE_HEADER)
    assert page.charset == "big5hkscs"
    thread = page.threads[0]
    assert (thread.title, thread.views, thread.replies, page.pages) == ("測試主題", 8342, 2, 3)
    posts = {p.pid: p for p in page.posts}
    assert [p.floor for p in page.posts] == [1, 2, 3, 4]
    assert [p.status for p in page.posts] == ["ok", "banned_author", "banned_single", "hide_partial"]
    first = posts[1]
    assert (first.edited_by, first.edited_at) == ("鹽都張哥", datetime(2026, 1, 6, 9, 30, tzinfo=CST))
    assert first.content_text == "正文" and "本帖最後由" not in first.content_text
    assert first.posted_at == datetime(2026, 1, 6, 9, 30, 15, tzinfo=CST)
    assert posts[2].posted_at == datetime(2026, 12, 6, 1, 12, tzinfo=CST)  # 2 小時前
    assert posts[3].posted_at == datetime(2026, 12, 5, 9, 15, tzinfo=CST)  # the span's title
    assert posts[4].posted_at == datetime(2026, 12, 6, 2, 47, tzinfo=CST)  # 25 分鐘前
    stats = next(s for s in page.user_stats if s.uid == 5)
    assert (stats.threads, stats.replies, stats.posts, stats.credits, stats.online_hours) == (
        52, 60000, 60052, 1751, 12)
    assert stats.approx == ["replies", "posts"]  # 6萬, as on a simplified page 6万
    assert stats.extcredits == {"金錢": {"value": 40, "unit": "枚"}}
    user = next(u for u in page.users if u.uid == 5)
    assert (user.group_title, user.group_id) == ("金牌會員", 14)


@pytest.mark.parametrize("message, status", [
    ("抱歉，您尚未登錄，沒有權限訪問該版塊", "login_required"),
    ("抱歉，指定的主題不存在或已被刪除或正在被審核", "not_found"),
    ("抱歉，您所在的用戶組(遊客)無法進行此操作", "no_permission"),
    ("抱歉，您的請求過快，請稍後再試", "flood"),
])
def test_traditional_showmessage_pages_get_their_state(message, status):
    html = (f'<html><head><meta charset="big5"></head><body><div id="ct"><div id="messagetext" class="alert_error">'
            f'<p>{message}</p></div></div></body></html>')
    page = parse_page("http://bbs.zigong.test/forum.php?mod=viewthread&tid=148", html.encode("big5"))
    assert (page.kind, page.status, page.message) == ("special", status, message)


# --- the Traditional-Chinese capture against the simplified one -------------------------------------------

def _parsed(folder):
    return [parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
            for p in captured_pages(folder)]


def _posts(folder) -> dict:
    return {post.pid: post for page in _parsed(folder) for post in page.posts}


@requires_fixtures
def test_traditional_capture_keeps_the_states_and_edits_of_the_simplified_one():
    sc, tc = _posts(SITE_G), _posts(SITE_G_TC)
    assert sc.keys() == tc.keys()
    states = {pid: post.status for pid, post in tc.items() if post.status != "ok"}
    assert states == {pid: post.status for pid, post in sc.items() if post.status != "ok"} == {
        2111: "banned_author", 2113: "banned_single", 2132: "hide_partial", 2208: "banned_author"}
    edited = {pid: (post.edited_by, post.edited_at) for pid, post in tc.items() if post.edited_by}
    assert {pid: at for pid, (_, at) in edited.items()} == {
        pid: post.edited_at for pid, post in sc.items() if post.edited_by}
    truth = {p["pid"]: p for p in expected(SITE_G_TC)["posts"]}
    assert len(edited) == sum(p["edited"] for p in truth.values() if p["guest_visible"]) == 6
    assert edited[2005] == ("貢井老街", datetime(2026, 11, 30, 21, 40, tzinfo=CST))
    assert all("本帖最後由" not in (post.content_text or "") for post in tc.values())


@requires_fixtures
def test_traditional_profile_reads_counts_group_and_credits():
    page = next(p for p in _parsed(SITE_G_TC) if p.url.endswith("home.php?mod=space&uid=36&do=profile"))
    stats, user = page.user_stats[0], page.users[0]
    want = next(u for u in expected(SITE_G_TC)["users"] if u["uid"] == 36)
    assert (stats.threads, stats.posts, stats.credits, stats.online_hours) == (
        want["threads"], want["posts"], want["credits"], want["oltime"])
    assert {name: figure["value"] for name, figure in stats.extcredits.items()} == {
        "威望": want["extcredits1"], "金錢": want["extcredits2"], "貢獻": want["extcredits3"]}
    assert (user.group_id, user.group_title) == (want["groupid"], "超級版主")


@requires_fixtures
def test_7x_labels_read_in_traditional_characters():
    # The 7.0 capture's own pages with their labels as a TC pack prints them.
    def tc_page(url, *pairs):
        page = next(p for p in captured_pages(SITE_K) if p.url == url)
        text = page.body.decode("utf-8")
        for sc_text, tc_text in pairs:
            assert sc_text in text
            text = text.replace(sc_text, tc_text)
        return parse_page(url, text.encode("utf-8"), date_header=page.date)

    closed = tc_page("http://bbs.k7.test/thread-2-1-1.html", ("本主题由", "本主題由"), (" 关闭</a>", " 關閉</a>"),
                     ("发表于", "發表於"))
    assert closed.threads[0].is_closed is True
    assert closed.posts[0].posted_at == datetime(2009, 8, 1, 9, 0, tzinfo=CST)
    trade = tc_page("http://bbs.k7.test/thread-6-1-1.html", ("商品数", "商品數"))
    assert trade.threads[0].replies == 5  # 3 reply floors + 商品數: 2
    banned = tc_page("http://bbs.k7.test/thread-1-1-1.html", ("作者被禁止或删除 内容自动屏蔽", "作者被禁止或刪除 內容自動屏蔽"))
    assert next(p for p in banned.posts if p.pid == 14).status == "banned_author"
