"""The stats blocks, the message cleaner and the time reader (issue 22) read every page as the long way does.

- :func:`scraper.parsers.content.text_of` serialises an element as text instead of calling ``string()``: the same
  string on every element of the captures and on odd markup (comments, processing instructions, scripts, entities).
- :class:`scraper.parsers.stats._Block` finds, in one walk, what the stats block's XPaths find, and
  :func:`~scraper.parsers.stats.parse_stats_block` gives what the XPaths and ``string()`` give (a long way kept here).
- :func:`scraper.parsers.content.clean_message` skips the steps that a walk of the message rules out (each gate
  is the step's own XPath predicate, or looser), and reads text-only messages without a copy: the same
  :class:`Message` as running every step, on every message of the captures and on odd markup; each gate that is
  off means its XPath finds nothing.
- :func:`scraper.parsers.dates.parse_relative` returns at once for a text with no mark of a relative time, and
  :func:`~scraper.parsers.dates.clean_time_text` skips its prefix loop when no prefix starts the text.
"""
from __future__ import annotations

import copy
import random
import re
from datetime import datetime

import pytest
from lxml import etree

from scraper.parsers import content, dates, stats
from scraper.parsers.common import _parse_html, read_document
from scraper.parsers.content import tidy_text
from scraper.parsers.numbers import parse_figure

from .conftest import FIXTURES, REAL, captured_pages, requires_fixtures

_STRING = etree.XPath("string()")
_MESSAGES = etree.XPath("//td[starts-with(@id, 'postmessage_')] | //div[starts-with(@id, 'postmessage_')]"
                        " | //div[contains(concat(' ', normalize-space(@class), ' '), ' pattl ')]")
_COLUMNS = etree.XPath("//td[contains(concat(' ', normalize-space(@class), ' '), ' pls ')]"
                       " | //td[contains(@class, 'postauthor')]")


def _roots():
    """The trees of every HTML page of the captures and the real pages (read as the parser reads them)."""
    if not FIXTURES.exists():
        return
    for folder in sorted(p for p in FIXTURES.iterdir() if (p / "manifest.json").exists()):
        for page in captured_pages(folder):
            if page.body.lstrip().startswith(b"<"):
                yield read_document(page.body, page.url, "text/html; charset=utf-8")[0].root
    for path in sorted(REAL.glob("*/*.html")):
        yield read_document(path.read_bytes(), f"http://{path.parent.name}/{path.name}", "text/html")[0].root


def _html(markup: str) -> etree._Element:
    return _parse_html(markup, "http://x/")[0]


# --- text_of -------------------------------------------------------------------------------------------------------

_ODD_TEXT = ("<html><body><p id='a'>a<!-- c -->b<?pi x?>c<script>s&lt;</script><style>t</style>&foo; &amp; &#x41;"
             "<b>\u3000<i></i>x</b>\n<br>tail</p><textarea>q\nr</textarea><p></p><p><!-- only --></p>"
             "<div>\ufdd0<span title='1'>1</span></div></body></html>")


def test_text_of_is_the_string_value_on_odd_markup():
    root = _html(_ODD_TEXT)
    checked = 0
    for el in root.iter(etree.Element):
        assert content.text_of(el) == _STRING(el), etree.tostring(el)
        checked += 1
    assert checked > 10
    assert content.text_of(root.find(".//p")) == "abc" + "s&lt;" + "t" + "&foo; & A" + "\u3000x\ntail"


@requires_fixtures
def test_text_of_is_the_string_value_on_every_element_of_the_captures():
    checked = 0
    for root in _roots():
        for el in root.iter(etree.Element):
            assert content.text_of(el) == _STRING(el)
            checked += 1
    assert checked > 100_000


# --- stats blocks --------------------------------------------------------------------------------------------------

def _long_figure(value: etree._Element):
    exact = [t for t in value.xpath("./descendant::span[@title]/@title") if stats._EXACT_FIGURE.fullmatch(t)]
    return parse_figure(tidy_text(_STRING(value)), exact[0] if exact else None)


