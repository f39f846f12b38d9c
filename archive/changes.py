"""The evidence of change the archive records as pages are written: which posts are gone and which page showed it
(:func:`mark_gone`, the one place the rule lives), and which threads changed state (:func:`state_changes`).

"Gone" is evidence, not a guess. A post is marked gone only when

- a page of its thread was read in full without it (:func:`page_shows_posts_in_full`: a thread page parsed as
  ``ok`` with HTTP 200 and nothing unreadable in it, showing posts): an archived post whose floor lies within the
  page's floors (or past them, on the thread's last page) and is not on the page is ``deleted``, since Discuz
  floors are stable positions; or
- its thread page was read and says the thread is gone or closed to us (:data:`GONE_STATES`): ``not_found``
  makes every post ``deleted``; ``login_required``, ``no_permission`` and ``password`` make them ``hidden``.

A page that failed, was never fetched (incremental skip), or came back as something the parsers could not read
(a soft error page, a flood-control or anti-theft page, a closed site) proves nothing and marks nothing. Each
post found gone gets a ``post_absences`` row naming the crawl, the page and what it showed.
"""
from __future__ import annotations

import json
import sqlite3

from .fulltext import BASELINE_SQL
from .records import PageRecord

# Thread-page states that show every post of a thread is gone (deleted) or no longer shown to us (hidden).
GONE_STATES = {"not_found": "deleted", "no_permission": "hidden", "login_required": "hidden", "password": "hidden"}
# A post already in one of these is not found gone again.
GONE_STATUSES = ("deleted", "hidden")
# Thread states that are a fact about the thread (not about our fetch), so their changes are recorded.
THREAD_STATES = {"ok", *GONE_STATES}
# Thread columns whose changes are the thread's state: opened or hidden, closed, moved.
THREAD_STATE_FIELDS = ("status", "is_closed", "fid")


def page_shows_posts_in_full(record: PageRecord) -> bool:
    """Whether ``record`` is a thread page read in full: absence of a post from it is evidence.

    In: a page's record. Out: True only for a ``viewthread`` page with status ``ok``, HTTP 200 (or unknown,
    for a re-parsed page), no unreadable-page error (a box beside the posts read in part, kind ``box``, is
    not one: the posts were read in full), and at least one post with its floor.
    """
    view = record.thread_view
    return bool(
        view and view.get("floors") and record.kind == "viewthread" and record.status == "ok"
        and record.http_status in (None, 200)
        and not any(kind not in ("special", "box") for kind, _ in record.errors)
    )


def mark_gone(conn: sqlite3.Connection, record: PageRecord, crawl_id: int | None) -> int:
    """Apply the rule to one page: mark the posts it proves gone and record each absence; returns how many."""
    return mark_gone_many(conn, [record], crawl_id)


# The archived posts not yet gone in each scope ([key, tid, low, high], key its place among the pages' scopes),
# in page order, then floor order (as each page's own query would find them); scopes of a whole thread in the
# second parameter. The posts a page shows are in its scope too: they are left out in Python.
_NOT_GONE = f"coalesce(p.status, '') NOT IN ({', '.join(repr(s) for s in GONE_STATUSES)})"
_IN_SCOPE_SQL = f"""SELECT json_extract(s.value, '$[0]') AS scope, p.pid, p.tid, p.floor, p.last_crawl, p.last_seen
FROM json_each(?) s CROSS JOIN posts p
WHERE p.tid = json_extract(s.value, '$[1]')
  AND p.floor BETWEEN json_extract(s.value, '$[2]') AND json_extract(s.value, '$[3]') AND {_NOT_GONE}
UNION ALL
SELECT json_extract(s.value, '$[0]'), p.pid, p.tid, p.floor, p.last_crawl, p.last_seen
FROM json_each(?) s CROSS JOIN posts p
WHERE p.tid = json_extract(s.value, '$[1]') AND {_NOT_GONE}
ORDER BY 1, 4, 2"""
_LAST_FLOOR = 2 ** 62  # "every floor past low"


