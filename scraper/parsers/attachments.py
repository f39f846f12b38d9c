"""The facts shown beside each attachment (name, size, downloads, dimensions, upload time, permission)
-> page.attachments.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

The post parsers already put every image and file link of a post in ``page.attachments`` (with the aid where the
markup shows one). This reader finds, in each post's container, what the page prints beside each attachment, by
the ids Discuz gives it (``aimg_AID``, ``aidAID``, ``attach_AID`` and their ``…_menu`` hover tips), and fills those
facts in, matched by (pid, aid). An attachment the page shows that no post parser kept (an image only in a hidden
list or a tip, a paid file) is added; one kept twice under the same aid (an image list's picture and its name link)
is kept once.

X2.5–X3.5 (``forum/discuzcode.htm``)::

    attachinpost, image:  <ignore_js_op><img id="aimg_AID" aid="AID" src="…none.gif" zoomfile="REAL" file="REAL"
                          width="min(width, imagemaxwidth)">
                          <div id="aimg_AID_menu"><p><strong>NAME</strong> <em>(36.75 KB, 下载次数: 3)</em></p>
                          <p><a href="forum.php?mod=attachment&aid=ENC&nothumb=yes">下载附件</a></p>
                          <p class="xg1 y">2025-10-19 18:30 上传</p></div>
    attachinpost, file:   <span id="attach_AID"><a href="forum.php?mod=attachment&aid=ENC">NAME</a>
                          <em>(922 Bytes, 下载次数: 58, 售价: 5 金钱)</em></span> <div id="attach_AID_menu">… 上传</div>
    imagelist (div.pattl): <dl class="tattl attm"> <a id="aidAID">NAME</a> <em>(size, 下载次数: N)</em>
                          <div id="aidAID_menu">… <span class="y">T 上传</span></div> … <img id="aimg_AID" w="REAL WIDTH">
    attachlist (div.pattl): <dl class="tattl"> <p class="attnm"><a id="aidAID">NAME</a></p>
                          <div id="aidAID_menu"><p class="y">T 上传</p></div> <p>922 Bytes, 下载次数: 58</p> [售价]
    unpaid:               the name links ``forum.php?mod=misc&action=attachpay`` instead of the file
    guests (guestviewthumb): ``img.guestviewthumb_cur`` (a thumbnail, click to log in)
    no permission:        ``div.attach_nopermission`` below the message instead of any attachment

7.x (``templates/default/discuzcode.htm``, ``viewthread_node.htm``)::

    attachinpost, image:  <img id="aimg_AID" file="REAL or attachment.php?aid=AID&…&noupdate=yes" width="…">
                          <div class="t_attach" id="aimg_AID_menu"><a title="NAME">下载</a> (8.37 KB)
                          <div class="t_smallfont">2009-09-26 12:18</div></div>
    attachinpost, file:   <span id="attach_AID"><a href="attachment.php?aid=AID…"><strong>NAME</strong></a></span>
                          (603 Bytes) <div id="attach_AID_menu">下载次数: 17 … <div class="t_smallfont">T</div></div>
    postattachlist:       <dl class="t_attachlist [attachimg]"> <a id="aidAID">NAME</a> (size) / <em>(size)</em>
                          <div id="aidAID_menu"><p>下载次数:12</p><p>T</p></div> [<img id="aimg_AID">]
    no permission:        <div class="locked">附件: <em>您所在的用户组无法下载或查看附件</em></div>

Sizes are shown rounded (``sizecount()``: two decimals of KB / MB / GB), so ``size`` is as exact as the unit shown.
Heights are never printed; widths only as ``w`` (X image lists) or as the ``width`` attribute when it is below the
page's ``imagemaxwidth`` (wider images are printed at that width). ``can_view`` is True where the picture (or the
file's entry) is shown, ``can_download`` True where a download link is shown (what the link answers, the page
cannot tell: a guest may still be refused), both False where the page shows a no-permission note, a guest
thumbnail or a buy link instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from ..digits import as_int
from ..items import Attachment, ParsedPage
from ..urls import join_url
from .common import has_class
from .content import image_url, text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .extras import ThreadContext
from .labels import chars, label_re, xpath_contains
from .numbers import figure_value


# One walk of each post's container: the elements that carry an attachment id (the @id test first: it is what
# makes the walk cheap).
_MARKED = etree.XPath(
    "descendant::*[@id][starts-with(@id, 'aimg_') or starts-with(@id, 'aid') or starts-with(@id, 'attach_')]")
# The post's cells (div#post_PID > table > tr > td; a browser's saved copy adds tbody): the author's column (X td.pls,
# 7.x td.postauthor) shows no attachment and is most of a post's elements, so it is not walked.
_CONTENT_CELLS = tuple(
    etree.XPath(f"{path}[not({has_class('pls')} or {has_class('postauthor')})]")
    for path in ("./table/tr/td", "./tr/td", "./table/tbody/tr/td", "./tbody/tr/td"))
# The post's no-permission notes (X div.attach_nopermission, 7.x div.locked), looked for only in posts that show
# attachments (stock templates print the note instead of them; themes may print both).
_NOTES = etree.XPath(
    f"descendant::div[@class][{has_class('attach_nopermission')} or {has_class('locked')}]")
_ATTACHMENT_ID = re.compile(r"^(?P<kind>aimg_|aid|attach_)(?P<aid>\d+)(?P<menu>_menu)?$")
# The list entry of one attachment: X dl.tattl (dl.tattl.attm for images), 7.x dl.t_attachlist (.attachimg).
_LIST_ENTRY = etree.XPath(f"ancestor::dl[{has_class('tattl')} or {has_class('t_attachlist')}][1]")
_IMAGE_ENTRY = re.compile(r"\b(?:attm|attachimg)\b")
_IN_MESSAGE = etree.XPath("ancestor::*[starts-with(@id, 'postmessage_')]")
_LINKS = etree.XPath("descendant-or-self::a[@href]")
# X inline tip: <p><strong>NAME</strong> (a strong inside a link is 7.x's 下载 label); 7.x tip: <a title="NAME">.
_TIP_NAME = etree.XPath("descendant::strong[not(ancestor::a)][1]")
_TIP_TITLE = etree.XPath("descendant::a[@title][1]/@title")
_LINK_TEXT = etree.XPath("descendant::a[1]")
# "T 上传" (X): the text holding the label, the span[title] of a relative time beside it.
_UPLOADED_TEXTS = etree.XPath(f"descendant-or-self::text()[{xpath_contains('上传')}]")
_TITLES = etree.XPath("descendant::span[@title]/@title")
# viewthread.htm's "var imagemaxwidth = '600'": a child of body (7.x) or of div#wp (X); anywhere in themes.
_IMAGEMAXWIDTH_SCRIPTS = etree.XPath("/html/body/script[contains(., 'imagemaxwidth')]/text()"
                                     " | id('wp')/script[contains(., 'imagemaxwidth')]/text()")
_ANY_IMAGEMAXWIDTH_SCRIPTS = etree.XPath("/descendant::script[contains(., 'imagemaxwidth')]/text()")

_SIZE = re.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>Bytes?|KB|MB|GB|TB)\b", re.I)
_UNITS = {"byte": 1, "bytes": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4}
_DOWNLOADS = re.compile(chars("下载次数") + r"\s*[:：]?\s*(\d[\d,]*)")
# X: 售价: 5 枚金钱 (price first); 7.x: 售价: 金钱 5 枚 (the credit's title first).
_PRICE = re.compile(chars("售价") + r"\s*[:：]?\s*[^\d\n]{0,12}?(\d+)")
_UPLOAD_LABEL = label_re("上传")
# 7.x prints the upload time alone ($dateformat $timeformat); relative forms where dgmdate made them.
_SHOWN_TIME = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
    rf"|(?:今天|{chars('昨天')}|前天)\s*\d{{1,2}}:\d{{2}}|\d+\s*(?:秒|{chars('分钟')}|{chars('小时')}|天)前"
    rf"|{chars('半小时前')}|{chars('刚刚')}")
_IMAGEMAXWIDTH = re.compile(r"imagemaxwidth\s*=\s*(?:parseInt\()?\s*['\"]?(\d+)(%?)")
# The post-level notes: 7.x div.locked "附件: 您所在的用户组无法下载或查看附件" / "本帖附件需要回复才可下载或查看".
_ATTACHMENT_NOTE = re.compile(r"^\s*" + chars("附件") + r"\s*[:：]")
# Download links (X forum.php?mod=attachment, 7.x attachment.php) and buy links (action=attachpay).
_DOWNLOAD_HREF = re.compile(r"mod=attachment|attachment\.php\?")
_PAY_HREF = re.compile(r"action=attachpay")


@dataclass
class _Shown:
    """The elements the page marks with one aid, in one post."""

    images: list = field(default_factory=list)  # img#aimg_AID
    links: list = field(default_factory=list)  # a#aidAID (list entries)
    spans: list = field(default_factory=list)  # span#attach_AID (inline files; 7.x image icons)
    menus: list = field(default_factory=list)  # #aimg_AID_menu, #aidAID_menu, #attach_AID_menu
    others: list = field(default_factory=list)  # anything else with the id (themes)


@dataclass
class _Facts:
    name: str | None = None
    kind: str | None = None
    url: str | None = None
    size: int | None = None
    size_text: str | None = None
    downloads: int | None = None
    width: int | None = None
    uploaded_at: datetime | None = None
    uploaded_at_text: str | None = None
    price: int | None = None
    can_view: bool | None = None
    can_download: bool | None = None


def read_attachment_facts(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Fill the facts of ``page.attachments`` from what each post shows beside them (both families).

    Items are matched by (pid, aid); attachments the page shows that the post parsers did not keep are appended;
    two items of one post with the same aid are merged into the first (an image over a link).
    """
    _merge_same_aid(page)
    # The walk below reads only elements whose id is an attachment's (_ATTACHMENT_ID): where the page's index of
    # ids holds no such id, no post has one to read.
    ids = ctx.ids_starting(root, "aimg_", "aid", "attach_")
    if ids is not None and not any(_ATTACHMENT_ID.match(ident) for ident in ids):
        return
    max_width = _MaxWidth(root)
    with_aid = {a.pid for a in page.attachments if a.aid is not None}
    ids_held = ctx.ids_hold(root, "aid", "aimg_")  # the page's answer, the same for every post
    for pid, container in ctx.posts.items():
        shown: dict[int, _Shown] = {}
        # What the walk below finds changes a post's items only where an item of it has an aid already, or where
        # an attachment's URL is found: an img#aimg_AID, or a download / buy link (an ``a`` whose href holds
        # "attach", in the post or in the list entry around an a#aidAID). A post with none of these is not walked.
        if pid not in with_aid:
            if not (ids_held and ctx.facts(page, pid).attachment_ids) \
                    and not ctx.hrefs_hold(page, root, pid, "attach"):
                continue
        for part in _content_cells(container):
            for el in _MARKED(part):
                m = _ATTACHMENT_ID.match(el.get("id") or "")
                if m and as_int(m.group("aid")) is not None:
                    _file_under(shown.setdefault(as_int(m.group("aid")), _Shown()), el, m)
        if not shown:
            continue
        items = [a for a in page.attachments if a.pid == pid]
        for aid, parts in shown.items():
            facts = _read(parts, ctx, max_width)
            item = next((a for a in items if a.aid == aid), None)
            if item is None and facts.url:
                # Kept by the post parser without its aid (a theme's markup): the same file by its URL.
                item = next((a for a in items if a.aid is None and a.url == facts.url), None)
                if item is not None:
                    item.aid = aid
            if item is None:
                if not facts.url:
                    continue  # nothing to link it by (a buy note without a link)
                item = Attachment(pid=pid, url=facts.url, aid=aid, kind=facts.kind or "file")
                page.attachments.append(item)
                items.append(item)
            _apply(item, facts)
        if any(_is_refusal_note(note) for note in _NOTES(container)):
            # The note is what the viewer's group may do: a link a theme still prints would be refused.
            for item in (a for a in items if a.aid is not None):
                item.can_view = item.can_download = False


