"""Pure Discuz! page parsers: page URL + body bytes in, a :class:`~scraper.items.ParsedPage` out.

Nothing here knows about Scrapy. :func:`parse_page` first tells the template family (Discuz! X or
7.x: the generator meta or footer version, else the markup), then recognises the kind of page
(thread, forum list, index, profile, or a special page such as "no permission") from its markup,
falling back on the URL, and never raises for a page it cannot read: it returns a
``special``/``unknown`` page carrying the reason, so that the caller can keep the raw page for
re-parsing. ``ParsedPage.version`` is the version the page states, or ``"7.x"`` for a 7.x page
that states none. JSON answers of the mobile API (``api/mobile/index.php``) are read by
:mod:`.mobile_api` into the same items.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone, tzinfo

from lxml import etree

from ..items import (KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_SPECIAL, KIND_VIEWTHREAD, STATUS_PARTIAL,
                     STATUS_UNKNOWN, ParsedPage, User)
from ..urls import Target, classify, join_url
from .barriers import recognise as recognise_barrier
from .common import MAX_DEPTH, decode_body, detect_version, read_document, special_status
from .dates import DEFAULT_TZ, parse_absolute, parse_http_date, parse_tz
from .extras import ALL_HREFS, FAMILY_7X, FAMILY_X, read_extras
from .forum import is_forum_page, parse_forum_page, parse_thread_links
from .index import add_linked_forums, is_index_page, parse_forum_links, parse_index_page
from .legacy import FAMILY_LEGACY, detect_family, parse_legacy_page
from .links import PagerDivs, find_base_href, page_links
from .mobile_api import looks_like_api, parse_mobile_api
from .profile import is_profile_page, parse_profile_page
from .signals import FAMILY_6X, is_6x_thread, note_missing, parse_signal_thread_page
from .thread import is_thread_page, parse_thread_page
from .trades import is_tradeinfo_url, parse_tradeinfo_page

__all__ = ["parse_page", "parse_thread_page", "parse_forum_page", "parse_index_page", "parse_profile_page",
           "decode_body", "DEFAULT_TZ", "parse_tz"]


def parse_page(url: str, body: bytes | str, *, content_type: str | None = None, http_status: int | None = 200,
               date_header: str | bytes | None = None, fetched_at: datetime | None = None,
               tz: tzinfo | str | None = None, identify: Callable[[str], Target] | None = None,
               charset_hint: str | None = None) -> ParsedPage:
    """Parse any Discuz! page; never raises.

    ``date_header`` (the response's ``Date``) anchors relative times such as ``3 天前``; without it
    ``fetched_at`` (default: now) does. ``tz`` is the forum's time zone (default UTC+8). ``identify``
    reads an absolute URL in the site's own spelling (a crawler's :meth:`scraper.urls.SiteUrls.identify`,
    which knows the rewrite rules its pages showed); without it, only Discuz's default spellings are read.
    ``charset_hint`` is the charset the site's other pages were read in: a page that declares none that is a
    text encoding (``charset=hex``) is read in it if its bytes allow (see :func:`.common.decode_body`).
    A page that breaks a reader (truncated, hostile, a parser bug) comes back ``special``/``unknown`` with
    the reason in ``message``, so that the caller keeps its bytes for re-parsing.
    """
    zone = parse_tz(tz)  # a bad zone is the caller's mistake, not the page's: that one raises ValueError
    fetched_at = fetched_at or datetime.now(timezone.utc)
    try:
        return _parse_page(url, body, content_type=content_type, http_status=http_status, date_header=date_header,
                           fetched_at=fetched_at, zone=zone, identify=identify, charset_hint=charset_hint)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the page (or the crawl)
        page = ParsedPage(url=url, kind=KIND_SPECIAL, status=STATUS_UNKNOWN, fetched_at=fetched_at,
                          message=f"parser error: {type(exc).__name__}: {str(exc)[:200]}")
        page.http_status, page.content_type = http_status, content_type
        page.date_header = date_header.decode("latin-1") if isinstance(date_header, bytes) else date_header
        return page


def _parse_page(url: str, body: bytes | str, *, content_type: str | None, http_status: int | None,
                date_header: str | bytes | None, fetched_at: datetime, zone: tzinfo,
                identify: Callable[[str], Target] | None, charset_hint: str | None = None) -> ParsedPage:
    now = parse_http_date(date_header) or fetched_at
    if looks_like_api(body):
        try:
            page = parse_mobile_api(url, body, content_type=content_type, now=now, tz=zone, fetched_at=fetched_at)
        except Exception as exc:  # as below: never lose the page to a parser bug
            page = ParsedPage(url=url, kind=KIND_SPECIAL, status=STATUS_UNKNOWN, fetched_at=fetched_at,
                              message=f"parser error: {type(exc).__name__}: {exc}")
        if page is not None:
            return _finish(page, http_status, content_type, date_header,
                           decode_body(body, content_type, charset_hint)[1],
                           page.version, zone, now)
    barrier = recognise_barrier(http_status, body, content_type=content_type)
    if barrier is not None:
        # A CC-defence page or a firewall's challenge: a special page that says which (never an unreadable one).
        target = classify(url)
        page = ParsedPage(url=url, kind=KIND_SPECIAL, status=barrier.status, message=barrier.line(),
                          fetched_at=fetched_at, tid=target.tid, fid=target.fid, uid=target.uid, page=target.page)
        return _finish(page, http_status, content_type, date_header,
                       decode_body(body, content_type, charset_hint)[1], None, zone, now)
    sel, charset, flattened = read_document(body, url, content_type, charset_hint)
    base_href = find_base_href(sel.root, body)
    version = detect_version(sel)
    family = detect_family(sel, version)
    if family == FAMILY_LEGACY and is_6x_thread(sel):
        family = FAMILY_6X
    # The page as text (small pages only), for special_status: serialised only where a page turns out to be no
    # thread page, unless a reader that may change the tree runs before that one (7.x, a trade's goods page).
    small = len(body) < 20000
    raw_text = (sel.get() if small else "") if family == FAMILY_LEGACY or is_tradeinfo_url(url) else \
        (lambda: sel.get() if small else "")
    base = join_url(url, base_href) or url  # what the page's hrefs are relative to
    resolve = _resolver(base, identify)
    pagers = PagerDivs(sel.root)  # the page's pager divs, walked for once: the thread parser's and page_links
    try:
        # A trade's goods page (do=tradeinfo) is no thread page: its own kind, one goods item and no floor.
        page = parse_tradeinfo_page(sel.root, url, now=now, tz=zone, fetched_at=fetched_at) \
            if is_tradeinfo_url(url) else None
        if page is None and family == FAMILY_LEGACY:
            page = parse_legacy_page(sel, url, now=now, tz=zone, fetched_at=fetched_at, resolve=resolve)
        if page is None:
            page = _parse_x_family(sel, url, raw_text, now=now, tz=zone, fetched_at=fetched_at, resolve=resolve,
                                   pagers=pagers)
        if page is None and family != FAMILY_LEGACY:
            # A version-less or mislabelled page: the 7.x readers may still know it.
            page = parse_legacy_page(sel, url, now=now, tz=zone, fetched_at=fetched_at, resolve=resolve)
            family = FAMILY_LEGACY if page is not None else family
        if page is None:
            # An unknown skeleton (5.5/6.x, themes): whatever posts the sturdy ids still show.
            page = parse_signal_thread_page(sel, url, now=now, tz=zone, fetched_at=fetched_at, resolve=resolve)
        elif page.kind == KIND_VIEWTHREAD:
            note_missing(page)
        elif page.kind == KIND_INDEX:
            # Themes mix stock tables with their own boxes: the links still name every forum.
            add_linked_forums(sel, page)
        elif page.kind == KIND_FORUMDISPLAY and not page.threads:
            # A theme that rebuilt the rows: the thread links are still there.
            linked = parse_thread_links(sel, url, fetched_at=fetched_at)
            page.threads = linked.threads if linked is not None else page.threads
        if page is None and classify(url).kind == KIND_INDEX:
            # A theme that rebuilt the index: its forum links are still enough to crawl on.
            page = parse_forum_links(sel, url, fetched_at=fetched_at)
        elif page is None and classify(url).kind == KIND_FORUMDISPLAY:
            # A theme that rebuilt the thread list: its thread links and pager still are.
            page = parse_thread_links(sel, url, fetched_at=fetched_at)
        if page is None:
            target = classify(url)
            page = ParsedPage(url=url, kind=KIND_SPECIAL, status=STATUS_UNKNOWN, fetched_at=fetched_at,
                              message=f"no Discuz! {target.kind} markup recognised on this page",
                              tid=target.tid, fid=target.fid, uid=target.uid)
    except Exception as exc:  # a parser bug must not lose the page: report it as unreadable
        page = ParsedPage(url=url, kind=KIND_SPECIAL, status=STATUS_UNKNOWN, fetched_at=fetched_at,
                          message=f"parser error: {type(exc).__name__}: {exc}")
    hrefs = None
    if page.kind == KIND_VIEWTHREAD:
        # Every link's href, read once: the readers' gates ask them (a word no href of the page holds is in no
        # post), the page's links are read from them.
        try:
            hrefs = ALL_HREFS(sel.root)
        except etree.LxmlError:
            hrefs = None
        # Polls, special threads, ratings, comments, attachment facts, tags, 支持/反对, post states: each box
        # that cannot be read costs the page that box only (read_extras says which in page.missing).
        read_extras(page, sel.root, url=url, now=now, tz=zone, hrefs=hrefs,
                    family=FAMILY_7X if family in (FAMILY_LEGACY, FAMILY_6X) else FAMILY_X)
    if flattened and page.kind != KIND_SPECIAL:
        # Tags nested past what libxml2 reads were dropped: the text is all there, not that markup.
        page.status = STATUS_PARTIAL
        page.missing.append("post.content_html")
        page.message = (page.message + "; " if page.message else "") + \
            f"markup nested deeper than {MAX_DEPTH} tags was flattened"
    try:
        page.links = page_links(sel, page, identify, base_href, hrefs, base=base if page.url == url else None,
                                pagers=pagers)
    except Exception:  # noqa: BLE001 - the page's items are kept; only where it leads is lost
        page.links = []
    _link_items(page)
    return _finish(page, http_status, content_type, date_header, charset, version or _FAMILY_VERSIONS.get(family),
                   zone, now)


# The version recorded for a page that states none: its template family.
_FAMILY_VERSIONS = {FAMILY_LEGACY: "7.x", FAMILY_6X: "6.x"}


def _finish(page: ParsedPage, http_status, content_type, date_header, charset, version, zone, now) -> ParsedPage:
    """What every parsed page carries besides its items: response facts, version, registration dates."""
    page.http_status = http_status
    page.content_type = content_type
    page.date_header = date_header.decode("latin-1") if isinstance(date_header, bytes) else date_header
    page.charset = charset
    page.version = version
    for user in page.users:
        _resolve_registered(user, zone, now)
    return page


def _resolver(base: str, identify: Callable[[str], Target] | None) -> Callable[[str], Target] | None:
    """``identify`` for the hrefs of this page (relative to ``base``: its URL joined with its ``<base href>``),
    or ``None``."""
    if identify is None:
        return None

    def resolve(href: str) -> Target:
        absolute = join_url(base, href.strip())
        return identify(absolute) if absolute is not None else Target("other")
    return resolve


def _parse_x_family(sel, url: str, raw_text: str | Callable[[], str], *, now: datetime, tz: tzinfo,
                    fetched_at: datetime, resolve: Callable[[str], Target] | None = None,
                    pagers: PagerDivs | None = None) -> ParsedPage | None:
    """A Discuz! X page of any kind, or ``None`` when no X markup is recognised."""
    if is_thread_page(sel):
        return parse_thread_page(sel, url, now=now, tz=tz, fetched_at=fetched_at, resolve=resolve, pagers=pagers)
    special = special_status(sel, raw_text() if callable(raw_text) else raw_text)
    if special is not None:
        target = classify(url)
        return ParsedPage(url=url, kind=KIND_SPECIAL, status=special[0], message=special[1], fetched_at=fetched_at,
                          tid=target.tid, fid=target.fid, uid=target.uid, page=target.page)
    if is_forum_page(sel):
        return parse_forum_page(sel, url, now=now, tz=tz, fetched_at=fetched_at, resolve=resolve)
    if is_profile_page(sel):
        return parse_profile_page(sel, url, now=now, tz=tz, fetched_at=fetched_at)
    if is_index_page(sel):
        return parse_index_page(sel, url, fetched_at=fetched_at, now=now, tz=tz, resolve=resolve)
    return None


def _link_items(page: ParsedPage) -> None:
    """Give forums, threads and users the URL the page links them by (their first page, their profile)."""
    first: dict[tuple[str, int], str] = {}
    for link in sorted(page.links, key=lambda link: link.rank):
        if link.id is not None and link.page == 1:
            first.setdefault((link.kind, link.id), link.url)
    own = {KIND_FORUMDISPLAY: page.fid, KIND_VIEWTHREAD: page.tid}.get(page.kind)
    if own is not None and page.page == 1:
        first.setdefault((page.kind, own), page.url)
    for forum in page.forums:
        if forum.type != "group":
            forum.url = forum.url or first.get((KIND_FORUMDISPLAY, forum.fid))
    for thread in page.threads:
        thread.url = first.get((KIND_VIEWTHREAD, thread.tid)) or (thread.url if page.kind != KIND_VIEWTHREAD else None)
    for user in page.users:
        user.url = user.url or first.get((KIND_PROFILE, user.uid))


def _resolve_registered(user: User, zone: tzinfo, now: datetime) -> None:
    """Registration shown as a date only (``2006-11-28``) stays a date; with a time it is a datetime."""
    if user.registered_at is not None or not user.registered_at_text:
        return
    dt = parse_absolute(user.registered_at_text, zone, now)
    if dt is None:
        return
    has_time = ":" in user.registered_at_text
    user.registered_at = dt if has_time else date(dt.year, dt.month, dt.day)
