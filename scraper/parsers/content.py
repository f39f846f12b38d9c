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
from functools import lru_cache
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
_MARKED_TAGS = frozenset({"br", "img", *_BLOCK_TAGS})  # what _flatten_text writes breaks for
_COMMENT, _PI = etree.Comment, etree.ProcessingInstruction
_EVENT_ATTR = re.compile(r"^on[a-z]+$")
_RANDOM_ID = re.compile(r"^(?:aimg|code)_(?!\d+$)\w+$")
# Line-break markers put into the tree's text before it is serialised as text: Unicode noncharacters,
# which are legal in XML text but never meant to appear in a document.
_BR = "\ufdd0"  # a <br> (or a line break inside <pre>): one line break each
_SOFT_BREAK = "\ufdd1"  # a block element's start or end: one line break, however many meet
_BREAK_RUN = re.compile("[\ufdd0\ufdd1][\ufdd0\ufdd1 \t\r]*")


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


_STRING = etree.XPath("string()")  # text_of's definition
_tostring = etree.tostring


def text_of(el: etree._Element) -> str:
    """All the text under ``el`` (``text_content()`` of lxml.html, for the plain lxml elements the parsers read)."""
    # Without child nodes (len() counts comments too) its text is all there is. Else the string-value that
    # ``string()`` gives (libxml2's content of the node, its text nodes in order), serialised as text without the
    # cost of an XPath call.
    return _tostring(el, method="text", encoding="unicode", with_tail=False) if len(el) else el.text or ""


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


def _flatten_text(root: etree._Element, small: bool = False) -> str:
    """:func:`to_text` of a tree the caller owns (it is changed).

    The breaks are written into the tree's text as markers and the tree is serialised as text once, in
    C: the work per post is a few passes over its elements (none recursive, so thousands of nested tags
    cost nothing more) and a few over its text, whatever its size. ``small`` (from :func:`clean_message`, whose walk
    of the message costs more than this one): a tree whose children have no child nodes of their own is read
    without writing markers (:func:`_flat_text`), and any other is walked once in Python for the elements to mark
    instead of three walks by tag name (each costing more to set up than a post's few elements cost to test here).
    """
    root.tail = None
    raw = _tostring(root, method="text", encoding="unicode", with_tail=False)  # string(): see text_of
    if _BR in raw or _SOFT_BREAK in raw:  # never in real pages; taken out so that they mean nothing
        for node in root.iter():
            for attr in ("text", "tail"):
                value = getattr(node, attr)
                if value and (_BR in value or _SOFT_BREAK in value):
                    setattr(node, attr, value.replace(_BR, "").replace(_SOFT_BREAK, ""))
    if small and not (_BR in raw or _SOFT_BREAK in raw):
        flat = _flat_text(root)
        if flat is not None:
            return _breaks_to_text(flat)
    if small:
        marked, pres = [], []
        for el in root.iterdescendants():
            tag = el.tag
            if tag in _MARKED_TAGS:
                marked.append(el)
                if tag == "pre":
                    pres.append(el)
            elif tag == "textarea":
                pres.append(el)
            elif tag == "script" or tag == "style":
                small = False  # their content goes first, and whatever was under them with it
                break
    if not small:
        for el in list(root.iterdescendants("script", "style")):
            el.text = None
            for child in list(el):
                el.remove(child)
        pres = root.iterdescendants("pre", "textarea")
        marked = root.iterdescendants(*_MARKED_TAGS)
    # Source line breaks are only whitespace in HTML, except inside <pre>.
    for el in pres:
        for node in el.iter():
            if node.text and "\n" in node.text and isinstance(node.tag, str):
                node.text = node.text.replace("\n", _BR)
            if node is not el and node.tail and "\n" in node.tail:
                node.tail = node.tail.replace("\n", _BR)
    for el in marked:
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
    return _breaks_to_text(_tostring(root, method="text", encoding="unicode", with_tail=False))


def _breaks_to_text(marked: str) -> str:
    """The text with break markers in it -> the text with line breaks, tidied."""
    # Source line breaks are spaces (\r and \t are, to tidy_text, already).
    text = marked.replace("\n", " ")
    if _SOFT_BREAK in text:
        # A block boundary is one line break, however many blocks meet there; <br>s count each.
        text = _BREAK_RUN.sub(_breaks, text)
    return tidy_text(text.replace(_BR, "\n"))


