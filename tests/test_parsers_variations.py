"""Discuz! X pages as themes, plugins, browsers and site settings change them.

Each test takes the small X3 thread page of ``test_parsers_units`` (written from the template rules)
and adds one variation seen in the wild: 点评 comments, floor-in-floor replies, sign-in moods,
medals, browser-saved pages, bytes before the doctype, every stats label, every date form and
charset declaration. The plugin markup is written for these tests after the shapes of the real
pages in ../shared/fixtures/real/ (dsu_paulsign, cack_lzl, medals), not copied from them.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from scraper.items import to_dict
from scraper.parsers import parse_page

from .conftest import FIXTURES, requires_fixtures
from .test_parsers_units import parse, post_node, thread_page

CST = timezone(timedelta(hours=8))
URL = "http://bbs.test/forum.php?mod=viewthread&tid=7"


def after_message(node: str, html: str) -> str:
    """Put ``html`` inside div.pcb right after div.t_fsz, where X (点评) and plugins add blocks."""
    end = "</td></tr></table></div></div></div>"  # td.t_f, div.t_fsz, then div.pcb and div.pct
    assert node.count(end) == 1
    return node.replace(end, "</td></tr></table></div>" + html + "</div></div>")


def essentials(page) -> dict:
    """What must not change when a page is decorated: posts, users, stats, attachments, thread."""
    data = to_dict(page)
    for post in data["posts"]:
        post.pop("url")
    # Where the page leads may change with decoration (a commenter's space link); the spider follows
    # only the posters' profiles, and those are what ``users`` holds.
    for key in ("charset", "date_header", "content_type", "fetched_at", "url", "links"):
        data.pop(key)
    for thread in data["threads"]:
        thread.pop("url")
    return data


BASE_MESSAGE = "正文第一行<br />\n正文第二行"


def plain_page(block: str = "") -> str:
    """Two posts with a stats block; ``block`` goes after the first post's message."""
    pls = ('<div class="tns xg2"><table><th><p><a class="xi2">21</a></p>主题</th><th><p><a class="xi2">233</a></p>帖子</th>'
           '<td><p><a class="xi2">1200</a></p>积分</td></table></div>'
           '<p><em><a href="home.php?mod=spacecp&amp;ac=usergroup&amp;gid=23">汉化组</a></em></p>')
    first = post_node(11, "楼主", BASE_MESSAGE, pls_extra=pls)
    return thread_page(after_message(first, block) if block else first, post_node(12, "沙发", "回复内容", uid=6, author="乙"))


# --- plugins and theme blocks ------------------------------------------------------------------

COMMENT_BLOCK = """<div id="comment_11" class="cm"><h3 class="psth xs1"><span class="icon_ring vm"></span>点评</h3>
<div class="pstl xs1 cl"><div class="psta vm"><a href="home.php?mod=space&amp;uid=99" c="1"><img src="uc_server/avatar.php?uid=99&amp;size=small" /></a>
<a href="home.php?mod=space&amp;uid=99" class="xi2 xw1">点评人</a></div>
<div class="psti">辛苦了&nbsp;<span class="xg1">发表于 2024-12-5 19:06</span></div></div></div>
<div id="post_rate_div_11"></div>"""

FLOOR_IN_FLOOR = """<style>.lzl_cnt { margin-left: 45px; }</style><script>function lzlFold(pid) {}</script>
<div class="core_reply_tail"><span class="lzl_link_fold" onclick="lzlFold('11')" id="lzl_link_fold_11">收起回复</span></div>
<div class="lzl_view_list" id="lzl_view_list_11"><ul class="j_lzl_m_w"><li>
<div><img class="avatar" src="uc_server/avatar.php?uid=98&amp;size=small" alt=""></div>
<div class="lzl_cnt"><a href="home.php?mod=space&amp;uid=98" target="_blank">楼中楼甲</a>&#58;<span class="lzl_content_main">楼中楼的话</span>
<div class="lzl_content_reply"><span class="lzl_time">2024-07-03 05:58</span>
<a href="plugin.php?id=cack_lzl:post&amp;mod=report&amp;lzlid=1&amp;tid=7&amp;pid=11">举报</a></div></div></li></ul>
<form method="post" action="plugin.php?id=cack_lzl:post"><input type="hidden" name="pid" value="11">
<textarea name="message" class="lzl_view_lchf_11"></textarea><button type="submit"><strong>发表</strong></button></form></div>"""


