"""A post body (``td.t_f#postmessage_PID``) -> clean text, clean HTML, quotes, images, edit note.

What Discuz mixes into a rendered message, and what we do with it:

* anti-copy jammer text (X ``font.jammer``, 7.x ``font[style*="font-size:0px"]``, and
  ``span[style*=display:none]``): removed everywhere;
* the edit note ``<i class="pstatus"> 本帖最后由 X 于 T 编辑 </i>``: lifted out into its own fields;
* quotes (``div.quote > blockquote``) of other posts: kept in the HTML, left out of the post's own
  text, and returned as :class:`~scraper.items.Quote` with the quoted pid from the findpost link
  (X puts the grey ``X 发表于 T`` header first, 7.x after the quoted text, 6.x writes
  ``原帖由 X 于 T 发表`` first);
* code blocks (``div.blockcode``): one text line per ``li``, without the 复制代码 button;
* images: the real URL is ``zoomfile`` > ``file`` > ``data-original`` > ``data-src`` > the URL in a
  7.x ``onclick="zoom(this, 'URL')"`` > ``src`` (``src`` is often a ``none.gif`` placeholder or a
  ``.thumb.jpg``); smilies become their ``alt``; the back arrow a quote links to the quoted post with (7.x
  ``images/common/back.gif`` in a findpost link) is decoration, not an image of the post;
* file attachments: X ``forum.php?mod=attachment&aid=…`` and 7.x ``attachment.php?aid=…`` links, with their aid
  (``a#aidN``, ``span#attach_N``, the plain 7.x parameter or X's encoded one); an image list's name link is the
  image's, not a second attachment;
* scripts, styles and inline event handlers: dropped from the HTML.
"""
from __future__ import annotations

import base64
import binascii
import copy
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

from lxml import etree, html as lxml_html

from ..digits import as_int
from ..items import Quote
from ..urls import join_url
from .labels import chars, label_pattern

# Labels in both scripts (本帖最后由 X 于 T 编辑 / 本帖最後由 X 於 T 編輯): see .labels.
EDIT_NOTE = label_pattern(
    r"本帖最后由\s*(?P<editor>.+?)\s*于\s*(?P<time>\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?)\s*编辑"
)
_QUOTE_HEADER = re.compile(rf"^\s*(?P<author>.+?)\s*{chars('发表于')}\s*(?P<time>.+?)\s*$")
# Discuz! 6.x and early 7.x: "原帖由 X 于 2008-5-1 10:00 发表" before the quoted text.
_OLD_QUOTE_HEADER = label_pattern(
    r"^\s*(?:原帖由|原文由)\s*(?P<author>.+?)\s*于\s*"
    r"(?P<time>\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?)\s*发表\s*")
_ZOOM_URL = re.compile(r"zoom\(\s*this\s*,\s*['\"](?P<url>[^'\"]+)['\"]")
# The aid parameter of a download link (plain digits in 7.x, aidencode()'s base64 in X) and what X encodes.
_AID_PARAM = re.compile(r"[?&;]aid=([A-Za-z0-9%+/=_-]+)")
_ENCODED_AID = re.compile(r"^(\d+)\|")
# Attachment ids on links and their holders: a#aidN (lists), span#attach_N (X inline files).
_ATTACH_ID = re.compile(r"^(?:aid|attach_)(\d+)$")
_FINDPOST_PID = re.compile(r"[?&;]pid=(\d+)")
_BLANK_LINES = re.compile(r"\n\n\n+")  # after each line is stripped
_INLINE_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")

# Invisible to a reader, so not content: jammer text, hidden elements (jammer spans, attachment
# hover tips), scripts, and the guest notice Discuz puts inside messages with attachments.
JAMMER_XPATH = (
    # Walks by element name where the name is known (libxml2 tests a name far faster than a predicate).
    "descendant::script | descendant::style"
    # X jammer: <font class="jammer">…</font>.
    " | descendant::font[contains(concat(' ', normalize-space(@class), ' '), ' jammer ')]"
    " | descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' attach_nopermission ')]"
    # 7.x jammer(): <font style="font-size:0px;color:#FFF">…</font>, invisible text; hidden spans and tips.
    " | descendant::*[@style][contains(translate(@style, ' ', ''), 'font-size:0px')"
    " or contains(concat(translate(@style, ' ', ''), ';'), 'font-size:0;')"
    " or contains(translate(@style, ' ', ''), 'display:none')]"
)
_JAMMER = etree.XPath(JAMMER_XPATH)
# Quoted posts: div.quote (templates), div.reply_wrap (the mobile API's and touch templates' messages).
QUOTE_BLOCKS = ("./descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' quote ')"
                " or contains(concat(' ', normalize-space(@class), ' '), ' reply_wrap ')]")
