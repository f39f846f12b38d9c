"""The Discuz! 7.x family: thread, forum list, index and showmessage pages into the same items as X.

No real 7.x page is among the fixtures, so the pages below are written for these tests from the 7.x
template rules (viewthread.htm / viewthread_node.htm, forumdisplay.htm, discuz.htm, showmessage.htm,
nopermission.htm and multi() as described in ../shared/docs/discuz-reference.md §4.6, §4.10); the
forum, people and text are made up.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from scraper.parsers import parse_page
from scraper.parsers.legacy import FAMILY_LEGACY, FAMILY_X, detect_family
from scraper.parsers.common import make_selector

CST = timezone(timedelta(hours=8))
DATE_HEADER = "Wed, 25 Nov 2026 03:55:10 GMT"
BASE = "http://bbs.qingshi.test/"
THREAD_URL = BASE + "viewthread.php?tid=88"

GENERATOR_72 = '<meta name="generator" content="Discuz! 7.2" />'
FOOTER_72 = ('<div id="footer"><p id="copyright">Powered by <strong><a href="http://www.discuz.net">Discuz!</a>'
             '</strong> <em class="f_golden">7.2</em></p></div>')


def profile_dl(uid: int, posts: str = "1024", credits: str = "2333", extra: str = "") -> str:
    """The customauthorinfo[1] block: <dt>label</dt><dd>value&nbsp;</dd>, order chosen by the admin."""
    return (f'<dl class="profile s_clear"><dt>UID</dt><dd>{uid}&nbsp;</dd><dt>帖子</dt><dd>{posts}&nbsp;</dd>'
            f'<dt>积分</dt><dd>{credits}&nbsp;</dd>{extra}</dl>')


def legacy_post(pid: int, number: int | str, message: str | None, *, uid: int | None = 21, author: str = "石头记",
                posted: str = "2009-5-1 10:00", first: bool = False, title: str = "青石板路的雨季",
                authoronleft: bool = True, group: str = "中级会员", profile: str | None = None,
                locked: str = "", after_message: str = "", hover: str = "", author_html: str | None = None) -> str:
    """One ``div#post_PID`` as viewthread_node.htm renders it."""
    floor = f"<em>{number}</em>#" if isinstance(number, int) else number
    if author_html is not None:  # guests, anonymous posts, deleted users
        author_col = f'<div class="avatar">{author_html}</div>'
        poster = author_html
    else:
        left = (f'<div class="postinfo"><a target="_blank" href="space.php?uid={uid}" '
                f'style="margin-left: 20px; font-weight: 800">{author}</a></div>') if authoronleft else ""
        author_col = (
            f'{left}<div class="popupmenu_popup userinfopanel" id="userinfo{pid}" style="display: none; position: absolute;">'
            f'<div class="popavatar"><div id="userinfo{pid}_ma"></div></div>'
            f'<div class="popuserinfo"><p><a href="space.php?uid={uid}" target="_blank">{author}</a> <em>当前离线</em></p>'
            f'{hover}</div></div>'
            f'<div id="userinfo{pid}_a"><div class="avatar" onmouseover="showauthor(this, \'userinfo{pid}\')">'
            f'<a href="space.php?uid={uid}" target="_blank"><img src="{BASE}uc_server/avatar.php?uid={uid}&amp;size=middle" /></a></div>'
            f'<p><em>{group}</em></p></div>'
            f'<p><img src="images/default/star_level2.gif" alt="Rank: 3" /></p>'
            f'{profile if profile is not None else profile_dl(uid)}')
        poster = "" if authoronleft else f'<a href="space.php?uid={uid}" class="posterlink" target="_blank">{author}</a>'
    heading = f'<div id="threadtitle"><h1>{title}</h1></div>' if first else ""
    body = "" if message is None else (
        f'<div class="t_msgfontfix"><table cellspacing="0" cellpadding="0"><tr>'
        f'<td class="t_msgfont" id="postmessage_{pid}">{message}</td></tr></table>{after_message}</div>')
    return f"""<div id="post_{pid}">
<table id="pid{pid}" summary="pid{pid}" cellspacing="0" cellpadding="0">
<tr>
 <td class="postauthor">{author_col}</td>
 <td class="postcontent">
  <div class="postinfo">
   <strong><a title="复制本帖链接" id="postnum{pid}" href="javascript:;" onclick="setcopy('{BASE}viewthread.php?tid=88&amp;page=1#pid{pid}', '帖子地址已经复制到剪贴板')">{floor}</a></strong>
   <div class="posterinfo"><div class="pagecontrol"></div>
    <div class="authorinfo"><img class="authicon" id="authicon{pid}" src="images/common/online_member.gif" />
     {poster}<em id="authorposton{pid}">发表于 {posted}</em>
     | <a href="viewthread.php?tid=88&amp;page=1&amp;authorid={uid}" rel="nofollow">只看该作者</a>
    </div></div>
  </div>
  <div class="defaultpost"><div id="ad_thread2_0"></div>
   <div class="postmessage {'firstpost' if first else ''}">{heading}{locked}{body}</div>
  </div>
 </td>
</tr>
<tr><td class="postauthor"></td><td class="postcontent"><div class="postactions"><div class="postact s_clear"><em>
<a class="fastreply" href="post.php?action=reply&amp;fid=5&amp;tid=88&amp;reppost={pid}&amp;page=1">回复</a>
<a class="repquote" href="post.php?action=reply&amp;fid=5&amp;tid=88&amp;repquote={pid}&amp;page=1">引用</a></em></div></div></td></tr>
</table>
</div>"""


