"""Forum list pages (``forumdisplay``) -> the forum, its sub-forums, and the threads listed.

Rows are ``tbody#normalthread_TID`` / ``tbody#stickthread_TID`` (``forum_forumdisplay.php``);
announcements and the separator have other ids and are skipped. Global stickies repeat on
every forum's first page, so a thread's fid is not taken from the list it appears on.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import Forum, ParsedPage, Thread
from ..urls import GID_IN_HREF, classify, fid_in_href, uid_from_href
from .common import class_holds, current_page, page_count, script_ids, type_prefix
from .content import text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .index import forum_row_counts
from .numbers import parse_int

THREAD_ROWS = "/descendant::tbody[starts-with(@id, 'normalthread_') or starts-with(@id, 'stickthread_')]"
_ROW_TID = re.compile(r"^(?:normal|stick)thread_(\d+)$")
# A sticky of this forum (displayorder 1): X3.4 ``img[src*=pin_1]``, X3.5 the icon font ``i.tpin.tpin1``.
_FORUM_STICKY_ICON = ("./descendant::img[contains(@src, 'pin_1')]"
                      " | ./descendant::i[contains(concat(' ', normalize-space(@class), ' '), ' tpin1 ')]")
# X3.4 ``img[src*=digest_]``, X3.5 the badge ``<span class="tbox tdigest">精华1</span>``.
_DIGEST_MARK = ("./descendant::img[contains(@src, 'digest_') or @alt='digest']"
                " | .//th/descendant::span[contains(concat(' ', normalize-space(@class), ' '), ' tdigest ')]")


_X_IS_FORUM_PAGE = etree.XPath("boolean(/descendant::table[@id='threadlisttableid'] | " + THREAD_ROWS + ")")
_X_SUBFORUM_LINKS = etree.XPath("/descendant::div[starts-with(@id, 'subforum_')]//td//h2/a")
_X_CRUMB_LINKS = etree.XPath("/descendant::div[@id='pt']//a")
_X_H1_FORUM_NAME = etree.XPath("string(//h1/descendant::a[contains(@href, 'fid=') or contains(@href, 'forum-')])")
_X_BM_H_FORUM_NAME = etree.XPath("string(/descendant::div[contains(@class, 'bm_h')]//h1/a)")


def is_forum_page(sel: Selector) -> bool:
    """Whether the page is a Discuz! X thread list."""
    return _X_IS_FORUM_PAGE(sel.root)


def parse_forum_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                     fetched_at: datetime | None = None, resolve=None) -> ParsedPage:
    """Parse a ``forumdisplay`` page: the forum (with its parent), sub-forums, thread rows, page count.

    ``resolve(href)`` reads forum links in a site's own spelling (see :func:`scraper.urls.fid_in_href`).
    """
    target = classify(url)
    page = ParsedPage(url=url, kind="forumdisplay", fetched_at=fetched_at)
    forum, parents = _forum_from_breadcrumb(sel, target.fid, resolve)
    page.fid = forum.fid if forum else target.fid
    page.page = current_page(sel, target.page, "/descendant::span[@id='fd_page_top']")
    page.pages = page_count(sel, "/descendant::span[@id='fd_page_top']/descendant::div[contains(concat(' ', @class, ' '), ' pg ')]"
                                 " | /descendant::span[@id='fd_page_bottom']/descendant::div[contains(concat(' ', @class, ' '), ' pg ')]"
                                 " | /descendant::div[@id='pgt']/descendant::div[contains(concat(' ', @class, ' '), ' pg ')]")
    page.forums.extend(parents)
    if forum:
        page.forums.append(forum)
    for link in _X_SUBFORUM_LINKS(sel.root):
        sub_fid = fid_in_href(link.get("href"), resolve)
        if sub_fid is None or sub_fid == page.fid:
            continue
        sub = Forum(fid=sub_fid, name=tidy_text(text_of(link)) or None, parent_fid=page.fid, type="sub")
        row = next(link.iterancestors("tr"), None)  # ancestor::tr[1]
        if row is not None:
            forum_row_counts(row, sub, now=now, tz=tz)
        if all(f.fid != sub.fid for f in page.forums):
            page.forums.append(sub)
    page.threads = list_rows(_X_THREAD_ROWS(sel.root), page.fid, lambda row, tid: _parse_row(row, tid, now=now, tz=tz))
    return page


def list_rows(rows, fid: int | None, parse_row) -> list[Thread]:
    """Threads of ``tbody#normalthread_TID``/``#stickthread_TID`` rows (both families), each tid once.

    ``parse_row(row, tid)`` reads one row. Category and global stickies (``pin_2``, ``pin_3``; X3.5
    ``tpin2``, ``tpin3``) belong to other forums; ``pin_1``/``tpin1`` stickies and normal rows are given ``fid``.
    """
    threads: list[Thread] = []
    seen: set[int] = set()
    for row in rows:
        m = _ROW_TID.match(row.attrib.get("id", ""))
        tid = as_int(m.group(1)) if m else None
        if tid is None or tid in seen:
            continue
        seen.add(tid)
        thread = parse_row(row, tid)
        if not thread.is_sticky or _X_FORUM_STICKY_ICON(row.root if isinstance(row, Selector) else row):
            thread.fid = fid
        threads.append(thread)
    return threads


def _forum_from_breadcrumb(sel: Selector, fid_from_url: int | None, resolve=None) -> tuple[Forum | None, list[Forum]]:
    """The listed forum and its ancestors (category ``gid`` and parent forum) from ``div#pt``."""
    chain: list[Forum] = []
    for a in _X_CRUMB_LINKS(sel.root):
        href = a.get("href", "")
        name = tidy_text(text_of(a)) or None
        gm = GID_IN_HREF.search(href)
        fid = fid_in_href(href, resolve) if "forumdisplay" in href or re.search(r"forum-\d+-\d+\.html", href) or \
            resolve is not None else None
        if gm and "forum.php" in href and as_int(gm.group(1)) is not None:
            chain.append(Forum(fid=as_int(gm.group(1)), name=name, type="group"))
        elif fid is not None:
            chain.append(Forum(fid=fid, name=name, type="forum"))
    for parent, child in zip(chain, chain[1:]):
        child.parent_fid = parent.fid
        if parent.type != "group":
            child.type = "sub"
    fid = fid_from_url
    if fid is None:
        fid = script_ids(sel)[0] or (chain[-1].fid if chain and chain[-1].type != "group" else None)
    forum = next((f for f in reversed(chain) if f.fid == fid and f.type != "group"), None)
    if forum is None and fid is not None:
        name = tidy_text(_X_H1_FORUM_NAME(sel.root) or _X_BM_H_FORUM_NAME(sel.root) or "") or None
        forum = Forum(fid=fid, name=name)
        if chain:
            # The breadcrumb ends with the forum itself as text: what it shows before it is its parent.
            forum.parent_fid = chain[-1].fid
            forum.type = "forum" if chain[-1].type == "group" else "sub"
    parents = [f for f in chain if forum is None or f.fid != forum.fid or f.type == "group"]
    return forum, parents


