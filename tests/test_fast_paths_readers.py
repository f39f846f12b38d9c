"""The thread-extras readers' gates (issue 22) hold the answers of the long way, on the captures and on odd markup.

- :class:`scraper.parsers.extras.PostFacts` (one walk of a post shared by every reader) records what the XPaths it
  replaces find: the ``a`` hrefs, the attachment ids, the debate stand marks, the opening post's div/td classes and
  form values.
- Every reader, gated by those facts, gives exactly the items it gives with every gate open (each post walked by
  the reader's own XPaths), on every capture's thread pages and on hand-written odd markup.
- ``post_containers`` and ``ThreadContext.by_id`` look ids up for the whole page in one call, as one call per id did;
  ``post_states._cells`` steps down children as its XPaths do.
"""
from __future__ import annotations

import copy
import dataclasses

import pytest
from lxml import etree

from scraper.items import KIND_VIEWTHREAD
from scraper.parsers import extras, parse_page
from scraper.parsers.common import _parse_html, read_document
from scraper.parsers.debates import _stand_marks
from scraper.parsers.extras import PostFacts, ThreadContext, post_containers
from scraper.parsers.post_states import _ROW_CELLS, _cells

from .conftest import FIXTURES, captured_pages, requires_fixtures

CAPTURES = ("discuz-x34-utf8-a", "discuz-x34-utf8-a-member", "discuz-x35-utf8-f", "discuz-x35-utf8-g",
            "discuz-x35-utf8-g-tc", "discuz-70-utf8-k")
CONTENT_TYPE = "text/html; charset=utf-8"
_WORDS = ("attach", "viewwarning", "viewratings", "stand=", "mod=tag", "tag.php?name=")
_CLASS_WORDS = ("poll", "pinf", "pcht", "rwd", "special_reward", "si_1", "debatesquare", "spi", "activity_info",
                "trd", "trade", "ptg", "threadtags")
_A_WITH = etree.XPath("descendant-or-self::a[contains(@href, $word)]")
_AIDS = etree.XPath("descendant-or-self::a[starts-with(@id, 'aid')] | descendant-or-self::img[starts-with(@id, 'aimg_')]")
# Every attribute value of the forms in a post (the container included), as the poll gate reads them.
_FORM_VALUES = etree.XPath("descendant-or-self::form/@*", smart_strings=False)
_CLASSED = etree.XPath("descendant-or-self::*[self::div or self::td][contains(@class, $word)]")


class _Open:
    """PostFacts with every gate open: each reader walks every post as it did before the gates."""

    def __init__(self, container):
        self.hrefs = "\n".join(_WORDS)
        self.attachment_ids = True
        self.marks = _stand_marks(container)
        self.classes = "\n".join(_CLASS_WORDS)
        self.forms = "poll"


def _thread_pages():
    for name in CAPTURES:
        folder = FIXTURES / name
        for page in captured_pages(folder) if folder.exists() else ():
            if page.body.lstrip().startswith(b"<"):
                yield page


def _items(page) -> dict:
    return {field.name: repr(getattr(page, field.name)) for field in dataclasses.fields(page)}


def _read(page, root, url: str, monkeypatch=None) -> dict:
    page = copy.deepcopy(page)
    extras.read_extras(page, root, url=url, family=extras.FAMILY_X, now=None, tz=None)
    return _items(page)


def _gated_and_open(parsed, root, url, monkeypatch) -> tuple[dict, dict]:
    """The items of every reader on ``parsed`` (its boxes taken off first), gated and with every gate open."""
    bare = copy.deepcopy(parsed)
    for name in ("polls", "rewards", "debates", "debate_posts", "activities", "trades", "ratings", "post_comments",
                 "thread_tags"):
        getattr(bare, name).clear()
    gated = _read(bare, root, url)
    with monkeypatch.context() as patch:
        patch.setattr(ThreadContext, "facts", lambda self, page, pid: _Open(self.posts[pid]) if pid in self.posts
                      else None)
        opened = _read(bare, root, url)
    return gated, opened


