"""What every Discuz! page parser needs: decoding, version, pager, and special-page detection."""
from __future__ import annotations

import re
from codecs import lookup as codec_lookup
from functools import lru_cache

from lxml import etree
from parsel import Selector
from w3lib.encoding import http_content_type_encoding, read_bom, resolve_encoding

from ..digits import as_int
from ..items import (
    STATUS_ANTITHEFT, STATUS_CLOSED_SITE, STATUS_FLOOD, STATUS_LOGIN_REQUIRED, STATUS_NO_PERMISSION,
    STATUS_NOT_FOUND, STATUS_PASSWORD, STATUS_SYSTEM_ERROR, STATUS_UNKNOWN,
)
from .content import tidy_text
from .labels import label_pattern, xpath_contains

_VERSION_IN_GENERATOR = re.compile(r"Discuz!?\s*(X?\s*[\d.]+[A-Za-z]*)", re.I)
_PAGE_COUNT = label_pattern(r"共\s*(\d+)\s*页")  # 共 N 页 / 共 N 頁
_DIGITS = re.compile(r"\d+")
# C0 controls but tab, line feed and carriage return, and the non-characters XML forbids.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The ids every Discuz generation sets in an inline script: X ``fid = parseInt('49'), tid = parseInt('7')``,
# 5.5–7.x ``var fid = parseInt('35');var tid = parseInt('36567');``.
_SCRIPT_ID = {name: re.compile(rf"\b{name}\s*=\s*(?:parseInt\(\s*)?['\"]?(\d+)['\"]?\s*\)?\s*[,;\n]")
              for name in ("fid", "tid")}
_ID_ASSIGNMENT = re.compile(r"\b[ft]id\s*=")
_SCRIPT_TEXTS = etree.XPath("text()")
_BY_ID = etree.XPath("id($id)")
_STRONG_TEXT = etree.XPath("./strong/text()")
_ID_WALK = etree.XPath("/descendant::*[@id=$id]")
_ID_WALK_WITHIN = etree.XPath("descendant::*[@id=$id]")
_GENERATOR = "meta[translate(@name,'GENRATO','genrato')='generator']/@content"
_HEAD_GENERATOR = etree.XPath("/html/head/" + _GENERATOR)
_ANY_GENERATOR = etree.XPath("/descendant::" + _GENERATOR)
_FOOTERS = (("frt", "div"), ("copyright", "p"), ("footlinks", "div"))
# The footers' version text, found through the id index (in page order, as a union is)...
_FOOTER_VERSION = etree.XPath(" | ".join(f"id('{i}')[self::{tag}]/descendant::em/text()" for i, tag in _FOOTERS))
# ... or, when the index holds none of them as those tags, by walking the page.
_FOOTER_VERSION_WALK = etree.XPath(" | ".join(f"/descendant::{tag}[@id='{i}']/descendant::em/text()"
                                              for i, tag in _FOOTERS))


