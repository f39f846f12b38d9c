"""Parser building blocks on small pages written for the variations the captures lack.

The thread-page markup below is written from the Discuz! X template rules (viewthread.htm,
viewthread_node.htm), not copied from any site.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page
from scraper.parsers.common import decode_body
from scraper.parsers.dates import parse_discuz_time, parse_http_date, parse_tz
from scraper.parsers.numbers import parse_figure, parse_hours
from scraper.urls import canonical, classify

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 3, 55, 10, tzinfo=timezone.utc)  # 11:55:10 in UTC+8
DATE_HEADER = "Wed, 25 Nov 2026 03:55:10 GMT"


def post_node(pid: int, floor_html: str, message: str, *, uid: int = 5, author: str = "作者甲",
              time_html: str = "发表于 2024-10-1 09:00:00", pct_extra: str = "", pls_extra: str = "") -> str:
    return f"""<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}"><tr>
<td class="pls" rowspan="2"><div id="favatar{pid}" class="pls favatar">
<div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid={uid}" class="xw1">{author}</a></div></div>
{pls_extra}</div></td>
<td class="plc"><div class="pi"><strong><a href="forum.php?mod=redirect&goto=findpost&ptid=7&pid={pid}" id="postnum{pid}">{floor_html}</a></strong>
<div class="pti"><div class="authi"><em id="authorposton{pid}">{time_html}</em></div></div></div>
<div class="pct"><div class="pcb">{pct_extra}<div class="t_fsz"><table><tr><td class="t_f" id="postmessage_{pid}">{message}</td></tr></table></div></div></div>
</td></tr></table></div>"""


def thread_page(*posts: str, charset: str = "utf-8", pager: str = "", extra_head: str = "") -> str:
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<meta name="generator" content="Discuz! X3.2" />{extra_head}</head><body>
<script type="text/javascript">var fid = parseInt('3'), tid = parseInt('7');</script>
<div id="pt"><a href="forum.php">论坛</a><a href="forum.php?mod=forumdisplay&amp;fid=3">测试版块</a></div>
<div id="pgt">{pager}</div>
<div id="postlist"><table><tr><td class="pls"><div class="hm"><span class="xg1">查看:</span> <span class="xi1">12</span>
<span class="xg1">回复:</span> <span class="xi1">3</span></div></td><td class="plc"><h1 class="ts">
<a href="forum.php?mod=forumdisplay&amp;fid=3&amp;filter=typeid&amp;typeid=9">[闲聊]</a>
<span id="thread_subject">测试主题</span></h1></td></tr></table>
{''.join(posts)}
</div><div id="postlistreply"><div id="post_new"></div></div></body></html>"""


def parse(html: str | bytes, url: str = "http://bbs.test/forum.php?mod=viewthread&tid=7", **kw):
    body = html.encode("utf-8") if isinstance(html, str) else html
    return parse_page(url, body, date_header=DATE_HEADER, **kw)


