"""Writing a batch of pages (:func:`write_batch`): the archive's merge rules, one statement per table per batch.

A batch is archived exactly as if its pages were written one after another, each row merged into what the
earlier ones left (see :mod:`archive.db`): same rows, revisions, thread changes, figures and absences. What a
row's write depends on (is the post archived, with which text? the thread's state? the user's latest
figures?) is read for the whole batch in one query per table, then followed in Python as the batch's own
rows change it; each table then gets one ``executemany`` of one merge statement (``INSERT ... ON CONFLICT DO
UPDATE``, a NULL never erasing a value). The search indexes are fed once per batch, not by a trigger per row
(:func:`archive.fulltext.reindex`).

The one order that matters across tables is that of a page's posts and the posts it proves gone
(:func:`archive.changes.mark_gone`, which reads the posts table): each page's marks are made after the
posts of the pages before it and its own, and before those of a later page that has a post where the marks
may look (:func:`archive.changes.gone_scope`), which starts a new run of posts.
"""
from __future__ import annotations

import json
import sqlite3
from functools import lru_cache

import schemas

from .changes import THREAD_STATE_FIELDS, gone_scope, mark_gone_many, state_changes
from .fulltext import BATCH_INDEXED, FTS_INDEXES, PAUSE_TABLE, reindex
from .records import PageRecord

STAT_FIGURES = ("threads", "posts", "replies", "credits", "digests", "followers", "online_hours", "extcredits",
                "approx")
# Pages whose state says the thing exists but cannot be read by us (as opposed to not_found).
EXISTS_STATES = {"no_permission", "login_required", "password"}
# Times some pages show to the minute and others only as a date: the more precise value wins.
PRECISION_COLUMNS = {("users", "registered_at"), ("threads", "created_at")}
# A page's URL is the first link the site was seen to show for it: later pages may link it in another
# spelling (a pager's page=1 link), which must not make a re-crawl rewrite the row.
FIRST_SEEN_COLUMNS = {("forums", "url"), ("threads", "url"), ("users", "url")}
# Columns the archive fills in itself: when the page was seen, and by which crawl.
_SEEN = ("first_seen", "last_seen")
_CRAWL = ("first_crawl", "last_crawl")
_IN = "IN (SELECT value FROM json_each(?))"
# What a thread page carries besides posts (scraper/parsers/extras.py): merged as they are, in this order.
EXTRA_TABLES = ("polls", "poll_options", "rewards", "debates", "debate_posts", "activities", "activity_applicants",
                "trades", "ratings", "post_comments", "thread_tags")
# How a summary names the rows of what the archive holds beside the posts (the crawl summary, dzarchive stats).
EXTRA_NAMES = {"polls": "polls", "poll_options": "poll options", "rewards": "rewards", "debates": "debates",
               "debate_posts": "debate stands", "activities": "activities", "activity_applicants": "applicants",
               "trades": "goods", "ratings": "ratings", "post_comments": "comments", "thread_tags": "tags",
               "attachments": "attachments", "figure_history": "figure sightings"}


def beside_posts(counts: dict[str, int]) -> str:
    """What ``counts`` (table -> rows) hold beside the posts, as summaries print it: ``polls 2, ratings 13``."""
    return ", ".join(f"{name} {counts[table]:,}" for table, name in EXTRA_NAMES.items() if counts.get(table))


def _assignment(table: str, column: str) -> str:
    if (table, column) in FIRST_SEEN_COLUMNS:
        return f"[{column}] = coalesce([{column}], excluded.[{column}])"
    if (table, column) in PRECISION_COLUMNS:  # a NULL's length is NULL: the archived value stays
        return (f"[{column}] = CASE WHEN length(excluded.[{column}]) >= length(coalesce([{column}], ''))"
                f" THEN excluded.[{column}] ELSE [{column}] END")
    return f"[{column}] = coalesce(excluded.[{column}], [{column}])"


class _Merge:
    """The merge statement of one table and the parameters of a row for it.

    ``INSERT`` of every column; on conflict every column takes the row's value unless that is NULL
    (``first_seen``/``first_crawl`` are kept, the rules above apply), so one statement serves rows that
    carry different columns.
    """

    def __init__(self, table: str):
        spec = schemas.tables()[table]
        self.table = table
        # A table keyed by a row id (post_comments) merges on its declared ``unique`` columns; the id is SQLite's.
        key = spec.get("unique") or spec["pk"]
        self.columns = tuple(c for c in spec["columns"] if not (spec["pk"] == ["id"] and c == "id"))
        self.known = frozenset(self.columns)
        self.seen_at = [i for i, c in enumerate(self.columns) if c in _SEEN]
        self.crawl_at = [i for i, c in enumerate(self.columns) if c in _CRAWL]
        updates = [c for c in self.columns if c not in key and c not in ("first_seen", "first_crawl")]
        self.sql = (f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in self.columns)})"
                    f" VALUES ({', '.join('?' for _ in self.columns)})"
                    f" ON CONFLICT ({', '.join(f'[{c}]' for c in key)}) DO UPDATE SET "
                    + ", ".join(_assignment(table, c) for c in updates))

    def params(self, row: dict, seen: str | None, crawl_id: int | None) -> list:
        values = _column_values(self.table, self.columns, self.known, row)
        if seen:
            for i in self.seen_at:
                values[i] = seen
        if crawl_id is not None:
            for i in self.crawl_at:
                values[i] = crawl_id
        return values


