"""What changed between crawls, for researchers: :func:`changes` lists new threads and posts, edited posts (text
before and after), posts gone (the last crawl that saw them, the first that did not, the page that showed it),
thread state changes, users' changed figures, new ratings (评分) and 点评 comments, and the movements of the
figures thread pages show (votes: poll and debate votes, 支持/反对; counts: applicants, downloads, goods in stock),
one row per change.

It reads the views ``post_changes``, ``thread_state_changes``, ``user_figure_changes``, ``rating_changes``,
``comment_changes`` and ``figure_changes`` (:mod:`archive.fulltext`) through :func:`archive.changes.change_rows`;
what counts as gone is :mod:`archive.changes`'s rule.

>>> import research
>>> db = research.open_archive("data/archive.db", readonly=True)
>>> [(c["kind"], c["tid"], c["pid"]) for c in research.changes(db, kinds=("gone",))]
[('gone', 4, 80)]
"""
from __future__ import annotations

import difflib
import json
from datetime import timezone
from pathlib import Path

import sqlite_utils

from archive.changes import CHANGE_KINDS, change_rows

from .common import _database, time_bound

# One change as the command prints it (--json and --csv); the table view shows CHANGES_TABLE_COLUMNS.
CHANGE_COLUMNS = ("at", "crawl_id", "kind", "item", "fid", "forum", "tid", "title", "pid", "floor", "uid", "author",
                  "field", "before", "after", "last_crawl", "url", "reason", "diff")
CHANGES_TABLE_COLUMNS = ("at", "crawl_id", "kind", "fid", "tid", "pid", "author", "diff")
DIFF_CONTEXT = 6  # unchanged characters kept either side of an edit in the compact diff
DIFF_MAX = 120  # characters of compact diff


class NoChangeViews(RuntimeError):
    """The archive predates change tracking (no ``post_changes`` view): a crawl with this version upgrades it."""


def changes(db: sqlite_utils.Database | str | Path, *, since: str | None = None, crawl: int | None = None,
            kinds: tuple[str, ...] = (), forum: tuple[int, ...] = ()) -> list[dict]:
    """The changes between crawls, oldest first, one dict per change with :data:`CHANGE_COLUMNS`.

    In: an archive (path or open database); ``since`` (a date or time, UTC like the crawl times: ``2026-12``,
    ``2026-12-01T22:00``), ``crawl`` (a crawl id), ``kinds`` (of :data:`CHANGE_KINDS`: ``new``, ``edited``,
    ``gone``, ``state``, ``figures``, ``rating``, ``comment``, ``votes``, ``counts``), ``forum`` (fids; users'
    figures belong to no forum and are left out). Out: for a post, its forum, thread, pid, floor and author;
    ``before``/``after`` are the text before and after an edit (gone: the last text seen; new: the first text),
    the old and new value of a thread's ``field``, or the user's changed figures; for a rating, ``author``/``uid``
    are the rater, ``field`` the credit, ``after`` the score and ``reason`` the reason given; for a comment,
    ``author``/``uid`` the commenter and ``after`` the comment; for votes and counts, ``field`` names the figure
    (``poll_option 2 votes``, ``recommend_add``, ``attachment aid:5 downloads``) and ``before``/``after`` are its
    values; ``crawl_id`` is the crawl that saw the change (for gone, the first that did not see the post) and
    ``last_crawl`` the last that saw a gone post; ``url`` and ``reason`` say which page showed its absence;
    ``diff`` is a compact one-line description (for an edit: ``[-old-]{+new+}`` around the changed text).
    Raises ValueError on an unknown kind or a bad ``since``, :class:`NoChangeViews` on an archive that predates
    change tracking.
    """
    db = _database(db)
    if not db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = 'post_changes'").fetchone():
        raise NoChangeViews("this archive predates change tracking: crawl it once with this version to upgrade it")
    bound = time_bound(since, timezone.utc) if since else None
    out = []
    for row in change_rows(db.conn, crawl=crawl, since=bound, kinds=tuple(kinds), forums=tuple(forum)):
        out.append(_change(row))
    return out


def _change(row: dict) -> dict:
    item, kind = row["item"], row["kind"]
    change = {c: row.get(c) for c in CHANGE_COLUMNS}
    if kind == "rating":  # who rated is the author of the change; the rated post is pid
        score = row["score"]
        change.update(author=row["username"], field=row["credit"], before=None, after=score)
        change["diff"] = (f"{row['credit'] or ''} {'' if score is None else f'{score:+d}'} by {row['username'] or '?'}"
                          + (f": {row['reason']}" if row["reason"] else ""))
    elif kind == "comment":
        change.update(author=row["username"], field="comment", before=None, after=row["comment"])
        change["diff"] = _shorten(f"{row['username'] or '?'}: {row['comment'] or ''}")
    elif kind in ("votes", "counts"):
        change.update(uid=None, author=None)
        label = f" ({row['label']})" if row.get("label") else ""
        change["diff"] = f"{row['field']}{label} {row['before']} -> {row['after']}"
    elif item == "post":
        change.update(uid=row["author_uid"], before=row["text_before"], after=row["text_after"])
        if kind == "edited":
            change["diff"] = compact_diff(row["text_before"] or "", row["text_after"] or "")
        elif kind == "gone":
            change["field"] = "status"
            change["diff"] = f"{row['status']}: {row['reason']} (last seen by crawl {row['last_crawl']})"
        else:
            change["diff"] = _shorten(row["text_after"] or "")
    elif item == "thread":
        change.update(uid=row["author_uid"], pid=None)
        change["diff"] = (f"new thread: {row['title'] or ''}" if kind == "new"
                          else f"{row['field']}: {row['before']} -> {row['after']}")
    else:
        change.update(author=row["username"], field="figures",
                      before=json.dumps({n: old for n, old, _ in row["figures"]}, ensure_ascii=False),
                      after=json.dumps({n: new for n, _, new in row["figures"]}, ensure_ascii=False),
                      diff=", ".join(f"{n} {old} -> {new}" for n, old, new in row["figures"]))
    return change


def _shorten(text: str, limit: int = DIFF_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compact_diff(before: str, after: str) -> str:
    """A one-line character diff: unchanged runs shortened to their ends, ``[-removed-]{+added+}`` in place.

    >>> compact_diff("价格涨了不少啊", "价格也实在")
    '价格[-涨了不少啊-]{+也实在+}'
    """
    before, after = " ".join(before.split()), " ".join(after.split())
    parts = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    opcodes = matcher.get_opcodes()
    last = len(opcodes) - 1
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            same, keep = before[i1:i2], DIFF_CONTEXT
            if n == 0 and n < last and len(same) > keep:
                same = "…" + same[-keep:]
            elif n == last and n > 0 and len(same) > keep:
                same = same[:keep] + "…"
            elif 0 < n < last and len(same) > 2 * keep + 1:
                same = same[:keep] + "…" + same[-keep:]
            parts.append(same)
            continue
        if i2 > i1:
            parts.append(f"[-{before[i1:i2]}-]")
        if j2 > j1:
            parts.append(f"{{+{after[j1:j2]}+}}")
    return _shorten("".join(parts))


__all__ = ["CHANGE_COLUMNS", "CHANGE_KINDS", "CHANGES_TABLE_COLUMNS", "NoChangeViews", "changes", "compact_diff"]