# --- dates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, title, want", [
    ("2024-10-1 09:00:00", None, datetime(2024, 10, 1, 9, 0, tzinfo=CST)),
    ("2024-10-01 09:00", None, datetime(2024, 10, 1, 9, 0, tzinfo=CST)),
    ("发表于 2024/10/1 9:05", None, datetime(2024, 10, 1, 9, 5, tzinfo=CST)),
    ("2024年10月1日 09:00", None, datetime(2024, 10, 1, 9, 0, tzinfo=CST)),
    ("2024-10-1", None, datetime(2024, 10, 1, 0, 0, tzinfo=CST)),
    ("2024-10-1 03:20 PM", None, datetime(2024, 10, 1, 15, 20, tzinfo=CST)),  # timeformat h:i A
    ("2024-10-1 12:05 AM", None, datetime(2024, 10, 1, 0, 5, tzinfo=CST)),
    ("2024-10-1 下午 3:20", None, datetime(2024, 10, 1, 15, 20, tzinfo=CST)),
    ("10-1 09:00", None, datetime(2026, 10, 1, 9, 0, tzinfo=CST)),  # dateformat n-j: this year
    ("12-30 09:00", None, datetime(2025, 12, 30, 9, 0, tzinfo=CST)),  # ...unless that is in the future
    ("3 天前", "2026-11-22 10:53:53", datetime(2026, 11, 22, 10, 53, 53, tzinfo=CST)),
    ("刚刚", None, datetime(2026, 11, 25, 11, 55, 10, tzinfo=CST)),
    ("25 秒前", None, datetime(2026, 11, 25, 11, 54, 45, tzinfo=CST)),
    ("21 分钟前", None, datetime(2026, 11, 25, 11, 34, 10, tzinfo=CST)),
    ("半小时前", None, datetime(2026, 11, 25, 11, 25, 10, tzinfo=CST)),
    ("3 小时前", None, datetime(2026, 11, 25, 8, 55, 10, tzinfo=CST)),
    ("昨天 10:20", None, datetime(2026, 11, 24, 10, 20, tzinfo=CST)),
    ("前天\u00a008:06", None, datetime(2026, 11, 23, 8, 6, tzinfo=CST)),
    ("3 天前", None, datetime(2026, 11, 22, 11, 55, 10, tzinfo=CST)),
])
def test_discuz_time_forms(text, title, want):
    assert parse_discuz_time(text, title, now=NOW, tz=CST) == want


def test_relative_time_uses_date_header_not_the_clock():
    page = parse(thread_page(post_node(1, "楼主", "x", time_html='发表于 <span>昨天&nbsp;10:20</span>')))
    assert page.posts[0].posted_at == datetime(2026, 11, 24, 10, 20, tzinfo=CST)
    assert page.posts[0].posted_at_text == "昨天 10:20"


def test_site_time_zone_is_configurable():
    page = parse(thread_page(post_node(1, "楼主", "x")), tz="+09:00")
    assert page.posts[0].posted_at.utcoffset() == timedelta(hours=9)
    assert parse_tz("Asia/Taipei").utcoffset(datetime(2024, 1, 1)) == timedelta(hours=8)
    with pytest.raises(ValueError):
        parse_tz("Nowhere/Else")


def test_http_date_header():
    assert parse_http_date(DATE_HEADER) == NOW
    assert parse_http_date(None) is None and parse_http_date("garbage") is None
    # Read again (kept for the last few texts), as bytes, or with a broken clock's year.
    assert parse_http_date(DATE_HEADER) == NOW and parse_http_date(DATE_HEADER.encode("latin-1")) == NOW
    assert parse_http_date("garbage") is None and parse_http_date(DATE_HEADER.replace("20", "99", 1)) is None


# --- numbers -------------------------------------------------------------------------------

def test_figures_with_units_and_wan():
    assert parse_figure("40638 点") == parse_figure("40638 点")
    f = parse_figure("40638 点")
    assert (f.value, f.unit, f.approx) == (40638, "点", False)
    f = parse_figure("5万")
    assert (f.value, f.approx) == (50000, True)
    f = parse_figure("4万", exact="41088")
    assert (f.shown, f.value, f.approx) == ("4万", 41088, False)
    assert parse_figure("1.2万").value == 12000
    assert parse_figure("1,234").value == 1234
    assert parse_figure("保密").value is None
    assert parse_hours("13578 小时") == 13578
    assert parse_hours("12 小时 30 分钟") == 12.5


