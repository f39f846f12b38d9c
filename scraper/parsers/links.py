"""Where a page leads: the links it shows to forums, threads, their other pages and posters' profiles.

A crawler that follows these requests each page in the site's own spelling, whatever its rewrite
rules, instead of building URLs of its own. What a link leads to is read first from the markup
around it, which states ids whatever the URLs look like:

- a pager (``div.pg`` in X, ``div.pages`` in 7.x and earlier) belongs to the page's own thread or
  forum, and each of its links names its page number in its text (``2``, ``... 57``) or its role
  (``a.prev``, ``a.nxt``);
- a thread row (``tbody#normalthread_TID``) gives the tid of its title link and of the page links
  after it (``span.tps``);
- a forum row of the index (``div#category_GID`` ``h2 a``) or of a list page's sub-forums is a forum link
  even when its URL is in a spelling no default rule reads (its list page states its fid when fetched);
- a trade thread's goods boxes (read into ``page.trades`` by :mod:`.trades`) lead to their goods pages
  (``do=tradeinfo``, kind ``tradeinfo``, id the goods post's pid), in the spelling the box shows;
- a post's author areas (X ``td.pls``, ``div.authi``; 7.x ``td.postauthor``, ``div.authorinfo``): the link
  showing the author's name and the one around their avatar lead to the author's space, uid the one the
  post was read with (:mod:`.authors`), even when the site's own space rule (``u-5.html``, ``/people/5/``)
  is one no default rule reads. A crawler learns that rule from them (:class:`scraper.urls.SiteUrls`).

Every other link is read by its URL, with the default Discuz rules (:func:`scraper.urls.classify`).
"""
from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_TRADEINFO, KIND_VIEWTHREAD, Link, ParsedPage
from ..urls import classify as default_classify
from ..urls import Target, is_folder_url, join_url, uid_from_avatar
from .common import class_holds
from .content import tidy_text

_FOLLOWED_KINDS = (KIND_FORUMDISPLAY, KIND_VIEWTHREAD, KIND_PROFILE)
# Cheap test before the URL is parsed: words every default spelling of a followed page contains.
_MAYBE_PAGE = re.compile(r"thread|forum|space|uid|tid|fid", re.IGNORECASE)
_NOT_A_PAGE = re.compile(r"^(?:javascript:|mailto:|#)", re.IGNORECASE)
_ANCHORS = "/descendant::a[@href]"
_PAGERS = ("/descendant::div[contains(@class, 'pg') or contains(@class, 'pages')]"  # the cheap test first
           "[contains(concat(' ', normalize-space(@class), ' '), ' pg ')"
           " or contains(concat(' ', normalize-space(@class), ' '), ' pages ')]")
_THREAD_ROWS = "/descendant::tbody[starts-with(@id, 'normalthread_') or starts-with(@id, 'stickthread_')]"
_ROW_TID = re.compile(r"^(?:normal|stick)thread_(\d+)$")
_FORUM_ROW_LINKS = ("/descendant::div[starts-with(@id, 'category_')]//h2/a | /descendant::div[starts-with(@id, 'category_')]//dt/a"
                    " | /descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' forum_block ')]//h2/a"
                    " | /descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' forumlist ')]//h2/a")
# A list page's sub-forum rows: X ``div#subforum_FID``, 7.x ``div#subforum`` / ``table.list``.
_SUBFORUM_ROW_LINKS = ("/descendant::div[starts-with(@id, 'subforum')]//h2/a"
                       " | /descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' forumlist ')]//h2/a")
_PAGE_NUMBER = re.compile(r"^\D{0,4}?(\d+)\D{0,4}$")
_CLASSES = {"prev": -1, "nxt": 1, "next": 1}
# Compiled once, run on lxml elements (no Selector per anchor: a page has hundreds).
_X_HREFS = etree.XPath(_ANCHORS + "/@href", smart_strings=False)
_X_PAGERS = etree.XPath(_PAGERS)
_X_THREAD_ROWS = etree.XPath(_THREAD_ROWS)
_X_FORUM_ROW_LINKS = etree.XPath(_FORUM_ROW_LINKS)
_X_SUBFORUM_ROW_LINKS = etree.XPath(_SUBFORUM_ROW_LINKS)
_X_BASE = etree.XPath("/descendant::base/@href")
_BASE_TAG = re.compile(r"<base[\s/>]", re.IGNORECASE)
_BASE_TAG_BYTES = re.compile(rb"<base[\s/>]", re.IGNORECASE)
_X_ROW_LINKS = etree.XPath(".//th/descendant::a[@href]")
_X_IN_TPS = etree.XPath("ancestor::span[@class='tps']")
_X_STRONG = etree.XPath("./strong/text()")
_X_PAGER_LINKS = etree.XPath("./descendant::a[@href]")
_X_STRING = etree.XPath("string()")
# A post's author areas (see .authors), found through the document's id index, not by walking the page: X's column
# div#favatarPID, else (7.x) the td.postauthor around the hover card div#userinfoPID, and the header line around the
# time em#authorpostonPID (X div.authi, 7.x div.authorinfo).
_X_BY_ID = etree.XPath("id($id)")
_X_COLUMN = etree.XPath("ancestor::td[contains(concat(' ', normalize-space(@class), ' '), ' pls ')"
                        " or contains(concat(' ', normalize-space(@class), ' '), ' postauthor ')][1]")
