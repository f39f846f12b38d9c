"""The forum index (``forum.php``) -> categories, forums and the sub-forums listed under them."""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import Forum, ParsedPage
from ..urls import FID_IN_HREF, GID_IN_HREF, fid_in_href
from .common import class_holds
from .content import text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .numbers import parse_int

_CATEGORY_ID = re.compile(r"^category_(\d+)$")
_FORUM_LINK = "contains(@href, 'forumdisplay') or contains(@href, 'forum-')"
_OUTSIDE_MENUS = ("not(ancestor::*[@id='nav' or @id='pt' or @id='menu' or @id='header' or @id='hd' or @id='ft'"
                  " or @id='footer' or contains(@id, '_menu') or contains(@class, 'popupmenu') or contains(@class, 'p_pop')])")
# Forum links (``forumdisplay.php?fid=``, ``forum-N-1.html``) and category links (``index.php?gid=``).
_LINKED = (f"./descendant::a[{_FORUM_LINK} or ((contains(@href, 'index.php') or contains(@href, 'forum.php')"
           f" or starts-with(@href, '?')) and contains(@href, 'gid='))][{_OUTSIDE_MENUS}]")
# The category link of the nearest block around a forum link.
_BLOCK_GID = "ancestor::*[./descendant::a[contains(@href, 'gid=')]][1]//a[contains(@href, 'gid=')][1]/@href"


def forum_row_counts(row: etree._Element, forum: Forum, *, now: datetime | None, tz: tzinfo) -> Forum:
    """Fill a forum's threads / posts and last-post time from its row (lxml element) on the index or a sub-forum list.

    ``td.fl_i`` holds ``<span class="xi2">22</span><span class="xg1"> / 127</span>``; ``td.fl_by``
    the last post, its time in a ``span[title]`` when recent, else as text in the ``cite``. The cells are found
    by one walk of the row's cells, as ``_ROW_COUNTS`` and ``_ROW_LAST_CITES`` find them.
    """
    counts = cite = None
    for td in row.iterdescendants("td"):
        if counts is None and class_holds(td, "fl_i"):
            counts = td
        if cite is None and class_holds(td, "fl_by"):
            # The first cite under the first such cell that holds one is the first of them all in document order.
            cite = next(td.iterdescendants("cite"), None)
    if counts is not None:
        forum.threads = parse_int(_first_span_text(counts, "xi2"))
        forum.posts = parse_int(_first_span_text(counts, "xg1"))
    if cite is not None:
        shown = tidy_text("".join(_cite_texts(cite)))
        title = next((span.get("title") for span in cite if span.tag == "span" and span.get("title") is not None), None)
        forum.last_post_at = parse_discuz_time(shown, title, now=now, tz=tz)
    return forum


# What forum_row_counts reads, by XPath (the definitions its walks follow).
_ROW_COUNTS = "./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' fl_i ')]"
_ROW_LAST_CITES = "./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' fl_by ')]//cite"
_CITE_TEXTS = "./text() | ./span//text()"


def _first_span_text(cell: etree._Element, class_part: str) -> str:
    """``string(./descendant::span[contains(@class, CLASS_PART)])``."""
    for span in cell.iterdescendants("span"):
        if class_part in (span.get("class") or ""):
            return text_of(span)
    return ""


def _cite_texts(cite: etree._Element):
    """``_CITE_TEXTS``: the cite's own text nodes and the text in its ``span`` children, in document order."""
    if cite.text:
        yield cite.text
    for child in cite:
        if child.tag == "span":
            yield text_of(child)
        if child.tail:
            yield child.tail


def is_index_page(sel: Selector) -> bool:
    """Whether the page lists forum categories (``div#category_GID``) like the Discuz! X index."""
    return bool(sel.xpath("/descendant::div[starts-with(@id, 'category_')]/descendant::table[contains(@class, 'fl_tb')]"
                          " | /descendant::div[starts-with(@id, 'category_')]//h2/a"))