def _check_facts(root, pids, opening_all: bool = True) -> int:
    checked = 0
    for pid, container in post_containers(root, pids).items():
        for opening in (False, True) if opening_all else (False,):
            facts = PostFacts(container, opening)
            for word in _WORDS:
                assert (word in facts.hrefs) == bool(_A_WITH(container, word=word)), (pid, word)
            assert facts.attachment_ids == bool(_AIDS(container)), pid
            assert facts.marks == _stand_marks(container), pid
            if opening:
                for word in _CLASS_WORDS:
                    assert (word in facts.classes) == bool(_CLASSED(container, word=word)), (pid, word)
                assert facts.forms == "\n".join(_FORM_VALUES(container))
            else:
                assert facts.classes is None and facts.forms is None
            checked += 1
    return checked


_ODD = """<html><body><div id="postlist">
<div id="post_1" class="poll"><table id="pid1"><tbody><tr><td class="pls">a</td><td class="\tplc\n">
<div class="pi"><a href="forum.php?mod=misc&amp;action=viewwarning&amp;tid=1&amp;uid=2" class="y warnicon">!</a></div>
<div class="x\tptg\n"><a href="misc.php?mod=tag&amp;id=3">tag one</a></div>
<form name="poll" action="forum.php?mod=misc&amp;action=votepoll"><form id="inner"></form></form>
<span class="debatevote\tposts poststand_1">no link</span><label class="xpdbts"><a href="x?stand=2">反方</a></label>
<td id="postmessage_1"><img id="aimg_9" src="a.jpg" file="real.jpg"><p id="aid7">a list entry
<a href="forum.php?mod=attachment&amp;aid=Nw">file.zip</a> (2 KB)</p></td></td></tr></tbody></table></div>
<div id="post_2"><table id="pid2"><tr><td class="plc"><span class="debatevote"><label>
<a href="forum.php?mod=misc&amp;action=debatevote&amp;stand=1">正方</a></label>
<span><a class="b" id="voterdebate_2">支持我</a> 3</span></span>
<div class="pct"><div class="act"><div class="spi"><dl><dt>活动类型:</dt><dd>聚会</dd></dl></div></div></div>
<dl class="tattl"><dt><a id="aid5" href="#">pic.jpg</a></dt><dd><a href="forum.php?mod=attachment&amp;aid=NQ">下载</a>
<em>(36.75 KB, 下载次数: 3)</em></dd></dl></td></tr></table></div>
<label id="post_3" class="pdbts"><table id="pid3"><tr><td class="postcontent"><div class="trdb">x</div>
<div><div><span><a href="misc.php?action=viewwarning">w</a></span></div></div></td></tr></table></label>
<div id="post_4"><table id="pid4"><tr><td><table><tr><td class="plc">nested</td></tr></table>
<fieldset><legend><a href="misc.php?action=viewratings&amp;tid=1&amp;pid=4">评分</a></legend><ul><li>x</li></ul></fieldset>
<a href="javascript:;">匿名 <em>1.2.3.*</em></a></td></tr></table></div>
<table id="pid5"><tbody><tr><td class="plc"><div class="ds"><table><tr><td class="si_1"><div class="point">
<strong>正方观点 (3)</strong><p>yes</p></div></td></tr></table></div><span id="attach_8"><a href="attachment.php?aid=8">f</a>
</span></td></tr></tbody></table>
</div><form id="poll" name="poll"><p>outside</p></form><span id="recommendv_add" style="display:none">4</span>
<a id="recommend_subtract">反对 2</a></body></html>"""


def test_post_facts_record_what_their_xpaths_find_on_odd_markup():
    root = _parse_html(_ODD, "http://x/")[0]
    assert _check_facts(root, [1, 2, 3, 4, 5]) == 10
    facts = PostFacts(post_containers(root, [3])[3], True)
    assert facts.marks == [] and "trdb" in facts.classes  # the container itself is no stand mark, its class is read


@requires_fixtures
def test_post_facts_record_what_their_xpaths_find_on_the_captures():
    checked = 0
    for page in _thread_pages():
        parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
        if parsed.kind != KIND_VIEWTHREAD:
            continue
        root = read_document(page.body, page.url, CONTENT_TYPE)[0].root
        checked += _check_facts(root, [post.pid for post in parsed.posts])
    assert checked > 2000