def mark_gone_many(conn: sqlite3.Connection, records: list[PageRecord], crawl_id: int | None) -> int:
    """:func:`mark_gone` for several pages, in order, in one query; returns how many posts were marked.

    Called by :func:`archive.writes.write_batch` in the pages' transaction, after their own posts are written.
    As page after page would: a post an earlier page marked is not marked again by a later one.
    """
    scopes = [(record, scope) for record in records for scope in _scopes(record)]
    if not scopes:
        return 0
    ranges, threads = [], []
    for key, (_, (tid, low, high, _, _, _)) in enumerate(scopes):
        if low is None:
            threads.append([key, tid])
        else:
            ranges.append([key, tid, low, _LAST_FLOOR if high is None else high])
    found = conn.execute(_IN_SCOPE_SQL, [json.dumps(ranges), json.dumps(threads)]).fetchall()
    shown = [set(scope[3]) for _, scope in scopes]
    marked, updates, absences = set(), [], []
    for key, pid, tid, floor, last_crawl, last_seen in found:
        if pid in marked or pid in shown[key]:
            continue
        marked.add(pid)
        record, (_, _, _, _, status, reason) = scopes[key]
        updates.append((status, pid))
        absences.append((pid, tid, status, crawl_id, record.fetched_at, record.url, reason.format(floor=floor),
                         last_crawl, last_seen))
    conn.executemany("UPDATE posts SET status = ? WHERE pid = ?", updates)
    conn.executemany("INSERT INTO post_absences (pid, tid, status, crawl_id, at, url, reason, last_crawl, last_seen)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", absences)
    return len(absences)


def _scopes(record: PageRecord) -> list[tuple]:
    """``(tid, low, high, pids shown, status, reason)`` of each set of posts ``record`` proves gone but those shown."""
    scopes = []
    if page_shows_posts_in_full(record):
        view = record.thread_view
        low, high = min(view["floors"]), max(view["floors"])
        shown = "the last page" if view["last"] else f"page {view['page']}"
        scopes.append((view["tid"], low, None if view["last"] else high, list(view["pids"]), "deleted",
                       f"{shown} (page {view['page']}) shows floors {low}-{high} without floor {{floor}}"))
    for row in record.states.get("threads", []):
        status = GONE_STATES.get(row.get("status"))
        if status:
            scopes.append((row["tid"], None, None, [], status, f"thread page: {row['status']}"))
    return scopes


def gone_scope(record: PageRecord) -> list[tuple[int, int | None, int | None]]:
    """Where :func:`mark_gone` may look for posts gone on this page: ``(tid, low, high)`` floor ranges.

    ``high`` None is "and every floor past ``low``" (the thread's last page); ``low`` None is every post of
    the thread, whatever its floor (the thread page says the thread is gone). A batch of pages is written
    with the pages' marks after all the batch's posts: a post of another page that falls in an earlier
    page's scope makes the writer keep the two apart (archive/writes.py).
    """
    return [scope[:3] for scope in _scopes(record)]


def state_changes(before: dict | None, row: dict) -> list[tuple[str, object, object]]:
    """``(field, before, after)`` for each thread state ``row`` changes from the archived values ``before``.

    ``before`` maps :data:`THREAD_STATE_FIELDS` to the archived values (None: the thread is not archived).
    Only a value replacing a different archived one is a change (a first sighting is not), and only states
    that are facts about the thread (:data:`THREAD_STATES`): an unreadable page says nothing about it.
    """
    if before is None:
        return []
    changes = []
    for field in THREAD_STATE_FIELDS:
        after, old = row.get(field), before.get(field)
        if after is None or old is None or old == after or (field == "status" and after not in THREAD_STATES):
            continue
        changes.append((field, old, after))
    return changes


# =================================================================================================
# Reading the changes back (the views are archive/fulltext.py's; researchers' listing is research.changes)
# =================================================================================================
CHANGE_KINDS = ("new", "edited", "gone", "state", "figures", "rating", "comment", "votes", "counts")
# (what each row is about, view, the kinds it holds). A rating or comment is about its post; a figure's movement
# (a poll's votes, a reply's debate votes, an attachment's downloads) about its thread.
_KIND_VIEWS = (("post", "post_changes", ("new", "edited", "gone")),
               ("thread", "thread_state_changes", ("new", "state")), ("user", "user_figure_changes", ("figures",)), ("post", "rating_changes", ("rating",)),
               ("post", "comment_changes", ("comment",)), ("thread", "figure_changes", ("votes", "counts")))