def has_class(name: str) -> str:
    """An XPath predicate body: the element's class list holds ``name`` (``class="pcb mbm"`` holds ``pcb``)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# What XPath's normalize-space() collapses: XML white space only (not U+3000 or U+00A0, which str.split() takes).
_XML_SPACES = re.compile(r"[ \t\r\n]+")


def class_holds(el: etree._Element, name: str) -> bool:
    """What :func:`has_class` tests, in Python (for walks that stop at a few tags and test their class here
    instead of an XPath testing every element's attributes)."""
    cls = el.get("class")
    return cls is not None and name in cls and f" {name} " in f" {_XML_SPACES.sub(' ', cls)} "


def by_id(root: etree._Element, element_id: str, tag: str | None = None) -> list:
    """What ``//TAG[@id=ID]`` finds, from the document's index of ids: one lookup, not a walk of the page.

    libxml2 indexes the first element with each id; when that one is not a ``tag`` (or the index has
    no such id), the page is walked as the XPath would. An id repeated on elements of the same tag
    gives the first of them only.
    """
    for el in _BY_ID(root, id=element_id):
        if el.get("id") == element_id and (tag is None or el.tag == tag):
            return [el]
    return [el for el in _ID_WALK(root, id=element_id) if tag is None or el.tag == tag]


def ids_indexed(root: etree._Element, element_ids) -> dict:
    """id -> the element the document's id index holds for it, for each of ``element_ids`` it holds: what one
    ``id(ID)`` call each would find, from one ``id('A B C …')`` call (an XPath call costs more than its look-ups)."""
    wanted = " ".join(element_ids)
    found: dict = {}
    for el in _BY_ID(root, id=wanted) if wanted else ():
        found.setdefault(el.get("id"), el)
    return found


def by_id_within(node: etree._Element, element_id: str, tags: tuple[str, ...] = (), indexed: dict | None = None) -> list:
    """What ``node``'s ``descendant::*[@id=ID]`` finds (of one of ``tags``, if given), through the id index
    when the element indexed is under ``node``; else by walking ``node``. ``indexed``: :func:`ids_indexed` of
    the page for a set of ids that includes ``element_id``, looked up instead of the index."""
    for el in (() if element_id not in indexed else (indexed[element_id],)) if indexed is not None \
            else _BY_ID(node, id=element_id):
        if el.get("id") == element_id and (not tags or el.tag in tags):
            parent = el.getparent()
            while parent is not None:
                if parent is node:
                    return [el]
                parent = parent.getparent()
    return [el for el in _ID_WALK_WITHIN(node, id=element_id) if not tags or el.tag in tags]


# showmessage() texts (lang_message.php) -> page state, most specific first; both scripts (尚未登录 / 尚未登錄):
# see .labels.
_MESSAGE_STATES: tuple[tuple[re.Pattern, str], ...] = (
    (label_pattern(r"不存在|已被删除|正在被审核|已经被删除|不存在或已"), STATUS_NOT_FOUND),
    (label_pattern(r"密码"), STATUS_PASSWORD),
    (label_pattern(r"尚未登录|请先登录|需要登录|登录后|未登录|没有登录|尚未登入|请先登入|需要登入|未登入|login", re.I),
     STATUS_LOGIN_REQUIRED),
    (label_pattern(r"刷新过于频繁|请求过快|过于频繁|防灌水|稍后再|秒后再"), STATUS_FLOOD),
    (label_pattern(r"站点.*关闭|论坛.*关闭|暂时关闭|维护"), STATUS_CLOSED_SITE),
    (label_pattern(r"权限|用户组|无法进行此操作|没有权限|禁止|不允许|特定用户"), STATUS_NO_PERMISSION),
)
# discuz_error::show_error(): <div id="container"><h1>Discuz! System Error</h1><div class='info'><li>…</li></div>.
_SYSTEM_ERROR = "/descendant::div[@id='container']/h1[starts-with(normalize-space(.), 'Discuz!') and contains(., 'Error')]"
# X3.x moderator panel (forum/modcp*.htm) shown to someone who moderates nothing: "抱歉，您无此权限！" in its h1.
_PANEL_REFUSAL = ("/descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' mdcp ')]"
                  f"[{xpath_contains('无此权限')}]")
_PANEL_REFUSAL_HEADING = f"./descendant::h1[{xpath_contains('无此权限')}]"
_ANTITHEFT = re.compile(r"_dsign|window\[\s*['\"]?_\w+|location\.href\s*=\s*_\w+", re.I)


# GBK and GB2312 pages routinely hold characters only GB18030 defines; Big5 sites use HKSCS ones.
_CHARSET_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
                      "cp936": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs"}
# Python codecs that decode text but that no web page is written in (the WHATWG Encoding Standard has no label for
# them; ``undefined`` refuses every byte): a page that declares one is read as if it declared nothing.
_NOT_PAGE_ENCODINGS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape",
                                 "charmap", "utf-7"})
# Where a page declares its charset: <meta charset>, <meta http-equiv="Content-Type" content="…; charset=…">,
# <?xml … encoding=…?> (inajax answers); in the first 4 KB, as the WHATWG prescan (and w3lib) reads them, skipping
# comments. Every one is tried in page order: a browser skips a label that names no encoding (charset="", "hex").
_MARKUP_CHARSET = re.compile(rb"<!--.*?(?:-->|$)"
                             rb"|<meta\s[^>]*?charset\s*=\s*[\"']?\s*([^\s\"'/>;]*)"
                             rb"|<\?xml\s[^>]*?encoding\s*=\s*[\"']?\s*([^\s\"'?>]*)", re.I | re.S)