def _content_cells(container: etree._Element) -> list:
    """The cells of a post's table but its author column; the container itself when it is not the stock table."""
    for path in _CONTENT_CELLS:
        cells = path(container)
        if cells:
            return cells
    return [container]


def _merge_same_aid(page: ParsedPage) -> None:
    """One item per (pid, aid): an image list's picture and its name link are the same attachment."""
    kept: dict[tuple[int, int], Attachment] = {}
    out = []
    for item in page.attachments:
        if item.aid is None:
            out.append(item)
            continue
        first = kept.get((item.pid, item.aid))
        if first is None:
            kept[(item.pid, item.aid)] = item
            out.append(item)
            continue
        if first.kind != "image" and item.kind == "image":
            first.kind, first.url = "image", item.url
        first.name = first.name or item.name
    if len(out) != len(page.attachments):
        page.attachments[:] = out


def _file_under(parts: _Shown, el: etree._Element, m: re.Match) -> None:
    if m.group("menu"):
        parts.menus.append(el)
    elif m.group("kind") == "aimg_" and el.tag == "img":
        parts.images.append(el)
    elif m.group("kind") == "aid" and el.tag == "a":
        parts.links.append(el)
    elif m.group("kind") == "attach_" and el.tag == "span":
        parts.spans.append(el)
    else:
        parts.others.append(el)