# --- urls ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, kind, ident, page", [
    ("http://b.test/forum.php?mod=viewthread&tid=7&extra=page%3D1&page=2", "viewthread", 7, 2),
    ("http://b.test/thread-7-2-1.html", "viewthread", 7, 2),
    ("http://b.test/bbs/viewthread.php?tid=7&page=3", "viewthread", 7, 3),
    ("http://b.test/forum.php?mod=forumdisplay&fid=2&page=3", "forumdisplay", 2, 3),
    ("http://b.test/forum-2-3.html", "forumdisplay", 2, 3),
    ("http://b.test/forum.php", "index", None, 1),
    ("http://b.test/", "index", None, 1),
    ("http://b.test/home.php?mod=space&uid=5&do=profile", "profile", 5, 1),
    ("http://b.test/space-uid-5.html", "profile", 5, 1),
])
def test_url_styles_are_classified(url, kind, ident, page):
    target = classify(url)
    assert target.kind == kind
    assert (target.tid or target.fid or target.uid) == ident
    assert target.page == page


def test_canonical_url_drops_discuz_noise():
    assert canonical("http://B.test/forum.php?tid=7&mod=viewthread&extra=page%3D1&page=1#pid5") == \
        canonical("http://b.test/forum.php?mod=viewthread&tid=7&fromuid=3")
    assert canonical("http://b.test/thread-7-2-5.html") == canonical("http://b.test/thread-7-2-1.html")
    assert canonical("http://b.test/forum.php?mod=viewthread&tid=7&page=2") != \
        canonical("http://b.test/forum.php?mod=viewthread&tid=7")


# --- charsets ------------------------------------------------------------------------------

def test_gbk_page_decodes_from_meta_charset():
    html = thread_page(post_node(1, "楼主", "镕铁㙍 GBK 正文"), charset="gbk")
    page = parse(html.encode("gb18030"))
    assert page.charset == "gb18030"
    assert page.posts[0].content_text == "镕铁㙍 GBK 正文"
    assert page.threads[0].title == "测试主题"


def test_big5_page_decodes():
    html = thread_page(post_node(1, "樓主", "繁體中文內容", author="作者"), charset="big5")
    for simplified, traditional in (("论坛", "論壇"), ("测试版块", "測試版塊"), ("测试主题", "測試主題"),
                                    ("闲聊", "閒聊"), ("回复", "回覆"), ("发表于", "發表於")):
        html = html.replace(simplified, traditional)
    page = parse(html.encode("big5"))
    assert page.charset == "big5hkscs"
    assert page.posts[0].content_text == "繁體中文內容"
    assert (page.posts[0].floor, page.threads[0].title, page.threads[0].forum_name) == (1, "測試主題", "測試版塊")
    assert page.posts[0].posted_at == datetime(2024, 10, 1, 9, 0, tzinfo=CST)


def test_header_charset_wins_and_undeclared_gbk_falls_back():
    body = "<html><body>中文</body></html>".encode("gb18030")
    assert decode_body(body, "text/html; charset=GBK") == ("<html><body>中文</body></html>", "gb18030")
    assert decode_body(body, None)[0] == "<html><body>中文</body></html>"
    assert decode_body(" <!DOCTYPE html>中文".encode(), "text/html; charset=utf-8")[0].strip().endswith("中文")


# --- thread pages --------------------------------------------------------------------------

def test_one_page_thread_has_no_pager_and_counts_one_page():
    page = parse(thread_page(post_node(11, "楼主", "正文")))
    assert (page.pages, page.threads[0].pages, page.page) == (1, 1, 1)
    assert (page.tid, page.fid, page.threads[0].type_prefix, page.threads[0].forum_name) == (7, 3, "[闲聊]", "测试版块")
    assert page.version == "X3.2"


def test_pager_gives_page_count_and_current_page():
    pager = ('<div class="pg"><a href="#">1</a><strong>2</strong><a href="#">3</a>'
             '<label><span title="共 12 页"> / 12 页</span></label></div>')
    page = parse(thread_page(post_node(21, "<em>11</em><sup>#</sup>", "x"), pager=pager),
                 url="http://bbs.test/forum.php?mod=viewthread&tid=7&page=2")
    assert (page.pages, page.page, page.posts[0].floor, page.posts[0].is_first) == (12, 2, 11, False)


