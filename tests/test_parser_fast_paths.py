"""The parser's shortcuts (issue 22) read every page exactly as the long way does.

- :func:`scraper.parsers.common.read_document` parses UTF-8 bytes as they are when decoding, dropping control
  characters and stripping would give the same bytes back; else it goes the long way.
- :func:`scraper.parsers.links.page_links` reads the anchors of a page without a site's own rules from a cache
  keyed on (base, href); with ``identify`` it asks it per link as before.
- The thread-extras readers skip a post whose values (:class:`PostFacts`: classes, forms, links) name none of
  their boxes; on the captures' pages they find every box they found before (the reader tests hold the values).
- Walks that stop at a few tags and test classes in Python (a post's frame, its stats block, the header's parts of
  div#postlist, the pagers, the activity box, the debate stand marks, ``<base href>``) find exactly what the XPaths
  they replace find, on the captures' pages and on hostile markup.
"""
from __future__ import annotations

import json

import pytest
from lxml import etree

from scraper.items import KIND_VIEWTHREAD
from scraper.parsers import parse_page
from scraper.parsers.common import _CONTROL_CHARS, _clean_utf8, _parse_html, decode_body, read_document
from scraper.parsers.extras import PostFacts, ThreadContext, post_containers
from scraper.parsers.links import ALL_HREFS, page_links
from scraper.urls import classify

from .conftest import FIXTURES, captured_pages, requires_fixtures

CAPTURES = ("discuz-x34-utf8-a", "discuz-x35-utf8-g", "discuz-70-utf8-k")


def _html_pages(limit: int = 12):
    pages = []
    for name in CAPTURES:
        folder = FIXTURES / name
        if folder.exists():
            pages += [p for p in captured_pages(folder) if p.body.lstrip().startswith(b"<")][:limit]
    return pages


def _on_the_captures(check, limit: int = 40) -> int:
    """The sum of ``check(root)`` over the captures' first ``limit`` HTML pages each (what it checked)."""
    return sum(check(read_document(page.body, page.url, "text/html; charset=utf-8")[0].root)
               for page in _html_pages(limit=limit))


def _long_way(body: bytes, url: str) -> bytes:
    """The tree read_document built before the shortcut: decode, drop controls, strip, encode, parse."""
    text, _ = decode_body(body, "text/html; charset=utf-8")
    root, _ = _parse_html(_CONTROL_CHARS.sub("", text).strip(), url)
    return etree.tostring(root, encoding="utf-8")


@pytest.mark.parametrize("body, fast", [
    (b"<html><body><p>\xe4\xbd\xa0\xe5\xa5\xbd</p></body></html>\n", True),
    (b"  \r\n<html><body>x</body></html>\n\n\t", True),
    (b"\xef\xbb\xbf<html><body>bom</body></html>", False),            # BOM: decided the long way
    (b"<html><body>a\x00b\x1fc</body></html>", False),                 # NUL and C0 controls are dropped
    (b"<html><body>a\xef\xbf\xbeb\xef\xbf\xbfc</body></html>", False),  # U+FFFE / U+FFFF are dropped
    (b"<html><body>\xef\xbc\x9a a\xef\xbf\xbfc</body></html>", False),     # U+FFFF alone, after a full-width colon
    (b"<html><body>\xef\xbf\xbd\xef\xbc\x8c</body></html>", True),        # U+FFFD and a full-width comma are kept
    (b"<html><body>x</body></html>\xe3\x80\x80", False),                # a trailing U+3000 is stripped by str.strip
    (b"\xc2\xa0<p>nbsp first</p>", False),
    (b"   ", False),
])
def test_read_document_parses_clean_utf8_bytes_as_the_long_way_does(body, fast):
    assert (_clean_utf8(body) is not None) == fast
    sel, encoding, flattened = read_document(body, "http://h/t.html", "text/html; charset=utf-8")
    assert encoding == "utf-8" and not flattened
    assert etree.tostring(sel.root, encoding="utf-8") == _long_way(body, "http://h/t.html")


