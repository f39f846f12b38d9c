"""Attachment facts, tags, 支持/反对 and the warned / anonymous post states (scraper/parsers/attachments.py, tags.py,
recommend.py, post_states.py, and the media collection of content.py): real captures against database truth, and
markup written from the templates for what the captures lack.

Truth: expected.json of discuz-x35-utf8-g (X3.5), its Traditional-Chinese twin discuz-x35-utf8-g-tc and
discuz-70-utf8-k (7.0): ``attachments`` (filename, filesize, downloads before the capture, width, dateline, url,
guest_visible, guest_can_download), ``threads[].tags``, ``recommend_add`` / ``recommend_sub``, posts' ``warned`` /
``anonymous``. G's recorded member login shows the members-only image (aid 50). The unit markup follows X3.5
``template/default/forum/discuzcode.htm`` / ``viewthread_node.htm`` / ``viewthread_node_body.htm`` and 7.0
``templates/default/discuzcode.htm`` / ``viewthread_node.htm``.
"""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import pytest

from scraper.items import KIND_VIEWTHREAD
from scraper.parsers import parse_page
from scraper.parsers.content import aid_from_href

from .conftest import FIXTURES, captured_pages, expected

G = FIXTURES / "discuz-x35-utf8-g"
G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
K = FIXTURES / "discuz-70-utf8-k"
G_MEMBER = G / "member"
SITES = [pytest.param(G, id="G"), pytest.param(G_TC, id="G-tc"), pytest.param(K, id="K")]
X_SITES = [pytest.param(G, id="G"), pytest.param(G_TC, id="G-tc")]
IMAGEMAXWIDTH = 600  # both installs' setting (var imagemaxwidth = '600' in their thread pages)


# --- real captures -----------------------------------------------------------------------------------

def need(folder):
    if not (folder / "expected.json").exists():
        pytest.skip(f"fixture {folder.name} missing")


@lru_cache(maxsize=None)
def thread_pages(folder):
    """Every captured thread page of ``folder``, parsed, in capture order (parsed once per run: read, never changed)."""
    out = []
    for p in captured_pages(folder):
        if p.content_type.startswith("text/html"):
            page = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
            if page.kind == KIND_VIEWTHREAD:
                out.append(page)
    return out


def first_page_of(folder, tid):
    """The thread's first page as the crawl met it first (its list link ``thread-TID-1-1.html``)."""
    pages = [page for page in thread_pages(folder) if page.url.endswith(f"/thread-{tid}-1-1.html")]
    assert pages, f"{folder.name}: thread-{tid}-1-1.html not captured"
    return pages[0]


def sizecount(size: int) -> str:
    """Discuz's sizecount(): two decimals of KB / MB (PHP rounds half away from zero), trailing zeros dropped."""
    for unit, name in ((1024 ** 3, "GB"), (1024 ** 2, "MB"), (1024, "KB")):
        if size >= unit:
            shown = (Decimal(size) / unit).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            return f"{shown.normalize():f} {name}"
    return f"{size} Bytes"


def guest_attachments(folder):
    return [a for a in expected(folder)["attachments"] if a["guest_visible"]]


def every_guest_attachment():
    out = []
    for folder in (G, G_TC, K):
        if (folder / "expected.json").exists():
            out += [pytest.param(folder, a, id=f"{folder.name}-aid{a['aid']}") for a in guest_attachments(folder)
                    if a["pid"] in _floors(folder)]
    return out


def _floors(folder):
    """Pids that are posts of their thread (a trade's goods post is not: its picture is the trade reader's)."""
    return {p["pid"] for p in expected(folder)["posts"]}


def first_showing(folder, truth):
    """The first captured page that shows the attachment's post, and the item the readers made of it."""
    for page in thread_pages(folder):
        if any(post.pid == truth["pid"] for post in page.posts):
            items = [a for a in page.attachments if a.pid == truth["pid"] and a.aid == truth["aid"]]
            assert len(items) == 1, f"{page.url}: aid {truth['aid']} kept {len(items)} times"
            return page, items[0]
    raise AssertionError(f"no captured page shows pid {truth['pid']}")


@pytest.mark.parametrize("folder, truth", every_guest_attachment())
def test_attachment_name_size_downloads_and_upload_time_are_the_databases(folder, truth):
    page, item = first_showing(folder, truth)
    assert item.name == truth["filename"]
    assert item.kind == ("image" if truth["isimage"] else "file")
    assert item.size_text == sizecount(truth["filesize"])
    # The size as exact as the unit shown: 36.75 KB is 37632 bytes of a 37628-byte file.
    shown, unit = item.size_text.split()
    assert item.size == round(float(shown) * {"Bytes": 1, "KB": 1024, "MB": 1024 ** 2}[unit])
    assert abs(item.size - truth["filesize"]) <= {"Bytes": 0, "KB": 6, "MB": 5300}[unit]
    dateline = datetime.fromisoformat(truth["dateline"])
    assert item.uploaded_at == dateline.replace(second=0)  # shown to the minute
    assert item.uploaded_at_text and item.uploaded_at_text.startswith(f"{dateline.year}-")
    # X prints 下载次数 beside every attachment; 7.x only in its list entries (an inline picture's tip has none).
    listed_in_7x = folder == K and not truth["inline"]
    if folder != K or listed_in_7x or not truth["isimage"]:
        assert item.downloads == truth["downloads"], page.url
    else:
        assert item.downloads is None
    assert item.height is None  # never printed


