"""The list, index and profile parsers' walks (issue 22) find exactly what the XPaths they replace find.

- :class:`scraper.parsers.forum._RowParts` (a thread row's title link, type prefix, digest and lock marks, ``td.by``
  and ``td.num`` cells) and the cells' readers;
- :func:`scraper.parsers.index.forum_row_counts` (``td.fl_i``'s counts, ``td.fl_by``'s cite), against the XPath
  reading it replaced;
- :class:`scraper.parsers.profile._Profile` (the X profile's heading, labelled lines, group link) and its line
  readers, and the 7.x profile's test for lines that hold lines;

each on every capture's page and on hand-written odd markup (nesting, repeated parts, classes among tabs and
newlines, comments between texts, marks outside a th or a cell), with every element of the odd pages taken as
the row or cell in turn.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scraper.items import Forum
from scraper.parsers.common import read_document
from scraper.parsers.content import tidy_text
from scraper.parsers.dates import DEFAULT_TZ, parse_discuz_time
from scraper.parsers.forum import (
    _DIGEST_MARK,
    _ROW_BY_CELLS,
    _ROW_CLOSED,
    _ROW_NUM_CELLS,
    _ROW_PREFIX,
    _ROW_TITLE,
    THREAD_ROWS,
    _child_text,
    _first,
    _first_title,
    _RowParts,
)
from scraper.parsers.index import forum_row_counts
from scraper.parsers.numbers import parse_int
from scraper.parsers.profile import (
    _HEADING,
    _LABELLED_LINES,
    _LEGACY_LINES,
    _LINE_VALUE,
    _X_GROUP_LINK,
    _line_value,
    _own_texts,
    _Profile,
)

from .conftest import FIXTURES, captured_pages, requires_fixtures

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def _first_of(found):
    return found[0] if found else None


def _check_row(row) -> int:
    parts = _RowParts(row)
    assert parts.title is _first_of(row.xpath(_ROW_TITLE))
    assert parts.prefix == row.xpath(_ROW_PREFIX)
    assert parts.digest == bool(row.xpath(_DIGEST_MARK))
    assert parts.closed == bool(row.xpath(_ROW_CLOSED))
    assert parts.by_cells == row.xpath(_ROW_BY_CELLS)
    assert parts.num is _first_of(row.xpath(_ROW_NUM_CELLS))
    for cell in parts.by_cells:
        assert next((a for a in cell.iterdescendants("a") if a.getparent().tag == "cite"), None) \
            is _first_of(cell.xpath(".//cite/a"))
        assert _first(cell, "cite") is _first_of(cell.xpath(".//cite"))
        assert _first(cell, "em") is _first_of(cell.xpath(".//em"))
        for em in cell.iterdescendants("em"):
            assert _first_title(em) == _first_of(em.xpath(".//span/@title"))
    if parts.num is not None:
        assert _child_text(parts.num, "a") == parts.num.xpath("string(./a)")
        assert _child_text(parts.num, "em") == parts.num.xpath("string(./em)")
    return 1


def _old_row_counts(row, forum: Forum) -> Forum:
    """forum_row_counts as it read a row by XPath before the walk."""
    counts = row.xpath("./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' fl_i ')]")
    if counts:
        forum.threads = parse_int(counts[0].xpath("string(./descendant::span[contains(@class, 'xi2')])"))
        forum.posts = parse_int(counts[0].xpath("string(./descendant::span[contains(@class, 'xg1')])"))
    cite = row.xpath("./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' fl_by ')]//cite")
    if cite:
        shown = tidy_text("".join(cite[0].xpath("./text() | ./span//text()")))
        forum.last_post_at = parse_discuz_time(shown, _first_of(cite[0].xpath("./span/@title")), now=NOW, tz=DEFAULT_TZ)
    return forum


def _check_counts(row) -> int:
    new = forum_row_counts(row, Forum(fid=1), now=NOW, tz=DEFAULT_TZ)
    old = _old_row_counts(row, Forum(fid=1))
    assert (new.threads, new.posts, new.last_post_at) == (old.threads, old.posts, old.last_post_at)
    return 1


def _check_profile(root) -> int:
    profile = _Profile(root)
    assert profile.heading is _first_of(root.xpath(_HEADING))
    assert profile.lines == root.xpath(_LABELLED_LINES)
    assert profile.group is _first_of(root.xpath(_X_GROUP_LINK))
    boxes = root.xpath("/descendant::div[contains(@class, 'u_profile')]")
    assert profile.summary == (root.xpath("string(/descendant::div[contains(@class, 'u_profile')])") if boxes else None)
    for li in profile.lines:
        assert _line_value(li) == "".join(li.xpath(_LINE_VALUE))
        assert _child_text(li, "em") == li.xpath("string(./em)")
    if profile.heading is not None:
        assert "".join(_own_texts(profile.heading)) == "".join(profile.heading.xpath("./text()"))
    for line in root.xpath(_LEGACY_LINES):
        assert (next(line.iterdescendants("li", "tr", "h3"), None) is not None) == bool(line.xpath(".//li | .//tr | .//h3"))
    return 1 + len(profile.lines)


def _root(markup: str):
    return read_document(markup.encode("utf-8"), "http://h/", "text/html; charset=utf-8")[0].root


def _captured_roots():
    for folder in sorted(FIXTURES.glob("*/manifest.json")):
        for page in captured_pages(folder.parent):
            if page.body.lstrip().startswith(b"<"):
                yield page.url, _root(page.body.decode("utf-8", "replace"))


@requires_fixtures
def test_list_row_and_profile_walks_match_their_xpaths_on_the_captures():
    rows = counts = lines = 0
    for url, root in _captured_roots():
        for row in root.xpath(THREAD_ROWS):
            rows += _check_row(row)
        for cell in root.xpath("//td[.//h2] | //dl[.//dt//a]"):
            tr = next(cell.iterancestors("tr"), None)
            if tr is not None:
                counts += _check_counts(tr)
        lines += _check_profile(root)
    # Every capture's thread rows, forum rows and profile lines were held to the XPaths.
    assert rows >= 200 and counts >= 40 and lines > 1500, (rows, counts, lines)


ODD_ROWS = """<html><body><table>
<tbody id="normalthread_1"><tr>
  <td class="icn"><img src="folder_lock.gif"><img src="x/digest_1.gif"></td>
  <th class="new&#9;lock"><em>[<a href="f.php?typeid=3">T</a>]</em><em>plain</em>
    <em><a href="f.php?x=1">no type</a></em>
    <a class="s&#10;xst" href="t-1.html">T<!-- c -->itle</a><a class="xst" href="t-1b">second</a>
    <div><em><a href="?sortid=2">deep em</a></em></div>
    <span class="tbox&#13;tdigest">精华</span></th>
  <td class="by num"><cite>by <a href="space-uid-5.html">five</a><!-- x --> tail</cite>
    <em><span>no title</span><span title="2026-12-5 10:00">昨天</span></em></td>
  <td class="num"><!-- c --><a>3</a><em>1<b>2</b>3</em><a>9</a></td>
  <td class="bylast"><cite>not a by cell</cite></td>
  <td class="xby by"><em>only an em</em><cite><span>no link</span></cite></td>