# File attachment links: X ``forum.php?mod=attachment&aid=ENC``, 7.x ``attachment.php?aid=N&k=…``.
FILE_LINKS = "./descendant::a[contains(@href, 'mod=attachment') or contains(@href, 'attachment.php?aid=')]"
_QUOTE_BLOCKS = etree.XPath(QUOTE_BLOCKS)
_FILE_LINKS = etree.XPath(FILE_LINKS)
_LINKED_IMAGES = etree.XPath("descendant::img[not(contains(@src, 'attachicons'))]")
_EDIT_NOTES = etree.XPath("descendant::i[contains(concat(' ', normalize-space(@class), ' '), ' pstatus ')]")
_CODE_BLOCKS = etree.XPath("descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' blockcode ')]")
_CLASS_SPACES = re.compile(r"[ \t\r\n]+")
_WITH_EVENT_ATTRS = etree.XPath("descendant::*[@*[starts-with(name(), 'on')]]")
_WITH_IDS = etree.XPath("descendant::*[@id]")
_IMAGE_SOURCE_ATTRS = ("zoomfile", "file", "data-original", "data-src", "src")
_PLACEHOLDER_IMAGES = ("none.gif", "blank.gif", "loading.gif")
# File-type icons beside attachment links (X static/image/filetype/, 7.x images/attachicons/): decoration.
_ICON_PATHS = ("/filetype/", "/attachicons/")
_AIMG_ID = re.compile(r"^aimg_(\d+)$")
_BLOCK_TAGS = frozenset({
    "div", "p", "li", "tr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl",
    "dt", "dd", "pre", "hr", "section", "article",
})
_EVENT_ATTR = re.compile(r"^on[a-z]+$")
_RANDOM_ID = re.compile(r"^(?:aimg|code)_(?!\d+$)\w+$")
# Line-break markers put into the tree's text before it is serialised as text: Unicode noncharacters,
# which are legal in XML text but never meant to appear in a document.
_BR = "\ufdd0"  # a <br> (or a line break inside <pre>): one line break each
_SOFT_BREAK = "\ufdd1"  # a block element's start or end: one line break, however many meet
_BREAK_RUN = re.compile("[\ufdd0\ufdd1][\ufdd0\ufdd1 \t\r]*")
_TEXT = etree.XPath("string()")


@dataclass
class Message:
    """What a post body holds, cleaned."""

    text: str = ""
    html: str = ""
    edited_note: str | None = None
    edited_by: str | None = None
    edited_at_text: str | None = None
    quotes: list[Quote] = field(default_factory=list)
    images: list[tuple[str, str | None, int | None]] = field(default_factory=list)  # (url, alt, aid)
    files: list[tuple[str, str | None, int | None]] = field(default_factory=list)  # (url, name, aid)


_STRING = etree.XPath("string()")


def text_of(el: etree._Element) -> str:
    """All the text under ``el`` (``text_content()`` of lxml.html, for the plain lxml elements the parsers read)."""
    # Without child nodes (len() counts comments too) its text is all there is: no XPath call for a label or figure.
    return _STRING(el) if len(el) else el.text or ""