@requires_fixtures
def test_read_document_shortcut_gives_the_same_tree_on_the_captures():
    pages = _html_pages()
    assert len(pages) >= 20
    for page in pages:
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        assert etree.tostring(sel.root, encoding="utf-8") == _long_way(page.body, page.url), page.url
        # With the page's own trailing spaces and a NUL spliced in (the long way), still the same text.
        spliced = page.body.replace(b"</body>", b"\x00</body>", 1) + b" \n"
        assert _clean_utf8(spliced) is None
        sel2, _, _ = read_document(spliced, page.url, "text/html; charset=utf-8")
        assert sel2.xpath("string(//body)").get() == sel.xpath("string(//body)").get()


@requires_fixtures
def test_page_links_without_rules_match_the_links_read_one_by_one():
    """The cached default reading equals asking Discuz's default rules per link (identify = classify)."""
    checked = 0
    for page in _html_pages(20):
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
        cached = page_links(sel, parsed)
        asked = page_links(sel, parsed, classify)
        assert [(l.kind, l.url, l.id, l.page, l.rank) for l in cached] == \
            [(l.kind, l.url, l.id, l.page, l.rank) for l in asked], page.url
        checked += bool(cached)
    assert checked >= 20


@requires_fixtures
def test_post_attribute_values_say_which_boxes_a_post_can_hold():
    seen_poll = seen_plain = False
    for name in CAPTURES:
        for page in captured_pages(FIXTURES / name) if (FIXTURES / name).exists() else ():
            parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
            if parsed.kind != KIND_VIEWTHREAD or not page.body.lstrip().startswith(b"<"):
                continue
            first = next((post.pid for post in parsed.posts if post.is_first), None)
            if first is None:
                continue
            sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
            ctx = ThreadContext(url=page.url, tid=parsed.tid,
                                posts=post_containers(sel.root, [post.pid for post in parsed.posts]))
            facts = ctx.facts(parsed, first)
            shows_poll = "poll" in facts.forms or any(w in facts.classes for w in ("poll", "pinf", "pcht"))
            # The gate is never False where the reader found a box, and is False on pages without one.
            if parsed.polls:
                assert shows_poll, page.url
                seen_poll = True
            elif not shows_poll:
                seen_plain = True
            # Each box a reader found is in a post whose values name it.
            if parsed.rewards:
                assert any(w in facts.classes for w in ("rwd", "special_reward")), page.url
            if parsed.trades:
                assert any(w in facts.classes for w in ("trd", "trade")), page.url
            if parsed.debates:
                assert any(w in facts.classes for w in ("si_1", "debatesquare")), page.url
            if parsed.thread_tags:
                assert any(w in facts.classes for w in ("ptg", "threadtags")) or \
                    any(w in facts.hrefs for w in ("mod=tag", "tag.php?name=")), page.url
    assert seen_poll and seen_plain


def _element_one_by_one(root, container, element_id, tag=None):
    """ThreadContext.element as it was: one ``id()`` call per id asked for."""
    for el in etree.XPath("id($id)")(root, id=element_id):
        if el.get("id") == element_id and (tag is None or el.tag == tag):
            return el
    return None


_ODD_IDS = """<html><body><div id="postlist">
<div id="post_1"><table id="pid1"><tr><td><dl id="ratelog_1"><dd>a</dd></dl><span id="comment_1">not a div</span>
<div id="ratelog_1">a second ratelog_1</div></td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td><div id="post_rate_div_2"></div></td></tr></table></div>
</div><div id="comment_2">outside its post</div><div id="post_rate_3">a post not on the page</div></body></html>"""


def _check_ids(root, pids) -> int:
    ctx = ThreadContext(url="http://x/", tid=1, posts=post_containers(root, pids))
    asked = 0
    for pid, container in ctx.posts.items():
        for prefix in ("ratelog_", "post_rate_div_", "post_rate_", "comment_", "favatar", "postmessage_"):
            for tag in (None, "div", "dl"):
                element_id = f"{prefix}{pid}"
                assert ctx.element(root, container, element_id, tag) is \
                    _element_one_by_one(root, container, element_id, tag), (element_id, tag)
                asked += 1
    return asked


