"""Pure Discuz! page parsers: page URL + body bytes in, a :class:`~scraper.items.ParsedPage` out.

Nothing here knows about Scrapy. :func:`parse_page` recognises the kind of page (thread, forum
list, index, profile, or a special page such as "no permission") from its markup, falling back
on the URL, and never raises for a page it cannot read: it returns a ``special``/``unknown``
page carrying the reason, so that the caller can keep the raw page for re-parsing.
"""
from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo

from ..items import KIND_SPECIAL, STATUS_UNKNOWN, ParsedPage, User
from ..urls import classify
from .common import decode_body, detect_version, make_selector, special_status
from .dates import DEFAULT_TZ, parse_absolute, parse_http_date, parse_tz
from .forum import is_forum_page, parse_forum_page
from .index import is_index_page, parse_index_page
from .profile import is_profile_page, parse_profile_page
from .thread import is_thread_page, parse_thread_page

__all__ = ["parse_page", "parse_thread_page", "parse_forum_page", "parse_index_page", "parse_profile_page",
           "decode_body", "DEFAULT_TZ", "parse_tz"]


def parse_page(url: str, body: bytes | str, *, content_type: str | None = None, http_status: int | None = 200,
               date_header: str | bytes | None = None, fetched_at: datetime | None = None,
               tz: tzinfo | str | None = None) -> ParsedPage:
    """Parse any Discuz! page.

    ``date_header`` (the response's ``Date``) anchors relative times such as ``3 天前``; without it
    ``fetched_at`` (default: now) does. ``tz`` is the forum's time zone (default UTC+8).
    """
    zone = parse_tz(tz)
    fetched_at = fetched_at or datetime.now(timezone.utc)
    now = parse_http_date(date_header) or fetched_at
    sel, charset = make_selector(body, url, content_type)
    raw_text = sel.get() if len(body) < 20000 else ""
    try:
        if is_thread_page(sel):
            page = parse_thread_page(sel, url, now=now, tz=zone, fetched_at=fetched_at)
        elif (special := special_status(sel, raw_text)) is not None:
            page = ParsedPage(url=url, kind=KIND_SPECIAL, status=special[0], message=special[1], fetched_at=fetched_at)
            target = classify(url)
            page.tid, page.fid, page.uid, page.page = target.tid, target.fid, target.uid, target.page
        elif is_forum_page(sel):
            page = parse_forum_page(sel, url, now=now, tz=zone, fetched_at=fetched_at)
        elif is_profile_page(sel):
            page = parse_profile_page(sel, url, now=now, tz=zone, fetched_at=fetched_at)
        elif is_index_page(sel):
            page = parse_index_page(sel, url, fetched_at=fetched_at)
        else:
            target = classify(url)
            page = ParsedPage(url=url, kind=KIND_SPECIAL, status=STATUS_UNKNOWN, fetched_at=fetched_at,
                              message=f"no Discuz! {target.kind} markup recognised on this page",
                              tid=target.tid, fid=target.fid, uid=target.uid)
    except Exception as exc:  # a parser bug must not lose the page: report it as unreadable
        page = ParsedPage(url=url, kind=KIND_SPECIAL, status=STATUS_UNKNOWN, fetched_at=fetched_at,
                          message=f"parser error: {type(exc).__name__}: {exc}")
    page.http_status = http_status
    page.content_type = content_type
    page.date_header = date_header.decode("latin-1") if isinstance(date_header, bytes) else date_header
    page.charset = charset
    page.version = detect_version(sel)
    for user in page.users:
        _resolve_registered(user, zone, now)
    return page


def _resolve_registered(user: User, zone: tzinfo, now: datetime) -> None:
    """Registration shown as a date only (``2006-11-28``) stays a date; with a time it is a datetime."""
    if user.registered_at is not None or not user.registered_at_text:
        return
    dt = parse_absolute(user.registered_at_text, zone, now)
    if dt is None:
        return
    has_time = ":" in user.registered_at_text
    user.registered_at = dt if has_time else date(dt.year, dt.month, dt.day)