def _is_refusal_note(div: etree._Element) -> bool:
    """X ``div.attach_nopermission`` below the message (the same class inside a first post's message is the
    guest tip ``guesttipsinthread``); 7.x ``div.locked`` notes that start with 附件:."""
    classes = f" {div.get('class') or ''} "
    if " attach_nopermission " in classes:
        return not _IN_MESSAGE(div)
    return bool(_ATTACHMENT_NOTE.match(text_of(div)))


def _read(parts: _Shown, ctx: ThreadContext, max_width: _MaxWidth) -> _Facts:
    """What the page shows of one attachment: from its list entry when it has one, else from its tip, span and
    link (7.x prints an inline file's size right after its span)."""
    facts = _Facts()
    holders = []
    for el in parts.links + parts.images:
        holders += [dl for dl in _LIST_ENTRY(el) if dl not in holders]
    info = list(holders) or [*parts.spans, *parts.menus, *parts.links, *parts.others]
    if holders:
        info += [menu for menu in parts.menus if not any(_within(menu, dl) for dl in holders)]
    facts.name = _name(parts)
    texts = []
    for el in info:
        text = text_of(el)
        if el in parts.spans or el in parts.links:
            text += " " + (el.tail or "")
        texts.append(tidy_text(text))
    text = "\n".join(texts)
    scan = text.replace(facts.name, " ") if facts.name else text  # a file name may hold "2 KB" itself
    size = _SIZE.search(scan)
    if size:
        facts.size_text = f"{size.group('num')} {size.group('unit')}"
        value = float(size.group("num").replace(",", ""))
        size_value = figure_value(value * _UNITS[size.group("unit").lower()])  # None for 1e999 KB
        facts.size = round(size_value) if size_value is not None else None
    downloads = _DOWNLOADS.search(scan)
    if downloads:
        facts.downloads = as_int(downloads.group(1).replace(",", ""))
    price = _PRICE.search(scan)
    if price:
        facts.price = as_int(price.group(1))
    facts.uploaded_at_text, exact = _uploaded(info, scan)
    if facts.uploaded_at_text:
        facts.uploaded_at = parse_discuz_time(facts.uploaded_at_text, exact, now=ctx.now, tz=ctx.tz or DEFAULT_TZ)

    shown_image = None
    for img in parts.images:
        url = image_url(img, ctx.url)
        if url:
            shown_image = (img, url)
            break
    downloads_links = [a for el in [*info, *parts.links] for a in _LINKS(el) if _DOWNLOAD_HREF.search(a.get("href"))]
    pay_links = [a for el in [*info, *parts.links] for a in _LINKS(el) if _PAY_HREF.search(a.get("href"))]
    is_image = bool(parts.images) or any(_IMAGE_ENTRY.search(dl.get("class") or "") for dl in holders)
    facts.kind = "image" if is_image else "file"
    # A buy link (action=attachpay) is printed only while this viewer has not paid: whatever else links the
    # file, it is not theirs to download yet.
    unpaid = bool(pay_links)
    if shown_image is not None:
        img, facts.url = shown_image
        facts.width = _width(img, max_width)
        if "guestviewthumb_cur" in (img.get("class") or ""):
            # X guestviewthumb: a thumbnail and "log in to see the picture".
            facts.can_view, facts.can_download = False, False
        else:
            facts.can_view, facts.can_download = True, not unpaid
    elif downloads_links or pay_links:
        facts.url = join_url(ctx.url, (downloads_links or pay_links)[0].get("href").strip())
        # A listed file is seen; a picture shown only as its name and a buy link is not.
        facts.can_view = True if not is_image else (False if unpaid else None)
        facts.can_download = not unpaid
    return facts