def test_post_new_and_non_numeric_ids_are_not_posts():
    page = parse(thread_page(post_node(1, "楼主", "a"), '<div id="post_rate_div_1"></div>'))
    assert [p.pid for p in page.posts] == [1]


def test_floor_names_and_renamed_floors():
    page = parse(thread_page(post_node(1, "楼主", "a"), post_node(2, "沙发", "b"), post_node(3, "板凳", "c"),
                             post_node(4, "地板", "d"), post_node(5, "<em>5</em><sup>#</sup>", "e")))
    assert [p.floor for p in page.posts] == [1, 2, 3, 4, 5]
    # A site that renamed its floors (custominfo.postno): count from the numbered ones.
    page = parse(thread_page(post_node(1, "一楼", "a"), post_node(2, "二楼", "b"), post_node(3, "<em>3</em>#", "c")))
    assert [p.floor for p in page.posts] == [1, 2, 3]
    assert page.posts[0].is_first


def test_jammer_text_is_removed_from_text_and_html():
    message = ('第一行<font class="jammer">x9Fq</font><br />\n第二行<span style="display:none">kD8s</span>'
               '<span style="display: none">zz</span>结尾')
    post = parse(thread_page(post_node(1, "楼主", message))).posts[0]
    assert post.content_text == "第一行\n第二行结尾"
    assert "x9Fq" not in post.content_html and "kD8s" not in post.content_html


def test_lazy_images_smilies_and_attachments():
    message = ('看图<img id="aimg_9" aid="9" src="static/image/common/none.gif" zoomfile="data/attachment/forum/a.jpg"'
               ' file="data/attachment/forum/a_thumb.jpg" onclick="zoom(this)" />'
               '<img src="static/image/common/none.gif" data-original="http://img.test/b.png" />'
               '<img src="static/image/smiley/default/smile.gif" smilieid="1" alt=":)" />'
               '<a href="forum.php?mod=attachment&amp;aid=MTB8" id="aid10">说明.zip</a>')
    page = parse(thread_page(post_node(1, "楼主", message)))
    urls = [(a.kind, a.url, a.aid) for a in page.attachments]
    assert urls == [("image", "http://bbs.test/data/attachment/forum/a.jpg", 9), ("image", "http://img.test/b.png", None),
                    ("file", "http://bbs.test/forum.php?mod=attachment&aid=MTB8", 10)]
    assert page.posts[0].content_text == "看图:)说明.zip"
    assert 'src="http://bbs.test/data/attachment/forum/a.jpg"' in page.posts[0].content_html
    assert "onclick" not in page.posts[0].content_html


@pytest.mark.parametrize("pct_extra, message, state", [
    ('<div class="locked">提示: <em>作者被禁止或删除 内容自动屏蔽</em></div>', None, "banned_author"),
    ('<div class="locked">提示: <em>该帖被管理员或版主屏蔽</em></div>', None, "banned_single"),
    ('<div class="locked">此帖仅作者可见</div>', None, "hidden_reply"),
    ('', '可见部分<div class="locked">游客，如果您要查看本帖隐藏内容请<a href="#">回复</a></div>', "hide_partial"),
    ('<div class="locked">本主题需向作者支付 <strong>5 金钱</strong> 才能浏览<a href="#">购买主题</a></div>', None, "paid"),
    ('<div class="locked">本帖为密码帖 ，请输入密码</div>', None, "password"),
    ('', '正常内容', "ok"),
])
def test_post_states(pct_extra, message, state):
    node = post_node(3, "板凳", message or "", pct_extra=pct_extra)
    if message is None:  # the body table is absent when the content is masked
        node = node.replace('<div class="t_fsz"><table><tr><td class="t_f" id="postmessage_3"></td></tr></table></div>', "")
    post = parse(thread_page(node)).posts[0]
    assert post.status == state