_PRESCAN_BYTES = 4096
# The hanzi that fill most of any Chinese page, in both scripts: the most frequent characters of running text and
# of Discuz's own labels (帖子, 回复, 论坛, 发表于…). A page read in the wrong one of GB18030 and Big5 shows almost
# none of them (each reading puts the other's bytes on rare characters, kana or private-use points).
_COMMON_HANZI = re.compile("[" + "".join(sorted(set(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所"
    "然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日"
    "這個們來為國說時會對於著過發後裡種經麼學現當沒動還進樣實從開"
    "帖回复论坛楼表版块页题查积注册登录搜索员精华顶热门最新用户资料贴层级消息"
    "覆論壇樓塊頁題積註冊錄員華頂熱門戶資貼層級訊"))) + "]")


def decode_body(body: bytes | str, content_type: str | None = None,
                hint: str | None = None) -> tuple[str, str]:
    """Decode a page as a browser would; returns ``(text, encoding)``.

    A byte-order mark decides alone. Otherwise the first of these that reads the bytes whole: the HTTP
    ``Content-Type`` charset, the page's first ``<meta charset>``/``http-equiv``/``<?xml encoding>`` that
    names a text encoding, ``hint`` (what the site's other pages were written in), UTF-8. A declaration that
    is no text encoding (``charset=hex``, ``base64``, ``foo``, empty) counts as none; UTF-16/32 is believed
    only where the bytes look like it. When none reads the bytes whole (a page cut short, bytes spliced in,
    an undeclared GBK or Big5 page), each of those, GB18030 and Big5 reads them with replacement characters
    and the reading that shows the most common hanzi against its undecodable bytes wins (4 points a hanzi,
    less 1 a replacement; earlier ones on a tie). GBK/GB2312 are read as GB18030 and Big5 as Big5-HKSCS
    (supersets). Never raises.
    """
    if isinstance(body, str):
        return body, "unicode"
    bom_encoding, bom = read_bom(body)
    if bom_encoding and (encoding := _normalise_charset(bom_encoding)):
        return body[len(bom):].decode(encoding, errors="replace"), encoding
    tried: list[str] = []
    for name in _charsets_to_try(body, content_type, hint):
        encoding = _normalise_charset(name)
        if not encoding or encoding in tried or not _plausible(encoding, body):
            continue
        tried.append(encoding)
        try:
            return body.decode(encoding), encoding
        except UnicodeError:
            continue
    best: tuple[int, str, str] | None = None
    for encoding in (*tried, *(e for e in ("gb18030", "big5hkscs") if e not in tried)):
        text = body.decode(encoding, errors="replace")
        score = 4 * len(_COMMON_HANZI.findall(text)) - text.count("\ufffd")
        if best is None or score > best[0]:
            best = (score, text, encoding)
    return best[1], best[2]


def usable_charset(name: str | None) -> bool:
    """Whether a page can be decoded in the charset ``name`` (a text encoding a web page can be written in)."""
    return _normalise_charset(name) is not None


def _charsets_to_try(body: bytes, content_type: str | None, hint: str | None):
    """The labels :func:`decode_body` tries in turn; each looked for only when the ones before failed."""
    # Reading the Content-Type is w3lib's (Scrapy's own); which declarations count, and the order, are ours.
    yield http_content_type_encoding(content_type) if content_type else None
    yield _markup_charset(body)
    yield hint
    yield "utf-8"


def _markup_charset(body: bytes) -> str | None:
    """The first charset the page's markup declares that names a text encoding, else ``None``."""
    for m in _MARKUP_CHARSET.finditer(body, 0, _PRESCAN_BYTES):
        label = m.group(1) or m.group(2)
        if label and (encoding := _normalise_charset(label.decode("latin-1"))):
            return encoding
    return None


def _plausible(encoding: str, body: bytes) -> bool:
    """UTF-16/32 markup holds NUL bytes among its first ones; a page without them is not written in it."""
    return not encoding.startswith(("utf-16", "utf-32")) or b"\x00" in body[:64]


@lru_cache(maxsize=256)
def _normalise_charset(name: str | None) -> str | None:
    """The Python codec a charset label stands for (WHATWG aliases, supersets), or ``None`` when it names no
    encoding a page can be written in."""
    if not name:
        return None
    name = name.strip().lower()
    try:
        resolved = resolve_encoding(_CHARSET_SUPERSETS.get(name, name))  # latin1 → cp1252; no UTF-7
        codec = codec_lookup(_CHARSET_SUPERSETS.get(resolved, resolved)) if resolved else None
    except (LookupError, ValueError):
        return None
    # hex, base64, rot13, zlib… are codecs but not text encodings: a page never is one.
    if codec is None or not getattr(codec, "_is_text_encoding", True) or codec.name in _NOT_PAGE_ENCODINGS:
        return None
    return _CHARSET_SUPERSETS.get(codec.name, codec.name)