def _name(parts: _Shown) -> str | None:
    """The file name: a list entry's link, an inline file's link, the X tip's strong, the 7.x tip's link title,
    the picture's alt (which X fills with the description when there is one: the last resort)."""
    for link in parts.links:
        name = tidy_text(text_of(link))
        if name:
            return name
    for span in parts.spans:
        for link in _LINK_TEXT(span):
            name = tidy_text(text_of(link))
            if name:
                return name
    for menu in parts.menus:
        for strong in _TIP_NAME(menu):
            name = tidy_text(text_of(strong))
            if name:
                return name
        for title in _TIP_TITLE(menu):
            if title.strip():
                return title.strip()
    for img in parts.images:
        name = (img.get("alt") or img.get("title") or "").strip()
        if name:
            return name
    return None


def _uploaded(info: list, text: str) -> tuple[str | None, str | None]:
    """The upload time as shown and the exact time of its ``span[title]`` if any: X "T 上传", 7.x a bare time."""
    for el in info:
        for node in _UPLOADED_TEXTS(el):
            holder = node.getparent()
            if holder is not None and node.is_tail:  # "… </span> 上传": the span's tail, held by the span's parent
                holder = holder.getparent()
            if holder is None:
                continue
            shown = tidy_text(_UPLOAD_LABEL.sub(" ", text_of(holder)))
            titles = _TITLES(holder)
            if shown:
                return shown, titles[0] if titles else None
    m = _SHOWN_TIME.search(text)
    return (tidy_text(m.group(0)), None) if m else (None, None)