@pytest.mark.parametrize("block", [COMMENT_BLOCK, FLOOR_IN_FLOOR], ids=["dianping", "floor_in_floor"])
def test_blocks_after_the_message_do_not_leak_into_the_post(block):
    plain = parse(plain_page())
    decorated = parse(plain_page(block))
    assert decorated.posts[0].content_text == "正文第一行\n正文第二行"
    assert "点评" not in decorated.posts[0].content_html and "楼中楼" not in decorated.posts[0].content_html
    # Nobody from the comment or the floor-in-floor widget becomes a poster or an attachment. A 点评 is kept as
    # what it is, a comment on the post (the floor-in-floor plugin's replies are not read).
    comments = [(c.pid, c.author_uid, c.author, c.comment) for c in decorated.post_comments]
    assert comments == ([(11, 99, "点评人", "辛苦了")] if block is COMMENT_BLOCK else [])
    plain_data, decorated_data = essentials(plain), essentials(decorated)
    decorated_data["post_comments"] = []
    for post in decorated_data["posts"]:
        post["comments_shown"] = post["comments_more"] = None
    assert decorated_data == plain_data


def test_sign_in_mood_medals_and_level_lines_are_not_stats():
    pls = ('<div class="qdsmile"><li><center>TA的每日心情</center><table><tr><th><img src="source/plugin/dsu_paulsign/img/emot/ng.png">'
           '<th><font size="5px">开心</font><br>2024-6-17 17:49</tr></table></li></div>'
           '<p>签到天数: 61 天</p><p>[LV.6]常住居民II</p>'
           '<div class="tns xg2"><table><th><p><a>21</a></p>主题</th><th><p><a>233</a></p>帖子</th><td><p><a>1200</a></p>积分</td></table></div>'
           '<p><em><a href="home.php?mod=spacecp&amp;ac=usergroup&amp;gid=23">汉化组</a></em></p>'
           '<p class="xg1">岛上的老师</p>'
           '<p><span><img src="static/image/common/star_level3.gif" alt="Rank: 8" /></span></p>'
           '<dl class="pil cl"><dt>积分</dt><dd><a class="xi2">1200</a></dd></dl>'
           '<p class="md_ctrl"><a href="home.php?mod=medal"><img id="md_11_13" src="static/image/common/orange.gif" '
           'alt="橘子勋章" title="" onmouseover="showMenu({})" /></a></p><dl class="pil cl"></dl>')
    page = parse(thread_page(post_node(11, "楼主", "x", pls_extra=pls)))
    stats = page.user_stats[0]
    assert (stats.threads, stats.posts, stats.credits) == (21, 233, 1200)
    assert stats.raw["签到天数"] == "61 天" and stats.extcredits == {}
    assert "开心" not in " ".join(stats.raw) and "橘子勋章" not in " ".join(stats.raw.values())
    user = page.users[0]
    assert (user.group_title, user.group_id, user.custom_title) == ("汉化组", 23, "岛上的老师")
    assert page.attachments == []


# --- saved pages -------------------------------------------------------------------------------

def browser_saved(html: str) -> str:
    """What "Save page, complete" writes: tbody in every table, a saved-from comment, upper-case charset."""
    html = re.sub(r"(<table[^>]*>)", r"\1<tbody>", html).replace("</table>", "</tbody></table>")
    html = html.replace("charset=utf-8", "charset=UTF-8")
    return html.replace("<html>", "<!-- saved from url=(0044)http://bbs.test/forum.php?mod=viewthread&tid=7 -->\n<html>", 1)


def test_browser_saved_page_with_inserted_tbody_parses_the_same():
    saved = browser_saved(plain_page())
    assert saved.count("<tbody>") >= 3
    assert essentials(parse(saved)) == essentials(parse(plain_page()))


@pytest.mark.parametrize("prefix", [b" ", b"\r\n", b"\xef\xbb\xbf", b" \xef\xbb\xbf"], ids=["space", "newline", "bom", "space_bom"])
def test_bytes_before_the_doctype_change_nothing(prefix):
    body = plain_page().encode("utf-8")
    assert essentials(parse(prefix + body)) == essentials(parse(body))


# --- stats labels ------------------------------------------------------------------------------

def stats_of(pls: str, **kw):
    page = parse(thread_page(post_node(11, "楼主", "x", pls_extra=pls, **kw)))
    return page.user_stats[0], page.users[0]


