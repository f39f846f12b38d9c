"""The readers' page-wide gates (issue 22: a page without the boxes pays next to nothing for their readers).

- :meth:`ThreadContext.hrefs_hold` / ``page_hrefs_hold``: a word no href of the page holds is in no post's hrefs;
- :meth:`ThreadContext.ids_hold` / ``ids_starting``: an id no entry of the tree's index of ids starts with is on
  no element of a post (libxml2's HTML parser indexes every element's id as it reads the page);
- :class:`PostBoxes`: an opening post's classes and forms, the same strings :class:`PostFacts` reads;
- the debate reader walks only the replies' spans where no href of the page holds ``stand=``;
- ``_look_up_ids`` asks the index alone for the ids it holds, and nothing for the rest.

Each is held to what the readers find with every gate open (each post walked, every id looked up by ``id()``),
on every capture and on odd markup, and each gate's premise is checked on the trees the readers get.
"""
from __future__ import annotations

import copy
import dataclasses

from lxml import etree

from scraper.items import KIND_VIEWTHREAD, Attachment, ParsedPage, Post, Thread
from scraper.parsers import extras, parse_page
from scraper.parsers.common import _parse_html, ids_indexed, read_document
from scraper.parsers.debates import _span_marks, _stand_marks
from scraper.parsers.extras import ALL_HREFS, PostBoxes, PostFacts, ThreadContext, post_containers
from scraper.parsers.links import ALL_HREFS as LINKS_ALL_HREFS

from .conftest import FIXTURES, captured_pages, requires_fixtures

CONTENT_TYPE = "text/html; charset=utf-8"
_WORDS = ("attach", "viewwarning", "viewratings", "stand=", "mod=tag", "tag.php?name=")
_BOXES = ("polls", "rewards", "debates", "debate_posts", "activities", "trades", "ratings", "post_comments",
          "thread_tags")


def _thread_pages():
    for folder in sorted(FIXTURES.iterdir()) if FIXTURES.is_dir() else ():
        if not (folder / "manifest.json").exists():
            continue
        for page in captured_pages(folder):
            if page.body.lstrip().startswith(b"<") and b"postlist" in page.body:
                yield page


def _items(page) -> dict:
    return {field.name: repr(getattr(page, field.name)) for field in dataclasses.fields(page)}


def _read(page, root, url, hrefs=None) -> dict:
    page = copy.deepcopy(page)
    extras.read_extras(page, root, url=url, family=extras.FAMILY_X, now=None, tz=None, hrefs=hrefs)
    return _items(page)


def _open_gates(patch) -> None:
    """Every page-wide gate says "maybe", and each id is looked up as before the index was asked: each reader
    walks every post as it did before the page-wide gates."""
    patch.setattr(ThreadContext, "page_hrefs_hold", lambda self, root, word: True)
    patch.setattr(ThreadContext, "hrefs_hold", lambda self, page, root, pid, word: word in self.facts(page, pid).hrefs)
    patch.setattr(ThreadContext, "ids_hold", lambda self, root, *prefixes: True)
    patch.setattr(ThreadContext, "ids_starting", lambda self, root, *prefixes: None)
    patch.setattr(ThreadContext, "_read_index", lambda self, root: None)
    patch.setattr(ThreadContext, "boxes", lambda self, page, pid: self.facts(page, pid))
    # PostFacts of every post as an opening post's (classes and forms read): what the gates read before.
    facts = ThreadContext.facts

    def every_fact(self, page, pid):
        if self._opening is None:
            self._opening = frozenset(self.posts)
        return facts(self, page, pid)
    patch.setattr(ThreadContext, "facts", every_fact)


def _gated_and_open(parsed, root, url, monkeypatch, hrefs=None) -> tuple[dict, dict]:
    bare = copy.deepcopy(parsed)
    for name in _BOXES:
        getattr(bare, name).clear()
    gated = _read(bare, root, url, hrefs)
    with monkeypatch.context() as patch:
        _open_gates(patch)
        opened = _read(bare, root, url)
    return gated, opened


def _index_holds_every_id(root) -> int:
    """Every element's id (a non-empty value) is an entry of the tree's index: what the id gates rest on."""
    keys = set(etree._IDDict(root).keys())
    seen = 0
    for el in root.getroottree().getroot().iter():
        ident = el.get("id") if isinstance(el.tag, str) else None
        if ident:
            assert ident in keys, ident
            seen += 1
    return seen