def make_selector(body: bytes | str, url: str, content_type: str | None = None,
                  charset_hint: str | None = None) -> tuple[Selector, str]:
    """A parsel Selector over the decoded page, and the encoding used."""
    sel, encoding, _ = read_document(body, url, content_type, charset_hint)
    return sel, encoding


def read_document(body: bytes | str, url: str, content_type: str | None = None,
                  charset_hint: str | None = None) -> tuple[Selector, str, bool]:
    """``(selector, encoding, flattened)``: the decoded page parsed once.

    ``charset_hint`` is the charset the site's other pages were read in (see :func:`decode_body`).
    ``flattened`` says the page nested tags deeper than libxml2 goes (it stops reading the whole
    document there): the tags past :data:`MAX_DEPTH` were dropped, their text kept, and the page
    parsed again, so that the rest of the page is read.
    """
    text, encoding = decode_body(body, content_type, charset_hint)
    data = _clean_utf8(body) if encoding == "utf-8" and isinstance(body, bytes) else None
    if data is not None:
        # The bytes are already what the cleaned text below would be encoded back to: parse them as they are.
        root, too_deep = _parse_utf8(data, url)
        text = text.strip() if too_deep else text
    else:
        # A leading space or BOM before the doctype (saved pages) is harmless to lxml; NULs and other control
        # characters are not (lxml refuses them in any text or attribute set later): one pass drops them.
        text = _CONTROL_CHARS.sub("", text).strip()
        root, too_deep = _parse_html(text, url)
    if too_deep:
        root, _ = _parse_html(flatten_deep_tags(text), url)
    return PageSelector(root=root, type="html", base_url=url), encoding, too_deep


class PageSelector(Selector):
    """parsel's ``Selector`` (the selectors its ``xpath()`` gives are of this class too), whose ``attrib`` also
    reads an element of broken markup: libxml2 makes attribute names of whatever stands in a tag (``{x=``),
    and ``dict(el.attrib)``, parsel's ``attrib``, raises on a name lxml reads as ``{namespace}``."""

    __slots__ = ()

    @property
    def attrib(self) -> dict[str, str]:
        return dict(self.root.items()) if self.type != "json" else {}


MAX_DEPTH = 1000
_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                        "source", "track", "wbr"})


def _clean_utf8(body: bytes) -> bytes | None:
    """``body`` (bytes that read whole as UTF-8) as :func:`read_document` would encode its cleaned text back, when
    that is a plain cut of it: without the ASCII white space at either end, when what is left begins and ends with
    an ASCII character (where ``str.strip`` stops; a BOM or a non-ASCII space there is not decided here) and
    holds no character of :data:`_CONTROL_CHARS` (in UTF-8 a C0 control is its own byte, U+FFFE/U+FFFF are
    ``EF BF BE/BF``). Else ``None``."""
    data = body.strip(_ASCII_SPACE)
    if not data or data[0] >= 0x80 or data[-1] >= 0x80 or _NONCHARACTERS.search(data):
        return None
    # One memchr per control byte (vectorised, a few instructions per 32 bytes): far cheaper than a regex or
    # bytes.translate over the page.
    return None if any(control in data for control in _C0_CONTROLS) else data


# U+FFFE and U+FFFF in UTF-8: one regex (its literal prefix found by a fast scan) costs a fifth of two
# ``bytes in`` tests, which stumble on every EF lead byte of the page's full-width punctuation.
_NONCHARACTERS = re.compile(rb"\xef\xbf[\xbe\xbf]")
# What str.strip() strips among ASCII characters, and the C0 controls of _CONTROL_CHARS.
_ASCII_SPACE = bytes(c for c in range(0x80) if chr(c).isspace())
_C0_CONTROLS = tuple(bytes([c]) for c in range(0x20) if _CONTROL_CHARS.match(chr(c)))


def _parse_html(text: str, url: str):
    """The lxml root of ``text`` (as parsel builds it) and whether libxml2 gave up on its depth."""
    return _parse_utf8(text.encode("utf-8"), url)


def _parse_utf8(data: bytes, url: str):
    """The lxml root of the UTF-8 page ``data`` and whether libxml2 gave up on its depth."""
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    root = etree.fromstring(data or b"<html/>", parser=parser, base_url=url)
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser, base_url=url)
    too_deep = any("Excessive depth" in error.message for error in parser.error_log)
    return root, too_deep


