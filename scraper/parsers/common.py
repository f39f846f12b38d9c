"""What every Discuz! page parser needs: decoding, version, pager, and special-page detection."""
from __future__ import annotations

import re
from codecs import lookup as codec_lookup

from lxml import etree, html as lxml_html
from parsel import Selector
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from ..items import (
    STATUS_ANTITHEFT, STATUS_CLOSED_SITE, STATUS_FLOOD, STATUS_LOGIN_REQUIRED, STATUS_NO_PERMISSION,
    STATUS_NOT_FOUND, STATUS_PASSWORD, STATUS_SYSTEM_ERROR, STATUS_UNKNOWN,
)
from .content import tidy_text
from .labels import label_pattern, xpath_contains

# GBK and GB2312 pages routinely hold characters only GB18030 defines; Big5 sites use HKSCS ones.
_CHARSET_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
                      "cp936": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs"}
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
_INLINE_SCRIPTS = etree.XPath("/descendant::script[not(@src)]/text()")
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


def by_id_within(node: etree._Element, element_id: str, tags: tuple[str, ...] = ()) -> list:
    """What ``node``'s ``descendant::*[@id=ID]`` finds (of one of ``tags``, if given), through the id index
    when the element indexed is under ``node``; else by walking ``node``."""
    for el in _BY_ID(node, id=element_id):
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


def decode_body(body: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page: HTTP header charset, then ``<meta charset>``/``http-equiv``, then UTF-8, then GB18030.

    Returns ``(text, encoding)``. GBK/GB2312 are read as GB18030 and Big5 as Big5-HKSCS (supersets).
    """
    if isinstance(body, str):
        return body, "unicode"
    # Reading the declarations is w3lib's (Scrapy's own): a BOM, the Content-Type charset, then
    # <meta charset> / http-equiv. Trying them strictly in turn, and the supersets, are ours.
    bom = read_bom(body)[0]
    declared = [bom, http_content_type_encoding(content_type) if content_type else None,
                html_body_declared_encoding(body)]
    candidates = [name for name in declared if name] + ["utf-8", "gb18030"]
    for name in candidates:
        encoding = _normalise_charset(name)
        if not encoding:
            continue
        try:
            return body.decode(encoding), encoding
        except (UnicodeError, LookupError, ValueError):
            continue
    return body.decode("gb18030", errors="replace"), "gb18030"


def _normalise_charset(name: str) -> str | None:
    name = name.strip().lower()
    name = _CHARSET_SUPERSETS.get(name, name)
    try:
        codec = codec_lookup(name)
    except (LookupError, ValueError):
        return None
    # hex, base64, rot13, zlib… are codecs but not text encodings: a page never is one.
    return codec.name if getattr(codec, "_is_text_encoding", True) else None


def make_selector(body: bytes | str, url: str, content_type: str | None = None) -> tuple[Selector, str]:
    """A parsel Selector over the decoded page, and the encoding used."""
    sel, encoding, _ = read_document(body, url, content_type)
    return sel, encoding


def read_document(body: bytes | str, url: str, content_type: str | None = None) -> tuple[Selector, str, bool]:
    """``(selector, encoding, flattened)``: the decoded page parsed once.

    ``flattened`` says the page nested tags deeper than libxml2 goes (it stops reading the whole
    document there): the tags past :data:`MAX_DEPTH` were dropped, their text kept, and the page
    parsed again, so that the rest of the page is read.
    """
    text, encoding = decode_body(body, content_type)
    # A leading space or BOM before the doctype (saved pages) is harmless to lxml; NULs and other control
    # characters are not (lxml refuses them in any text or attribute set later): one pass drops them.
    text = _CONTROL_CHARS.sub("", text).strip()
    root, too_deep = _parse_html(text, url)
    if too_deep:
        root, _ = _parse_html(flatten_deep_tags(text), url)
    return Selector(root=root, type="html", base_url=url), encoding, too_deep


MAX_DEPTH = 1000
_TAG = re.compile(r"<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>")
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                        "source", "track", "wbr"})


def _parse_html(text: str, url: str):
    """The lxml root of ``text`` (as parsel builds it) and whether libxml2 gave up on its depth."""
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    root = etree.fromstring(text.encode("utf-8") or b"<html/>", parser=parser, base_url=url)
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
    """``(fid, tid)`` from the page's inline scripts (``var tid = parseInt('N')``); ``None`` where unset."""
    # Line by line: a regex scanning whole scripts for "[^\n]*fid=" is quadratic in a script's line length.
    scripts = "\n".join(line for text in _INLINE_SCRIPTS(sel.root) if "id" in text
                         for line in text.split("\n") if _ID_ASSIGNMENT.search(line))
    found = []
    for name in ("fid", "tid"):
        m = _SCRIPT_ID[name].search(scripts + "\n")
        found.append(int(m.group(1)) if m and int(m.group(1)) else None)
    return found[0], found[1]


def page_count(sel: Selector, scope: str | list = "/descendant::div[@class='pg' or contains(concat(' ', @class, ' '), ' pg ')]") -> int:
    """Number of pages from a Discuz pager; 1 when there is no pager (Discuz omits it on one page).

    ``scope``: an XPath to the pagers, or the pager elements (lxml) themselves.
    """
    pagers = sel.xpath(scope) if isinstance(scope, str) else [Selector(root=el) for el in scope]
    if not pagers:
        legacy = sel.xpath("/descendant::div[contains(concat(' ', @class, ' '), ' pages ')]")
        if not legacy:
            return 1
        pagers = legacy
    best = 1
    for pager in pagers:
        titles = pager.xpath(".//span/@title").getall()
        for t in titles:
            m = _PAGE_COUNT.search(t)
            if m:
                return int(m.group(1))
        last = pager.xpath("./descendant::a[contains(@class,'last')]/text()").get()
        if last and _DIGITS.search(last):
            best = max(best, int(_DIGITS.findall(last)[-1]))
        # Not the ``em``: in a 7.x ``div.pages`` it is the number of items, not of pages.
        for text in pager.xpath(".//a/text() | .//strong/text()").getall():
            text = text.strip().lstrip(".").strip()
            if text.isdigit():
                best = max(best, int(text))
    return best


def current_page(sel: Selector, default: int = 1, scope: str | list = "/") -> int:
    """The page the pager under ``scope`` marks as current (``strong``), else ``default``.

    ``scope``: an XPath to where the pager is, or the pager elements (lxml) themselves.
    """
    if isinstance(scope, str):
        text = sel.xpath(f"{scope.rstrip('/')}/descendant::div[contains(concat(' ', @class, ' '), ' pg ')]"
                         "/strong/text()").get()
    else:
        text = next((t for pager in scope for t in _STRONG_TEXT(pager)), None)
    return int(text) if text and text.strip().isdigit() else default


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