@requires_fixtures
def test_gated_readers_give_what_open_gates_give_on_every_capture(monkeypatch):
    pages = boxes = 0
    for page in _thread_pages():
        parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
        if parsed.kind != KIND_VIEWTHREAD:
            continue
        root = read_document(page.body, page.url, page.content_type or CONTENT_TYPE)[0].root
        gated, opened = _gated_and_open(parsed, root, page.url, monkeypatch, hrefs=ALL_HREFS(root))
        assert gated == opened, page.url
        pages += 1
        boxes += any(gated[name] != "[]" for name in _BOXES)
    assert pages > 300 and boxes > 20


@requires_fixtures
def test_the_gates_premises_hold_on_the_trees_the_readers_get(monkeypatch):
    """On the tree parse_page hands the readers (after the thread parser's reads): every id is in the index,
    every container hangs under the page's root, the hrefs handed in are what the page's links are read from,
    each post's hrefs are among the page's, and the index-pruned lookups give what one id() call gives."""
    seen = {"ids": 0, "posts": 0}
    read_extras = extras.read_extras

    def checked(page, root, **kwargs):
        seen["ids"] += _index_holds_every_id(root)
        assert kwargs["hrefs"] == LINKS_ALL_HREFS(root)
        ctx = ThreadContext(url=page.url, tid=page.tid, posts=post_containers(root, [p.pid for p in page.posts]),
                            hrefs=kwargs["hrefs"])
        assert ctx._in_page(root) and (ctx._index_text(root) is not None or not ctx.posts)
        for pid, container in ctx.posts.items():
            facts = PostFacts(container, False)
            for word in _WORDS:
                assert ctx.hrefs_hold(page, root, pid, word) == (word in facts.hrefs), (pid, word)
                assert word not in facts.hrefs or ctx.page_hrefs_hold(root, word)
            if facts.attachment_ids:
                assert ctx.ids_hold(root, "aid", "aimg_")
            seen["posts"] += 1
        ctx._look_up_ids(root)
        wanted = [f"{prefix}{pid}" for pid in ctx.posts for prefix in extras._POST_IDS] + list(extras._PAGE_IDS)
        first = next(iter(ctx.posts.values()), None)
        if first is not None and first.get("id"):
            wanted.append(first.get("id"))
        assert ctx._by_id == ids_indexed(root, wanted)
        _one_by_one_is_the_one_call(root, ctx.posts, wanted)
        return read_extras(page, root, **kwargs)

    monkeypatch.setattr("scraper.parsers.read_extras", checked)
    for page in _thread_pages():
        parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
    assert seen["ids"] > 10000 and seen["posts"] > 1500


def _one_by_one_is_the_one_call(root, posts, wanted) -> None:
    """Each id asked of the index alone (by_id, element) finds what the one id() call for them all finds."""
    batch = ThreadContext(url="http://x/", tid=1, posts=posts)
    batch._look_up_ids(root)
    for name in wanted + ["zzz", "nosuch", "pid1"]:
        ctx = ThreadContext(url="http://x/", tid=1, posts=posts)
        assert ctx.by_id(root, name) is batch.by_id(root, name), name
        container = next(iter(posts.values()), root)
        for tag in (None, "div", "a"):
            ctx = ThreadContext(url="http://x/", tid=1, posts=posts)
            assert ctx.element(root, container, name, tag) is batch.element(root, container, name, tag), name


_ODD_IDS = """<html><body><a name="poll" id="zzz">a name before the form</a><a name="comment_2">a name</a>
<div id="post_1"><table id="pid1"><tr><td><form id="poll">poll</form><a name="post_rate_div_1" id="x"></a>
<div id="post_rate_div_1"></div></td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td><div id="comment_2">c</div><span id="ratelog_2">r</span>
<a id="voterdebate_2" name="recommend_add">v</a></td></tr></table></div>
<a name="post_3"></a><div id="post_3"><table id="pid3"><tr><td>three</td></tr></table></div></body></html>"""


def test_ids_asked_one_by_one_find_what_the_one_call_finds_on_odd_markup():
    root = _parse_html(_ODD_IDS, "http://x/")[0]
    for pids in ([1, 2, 3], [3, 1], [2]):
        posts = post_containers(root, pids)
        wanted = [f"{prefix}{pid}" for pid in posts for prefix in extras._POST_IDS] + list(extras._PAGE_IDS)
        first = next(iter(posts.values()))
        wanted.append(first.get("id"))
        _one_by_one_is_the_one_call(root, posts, wanted)


@requires_fixtures
def test_opening_boxes_and_reply_spans_are_what_the_post_walk_reads():
    posts = 0
    for page in list(_thread_pages())[::2]:
        root = read_document(page.body, page.url, page.content_type or CONTENT_TYPE)[0].root
        for container in root.iter("div", "table"):
            if not (container.get("id") or "").startswith(("post_", "pid")):
                continue
            facts = PostFacts(container, True)
            boxes = PostBoxes(container)
            assert (boxes.classes, boxes.forms) == (facts.classes, facts.forms)
            assert _span_marks(container) == [el for el in _stand_marks(container) if el.tag == "span"]
            posts += 1
    assert posts > 1000