def _column_values(table: str, columns: tuple[str, ...], known: frozenset, row: dict) -> list:
    """``row``'s values in ``columns`` order (None where it has none); a column ``known`` lacks is refused as
    SQLite would refuse it."""
    if not known.issuperset(row):
        raise sqlite3.OperationalError(f"table {table} has no column named {min(set(row) - known)}")
    return list(map(row.get, columns))


@lru_cache(maxsize=None)
def _merge(table: str) -> _Merge:
    return _Merge(table)


def _read(conn: sqlite3.Connection, sql: str, keys) -> list:
    """Rows of ``sql`` (whose one parameter is the JSON list of ``keys``), none when there are no keys."""
    keys = list(dict.fromkeys(keys))
    return conn.execute(sql, [json.dumps(keys)]).fetchall() if keys else []


def write_batch(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None,
                keep_all_pages: bool = False) -> int:
    """Write ``records`` in order, in the caller's transaction; returns the rows written or updated.

    In: an open connection inside a transaction (the caller commits, or rolls back on an exception, so
    the pages are archived all or none), the pages, the crawl writing them. Out: the count the pages' rows
    make (as :meth:`archive.db.Archive.write_many` reports it).
    """
    indexed = {fts for (fts,) in conn.execute(
        f"SELECT name FROM sqlite_master WHERE name {_IN}", [json.dumps([f[0] for f in FTS_INDEXES])])}
    conn.execute(f"INSERT INTO [{PAUSE_TABLE}] (id) VALUES (1)")
    texts: dict[str, tuple[dict, dict]] = {}  # index -> (text before the batch, text after) by key
    written = _write_forums(conn, records, crawl_id)
    written += _write_threads(conn, records, crawl_id, texts.setdefault("threads_fts", ({}, {})))
    written += _merge_rows(conn, records, "users", crawl_id, seen=True)
    written += _write_posts(conn, records, crawl_id, texts.setdefault("posts_fts", ({}, {})))
    written += _merge_rows(conn, records, "quotes", None)
    written += _merge_rows(conn, records, "attachments", crawl_id, seen=True)
    for table in EXTRA_TABLES:
        written += _merge_rows(conn, records, table, crawl_id, seen=True)
    written += _write_figures(conn, records, crawl_id)
    written += _merge_rows(conn, records, "thread_pages", crawl_id, with_crawl=True)
    written += _merge_rows(conn, records, "forum_pages", crawl_id, with_crawl=True)
    written += _write_stats(conn, records, crawl_id)
    conn.executemany("INSERT INTO errors (crawl_id, url, kind, message, at) VALUES (?, ?, ?, ?, ?)",
                     [(crawl_id, r.url, kind, message, r.fetched_at) for r in records for kind, message in r.errors])
    conn.executemany(
        "INSERT OR REPLACE INTO pages (url, kind, status, http_status, content_type, date_header,"
        " fetched_at, crawl_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.url, r.kind, r.status, r.http_status, r.content_type, r.date_header, r.fetched_at, crawl_id, r.body)
         for r in records if r.body is not None and (r.keep_body or keep_all_pages)])
    for fts, _, _, column in FTS_INDEXES:
        if fts in indexed and fts in BATCH_INDEXED:
            reindex(conn, fts, column, *texts[fts])
    conn.execute(f"DELETE FROM [{PAUSE_TABLE}]")
    return written