def _long_label(text: str) -> str:
    return stats._LABEL_TRIM.sub("", tidy_text(text))


def _long_stats(block: etree._Element, uid: int):
    """parse_stats_block the long way: every part by its XPath, every text by ``string()``."""
    pairs = []
    for cell in stats._NUMBERCARD_CELLS(block):
        values = cell.xpath("./p")
        label = _long_label("".join(cell.xpath("./text()")))
        if values and label:
            pairs.append((label, _long_figure(values[0]), "card"))
    for dl in stats._DLS(block):
        label = None
        for child in dl:
            if child.tag == "dt":
                label = _long_label(_STRING(child))
            elif child.tag == "dd" and label:
                pairs.append((label, _long_figure(child), "dl"))
                label = None
    for p in stats._LINES(block):
        m = stats._LABEL_VALUE_LINE.match(tidy_text(_STRING(p)))
        if m:
            pairs.append((_long_label(m.group("label")), parse_figure(m.group("value")), "line"))
    found, fields = stats.stats_from_pairs(pairs, uid, source="post")
    links, titles, customs = stats._GROUP_LINK(block), stats._GROUP_TITLE(block), stats._CUSTOM_TITLE(block)
    if links:
        fields["group_title"] = tidy_text(_STRING(links[0])) or None
        m = stats._GID.search(links[0].get("href", ""))
        if m:
            fields["group_id"] = int(m.group(1))
    elif titles:
        fields["group_title"] = tidy_text(_STRING(titles[0])) or None
    if customs:
        fields["custom_title"] = tidy_text(_STRING(customs[0])) or None
    return pairs, found, fields


def _check_block(block: etree._Element) -> int:
    found = stats._Block(block)
    assert found.cells == stats._NUMBERCARD_CELLS(block)
    assert found.dls == stats._DLS(block)
    assert found.lines == stats._LINES(block)
    assert found.group_links == stats._GROUP_LINK(block)
    assert found.group_titles == stats._GROUP_TITLE(block)
    assert found.custom_titles == stats._CUSTOM_TITLE(block)
    pairs, want, want_fields = _long_stats(block, 7)
    assert stats.collect_pairs(block) == pairs
    got, fields = stats.parse_stats_block(block, 7)
    assert (got, fields) == (want, want_fields)
    return len(pairs)


# A block inside a numbercard's look-alike (no lines at all), group links under nested ems (order by document, not
# by em), an em right under the block's own p, p inside a tns div inside the block, a plugin line that reads as a
# pair, values with comments and spans, a dd without a dt, labels in traditional characters.
_ODD_BLOCKS = """<html><body>
<table><tr><td class="pls" id="b1">
 <div class="tns"><table><tr><th><p><a><span title="5">5</span></a></p>主題<!-- c --> </th>
  <td><p>1<!-- x -->2<span>万</span></p>回帖</td><td>no value</td></tr></table><p>签到: 3 天</p></div>
 <dl class="pil"><dd>orphan</dd><dt>積分</dt><dd><a>1,234</a> <span title="x">y</span></dd><dt>威望</dt>
  <dd><span title=" 40 ">4万</span> 点</dd><dt>在線時間</dt><dd>12 小時 30 分鐘</dd><dt>注册时间</dt><dd>2020-1-2</dd></dl>
 <p>签到天数: 1289 天</p><p><em id="g">x</em><em>gap<a href="gid=1">outer</a><p><em><a href="usergroup=2">inner</a></em></p>
  <a href="home.php?gid=3">after</a></em></p>
 <p class="x\txg1\n">头衔 <b>one</b></p>
</td></tr></table>
<div class="xtnsx"><table><tr><td class="pls" id="b2"><p>签到天数: 5 天</p><dl><dt>金钱</dt><dd>5</dd></dl></td>
 </tr></table></div>
<table><tr><td class="pls" id="b3"><div class="tns"><p>1</p></div><div class=" tns\t"><table><tr><th><p>2</p>主题</th>
 </tr></table></div><p><em><a href="gid=9">组</a></em></p><p>line: 7</p></td></tr></table>
<div id="b4" class="tns"><p>a: 1</p></div>
<p id="b5"><em><a href="gid=4">em under the block</a></em></p>
<div id="b6"><dl><dt>a</dt><dd><a>1</a><!-- c -->2<span title="12">x</span></dd>
 <dt>b</dt><dd>t<b>1</b><span title="ab">2</span> <span title=" 3,0 ">z</span><span title="4">w</span></dd>
 <dt>c</dt><dd><span title="5"><span title="6">6</span></span></dd>
 <dt>d</dt><dd><a>7</a><a><span title="8">8</span></a></dd><dt>e</dt><dd><!-- only --> 9 <?pi x?></dd></dl></div>
</body></html>"""