def drop(el: etree._Element) -> None:
    """Remove ``el`` but keep its tail text in the tree."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


@contextmanager
def set_aside(elements):
    """Take ``elements`` out of their tree for the duration, an empty stand-in (same tag, attributes and
    tail) keeping each one's place.

    Thread pages read their frame (header, authors, times, floors, pagers) with the post messages set
    aside: what a post's author wrote is never read as the page's frame, and a huge message costs the
    frame's reads nothing.
    """
    stand_ins = []
    try:
        for el in elements:
            parent = el.getparent()
            if parent is None:
                continue
            stand_in = etree.Element(el.tag)
            for name, value in el.attrib.items():
                try:
                    stand_in.set(name, value)
                except ValueError:  # a name libxml2's HTML parser accepts but lxml will not set
                    pass
            stand_in.tail = el.tail
            parent.replace(el, stand_in)
            stand_ins.append((parent, stand_in, el))
        yield
    finally:
        for parent, stand_in, el in reversed(stand_ins):
            parent.replace(stand_in, el)


def remove_jammer(root: etree._Element) -> None:
    """Drop anti-copy jammer text and scripts from ``root`` in place."""
    for el in _JAMMER(root):
        drop(el)


def image_url(img: etree._Element, base_url: str) -> str | None:
    """The real URL of an ``img`` (lazy-load attributes first), absolute; ``None`` for placeholders."""
    for attr in _IMAGE_SOURCE_ATTRS:
        if attr == "src":
            # 7.x thumbnails: src is the .thumb.jpg, the full image is the literal in zoom(this, 'URL').
            zoom = _ZOOM_URL.search(img.get("onclick") or "")
            if zoom and not zoom.group("url").startswith("javascript"):
                return join_url(base_url, zoom.group("url").replace("&amp;", "&"))
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:") and not value.endswith(_PLACEHOLDER_IMAGES):
            return join_url(base_url, value)
    return None


def is_quote_arrow(img: etree._Element) -> bool:
    """Whether ``img`` sits in a findpost link: the arrow 7.x quotes link back to the quoted post with
    (``[url=…redirect.php?goto=findpost…][img]…/images/common/back.gif[/img][/url]`` in every quote's footer), which
    is decoration, not an image of the post."""
    for link in img.iterancestors("a"):
        return "findpost" in (link.get("href") or "")
    return False


def aid_from_href(href: str | None) -> int | None:
    """The attachment id in a download link: 7.x ``attachment.php?aid=N``, X ``forum.php?mod=attachment&aid=ENC``
    where ENC is ``aidencode()``'s base64 of ``AID|hash|time|uid|tid`` (``NDN8MmEz…`` -> 43)."""
    if not href:
        return None
    m = _AID_PARAM.search(href.replace("&amp;", "&"))
    if not m:
        return None
    value = unquote(m.group(1))
    if value.isdecimal():
        return as_int(value)
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=False).decode("ascii", "replace")
    except (ValueError, binascii.Error):
        return None
    plain = _ENCODED_AID.match(decoded)
    return as_int(plain.group(1)) if plain else None


def link_aid(link: etree._Element) -> int | None:
    """The aid of an attachment link: its ``id="aidN"`` (list links), the ``span#attach_N`` around it (X inline
    files), else its href (:func:`aid_from_href`)."""
    m = _ATTACH_ID.match(link.get("id") or "")
    if m:
        return as_int(m.group(1))
    parent = link.getparent()
    if parent is not None:
        m = _ATTACH_ID.match(parent.get("id") or "")
        if m:
            return as_int(m.group(1))
    return aid_from_href(link.get("href"))


def is_smilie(img: etree._Element) -> bool:
    """Discuz smilies carry ``smilieid``; images posted with [img] carry an ``aimg_`` id instead."""
    if img.get("smilieid") is not None:
        return True
    src = img.get("src") or ""
    # X keeps smilies under static/image/smiley/, 7.x under images/smilies/.
    return ("/smiley/" in src or "/smilies/" in src) and not (img.get("id") or "").startswith("aimg_")


def to_text(root: etree._Element) -> str:
    """Plain text of an element: ``br`` and block elements become line breaks, whitespace tidied."""
    return _flatten_text(copy.deepcopy(root))


