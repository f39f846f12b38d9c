"""Stage 1: a parsed page -> archive rows (ISO 8601 times in the forum's zone, 0/1, JSON text, tidy strings)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone, tzinfo

from scraper.items import KIND_FORUMDISPLAY, KIND_SPECIAL, KIND_VIEWTHREAD, STATUS_OK, STATUS_UNKNOWN, ParsedPage
from scraper.parsers.dates import parse_tz
from scraper.urls import classify

from archive.records import PageRecord

# Error-page states that are a fact about the thread or forum (archived as its status), and those that are about
# the server at that moment (counted as the crawl's errors, never archived as a status).
SUBJECT_STATES = {"not_found", "no_permission", "login_required", "password"}
SOFT_ERROR_STATES = {"closed_site", "flood", "antitheft", "system_error"}

# ParsedPage fields that are not archive columns of the table they map to.
_THREAD_DROP = frozenset({"created_at_text", "last_post_at_text", "forum_name"})
_USER_DROP = frozenset({"registered_at_text", "last_login_text"})


def iso(value, zone: tzinfo) -> str | None:
    """A datetime in the forum's zone as ISO 8601 with offset; a date as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(zone).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _utc(value: datetime | None) -> str:
    value = value or datetime.now(timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _cleaned(item, drop: frozenset = frozenset()) -> dict:
    """An item's fields but ``drop`` as a row: strings stripped, booleans 0/1 (it runs for every field of every
    post: the common classes are told apart by identity before any ``isinstance``)."""
    row = vars(item).copy()
    for name in drop:
        row.pop(name, None)
    for name, value in row.items():  # values replaced in place: the dict's size never changes
        kind = value.__class__
        if kind is str:
            row[name] = value.strip()
        elif value is None or kind is int:
            continue
        elif kind is bool:
            row[name] = int(value)
        elif isinstance(value, str):  # a str subclass (bool has none)
            row[name] = value.strip()
    return row


# One encoder for every JSON column: sorted keys, non-ASCII kept, anything else as str(). The C encoder is
# built once where this Python has one (``JSONEncoder.encode`` builds a new one per call, which costs more
# than encoding a user's figures).
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
try:
    from json.encoder import c_make_encoder, encode_basestring
    _ENCODE = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", True, False, True)
except (ImportError, TypeError):  # pragma: no cover - a Python without that C accelerator
    _ENCODE = None


def _json(value) -> str | None:
    if value in (None, [], {}):
        return None
    if _ENCODE is None or value.__class__ not in (dict, list):
        return _JSON.encode(value)
    return "".join(_ENCODE(value, 0))


def normalise_page(page: ParsedPage, zone: tzinfo | str | None = None) -> PageRecord:
    """Turn a :class:`ParsedPage` into a :class:`PageRecord` with one row dict per archive row."""
    zone = parse_tz(zone)
    seen = _utc(page.fetched_at)
    record = PageRecord(url=page.url, kind=page.kind, status=page.status, fetched_at=seen,
                        http_status=page.http_status, message=page.message, version=page.version)
    # URLs are the links the pages showed (a page that did not show one leaves the archived one alone).
    forums = []
    for f in page.forums:
        row = _cleaned(f)
        row["last_post_at"] = iso(f.last_post_at, zone)
        forums.append(row)
    threads = []
    for t in page.threads:
        row = _cleaned(t, _THREAD_DROP)
        row["created_at"] = iso(t.created_at, zone)
        row["last_post_at"] = iso(t.last_post_at, zone)
        threads.append(row)
    posts, quotes = [], []
    for p in page.posts:
        row = _cleaned(p)
        row["posted_at"] = iso(p.posted_at, zone)
        row["edited_at"] = iso(p.edited_at, zone)
        row["quotes"] = _json([vars(q) for q in p.quotes]) if p.quotes else None
        posts.append(row)
        for position, q in enumerate(p.quotes, 1):
            quotes.append({"pid": p.pid, "position": position, "quoted_pid": q.pid, "quoted_author": q.author,
                           "quoted_time_text": q.time_text})
    users = []
    for u in page.users:
        row = _cleaned(u, _USER_DROP)
        row["registered_at"] = iso(u.registered_at, zone)
        users.append(row)
    stats = []
    for s in page.user_stats:
        stats.append({
            "uid": s.uid, "seen_at": iso(s.seen_at or page.fetched_at, zone), "source": s.source,
            "threads": s.threads, "posts": s.posts, "replies": s.replies, "credits": s.credits,
            "digests": s.digests, "followers": s.followers, "online_hours": s.online_hours,
            "extcredits": _json(s.extcredits), "approx": _json(sorted(s.approx)), "raw": _json(s.raw),
        })
    attachments = [_cleaned(a) for a in page.attachments]

    states = {}
    if page.kind == KIND_SPECIAL:
        # The state of a thread or forum we could not read; the store decides whether it makes a row.
        # Which thread or forum: what the link that led here said (the crawler fills it in), else the URL.
        # Only a state that is a fact about the thread or forum (SUBJECT_STATES); a closed site, flood control or a
        # system error is about the server at that moment, and counts as the crawl's error (SOFT_ERROR_STATES).
        target = classify(page.url)
        tid, fid = page.tid or target.tid, page.fid or target.fid
        if tid and page.status in SUBJECT_STATES:
            states["threads"] = [{"tid": tid, "status": page.status, "url": page.url}]
        elif fid and page.status in SUBJECT_STATES:
            states["forums"] = [{"fid": fid, "status": page.status, "url": page.url}]
        if page.status == STATUS_UNKNOWN:
            record.errors.append(("unparsed", page.message or "page not recognised"))
            record.keep_body = True
        elif page.status in SOFT_ERROR_STATES:
            record.errors.append(("soft", f"{page.status}: {page.message}"))
            record.keep_body = True
        else:
            record.errors.append(("special", f"{page.status}: {page.message}"))
    elif page.status != STATUS_OK:
        record.keep_body = True

    thread_pages, forum_pages = [], []
    if page.kind == KIND_VIEWTHREAD and page.tid and page.page:
        thread_pages.append({"tid": page.tid, "page": page.page, "fetched_at": seen, "url": page.url})
        floors = [p.floor for p in page.posts if p.floor is not None]
        record.thread_view = {"tid": page.tid, "page": page.page, "last": page.page >= (page.pages or 1),
                              "pids": [p.pid for p in page.posts], "floors": floors}
        if page.page >= (page.pages or 1) and threads:
            # The incremental watermark, in the list's terms: what the list row showed when this
            # thread was fetched; without a list, what the thread's last page itself shows.
            listed = page.listed or {}
            latest = max((p.posted_at for p in page.posts if p.posted_at), default=None)
            replies = threads[0].get("replies")
            if replies is None and floors:
                replies = max(floors) - 1
            threads[0]["synced_replies"] = listed.get("replies", replies)
            threads[0]["synced_last_post_at"] = listed.get("last_post_at") or iso(latest, zone)
    elif page.kind == KIND_FORUMDISPLAY and page.fid and page.page:
        forum_pages.append({"fid": page.fid, "page": page.page, "fetched_at": seen, "url": page.url})
        for row in forums:
            if row["fid"] == page.fid:
                row["pages"] = page.pages
                if page.status == STATUS_OK:
                    row["status"] = STATUS_OK  # a good answer resets what an earlier error page said

    record.rows = {"forums": forums, "threads": threads, "posts": posts, "quotes": quotes, "users": users,
                   "user_stats": stats, "attachments": attachments, "thread_pages": thread_pages,
                   "forum_pages": forum_pages}
    record.states = states
    return record


class NormalisePipeline:
    """Scrapy pipeline: :class:`ParsedPage` items in, :class:`PageRecord` out (other items pass through)."""

    def __init__(self, zone: str | None = None):
        self.zone = parse_tz(zone)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("DZ_TIMEZONE"))

    def process_item(self, item, spider=None):
        if isinstance(item, ParsedPage):
            record = normalise_page(item, self.zone)
            record.body = item.raw_body
            record.content_type = item.content_type
            record.date_header = item.date_header
            return record
        return item