def _write_figures(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None) -> int:
    """figure_history rows, each only when it differs from the latest value of its series (subject, tid, pid, ref,
    figure) by ``seen_at``, as a user's figures are kept (:func:`_write_stats`)."""
    rows = [row for r in records for row in r.rows.get("figure_history", ())]
    if not rows:
        return 0
    latest = {}
    # Each series of the batch: its latest row, one step down the (tid, subject, figure, pid, ref, seen_at) index,
    # however long its history (an active poll's votes gain a row at every crawl).
    for subject, tid, pid, ref, figure, seen_at, value in _read(
            conn, "SELECT h.subject, h.tid, h.pid, h.ref, h.figure, h.seen_at, h.value"
                  " FROM json_each(?) k JOIN figure_history h ON h.id = (SELECT id FROM figure_history"
                  " WHERE tid IS json_extract(k.value, '$[1]') AND subject = json_extract(k.value, '$[0]')"
                  " AND figure = json_extract(k.value, '$[4]') AND pid IS json_extract(k.value, '$[2]')"
                  " AND ref IS json_extract(k.value, '$[3]') ORDER BY seen_at DESC, id DESC LIMIT 1)",
            ((row["subject"], row.get("tid"), row.get("pid"), row.get("ref"), row["figure"]) for row in rows)):
        latest[(subject, tid, pid, ref, figure)] = (seen_at, value)
    columns = tuple(c for c in schemas.columns("figure_history") if c != "id")
    known = frozenset(columns)
    params = []
    for row in rows:
        key = (row["subject"], row.get("tid"), row.get("pid"), row.get("ref"), row["figure"])
        last = latest.get(key)
        if last is not None and last[1] == row["value"]:
            continue
        params.append(_column_values("figure_history", columns, known, dict(row, crawl_id=crawl_id)))
        # An older page read later (a re-parse) is history, not the latest value.
        if last is None or _stats_order(row.get("seen_at")) >= _stats_order(last[0]):
            latest[key] = (row.get("seen_at"), row["value"])
    conn.executemany(f"INSERT INTO figure_history ({', '.join(f'[{c}]' for c in columns)})"
                     f" VALUES ({', '.join('?' for _ in columns)})", params)
    return len(params)


def _merge_rows(conn: sqlite3.Connection, records: list[PageRecord], table: str, crawl_id: int | None, *,
                seen: bool = False, with_crawl: bool = False) -> int:
    merge = _merge(table)
    params = [merge.params(dict(row, crawl_id=crawl_id) if with_crawl else row, r.fetched_at if seen else None,
                           crawl_id) for r in records for row in r.rows.get(table, ())]
    if params:  # most pages carry none of most tables (polls, trades…): no statement for them
        conn.executemany(merge.sql, params)
    return len(params)


def _write_forums(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None) -> int:
    """Forum rows, and the states of forums the pages could not show (a row only for a forum known to exist)."""
    merge = _merge("forums")
    known = {fid for (fid,) in _read(conn, f"SELECT fid FROM forums WHERE fid {_IN}",
                                      (row["fid"] for r in records for row in r.states.get("forums", ())))}
    params = []
    for r in records:
        for row in r.rows.get("forums", ()):
            params.append(merge.params(row, r.fetched_at, crawl_id))
            known.add(row["fid"])
        for row in r.states.get("forums", ()):
            if row["fid"] in known or row.get("status") in EXISTS_STATES:
                params.append(merge.params(row, r.fetched_at, crawl_id))
                known.add(row["fid"])
    conn.executemany(merge.sql, params)
    return len(params)


def _write_threads(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None,
                   titles: tuple[dict, dict]) -> int:
    """Thread rows and states, with the changes of state they make (``thread_changes``)."""
    merge = _merge("threads")
    fields = THREAD_STATE_FIELDS + ("title",)
    tids = [row["tid"] for r in records for group in (r.rows, r.states) for row in group.get("threads", ())]
    archived = {tid: dict(zip(fields, values)) for tid, *values in _read(
        conn, f"SELECT tid, {', '.join(fields)} FROM threads WHERE tid {_IN}", tids)}
    before, after = titles
    before.update((tid, values["title"]) for tid, values in archived.items())
    params, changes = [], []
    for r in records:
        for state, row in [(False, row) for row in r.rows.get("threads", ())] + [
                (True, row) for row in r.states.get("threads", ())]:
            tid = row["tid"]
            if state and tid not in archived and row.get("status") not in EXISTS_STATES:
                continue
            old = archived.get(tid)
            changes += [(tid, field, str(was), str(now), crawl_id, r.fetched_at, r.url)
                        for field, was, now in state_changes(old, row)]
            current = archived.setdefault(tid, dict.fromkeys(fields))
            current.update((f, row[f]) for f in fields if row.get(f) is not None)
            after[tid] = current["title"]
            params.append(merge.params(row, r.fetched_at, crawl_id))
    conn.executemany(merge.sql, params)
    conn.executemany("INSERT INTO thread_changes (tid, field, before, after, crawl_id, at, url)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", changes)
    return len(params)


def _hits(position: tuple, scopes: dict) -> bool:
    """Whether a post at ``position`` (tid, floor) is where one of ``scopes`` (tid -> [(low, high)]) looks."""
    tid, floor = position
    return any(low is None or (floor is not None and floor >= low and (high is None or floor <= high))
               for low, high in scopes.get(tid, ()))