@pytest.mark.parametrize("folder, truth", every_guest_attachment())
def test_attachment_url_is_the_real_file_and_the_width_only_where_the_page_shows_it(folder, truth):
    page, item = first_showing(folder, truth)
    assert item.url == truth["url"]
    assert "none.gif" not in item.url
    if truth["isimage"]:
        # X image lists print the real width as w="…"; otherwise width="…" is min(width, imagemaxwidth).
        x_list = folder != K and not truth["inline"]
        shown = truth["width"] if x_list or truth["width"] < IMAGEMAXWIDTH else None
        assert item.width == shown
    else:
        assert item.width is None


@pytest.mark.parametrize("folder, truth", every_guest_attachment())
def test_a_shown_picture_or_file_link_is_viewable_and_downloadable(folder, truth):
    _, item = first_showing(folder, truth)
    assert item.can_view is truth["guest_visible"] is True
    assert item.can_download is truth["guest_can_download"] is True
    assert item.price is None


@pytest.mark.parametrize("folder", X_SITES)
def test_a_guest_sees_the_pdf_listed_with_its_link_which_the_page_cannot_say_refuses(folder):
    need(folder)
    truth = next(a for a in expected(folder)["attachments"] if not a["isimage"])
    page, item = first_showing(folder, truth)
    assert (item.name, item.size, item.size_text, item.downloads) == (
        truth["filename"], 922, "922 Bytes", truth["downloads"])
    assert item.url == truth["download_link_shown"]
    # guest_visible / guest_can_download are False in the truth: allowgetattach 0 makes the link answer
    # "没有权限下载本附件", which only that answer says. The thread page shows the entry and its link.
    assert (item.can_view, item.can_download) == (True, True)
    assert item.uploaded_at == datetime.fromisoformat(truth["dateline"])


@pytest.mark.parametrize("folder", SITES)
def test_every_page_keeps_each_attachment_once_and_never_a_placeholder(folder):
    need(folder)
    for page in thread_pages(folder):
        keys = [(a.pid, a.aid) for a in page.attachments if a.aid is not None]
        assert len(keys) == len(set(keys)), page.url
        for item in page.attachments:
            assert "none.gif" not in item.url and "back.gif" not in item.url, page.url


@pytest.mark.parametrize("folder", SITES)
def test_downloads_never_fall_below_the_truth_and_stay_within_what_the_capture_added(folder):
    need(folder)
    truth = {a["aid"]: a for a in expected(folder)["attachments"]}
    seen = set()
    for page in thread_pages(folder):
        for item in page.attachments:
            if item.aid in truth and item.downloads is not None:
                seen.add(item.aid)
                assert truth[item.aid]["downloads"] <= item.downloads <= truth[item.aid]["downloads_after_capture"]
    assert seen


def test_the_7x_quote_arrow_is_not_an_image_of_the_quoting_post():
    need(K)
    quoting = {p["pid"] for p in expected(K)["posts"] if p.get("quote_pid")}
    seen = set()
    for page in thread_pages(K):
        for post in page.posts:
            if post.pid in quoting:
                seen.add(post.pid)
                assert [a.url for a in page.attachments if a.pid == post.pid] == [], page.url
                assert post.quotes and post.quotes[0].pid is not None
    assert seen == quoting - {p["pid"] for p in expected(K)["posts"] if not p["guest_visible"]}


def test_attachments_a_guest_may_not_see_are_not_made_up():
    need(K)
    hidden = {a["aid"] for a in expected(K)["attachments"] if not a["guest_visible"]}
    for page in thread_pages(K):
        assert not [a for a in page.attachments if a.aid in hidden], page.url


def test_the_member_sees_the_members_only_picture_with_its_facts():
    if not (G_MEMBER / "manifest.json").exists():
        pytest.skip("member capture of discuz-x35-utf8-g missing")
    truth = next(a for a in expected(G)["attachments"] if a["aid"] == 50)
    pages = [page for page in thread_pages(G_MEMBER) if page.url.endswith("/thread-150-1-1.html")]
    assert pages
    [item] = [a for a in pages[0].attachments if a.aid == 50]
    assert (item.pid, item.name, item.kind) == (truth["pid"], truth["filename"], "image")
    assert item.url == "http://bbs.zigong.test/" + truth["attachment"]
    assert item.size_text == sizecount(truth["filesize"]) == "28.33 KB"
    assert item.downloads == truth["downloads"]
    assert item.uploaded_at == datetime.fromisoformat(truth["dateline"])
    assert item.width is None  # 600 shown: the cap, not necessarily the width
    assert (item.can_view, item.can_download) == (True, True)