def test_ids_looked_up_for_the_whole_page_are_what_one_lookup_each_finds():
    root = _parse_html(_ODD_IDS, "http://x/")[0]
    assert _check_ids(root, [1, 2]) == 36
    ctx = ThreadContext(url="http://x/", tid=1, posts=post_containers(root, [1, 2]))
    # The first of two ids wins, a wrong tag finds nothing, an id outside its post is found as before.
    assert ctx.element(root, ctx.posts[1], "ratelog_1").tag == "dl"
    assert ctx.element(root, ctx.posts[1], "comment_1", "div") is None
    assert ctx.element(root, ctx.posts[2], "comment_2", "div").text == "outside its post"
    asked = found = 0
    for name in CAPTURES:
        for page in captured_pages(FIXTURES / name) if (FIXTURES / name).exists() else ():
            parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
            if parsed.kind != KIND_VIEWTHREAD or not page.body.lstrip().startswith(b"<"):
                continue
            root = read_document(page.body, page.url, "text/html; charset=utf-8")[0].root
            asked += _check_ids(root, [post.pid for post in parsed.posts])
            found += bool(parsed.ratings) + bool(parsed.post_comments)
    assert asked > 1000 and found > 5


_ODD_ACTIVITY = """<html><body><div id="postlist">
<div id="post_1"><table id="pid1"><tr><td class="plc"><div class="t_fsz"><div class="\tact\ncl"><div class="spi">
<dl><dt>活动类型:</dt><dd>聚会</dd></dl></div></div></div></td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td><div class="activity_info"><table></table></div></td></tr></table></div>
<div id="post_3"><table id="pid3"><tr><td><div class="act"><p class="spi">not a div</p></div><a class="spi">x</a>
</td></tr></table></div></div></body></html>"""


_ODD_MESSAGE = """<html><body><td id="postmessage_1" class="t_f"><i class="pstatus">本帖最后由 a 于 2026-1-1 12:00 编辑</i>
<i class="\tpstatus\n">x</i><i class="pstatus\u3000">not it</i><i class="xpstatus">no</i><b class="pstatus">no</b>
<div class="blockcode"><div class=" blockcode  x"><em>复制代码</em></div></div><div class="blockcodes">no</div>
<!-- a comment --><div>t</div></td></body></html>"""


def test_message_walks_find_what_their_xpaths_find():
    from scraper.parsers.content import _CODE_BLOCKS, _EDIT_NOTES, _classed
    roots = [_parse_html(_ODD_MESSAGE, "http://x/")[0]]
    for name in CAPTURES:
        for page in list(captured_pages(FIXTURES / name))[:40] if (FIXTURES / name).exists() else ():
            if page.body.lstrip().startswith(b"<"):
                roots.append(read_document(page.body, page.url, "text/html; charset=utf-8")[0].root)
    notes = codes = 0
    for root in roots:
        for el in root.iter("td", "div"):
            assert _classed(el, "i", "pstatus") == _EDIT_NOTES(el)
            assert _classed(el, "div", "blockcode") == _CODE_BLOCKS(el)
        notes += len(_EDIT_NOTES(root))
        codes += len(_CODE_BLOCKS(root))
    assert len(_EDIT_NOTES(roots[0])) == 2 and len(_CODE_BLOCKS(roots[0])) == 2 and notes > 2


def test_activity_gate_never_hides_a_box_the_walk_finds():
    from scraper.parsers.activities import _box
    root = _parse_html(_ODD_ACTIVITY, "http://x/")[0]
    ctx = ThreadContext(url="http://x/", tid=1, posts=post_containers(root, [1, 2, 3]))
    assert [bool(_box(ctx.posts[pid])) for pid in (1, 2, 3)] == [True, True, False]
    boxes = gated = 0
    for name in CAPTURES + ("discuz-x35-utf8-f", "discuz-x34-utf8-a-member"):
        for page in captured_pages(FIXTURES / name) if (FIXTURES / name).exists() else ():
            parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
            if parsed.kind != KIND_VIEWTHREAD or not page.body.lstrip().startswith(b"<"):
                continue
            root = read_document(page.body, page.url, "text/html; charset=utf-8")[0].root
            ctx = ThreadContext(url=page.url, tid=parsed.tid, posts=post_containers(root))
            for pid, container in ctx.posts.items():
                classes = PostFacts(container, opening=True).classes
                shown = "spi" in classes or "activity_info" in classes
                if _box(container):
                    assert shown, (page.url, pid)
                    boxes += 1
                gated += not shown
    assert boxes >= 2 and gated > 100