def test_deleted_floor_state():
    node = post_node(4, "地板", "").replace('<div class="pcb">', '<div class="pcb">无效楼层，该帖已经被删除')
    assert parse(thread_page(node)).posts[0].status == "deleted_floor"


def test_stats_block_read_by_label_not_position():
    # Same figures, different order and an extra custom credit: the template is admin-editable.
    pls = ('<dl class="pil cl"><dt>金钱</dt><dd>88 </dd><dt>UID</dt><dd>5</dd><dt>积分</dt><dd>1200</dd>'
           '<dt>贡献</dt><dd>3 分</dd><dt>注册时间</dt><dd>2019-3-4</dd><dt>在线时间</dt><dd>12 小时</dd></dl>'
           '<div class="tns"><table><th><p><a>9</a></p>主题</th><th><p><a>233</a></p>帖子</th>'
           '<td><p><a>5万</a></p>积分</td></table></div>'
           '<p><em><a href="home.php?mod=spacecp&amp;ac=usergroup&amp;gid=12">中级会员</a></em></p>')
    page = parse(thread_page(post_node(1, "楼主", "x", pls_extra=pls)))
    stats = page.user_stats[0]
    assert (stats.threads, stats.posts, stats.credits, stats.online_hours) == (9, 233, 1200, 12)
    assert stats.extcredits == {"金钱": {"value": 88, "unit": None}, "贡献": {"value": 3, "unit": "分"}}
    assert stats.approx == []  # the exact 积分 in the dl beats the rounded numbercard
    user = page.users[0]
    assert (user.group_title, user.group_id, user.registered_at) == ("中级会员", 12, date(2019, 3, 4))


def test_rounded_only_figure_is_flagged_approximate():
    pls = '<div class="tns"><table><th><p><a>5万</a></p>主题</th></table></div>'
    stats = parse(thread_page(post_node(1, "楼主", "x", pls_extra=pls))).user_stats[0]
    assert (stats.threads, stats.approx, stats.raw["主题"]) == (50000, ["threads"], "5万")


def test_guest_without_stats_block_is_not_an_error():
    page = parse(thread_page(post_node(1, "楼主", "x")))
    assert page.kind == "viewthread" and page.user_stats == []
    assert page.users[0].uid == 5


@pytest.mark.parametrize("text, state", [
    ("抱歉，指定的主题不存在或已被删除或正在被审核", "not_found"),
    ("抱歉，您尚未登录，没有权限访问该版块", "login_required"),
    ("抱歉，您没有权限访问该版块", "no_permission"),
    ("抱歉，本帖要求阅读权限高于 100 才能浏览", "no_permission"),
    ("本版块需要密码，您必须在下面输入正确的密码才能浏览这个版块", "password"),
    ("抱歉，您两次发表间隔少于 15 秒，请稍候再发表", "unknown"),
    ("刷新过于频繁，请 3 秒后再试", "flood"),
    ("站点已关闭，请稍后访问", "closed_site"),
])
def test_showmessage_pages(text, state):
    html = f'<html><body><div id="ct"><div id="messagetext" class="alert_error"><p>{text}</p></div></div></body></html>'
    page = parse(html)
    assert (page.kind, page.status, page.message) == ("special", state, text)
    assert page.tid == 7


def test_antitheft_challenge_page():
    html = "<html><head><script>var _0x1a=window;_0x1a['location'].href=_0x1a.location.href+'&_dsign=ab12cd34';</script></head><body></body></html>"
    page = parse(html)
    assert (page.kind, page.status) == ("special", "antitheft")


def test_unrecognised_page_is_reported_not_emptied():
    page = parse("<html><body><p>hello</p></body></html>")
    assert (page.kind, page.status) == ("special", "unknown")
    assert "viewthread" in page.message


# --- themes that move the usual hooks ---------------------------------------------------------