_X_LINKS = etree.XPath("./descendant::a[@href]")


def find_base_href(root: etree._Element, source: bytes | str | None) -> str:
    """The page's first ``<base href>`` ("" when none). With the page's ``source``, a page whose text has no
    ``<base`` tag is not walked for one."""
    if source is not None:
        pattern = _BASE_TAG_BYTES if isinstance(source, bytes) else _BASE_TAG
        if not pattern.search(source):
            return ""
    # What _X_BASE(root)[0] is: the first base with an href, by a walk that stops there (it is in the head).
    for base in root.getroottree().getroot().iter("base"):
        href = base.get("href")
        if href is not None:
            return href
    return ""


@lru_cache(maxsize=1 << 16)
def _resolve(base: str, href: str) -> tuple[str, object]:
    """``(absolute URL, classify(URL))``: every page repeats the same menu, pager and profile links."""
    url = join_url(base, href.strip())
    return (url, default_classify(url)) if url is not None else ("", Target("other"))


def _followed(target: Target, href: str) -> tuple[str, int | None, int, int]:
    """``(kind, id, page, rank)`` of a link to a followed page (``target.kind`` in :data:`_FOLLOWED_KINDS`)."""
    if target.kind == KIND_PROFILE:
        return KIND_PROFILE, target.uid, 1, 0 if "do=profile" in href or "viewpro" in href else 1
    return target.kind, target.tid if target.kind == KIND_VIEWTHREAD else target.fid, target.page, 0


@lru_cache(maxsize=1 << 16)
def _default_link(base: str, href: str) -> tuple[str, str, int | None, int, int] | None:
    """``(kind, url, id, page, rank)`` of an anchor's ``href`` on a page whose base is ``base`` when Discuz's
    default spellings read it as a followed page, else ``None``: a page's menus and profile links repeat on
    every page, so each is read once."""
    if not href or not _MAYBE_PAGE.search(href) or _NOT_A_PAGE.match(href.strip()):
        return None
    url, target = _resolve(base, href)
    if target.kind not in _FOLLOWED_KINDS or not url.startswith(("http://", "https://")):
        return None
    kind, ident, number, rank = _followed(target, href)
    return kind, url, ident, number, rank


def page_links(sel: Selector, page: ParsedPage, identify=None, base_href: str | None = None) -> list[Link]:
    """Every link ``page`` shows to a forum list page, a thread page or a profile, each URL once.

    In: the page's selector, what its parser read from it (kind, ids, page number) and ``identify``
    (absolute URL -> :class:`~scraper.urls.Target`; default :func:`~scraper.urls.classify`, Discuz's default
    spellings) and the page's ``<base href>`` when the caller has read it (:func:`base_href`). Out: links
    with absolute URLs as the site spells them, markup-identified ones first.
    """
    root = sel.root
    base = join_url(page.url, base_href if base_href is not None else find_base_href(root, None)) or page.url

    def resolve(href: str) -> tuple[str, object]:
        url, target = _resolve(base, href)
        if identify is not None and (target.kind == "other" or (target.kind == KIND_INDEX and is_folder_url(url))):
            # The site's own spelling (learned as the crawl goes: not cached here); a folder is the index by
            # default, or a page in a rule that ends in one (/people/5/).
            target = identify(url)
        return url, target

    links: list[Link] = []
    seen: set[str] = set()

    def add(kind: str, href: str | None, ident: int | None, number: int = 1, rank: int = 0) -> None:
        if not href or _NOT_A_PAGE.match(href.strip()):
            return
        url = resolve(href)[0]
        if url in seen or not url.startswith(("http://", "https://")):
            return
        seen.add(url)
        links.append(Link(kind=kind, url=url, id=ident, page=number, rank=rank))

    own_id = page.tid if page.kind == KIND_VIEWTHREAD else page.fid if page.kind == KIND_FORUMDISPLAY else None
    if own_id is not None:
        for href, number in _pager_links(root, page.page or 1):
            target = resolve(href)[1]
            if target.kind == "other" or (target.kind == page.kind and (target.tid or target.fid) == own_id):
                add(page.kind, href, own_id, number)
    if page.kind == KIND_VIEWTHREAD:
        for trade in page.trades:
            if trade.url and trade.pid:
                add(KIND_TRADEINFO, trade.url, trade.pid)
    if page.kind == KIND_FORUMDISPLAY:
        for row in _X_THREAD_ROWS(root):
            m = _ROW_TID.match(row.get("id", ""))
            tid = as_int(m.group(1)) if m else None
            if tid is None:
                continue
            for a in _X_ROW_LINKS(row):
                text = _X_STRING(a).strip()
                target = resolve(a.get("href"))[1]
                number = _page_number(text)
                if target.kind == KIND_VIEWTHREAD and target.tid == tid:
                    add(KIND_VIEWTHREAD, a.get("href"), tid, target.page)
                elif target.kind == "other" and number is not None and _X_IN_TPS(a):
                    add(KIND_VIEWTHREAD, a.get("href"), tid, number)
                elif target.kind == "other" and text and number is None and "xst" in a.get("class", ""):
                    add(KIND_VIEWTHREAD, a.get("href"), tid, 1)
    rows = _X_FORUM_ROW_LINKS if page.kind == "index" else _X_SUBFORUM_ROW_LINKS if page.kind == KIND_FORUMDISPLAY \
        else None
    if rows is not None:
        for a in rows(root):
            href = a.get("href", "")
            if resolve(href)[1].kind == "other" and "gid=" not in href:
                add(KIND_FORUMDISPLAY, href, None)
    if identify is None:
        # Default spellings only: what each href leads to is the same on every page of the site (cached).
        for href in _X_HREFS(root):
            found = _default_link(base, href)
            if found is not None and found[1] not in seen:
                seen.add(found[1])
                links.append(Link(kind=found[0], url=found[1], id=found[2], page=found[3], rank=found[4]))
    else:
        for href in _X_HREFS(root):
            target = resolve(href)[1]
            if target.kind not in _FOLLOWED_KINDS:
                continue
            kind, ident, number, rank = _followed(target, href)
            add(kind, href, ident, number, rank)
    if page.kind == KIND_VIEWTHREAD:
        # The authors' name and avatar links no rule read: their spaces in the site's own rule.
        for href, uid in _author_space_links(root, page):
            if resolve(href)[1].kind in ("other", KIND_INDEX):
                add(KIND_PROFILE, href, uid, 1, rank=1)
    return links