_ODD_RECOMMEND = """<html><body><span id="recommendv_add" style="display: none">7</span>
<span id="recommendv_add">9</span><p id="recommend_subtract">反对 1,234</p><div id="recommend_add">12</div></body></html>"""


def test_recommend_ids_in_one_lookup_read_what_one_lookup_each_reads():
    from scraper.parsers.recommend import _count
    lookup = etree.XPath("id($id)")
    for markup in (_ODD_RECOMMEND, _ODD_RECOMMEND.replace(' style="display: none"', ""),
                   _ODD_RECOMMEND.replace("recommendv_add", "x")):
        root = _parse_html(markup, "http://x/")[0]
        found = {el.get("id"): el for el in reversed(lookup(root, id="recommendv_add recommend_add "
                                                                   "recommendv_subtract recommend_subtract"))}
        one_by_one = {name: _first(lookup(root, id=name)) for name in found}
        assert found == one_by_one
    root = _parse_html(_ODD_RECOMMEND, "http://x/")[0]
    assert _count({el.get("id"): el for el in lookup(root, id="recommendv_add recommend_add")},
                  "recommendv_add", "recommend_add") == 0
    root = _parse_html(_ODD_RECOMMEND.replace("recommendv_add", "x"), "http://x/")[0]
    assert _count({el.get("id"): el for el in lookup(root, id="recommendv_add recommend_add")},
                  "recommendv_add", "recommend_add") == 12


def _first(found):
    return found[0] if found else None


# Hostile frames and stats blocks: nested and repeated author areas, two numbercards, a numbercard inside a
# numbercard's look-alike, group links at the block's edge, class values with tabs and U+3000.
_ODD_POSTS = """<html><body><div id="postlist">
<div id="post_7"><table id="pid7"><tr>
 <td class="pls\tx"><div id="favatar7"><div class="pi"><div class="authi">
   <div class="authi"><a href="home.php?mod=space&amp;uid=9">inner</a></div>
   <a href="home.php?mod=space&amp;uid=8">outer</a></div></div>
  <div id="userinfo7"><strong><a href="space-uid-5.html">card</a></strong></div>
  <div class="tns"><table><tr><th><p>3</p>主题</th><td><p>4</p><!-- c -->回帖</td></tr></table></div>
  <div class="tns\u3000"><p>1</p></div>
  <div class="x tns"><table><tr><th><p><span title="41088">4万</span></p>积分</th></tr></table></div>
  <dl><dt>金钱</dt><dd>5 点</dd></dl><p>签到天数: 12 天</p>
  <p class="xg1\txg2">自定义头衔</p><p><em id="e">x</em><em><a href="gid=3">组</a></em></p></td>
 <td class="plc"><div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid=6">head</a>
   <div class="authi"><a href="home.php?mod=space&amp;uid=4">nested head</a></div>
   <em id="authorposton7">发表于 2020-1-2 03:04</em></div></div>
   <td id="postmessage_7">hello</td></td></tr></table></div>
<div id="post_8"><table id="pid8"><tr>
 <td class="plc"><div class="authi"><a href="home.php?mod=space&amp;uid=3">only head</a></div></td>
 <td class="pls"><div id="userinfo8"><strong><a href="home.php?mod=space&amp;uid=2">card</a></strong></div>
  <div id="userinfo8"></div><div id="favatar8"><div class="authi"><a href="u.php?uid=1">fav</a></div></div></td>
</tr></table></div>
<div id="post_9"><table id="pid9"><tr><td class="pls"><div class="tns"><p>2</p></div></td>
 <td class="plc"><div class="authi">游客</div></td></tr></table></div>
</div></body></html>"""


def _frames_and_blocks(root):
    from scraper.parsers import thread
    for node in thread.post_nodes(root):
        key = node.get("id")[len("post_"):]
        yield node, key, thread._Frame(node, key)