# --- tags --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", SITES)
def test_each_threads_first_page_carries_its_tags_in_order(folder):
    need(folder)
    truth = {t["tid"]: t.get("tags") or [] for t in expected(folder)["threads"] if t["guest_visible"]}
    checked = 0
    for page in thread_pages(folder):
        if page.tid not in truth:
            continue
        shows_first_post = any(post.is_first for post in page.posts)
        names = [tag.tagname for tag in page.thread_tags]
        assert all(tag.tid == page.tid for tag in page.thread_tags)
        if shows_first_post:
            assert names == truth[page.tid], page.url
            checked += bool(names)
        else:
            assert names == [], page.url
    assert checked >= len([tags for tags in truth.values() if tags])


@pytest.mark.parametrize("folder", X_SITES)
def test_x_tags_carry_their_tag_ids(folder):
    need(folder)
    page = first_page_of(folder, 134)
    assert [(t.tagname, t.tagid) for t in page.thread_tags] == list(zip(
        next(t["tags"] for t in expected(folder)["threads"] if t["tid"] == 134), (29, 30)))


def test_7x_tags_are_read_by_name_without_ids():
    need(K)
    page = first_page_of(K, 1)
    assert [(t.tid, t.tagname, t.tagid) for t in page.thread_tags] == [(1, "地铁", None), (1, "洛阳", None)]


# --- 支持 / 反对 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", X_SITES)
def test_support_and_oppose_counts_are_the_databases_hidden_zeros_included(folder):
    need(folder)
    truth = {t["tid"]: t for t in expected(folder)["threads"] if t["guest_visible"]}
    checked = set()
    for page in thread_pages(folder):
        thread = next(t for t in page.threads if t.tid == page.tid)
        if any(post.is_first for post in page.posts) and page.tid in truth:
            assert (thread.recommend_add, thread.recommend_sub) == (
                truth[page.tid]["recommend_add"], truth[page.tid]["recommend_sub"]), page.url
            checked.add(page.tid)
        elif page.tid in truth:
            assert (thread.recommend_add, thread.recommend_sub) == (None, None), page.url
    assert {129, 132, 133, 141} <= checked


def test_7x_has_no_recommend_box_so_the_counts_stay_unknown():
    need(K)
    for page in thread_pages(K):
        assert all(t.recommend_add is None and t.recommend_sub is None for t in page.threads), page.url


# --- warned / anonymous --------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", SITES)
def test_warned_and_anonymous_posts_are_marked_and_no_others(folder):
    need(folder)
    truth = {p["pid"]: p for p in expected(folder)["posts"]}
    marked = {"warned": set(), "anonymous": set()}
    for page in thread_pages(folder):
        for post in page.posts:
            t = truth[post.pid]
            assert post.is_anonymous is t["anonymous"], (page.url, post.pid)
            if post.is_anonymous:
                marked["anonymous"].add(post.pid)
                assert post.author_uid is None
                assert post.author in (None, "匿名")
            if folder == K and t["banned"]:
                # 7.0 prints the warn icon beside every banned post (substr(sprintf('%b', 1), -2, 1) is '1'):
                # there the icon does not tell a warning.
                assert post.is_warned is None, (page.url, post.pid)
            else:
                assert post.is_warned is t["warned"], (page.url, post.pid)
            if post.is_warned:
                marked["warned"].add(post.pid)
    visible = {pid for pid, p in truth.items() if p["guest_visible"]}
    assert marked["anonymous"] == {pid for pid in visible if truth[pid]["anonymous"]}
    assert marked["warned"] == {pid for pid in visible if truth[pid]["warned"]}
    assert marked["anonymous"]


# --- markup from the templates ----------------------------------------------------------------------------

X_URL = "http://bbs.test/thread-7-1-1.html"
K_URL = "http://bbs.test/viewthread.php?tid=5"
DATE = "Sat, 05 Dec 2026 19:11:00 GMT"


def x_post(pid, message="", *, floor=1, left=None, author=None, warn="", after=""):
    """One X3.5 post (viewthread_node.htm / viewthread_node_body.htm), author column and frame included."""
    if left is None:
        left = (f'<div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid=3{pid}" class="xw1">'
                f'用户{pid}</a></div></div>')
    if author is None:
        author = f'<a href="home.php?mod=space&amp;uid=3{pid}" class="xi2">用户{pid}</a>'
    return f"""
<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}" cellspacing="0" cellpadding="0"><tr>
<td class="pls" rowspan="2"><div id="favatar{pid}" class="pls cl favatar">{left}</div></td>
<td class="plc"><div class="pi">{warn}<strong><a href="forum.php?mod=redirect&goto=findpost&ptid=7&pid={pid}"
 id="postnum{pid}"><em>{floor}</em><sup>#</sup></a></strong>
<div class="pti"><div class="pdbt"></div><div class="authi"><img class="authicn vm" id="authicon{pid}"
 src="static/image/common/online_member.gif" />{author}
<em id="authorposton{pid}">发表于 2026-11-2 10:00:00</em></div></div></div>
<div class="pct"><div class="pcb"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr>
<td class="t_f" id="postmessage_{pid}">{message}</td></tr></table>{after}</div></div></div>
</td></tr><tr><td class="plc plm"></td></tr></table></div>"""