def legacy_thread_page(*posts: str, charset: str = "utf-8", head: str = GENERATOR_72, footer: str = FOOTER_72,
                       pager: str = "", maxpage: int | None = 1, title: str = "青石板路的雨季") -> str:
    """A whole 7.x viewthread.php page around ``posts``."""
    script = f"<script type=\"text/javascript\">var maxpage = {maxpage};\nif(maxpage > 1) {{}}</script>" \
        if maxpage is not None else ""
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{title} - 灌水乐园 - 青石论坛 - Powered by Discuz!</title>
{head}
</head><body>
<div id="nav"><a href="index.php" id="fjump">青石论坛</a> &raquo; <a href="forumdisplay.php?fid=5">灌水乐园</a> &raquo; {title}</div>
<div id="wrap" class="wrap s_clear threadfix">
<div class="forumcontrol"><table cellspacing="0" cellpadding="0"><tr><td class="modaction"></td><td>
{pager}
<span class="pageback"><a href="forumdisplay.php?fid=5">返回列表</a></span>
<span class="replybtn"><a href="post.php?action=reply&fid=5&tid=88">回复</a></span>
</td></tr></table></div>
<div id="postlist" class="mainbox viewthread">
{''.join(posts)}
</div>
<div id="postlistreply" class="mainbox viewthread"><div id="post_new" style="display: none"></div></div>
{script}
</div>
{footer}
</body></html>"""


def parse(html: str | bytes, url: str = THREAD_URL, **kw):
    body = html.encode("utf-8") if isinstance(html, str) else html
    return parse_page(url, body, date_header=DATE_HEADER, **kw)


def three_posts() -> list[str]:
    hover = '<dl class="s_clear"><dt>积分</dt><dd>2333&nbsp;</dd><dt>注册</dt><dd>2008-3-15&nbsp;</dd></dl>'
    stats = profile_dl(21, extra=('<dt>精华</dt><dd><a href="digest.php?authorid=21">3</a>&nbsp;</dd>'
                                  '<dt>威望</dt><dd>120 点&nbsp;</dd><dt>金钱</dt><dd>5890 &nbsp;</dd>'
                                  '<dt>阅读权限</dt><dd>30&nbsp;</dd><dt>在线时间</dt><dd>860 小时&nbsp;</dd>'
                                  '<dt>注册时间</dt><dd>2008-3-15&nbsp;</dd><dt>最后登录</dt><dd>2009-5-20&nbsp;</dd>'
                                  '<dt>来自</dt><dd>江南&nbsp;</dd>'))
    return [
        legacy_post(1001, 1, "雨下了三天。<br />\r\n石板路上长了青苔。", first=True, profile=stats,
                    hover=hover + '<p class="customstatus">撑伞的人</p>'),
        legacy_post(1002, 2, "沙发，路过看看。", uid=37, author="过客乙", posted="2009-5-1 10:05",
                    group="新手上路", authoronleft=False,
                    profile=profile_dl(37, posts="12", credits="30")),
        legacy_post(1003, 3, "楼主写得好。", uid=21, author="石头记", posted="2009-5-2 8:30"),
    ]


# --- family detection --------------------------------------------------------------------------

@pytest.mark.parametrize("head, footer, markup_is_legacy, family", [
    (GENERATOR_72, "", True, FAMILY_LEGACY),  # generator meta first
    ("", FOOTER_72, True, FAMILY_LEGACY),  # then the footer version
    ("", "", True, FAMILY_LEGACY),  # then structure: td.t_msgfont / td.postauthor
    ('<meta name="generator" content="Discuz! X3.2" />', "", False, FAMILY_X),
    ("", "", False, FAMILY_X),
])
def test_family_is_detected_per_page(head, footer, markup_is_legacy, family):
    if markup_is_legacy:
        html = legacy_thread_page(*three_posts(), head=head, footer=footer)
    else:
        html = f"<html><head>{head}</head><body><div id='postlist' class='pl bm'></div></body></html>"
    sel, _ = make_selector(html.encode(), THREAD_URL)
    assert detect_family(sel) == family


def test_version_is_recorded_from_generator_footer_or_family():
    assert parse(legacy_thread_page(*three_posts())).version == "7.2"
    footer_71 = FOOTER_72.replace("7.2", "7.1")
    assert parse(legacy_thread_page(*three_posts(), head="", footer=footer_71)).version == "7.1"
    # No stated version: the family is still recorded, so the crawler keeps to 7.x URLs.
    assert parse(legacy_thread_page(*three_posts(), head="", footer="")).version == "7.x"


# --- thread pages ------------------------------------------------------------------------------

def test_legacy_thread_page_gives_the_same_items_as_x():
    page = parse(legacy_thread_page(*three_posts()))
    assert (page.kind, page.status, page.tid, page.fid, page.page, page.pages) == ("viewthread", "ok", 88, 5, 1, 1)
    thread = page.threads[0]
    assert (thread.title, thread.forum_name, thread.author, thread.author_uid) == ("青石板路的雨季", "灌水乐园", "石头记", 21)
    assert thread.created_at == datetime(2009, 5, 1, 10, 0, tzinfo=CST)
    assert thread.replies == 2  # one page, no pager: every post is here
    assert [(p.pid, p.floor, p.is_first, p.author, p.author_uid) for p in page.posts] == [
        (1001, 1, True, "石头记", 21), (1002, 2, False, "过客乙", 37), (1003, 3, False, "石头记", 21)]
    assert [p.posted_at for p in page.posts] == [datetime(2009, 5, 1, 10, 0, tzinfo=CST),
                                                  datetime(2009, 5, 1, 10, 5, tzinfo=CST),
                                                  datetime(2009, 5, 2, 8, 30, tzinfo=CST)]
    assert page.posts[0].posted_at_text == "2009-5-1 10:00"
    assert page.posts[0].content_text == "雨下了三天。\n石板路上长了青苔。"
    assert page.posts[1].content_text == "沙发，路过看看。"
    assert all(p.status == "ok" for p in page.posts)


def test_legacy_author_column_stats_by_label():
    page = parse(legacy_thread_page(*three_posts()))
    stats = {s.uid: s for s in page.user_stats}
    mine = stats[21]
    assert (mine.posts, mine.credits, mine.digests, mine.online_hours) == (1024, 2333, 3, 860)
    assert mine.extcredits == {"威望": {"value": 120, "unit": "点"}, "金钱": {"value": 5890, "unit": None}}
    assert (mine.raw["UID"], mine.raw["阅读权限"], mine.raw["来自"]) == ("21", "30", "江南")
    assert mine.approx == [] and mine.source == "post"
    assert (stats[37].posts, stats[37].credits) == (12, 30)
    users = {u.uid: u for u in page.users}
    assert (users[21].username, users[21].group_title, users[21].custom_title) == ("石头记", "中级会员", "撑伞的人")
    assert (users[21].registered_at, users[21].last_login_text) == (date(2008, 3, 15), "2009-5-20")
    # The hover card's "当前离线" is not mistaken for the group title.
    assert users[37].group_title == "新手上路"
    assert len(page.user_stats) == 2  # one row per user per page


def test_legacy_pager_em_counts_items_not_pages():
    # multi(replies + 1, ppp=10, page 2): <em>&nbsp;57&nbsp;</em> is the number of posts; pages = 6.
    pager = ('<div class="pages"><em>&nbsp;57&nbsp;</em><a href="viewthread.php?tid=88&amp;extra=&amp;page=1" '
             'class="prev">&lsaquo;&lsaquo;</a><a href="viewthread.php?tid=88&amp;extra=&amp;page=1">1</a>'
             '<strong>2</strong><a href="viewthread.php?tid=88&amp;extra=&amp;page=3">3</a>'
             '<a href="viewthread.php?tid=88&amp;extra=&amp;page=4">4</a>'
             '<a href="viewthread.php?tid=88&amp;extra=&amp;page=6" class="last">... 6</a>'
             '<a href="viewthread.php?tid=88&amp;extra=&amp;page=3" class="next">&rsaquo;&rsaquo;</a></div>')
    url = THREAD_URL + "&page=2"
    posts = [legacy_post(2000 + n, n, f"第 {n} 楼") for n in range(11, 21)]
    for maxpage in (6, None):  # var maxpage first; without the script, a.last
        page = parse(legacy_thread_page(*posts, pager=pager, maxpage=maxpage), url=url)
        assert (page.page, page.pages, page.threads[0].pages) == (2, 6, 6)
        assert page.threads[0].replies == 56
        assert [p.floor for p in page.posts][:2] == [11, 12] and not page.posts[0].is_first
    # The later page has no div#threadtitle: the breadcrumb's last text is the title.
    assert page.threads[0].title == "青石板路的雨季"


def test_legacy_floor_names_and_filtered_author_view():
    posts = [legacy_post(1, "楼主", "一", first=True), legacy_post(2, "沙发", "二"), legacy_post(3, "<em>3</em>#", "三")]
    page = parse(legacy_thread_page(*posts), url=THREAD_URL + "&authorid=21")
    assert [p.floor for p in page.posts] == [1, 2, 3]
    assert page.threads[0].replies is None  # 只看该作者 shows one author's posts: not the thread's count


def test_legacy_type_prefix_in_title():
    page = parse(legacy_thread_page(legacy_post(1, 1, "x", first=True,
                                                title='<a href="forumdisplay.php?fid=5&amp;filter=type&amp;typeid=3">[闲话]</a> 青石板路的雨季')))
    assert (page.threads[0].type_prefix, page.threads[0].title) == ("[闲话]", "青石板路的雨季")


def test_legacy_guest_anonymous_and_deleted_authors():
    posts = [
        legacy_post(1, 1, "一", first=True),
        legacy_post(2, 2, "游客的话", author_html='<a href="javascript:;">游客 <em>10.1.2.*</em></a>'),
        legacy_post(3, 3, "匿名的话", author_html="匿名"),
        legacy_post(4, 4, "旧账号的话", author_html="老张 <em>该用户已被删除</em>"),
    ]
    page = parse(legacy_thread_page(*posts))
    assert [(p.author, p.author_uid) for p in page.posts] == [("石头记", 21), ("游客", None), ("匿名", None), ("老张", None)]
    assert [u.uid for u in page.users] == [21]


def test_legacy_guest_sees_no_stats_block():
    # A group whose customauthorinfo is empty renders no dl.profile: not an error.
    page = parse(legacy_thread_page(legacy_post(1, 1, "x", first=True, profile="")))
    assert page.kind == "viewthread" and page.users[0].uid == 21
    assert page.user_stats == []


@pytest.mark.parametrize("locked, message, state", [
    ('<div class="locked">提示: <em>作者被禁止或删除 内容自动屏蔽</em></div>', None, "banned_author"),
    ('<div class="locked">提示: <em>该帖被管理员或版主屏蔽</em></div>', None, "banned_single"),
    # An administrator sees the content under the note.
    ('<div class="locked">提示: <em>作者被禁止或删除 内容自动屏蔽，只有管理员可见</em></div>', "原文", "banned_author"),
    ('<div class="locked"><em class="right"><a href="misc.php?action=viewpayments&tid=88">记录</a></em>'
     '付费主题, 价格:<strong>金钱 5 </strong></div><div class="locked">本主题需向作者支付 <strong>5 金钱</strong> 才能浏览</div>',
     None, "paid"),
    ("", '可见的部分<div class="locked"><font color="red">本帖隐藏的内容需要回复才可以浏览</font></div>', "hide_partial"),
    ("", '可见的部分<div class="locked">本帖隐藏的内容需要积分高于 100 才可浏览</div>', "hide_partial"),
    ("", "正常内容", "ok"),
])
def test_legacy_post_states(locked, message, state):
    post = parse(legacy_thread_page(legacy_post(1, 1, message, first=True, locked=locked))).posts[0]
    assert post.status == state


def test_legacy_attachment_permission_note_is_not_a_post_state():
    note = '<div class="locked">附件: <em>您所在的用户组无法下载或查看附件</em></div>'
    post = parse(legacy_thread_page(legacy_post(1, 1, "正文", first=True, after_message=note))).posts[0]
    assert (post.status, post.content_text) == ("ok", "正文")


def test_legacy_jammer_is_removed():
    # jammer() replaces each line break of the message, and nl2br() turns its own "\r\n" into <br />.
    message = ('第一句<font style="font-size:0px;color:#FFFFFF">k3 Zp9 ;q</font><br />\r\n第二句<br />\r\n'
               '<span style="display:none">x8 Lm</span>结束')
    post = parse(legacy_thread_page(legacy_post(1, 1, message, first=True))).posts[0]
    assert post.content_text == "第一句\n第二句\n结束"
    assert "k3 Zp9" not in post.content_html and "x8 Lm" not in post.content_html


def test_legacy_quote_header_after_the_quoted_text():
    quote = ('<div class="quote"><blockquote>原来那条路早就修过了<br />\r\n<font size="2"><font color="#999999">'
             '过客乙 发表于 2009-5-1 10:05</font> <a href="http://bbs.qingshi.test/redirect.php?goto=findpost&amp;pid=1002&amp;ptid=88" '
             'target="_blank"><img src="http://bbs.qingshi.test/images/common/back.gif" border="0" alt="" /></a></font>'
             '</blockquote></div><br />没修，还是老样子。')
    post = parse(legacy_thread_page(legacy_post(1, 1, "x", first=True), legacy_post(5, 2, quote))).posts[1]
    assert [(q.pid, q.author, q.time_text, q.text) for q in post.quotes] == [
        (1002, "过客乙", "2009-5-1 10:05", "原来那条路早就修过了")]
    assert post.content_text == "没修，还是老样子。"
    assert "<blockquote>" in post.content_html


def test_old_style_quote_header_before_the_quoted_text():
    quote = ('<div class="quote"><blockquote>原帖由 <i>过客乙</i> 于 2008-12-1 21:07 发表 '
             '<a href="http://bbs.qingshi.test/redirect.php?goto=findpost&amp;pid=990&amp;ptid=88" target="_blank">'
             '<img src="http://bbs.qingshi.test/images/common/back.gif" border="0" alt="" /></a><br />\r\n'
             '那年的雪很大</blockquote></div>记得。')
    post = parse(legacy_thread_page(legacy_post(1, 1, quote, first=True))).posts[0]
    assert [(q.pid, q.author, q.time_text, q.text) for q in post.quotes] == [(990, "过客乙", "2008-12-1 21:07", "那年的雪很大")]
    assert post.content_text == "记得。"


def test_legacy_edit_note_smilies_and_code():
    message = ('<i class="pstatus"> 本帖最后由 石头记 于 2009-5-1 11:20 编辑 </i><br /><br />\r\n'
               '改了一个字<img src="images/smilies/default/smile.gif" smilieid="1" border="0" alt=":)" />'
               '<div class="blockcode"><div id="code0"><ol><li>print 1<li>print 2</ol></div>'
               '<em onclick="copycode($(\'code0\'));">复制代码</em></div>')
    post = parse(legacy_thread_page(legacy_post(1, 1, message, first=True))).posts[0]
    assert (post.edited_by, post.edited_at) == ("石头记", datetime(2009, 5, 1, 11, 20, tzinfo=CST))
    assert post.content_text == "改了一个字:)\nprint 1\nprint 2"


def test_legacy_images_and_attachments_with_real_urls():
    inline = ('看图<img src="images/common/none.gif" file="attachments/month_0905/090501_a1.jpg" width="600" '
              'id="aimg_31" onmouseover="showMenu(this.id, false, 2)" alt="a1.jpg" />'
              '<span style="position: absolute; display: none" id="attach_31"><img src="images/default/attachimg.gif" /></span>'
              '<a href="javascript:;"><img onclick="zoom(this, \'attachments/month_0905/090501_b2.jpg\')" '
              'src="attachments/month_0905/090501_b2.jpg.thumb.jpg" border="0" id="aimg_32" /></a>'
              '<img src="http://img.elsewhere.test/c3.png" onload="thumbImg(this)" alt="" />'
              '<img src="images/attachicons/rar.gif" border="0" class="absmiddle" alt="" />'
              '<span style="white-space: nowrap" id="attach_33"><a href="attachment.php?aid=33&amp;k=9f0e&amp;t=1241150000&amp;sid=x" '
              'target="_blank"><strong>地图.rar</strong></a></span> (12.5 KB)')
    attachlist = ('<div class="postattachlist">'
                  '<dl class="t_attachlist attachimg"><dt></dt><dd><p class="imgtitle">'
                  '<a href="attachment.php?aid=34&amp;k=1a2b&amp;t=1241150000&amp;fid=5&amp;nothumb=yes&amp;sid=x" id="aid34" '
                  'class="bold" target="_blank">桥.jpg</a> <em>(80 KB)</em></p>'
                  '<p><img src="images/common/none.gif" file="attachments/month_0905/090501_d4.jpg" id="aimg_34" alt="桥.jpg" /></p>'
                  '</dd></dl>'
                  '<dl class="t_attachlist"><dt><img src="images/attachicons/text.gif" border="0" class="absmiddle" alt="" /></dt>'
                  '<dd><p class="attachname"><a href="attachment.php?aid=35&amp;k=3c4d&amp;t=1241150000&amp;fid=5&amp;sid=x" '
                  'id="aid35" target="_blank" title="">说明.txt</a> (1 KB)</p></dd></dl></div>')
    page = parse(legacy_thread_page(legacy_post(1, 1, inline, first=True, after_message=attachlist)))
    got = [(a.kind, a.url, a.name, a.aid) for a in page.attachments]
    assert got == [
        ("image", BASE + "attachments/month_0905/090501_a1.jpg", "a1.jpg", 31),
        ("image", BASE + "attachments/month_0905/090501_b2.jpg", None, 32),
        ("image", "http://img.elsewhere.test/c3.png", None, None),
        ("file", BASE + "attachment.php?aid=33&k=9f0e&t=1241150000&sid=x", "地图.rar", 33),
        ("image", BASE + "attachments/month_0905/090501_d4.jpg", "桥.jpg", 34),
        ("file", BASE + "attachment.php?aid=35&k=3c4d&t=1241150000&fid=5&sid=x", "说明.txt", 35),
    ]
    assert page.posts[0].content_text == "看图地图.rar (12.5 KB)"


# --- charsets ----------------------------------------------------------------------------------

def test_gbk_legacy_page_from_meta_header_or_nothing():
    html = legacy_thread_page(*three_posts(), charset="gbk")
    body = html.encode("gbk")
    for content_type in (None, "text/html; charset=GBK", "text/html"):
        page = parse(body, content_type=content_type)
        assert page.charset == "gb18030"
        assert page.threads[0].title == "青石板路的雨季"
        assert page.posts[0].content_text == "雨下了三天。\n石板路上长了青苔。"
        assert {u.uid: u.group_title for u in page.users}[21] == "中级会员"
    # Undeclared GBK bytes (a server that sends neither header nor meta) fall back to GB18030.
    undeclared = html.replace('<meta http-equiv="Content-Type" content="text/html; charset=gbk" />', "")
    page = parse(undeclared.encode("gbk"))
    assert page.posts[2].content_text == "楼主写得好。"


def test_big5_legacy_page():
    html = legacy_thread_page(legacy_post(1, 1, "繁體的內容，測試一下。", first=True, title="舊版論壇的帖子",
                                          author="老街坊", group="註冊會員"),
                              charset="big5", title="舊版論壇的帖子")
    for simplified, traditional in (("灌水乐园", "灌水樂園"), ("青石论坛", "青石論壇"), ("发表于", "發表於"),
                                    ("返回列表", "返回列表"), ("回复", "回覆"), ("复制本帖链接", "複製本帖連結"),
                                    ("帖子地址已经复制到剪贴板", "已複製"), ("只看该作者", "只看該作者"),
                                    ("当前离线", "當前離線"), ("帖子", "帖子"), ("积分", "積分"), ("引用", "引用")):
        html = html.replace(simplified, traditional)
    page = parse(html.encode("big5"), content_type="text/html; charset=big5")
    assert page.charset == "big5hkscs"
    post = page.posts[0]
    assert (post.content_text, post.author, post.posted_at) == ("繁體的內容，測試一下。", "老街坊",
                                                               datetime(2009, 5, 1, 10, 0, tzinfo=CST))
    assert (page.threads[0].title, page.threads[0].forum_name) == ("舊版論壇的帖子", "灌水樂園")
    assert page.user_stats[0].credits == 2333  # 積分 is the Traditional spelling of 积分


# --- forum lists -------------------------------------------------------------------------------

def thread_row(tid: int, title: str, *, sticky: int = 0, author: str = "石头记", uid: int | None = 21,
               created: str = "2009-5-1", replies: int = 3, views: int = 120, last_poster: str = "过客乙",
               last: str = "2009-5-2 08:30", folder: str = "common", prefix: str = "", digest: bool = False) -> str:
    """One ``tbody#normalthread_TID`` / ``stickthread_TID`` of forumdisplay.htm."""
    kind = "stickthread" if sticky else "normalthread"
    icon = (f'<img src="images/default/pin_{sticky}.gif" alt="置顶" />' if sticky
            else f'<img src="images/default/folder_{folder}.gif" alt="{folder}" />')
    author_html = f'<a href="space.php?uid={uid}">{author}</a>' if uid else author
    digest_html = '<img src="images/default/digest_1.gif" alt="精华 1" title="精华 1" />' if digest else ""
    return f"""<tbody id="{kind}_{tid}"><tr>
<td class="folder"><a href="viewthread.php?tid={tid}&amp;extra=page%3D1" title="新窗口打开" target="_blank">{icon}</a></td>
<td class="icon">&nbsp;</td>
<th class="subject {folder}"><label>{digest_html}&nbsp;</label>
 {prefix} <span id="thread_{tid}"><a href="viewthread.php?tid={tid}&amp;extra=page%3D1">{title}</a></span>
 <span class="threadpages"> <a href="viewthread.php?tid={tid}&amp;extra=page%3D1&amp;page=2">2</a></span>
</th>
<td class="author"><cite>{author_html}</cite><em>{created}</em></td>
<td class="nums"><strong>{replies}</strong>/<em>{views}</em></td>
<td class="lastpost"><cite><a href="space.php?username=%B9%FD%BF%CD%D2%D2">{last_poster}</a></cite>
<em><a href="redirect.php?tid={tid}&amp;goto=lastpost#lastpost">{last}</a></em></td>
</tr></tbody>"""


