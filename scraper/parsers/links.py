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
from typing import NoReturn

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_TRADEINFO, KIND_VIEWTHREAD, Link, ParsedPage
from ..urls import classify as default_classify
from ..urls import Target, is_folder_url, join_url, uid_from_avatar
from .common import class_holds
from .content import text_of, tidy_text

_FOLLOWED_KINDS = (KIND_FORUMDISPLAY, KIND_VIEWTHREAD, KIND_PROFILE)
_OTHER = Target("other")
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
# The same values, cheaper (no predicate: an anchor without href has no @href to select): every a's href on the
# page (parse_page reads them once for a thread page and hands them to page_links and to the readers' gates).
ALL_HREFS = etree.XPath("/descendant::a/@href", smart_strings=False)
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


def _followed(target: Target, href: str) -> tuple[str, int | None, int, int]:
    """``(kind, id, page, rank)`` of a link to a followed page (``target.kind`` in :data:`_FOLLOWED_KINDS`)."""
    if target.kind == KIND_PROFILE:
        return KIND_PROFILE, target.uid, 1, 0 if "do=profile" in href or "viewpro" in href else 1
    return target.kind, target.tid if target.kind == KIND_VIEWTHREAD else target.fid, target.page, 0


# base -> href -> facts (:func:`_read_facts`). Emptied whole, at the start of a page, past _FACTS_SIZE entries in all
# (a page without <base href> is its own base; a site's pages with one share it, and each thread page brings hrefs
# of its own: the bound keeps a crawl of 100k pages at a few dozen MB here).
_FACTS: dict[str, dict[str, tuple]] = {}
_FACTS_SIZE = 1 << 16
_facts_count = [0]


def _facts_table(base: str) -> dict[str, tuple]:
    if _facts_count[0] > _FACTS_SIZE:
        _FACTS.clear()
        _facts_count[0] = 0
    table = _FACTS.get(base)
    if table is None:
        table = _FACTS[base] = {}
    return table


def _read_facts(table: dict[str, tuple], base: str, href: str) -> tuple:
    """What ``href`` is on a page whose base is ``base`` by the default rules, read into ``table``: ``(url, target,
    ok, ask, plain, followed, author)``:

    - the absolute URL ("" when unreadable) and :func:`~scraper.urls.classify` of it;
    - ``ok``: whether ``page_links`` may list it at all (an href that is not empty nor ``javascript:``/``mailto:``/
      ``#``, to an http(s) URL);
    - ``ask``: whether a site's ``identify`` may read it otherwise (the default rules read "other", or a folder as
      the index);
    - ``plain``: ``(kind, url, id, page, rank)`` of the link a page without a site's rules lists, else ``None``
      (an href that names none of the words every default spelling of a followed page holds is not read);
    - ``followed``: :func:`_followed` of the target where the default rules are the last word (not ``ask``) and
      read a followed page, else ``None``;
    - ``author``: whether an author's name or avatar link to it may be listed as their space (``ok``, and the
      default rules read "other" or the index: see :func:`_author_links`)."""
    url = join_url(base, href.strip())
    try:
        url, target = (url, default_classify(url)) if url is not None else ("", _OTHER)
    except ValueError:
        # A URL urllib cannot split (the page's own unreadable URL, joined with an empty href): the long way raised
        # where it read this href, and page_links raises where the long way read it (see _unreadable).
        readable = not _NOT_A_PAGE.match(href.strip())
        facts = table[href] = (url, None, False, True, _UNREADABLE if readable and href and _MAYBE_PAGE.search(href)
                               else None, None, readable)
        _facts_count[0] += 1
        return facts
    ok = bool(href) and not _NOT_A_PAGE.match(href.strip()) and url.startswith(("http://", "https://"))
    ask = target.kind == "other" or (target.kind == KIND_INDEX and is_folder_url(url))
    followed = _followed(target, href) if not ask and target.kind in _FOLLOWED_KINDS else None
    plain = None
    if ok and target.kind in _FOLLOWED_KINDS and _MAYBE_PAGE.search(href):
        kind, ident, number, rank = _followed(target, href)
        plain = kind, url, ident, number, rank
    author = ok and target.kind in ("other", KIND_INDEX)
    facts = table[href] = (url, target, ok, ask, plain, followed, author)
    _facts_count[0] += 1
    return facts