def _write_posts(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None,
                 texts: tuple[dict, dict]) -> int:
    """Posts (an edited one keeping its earlier version in ``post_revisions``), then the posts each page proves gone."""
    merge = _merge("posts")
    pids = [row["pid"] for r in records for row in r.rows.get("posts", ())]
    # pid -> [content_text, content_html, edited_note, first_seen, last_seen, latest seen_until of a revision]
    archived, positions = {}, {}
    for pid, tid, floor, *values in _read(
            conn, "SELECT pid, tid, floor, content_text, content_html, edited_note, first_seen, last_seen,"
                  " (SELECT max(seen_until) FROM post_revisions r WHERE r.pid = p.pid)"
                  f" FROM posts p WHERE pid {_IN}", pids):
        archived[pid] = values
        positions[pid] = {(tid, floor)}
    before, after = texts
    before.update((pid, values[0]) for pid, values in archived.items())
    revisions, written = [], 0
    run_params, run_pages, run_scope = [], [], {}

    def write_run() -> int:
        conn.executemany(merge.sql, run_params)
        return len(run_params) + mark_gone_many(conn, run_pages, crawl_id)

    for r in records:
        seen, params = r.fetched_at, []
        for row in r.rows.get("posts", ()):
            pid = row["pid"]
            places = positions.setdefault(pid, set())
            places.add((row.get("tid"), row.get("floor")))
            text, html, note = row.get("content_text"), row.get("content_html"), row.get("edited_note")
            old = archived.get(pid)
            if old is None:
                archived[pid] = [text, html, note, seen, seen, None]
            else:
                if (old[0] or "", old[1] or "") != (text or "", html or ""):
                    revisions.append((pid, old[0], old[1], old[2], old[5] or old[3], old[4], crawl_id, seen))
                    old[5] = old[4] if old[5] is None or (old[4] is not None and old[4] > old[5]) else old[5]
                old[0] = old[0] if text is None else text
                old[1] = old[1] if html is None else html
                old[2] = old[2] if note is None else note
                old[4] = seen or old[4]
            after[pid] = archived[pid][0]
            params.append(merge.params(row, seen, crawl_id))
        # A post of this page where an earlier page of the run looks for gone posts: that page's marks first.
        if run_scope and any(_hits(place, run_scope) for row in r.rows.get("posts", ())
                             for place in positions[row["pid"]] if place[0] in run_scope):
            written += write_run()
            run_params, run_pages, run_scope = [], [], {}
        run_params += params
        run_pages.append(r)
        for tid, low, high in gone_scope(r):
            run_scope.setdefault(tid, []).append((low, high))
    written += write_run()
    conn.executemany(
        "INSERT INTO post_revisions (pid, content_text, content_html, edited_note, seen_from, seen_until,"
        " crawl_id, replaced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", revisions)
    return written


def _stats_order(seen_at) -> tuple:
    return (0, "") if seen_at is None else (1, seen_at)


def _write_stats(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None) -> int:
    """A user's figures, each set only when it differs from their latest (by ``seen_at``) of the same source."""
    columns = tuple(c for c in schemas.columns("user_stats") if c != "id")
    known = frozenset(columns)
    latest = {}
    # Each (uid, source) of the batch: its latest row, one step down the (uid, source, seen_at) index, however
    # long the user's history.
    for uid, source, seen_at, *figures in _read(
            conn, f"SELECT s.uid, s.source, s.seen_at, {', '.join(f's.{f}' for f in STAT_FIGURES)}"
                  " FROM json_each(?) k JOIN user_stats s ON s.id = (SELECT id FROM user_stats"
                  " WHERE uid = json_extract(k.value, '$[0]') AND source IS json_extract(k.value, '$[1]')"
                  " ORDER BY seen_at DESC, id DESC LIMIT 1)",
            ((row["uid"], row.get("source")) for r in records for row in r.rows.get("user_stats", ()))):
        latest[(uid, source)] = (seen_at, tuple(figures))
    params = []
    for r in records:
        for row in r.rows.get("user_stats", ()):
            key, figures = (row["uid"], row.get("source")), tuple(map(row.get, STAT_FIGURES))
            last = latest.get(key)
            if last is not None and last[1] == figures:
                continue
            params.append(_column_values("user_stats", columns, known, dict(row, crawl_id=crawl_id)))
            if last is None or _stats_order(row.get("seen_at")) >= _stats_order(last[0]):
                latest[key] = (row.get("seen_at"), figures)
    conn.executemany(f"INSERT INTO user_stats ({', '.join(f'[{c}]' for c in columns)})"
                     f" VALUES ({', '.join('?' for _ in columns)})", params)
    return len(params)