def _check_frames(root):
    from scraper.parsers import stats, thread
    checked = 0
    for node, key, frame in _frames_and_blocks(root):
        assert frame.author_link() is (thread._AUTHOR_LINK(node, pid=key) or [None])[0]
        want = thread._AUTHOR_COLUMN_AREA(node, pid=key)[:1] + thread._HEADER_AREAS(node)
        assert frame.author_areas() == want
        assert frame.columns == thread._AUTHOR_COLUMN(node)
        for block in [*frame.columns, node]:
            found = stats._Block(block)
            assert found.cells == stats._NUMBERCARD_CELLS(block)
            assert found.dls == stats._DLS(block) and found.lines == stats._LINES(block)
            assert found.group_links == stats._GROUP_LINK(block)
            assert found.group_titles == stats._GROUP_TITLE(block)
            assert found.custom_titles == stats._CUSTOM_TITLE(block)
        checked += 1
    return checked


def test_post_frame_and_stats_walks_find_what_their_xpaths_find_on_odd_markup():
    from scraper.parsers import stats
    root = etree.fromstring(_ODD_POSTS, etree.HTMLParser())
    assert _check_frames(root) == 3
    frames = {key: frame for _, key, frame in _frames_and_blocks(root)}
    # The nested authi's link comes first; two userinfo divs and nested header areas are left to the XPath.
    assert frames["7"].author_link().text == "inner"
    assert frames["8"].author_link().text == "only head"
    assert frames["9"].author_link() is None
    pairs = stats.collect_pairs(frames["7"].columns[0])
    assert [(label, figure.value, origin) for label, figure, origin in pairs] == [
        ("主题", 3, "card"), ("回帖", 4, "card"), ("积分", 41088, "card"), ("金钱", 5, "dl"), ("签到天数", 12, "line")]


@requires_fixtures
def test_post_frame_and_stats_walks_find_what_their_xpaths_find_on_the_captures():
    assert _on_the_captures(_check_frames) > 50


_ODD_BOXES = """<html><body><div class="pg\tx"><a href="?page=2">2</a></div><div class="pages\u3000">no</div>
<div id="postlist" class="pl"><table><tr><td><i class="fico-lock\tfc-s"></i></td></tr></table>
<div class="hm"><span class="xi1">12</span><span class="xi1 x"><!-- c -->3<b>0</b>4</span><span class="xi1\t">8</span><div class="hm\t"><span class="xi1">7</span></div><div class="hm">
<span class="xi1">5</span></div></div><span class="xi1">9</span><h1 class=" ts\t">t</h1><h1 class="tsx">u</h1>
<img src="x/locked.png"><img alt="關閉">
<div id="post_1"><table id="pid1"><tr><td class="plc"><div><a href="misc.php?mod=viewwarning">w</a></div>
 <div><div><span><a href="x?viewwarning">w2</a></span></div></div>
 <div class="act x"><div class="spi">a</div></div><div class="activity_info">b</div><div class="action">c</div>
 <label class="pdbts x">s</label><span class="debatevote\ty">v</span><span class="debatevotes">n</span>
 <div class="pct"><div class="locked pattl">l</div></div><div class="pcts">x</div></td>
 <td class="postcontent"><div><div><b><a href="viewwarning">no</a></b></div></div></td></tr></table></div>
</div><div class="pg"><div class="pg">nested</div></div></body></html>"""


def _check_walks(root) -> int:
    from scraper.parsers import activities, common, debates, links, thread
    assert links._pagers(root) == links._X_PAGERS(root)
    legacy = [d for d in root.iter("div") if "pages" in d.get("class", "") and " pages " in f" {d.get('class')} "]
    assert legacy == common._LEGACY_PAGERS(root)
    for postlist in common.by_id(root, "postlist", "div"):
        parts = thread._ListParts(postlist)
        assert parts.counts() == thread._COUNTS(postlist)
        assert parts.closed() == bool(thread._CLOSED(postlist))
        assert parts.headings == thread._TS_HEADINGS(postlist)
    checked = 0
    for container in post_containers(root).values():
        assert thread._body_divs(container) == thread._BODY_DIVS(container)
        assert activities._box(container) == activities._BOX(container)
        assert debates._stand_marks(container) == debates._STAND_MARKS(container)
        checked += 1
    return checked


def test_walks_in_python_find_what_their_xpaths_find_on_odd_markup():
    from scraper.parsers import thread
    root = etree.fromstring(_ODD_BOXES, etree.HTMLParser())
    assert _check_walks(root) == 1
    postlist = root.get_element_by_id("postlist") if hasattr(root, "get_element_by_id") else root.find(".//div[@id='postlist']")
    assert thread._ListParts(postlist).counts() == ["12", "3", "4", "7", "5"]