def x_page(*posts, scripts="<script type=\"text/javascript\">var imagemaxwidth = '600';</script>", extra=""):
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8" /><meta name="generator" content="Discuz! X3.5" />
<title>测试 - Powered by Discuz!</title></head><body>{scripts}
<div id="pt" class="bm cl"><div class="z"><a href="forum.php">论坛</a><a href="forum-2-1.html">灌水</a></div></div>
<div id="postlist" class="pl bm"><table cellspacing="0" cellpadding="0"><tr><td class="plc ptm pbn vwthd">
<h1 class="ts"><span id="thread_subject">测试</span></h1></td></tr></table>{''.join(posts)}</div>{extra}
</body></html>""".encode()


def k_post(pid, message="", *, floor=1, left=None, author=None, warn="", after=""):
    """One 7.0 post (viewthread_node.htm), authoronleft on."""
    if left is None:
        left = (f'<div class="postinfo"><a target="_blank" href="space.php?uid=1{pid}">用户{pid}</a></div>'
                f'<div id="userinfo{pid}_a"><p><em>新手上路</em></p></div>')
    if author is None:
        author = ""
    return f"""
<div id="post_{pid}"><table id="pid{pid}" summary="pid{pid}" cellspacing="0" cellpadding="0"><tr>
<td class="postauthor">{left}</td>
<td class="postcontent"><div class="postinfo"><strong><a title="复制本帖链接" id="postnum{pid}" href="javascript:;">
<em>{floor}</em><sup>#</sup></a></strong><div class="posterinfo"><div class="authorinfo">
<img class="authicon" id="authicon{pid}" src="images/common/online_member.gif" />{author}
<em id="authorposton{pid}">发表于 2010-01-18 21:30</em></div></div></div>
<div class="defaultpost"><div class="postmessage">{warn}<div class="t_msgfontfix"><table cellspacing="0"
 cellpadding="0"><tr><td class="t_msgfont" id="postmessage_{pid}">{message}</td></tr></table>{after}</div></div></div>
</td></tr></table></div>"""


def k_page(*posts, charset="utf-8"):
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<meta name="generator" content="Discuz! 7.0.0" /><title>测试 - Powered by Discuz!</title></head><body>
<script type="text/javascript">zoomstatus = parseInt(1);var imagemaxwidth = '600';var aimgcount = new Array();</script>
<div id="nav"><a href="index.php">论坛</a> &raquo; <a href="forumdisplay.php?fid=2">闲谈</a> &raquo; 测试</div>
<div id="postlist" class="mainbox viewthread">{''.join(posts)}</div></body></html>""".encode()


def parse(body, url=X_URL):
    page = parse_page(url, body, content_type="text/html; charset=utf-8", date_header=DATE)
    assert page.kind == KIND_VIEWTHREAD, page.message
    return page


def the(page, aid):
    [item] = [a for a in page.attachments if a.aid == aid]
    return item


# X3.5 discuzcode.htm attachinpost(), a file with a price (paid, so the name links attachpay) and a readperm.
X_INLINE_PAID_FILE = """付费资料：<ignore_js_op>
<img src="static/image/filetype/rar.gif" border="0" class="vm" alt="" />
<span style="white-space: nowrap" id="attach_61" onmouseover="showMenu({'ctrlid':this.id,'pos':'12'})">
<a href="forum.php?mod=misc&action=attachpay&aid=61&tid=7" onclick="showWindow('attachpay', this.href)">盐场老照片合集.rar</a>
<em class="xg1">(2.5 MB, 下载次数: 1,024, 售价: 5 金钱)</em></span>
<div class="tip tip_4" id="attach_61_menu" style="position: absolute; display: none" disautofocus="true">
<div class="tip_c xs0"><div class="y"><span title="2026-12-1 08:15">4&nbsp;天前</span> 上传</div>点击文件名下载附件
<br />阅读权限: 10
<br />售价: 5 金钱 &nbsp;<a href="forum.php?mod=misc&action=viewattachpayments&aid=61" target="_blank">[记录]</a>
&nbsp;[<a href="forum.php?mod=misc&action=attachpay&aid=61&tid=7" target="_blank">购买</a>]
</div><div class="tip_horn"></div></div></ignore_js_op>"""

# The same file once paid for (or free): the name links the download, whose aid X encodes (aidencode()).
X_INLINE_FILE = """<ignore_js_op><img src="static/image/filetype/zip.gif" border="0" class="vm" alt="" />
<span style="white-space: nowrap" id="attach_62"><a
 href="forum.php?mod=attachment&amp;aid=NjJ8MTIzNGFiY2R8MTc5NjQ5NzkwOXwwfDc%3D" target="_blank">地图.zip</a> <em class="xg1">(512 Bytes, 下载次数: 0)</em></span>
<div class="tip tip_4" id="attach_62_menu" style="position: absolute; display: none"><div class="tip_c xs0">
<div class="y">2025-3-9 15:00 上传</div>点击文件名下载附件</div><div class="tip_horn"></div></div></ignore_js_op>"""