# Odd markup: the words and ids the gates look for outside the posts, inside them, on a page's other parts.
_ODD = """<html><body><div id="hd"><a href="forum.php?mod=misc&amp;action=debatevote&amp;stand=1">outside</a>
<a href="misc.php?action=viewratings&amp;pid=9">outside</a><img id="aimg_77" src="x.jpg"></div>
<div id="postlist">
<div id="post_1"><table id="pid1"><tr><td class="pls">a</td><td class="plc"><div class="pi"></div>
<div class="pct"><div class="ptg mbm"><a href="misc.php?mod=tag&amp;id=3">t</a></div>
<td id="postmessage_1">text<span class="debatevote poststand_2">x</span></td></div></td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td class="plc"><label class="pdbts pdbts_1">
<a href="forum.php?mod=viewthread&amp;tid=1&amp;stand=1">正方</a></label>
<a id="voterdebate_2" href="forum.php?mod=misc&amp;action=debatevote&amp;pid=2">支持 4</a>
<div id="comment_2" class="cm"><div class="pstl"><div class="psta"><a href="home.php?mod=space&amp;uid=5">u</a></div>
<div class="psti">nice</div></div></div></td></tr></table></div>
<div id="post_3"><table id="pid3"><tr><td class="plc"><span class="x debatevote poststand_3">中立</span>
<div class="pi"><a href="forum.php?mod=misc&amp;action=viewwarning&amp;tid=1&amp;uid=2">!</a></div>
<dl class="tattl"><dt><a id="aid12" href="forum.php?mod=attachment&amp;aid=MTI">f.zip</a></dt>
<dd><em>(2 KB, 下载次数: 3)</em></dd></dl></td></tr></table></div>
<div id="post_4"><table id="pid4"><tr><td class="postcontent"><fieldset><legend>
<a href="misc.php?action=viewratings&amp;tid=1&amp;pid=4">评分</a></legend><ul><li>u: 威望 +1</li></ul></fieldset>
<span id="attach_13">f<a href="attachment.php?aid=13">x</a></span></td></tr></table></div>
</div></body></html>"""


def _odd_page(first: bool) -> ParsedPage:
    posts = [Post(pid=pid, tid=1, url="http://x/t.html", floor=pid, is_first=first and pid == 1, author="a",
                  author_uid=pid) for pid in (1, 2, 3, 4)]
    return ParsedPage(url="http://x/t.html", kind=KIND_VIEWTHREAD, tid=1, threads=[Thread(tid=1)], posts=posts,
                      attachments=[Attachment(pid=4, url="http://x/a.jpg", aid=13, kind="file")])


def test_gated_readers_give_what_open_gates_give_on_odd_markup(monkeypatch):
    root = _parse_html(_ODD, "http://x/t.html")[0]
    for first in (False, True):  # a later page (every post may hold the boxes), and page 1
        for hrefs in (None, ALL_HREFS(root)):
            gated, opened = _gated_and_open(_odd_page(first), root, "http://x/t.html", monkeypatch, hrefs)
            assert gated == opened
    # What the odd page holds, read through the gates: a reply's stand by its link, one by its span's class,
    # the comment, the warning, the attachment list entry, the tag.
    assert gated["debate_posts"].count("DebatePost(") == 2
    assert "comments_shown=1" in gated["posts"] and "is_warned=True" in gated["posts"]
    assert "aid=12" in gated["attachments"] and "ThreadTag(" in gated["thread_tags"]


def test_the_gates_say_no_only_where_the_page_holds_nothing(monkeypatch):
    root = _parse_html(_ODD, "http://x/t.html")[0]
    page = _odd_page(True)
    ctx = ThreadContext(url=page.url, tid=1, posts=post_containers(root, [1, 2, 3, 4]))
    assert ctx.page_hrefs_hold(root, "stand=") and not ctx.page_hrefs_hold(root, "no-such-word")
    assert ctx.hrefs_hold(page, root, 3, "viewwarning") and not ctx.hrefs_hold(page, root, 2, "viewwarning")
    assert not ctx.hrefs_hold(page, root, 1, "viewratings")  # on the page (outside the posts), not in post 1
    assert sorted(ctx.ids_starting(root, "aimg_", "aid")) == ["aid12", "aimg_77"]
    assert ctx.ids_hold(root, "comment_") and not ctx.ids_hold(root, "ratelog_")
    # A container outside the page's tree (or a tree without an index): no page-wide answer, every post walked.
    detached = ThreadContext(url=page.url, tid=1, posts={9: copy.deepcopy(ctx.posts[3])})
    assert detached.page_hrefs_hold(root, "no-such-word") and detached.ids_hold(root, "no-such-id")
    assert detached.ids_starting(root, "aid") is None
    xml = etree.fromstring("<html><body><div id='post_1'><table id='pid1'><tr><td><a href='x'>x</a></td></tr>"
                           "</table></div></body></html>")
    unindexed = ThreadContext(url=page.url, tid=1, posts={1: xml.find(".//div")})
    assert unindexed.ids_hold(xml, "no-such-id") and not unindexed.page_hrefs_hold(xml, "viewwarning")