def _author_space_links(root: etree._Element, page: ParsedPage) -> list[tuple[str, int]]:
    """(href, uid) of the links to each post's author's space: in the post's author areas, the link showing the
    author's name and the one around the avatar that states the author's uid."""
    found: list[tuple[str, int]] = []
    done: set[int] = set()
    for post in page.posts:
        if not post.author_uid or post.author_uid in done:
            continue  # an author's column links their space the same beside each of their posts
        done.add(post.author_uid)
        for area in _author_areas(root, post.pid):
            for a in _X_LINKS(area):
                href = a.get("href", "")
                if _NOT_A_PAGE.match(href.strip()):
                    continue
                if _shows_name(a, post.author) or any(
                        uid_from_avatar(img.get("src")) == post.author_uid for img in a.iterdescendants("img")):
                    found.append((href, post.author_uid))
    return found


def _shows_name(a: etree._Element, name: str | None) -> bool:
    """Whether the link's text is ``name`` (tidied). tidy_text only folds white space, so a text without the
    name's first character (never white space) is not tidied to be compared."""
    if not name:
        return False
    text = _X_STRING(a) if len(a) else a.text or ""  # no child nodes: its text is all there is
    return name[0] in text and tidy_text(text) == name


def _author_areas(root: etree._Element, pid: int) -> list:
    areas = _X_BY_ID(root, id=f"favatar{pid}")
    if not areas:
        card = _X_BY_ID(root, id=f"userinfo{pid}")
        areas = _X_COLUMN(card[0])[:1] if card else []
    time = _X_BY_ID(root, id=f"authorposton{pid}")
    header = time[0].getparent() if time else None
    return areas + ([header] if header is not None else [])


def _page_number(text: str) -> int | None:
    m = _PAGE_NUMBER.match(text.replace("\xa0", " ").strip())
    return as_int(m.group(1)) if m else None


def _pagers(root: etree._Element) -> list:
    """What :data:`_X_PAGERS` finds: a walk in C that stops only at divs, their class tested in Python (cheaper than
    the XPath's tests of every div's attributes)."""
    pagers = []
    for div in root.getroottree().getroot().iter("div"):
        cls = div.get("class")
        if cls and ("pg" in cls or "pages" in cls) and (class_holds(div, "pg") or class_holds(div, "pages")):
            pagers.append(div)
    return pagers


def _pager_links(root: etree._Element, current: int) -> list[tuple[str, int]]:
    """(href, page number) of every link of the page's pagers."""
    found = []
    for pager in _pagers(root):
        # 7.x+ pagers mark the current page as <strong>; X pagers also carry it in the jump box.
        strong = _X_STRONG(pager)
        shown = strong[0].strip() if strong else ""
        here = as_int(shown) or current
        for a in _X_PAGER_LINKS(pager):
            classes = a.get("class", "").split()
            step = next((_CLASSES[c] for c in classes if c in _CLASSES), None)
            number = here + step if step is not None else _page_number(_X_STRING(a))
            if number is not None and number >= 1:
                found.append((a.get("href"), number))
    return found