def test_x_inline_file_reads_size_downloads_price_and_relative_upload_time():
    page = parse(x_page(x_post(101, X_INLINE_PAID_FILE + "<br />" + X_INLINE_FILE)))
    paid = the(page, 61)
    assert (paid.pid, paid.kind, paid.name) == (101, "file", "盐场老照片合集.rar")
    assert (paid.size, paid.size_text, paid.downloads, paid.price) == (2621440, "2.5 MB", 1024, 5)
    assert paid.uploaded_at_text == "4 天前"
    assert paid.uploaded_at == datetime.fromisoformat("2026-12-01T08:15:00+08:00")  # the span's title, not "now"
    assert paid.url == "http://bbs.test/forum.php?mod=misc&action=attachpay&aid=61&tid=7"
    assert (paid.can_view, paid.can_download) == (True, False)  # listed, but only bought can it be had
    free = the(page, 62)
    assert (free.name, free.size, free.downloads, free.price) == ("地图.zip", 512, 0, None)
    assert free.url.startswith("http://bbs.test/forum.php?mod=attachment&aid=NjJ8")
    assert (free.can_view, free.can_download) == (True, True)
    assert free.uploaded_at == datetime.fromisoformat("2025-03-09T15:00:00+08:00")
    assert len(page.attachments) == 2


def test_x_encoded_download_links_give_their_aid():
    assert aid_from_href("forum.php?mod=attachment&aid=NDN8MmEzNzc3MDV8MTc5NjQ5NzkwOXwwfDEzNA%3D%3D") == 43
    assert aid_from_href(
        "forum.php?mod=attachment&amp;aid=NDh8NmE0ZGE5YmZ8MTc5NjQ5NzkwOHwwfDEzOA%3D%3D&nothumb=yes") == 48
    assert aid_from_href("attachment.php?aid=10&k=cc29&t=1796498851&fid=6&sid=fe62") == 10
    assert aid_from_href("forum.php?mod=attachment&aid=bm90IGFuIGFpZA==") is None  # "not an aid"
    assert aid_from_href("forum.php?mod=viewthread&tid=7") is None


# X3.5 imagelist() for an image list with imagelistthumb: the full list sits in a hidden div the post parser skips.
X_HIDDEN_IMAGE_LIST = """<div class="pattl"><div class="bbda cl mtw mbm pbm"><strong>更多图片</strong></div>
<div id="imagelist_102" class="cl" style="display:none"><ignore_js_op><dl class="tattl attm"><dt></dt><dd>
<p class="mbn"><a href="forum.php?mod=attachment&amp;aid=NzF8YWJjZGVmMDF8MTc5NjQ5NzkwOXwwfDc%3D&amp;nothumb=yes"
 id="aid71" class="xw1" target="_blank">qiao.jpg</a> <em class="xg1">(1.5 MB, 下载次数: 12)</em></p>
<div class="tip tip_4" id="aid71_menu" style="display: none"><div><p><span class="y">2026-11-2 10:00 上传</span></p>
</div></div><p class="mbn">售价: <strong>3 金钱</strong></p>
<div class="mbn savephotop"><img id="aimg_71" aid="71" src="static/image/common/none.gif"
 zoomfile="data/attachment/forum/202611/02/qiao.jpg" file="data/attachment/forum/202611/02/qiao.jpg"
 class="zoom" width="600" alt="桥" title="桥" w="1024" /></div></dd></dl></ignore_js_op></div>
<div id="imagelistthumb_102" class="pattl_c cl"><div class="loadicon vm"></div> 图片载入中...</div></div>"""


def test_x_image_only_in_a_hidden_list_is_added_with_its_real_width():
    page = parse(x_page(x_post(102, "几张照片", after=X_HIDDEN_IMAGE_LIST)))
    item = the(page, 71)
    assert (item.pid, item.kind, item.name) == (102, "image", "qiao.jpg")  # the file name, not the alt
    assert item.url == "http://bbs.test/data/attachment/forum/202611/02/qiao.jpg"
    assert (item.size, item.downloads, item.price, item.width, item.height) == (1572864, 12, 3, 1024, None)
    assert item.uploaded_at == datetime.fromisoformat("2026-11-02T10:00:00+08:00")
    assert (item.can_view, item.can_download) == (True, True)


def test_x_unpaid_picture_in_a_list_is_listed_but_neither_shown_nor_downloadable():
    # imagelist() for a priced picture this viewer has not bought: the name, size and price, no picture.
    entry = """<div class="pattl"><ignore_js_op><dl class="tattl attm"><dt></dt><dd><p class="mbn"><a
 href="forum.php?mod=attachment&amp;aid=NzJ8YWJjZGVmMDF8MTc5NjQ5NzkwOXwwfDc%3D&amp;nothumb=yes" id="aid72" class="xw1"
 target="_blank">hd.jpg</a> <em class="xg1">(2 MB, 下载次数: 9)</em></p><p class="mbn">售价: <strong>8 金钱</strong>
 &nbsp;[<a href="forum.php?mod=misc&action=viewattachpayments&aid=72" target="_blank">记录</a>]
 &nbsp;[<a href="forum.php?mod=misc&action=attachpay&aid=72&tid=7" target="_blank">购买</a>]</p></dd></dl>
</ignore_js_op></div>"""
    item = the(parse(x_page(x_post(107, "高清原图", after=entry))), 72)
    assert (item.kind, item.name, item.size, item.downloads, item.price) == ("image", "hd.jpg", 2097152, 9, 8)
    assert (item.can_view, item.can_download) == (False, False)