# What a row's parts are, by XPath (the definitions :func:`_row_parts` reads in one walk of the row).
_ROW_TITLE = ".//th/descendant::a[contains(concat(' ', normalize-space(@class), ' '), ' xst ')]"
_ROW_PREFIX = ".//th/em/a[contains(@href, 'typeid=') or contains(@href, 'sortid=')] | .//th/em[not(a)]"
_ROW_CLOSED = ("./descendant::td[contains(@class,'icn')]/descendant::img[contains(@src, 'folder_lock')]"
               " | ./descendant::th[contains(concat(' ', normalize-space(@class), ' '), ' lock ')]")
_ROW_BY_CELLS = "./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' by ')]"
_ROW_NUM_CELLS = "./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' num ')]"
_X_THREAD_ROWS = etree.XPath(THREAD_ROWS)
_X_FORUM_STICKY_ICON = etree.XPath(_FORUM_STICKY_ICON)


class _RowParts:
    """What a thread row's XPaths find (``_ROW_TITLE``'s first link, ``_ROW_PREFIX``, ``_DIGEST_MARK`` and
    ``_ROW_CLOSED`` as booleans, ``_ROW_BY_CELLS``, ``_ROW_NUM_CELLS``' first cell), from one walk of the row that
    stops at the tags they name, the classes and URLs tested in Python as the XPaths test them."""

    __slots__ = ("by_cells", "closed", "digest", "num", "prefix", "title")

    def __init__(self, row: etree._Element):
        self.title = self.num = None
        self.prefix: list = []
        self.by_cells: list = []
        self.digest = self.closed = False
        for el in row.iterdescendants("a", "em", "img", "span", "th", "td"):
            tag = el.tag
            if tag == "a":
                if self.title is None and class_holds(el, "xst") and _under(el, "th", row):
                    self.title = el
                parent = el.getparent()
                if parent.tag == "em" and parent is not row and _child_of_th(parent, row):
                    href = el.get("href")
                    if href is not None and ("typeid=" in href or "sortid=" in href):
                        self.prefix.append(el)
            elif tag == "em":
                if _child_of_th(el, row) and not any(child.tag == "a" for child in el):
                    self.prefix.append(el)
            elif tag == "img":
                src = el.get("src")
                if src is not None:
                    if not self.digest and "digest_" in src:
                        self.digest = True
                    if not self.closed and "folder_lock" in src and _under(el, "td", row, "icn"):
                        self.closed = True
                if not self.digest and el.get("alt") == "digest":
                    self.digest = True
            elif tag == "span":
                if not self.digest and class_holds(el, "tdigest") and _under(el, "th", row):
                    self.digest = True
            elif tag == "th":
                if not self.closed and class_holds(el, "lock"):
                    self.closed = True
            else:
                if class_holds(el, "by"):
                    self.by_cells.append(el)
                if self.num is None and class_holds(el, "num"):
                    self.num = el