</tr></tbody>
<tbody id="stickthread_2"><tr>
  <td class="icnx"><div><img src="folder_lock.gif" alt="digest"></div></td>
  <td><table><tr><th><span class="tdigest">n</span><a class="xst">nested</a></th></tr></table></td>
  <td class="by"><div><cite><b><a href="u-7">seven</a></b></cite></div><em></em></td>
  <th class="locked"><em></em></th>
</tr></tbody>
<tbody id="normalthread_3"><tr><td class="ic n"><img src="folder_lock"></td><th>
  <span class="tdigestx">x</span><a class="xstx">no</a></th><td class="by"><cite></cite></td></tr></tbody>
</table>
<span class="tdigest">outside any th</span><a class="xst">outside</a>
</body></html>"""

ODD_FORUM_ROWS = """<html><body><table>
<tr><td class="fl_i"><span class="xi2x">22</span><span class="x xg1">/ 127</span></td>
    <td class="fl&#9;fl_by"><div>x</div><cite>2026-1-2 <!-- c --><span title="2026-12-5 10:00">昨天 <b>10:00</b></span>
    tail<a><span>in a link</span></a></cite><cite>second</cite></td></tr>
<tr><td class="fl_by"><div><cite>2025-3-4 <span>09:00</span></cite></div></td><td class="fl_i">
    <span class="xi2">5</span><span class="xi2">6</span></td><td class="fl_i"><span class="xg1">99</span></td></tr>