def test_restyled_thread_header_and_username_only_author_links():
    html = thread_page(post_node(1, "楼主", "x").replace(
        '<a href="home.php?mod=space&amp;uid=5" class="xw1">', '<a href="home.php?mod=space&amp;username=%E7%94%B2" class="xw1">'))
    html = html.replace('<span class="xg1">查看:</span> <span class="xi1">12</span>\n<span class="xg1">回复:</span> <span class="xi1">3</span>',
                        '<p class="views">查看: 1,234 | 回复: 56</p>')
    html = html.replace('<span id="thread_subject">测试主题</span>', '<a id="thread_subject" href="#">测试主题</a>')
    page = parse(html)
    thread = page.threads[0]
    assert (thread.views, thread.replies, thread.title) == (1234, 56, "测试主题")
    assert (page.posts[0].author, page.posts[0].author_uid) == ("作者甲", None)


def test_index_of_a_theme_without_category_blocks_still_lists_its_forums():
    html = ('<html><body><div id="ct"><ul class="forums">'
            '<li><a href="forum.php?mod=forumdisplay&amp;fid=2">茶馆</a></li>'
            '<li><a href="forum-5-1.html">摄影</a><a href="forum-5-1.html"><img src="x.png"></a></li>'
            '</ul></div></body></html>')
    page = parse(html, url="http://bbs.test/forum.php")
    assert page.kind == "index"
    assert [(f.fid, f.name, f.parent_fid) for f in page.forums] == [(2, "茶馆", None), (5, "摄影", None)]
    # A page that is no index at all stays unreadable.
    assert parse("<html><body><p>维护中</p></body></html>", url="http://bbs.test/forum.php").status == "unknown"


def test_thread_list_of_a_theme_without_thread_rows_still_lists_its_threads():
    html = ('<html><body><div id="ct"><div id="threadlist"><ul>'
            '<li><a href="forum.php?mod=viewthread&amp;tid=31&amp;extra=page%3D1">第一帖</a>'
            ' <a href="forum.php?mod=viewthread&amp;tid=31&amp;page=2">2</a></li>'
            '<li><a href="thread-32-1-1.html">第二帖</a></li></ul></div>'
            '<div class="pg"><strong>1</strong><a href="forum-3-2.html">2</a>'
            '<label><span title="共 4 页"> / 4 页</span></label></div></div></body></html>')
    page = parse(html, url="http://bbs.test/forum-3-1.html")
    assert (page.kind, page.fid, page.pages) == ("forumdisplay", 3, 4)
    assert [(t.tid, t.title, t.fid) for t in page.threads] == [(31, "第一帖", 3), (32, "第二帖", 3)]


def test_posts_found_by_their_ids_when_a_theme_wraps_the_post_list():
    html = thread_page(post_node(1, "楼主", "一"), post_node(2, "沙发", "二")).replace(
        '<div id="postlist">', '<div id="postlist"><div class="theme-wrap">').replace(
        '</div><div id="postlistreply">', '</div></div><div id="postlistreply">')
    page = parse(html)
    assert [(p.pid, p.floor, p.content_text) for p in page.posts] == [(1, 1, "一"), (2, 2, "二")]


@pytest.mark.parametrize("note, device, location", [
    ('<span class="xg1">来自手机</span>', "手机", None),
    ('<span class="pipe">|</span><span class="xg1">来自 <a href="#">Android客户端</a></span>', "Android客户端", None),
    ('<span class="xg1">IP属地: 四川</span>', None, "四川"),
    ("", None, None),
])
def test_device_and_location_notes_beside_the_post_time(note, device, location):
    html = thread_page(post_node(1, "楼主", "x")).replace("</em></div></div></div>", f"</em>{note}</div></div></div>", 1)
    post = parse(html).posts[0]
    assert (post.device, post.location) == (device, location)