def legacy_forum_page(rows: str, *, pager: str = "", subforum: str = "", nav: str = "", charset: str = "utf-8") -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>茶馆 - 青石论坛 - Powered by Discuz!</title>{GENERATOR_72}</head><body>
<div id="nav"><a id="fjump" href="index.php">青石论坛</a> {nav or '&raquo; 茶馆'}</div>
<div id="wrap" class="wrap s_clear"><div class="main"><div class="content">
<div id="forumheader" class="s_clear"><h1>茶馆</h1><p class="forumstats">[ <strong>45</strong> 主题 / 300 回复 ]</p>
<div class="forumaction"><a href="my.php?item=favorites&amp;fid=7" id="ajax_favorite" class="addfav">收藏</a></div></div>
{subforum}
<div class="pages_btns s_clear">{pager}<span class="pageback"><a href="index.php">返回首页</a></span></div>
<div id="threadlist" class="threadlist datalist" style="position: relative;">
<form method="post" name="moderate" id="moderate" action="topicadmin.php?action=moderate&fid=7&infloat=yes&nopost=yes">
<table summary="forum_7" id="forum_7" cellspacing="0" cellpadding="0" class="datatable">
<thead class="colplural"><tr><td class="folder">&nbsp;</td><td class="icon">&nbsp;</td><th>标题</th>
<td class="author">作者</td><td class="nums">回复/查看</td><td class="lastpost"><cite>最后发表</cite></td></tr></thead>
{rows}
</table></form></div>
<div class="pages_btns s_clear">{pager}</div>
</div></div></div>{FOOTER_72}</body></html>"""


def test_legacy_forum_list_rows():
    rows = (thread_row(2, "全站公告：搬家了", sticky=3, author="管理员", uid=1, replies=0, views=900)
            + thread_row(40, "本版规则", sticky=1, author="版主丙", uid=2, replies=1, views=300)
            + '<tbody><tr><td class="folder"></td><td>&nbsp;</td><th class="subject">版块主题</th>'
              '<td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td></tr></tbody>'
            + thread_row(88, "青石板路的雨季", replies=2, views=57, digest=True,
                         prefix='<em>[<a href="forumdisplay.php?fid=7&amp;filter=type&amp;typeid=3">闲话</a>]</em>')
            + thread_row(87, "锁了的旧帖", folder="lock", author="匿名", uid=None, created="2008-12-31",
                         last="2009-1-1 00:10")
            + thread_row(88, "青石板路的雨季", replies=2, views=57))  # a repeated row is listed once
    page = parse(legacy_forum_page(rows), url=BASE + "forumdisplay.php?fid=7")
    assert (page.kind, page.fid, page.page, page.pages, page.version) == ("forumdisplay", 7, 1, 1, "7.2")
    assert [t.tid for t in page.threads] == [2, 40, 88, 87]
    sticky, rules, rain, locked = page.threads
    assert (sticky.is_sticky, sticky.fid, rules.is_sticky, rules.fid, rain.is_sticky, rain.fid) == (
        True, None, True, 7, False, 7)  # a global sticky (pin_3) belongs to another forum
    assert (rain.title, rain.type_prefix, rain.author, rain.author_uid, rain.is_digest) == (
        "青石板路的雨季", "[闲话]", "石头记", 21, True)
    assert (rain.replies, rain.views, rain.last_poster) == (2, 57, "过客乙")
    assert (rain.created_at, rain.created_at_text) == (date(2009, 5, 1), "2009-5-1")  # lists show the date only
    assert rain.last_post_at == datetime(2009, 5, 2, 8, 30, tzinfo=CST)
    assert (locked.author, locked.author_uid, locked.is_closed, rain.is_closed) == ("匿名", None, True, None)
    assert locked.last_post_at == datetime(2009, 1, 1, 0, 10, tzinfo=CST)
    assert [(f.fid, f.name, f.parent_fid, f.type) for f in page.forums] == [(7, "茶馆", None, "forum")]


def test_legacy_forum_pager_and_sub_forums():
    # multi(45 threads, tpp=20, page 2): the em is 45 threads, the pages are 3.
    pager = ('<div class="pages"><em>&nbsp;45&nbsp;</em><a href="forumdisplay.php?fid=8&amp;page=1" class="prev">&lsaquo;&lsaquo;</a>'
             '<a href="forumdisplay.php?fid=8&amp;page=1">1</a><strong>2</strong>'
             '<a href="forumdisplay.php?fid=8&amp;page=3">3</a>'
             '<a href="forumdisplay.php?fid=8&amp;page=3" class="next">&rsaquo;&rsaquo;</a></div>')
    subforum = ('<div id="subforum" class="mainbox list"><table summary="subform" cellspacing="0" cellpadding="0">'
                '<tbody id="forum11"><tr><th class="new"><div class="left"><h2><a href="forumdisplay.php?fid=11">旧照片</a></h2>'
                '<p>老街的照片</p></div></th><td class="forumnums"><em>9</em> / 40</td></tr></tbody></table></div>')
    nav = '&raquo; <a href="forumdisplay.php?fid=7">茶馆</a> &raquo; 茶馆的里屋'
    html = legacy_forum_page(thread_row(90, "里屋的帖子"), pager=pager, subforum=subforum, nav=nav)
    html = html.replace("<h1>茶馆</h1>", "<h1>茶馆的里屋</h1>").replace('summary="forum_7" id="forum_7"', 'summary="forum_8" id="forum_8"')
    page = parse(html, url=BASE + "forumdisplay.php?fid=8&page=2")
    assert (page.fid, page.page, page.pages) == (8, 2, 3)
    assert [(f.fid, f.name, f.parent_fid, f.type) for f in page.forums] == [
        (7, "茶馆", None, "forum"), (8, "茶馆的里屋", 7, "sub"), (11, "旧照片", 8, "sub")]
    assert page.threads[0].fid == 8


def test_legacy_forum_fid_from_table_summary_when_url_is_rewritten():
    page = parse(legacy_forum_page(thread_row(88, "x")), url=BASE + "forum-7-1.html")
    assert (page.kind, page.fid) == ("forumdisplay", 7)
    page = parse(legacy_forum_page(thread_row(88, "x")), url=BASE + "some/saved/page.html")
    assert (page.kind, page.fid, page.threads[0].fid) == ("forumdisplay", 7, 7)


# --- index -------------------------------------------------------------------------------------

def legacy_index_page() -> str:
    def forum(fid: int, name: str, desc: str = "", subs: str = "", today: int = 0) -> str:
        today_html = f'<em> (今日: <strong>{today}</strong>)</em>' if today else ""
        return (f'<tbody id="forum{fid}"><tr><th class="new"><div class="left">'
                f'<h2><a href="forumdisplay.php?fid={fid}">{name}</a>{today_html}</h2>'
                + (f"<p>{desc}</p>" if desc else "") + (f"<p>子版块: {subs}</p>" if subs else "")
                + '<p>版主: <a class="notabs" href="space.php?username=abc">版主丙</a></p>'
                '</div></th><td class="forumnums"><em>12</em> / 340</td>'
                '<td class="forumlast"><p><a href="redirect.php?tid=88&amp;goto=lastpost#lastpost">青石板路的雨季</a></p>'
                '<cite><a href="space.php?username=x">过客乙</a> - 2009-5-2 08:30</cite></td></tr></tbody>')
    narrow = ('<tr class="narrowlist"><th width="49%"><h2><a href="forumdisplay.php?fid=21">书架</a></h2>'
              '<p>主题: 30, 帖子: 200</p><p>最后发表: <a href="redirect.php?tid=5&amp;goto=lastpost#lastpost">2009-4-1 09:00</a></p></th>'
              '<th width="49%"><h2><a href="forumdisplay.php?fid=22">唱片</a></h2><p>主题: 3, 帖子: 9</p></th></tr>')
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>青石论坛 - Powered by Discuz!</title></head><body>
<div id="nav"><a href="index.php">青石论坛</a> &raquo; 首页</div>
<div id="wrap" class="wrap s_clear"><div class="main"><div class="content">
<div class="mainbox list"><span class="headactions"><img id="category_1_img" src="images/default/collapsed_no.gif" /></span>
<h3><a href="index.php?gid=1">街坊</a></h3>
<table id="category_1" summary="category1" cellspacing="0" cellpadding="0">
{forum(5, "灌水乐园", "随便聊", today=3)}{forum(7, "茶馆", "喝茶的地方",
    subs='<a href="forumdisplay.php?fid=8"><u>茶馆的里屋</u></a>&nbsp; <a href="forumdisplay.php?fid=9"><u>茶具</u></a>&nbsp;')}
</table></div>
<div class="mainbox list"><h3><a href="index.php?gid=20">收藏</a></h3>
<table id="category_20" summary="category20" cellspacing="0" cellpadding="0">{narrow}</table></div>
</div></div></div>{FOOTER_72}</body></html>"""