def flatten_deep_tags(text: str, limit: int = MAX_DEPTH) -> str:
    """``text`` without the tags opened below ``limit`` levels (and their closing tags); one pass."""
    out: list[str] = []
    depth = 0
    dropped: dict[str, int] = {}
    last = 0
    for m in _TAG.finditer(text):
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if name in _VOID_TAGS or self_closing:
            continue
        drop = False
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
                drop = True
            depth = max(0, depth - 1) if not drop else depth
        elif depth >= limit:
            dropped[name] = dropped.get(name, 0) + 1
            drop = True
        else:
            depth += 1
        if drop:
            out.append(text[last:m.start()])
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def detect_version(sel: Selector) -> str | None:
    """The Discuz version the page says it is (``X3.4``, ``7.2``…), from the generator meta or footer."""
    root = sel.root
    for generators in (_HEAD_GENERATOR, _ANY_GENERATOR):  # where it belongs first, then anywhere
        for text in generators(root):
            m = _VERSION_IN_GENERATOR.search(text)
            if m:
                return m.group(1).replace(" ", "")
    footer = _FOOTER_VERSION(root) or _FOOTER_VERSION_WALK(root)
    if footer:
        m = re.search(r"X?\s*\d+(?:\.\d+)+", footer[0])
        if m:
            return m.group(0).replace(" ", "")
    return None


def script_ids(sel: Selector) -> tuple[int | None, int | None]:
    """``(fid, tid)`` from the page's inline scripts (``var tid = parseInt('N')``); ``None`` where unset.

    The first assignment of each in document order: the lines that assign either, of every inline script, are
    joined and searched; the walk of the page's scripts stops once both are found (a match in the lines read so
    far is the match in all of them: a line ends in a line feed, so no later text can make an earlier one), which
    on a Discuz page is in its head, long before the posts."""
    root = (sel.root if isinstance(sel, Selector) else sel).getroottree().getroot()
    # Line by line: a regex scanning whole scripts for "[^\n]*fid=" is quadratic in a script's line length.
    # A script with no assignment anywhere has none on any line: it is not split.
    lines: list[str] = []
    found: dict[str, re.Match | None] = {"fid": None, "tid": None}
    for script in root.iter("script"):
        if script.get("src") is not None:
            continue
        # A script's text is one text node (libxml2 joins adjacent ones); any child: its text nodes by XPath.
        texts = (script.text,) if not len(script) else _SCRIPT_TEXTS(script)
        added = False
        for text in texts:
            if text and "id" in text and _ID_ASSIGNMENT.search(text):
                for line in text.split("\n"):
                    if _ID_ASSIGNMENT.search(line):
                        lines.append(line)
                        added = True
        if added:
            joined = "\n".join(lines) + "\n"
            for name in found:
                found[name] = _SCRIPT_ID[name].search(joined)
            if found["fid"] and found["tid"]:
                break
    return tuple((as_int(m.group(1)) or None) if m else None for m in found.values())


_PAGERS_AT = lru_cache(maxsize=32)(etree.XPath)  # the few scopes page_count is given, compiled once
_LEGACY_PAGERS = etree.XPath("/descendant::div[contains(concat(' ', @class, ' '), ' pages ')]")
_PAGER_TITLES = etree.XPath(".//span/@title", smart_strings=False)
_PAGER_LAST_TEXTS = etree.XPath("./descendant::a[contains(@class,'last')]/text()", smart_strings=False)
_PAGER_NUMBER_TEXTS = etree.XPath(".//a/text() | .//strong/text()", smart_strings=False)