X_INLINE_IMAGES = """<ignore_js_op><img id="aimg_81" aid="81" src="static/image/common/none.gif"
 zoomfile="data/attachment/forum/a.jpg" file="data/attachment/forum/a.jpg" class="zoom" width="{w81}" inpost="1" />
<div class="tip tip_4 aimg_tip" id="aimg_81_menu" style="position: absolute; display: none"><div class="xs0">
<p><strong>a.jpg</strong> <em class="xg1">(36.75 KB, 下载次数: 3)</em></p><p><a
 href="forum.php?mod=attachment&amp;aid=ODF8YWJjZGVmMDF8MTc5NjQ5NzkwOXwwfDc%3D&amp;nothumb=yes">下载附件</a></p>
<p class="xg1 y">2026-11-2 10:00 上传</p></div></div></ignore_js_op>"""


@pytest.mark.parametrize("shown, script, width", [
    ("480", "<script>var imagemaxwidth = '600';</script>", 480),  # below the cap: the real width
    ("600", "<script>var imagemaxwidth = '600';</script>", None),  # at the cap: 600 or wider
    ("480", "", None),  # the page does not say its cap
    ("480", "<script>var imagemaxwidth = '80%';</script>", None),  # a percentage: no pixel cap
])
def test_x_inline_image_width_is_kept_only_below_the_pages_imagemaxwidth(shown, script, width):
    page = parse(x_page(x_post(103, X_INLINE_IMAGES.replace("{w81}", shown)), scripts=script))
    item = the(page, 81)
    assert item.width == width
    assert (item.name, item.size_text, item.downloads) == ("a.jpg", "36.75 KB", 3)


def test_x_guest_thumbnail_is_neither_viewable_nor_downloadable():
    # guestviewthumb on: a thumbnail and "log in to see the picture" (attachinpost, $guestviewthumb).
    message = """<ignore_js_op><div class="guestviewthumb"><div style="margin: 0 auto;">
<img id="aimg_91" class="guestviewthumb_cur" aid="91" src="static/image/common/none.gif"
 file="data/attachment/image/000/00/00/91_300_300.jpg" makefile="forum.php?mod=image&aid=91&size=300x300&key=k&type=1"
 inpost="1" alt="b.jpg" title="b.jpg"/><br><a href="member.php?mod=logging&action=login">登录/注册后可看大图</a>
</div></div></ignore_js_op>"""
    item = the(parse(x_page(x_post(104, message))), 91)
    assert (item.kind, item.name, item.can_view, item.can_download) == ("image", "b.jpg", False, False)


def test_x_no_permission_note_below_a_post_refuses_what_a_theme_still_lists():
    note = """<div class="attach_nopermission attach_tips"><div><h3><strong>本帖子中包含更多资源</strong></h3>
<p>您需要 <a href="member.php?mod=logging&action=login">登录</a> 才可以下载或查看，没有账号？</p></div></div>"""
    listed = """<span id="attach_95"><a href="forum.php?mod=attachment&amp;aid=OTV8YWJjfDF8MHw3">c.pdf</a></span>"""
    refused = the(parse(x_page(x_post(105, listed, after=note))), 95)
    assert (refused.can_view, refused.can_download) == (False, False)
    # The same class in a first post's message is the guest tip (guesttipsinthread), which refuses nothing.
    tip = note.replace("本帖子中包含更多资源", "马上注册，结交更多好友")
    kept = the(parse(x_page(x_post(105, tip + listed))), 95)
    assert (kept.can_view, kept.can_download) == (True, True)


def test_traditional_chinese_labels_are_read():
    message = (X_INLINE_PAID_FILE.replace("下载次数", "下載次數").replace("售价", "售價").replace("上传", "上傳"))
    item = the(parse(x_page(x_post(106, message))), 61)
    assert (item.downloads, item.price, item.uploaded_at_text) == (1024, 5, "4 天前")