def test_stats_blocks_read_as_their_xpaths_on_odd_markup():
    root = _html(_ODD_BLOCKS)
    blocks = {el.get("id"): el for el in root.iter(etree.Element) if el.get("id", "").startswith("b")}
    for block in blocks.values():
        _check_block(block)
    b1 = stats._Block(blocks["b1"])
    assert [a.text for a in b1.group_links] == ["outer", "inner", "after"]  # the XPath's order: by document
    _, fields = stats.parse_stats_block(blocks["b1"], 7)
    assert fields["group_title"] == "outer" and fields["group_id"] == 1 and fields["custom_title"] == "头衔 one"
    pairs = [(label, figure.value, origin) for label, figure, origin in stats.collect_pairs(blocks["b1"])]
    assert ("积分", 1234, "dl") not in pairs and ("積分", 1234, "dl") in pairs
    assert ("签到天数", 1289, "line") in pairs and ("签到", 3, "line") not in pairs  # the tns div's p is no line
    assert ("威望", 40, "dl") in pairs and ("主題", 5, "card") in pairs
    # Inside a div whose class holds "tns": no lines (its dl still counts).
    assert [label for label, _, _ in stats.collect_pairs(blocks["b2"])] == ["金钱"]
    assert stats._Block(blocks["b2"]).line_candidates and not stats._Block(blocks["b2"]).lines
    assert [label for label, _, _ in stats.collect_pairs(blocks["b3"])] == ["主题", "line"]
    assert stats.parse_stats_block(blocks["b5"], 1)[1] == {}  # p/em/a with the block as the p: no group
    figures = {label: (figure.shown, figure.value) for label, figure, _ in stats.collect_pairs(blocks["b6"])}
    assert figures == {"a": ("12x", 12), "b": ("t12 zw", 30), "c": ("6", 5), "d": ("78", 8), "e": ("9", 9)}


@requires_fixtures
def test_stats_blocks_read_as_their_xpaths_on_the_captures():
    blocks = pairs = 0
    for root in _roots():
        for column in _COLUMNS(root):
            pairs += _check_block(column)
            blocks += 1
    assert blocks > 1000 and pairs > 5000


# --- clean_message -------------------------------------------------------------------------------------------------

def _same_message(el: etree._Element, url: str = "http://x/") -> content.Message:
    fast = content.clean_message(el, url)
    assert fast == content._clean_message(el, url, walk=False), etree.tostring(el)[:300]
    return fast


def _gates_hold(el: etree._Element) -> None:
    """Every step the walk rules out finds nothing, before any step runs (and so after)."""
    body = copy.deepcopy(el)
    steps = content._Steps.of(body)
    if steps is None:
        assert content._JAMMER(body) and content._WITH_EVENT_ATTRS(body)
        return
    assert steps.jammer or not content._JAMMER(body)
    assert steps.edit_notes or not content._EDIT_NOTES(body)
    assert steps.code_blocks or not content._CODE_BLOCKS(body)
    assert steps.images or not list(body.iterdescendants("img"))
    assert steps.file_links or not content._FILE_LINKS(body)
    assert steps.events or not content._WITH_EVENT_ATTRS(body)
    assert steps.ids or not content._WITH_IDS(body)
    assert steps.quotes or not content._QUOTE_BLOCKS(body)