def _flat_text(root: etree._Element) -> str | None:
    """The text that :func:`_flatten_text` serialises after writing its markers, for a ``root`` whose children have
    no child nodes of their own (text, ``br``, a link, a font...), read without changing the tree: ``root``'s text,
    then for each child its text with its markers around it, then its tail. ``None`` for any other tree."""
    parts = [root.text or ""]
    for child in root:
        if len(child):
            return None
        tag = child.tag
        if tag.__class__ is str:
            text = child.text
            if tag in _MARKED_TAGS:
                if tag == "br":
                    if text:
                        parts.append(text)
                    parts.append(_BR)
                elif tag == "img":
                    if text:
                        parts.append(text)
                    alt = child.get("alt")
                    if alt and is_smilie(child):
                        parts.append(alt.replace("\n", _BR))
                else:
                    parts.append(_SOFT_BREAK)
                    if text:
                        parts.append(text.replace("\n", _BR) if tag == "pre" else text)
                    parts.append(_SOFT_BREAK)
            elif tag == "textarea":
                if text:
                    parts.append(text.replace("\n", _BR))
            elif text and tag != "script" and tag != "style":
                parts.append(text)
        elif tag is not _COMMENT and tag is not _PI:
            return None  # an entity: to the serialiser
        tail = child.tail
        if tail:
            parts.append(tail)
    return "".join(parts)


def _text_only(el: etree._Element) -> str:
    """:func:`_flatten_text` of an element without child nodes: its text, without markers, tidied."""
    raw = el.text or ""
    if _BR in raw or _SOFT_BREAK in raw:
        raw = raw.replace(_BR, "").replace(_SOFT_BREAK, "")
    return tidy_text(raw.replace("\n", " "))


def _breaks(run: re.Match) -> str:
    return "\n" * max(1, run.group(0).count(_BR))


def tidy_text(text: str) -> str:
    """Collapse runs of spaces, strip each line, allow at most one blank line in a row."""
    # Names, labels, figures and times repeat page after page: short texts are remembered.
    return _tidy_short(text) if len(text) <= 64 else _tidy(text)


def _tidy(text: str) -> str:
    text = _INLINE_SPACE.sub(" ", text)
    if "\n" in text:
        text = _BLANK_LINES.sub("\n\n", "\n".join([line.strip() for line in text.split("\n")]))
    return text.strip()


_tidy_short = lru_cache(maxsize=4096)(_tidy)


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


class _Steps:
    """Which of :func:`clean_message`'s steps can find anything in a message, from one walk of it before any step
    runs. Each test here is the step's own XPath predicate, or a looser one (a class word's letters anywhere in the
    class value); the steps only remove elements, or attributes these tests do not read, so what a step can find
    later is among what the walk saw. A step the walk rules out finds nothing and changes nothing, and is skipped;
    the rest run as they are."""

    __slots__ = ("code_blocks", "edit_notes", "events", "file_links", "ids", "images", "jammer", "quotes")

    def __init__(self, every: bool = False):
        self.code_blocks = self.edit_notes = self.events = self.file_links = self.ids = self.images = every
        self.jammer = self.quotes = every

    @classmethod
    def of(cls, body: etree._Element) -> _Steps | None:
        """The steps for ``body``; ``None`` (every step) once the walk has found both jammer and event attributes
        (a rich message: the XPaths left to rule out cost less than the rest of the walk would). Otherwise the walk
        (about 0.2 us an element) pays for itself: either XPath it rules out costs more per element."""
        jammer = images = edit_notes = code_blocks = quotes = file_links = ids = events = False
        for el in body.iterdescendants():
            tag = el.tag
            if tag.__class__ is not str:
                continue  # comments, processing instructions: no XPath here matches them
            if tag == "script" or tag == "style":  # JAMMER_XPATH: by name alone
                jammer = True
            elif tag == "img":  # the image loop (iterdescendants("img"))
                images = True
            keys = el.keys()
            if not keys:
                continue
            if "class" in keys:
                value = el.get("class")
                if tag == "div":
                    if "attach_nopermission" in value:  # JAMMER_XPATH
                        jammer = True
                    if "blockcode" in value:  # _CODE_BLOCKS
                        code_blocks = True
                    if "quote" in value or "reply_wrap" in value:  # QUOTE_BLOCKS
                        quotes = True
                elif tag == "font":
                    if "jammer" in value:  # JAMMER_XPATH
                        jammer = True
                elif tag == "i":
                    if "pstatus" in value:  # _EDIT_NOTES
                        edit_notes = True
            if "style" in keys:  # JAMMER_XPATH's test of @style, as it is
                value = el.get("style").replace(" ", "")
                if "font-size:0px" in value or "font-size:0;" in value + ";" or "display:none" in value:
                    jammer = True
            if tag == "a" and "href" in keys:  # FILE_LINKS's test, as it is
                value = el.get("href")
                if "mod=attachment" in value or "attachment.php?aid=" in value:
                    file_links = True
            if "id" in keys:  # _WITH_IDS
                ids = True
            if not events:
                # _WITH_EVENT_ATTRS: starts-with(name(), 'on'). Looser: "on" anywhere in the names (a namespaced
                # name, {uri}name, goes to the XPath too).
                names = "".join(keys)
                if "on" in names or "{" in names:
                    events = True
                    if jammer:
                        return None
            elif jammer:
                return None
        steps = cls()
        steps.jammer, steps.images, steps.edit_notes, steps.code_blocks = jammer, images, edit_notes, code_blocks
        steps.quotes, steps.file_links, steps.ids, steps.events = quotes, file_links, ids, events
        return steps


