"""Front pages and list pages of themes that hide the stock forum table or thread rows.

The 7.0 front page below is the stock ``discuz.htm`` of the public 7.x sources (header, ``div#nav``,
the announcement and the ``div#forumlist`` whose ``div.mainbox.forumlist`` blocks hold
``table#category_GID``), re-skinned the way a theme shipped with a 7.0 install does it: each
category is a ``div.forum_block`` box with its ``h3`` category link and a ``ul`` of forum boxes,
and only the first category keeps the stock table. Names and figures are made up. Whatever the
boxes look like, every forum the page links to must come out, with the category its box names.
"""
from __future__ import annotations

from scraper.parsers import parse_page

BASE = "http://bbs.qingshi.test/"


def forum_block(gid: int, name: str, forums: list[tuple[int, str]]) -> str:
    items = "".join(f"""<li><div class="forum_icon"><a href="forumdisplay.php?fid={fid}"><img src="images/default/forum.gif" alt="" /></a></div>
<h4><a href="forumdisplay.php?fid={fid}">{fname}</a></h4><p>主题: 12 | 帖数: 345</p>
<p>最后发表: <a href="redirect.php?tid=9{fid}&amp;goto=lastpost#lastpost">2009-6-10 13:18</a></p></li>""" for fid, fname in forums)
    return f"""<div class="forum_block" id="block_{gid}">
<div class="forum_block_title"><h3><a href="index.php?gid={gid}">{name}</a></h3></div>
<ul class="forum_block_list">{items}</ul></div>"""


def front_page() -> str:
    stock = """<div class="mainbox forumlist">
<span class="headactions"><img id="category_1_img" src="images/default/collapsed_no.gif" alt="" /></span>
<h3><a href="index.php?gid=1">站务</a></h3>
<table id="category_1" summary="category1" cellspacing="0" cellpadding="0">
<thead class="category"><tr><th>版块</th><td class="nums">主题</td><td class="nums">帖数</td><td class="lastpost">最后发表</td></tr></thead>
<tbody id="forum2"><tr><th class="new"><div class="left"><h2><a href="forumdisplay.php?fid=2">公告</a></h2><p>本站公告</p></div></th>
<td class="nums">3</td><td class="nums">9</td><td class="lastpost">2009-6-1</td></tr></tbody></table></div>"""
    blocks = forum_block(3, "生活", [(4, "青石杂谈"), (5, "旅游")]) + forum_block(6, "技术", [(7, "电脑"), (8, "摄影")])
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>青石论坛 - Powered by Discuz!</title><meta name="generator" content="Discuz! 7.0.0" /></head><body>
<div id="header"><h2><a href="index.php" title="青石论坛"><img src="images/default/logo.gif" alt="青石论坛" /></a></h2></div>
<div id="menu"><ul><li><a href="search.php">搜索</a></li><li><a href="faq.php">帮助</a></li></ul></div>
<div id="nav"><a href="index.php">青石论坛</a> &raquo; 首页</div>
<div id="forumlist">{stock}{blocks}</div>
<div class="mainbox"><h3>友情链接</h3><a href="http://www.discuz.net">Discuz! 官方论坛</a></div>
<div id="footer"><p id="copyright">Powered by <strong><a href="http://www.discuz.net">Discuz!</a></strong> <em>7.0.0</em></p></div>
</body></html>"""


def test_forum_block_front_page_yields_every_linked_forum_in_its_category():
    page = parse_page(BASE + "index.php", front_page().encode("gb18030"))
    assert page.kind == "index" and page.version == "7.0.0"
    forums = {f.fid: (f.name, f.type, f.parent_fid) for f in page.forums}
    assert forums == {
        1: ("站务", "group", None), 2: ("公告", "forum", 1),
        3: ("生活", "group", None), 4: ("青石杂谈", "forum", 3), 5: ("旅游", "forum", 3),
        6: ("技术", "group", None), 7: ("电脑", "forum", 6), 8: ("摄影", "forum", 6),
    }


def test_front_page_with_only_boxes_still_yields_the_forums():
    html = front_page()
    start, end = html.index('<div class="mainbox forumlist">'), html.index('<div class="forum_block"')
    page = parse_page(BASE, (html[:start] + html[end:]).encode("gb18030"))
    assert page.kind == "index"
    assert sorted(f.fid for f in page.forums if f.type == "forum") == [4, 5, 7, 8]


# --- X3.2 special pages --------------------------------------------------------------------------

X32_HEAD = ('<!DOCTYPE html><html><head><meta charset="utf-8" /><meta name="generator" content="Discuz! X3.2" />'
            '<title>版主管理 - 青石论坛</title></head><body><div id="wp" class="wp"><div id="pt" class="bm cl">'
            '<div class="z"><a href="./" class="nvhm">青石论坛</a> <em>&rsaquo;</em> <a href="forum.php?mod=modcp">版主管理</a></div></div>'
            '<div id="ct" class="ct2_a wp cl"><div class="mn">')
X32_TAIL = '</div></div></div><div id="ft" class="wp cl"><div id="frt"><p>Powered by <strong>Discuz!</strong> <em>X3.2</em></p></div></div></body></html>'


def test_x32_moderator_panel_refusal_is_a_no_permission_page():
    # forum/modcp_forum.htm for someone who moderates no forum: the panel's h1 says so, no showmessage().
    html = X32_HEAD + '<div class="bm bw0 mdcp"><h1 class="mt cl">\n抱歉，您无此权限！\n</h1></div>' + X32_TAIL
    page = parse_page(BASE + "forum.php?mod=modcp&action=forumeditor&fid=2", html.encode())
    assert (page.kind, page.status, page.message, page.version) == ("special", "no_permission", "抱歉，您无此权限！", "X3.2")


def test_x32_system_error_page_is_special():
    # discuz_error::show_error(), e.g. for a request _xss_check() refuses.
    html = ("<html><head><title>bbs.qingshi.test - Discuz! System Error</title></head><body><div id=\"container\">"
            "<h1>Discuz! System Error</h1><div class='info'><li>您当前的访问请求当中含有非法字符，已经被系统拒绝</li></div>"
            "<div class=\"info\"><p><strong>PHP Debug</strong></p><table><tr><td><ul><li>[Line: 0026]forum.php"
            "(discuz_application-&gt;init)</li></ul></td></tr></table></div>"
            "<div class=\"help\"><a href=\"http://bbs.qingshi.test\">bbs.qingshi.test</a> 已经将此出错信息详细记录</div>"
            "</div></body></html>")
    page = parse_page(BASE + "forum.php?mod=viewthread&tid=3&x=%3C", html.encode())
    assert (page.kind, page.status, page.tid) == ("special", "system_error", 3)
    assert page.message == "您当前的访问请求当中含有非法字符，已经被系统拒绝"