@requires_fixtures
def test_walks_in_python_find_what_their_xpaths_find_on_the_captures():
    assert _on_the_captures(_check_walks) > 50


def test_base_href_and_bottom_pagers_as_their_xpaths_find_them():
    from scraper.parsers import common, links, thread
    root = etree.fromstring("<html><head><base><base href='/a/'></head><body><div id='postlist'></div>"
                            "<div class='pg'><div class='pg'>1</div><div class='pg\tx'>2</div></div><p>x</p>"
                            "<div><div class=' pg '>3</div></div><base href='/b/'></body></html>", etree.HTMLParser())
    assert links.find_base_href(root, None) == links._X_BASE(root)[0] == "/a/"
    postlist = common.by_id(root, "postlist", "div")[0]
    assert thread._following_pagers(postlist) == thread._FOLLOWING_PAGERS(postlist)
    assert [div.text for div in thread._following_pagers(postlist)] == ["1", "3"]
    assert links.find_base_href(etree.fromstring("<html><body><base></body></html>", etree.HTMLParser()), None) == ""
    for page in _html_pages(limit=40):
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        found = links._X_BASE(sel.root)
        assert links.find_base_href(sel.root, None) == (found[0] if found else "")
        for postlist in common.by_id(sel.root, "postlist", "div"):
            assert thread._following_pagers(postlist) == thread._FOLLOWING_PAGERS(postlist)


def _script_ids_long_way(root) -> tuple:
    """script_ids before its walk stopped early: every inline script's assigning lines, joined, searched once."""
    import re

    from scraper.parsers.common import _ID_ASSIGNMENT, _SCRIPT_ID
    texts = etree.XPath("/descendant::script[not(@src)]/text()")(root)
    joined = "\n".join(line for text in texts if "id" in text and _ID_ASSIGNMENT.search(text)
                       for line in text.split("\n") if _ID_ASSIGNMENT.search(line)) + "\n"
    found = [_SCRIPT_ID[name].search(joined) for name in ("fid", "tid")]
    assert all(m is None or isinstance(m, re.Match) for m in found)
    return tuple((int(m.group(1)) or None) if m else None for m in found)


@pytest.mark.parametrize("scripts, want", [
    # The first assignment of each wins, wherever the other is; external scripts are not read.
    (["var fid = parseInt('2'), tid = parseInt('7');", "tid = 9;"], (2, 7)),
    (["var fid = 3;", "x = 1;", "var tid = parseInt('8');\nvar fid = 5;"], (3, 8)),
    (["tid =", "'6'; fid = 4;"], (4, 6)),                 # an assignment cut over two scripts' lines
    (["var tid = 0;", "tid = 3; fid = 0;"], (None, None)),  # 0 is "unset"
    (["src"], (99, 98)),                                   # the external script's text is not read
])
def test_script_ids_stop_at_the_first_assignments_and_find_what_the_whole_page_gives(scripts, want):
    from scraper.parsers.common import script_ids
    body = "".join(f"<script>{s}</script>" if s != "src" else "<script src='x.js'>var tid = 4;</script>"
                   for s in scripts)
    root = etree.fromstring(f"<html><head>{body}</head><body><p>x</p><script>var fid = 99; tid = 98;</script>"
                            "</body></html>", etree.HTMLParser())
    assert script_ids(root) == _script_ids_long_way(root) == want


@requires_fixtures
def test_script_ids_find_what_the_whole_page_gives_on_the_captures():
    from scraper.parsers.common import script_ids
    found = 0
    for page in _html_pages(limit=60):
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        assert script_ids(sel) == _script_ids_long_way(sel.root)
        found += script_ids(sel)[1] is not None
    assert found > 20