<tr><td class="fl_byx"><cite>not this</cite></td><td class="fl_by"></td><td class="fl_by"><cite>2024-5-6</cite></td></tr>
</table></body></html>"""

ODD_PROFILE = """<html><body>
<div class="u_profilex"><h2 class="mbnx">first <span>(UID: 9)</span></h2>
  <ul><li><em>用戶組</em></li><li><em>x</em>y<a href="?gid=1">not the first</a></li></ul>
  <div class="u_profile inner"><h2 class="mbn">inner <!-- c -->name<span>(UID: 3)</span> tail</h2>
    <li><em>用户组 </em><span>g</span></li></div>
  <li><em>注册时间</em>2020-1-1<!-- c --> <b>10:00</b><em>second em</em> end<li><em>n</em>nested</li></li>
  <li>no em <span><em>deep em</em></span></li>
  <div id="psts"><li><em>威望</em>5 <i>pts</i></li></div>
  <li><em>用户组</em><span><a href="?gid=12">中级</a></span><a href="?gid=13">b</a></li>
</div>
<div class="u_profile"><h2 class="mbn">second box</h2><li><em>x</em>z</li></div>
<div id="profilecontent"><ul><li>UID: 3<p>holds</p></li><tr><td>a</td></tr><h3>h</h3></ul></div>
</body></html>"""


@pytest.mark.parametrize("markup", [ODD_ROWS, ODD_FORUM_ROWS, ODD_PROFILE])
def test_list_row_and_profile_walks_match_their_xpaths_on_odd_markup(markup):
    root = _root(markup)
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    assert len(elements) > 20
    # Every element taken as the row (and as the index row), so that parts inside and outside any context count.
    assert sum(_check_row(el) + _check_counts(el) for el in elements) == 2 * len(elements)
    _check_profile(root)


def test_odd_markup_exercises_what_the_walks_decide():
    """The odd pages hold what makes the walks choose (so that the tests above cannot pass on empty answers)."""
    rows = _root(ODD_ROWS).xpath(THREAD_ROWS)
    first, second, third = (_RowParts(row) for row in rows)
    assert first.title is not None and first.title.get("href") == "t-1.html"
    assert [el.tag for el in first.prefix] == ["a", "em"] and first.digest and first.closed
    assert len(first.by_cells) == 2 and first.num is first.by_cells[0]
    assert second.title is not None and second.digest and second.closed  # "icnx" contains "icn"
    assert third.title is None and not third.digest and not third.closed
    profile = _Profile(_root(ODD_PROFILE))
    assert profile.heading.xpath("string()").startswith("first")  # "mbnx" in "u_profilex": both contain the words
    assert profile.group is not None and profile.group.get("href") == "?gid=12"
    assert len(profile.lines) >= 6
    forum = forum_row_counts(_root(ODD_FORUM_ROWS).xpath("//tr")[0], Forum(fid=1), now=NOW, tz=DEFAULT_TZ)
    assert (forum.threads, forum.posts) == (22, 127) and forum.last_post_at is not None  # "xi2x" contains "xi2"