# The ``plain`` facts of an href whose URL cannot be read: reading it raises.
_UNREADABLE = ("", "", None, 1, 0)


def _unreadable(found: tuple) -> NoReturn:
    """What reading an href whose URL urllib cannot split did the long way (parse_page keeps the page, no links)."""
    raise ValueError(f"unreadable URL: {found[0]!r}")


def page_links(sel: Selector, page: ParsedPage, identify=None, base_href: str | None = None,
               hrefs: list[str] | None = None, base: str | None = None,
               pagers: PagerDivs | None = None) -> list[Link]:
    """Every link ``page`` shows to a forum list page, a thread page or a profile, each URL once.

    In: the page's selector, what its parser read from it (kind, ids, page number) and ``identify``
    (absolute URL -> :class:`~scraper.urls.Target`; default :func:`~scraper.urls.classify`, Discuz's default
    spellings) and the page's ``<base href>`` when the caller has read it (:func:`base_href`). Out: links
    with absolute URLs as the site spells them, markup-identified ones first.

    What an href is by the default rules is read once per (base, href) (:func:`_read_facts`); ``identify`` is
    asked only about a URL the page could still list (an http(s) link not listed yet) that the default rules
    do not read, once per URL and page. ``hrefs``: every ``a``'s href on the page in order, where the caller has
    read them already (what ``/descendant::a/@href`` gives); ``base``: what the hrefs are relative to (the page's
    URL joined with its ``<base href>``), where the caller has joined them; ``pagers``: the page's
    :class:`PagerDivs`, where the caller has one.
    """
    root = sel.root
    if base is None:
        base = join_url(page.url, base_href if base_href is not None else find_base_href(root, None)) or page.url
    table = _facts_table(base)
    asked: dict[str, Target] = {}

    def facts(href: str) -> tuple:
        found = table.get(href)
        return found if found is not None else _read_facts(table, base, href)

    def target_of(found: tuple) -> Target:
        """What the link of ``found`` (its facts) leads to, the site's own rules asked when the default ones
        cannot tell: the site's spelling (learned as the crawl goes: not cached beyond the page); a folder is
        the index by default, or a page in a rule that ends in one (/people/5/)."""
        if identify is None or not found[3]:
            return found[1] if found[1] is not None else _unreadable(found)
        if found[1] is None:
            _unreadable(found)
        target = asked.get(found[0])
        if target is None:
            target = asked[found[0]] = identify(found[0])
        return target

    def resolve(href: str) -> tuple[str, object]:
        found = facts(href)
        return found[0], target_of(found)

    links: list[Link] = []
    seen: set[str] = set()

    def add(kind: str, href: str | None, ident: int | None, number: int = 1, rank: int = 0) -> None:
        if not href:
            return
        found = facts(href)
        if not found[2] or found[0] in seen:
            if found[1] is None and found[6]:
                _unreadable(found)  # not javascript:/mailto:/#: the long way read it
            return
        seen.add(found[0])
        links.append(Link(kind=kind, url=found[0], id=ident, page=number, rank=rank))

    own_id = page.tid if page.kind == KIND_VIEWTHREAD else page.fid if page.kind == KIND_FORUMDISPLAY else None
    if own_id is not None:
        for href, number in _pager_links(root, page.page or 1, pagers):
            found = facts(href)
            if not found[2] or found[0] in seen:
                if found[1] is None:
                    _unreadable(found)
                continue  # not listed whatever it leads to
            target = target_of(found)
            if target.kind == "other" or (target.kind == page.kind and (target.tid or target.fid) == own_id):
                seen.add(found[0])
                links.append(Link(kind=page.kind, url=found[0], id=own_id, page=number, rank=0))
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
                text = text_of(a).strip()
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
    hrefs = ALL_HREFS(root) if hrefs is None else hrefs
    get = table.get
    read = [get(href) for href in hrefs]
    if None in read:  # hrefs not met before on this base
        read = [found if found is not None else facts(href) for href, found in zip(hrefs, read)]
    if identify is None:
        # Default spellings only: what each href leads to is the same on every page of the site (cached).
        for found in read:
            plain = found[4]
            if plain is not None and plain[1] not in seen:
                if plain is _UNREADABLE:
                    _unreadable(found)
                seen.add(plain[1])
                links.append(Link(kind=plain[0], url=plain[1], id=plain[2], page=plain[3], rank=plain[4]))
    else:
        for href, found in zip(hrefs, read):
            if not found[2] or found[0] in seen:
                if found[1] is None:
                    _unreadable(found)
                continue  # not listed whatever it leads to
            followed = found[5]
            if followed is None:
                if not found[3]:
                    continue  # the default rules read it, and not as a followed page
                target = target_of(found)
                if target.kind not in _FOLLOWED_KINDS:
                    continue
                followed = _followed(target, href)
            seen.add(found[0])
            links.append(Link(kind=followed[0], url=found[0], id=followed[1], page=followed[2], rank=followed[3]))
    if page.kind == KIND_VIEWTHREAD:
        # The authors' name and avatar links no rule read: their spaces in the site's own rule.
        for uid, found in _author_links(root, page, table, base):
            if found[0] not in seen and target_of(found).kind in ("other", KIND_INDEX):
                seen.add(found[0])
                links.append(Link(kind=KIND_PROFILE, url=found[0], id=uid, page=1, rank=1))
    return links