def test_every_known_label_is_mapped():
    pls = ('<dl class="pil cl"><dt>UID</dt><dd>5</dd><dt>主题</dt><dd>12</dd><dt>帖子</dt><dd>345</dd><dt>积分</dt><dd>6789</dd>'
           '<dt>精华</dt><dd>2</dd><dt>听众</dt><dd>15</dd><dt>收听</dt><dd>7</dd><dt>好友</dt><dd>9</dd>'
           '<dt>在线时间</dt><dd>120 小时</dd><dt>注册时间</dt><dd>2019-3-4 10:05</dd><dt>最后登录</dt><dd>2026-11-24</dd>'
           '<dt>阅读权限</dt><dd>20</dd><dt>威望</dt><dd>40 点</dd><dt>金钱</dt><dd>88 </dd><dt>贡献</dt><dd>3 分</dd>'
           '<dt>铜板</dt><dd>215115 枚</dd><dt>来自</dt><dd>盐城</dd></dl>')
    stats, user = stats_of(pls)
    assert (stats.threads, stats.posts, stats.credits, stats.digests) == (12, 345, 6789, 2)
    assert (stats.followers, stats.following, stats.friends, stats.online_hours) == (15, 7, 9, 120)
    assert stats.extcredits == {"威望": {"value": 40, "unit": "点"}, "金钱": {"value": 88, "unit": None},
                                "贡献": {"value": 3, "unit": "分"}, "铜板": {"value": 215115, "unit": "枚"}}
    assert (stats.raw["UID"], stats.raw["阅读权限"], stats.raw["来自"]) == ("5", "20", "盐城")  # unknown ones stay in raw
    assert user.registered_at == datetime(2019, 3, 4, 10, 5, tzinfo=CST)  # with a time: a datetime
    assert user.last_login_text == "2026-11-24"


def test_traditional_chinese_labels():
    pls = ('<dl class="pil cl"><dt>主題</dt><dd>3</dd><dt>積分</dt><dd>450</dd><dt>精華</dt><dd>1</dd>'
           '<dt>聽眾</dt><dd>4</dd><dt>收聽</dt><dd>5</dd><dt>在線時間</dt><dd>7 小時</dd><dt>註冊時間</dt><dd>2015-1-2</dd></dl>')
    stats, user = stats_of(pls)
    assert (stats.threads, stats.credits, stats.digests, stats.followers, stats.following, stats.online_hours) == (
        3, 450, 1, 4, 5, 7)
    assert user.registered_at == date(2015, 1, 2)


def test_hover_card_pairs_are_read():
    # threadguestlite off but the left profile node emptied by the admin: only the hover card has figures.
    pls = ('<div class="p_pop blk bui card_gender_0" id="userinfo11" style="display: none; margin-top: -11px;">'
           '<div class="m z"><div id="userinfo11_ma"></div></div><div class="i y"><div><strong>'
           '<a href="home.php?mod=space&amp;uid=5" class="xi2">作者甲</a></strong><em>当前离线</em></div>'
           '<dl class="cl"><dt>积分</dt><dd><a href="home.php?mod=space&amp;uid=5&amp;do=profile" class="xi2">1200</a></dd>'
           '<dt>威望</dt><dd>3 点</dd><dt>阅读权限</dt><dd>10</dd></dl></div></div>')
    stats, user = stats_of(pls)
    assert (stats.credits, stats.extcredits, stats.raw["阅读权限"]) == (1200, {"威望": {"value": 3, "unit": "点"}}, "10")
    assert user.group_title is None  # "当前离线" is an <em> in a div, not a group title


def test_numbercard_wan_is_exact_from_span_title_and_replies_rebuild_posts():
    pls = ('<div class="tns xg2"><table><th><p><a class="xi2">112</a></p>主题</th>'
           '<th><p><a class="xi2"><span title="41088">4万</span></a></p>回帖</th>'
           '<td><p><a class="xi2">9</a></p>威望</td></table></div>')
    stats, _ = stats_of(pls)
    assert (stats.threads, stats.replies, stats.posts, stats.raw["回帖"], stats.approx) == (112, 41088, 41200, "4万", [])
    # An admin may put an extcredit on the numbercard: it is one, without a unit there.
    assert stats.extcredits == {"威望": {"value": 9, "unit": None}}