def parse_index_page(sel: Selector, url: str, *, fetched_at: datetime | None = None, now: datetime | None = None,
                     tz: tzinfo = DEFAULT_TZ, resolve=None) -> ParsedPage:
    """Parse the forum index: each category (a Discuz "group" forum) and the forums in it.

    ``resolve(href)`` reads forum links in a site's own spelling (see :func:`scraper.urls.fid_in_href`).
    """
    page = ParsedPage(url=url, kind="index", fetched_at=fetched_at)
    seen: set[int] = set()
    for block in sel.xpath("/descendant::div[starts-with(@id, 'category_')]"):
        m = _CATEGORY_ID.match(block.attrib.get("id", ""))
        gid = as_int(m.group(1)) if m else None
        if gid is None:
            continue
        header = block.xpath(f"preceding-sibling::div[1]//h2/a[contains(@href, 'gid={gid}')]"
                             f" | ../div[contains(@class, 'bm_h')]//h2/a[contains(@href, 'gid=')]")
        name = tidy_text(header[0].xpath("string()").get()) if header else None
        if gid not in seen:
            seen.add(gid)
            page.forums.append(Forum(fid=gid, name=name or None, type="group"))
        for cell in block.xpath("./descendant::td[.//h2] | ./descendant::dl[.//dt//a]"):
            links = cell.xpath(f".//h2/a[{_FORUM_LINK}] | .//dt/a[{_FORUM_LINK}]") if resolve is None else \
                cell.xpath(".//h2/a | .//dt/a")
            fid = fid_in_href(links[0].attrib.get("href"), resolve) if links else None
            if fid is None:
                continue
            if fid not in seen:
                seen.add(fid)
                desc = tidy_text(cell.xpath("string(./descendant::p[contains(@class, 'xg2')])").get() or "") or None
                forum = Forum(fid=fid, name=tidy_text(links[0].xpath("string()").get()) or None,
                              parent_fid=gid, type="forum", description=desc)
                row = next(cell.root.iterancestors("tr"), None)  # ancestor::tr[1]
                page.forums.append(forum_row_counts(row, forum, now=now, tz=tz) if row is not None else forum)
            # "子版块:" links listed under a forum on the index.
            for sub in cell.xpath(f".//p/descendant::a[{_FORUM_LINK}]" if resolve is None else ".//p//a"):
                sub_fid = fid_in_href(sub.attrib.get("href"), resolve)
                if sub_fid is not None and sub_fid not in seen:
                    seen.add(sub_fid)
                    page.forums.append(Forum(fid=sub_fid, name=tidy_text(sub.xpath("string()").get()) or None,
                                             parent_fid=fid, type="sub"))
    return page


def parse_forum_links(sel: Selector, url: str, *, fetched_at: datetime | None = None) -> ParsedPage | None:
    """An index whose theme has no known forum table: every forum linked from its main content.

    ``None`` when the page links no forum at all. See :func:`add_linked_forums`.
    """
    page = add_linked_forums(sel, ParsedPage(url=url, kind="index", fetched_at=fetched_at))
    return page if page.forums else None


def add_linked_forums(sel: Selector, page: ParsedPage) -> ParsedPage:
    """Add to an index page every category and forum its content links to that it does not hold yet.

    Themes (7.0 ``div.forum_block`` boxes, X portal-like front pages) drop the stock tables but keep
    the links. A forum's category is the ``gid`` link of the nearest block around it, when there is
    one; otherwise its parent stays unknown (``None``) for its own list page to tell. Menus,
    breadcrumbs and pop-ups are left out.
    """
    seen = {f.fid for f in page.forums}
    main = sel.xpath("/descendant::div[@id='ct'] | /descendant::div[@id='wp'] | /descendant::div[@id='forumlist']") or sel.xpath("//body")
    if not main:
        return page
    for link in main[0].xpath(_LINKED):
        href = link.attrib.get("href", "")
        name = tidy_text(link.xpath("string()").get())
        fm, gm = FID_IN_HREF.search(href), GID_IN_HREF.search(href)
        fid, group = as_int(fm.group(1)) if fm else None, as_int(gm.group(1)) if gm else None
        if not name:
            continue
        if fid is not None and fid not in seen:
            seen.add(fid)
            around = link.xpath(_BLOCK_GID)
            gid = GID_IN_HREF.search(around[0].get()) if around else None
            parent = as_int(gid.group(1)) if gid and as_int(gid.group(1)) in seen else None
            page.forums.append(Forum(fid=fid, name=name, type="forum", parent_fid=parent))
        elif group is not None and not fm and group not in seen:
            seen.add(group)
            page.forums.append(Forum(fid=group, name=name, type="group"))
    return page