def _author_links(root: etree._Element, page: ParsedPage, table: dict[str, tuple], base: str) -> list[tuple[int, tuple]]:
    """What :func:`_author_space_links` finds, less the links ``page_links`` would not list whatever a site's rules
    read (not ``ok``, or a forum, thread or profile by the default rules: see :func:`_read_facts`), as (uid, facts
    of the href) on a page whose base is ``base``, ``table`` its facts.

    The author areas of every post come from one look-up of the page's ids (:func:`_areas_by_post`); each area's
    links from a walk of it that stops only at anchors. A link's text is read whole (the XPath's string) only
    when one of its pieces holds the name's first character."""
    found: list[tuple[int, tuple]] = []
    done: set[int] = set()
    posts = []
    for post in page.posts:
        if post.author_uid and post.author_uid not in done:
            done.add(post.author_uid)
            posts.append(post)
    if not posts:
        return found
    areas_of = _areas_by_post(root, [post.pid for post in posts])
    get = table.get
    for post in posts:
        uid, name = post.author_uid, post.author
        first = name[0] if name else None
        for area in areas_of(post.pid):
            for a in area.iterdescendants("a"):
                href = a.get("href")
                if href is None:
                    continue
                facts = get(href)
                if facts is None:
                    facts = _read_facts(table, base, href)
                if not facts[6]:
                    continue
                if not len(a):  # no child nodes: its text is all there is (_shows_name)
                    text = a.text
                    if first is not None and text and first in text and tidy_text(text) == name:
                        found.append((uid, facts))
                elif (first is not None and any(first in piece for piece in a.itertext()) and _shows_name(a, name)) \
                        or any(uid_from_avatar(img.get("src")) == uid for img in a.iterdescendants("img")):
                    # itertext's pieces hold every text node of the link (and comments' text): without the name's
                    # first character in one, the link's string cannot be the name.
                    found.append((uid, facts))
    return found