class _MaxWidth:
    """The page's ``imagemaxwidth`` (``var imagemaxwidth = '600'`` in the thread page's script), read once when
    an image's ``width`` attribute needs it; ``None`` when the page does not say or gives a percentage."""

    def __init__(self, root: etree._Element):
        self._root = root
        self._read = False
        self._value: int | None = None

    def value(self) -> int | None:
        if not self._read:
            self._read = True
            for script in _IMAGEMAXWIDTH_SCRIPTS(self._root) or _ANY_IMAGEMAXWIDTH_SCRIPTS(self._root):
                m = _IMAGEMAXWIDTH.search(script)
                if m:
                    self._value = (as_int(m.group(1)) or None) if not m.group(2) else None
                    break
        return self._value


def _width(img: etree._Element, max_width: _MaxWidth) -> int | None:
    """The picture's real width: X image lists print it as ``w``; ``width`` is ``min(width, imagemaxwidth)``, so it
    is the real width only below the page's ``imagemaxwidth``."""
    value = (img.get("w") or "").strip()
    if as_int(value):
        return as_int(value)
    value = (img.get("width") or "").strip()
    if as_int(value):
        cap = max_width.value()
        if cap is not None and as_int(value) < cap:
            return as_int(value)
    return None


def _within(el: etree._Element, ancestor: etree._Element) -> bool:
    return any(parent is ancestor for parent in el.iterancestors())


def _apply(item: Attachment, facts: _Facts) -> None:
    """Put what the page showed on ``item``; what the post parser read stays unless the page says better (the
    file name over an alt text, a shown picture over its download link)."""
    if facts.name:
        item.name = facts.name
    if facts.kind == "image" and item.kind != "image" and facts.url:
        item.kind, item.url = "image", facts.url
    for name in ("size", "size_text", "downloads", "width", "uploaded_at", "uploaded_at_text", "price", "can_view",
                 "can_download"):
        value = getattr(facts, name)
        if value is not None:
            setattr(item, name, value)
