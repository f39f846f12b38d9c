"""Stage 1: a parsed page -> archive rows (ISO 8601 times in the forum's zone, 0/1, JSON text, tidy strings)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone, tzinfo

from scraper.items import (BOX_PARTIAL, KIND_FORUMDISPLAY, KIND_SPECIAL, KIND_TRADEINFO, KIND_VIEWTHREAD, STATUS_OK,
                           STATUS_UNKNOWN, ParsedPage)
from scraper.parsers.dates import parse_http_date, parse_tz
from scraper.urls import classify

from archive.records import PageRecord

# Error-page states that are a fact about the thread or forum (archived as its status), and those that are about
# the server at that moment (counted as the crawl's errors, never archived as a status).
SUBJECT_STATES = {"not_found", "no_permission", "login_required", "password"}
SOFT_ERROR_STATES = {"closed_site", "flood", "antitheft", "system_error", "barrier"}

# ParsedPage fields that are not archive columns of the table they map to.
_THREAD_DROP = frozenset({"created_at_text", "last_post_at_text", "forum_name"})
_USER_DROP = frozenset({"registered_at_text", "last_login_text"})
_POLL_DROP = frozenset({"options"})
_ACTIVITY_DROP = frozenset({"applicant_list"})
# Item fields holding times (datetime or date) -> ISO 8601 in the forum's zone.
_TIME_FIELDS = ("created_at", "last_post_at", "posted_at", "edited_at", "uploaded_at", "expires_at", "starts_at",
                "ends_at", "rated_at", "applied_at")
# Item fields holding lists or dicts -> JSON text.
_JSON_FIELDS = ("missing", "rate_totals", "affirm_debater_list", "nega_debater_list")
# What the thread pages show that changes over time, kept as a series in figure_history:
# (table, subject, item fields naming which one, figures).
FIGURES = (
    ("threads", "thread", (), ("recommend_add", "recommend_sub")),
    ("polls", "poll", (), ("voters",)),
    ("poll_options", "poll_option", ("position",), ("votes",)),
    ("debates", "debate", (), ("affirm_votes", "nega_votes", "affirm_debaters", "nega_debaters")),
    ("debate_posts", "debate_post", ("pid",), ("voters",)),
    ("activities", "activity", (), ("applicants", "remaining")),
    ("attachments", "attachment", ("pid", "ref"), ("downloads",)),
    ("trades", "trade", ("pid",), ("amount",)),
)


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


def _box_row(item, zone: tzinfo, drop: frozenset = frozenset()) -> dict:
    """A box or its part as a row: times in ISO 8601, lists and dicts as JSON text, strings stripped."""
    row = _cleaned(item, drop)
    for name in _TIME_FIELDS:
        if name in row:
            row[name] = iso(row[name], zone)
    for name in _JSON_FIELDS:
        if name in row:
            row[name] = _json(row[name])
    return row


def attachment_ref(aid: int | None, url: str | None) -> str | None:
    """What identifies an attachment within its post (attachments.ref): ``aid:N`` where the aid is known, else the URL."""
    return f"aid:{aid}" if aid is not None else url


def _extras(page: ParsedPage, zone: tzinfo) -> dict[str, list[dict]]:
    """Rows of what a thread page carries besides posts: boxes, their parts, ratings, comments, tags."""
    rows: dict[str, list[dict]] = {}
    for poll in page.polls:
        rows.setdefault("polls", []).append(_box_row(poll, zone, _POLL_DROP))
        rows.setdefault("poll_options", []).extend(_box_row(option, zone) for option in poll.options)
    for table, items in (("rewards", page.rewards), ("debates", page.debates), ("debate_posts", page.debate_posts),
                         ("trades", page.trades), ("ratings", page.ratings), ("post_comments", page.post_comments),
                         ("thread_tags", page.thread_tags)):
        if items:
            rows[table] = [_box_row(item, zone) for item in items]
    for activity in page.activities:
        rows.setdefault("activities", []).append(_box_row(activity, zone, _ACTIVITY_DROP))
        rows.setdefault("activity_applicants", []).extend(
            _box_row(applicant, zone) for applicant in activity.applicant_list if applicant.uid is not None)
    return rows


def _figures(rows: dict[str, list[dict]], seen_at: str | None, tid: int | None) -> list[dict]:
    """The figure_history rows the page's rows make: one per figure it shows (the store keeps changes only).
    ``tid`` is the page's thread, for rows that do not name theirs (attachments)."""
    out = []
    for table, subject, which, figures in FIGURES:
        for row in rows.get(table, ()):
            for figure in figures:
                value = row.get(figure)
                if value is None:
                    continue
                entry = {"subject": subject, "tid": row.get("tid", tid), "pid": row.get("pid") if "pid" in which else None,
                         "ref": None, "figure": figure, "value": value, "seen_at": seen_at}
                if "position" in which:
                    entry["ref"] = str(row["position"])
                elif "ref" in which:
                    entry["ref"] = row.get("ref")
                out.append(entry)
    return out


def _partial_boxes(page: ParsedPage) -> list[str]:
    """What the page's boxes could not read, one note per box (``poll of thread 7: options``)."""
    notes = []
    for kind, boxes in (("poll", page.polls), ("reward", page.rewards), ("debate", page.debates),
                        ("activity", page.activities), ("trade", page.trades)):
        for box in boxes:
            if box.status == BOX_PARTIAL:
                notes.append(f"{kind} box of thread {box.tid} read in part: {', '.join(box.missing) or 'unknown'} not read")
    return notes


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
        row["rate_totals"] = _json(p.rate_totals) if p.rate_totals else None
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
    attachments = []
    for a in page.attachments:
        row = _box_row(a, zone)
        row["ref"] = attachment_ref(a.aid, a.url)
        attachments.append(row)
    extras = _extras(page, zone)

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
    # A box on the page that could not be read whole (or at all): said, and the page kept for re-parsing; the
    # posts it shows are read in full all the same (kind "box" does not stop the gone-post rule).
    partial = _partial_boxes(page)
    if page.kind == KIND_VIEWTHREAD and page.status == STATUS_OK and page.missing:
        # A reader that failed (its reason in the message), or parts of boxes beside the posts not read.
        partial.append(page.message or f"read in part: {', '.join(page.missing)} not read")
    for note in partial:
        record.errors.append(("box", note))
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
                   "forum_pages": forum_pages, **extras}
    if page.kind in (KIND_VIEWTHREAD, KIND_TRADEINFO):
        now = parse_http_date(page.date_header) or page.fetched_at
        history = _figures(record.rows, iso(now, zone) if now is not None else None, page.tid)
        if history:
            record.rows["figure_history"] = history
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