# A thread page whose posts' frames carry what the thread header carries: a lock icon and counts.
_HEADER_IN_POSTS = """<html><body><div id="pgt"><div class="pg"><strong>{page}</strong><a href="?page=3">3</a></div></div>
<div id="postlist">{header}
<div id="post_5"><table id="pid5"><tr><td class="pls"><div class="hm"><span class="xi1">70</span><span class="xi1">71</span>
 </div><img src="static/image/common/locked.gif" alt="关闭"></td>
 <td class="plc"><h1 class="ts">in a post</h1><em id="authorposton5">发表于 2020-1-2 03:04</em>
 <a id="postnum5"><em>{floor}</em></a><table><tr><td id="postmessage_5">hi</td></tr></table></td></tr></table></div>
</div></body></html>"""
_HEADER = """<table><tr><td class="pls"><div class="hm"><span class="xi1">12</span><span class="xi1">3</span></div></td>
<td class="plc"><h1 class="ts">the title</h1>{lock}</td></tr></table>"""


def _header_thread(page: int, header: str):
    html = _HEADER_IN_POSTS.format(page=page, floor=1 if page == 1 else 21, header=header)
    parsed = parse_page(f"http://h/forum.php?mod=viewthread&tid=4&page={page}", html.encode("utf-8"),
                        content_type="text/html; charset=utf-8")
    assert parsed.kind == KIND_VIEWTHREAD and [p.pid for p in parsed.posts] == [5]
    return parsed.threads[0]


def test_the_thread_header_is_read_outside_the_posts():
    # Stock markup: counts and lock in the header; a post's frame showing a lock icon does not close the thread.
    thread = _header_thread(1, _HEADER.format(lock=""))
    assert (thread.views, thread.replies, thread.is_closed) == (12, 3, False)
    thread = _header_thread(1, _HEADER.format(lock='<img src="static/image/common/locked.gif" alt="关闭">'))
    assert (thread.views, thread.replies, thread.is_closed) == (12, 3, True)
    # A theme that moved the counts into the opening post's frame: read there, on the first page.
    assert (_header_thread(1, "").views, _header_thread(1, "").replies) == (70, 71)
    # A later page shows no counts (Discuz prints them on the first page): the posts are not read for them.
    assert (_header_thread(2, "").views, _header_thread(2, "").replies, _header_thread(2, "").is_closed) == \
        (None, None, False)


@requires_fixtures
def test_the_header_read_outside_the_posts_is_what_the_whole_list_gives_on_the_captures():
    from scraper.parsers import thread
    checked = 0
    for page in _html_pages(limit=60):
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        nodes = thread.post_nodes(sel) if thread.is_thread_page(sel) else []
        if not nodes:
            continue
        scoped = thread._parse_thread_header(sel, page.url, None, set(nodes), posts_may_tell=False)
        whole = thread._parse_thread_header(sel, page.url, None)
        assert scoped == whole
        checked += 1
    assert checked > 30


def test_author_link_walks_find_the_first_link_their_xpaths_find():
    from scraper.parsers import thread
    root = etree.fromstring(
        "<html><body><div id='u'><strong><strong><a href='space-uid-1.html'>nested</a></strong>"
        "<a href='space-uid-2.html'>outer</a></strong><b><a href='uid=3'>not in strong</a></b></div>"
        "<div id='v'><a>no href</a><span><a href='x?uid=4'>deep</a></span><a href='uid=5'>child</a></div>"
        "<div id='w'><strong>no link</strong><a href='UID=6'>case</a></div></body></html>", etree.HTMLParser())
    for div in root.iter("div"):
        assert thread._uid_link_under(div) is _first(thread._UID_LINKS_UNDER(div))
        assert thread._uid_link_in_strong(div) is _first(thread._UID_LINKS_IN_STRONG(div))
        assert next((a for a in div if a.tag == "a" and "uid" in a.get("href", "")), None) is \
            _first(thread._UID_LINKS_CHILD(div))
    assert thread._uid_link_in_strong(root.find(".//div[@id='u']")).text == "nested"
    assert thread._uid_link_under(root.find(".//div[@id='w']")) is None


# Posts whose messages hold the divs the post state reads (a hidden part's div.locked, a message that is itself a
# div.pct), a post nested in another's message, and a post without a message.
_ODD_BODIES = """<html><body><div id="postlist">
<div id="post_1"><table id="pid1"><tr><td class="pls"><div class="pattl">a</div></td><td class="plc">
 <div class="pct"><div class="pcb"><table><tr><td class="t_f" id="postmessage_1">x<div class="locked">hidden</div>
 <div id="post_3"><table id="pid3"><tr><td><div id="postmessage_3" class="locked pct">y<div class="pattl">z</div></div>
 </td></tr></table></div></td></tr></table></div></div><div class="locked">after</div></td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td class="plc"><div class="pct">no message</div></td></tr></table></div>
<div id="post_4"><table id="pid4"><tr><td class="plc"><div class="pattl" id="postmessage_4">own<div class="pct">in</div>
 </div></td></tr></table></div>
</div></body></html>"""