def test_legacy_index_categories_forums_and_sub_forums():
    page = parse(legacy_index_page(), url=BASE + "index.php")
    assert (page.kind, page.version) == ("index", "7.2")
    assert [(f.fid, f.name, f.parent_fid, f.type, f.description) for f in page.forums] == [
        (1, "街坊", None, "group", None),
        (5, "灌水乐园", 1, "forum", "随便聊"),
        (7, "茶馆", 1, "forum", "喝茶的地方"),
        (8, "茶馆的里屋", 7, "sub", None),
        (9, "茶具", 7, "sub", None),
        (20, "收藏", None, "group", None),
        (21, "书架", 20, "forum", None),
        (22, "唱片", 20, "forum", None),
    ]


# --- showmessage -------------------------------------------------------------------------------

def legacy_message_page(inner: str, *, form_action: str | None = None) -> str:
    box = f'<div id="wrap" class="wrap s_clear"><div class="msgfix"><div class="showmessage">{inner}</div></div></div>'
    if form_action:
        box = f'<form method="post" action="{form_action}">{box}</form>'
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
{GENERATOR_72}<title>提示信息 - 青石论坛</title></head><body>
<div id="nav"><a href="index.php">青石论坛</a> &raquo; 提示信息</div>{box}{FOOTER_72}</body></html>"""


NOT_FOUND = legacy_message_page('<h1>青石论坛提示信息</h1><p>对不起，指定的主题不存在或已被删除或正在被审核，请返回。</p>'
                                '<p><a href="javascript:history.back()">[ 点击这里返回上一页 ]</a></p>')
NO_PERMISSION_GUEST = legacy_message_page(
    '<h1>青石论坛 提示信息</h1><p>您无权进行当前操作，这可能因以下原因之一造成</p>'
    '<p><b>对不起，本帖要求阅读权限高于 50 才能浏览，请返回。</b></p>'
    '<div style="padding-top: 10px;"><hr class="shadowline" /><form method="post" name="login" id="loginform" '
    'class="gateform" action="logging.php?action=login&loginsubmit=yes"><table class="formtable"><tr><th>用户名</th>'
    '<td><input type="text" name="username" /></td></tr><tr><th><label for="password3">密码</label></th>'
    '<td><input type="password" id="password3" name="password" /></td></tr></table></form></div>')
NO_PERMISSION_MEMBER = legacy_message_page(
    '<h1>青石论坛 提示信息</h1><p>您无权进行当前操作，这可能因以下原因之一造成</p>'
    '<p><b>对不起，您所在的用户组(新手上路)无法进行此操作。</b></p><p>您已经登录，但您的帐号或其所在的用户组无权访问当前页面。</p>')
FORUM_PASSWORD = legacy_message_page(
    '<h1>本版块需要密码，您必须在下面输入正确的密码才能浏览这个版块。</h1><p style="text-align: center; margin: 3em 0;">'
    '<input type="password" name="pw" size="25">&nbsp;<button class="submit" type="submit" name="loginsubmit" value="true">提交</button></p>',
    form_action="forumdisplay.php?fid=9&action=pwverify")


@pytest.mark.parametrize("html, url, status, message", [
    (NOT_FOUND, THREAD_URL, "not_found", "对不起，指定的主题不存在或已被删除或正在被审核，请返回。"),
    (NO_PERMISSION_GUEST, THREAD_URL, "login_required",
     "您无权进行当前操作，这可能因以下原因之一造成 对不起，本帖要求阅读权限高于 50 才能浏览，请返回。"),
    (NO_PERMISSION_MEMBER, THREAD_URL, "no_permission",
     "您无权进行当前操作，这可能因以下原因之一造成 对不起，您所在的用户组(新手上路)无法进行此操作。 "
     "您已经登录，但您的帐号或其所在的用户组无权访问当前页面。"),
    (FORUM_PASSWORD, BASE + "forumdisplay.php?fid=9", "password", "本版块需要密码，您必须在下面输入正确的密码才能浏览这个版块。"),
])
def test_legacy_showmessage_pages(html, url, status, message):
    page = parse(html, url=url)
    assert (page.kind, page.status, page.message, page.version) == ("special", status, message, "7.2")
    assert (page.tid, page.fid) == ((88, None) if "viewthread" in url else (None, 9))
    assert page.posts == [] and page.threads == []