def change_rows(conn: sqlite3.Connection, *, crawl: int | None = None, since: str | None = None,
                kinds: tuple[str, ...] = (), forums: tuple[int, ...] = ()) -> list[dict]:
    """Every change the views hold, oldest first, as dicts with ``item`` (post, thread or user) added.

    In: an archive connection; ``crawl`` (a crawl id), ``since`` (an ISO UTC time prefix, compared with ``at``),
    ``kinds`` (of :data:`CHANGE_KINDS`) and ``forums`` (fids; user figures belong to no forum) narrow it.
    Out: rows of ``post_changes`` (new / edited / gone), ``thread_state_changes`` (new / state),
    ``user_figure_changes`` (figures), ``rating_changes`` (rating), ``comment_changes`` (comment) and
    ``figure_changes`` (votes / counts), sorted by crawl, kind, ids. A view the archive does not have yet (an
    archive last opened by an older dzarchive, read without upgrading it) has no rows.
    """
    unknown = set(kinds) - set(CHANGE_KINDS)
    if unknown:
        raise ValueError(f"unknown kind {sorted(unknown)[0]!r} (one of {', '.join(CHANGE_KINDS)})")
    views = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    out = []
    for item, view, holds in _KIND_VIEWS:
        if view not in views or (kinds and not set(kinds) & set(holds)):
            continue
        where, args = [], []
        if item == "user":
            if forums:
                continue
        elif kinds:
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            args += list(kinds)
        if crawl is not None:
            where.append("crawl_id = ?")
            args.append(crawl)
        if since:
            where.append("at >= ?")
            args.append(since)
        if forums and item != "user":
            where.append(f"fid IN ({', '.join('?' for _ in forums)})")
            args += [int(f) for f in forums]
        cursor = conn.execute(f"SELECT * FROM [{view}] WHERE {' AND '.join(where) or '1'}", args)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values), item=item)
            if item == "user":
                row["kind"] = "figures"
                row["figures"] = _new_figures(conn, row)
                if not row["figures"]:
                    continue  # the same change, already seen through the other source
            out.append(row)
    order = {kind: n for n, kind in enumerate(CHANGE_KINDS)}
    out.sort(key=lambda r: (r["crawl_id"] or 0, order[r["kind"]], r.get("tid") or 0, r.get("pid") or 0,
                            r.get("uid") or 0, r.get("at") or "", r.get("field") or ""))
    return out


def baseline_crawl(conn: sqlite3.Connection) -> int:
    """The crawl whose rows are the archive's starting point (see ``BASELINE_SQL``); 0 for an empty archive."""
    return conn.execute(BASELINE_SQL).fetchone()[0]


# What a crawl summary counts, in its order: (heading, kind, item).
SUMMARY_GROUPS = (("new threads", "new", "thread"), ("new posts", "new", "post"), ("edited posts", "edited", "post"),
                  ("posts gone", "gone", "post"), ("thread states", "state", "thread"),
                  ("users' figures", "figures", "user"), ("new ratings", "rating", "post"),
                  ("new comments", "comment", "post"), ("votes moved", "votes", "thread"),
                  ("counts moved", "counts", "thread"))


def crawl_changes(conn: sqlite3.Connection, crawl_id: int) -> dict[str, list[dict]]:
    """What crawl ``crawl_id`` found changed, by :data:`SUMMARY_GROUPS` heading (rows as :func:`change_rows`).

    ``users' figures`` holds one row per user (their latest change in this crawl).
    """
    groups: dict[str, list[dict]] = {heading: [] for heading, _, _ in SUMMARY_GROUPS}
    where = {(kind, item): heading for heading, kind, item in SUMMARY_GROUPS}
    users = {}
    for row in change_rows(conn, crawl=crawl_id):
        heading = where[(row["kind"], row["item"])]
        if row["item"] == "user":
            users[row["uid"]] = row
        else:
            groups[heading].append(row)
    groups["users' figures"] = [users[uid] for uid in sorted(users)]
    return groups


def figure_changes(before: str | dict | None, after: str | dict | None) -> list[tuple[str, object, object]]:
    """``(figure, before, after)`` for each figure that differs between two ``user_figure_changes`` JSON objects.

    Site credits (``extcredits``) are compared one by one under their own names (``铜板``), by value.
    """
    def flat(figures) -> dict:
        figures = json.loads(figures) if isinstance(figures, str) else dict(figures or {})
        out = {k: v for k, v in figures.items() if k != "extcredits"}
        for name, credit in (figures.get("extcredits") or {}).items():
            out[name] = credit.get("value") if isinstance(credit, dict) else credit
        return out

    old, new = flat(before), flat(after)
    return [(name, old.get(name), new.get(name)) for name in list(new) + [n for n in old if n not in new]
            if old.get(name) != new.get(name)]


def _new_figures(conn: sqlite3.Connection, row: dict) -> list[tuple[str, object, object]]:
    """The figures of a ``user_figure_changes`` row not already seen with their new value through the other source.

    A user's figures come beside their posts and on their profile page: a change first seen beside a post is
    the same change when the profile later shows it, and is reported once.
    """
    changed = figure_changes(row["before"], row["after"])
    others = conn.execute(
        "SELECT after FROM user_figure_changes WHERE uid = ? AND source IS NOT ? AND stats_id < ? AND at >= ?",
        [row["uid"], row["source"], row["stats_id"], row["before_seen_at"]]).fetchall()
    seen = set()
    for (after,) in others:
        seen.update(figure_changes({}, after))
    return [(name, old, new) for name, old, new in changed if (name, None, new) not in seen]