def _check_bodies(root) -> int:
    from scraper.parsers import content, thread
    from scraper.parsers.common import by_id_within
    nodes = [(node, node.get("id")[5:]) for node in thread.post_nodes(root)]
    messages = {key: (by_id_within(node, "postmessage_" + key, ("td", "div")) or [None])[0] for node, key in nodes}
    aside = [m for m in messages.values() if m is not None]
    places = [(m.getparent(), m.getparent().index(m)) for m in aside]
    with content.set_aside(aside):
        stand_ins = {parent[index]: m for (parent, index), m in zip(places, aside)}
        bodies = {key: thread._Frame(node, key, stand_ins).body for node, key in nodes}
    for node, key in nodes:
        assert thread._spliced(bodies[key], set(aside)) == thread._BODY_DIVS(node) == thread._body_divs(node)
    return len(nodes)


def test_body_divs_read_in_the_frame_walk_are_what_the_xpath_finds_once_the_messages_are_back():
    from scraper.parsers import thread
    root = etree.fromstring(_ODD_BODIES, etree.HTMLParser())
    assert _check_bodies(root) == 3
    first = thread.post_nodes(root)[0]
    assert [d.text for d in thread._BODY_DIVS(first)] == ["a", None, "hidden", "y", "z", "after"]


@requires_fixtures
def test_body_divs_read_in_the_frame_walk_are_what_the_xpath_finds_on_the_captures():
    assert _on_the_captures(_check_bodies) > 50


@requires_fixtures
def test_the_parse_snapshot_names_the_pages_and_fields_a_change_alters(tmp_path, monkeypatch, capsys):
    from bench import parse_snapshot
    few = [page for page in parse_snapshot.pages() if page[0] == "discuz-x34-utf8-a"][:12]
    monkeypatch.setattr(parse_snapshot, "pages", lambda fixtures=None: iter(few))
    saved = tmp_path / "before.json"
    assert parse_snapshot.main(["save", str(saved)]) == 0
    assert parse_snapshot.main(["check", str(saved)]) == 0
    assert "24 parses, 0 differ" in capsys.readouterr().out
    # A parser change that alters one thread's title on one page: that page, that field, exit 1.
    snap = json.loads(saved.read_text(encoding="utf-8"))
    key = next(key for key, items in snap.items() if key.startswith("plain") and json.loads(items)["threads"])
    items = json.loads(snap[key])
    items["threads"][0]["title"] = "changed"
    snap[key] = json.dumps(items)
    saved.write_text(json.dumps(snap), encoding="utf-8")
    assert parse_snapshot.main(["check", str(saved)]) == 1
    assert f"  {key}: threads" in capsys.readouterr().out


@requires_fixtures
def test_the_fresh_pages_bench_parses_pages_whose_urls_the_crawl_has_not_read(capsys):
    from bench import parse_fresh
    from scraper import urls as url_rules

    batch = parse_fresh.pages(30)
    assert len({url for url, _ in batch}) == 30 and len({body for _, body in batch}) == 30
    # Each new page brings URLs of its own (its posts' links, its posters' spaces), as a crawl's pages do.
    hrefs = [set(ALL_HREFS(read_document(body, url, "text/html; charset=utf-8")[0].root))
             for url, body in batch]
    met = set().union(*hrefs[:20])
    assert all(len(page - met) >= 10 for page in hrefs[20:])
    rules = url_rules.SiteUrls()
    parse_fresh.parse_all(batch[:20], rules)
    parse_fresh.parse_all(batch[20:], rules)
    assert url_rules.canonical(batch[-1][0]) in rules._pages  # each page's own URL remembered, as the spider does
    assert parse_fresh.main(["5", "5", "--time"]) == 0
    assert "CPU ms per new page (5 pages)" in capsys.readouterr().out