def _flatten_text(root: etree._Element) -> str:
    """:func:`to_text` of a tree the caller owns (it is changed).

    The breaks are written into the tree's text as markers and the tree is serialised as text once, in
    C: the work per post is a few passes over its elements (none recursive, so thousands of nested tags
    cost nothing more) and a few over its text, whatever its size.
    """
    root.tail = None
    raw = _TEXT(root)
    if _BR in raw or _SOFT_BREAK in raw:  # never in real pages; taken out so that they mean nothing
        for node in root.iter():
            for attr in ("text", "tail"):
                value = getattr(node, attr)
                if value and (_BR in value or _SOFT_BREAK in value):
                    setattr(node, attr, value.replace(_BR, "").replace(_SOFT_BREAK, ""))
    for el in list(root.iterdescendants("script", "style")):
        el.text = None
        for child in list(el):
            el.remove(child)
    # Source line breaks are only whitespace in HTML, except inside <pre>.
    for el in root.iterdescendants("pre", "textarea"):
        for node in el.iter():
            if node.text and "\n" in node.text and isinstance(node.tag, str):
                node.text = node.text.replace("\n", _BR)
            if node is not el and node.tail and "\n" in node.tail:
                node.tail = node.tail.replace("\n", _BR)
    for el in root.iterdescendants("br", "img", *_BLOCK_TAGS):
        tag = el.tag
        if tag == "br":
            el.tail = _BR + el.tail if el.tail else _BR
        elif tag == "img":
            alt = el.get("alt")
            if alt and is_smilie(el):
                alt = alt.replace("\n", _BR)
                el.tail = alt + el.tail if el.tail else alt
        else:
            el.text = _SOFT_BREAK + el.text if el.text else _SOFT_BREAK
            el.tail = _SOFT_BREAK + el.tail if el.tail else _SOFT_BREAK
    # Source line breaks are spaces (\r and \t are, to tidy_text, already).
    text = _TEXT(root).replace("\n", " ")
    if _SOFT_BREAK in text:
        # A block boundary is one line break, however many blocks meet there; <br>s count each.
        text = _BREAK_RUN.sub(_breaks, text)
    return tidy_text(text.replace(_BR, "\n"))


def _breaks(run: re.Match) -> str:
    return "\n" * max(1, run.group(0).count(_BR))


def tidy_text(text: str) -> str:
    """Collapse runs of spaces, strip each line, allow at most one blank line in a row."""
    text = _INLINE_SPACE.sub(" ", text)
    if "\n" in text:
        text = _BLANK_LINES.sub("\n\n", "\n".join([line.strip() for line in text.split("\n")]))
    return text.strip()


def inner_html(el: etree._Element) -> str:
    """The HTML inside ``el`` (not ``el`` itself), as UTF-8 text.

    Serialised in one call: ``el`` is serialised as a bare ``<div>`` (its tag, attributes and leading
    text put back after), and the wrapper cut off. The leading text is kept as it is, unescaped.
    """
    text = el.text or ""
    if not len(el):
        return text.strip()
    tag, attrib = el.tag, dict(el.items())
    try:
        el.tag = tag  # libxml2 names elements of broken markup ``tr<td``, and attributes ``{x``: names
        for name, value in attrib.items():  # lxml refuses to set back (ValueError), so serialise child by child
            el.set(name, value)
    except ValueError:
        return (text + "".join(etree.tostring(child, encoding="unicode", method="html") for child in el)).strip()
    try:
        el.text, el.tag = None, "div"
        el.attrib.clear()
        markup = etree.tostring(el, encoding="unicode", method="html", with_tail=False)
    finally:
        el.text, el.tag = text or None, tag
        el.attrib.update(attrib)
    return (text + markup[len("<div>"):-len("</div>")]).strip()


def _classed(body: etree._Element, tag: str, name: str) -> list:
    """What ``descendant::TAG[has_class(NAME)]`` finds under ``body`` (:data:`_EDIT_NOTES`, :data:`_CODE_BLOCKS`),
    by a walk that stops only at ``tag`` (tested in C), the class tested here: an XPath testing every element's
    class costs more. A list: the caller drops what it finds."""
    found = []
    for el in body.iter(tag):
        cls = el.get("class")
        if el is not body and cls is not None and name in cls and \
                f" {name} " in f" {_CLASS_SPACES.sub(' ', cls)} ":
            found.append(el)
    return found