_EVERY_STEP = _Steps(every=True)


def clean_message(el: etree._Element, base_url: str) -> Message:
    """Clean one post body element (left untouched: work happens on a copy)."""
    if not len(el):  # text alone (no child nodes): nothing to clean, no copy needed
        return Message(text=_text_only(el), html=inner_html(el))
    return _clean_message(el, base_url, walk=True)


def _clean_message(el: etree._Element, base_url: str, *, walk: bool) -> Message:
    """:func:`clean_message`; ``walk=False`` runs every step (the long way, as tests compare)."""
    body = copy.deepcopy(el)
    body.tail = None
    found = _Steps.of(body) if walk else None
    steps = found or _EVERY_STEP
    if steps.jammer:
        remove_jammer(body)
    msg = Message()

    if steps.edit_notes:
        for note in _classed(body, "i", "pstatus"):
            note_text = tidy_text(text_of(note))
            m = EDIT_NOTE.search(note_text)
            if m and msg.edited_note is None:
                msg.edited_note = note_text
                msg.edited_by = m.group("editor")
                msg.edited_at_text = m.group("time")
            _drop_with_following_breaks(note)

    if steps.code_blocks:
        for code in _classed(body, "div", "blockcode"):
            for button in list(code.iterchildren("em")):
                drop(button)

    image_aids: set[int] = set()
    if steps.images:
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

    if steps.file_links:
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

    if steps.events:
        for el_with_js in _WITH_EVENT_ATTRS(body):
            for attr in list(el_with_js.attrib):
                if _EVENT_ATTR.match(attr):
                    del el_with_js.attrib[attr]
    # Discuz makes up element ids per render (aimg_xj5Gt, code_Avz): they would make every fetch of
    # an unchanged post look edited.
    if steps.ids:
        for el_with_id in _WITH_IDS(body):
            if _RANDOM_ID.match(el_with_id.get("id")):
                del el_with_id.attrib["id"]

    msg.html = inner_html(body)

    # The post's own text leaves quoted posts out; they are returned separately. (The copy is ours, and
    # its HTML taken: it is read for its text in place.)
    if steps.quotes:
        for quote_div in _QUOTE_BLOCKS(body):
            msg.quotes.append(parse_quote(quote_div, small=found is not None))
            drop(quote_div)
    msg.text = _flatten_text(body, small=found is not None)
    return msg


def parse_quote(quote_div: etree._Element, small: bool = False) -> Quote:
    """Who a ``div.quote`` quotes: author and time from its grey header, pid from the findpost link. ``small``:
    the quote has few elements (see :func:`_flatten_text`)."""
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
    quote.text = _flatten_text(block_el, small)
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