# 7.0 discuzcode.htm attachinpost() for a file, attachlist() for a list image, and attachinpost() for an image.
K_INLINE_FILE = """<img src="images/attachicons/rar.gif" border="0" class="absmiddle" alt="" /> <span
 style="white-space: nowrap" id="attach_12" onmouseover="showMenu(this.id, false, 2)"><a
 href="attachment.php?aid=12&amp;k=abc&amp;t=1796498851&amp;sid=x" target="_blank"><strong>行程.rar</strong></a></span>
 (1.2 MB)
<div class="t_attach" id="attach_12_menu" style="position: absolute; display: none">
下载次数: 7<br />售价: 金钱 3 枚 &nbsp;<a href="misc.php?action=viewattachpayments&amp;aid=12">[记录]</a>
<div class="t_smallfont">2010-04-30 13:58</div></div>"""
K_INLINE_IMAGE = """<span style="position: absolute; display: none" id="attach_13"><img
 src="images/default/attachimg.gif" border="0"></span>
<img src="images/common/none.gif" file="attachments/month_1004/b.jpg" width="420" onclick="zoom(this, this.src)"
 id="aimg_13" onmouseover="showMenu(this.id, false, 2)" alt="国花园.png" />
<div class="t_attach" id="aimg_13_menu" style="position: absolute; display: none">
<a href="attachment.php?aid=13&amp;k=abc&amp;t=1796498851&amp;nothumb=yes&amp;sid=x" title="国花园.png"
 target="_blank"><strong>下载</strong></a> (7.15 KB)<br /><div class="t_smallfont">2010-04-19 02:03</div></div>"""


def test_7x_inline_file_and_image_read_from_their_spans_and_tips():
    page = parse(k_page(k_post(201, K_INLINE_FILE + "<br />" + K_INLINE_IMAGE)), K_URL)
    rar = the(page, 12)
    assert (rar.kind, rar.name, rar.size, rar.size_text, rar.downloads, rar.price) == (
        "file", "行程.rar", 1258291, "1.2 MB", 7, 3)
    assert rar.uploaded_at == datetime.fromisoformat("2010-04-30T13:58:00+08:00")
    assert rar.url == "http://bbs.test/attachment.php?aid=12&k=abc&t=1796498851&sid=x"
    image = the(page, 13)
    assert (image.kind, image.name, image.size_text, image.downloads, image.width) == (
        "image", "国花园.png", "7.15 KB", None, 420)
    assert image.url == "http://bbs.test/attachments/month_1004/b.jpg"
    assert (image.can_view, image.can_download) == (True, True)
    assert len(page.attachments) == 2  # the hidden attach_13 icon is no attachment


def test_7x_no_permission_note_refuses_and_a_reply_to_see_note_too():
    listed = """<div class="postattachlist"><dl class="t_attachlist"><dt></dt><dd><p class="attachname"><a
 href="attachment.php?aid=14&amp;k=a&amp;t=1&amp;sid=x" id="aid14" target="_blank">d.pdf</a> (603 Bytes)</p>
</dd></dl></div>"""
    for note in ("附件: <em>您所在的用户组无法下载或查看附件</em>", "附件: <em>本帖附件需要回复才可下载或查看</em>"):
        item = the(parse(k_page(k_post(202, "正文", after=f'<div class="locked">{note}</div>' + listed)), K_URL), 14)
        assert (item.name, item.size, item.can_view, item.can_download) == ("d.pdf", 603, False, False)


def test_a_quote_arrow_is_decoration_but_a_linked_picture_elsewhere_is_kept():
    quote = """<div class="quote"><blockquote>原话<br /><font size="2">
<font color="#999999">老王 发表于 2009-07-12 20:15</font>
 <a href="http://bbs.test/redirect.php?goto=findpost&amp;pid=4&amp;ptid=5" target="_blank"><img
 src="http://bbs.test/images/common/back.gif" border="0" onclick="zoom(this, this.src)" /></a></font></blockquote></div>
同意<br /><a href="http://example.com/" target="_blank"><img src="http://example.com/photo.jpg" /></a>"""
    page = parse(k_page(k_post(203, quote)), K_URL)
    assert [a.url for a in page.attachments] == ["http://example.com/photo.jpg"]


# --- tags, recommend and states from template markup -------------------------------------------------

def test_x_tags_skip_related_keywords_and_read_rewritten_links():
    ptg = """<div class="ptg mbm mtn"><a title="井盐" href="misc.php?mod=tag&amp;id=29" target="_blank">井盐</a>,
 <a title="盐业" href="tag-30.html" target="_blank">盐业</a><span>相关关键词 <a href="search.php?srchtxt=x">x</a></span></div>"""
    page = parse(x_page(x_post(301, "正文", after=ptg)))
    assert [(t.tid, t.tagname, t.tagid) for t in page.thread_tags] == [(7, "井盐", 29), (7, "盐业", 30)]
    # A later page (no first post) shows no tags.
    assert parse(x_page(x_post(302, "回复", floor=9, after=ptg.replace("ptg", "xx")))).thread_tags == []


def test_7x_rewritten_tag_links_are_read_by_name():
    tags = """<div id="threadtitle"><h1>测试</h1><div class="threadtags"><a href="tag-%E5%9C%B0%E9%93%81.html"
 target="_blank">地铁</a>, <a href="tag.php?name=%E6%B4%9B%E9%98%B3" target="_blank"></a>
 <span class="postkeywords"><a href="search.php?srchtxt=k">k</a></span></div></div>"""
    post = k_post(303, "正文").replace('<div class="t_msgfontfix">', tags + '<div class="t_msgfontfix">')
    page = parse(k_page(post), K_URL)
    assert [(t.tagname, t.tagid) for t in page.thread_tags] == [("地铁", None), ("洛阳", None)]