def page_count(sel: Selector, scope: str | list = "/descendant::div[@class='pg' or contains(concat(' ', @class, ' '), ' pg ')]",
               legacy: list | None = None) -> int:
    """Number of pages from a Discuz pager; 1 when there is no pager (Discuz omits it on one page).

    ``scope``: an XPath to the pagers, or the pager elements (lxml) themselves. Where it finds none, the page's
    7.x pagers (``div.pages``) are read: ``legacy``, where the caller has them (what the walk below finds).
    """
    # The pagers' lxml elements, read with compiled XPaths (no Selector per pager).
    root = sel.root if isinstance(sel, Selector) else sel
    pagers = _PAGERS_AT(scope)(root) if isinstance(scope, str) else list(scope)
    if not pagers:
        # What _LEGACY_PAGERS finds, by a walk that stops only at divs (cheaper than its test of every div).
        pagers = [div for div in root.getroottree().getroot().iter("div") if is_legacy_pager(div)] \
            if legacy is None else legacy
        if not pagers:
            return 1
    best = 1
    for pager in pagers:
        for t in _PAGER_TITLES(pager):
            m = _PAGE_COUNT.search(t)
            if m and as_int(m.group(1)):
                return as_int(m.group(1))
        last = _PAGER_LAST_TEXTS(pager)
        last = last[0] if last else None
        if last and _DIGITS.search(last):
            best = max(best, as_int(_DIGITS.findall(last)[-1]) or 1)
        # Not the ``em``: in a 7.x ``div.pages`` it is the number of items, not of pages.
        for text in _PAGER_NUMBER_TEXTS(pager):
            text = text.strip().lstrip(".").strip()
            if as_int(text):
                best = max(best, as_int(text))
    return best


def is_legacy_pager(div: etree._Element) -> bool:
    """Whether ``div`` is what :data:`_LEGACY_PAGERS` finds (a 7.x pager): its class holds ``pages`` between spaces."""
    cls = div.get("class", "")
    return "pages" in cls and " pages " in f" {cls} "


def current_page(sel: Selector, default: int = 1, scope: str | list = "/") -> int:
    """The page the pager under ``scope`` marks as current (``strong``), else ``default``.

    ``scope``: an XPath to where the pager is, or the pager elements (lxml) themselves.
    """
    if isinstance(scope, str):
        text = sel.xpath(f"{scope.rstrip('/')}/descendant::div[contains(concat(' ', @class, ' '), ' pg ')]"
                         "/strong/text()").get()
    else:
        text = next((t for pager in scope for t in _STRONG_TEXT(pager)), None)
    return (as_int(text.strip()) if text else None) or default


def special_status(sel: Selector, raw_text: str) -> tuple[str, str] | None:
    """``(status, message)`` when the page is a showmessage()/anti-theft/system-error page, else ``None``."""
    error = sel.xpath(_SYSTEM_ERROR)
    if error:
        info = tidy_text(" ".join(error[0].xpath("following-sibling::div[contains(@class, 'info')][1]//li//text()"
                                                 " | following-sibling::div[contains(@class, 'info')][1]/text()").getall()))
        return STATUS_SYSTEM_ERROR, info or tidy_text(error[0].xpath("string()").get())
    refusal = sel.xpath(_PANEL_REFUSAL)
    if refusal:
        heading = refusal[0].xpath(_PANEL_REFUSAL_HEADING)
        return STATUS_NO_PERMISSION, tidy_text((heading or refusal)[0].xpath("string()").get())
    message = sel.xpath("/descendant::div[@id='messagetext']")
    if not message:
        message = sel.xpath("/descendant::div[contains(concat(' ', @class, ' '), ' alert_error ')]"
                            " | /descendant::div[contains(concat(' ', @class, ' '), ' alert_info ')]"
                            " | /descendant::div[contains(concat(' ', @class, ' '), ' box ') and contains(@class, 'message')]")
    if message:
        text = tidy_text(" ".join(message[0].xpath("./descendant::p[not(contains(@class,'alert_btnleft'))]//text()").getall())
                         or " ".join(message[0].xpath("./descendant::text()[not(parent::script)]").getall()))
        return classify_message(text), text
    if sel.xpath("/descendant::div[@id='postlist'] | /descendant::table[@id='threadlisttableid'] | /descendant::div[@id='ct']"):
        return None
    body_text = tidy_text(" ".join(sel.xpath("//body/descendant::text()[not(parent::script)]").getall()))
    if _ANTITHEFT.search(raw_text) and len(body_text) < 200:
        return STATUS_ANTITHEFT, "anti-theft JavaScript challenge (helper_antitheft)"
    return None


def classify_message(text: str) -> str:
    """Map a showmessage() text to a page state."""
    for pattern, status in _MESSAGE_STATES:
        if pattern.search(text):
            return status
    return STATUS_UNKNOWN


def type_prefix(elements) -> str | None:
    """The thread type/sort shown before a title (``[盐都杂谈]``), from its link or ``em`` (Selectors or lxml
    elements); ``None`` if empty."""
    if not elements:
        return None
    first = elements[0].root if isinstance(elements[0], Selector) else elements[0]
    text = tidy_text(first.xpath("string()")).strip("[]")
    return f"[{text}]" if text else None