# --- dates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("time_html, want", [
    ("发表于 2024-10-1 09:00", datetime(2024, 10, 1, 9, 0, tzinfo=CST)),  # Y-n-j H:i
    ("发表于 2024-10-01 09:00:05", datetime(2024, 10, 1, 9, 0, 5, tzinfo=CST)),  # Y-m-d H:i:s
    ("发表于 2024/10/1 9:05", datetime(2024, 10, 1, 9, 5, tzinfo=CST)),
    ("发表于 11-20 08:06", datetime(2026, 11, 20, 8, 6, tzinfo=CST)),  # n-j: the crawl's year
    ('发表于 <span title="2026-11-25 11:54:50">20&nbsp;秒前</span>', datetime(2026, 11, 25, 11, 54, 50, tzinfo=CST)),
    ("发表于 20&nbsp;秒前", datetime(2026, 11, 25, 11, 54, 50, tzinfo=CST)),  # mobile: no span
    ('发表于 <span title="2026-11-25 11:55:09">刚刚</span>', datetime(2026, 11, 25, 11, 55, 9, tzinfo=CST)),
    ("发表于 刚刚", datetime(2026, 11, 25, 11, 55, 10, tzinfo=CST)),
    ("发表于 7&nbsp;分钟前", datetime(2026, 11, 25, 11, 48, 10, tzinfo=CST)),
    ('发表于 <span title="2026-11-25 11:20:00">半小时前</span>', datetime(2026, 11, 25, 11, 20, tzinfo=CST)),
    ("发表于 半小时前", datetime(2026, 11, 25, 11, 25, 10, tzinfo=CST)),
    ("发表于 5&nbsp;小时前", datetime(2026, 11, 25, 6, 55, 10, tzinfo=CST)),
    ('发表于 <span title="2026-11-24 08:06:31">昨天&nbsp;08:06</span>', datetime(2026, 11, 24, 8, 6, 31, tzinfo=CST)),
    ("发表于 昨天&nbsp;08:06", datetime(2026, 11, 24, 8, 6, tzinfo=CST)),
    ("发表于 前天 23:59", datetime(2026, 11, 23, 23, 59, tzinfo=CST)),
    ("发表于 4&nbsp;天前", datetime(2026, 11, 21, 11, 55, 10, tzinfo=CST)),
    ('发表于 <span title="2026-11-21 10:00:00">4&nbsp;天前</span>', datetime(2026, 11, 21, 10, 0, tzinfo=CST)),
])
def test_post_time_forms_on_a_page(time_html, want):
    post = parse(thread_page(post_node(11, "楼主", "x", time_html=time_html))).posts[0]
    assert post.posted_at == want


def test_relative_time_without_date_header_uses_fetch_time():
    fetched = datetime(2026, 1, 2, 0, 30, tzinfo=timezone.utc)  # 08:30 in UTC+8
    page = parse_page(URL, thread_page(post_node(11, "楼主", "x", time_html="发表于 昨天&nbsp;10:20")).encode(),
                      fetched_at=fetched)
    assert page.posts[0].posted_at == datetime(2026, 1, 1, 10, 20, tzinfo=CST)


def test_site_offset_applies_to_relative_and_absolute_times():
    html = thread_page(post_node(11, "楼主", "x", time_html="发表于 2024-10-1 09:00"),
                       post_node(12, "沙发", "y", time_html="发表于 3&nbsp;小时前"))
    page = parse(html, tz="-05:00")
    tz = timezone(timedelta(hours=-5))
    assert page.posts[0].posted_at == datetime(2024, 10, 1, 9, 0, tzinfo=tz)
    assert page.posts[1].posted_at == datetime(2026, 11, 24, 19, 55, 10, tzinfo=tz)


# --- charsets ------------------------------------------------------------------------------------

def test_html5_meta_charset_gbk():
    html = plain_page().replace('<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />', '<meta charset="gbk">')
    page = parse(html.encode("gbk"))
    assert (page.charset, page.posts[0].content_text) == ("gb18030", "正文第一行\n正文第二行")


def test_header_charset_beats_a_wrong_meta():
    html = thread_page(post_node(11, "楼主", "头部说了算"))  # the meta says utf-8, the bytes are GBK
    page = parse(html.encode("gbk"), content_type="text/html; charset=gbk")
    assert (page.charset, page.posts[0].content_text) == ("gb18030", "头部说了算")


def test_gb2312_declared_page_with_gb18030_only_characters():
    html = thread_page(post_node(11, "楼主", "镕与㙍都不在 GB2312 里"), charset="gb2312")
    page = parse(html.encode("gb18030"))
    assert page.posts[0].content_text == "镕与㙍都不在 GB2312 里"