def _recommend(add, sub):
    def link(kind, span, label, count):
        hidden = "" if count else ' style="display:none"'
        return (f'<a id="recommend_{kind}" href="forum.php?mod=misc&amp;action=recommend&amp;do={kind}&amp;tid=7">'
                f'<i>{label}<span id="recommendv_{span}"{hidden}>{count}</span></i></a>')
    parts = [link("add", "add", "顶", add) if add is not None else "",
             link("subtract", "subtract", "踩", sub) if sub is not None else ""]
    return f'<div id="p_btn" class="mtw mbm hm cl">{"".join(parts)}</div>'


@pytest.mark.parametrize("add, sub", [(22, 3), (0, 0), (5, None)])
def test_x_recommend_counts_whatever_the_sites_labels(add, sub):
    thread = parse(x_page(x_post(304, "正文", after=_recommend(add, sub)))).threads[0]
    assert (thread.recommend_add, thread.recommend_sub) == (add, sub)


def test_no_recommend_box_leaves_the_counts_unknown():
    thread = parse(x_page(x_post(305, "正文"))).threads[0]
    assert (thread.recommend_add, thread.recommend_sub) == (None, None)


X_WARN = ('<a href="forum.php?mod=misc&action=viewwarning&tid=7&uid=58" title="受到警告" class="y warnicon" '
          'onclick="showWindow(\'viewwarning\', this.href)"></a>')


@pytest.mark.parametrize("left, author, anonymous, name", [
    # An anonymous member, as everyone but a moderator sees it, and as a moderator does (the space link).
    ('<div class="pi">\n匿名</div>', "匿名&nbsp;", True, None),
    ('<div class="pi"><a href="home.php?mod=space&uid=36" target="_blank">匿名</a></div>', "匿名&nbsp;", True, None),
    # A site whose anonymoustext is not 匿名: structure, not the word.
    ('<div class="pi">\n无名氏</div>', "无名氏&nbsp;", True, None),
    # A guest (authorid 0): anonymoustext and the IP, or without the IP where a site removed it.
    ('<div class="pi"><a href="javascript:;">匿名 <em>203.0.113.*</em></a></div>', "匿名&nbsp;", False, None),
    ('<div class="pi"><a href="javascript:;">匿名 </a></div>', "匿名&nbsp;", False, None),
    # A deleted member.
    ('<div class="pi">老张 <em>该用户已被删除</em></div>', "", False, None),
])
def test_x_anonymous_is_told_from_guests_and_deleted_members_by_the_left_column(left, author, anonymous, name):
    post = parse(x_page(x_post(401, "正文", left=left, author=author))).posts[0]
    assert post.is_anonymous is anonymous
    assert post.author_uid is None


def test_x_anonymous_cannot_be_told_without_the_left_column():
    body = x_page(x_post(402, "正文", author="匿名&nbsp;"))
    body = body.replace(b'<td class="pls" rowspan="2"><div id="favatar402" class="pls cl favatar">', b"<td><div>")
    body = body.replace(b'<div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid=3402" '
                        b'class="xw1">\xe7\x94\xa8\xe6\x88\xb7402</a></div></div>', b"")
    post = parse(body).posts[0]
    assert post.is_anonymous is None and post.is_warned is False


def test_x_warned_post_and_its_unwarned_neighbour():
    page = parse(x_page(x_post(403, "警告我", warn=X_WARN), x_post(404, "正常", floor=2)))
    assert [(p.pid, p.is_warned, p.is_anonymous) for p in page.posts] == [(403, True, False), (404, False, False)]


K_WARN = ('<span class="postratings"><a href="misc.php?action=viewwarning&amp;tid=5&amp;uid=8" title="受到警告">'
          '<img src="images/default/warning.gif" border="0" /></a></span>')


def test_7x_warned_anonymous_guest_and_member_posts():
    page = parse(k_page(
        k_post(501, "警告", warn=K_WARN),
        k_post(502, "匿名", floor=2, left='<div class="avatar">\n匿名</div>', author="匿名 "),
        k_post(503, "游客", floor=3, left='<div class="avatar"><a href="javascript:;">游客 <em>198.51.100.*</em></a></div>',
               author="游客 "),
        k_post(504, "已删", floor=4, left='<div class="avatar">老李 <em>该用户已被删除</em></div>'),
    ), K_URL)
    assert [(p.pid, p.is_warned, p.is_anonymous) for p in page.posts] == [
        (501, True, False), (502, False, True), (503, False, False), (504, False, False)]


def test_7x_warn_icon_beside_a_banned_post_says_nothing():
    banned = '<div class="locked">提示: <em>该帖被管理员或版主屏蔽</em></div>'
    post = k_post(505, banned, warn=K_WARN)
    page = parse(k_page(post), K_URL)
    assert page.posts[0].status == "banned_single"
    assert page.posts[0].is_warned is None