def _under(el: etree._Element, tag: str, row: etree._Element, class_part: str | None = None) -> bool:
    """Whether ``el`` has an ancestor ``tag`` below ``row`` (whose class contains ``class_part``, if given)."""
    for ancestor in el.iterancestors():
        if ancestor is row:
            return False
        if ancestor.tag == tag and (class_part is None or class_part in (ancestor.get("class") or "")):
            return True
    return False


def _child_of_th(el: etree._Element, row: etree._Element) -> bool:
    """Whether ``el``'s parent is a ``th`` below ``row`` (``.//th/EL``)."""
    parent = el.getparent()
    return parent is not None and parent.tag == "th" and parent is not row


def _first(el: etree._Element, tag: str):
    """``el``'s first descendant ``tag`` (``.//TAG``), or ``None``."""
    for found in el.iterdescendants(tag):
        return found
    return None


def _first_title(el: etree._Element):
    """``el.xpath('.//span/@title')``'s first value, or ``None``."""
    for span in el.iterdescendants("span"):
        title = span.get("title")
        if title is not None:
            return title
    return None


def _child_text(el: etree._Element, tag: str) -> str:
    """``string(./TAG)``: the text of ``el``'s first child ``tag``."""
    for child in el:
        if child.tag == tag:
            return text_of(child)
    return ""


def _parse_row(row: etree._Element, tid: int, *, now: datetime | None, tz: tzinfo) -> Thread:
    thread = Thread(tid=tid)
    thread.is_sticky = row.get("id", "").startswith("stickthread_")
    parts = _RowParts(row)
    if parts.title is not None:
        thread.title = tidy_text(text_of(parts.title)) or None
    thread.type_prefix = type_prefix(parts.prefix)
    thread.is_digest = parts.digest
    # Guests see the "new" folder icon even on closed threads, so only a lock icon says anything.
    thread.is_closed = True if parts.closed else None
    by_cells = parts.by_cells
    if by_cells:
        author = next((a for a in by_cells[0].iterdescendants("a") if a.getparent().tag == "cite"), None)
        if author is not None:
            thread.author = tidy_text(text_of(author)) or None
            thread.author_uid = uid_from_href(author.get("href"))
        else:
            cite = _first(by_cells[0], "cite")
            thread.author = tidy_text(text_of(cite) if cite is not None else "") or None
        created = _first(by_cells[0], "em")
        if created is not None:
            thread.created_at_text = tidy_text(text_of(created)) or None
            title = _first_title(created)
            thread.created_at = parse_discuz_time(thread.created_at_text, title, now=now, tz=tz)
            if thread.created_at is not None and ":" not in (title or thread.created_at_text or ""):
                # Lists show the date only: keep it a date, not a made-up midnight.
                thread.created_at = thread.created_at.date()
    if len(by_cells) > 1:
        last = by_cells[-1]
        cite = _first(last, "cite")
        thread.last_poster = tidy_text(text_of(cite) if cite is not None else "") or None
        em = _first(last, "em")
        if em is not None:
            thread.last_post_at_text = tidy_text(text_of(em)) or None
            thread.last_post_at = parse_discuz_time(thread.last_post_at_text, _first_title(em), now=now, tz=tz)
    if parts.num is not None:
        thread.replies = parse_int(_child_text(parts.num, "a"))
        thread.views = parse_int(_child_text(parts.num, "em"))
    return thread


_THREAD_HREF = re.compile(r"(?:mod=viewthread(?:&amp;|&)(?:[^\"'#]*?&)?tid=|viewthread\.php\?tid=|thread-)(\d+)")


def parse_thread_links(sel: Selector, url: str, *, fetched_at: datetime | None = None) -> ParsedPage | None:
    """A list page whose theme has no ``tbody#normalthread_TID`` rows: the threads it links to.

    Each thread is known by tid and title only (its own pages tell the rest); the page count
    still comes from the Discuz pager. ``None`` when the page links no thread.
    """
    target = classify(url)
    page = ParsedPage(url=url, kind="forumdisplay", fetched_at=fetched_at, fid=target.fid, page=target.page)
    main = sel.xpath("/descendant::div[@id='threadlist'] | /descendant::div[@id='ct']") or sel.xpath("//body")
    if not main:  # an empty or truncated page has no body
        return None
    seen: set[int] = set()
    for link in main[0].xpath("./descendant::a[contains(@href, 'viewthread') or contains(@href, 'thread-')]"):
        m = _THREAD_HREF.search(link.attrib.get("href", ""))
        title = tidy_text(link.xpath("string()").get())
        # Page links of a thread ("2", "3" …) are not its title.
        tid = as_int(m.group(1)) if m else None
        if tid is None or not title or title.isdigit() or tid in seen:
            continue
        seen.add(tid)
        page.threads.append(Thread(tid=tid, fid=target.fid, title=title))
    if not page.threads:
        return None
    page.pages = page_count(sel)
    return page