def test_big5_declared_page_with_hkscs_characters():
    text = "粵語嘅字"  # 嘅 is HKSCS, not plain Big5
    with pytest.raises(UnicodeEncodeError):
        text.encode("big5")
    html = thread_page(post_node(11, "樓主", text), charset="big5").replace("测试主题", "測試主題").replace("测试版块", "測試版塊")
    html = html.replace("论坛", "論壇").replace("闲聊", "閒聊").replace("回复", "回覆").replace("发表于", "發表於")
    page = parse(html.encode("big5hkscs"))
    assert (page.charset, page.posts[0].content_text, page.posts[0].floor) == ("big5hkscs", text, 1)


# --- content ---------------------------------------------------------------------------------------

def test_quote_header_in_traditional_chinese_and_a_quote_without_link():
    message = ('<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect&amp;goto=findpost&amp;pid=9&amp;ptid=7" '
               'target="_blank"><font color="#999999">老街坊 發表於 2024-10-1 09:00</font></a></font><br />被引用的話</blockquote></div>'
               '<div class="quote"><blockquote>沒有出處的引用</blockquote></div>自己的話')
    post = parse(thread_page(post_node(11, "樓主", message))).posts[0]
    assert [(q.pid, q.author, q.time_text, q.text) for q in post.quotes] == [
        (9, "老街坊", "2024-10-1 09:00", "被引用的話"), (None, None, None, "沒有出處的引用")]
    assert post.content_text == "自己的話"


def test_jammer_inside_a_quote_is_removed_too():
    message = ('<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect&amp;goto=findpost&amp;pid=9&amp;ptid=7">'
               '<font color="#999999">甲 发表于 2024-10-1 09:00</font></a></font><br />引文<font class="jammer">Qz7</font>'
               '<br />\r\n第二行<span style="display:none">aa</span></blockquote></div>回复')
    post = parse(thread_page(post_node(11, "楼主", message))).posts[0]
    assert post.quotes[0].text == "引文\n第二行"
    assert "Qz7" not in post.content_html and "aa</span>" not in post.content_html


@pytest.mark.parametrize("attrs, want", [
    ('src="static/image/common/none.gif" zoomfile="data/attachment/forum/z.jpg" file="data/attachment/forum/f.jpg"',
     "http://bbs.test/data/attachment/forum/z.jpg"),
    ('src="static/image/common/none.gif" file="data/attachment/forum/f.jpg"', "http://bbs.test/data/attachment/forum/f.jpg"),
    ('src="static/image/common/none.gif" data-original="http://img.test/o.jpg"', "http://img.test/o.jpg"),
    ('src="data:image/gif;base64,R0lGOD" data-src="http://img.test/s.jpg"', "http://img.test/s.jpg"),
    ('src="http://img.test/plain.jpg"', "http://img.test/plain.jpg"),
])
def test_lazy_image_attributes_give_the_real_url(attrs, want):
    page = parse(thread_page(post_node(11, "楼主", f'<img id="aimg_5" {attrs} />')))
    assert [a.url for a in page.attachments] == [want]
    assert page.attachments[0].aid == 5


def test_edit_note_with_seconds_and_code_block_text():
    message = ('<i class="pstatus"> 本帖最后由 管理员 于 2024-10-3 10:15:20 编辑 </i><br /><br />'
               '<div class="blockcode"><div id="code_ab1"><ol><li>SELECT 1;<li>SELECT 2;</ol></div>'
               '<em onclick="copycode($(\'code_ab1\'));">复制代码</em></div>')
    post = parse(thread_page(post_node(11, "楼主", message))).posts[0]
    assert (post.edited_by, post.edited_at) == ("管理员", datetime(2024, 10, 3, 10, 15, 20, tzinfo=CST))
    assert post.content_text == "SELECT 1;\nSELECT 2;"


# --- the accuracy harness ------------------------------------------------------------------------

@requires_fixtures
def test_accuracy_harness_finds_every_fixture_value():
    from bench.accuracy import collect

    results, notes = collect(FIXTURES)
    assert {name: {f: bad[:2] for f, bad in cmp.mismatches.items() if bad} for name, cmp in results.items()
            if any(cmp.mismatches.values())} == {}
    # Every real page and capture is checked (none only "not applicable"), with many values each.
    assert notes == []
    assert {"discuz-x34-utf8-a", "discuz-x34-utf8-a-member", "discuz-x34-utf8-a-state2",
            "discuz-x34-utf8-a-state2 (mobile API)", "real/bbs.talkop.com/viewthread-2.html",
            "real/bbs.saraba1st.com/mobileapi-forumdisplay-2.json"} <= set(results)
    assert sum(sum(cmp.matches.values()) for cmp in results.values()) > 7000
