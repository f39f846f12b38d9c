"""Forum list pages (``forumdisplay``) -> the forum, its sub-forums, and the threads listed.

Rows are ``tbody#normalthread_TID`` / ``tbody#stickthread_TID`` (``forum_forumdisplay.php``);
announcements and the separator have other ids and are skipped. Global stickies repeat on
every forum's first page, so a thread's fid is not taken from the list it appears on.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from parsel import Selector

from ..digits import as_int
from ..items import Forum, ParsedPage, Thread
from ..urls import GID_IN_HREF, classify, fid_in_href, uid_from_href
from .common import current_page, page_count, script_ids, type_prefix
from .content import tidy_text
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


def is_forum_page(sel: Selector) -> bool:
    """Whether the page is a Discuz! X thread list."""
    return bool(sel.xpath("/descendant::table[@id='threadlisttableid'] | " + THREAD_ROWS))


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
    for link in sel.xpath("/descendant::div[starts-with(@id, 'subforum_')]//td//h2/a"):
        sub_fid = fid_in_href(link.attrib.get("href"), resolve)
        if sub_fid is None or sub_fid == page.fid:
            continue
        sub = Forum(fid=sub_fid, name=tidy_text(link.xpath("string()").get()) or None, parent_fid=page.fid, type="sub")
        row = link.xpath("ancestor::tr[1]")
        if row:
            forum_row_counts(row[0], sub, now=now, tz=tz)
        if all(f.fid != sub.fid for f in page.forums):
            page.forums.append(sub)
    page.threads = list_rows(sel.xpath(THREAD_ROWS), page.fid, lambda row, tid: _parse_row(row, tid, now=now, tz=tz))
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
        if not thread.is_sticky or row.xpath(_FORUM_STICKY_ICON):
            thread.fid = fid
        threads.append(thread)
    return threads


def _forum_from_breadcrumb(sel: Selector, fid_from_url: int | None, resolve=None) -> tuple[Forum | None, list[Forum]]:
    """The listed forum and its ancestors (category ``gid`` and parent forum) from ``div#pt``."""
    chain: list[Forum] = []
    for a in sel.xpath("/descendant::div[@id='pt']//a"):
        href = a.attrib.get("href", "")
        name = tidy_text(a.xpath("string()").get()) or None
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
        name = tidy_text(sel.xpath("string(//h1/descendant::a[contains(@href, 'fid=') or contains(@href, 'forum-')])").get()
                         or sel.xpath("string(/descendant::div[contains(@class, 'bm_h')]//h1/a)").get() or "") or None
        forum = Forum(fid=fid, name=name)
        if chain:
            # The breadcrumb ends with the forum itself as text: what it shows before it is its parent.
            forum.parent_fid = chain[-1].fid
            forum.type = "forum" if chain[-1].type == "group" else "sub"
    parents = [f for f in chain if forum is None or f.fid != forum.fid or f.type == "group"]
    return forum, parents


def _parse_row(row: Selector, tid: int, *, now: datetime | None, tz: tzinfo) -> Thread:
    thread = Thread(tid=tid)
    thread.is_sticky = row.attrib.get("id", "").startswith("stickthread_")
    title = row.xpath(".//th/descendant::a[contains(concat(' ', normalize-space(@class), ' '), ' xst ')]")
    if title:
        thread.title = tidy_text(title[0].xpath("string()").get()) or None
    prefix = row.xpath(".//th/em/a[contains(@href, 'typeid=') or contains(@href, 'sortid=')] | .//th/em[not(a)]")
    thread.type_prefix = type_prefix(prefix)
    thread.is_digest = bool(row.xpath(_DIGEST_MARK))
    # Guests see the "new" folder icon even on closed threads, so only a lock icon says anything.
    thread.is_closed = True if row.xpath("./descendant::td[contains(@class,'icn')]/descendant::img[contains(@src, 'folder_lock')]"
                                      " | ./descendant::th[contains(concat(' ', normalize-space(@class), ' '), ' lock ')]") else None
    by_cells = row.xpath("./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' by ')]")
    if by_cells:
        author = by_cells[0].xpath(".//cite/a")
        if author:
            thread.author = tidy_text(author[0].xpath("string()").get()) or None
            thread.author_uid = uid_from_href(author[0].attrib.get("href"))
        else:
            thread.author = tidy_text(by_cells[0].xpath("string(.//cite)").get()) or None
        created = by_cells[0].xpath(".//em")
        if created:
            thread.created_at_text = tidy_text(created[0].xpath("string()").get()) or None
            title = created[0].xpath(".//span/@title").get()
            thread.created_at = parse_discuz_time(thread.created_at_text, title, now=now, tz=tz)
            if thread.created_at is not None and ":" not in (title or thread.created_at_text or ""):
                # Lists show the date only: keep it a date, not a made-up midnight.
                thread.created_at = thread.created_at.date()
    if len(by_cells) > 1:
        last = by_cells[-1]
        thread.last_poster = tidy_text(last.xpath("string(.//cite)").get()) or None
        em = last.xpath(".//em")
        if em:
            thread.last_post_at_text = tidy_text(em[0].xpath("string()").get()) or None
            thread.last_post_at = parse_discuz_time(thread.last_post_at_text, em[0].xpath(".//span/@title").get(),
                                                    now=now, tz=tz)
    num = row.xpath("./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' num ')]")
    if num:
        thread.replies = parse_int(num[0].xpath("string(./a)").get())
        thread.views = parse_int(num[0].xpath("string(./em)").get())
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