_ODD_MESSAGES = [
    "plain text\n with  spaces\u3000and\xa0nbsp",
    "markers \ufdd0 and \ufdd1 in text",
    "",
    "<!-- a comment only -->",
    "a<br>b<br/><br>c<?pi x?>",
    "<span style='font-size : 0px'>j1</span><span style='display: none'>j2</span><span style='font-size:0'>j3</span>"
    "<span style='font-size:\t0px'>kept</span><span style='DISPLAY:NONE'>kept too</span>",
    "<font class='x\tjammer'>j</font><font class='jammers'>kept</font><div class='attach_nopermission\n'>n</div>",
    "<script>var a = 1;</script><style>p {}</style>after",
    "<i class='pstatus'> 本帖最后由 a 于 2020-1-2 03:04 编辑 </i><br><br><br>text<i class='pstatusx'>kept</i>",
    "<div class='blockcode'><ol><li>x</li><li>y</li></ol><em>复制代码</em></div><div class='blockcodes'><em>e</em></div>",
    "<img id='aimg_12' src='a.jpg' onclick='zoom(this)' onmouseover='x'><img src='static/image/smiley/a.gif' alt=':)'>"
    "<img src='none.gif' file='b.jpg' aid='3'><img ONLOAD='x' src='c.jpg'>",
    "<a href='forum.php?mod=attachment&amp;aid=MTJ8YWJj'>file.zip</a><a href='attachment.php?aid=5&amp;k=1'>f2</a>"
    "<a href='forum.php?mod=attachment&amp;aid=12'><img src='i.jpg' aid='12'></a><a href='http://plain/'>plain</a>",
    "<span id='attach_7'><a href='forum.php?mod=attachment&amp;aid=Nw'>s</a></span><img id='aimg_7' src='x.jpg'>",
    "<div id='code_Avz'>c</div><p id='aimg_xj5Gt'>r</p><p id='keep'>k</p><p onclickx='1' data-on='2'>a</p>",
    "<div class='quote'><blockquote><font size='2'><a href='forum.php?mod=redirect&amp;goto=findpost&amp;pid=9'>"
    "<font color='#999'>bob 发表于 2020-1-2 03:04</font></a></font><br>quoted<div class='quote'><blockquote>"
    "inner</blockquote></div></blockquote></div>own text",
    "<div class='reply_wrap'>mobile quote</div><div class='quotes'>not a quote</div>",
    "<pre>line 1\nline 2\n<b>bold\n</b>tail\n</pre><textarea>t\nu</textarea>",
    "<table><tr><td>a</td><td>b<br>c</td></tr></table><ul><li>x</li><li>y</li></ul>",
    # Flat: every child without child nodes (read without changing the tree).
    "t0<pre>a\nb</pre>x\ny<textarea>t\nu</textarea><script>s</script>t<img src='static/image/smiley/a.gif' alt='a\nb'>"
    "<p></p><p>p\nq</p><br><!-- c -->after<img src='x.jpg' alt='no smilie'><b>b</b>\n<font>f</font>",
    "<p>one</p><p>two</p><div>three</div>",
    "<o:p>office</o:p><svg><br></svg><div><div><div><p>deep</p></div></div></div>",
    "<span style='color:red' class='quote'>span quote</span><i class='pstatus x'>"
    "本帖最后由 b 于 2021-1-1 01:01 编辑</i><font class='jammer'>jam</font><b onclick='x'>ev</b>",
]


@pytest.mark.parametrize("inner", _ODD_MESSAGES)
def test_messages_clean_as_every_step_cleans_them_on_odd_markup(inner):
    root = _html(f"<html><body><table><tr><td id='postmessage_1'>{inner}</td></tr></table></body></html>")
    el = root.find(".//td")
    _gates_hold(el)
    msg = _same_message(el)
    if "jammer" in inner or "0px" in inner:
        assert "j1" not in msg.text and "jam" not in msg.text