def test_gated_readers_give_what_open_gates_give_on_odd_markup(monkeypatch):
    root = _parse_html(_ODD, "http://x/t.html")[0]
    posts = []
    for pid, floor in ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5)):
        from scraper.items import Post
        posts.append(Post(pid=pid, tid=1, url="http://x/t.html", floor=floor, is_first=floor == 1,
                          author="a" if pid != 4 else None))
    from scraper.items import Attachment, ParsedPage, Thread
    for first in (True, False):  # page 1, and a later page (every post may hold the boxes)
        page = ParsedPage(url="http://x/t.html", kind=KIND_VIEWTHREAD, tid=1, threads=[Thread(tid=1)],
                          posts=copy.deepcopy(posts),
                          attachments=[Attachment(pid=2, url="http://x/other.jpg", aid=11, kind="image")])
        page.posts[0].is_first = first
        gated, opened = _gated_and_open(page, root, page.url, monkeypatch)
        assert gated == opened
    assert "viewwarning" in PostFacts(post_containers(root, [1])[1], False).hrefs
    assert "is_warned=True" in gated["posts"] and "is_warned=False" in gated["posts"]
    read = _read(page, root, page.url)
    assert "aid=8" in read["attachments"] and "recommend_add=0" in read["threads"] and "recommend_sub=2" in read["threads"]


@requires_fixtures
def test_gated_readers_give_what_open_gates_give_on_the_captures(monkeypatch):
    pages = boxes = 0
    for page in _thread_pages():
        parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
        if parsed.kind != KIND_VIEWTHREAD:
            continue
        root = read_document(page.body, page.url, CONTENT_TYPE)[0].root
        gated, opened = _gated_and_open(parsed, root, page.url, monkeypatch)
        assert gated == opened, page.url
        pages += 1
        boxes += any(gated[name] != "[]" for name in ("polls", "rewards", "debates", "trades", "ratings",
                                                        "post_comments", "thread_tags", "activities"))
    assert pages > 200 and boxes > 20


def _containers_one_by_one(root, pids):
    out = {}
    for pid in pids:
        for table in etree.XPath("id($id)")(root, id=f"pid{pid}"):
            if table.tag == "table":
                parent = table.getparent()
                out[pid] = parent if parent is not None and parent.get("id") == f"post_{pid}" else table
    return out


_ODD_IDS = """<html><body><div id="post_1"><table id="pid1"><tr><td>one</td></tr></table></div>
<table id="pid1"><tr><td>a second pid1</td></tr></table><div id="pid2">not a table</div>
<span id="post_3"><table id="pid3"><tr><td>in a span</td></tr></table></span>
<table id="pid4"><tr><td><form id="poll">inner</form></td></tr></table><div id="poll">second poll</div></body></html>"""


@pytest.mark.parametrize("pids", [[1, 2, 3, 4], [4, 3, 1], [1, 1, 9], [2]])
def test_post_containers_in_one_lookup_are_those_of_one_lookup_each(pids):
    root = _parse_html(_ODD_IDS, "http://x/")[0]
    batched = post_containers(root, pids)
    single = _containers_one_by_one(root, pids)
    if len(single) == len(pids):
        assert list(batched.items()) == list(single.items())
    else:  # some pid not found: the page is walked, the pids found first keep their containers
        assert all(batched[pid] is el for pid, el in single.items())
    ctx = ThreadContext(url="http://x/", tid=1, posts=batched)
    assert ctx.by_id(root, "poll").tag == "form" and ctx.by_id(root, "recommend_add") is None


def test_post_cells_stepped_down_are_what_the_xpaths_find():
    root = _parse_html(_ODD, "http://x/")[0]
    roots = [root]
    for page in list(_thread_pages())[:60]:
        roots.append(read_document(page.body, page.url, CONTENT_TYPE)[0].root)
    found = 0
    for root in roots:
        for el in root.iter("div", "table", "label", "tbody"):
            old = next((cells for cells in (path(el) for path in _ROW_CELLS) if cells), [])
            assert _cells(el) == old
            found += bool(old)
    assert found > 100