@pytest.mark.parametrize("markup, want", [
    # <br>s count one line break each, a block boundary one however many blocks meet there.
    ("a<br>b<br><br>c", "a\nb\n\nc"),
    ("<div>a</div><div><p>b</p></div>c", "a\nb\nc"),
    ("a<br><div>b</div>", "a\nb"),
    # Source line breaks and tabs are spaces, except inside <pre>.
    ("a\n  b\t\tc", "a b c"),
    ("x<pre>line 1\n\tline 2\r\n</pre>y", "x\nline 1\nline 2\ny"),
    # Smilies are their alt text; scripts, styles and comments are not text.
    ('hi <img smilieid="1" alt=":)" src="s.gif"> there<script>var a = "<b>";</script><!-- note -->!',
     "hi :) there!"),
    # The characters the reader uses to mark breaks mean nothing when a page carries them.
    ("a\ufdd0b\ufdd1c<br>d", "abc\nd"),
    ("   \u3000 a \u00a0 b \n\n", "a b"),
])
def test_message_text_of_markup(markup, want):
    from scraper.parsers.content import fragment, to_text
    el = fragment(markup)
    before = etree_string(el)
    assert to_text(el) == want
    assert etree_string(el) == before  # the element read is left as it was


def test_message_html_is_the_markup_inside_the_element():
    from scraper.parsers.content import fragment, inner_html
    el = fragment('lead &amp; text<b class="x">bold</b> tail<br>end')
    el.set("id", "postmessage_1")
    assert inner_html(el) == 'lead & text<b class="x">bold</b> tail<br>end'
    assert el.tag == "div" and el.get("id") == "postmessage_1" and el.text == "lead & text"


def etree_string(el) -> bytes:
    from lxml import etree
    return etree.tostring(el)


def test_elements_found_by_id_as_the_walk_would_find_them():
    from lxml import etree

    from scraper.parsers.common import by_id, by_id_within, read_document

    page = ('<html><body><span id="postlist">a span first</span><a name="pt">anchor</a>'
            '<div id="pt"><a href="x">crumb</a></div><div id="postlist"><div id="post_1"><em id="t1">t</em></div>'
            '<div id="post_2"></div></div><em id="t2">outside</em></body></html>')
    root = read_document(page.encode(), "http://bbs.example.test/")[0].root
    walk = etree.XPath("/descendant::*[@id=$id]")
    # An id libxml2 indexed on another tag (or an <a name>) first: the element of the tag asked for, by walking.
    assert [el.tag for el in by_id(root, "postlist", "div")] == ["div"]
    assert [el.text for el in by_id(root, "postlist")] == ["a span first"]
    assert by_id(root, "pt", "div") == [el for el in walk(root, id="pt") if el.tag == "div"]
    assert by_id(root, "nowhere") == []
    post_1, post_2 = by_id(root, "post_1")[0], by_id(root, "post_2")[0]
    assert [el.text for el in by_id_within(post_1, "t1")] == ["t"]
    assert by_id_within(post_2, "t1") == [] and by_id_within(post_2, "t2") == []  # not inside that post


@pytest.mark.parametrize("page, base", [
    ('<html><head><base href="http://bbs.example.test/bbs/"></head><body></body></html>', "http://bbs.example.test/bbs/"),
    ('<html><body><p>x</p><BASE HREF="/sub/"><a href="y">y</a></body></html>', "/sub/"),  # anywhere, any case
    ('<html><body><p>the &lt;base&gt; tag, and a <basefont> one</p></body></html>', ""),
])
def test_base_href_is_read_wherever_it_is_and_only_looked_for_when_the_page_has_one(page, base):
    from scraper.parsers.common import read_document
    from scraper.parsers.links import find_base_href

    root = read_document(page.encode(), "http://bbs.example.test/")[0].root
    assert find_base_href(root, page.encode()) == find_base_href(root, page) == find_base_href(root, None) == base
    parsed = parse_page("http://bbs.example.test/forum.php", page.replace("<p>x</p>", '<a href="forum-2-1.html">f</a>'))
    if base == "/sub/":
        assert parsed.links[0].url == "http://bbs.example.test/sub/forum-2-1.html"