def test_a_page_without_the_boxes_walks_no_post_for_them(monkeypatch):
    """On a plain capture page no reader walks a post for its links (PostFacts) or asks id() for ids the index
    does not hold: the gates answer from the page."""
    html = _ODD.replace("stand=", "x=").replace("viewratings", "x").replace("viewwarning", "x") \
        .replace("debatevote", "x").replace('id="aid12"', 'id="x12"').replace('id="aimg_77"', 'id="x77"') \
        .replace('id="attach_13"', 'id="x13"').replace("mod=tag", "x")
    root = _parse_html(html, "http://x/t.html")[0]
    walked = []
    monkeypatch.setattr(extras, "PostFacts", lambda container, opening: walked.append(container))
    page = _odd_page(False)
    page.attachments.clear()
    extras.read_extras(page, root, url=page.url, family=extras.FAMILY_X, now=None, tz=None)
    assert walked == [] and page.debate_posts == [] and page.ratings == []
    assert [post.is_warned for post in page.posts] == [False, False, False, False]


_ODD_FRAMES = """<html><body><div id="postlist">
<div id="post_1"><table id="pid1"><tr><td>no class</td><td class="x plc">content</td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td class="pls">a</td><td>no class</td></tr></table></div>
<div id="post_3"><table id="pid3"><tbody><tr><td class="plc">in a tbody</td></tr></tbody></table></div>
<div id="post_4"><table id="pid4"><tr><td>none has a class</td></tr></table><table><tr><td class="plc">2nd</td>
</tr></table></div>
<table id="pid5"><tr><td class="postcontent">7.x</td><td class="postauthor"><div class="avatar">匿名</div></td></tr>
</table>
<div id="post_6"><table id="pid6"><tr><td class="\tplc\n">tabs</td><td class="plcx">not the word</td></tr></table></div>
<div id="post_7"><table id="pid7"><tr><td class="">empty</td></tr></table></div>
</div></body></html>"""


def _post_states(page, root, monkeypatch, stepped: bool) -> list:
    from scraper.parsers import post_states
    page = copy.deepcopy(page)
    with monkeypatch.context() as patch:
        if stepped:  # the first row path's classes never read: every post's cells stepped down as before
            patch.setattr(post_states, "_FIRST_PATH_CLASSES", lambda container: [])
        ctx = ThreadContext(url=page.url, tid=page.tid, posts=post_containers(root, [p.pid for p in page.posts]))
        post_states.read_post_states(page, root, ctx)
    return [(post.pid, post.is_warned, post.is_anonymous) for post in page.posts]


def test_post_states_from_the_cells_classes_are_those_of_the_cells(monkeypatch):
    root = _parse_html(_ODD_FRAMES, "http://x/t.html")[0]
    posts = [Post(pid=pid, tid=1, url="http://x/t.html", floor=pid, author="a", author_uid=uid)
             for pid, uid in ((1, 1), (2, 2), (3, 3), (4, 4), (5, None), (6, 6), (7, 7))]
    page = ParsedPage(url="http://x/t.html", kind=KIND_VIEWTHREAD, tid=1, threads=[Thread(tid=1)], posts=posts)
    read = _post_states(page, root, monkeypatch, False)
    assert read == _post_states(page, root, monkeypatch, True)
    assert [warned for _, warned, _ in read] == [False, None, False, False, False, False, None]


@requires_fixtures
def test_post_states_from_the_cells_classes_on_every_capture(monkeypatch):
    posts = 0
    for page in list(_thread_pages()):
        parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
        if parsed.kind != KIND_VIEWTHREAD:
            continue
        root = read_document(page.body, page.url, page.content_type or CONTENT_TYPE)[0].root
        read = _post_states(parsed, root, monkeypatch, False)
        assert read == _post_states(parsed, root, monkeypatch, True), page.url
        posts += len(read)
    assert posts > 1500