def test_message_gates_rule_out_what_they_should():
    root = _html("<html><body><td id='m'>a<br>b<a href='http://plain/'>l</a><div class='x'>d</div></td></body></html>")
    steps = content._Steps.of(copy.deepcopy(root.find(".//td")))
    assert not any(getattr(steps, name) for name in content._Steps.__slots__)
    rich = _html("<html><body><td id='m'><b onclick='x'>a</b><font class='jammer'>j</font>b</td></body></html>")
    assert content._Steps.of(copy.deepcopy(rich.find(".//td"))) is None  # jammer and events: every step runs
    text_only = _html("<html><body><td id='m'> a\nb \ufdd0 </td></body></html>").find(".//td")
    assert content.clean_message(text_only, "http://x/") == content.Message(text="a b", html="a\nb \ufdd0")


def test_flatten_text_finds_the_same_breaks_in_one_walk():
    for inner in _ODD_MESSAGES:
        el = _html(f"<html><body><div>{inner}</div></body></html>").find(".//div")
        assert content._flatten_text(copy.deepcopy(el), True) == content._flatten_text(copy.deepcopy(el), False)


@requires_fixtures
def test_messages_clean_as_every_step_cleans_them_on_the_captures():
    messages = stepped = 0
    for root in _roots():
        for el in _MESSAGES(root):
            _gates_hold(el)
            msg = _same_message(el)
            messages += 1
            stepped += bool(msg.quotes or msg.images or msg.files or msg.edited_note)
            for part in el.iter("div", "blockquote"):
                assert content._flatten_text(copy.deepcopy(part), True) == \
                    content._flatten_text(copy.deepcopy(part), False)
    assert messages > 1500 and stepped > 100, (messages, stepped)


# --- times ---------------------------------------------------------------------------------------------------------

_NOW = datetime(2024, 10, 1, 12, 0, tzinfo=dates.DEFAULT_TZ)
_RELATIVE = ["刚刚", "剛才", "刚才 ", "5 秒前", "3 分钟前", "3 分鐘前", "半小时前", "半小時前", "2 小时前", "2 小時前",
             "昨天 10:20", "前天 10:20", "今天 09:00", "3 天前", "3 天前 10:20", "10:20", "9:05:07", "10:20 ",
             "2024-9-30 10:20", "2024/09/30", "5 分 前", "前", "今", "abc", "", "99999 天前", "1:1e999"]


def _ungated(monkeypatch, fn, *args, **kwargs):
    """``fn`` with parse_relative's gate letting every text through."""
    with monkeypatch.context() as m:
        m.setattr(dates, "_RELATIVE_MARK", re.compile(""))
        return fn(*args, **kwargs)


def _long_clean_time_text(text):
    """clean_time_text as it was: every prefix tried in turn."""
    if not text:
        return ""
    text = dates._SPACES.sub(" ", text).strip()
    for prefix in dates._POSTED_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):].lstrip(" :：")
    return text


def test_relative_times_read_as_without_the_gate(monkeypatch):
    for text in _RELATIVE:
        for title in (None, text, "2024-9-30 10:20"):
            assert dates.parse_discuz_time(text, title, now=_NOW) == \
                _ungated(monkeypatch, dates.parse_discuz_time, text, title, now=_NOW), text
        assert dates.parse_relative(text, _NOW) == _ungated(monkeypatch, dates.parse_relative, text, _NOW)
    assert dates.parse_relative("3 天前", _NOW) is not None and dates.parse_relative("2024-9-30", _NOW) is None
    # Random texts over the patterns' own alphabet: the gate never turns a match away.
    alphabet = "0123456789 :：-/年月日刚剛才纔秒分钟鐘鍾前小时時天半今昨后發发表于於时間"
    rng = random.Random(22)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert dates.parse_relative(text, _NOW) == _ungated(monkeypatch, dates.parse_relative, text, _NOW), text


def test_clean_time_text_drops_prefixes_as_before():
    for text in ("发表于 2020-1-2", "發表於：2020-1-2", "发表时间: 发表于 1-2", " 2020-1-2 ", "x发表于", "\xa0发表于\u3000今天",
                 "发表於 發表時間 2020", "", None, "發表時間發表時間"):
        assert dates.clean_time_text(text) == _long_clean_time_text(text)
    assert dates.clean_time_text("发表于 2020-1-2") == "2020-1-2"