def _areas_by_post(root: etree._Element, pids: list[int]):
    """``pid -> what _author_areas(root, pid) finds``, from one ``id()`` look-up of every post's ``favatarPID`` and
    ``authorpostonPID`` (and ``userinfoPID`` where no favatar is), not one look-up per id.

    The index holds one element per id, from an ``id`` attribute or an anchor's ``name``: the element found for
    an id is the one whose ``id`` (or, an anchor, ``name``) is that id. Where two elements found could stand for
    one id, or one stands for none asked (the index read otherwise), each post is looked up on its own."""
    wanted = [f"{prefix}{pid}" for pid in pids for prefix in ("favatar", "authorposton")]
    by_id = _ids_found(root, wanted)
    if by_id is None:
        return lambda pid: _author_areas(root, pid)
    cards = [f"userinfo{pid}" for pid in pids if f"favatar{pid}" not in by_id]
    if cards:
        more = _ids_found(root, cards)
        if more is None:
            return lambda pid: _author_areas(root, pid)
        by_id.update(more)

    def areas(pid: int) -> list:
        area = by_id.get(f"favatar{pid}")
        if area is not None:
            found = [area]
        else:
            card = by_id.get(f"userinfo{pid}")
            found = _X_COLUMN(card)[:1] if card is not None else []
        time = by_id.get(f"authorposton{pid}")
        header = time.getparent() if time is not None else None
        return found + ([header] if header is not None else [])

    return areas


def _ids_found(root: etree._Element, wanted: list[str]) -> dict | None:
    """``id -> element`` of each id in ``wanted`` that the document's index holds (one ``id()`` call), or ``None``
    when the answer cannot be read back to its ids (see :func:`_areas_by_post`)."""
    asked = set(wanted)
    by_id: dict[str, etree._Element] = {}
    for el in _X_BY_ID(root, id=" ".join(wanted)):
        key = el.get("id")
        if el.tag != "a":
            if key not in asked or key in by_id:
                return None
            by_id[key] = el
            continue
        names = {key, el.get("name")} & asked
        if not names:
            return None
        for name in names:
            if name in by_id:
                return None
            by_id[name] = el
    return by_id


def _author_space_links(root: etree._Element, page: ParsedPage) -> list[tuple[str, int]]:
    """(href, uid) of the links to each post's author's space: in the post's author areas, the link showing the
    author's name and the one around the avatar that states the author's uid. The definition :func:`_author_links`
    is held to (``tests/test_fast_paths_links.py``)."""
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
    text = text_of(a)
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


class PagerDivs:
    """What :func:`_pagers` finds on a page (every div whose class holds ``pg`` or ``pages``), walked for once, when
    first asked: a thread page's parser asks before it sets the messages aside (its 7.x pagers are among them),
    ``page_links`` after."""

    __slots__ = ("_root", "_found")

    def __init__(self, root: etree._Element):
        self._root = root
        self._found: list | None = None

    def __call__(self) -> list:
        if self._found is None:
            self._found = _pagers(self._root)
        return self._found


def _pager_links(root: etree._Element, current: int, pagers: PagerDivs | None = None) -> list[tuple[str, int]]:
    """(href, page number) of every link of the page's pagers (``pagers``: the page's :class:`PagerDivs`, if any).

    What the XPaths :data:`_X_STRONG`, :data:`_X_PAGER_LINKS` and ``string()`` find, read from the pager's
    children and a walk of it that stops only at anchors; a link without child nodes is its text."""
    found = []
    for pager in pagers() if pagers is not None else _pagers(root):
        # 7.x+ pagers mark the current page as <strong>; X pagers also carry it in the jump box.
        shown = _strong_text(pager)
        here = as_int(shown) or current
        for a in pager.iterdescendants("a"):
            href = a.get("href")
            if href is None:
                continue
            step = None
            cls = a.get("class")
            if cls:
                for c in cls.split():
                    if c in _CLASSES:
                        step = _CLASSES[c]
                        break
            if step is not None:
                number = here + step
            else:
                number = _page_number(text_of(a))
            if number is not None and number >= 1:
                found.append((href, number))
    return found


def _strong_text(pager: etree._Element) -> str:
    """``_X_STRONG(pager)[0].strip()`` ("" when none): the first text node of the pager's strong children is the
    first one's text when it starts with one; else the XPath says."""
    for strong in pager.iterchildren("strong"):
        if strong.text:
            return strong.text.strip()
        break
    else:
        return ""
    texts = _X_STRONG(pager)
    return texts[0].strip() if texts else ""