def clean_message(el: etree._Element, base_url: str) -> Message:
    """Clean one post body element (left untouched: work happens on a copy)."""
    body = copy.deepcopy(el)
    body.tail = None
    remove_jammer(body)
    msg = Message()

    for note in _classed(body, "i", "pstatus"):
        note_text = tidy_text(text_of(note))
        m = EDIT_NOTE.search(note_text)
        if m and msg.edited_note is None:
            msg.edited_note = note_text
            msg.edited_by = m.group("editor")
            msg.edited_at_text = m.group("time")
        _drop_with_following_breaks(note)

    for code in _classed(body, "div", "blockcode"):
        for button in list(code.iterchildren("em")):
            drop(button)

    image_aids: set[int] = set()
    for img in body.iterdescendants("img"):
        if is_smilie(img):
            continue
        url = image_url(img, base_url)
        if url and (any(part in url for part in _ICON_PATHS) or is_quote_arrow(img)):
            url = None
        if url:
            aid_match = _AIMG_ID.match(img.get("id") or "")
            aid = _int(img.get("aid")) or (as_int(aid_match.group(1)) if aid_match else None)
            msg.images.append((url, img.get("alt") or img.get("title") or None, aid))
            if aid is not None:
                image_aids.add(aid)
            img.set("src", url)
        for attr in list(img.attrib):
            if _EVENT_ATTR.match(attr):
                del img.attrib[attr]

    for link in _FILE_LINKS(body):
        if _LINKED_IMAGES(link):
            continue  # an image wrapped in its download link: recorded as the image
        href = join_url(base_url, link.get("href"))
        if href is None:
            continue  # "http://[x": no URL
        aid = link_aid(link)
        if aid is not None and aid in image_aids:
            continue  # an image list's name link (X dl.tattl.attm, 7.x dl.attachimg): the image is recorded
        msg.files.append((href, tidy_text(text_of(link)) or None, aid))

    for el_with_js in _WITH_EVENT_ATTRS(body):
        for attr in list(el_with_js.attrib):
            if _EVENT_ATTR.match(attr):
                del el_with_js.attrib[attr]
    # Discuz makes up element ids per render (aimg_xj5Gt, code_Avz): they would make every fetch of
    # an unchanged post look edited.
    for el_with_id in _WITH_IDS(body):
        if _RANDOM_ID.match(el_with_id.get("id")):
            del el_with_id.attrib["id"]

    msg.html = inner_html(body)

    # The post's own text leaves quoted posts out; they are returned separately. (The copy is ours, and
    # its HTML taken: it is read for its text in place.)
    for quote_div in _QUOTE_BLOCKS(body):
        msg.quotes.append(parse_quote(quote_div))
        drop(quote_div)
    msg.text = _flatten_text(body)
    return msg


def parse_quote(quote_div: etree._Element) -> Quote:
    """Who a ``div.quote`` quotes: author and time from its grey header, pid from the findpost link."""
    quote = Quote()
    block = quote_div.xpath(".//blockquote")  # absent in a mobile div.reply_wrap
    block_el = copy.deepcopy(block[0] if block else quote_div)
    header_link = block_el.xpath("./descendant::a[contains(@href, 'findpost')]")
    if header_link:
        link = header_link[0]
        m = _FINDPOST_PID.search(link.get("href", "").replace("&amp;", "&"))
        quote.pid = as_int(m.group(1)) if m else None
        # X: <font size=2><a findpost><font color=#999>X 发表于 T</font></a></font><br/> before the text;
        # 7.x: <font size=2><font color=#999>X 发表于 T</font> <a findpost><img back.gif></a></font> after it.
        header = link
        while header.getparent() is not None and header.getparent() is not block_el and \
                header.getparent().tag == "font":
            header = header.getparent()
        hm = _QUOTE_HEADER.match(tidy_text(text_of(header)))
        if hm:
            quote.author, quote.time_text = hm.group("author"), hm.group("time")
            _drop_with_following_breaks(header, limit=1)
        else:
            _drop_with_following_breaks(link, limit=1)
    quote.text = _flatten_text(block_el)
    old = _OLD_QUOTE_HEADER.match(quote.text)
    if old:
        quote.author = quote.author or old.group("author")
        quote.time_text = quote.time_text or old.group("time")
        quote.text = quote.text[old.end():].strip()
    return quote


def _drop_with_following_breaks(el: etree._Element, limit: int = 2) -> None:
    """Drop ``el`` and up to ``limit`` ``<br>`` right after it (Discuz puts them after notes and headers)."""
    for _ in range(limit):
        nxt = el.getnext()
        if nxt is None or nxt.tag != "br" or (el.tail or "").strip():
            break
        el.tail = (el.tail or "") + (nxt.tail or "")
        nxt.tail = None
        el.getparent().remove(nxt)
    drop(el)


def _int(value: str | None) -> int | None:
    return as_int(value)


def fragment(html_text: str) -> etree._Element:
    """Parse an HTML snippet into an element (used by tests and the 7.x parser)."""
    return lxml_html.fragment_fromstring(html_text, create_parent="div")


__all__ = ["Message", "clean_message", "text_of", "remove_jammer", "image_url", "to_text", "tidy_text", "inner_html",
           "drop", "EDIT_NOTE", "set_aside", "is_smilie", "is_quote_arrow", "aid_from_href", "link_aid"]
