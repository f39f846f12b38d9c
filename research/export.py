"""JSONL export and import: :func:`export_jsonl` (and the dicts it writes, :func:`iter_threads` and
:func:`iter_posts`, for a :class:`~research.common.Selection`) and :func:`import_jsonl`, which
rebuilds or adds to an archive from such a file.

A line is streamed: the posts and every table nested under them or under their thread (attachments,
revisions, ratings, comments; polls, trades, tags, figures...) are each one cursor in the lines' order, read
alongside, so memory holds one post's (or thread's) rows whatever the archive's size."""
from __future__ import annotations

import gzip
import io
import json
import json.encoder as _json_encoder
import sqlite3
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import sqlite_utils

import schemas
from archive.fulltext import ensure_search

from .common import (EXPORTED_TABLES, MEDIA_EXPORT_COLUMNS, POST_EXTRAS, THREAD_EXTRAS, Selection, _database,
                     _thread_where, archive_zone, exported_columns, parse_search, time_bound)
from .schema import EXPORT_CHANGE_COLUMNS, EXPORT_FORMAT, EXPORT_VERSION, HISTORY_COLUMNS, RECORD_KEYS
from .text_search import _text_match

# -- export ---------------------------------------------------------------------------------------
# An author's row and figures are looked up once and kept while they keep posting: a bounded cache,
# so memory stays flat whatever the number of users.
AUTHOR_CACHE_SIZE = 8192
WRITE_BUFFER = 1 << 20
GZIP_LEVEL = 1  # 3x faster than zlib's default 6, and JSON of forum text still shrinks ~10x


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Compact JSON with real characters. The C encoder is made once (json.dumps makes one per call) and
# without a circular-reference check (export dicts are trees): a third of an export's time is here.
if _json_encoder.c_make_encoder is not None and _json_encoder.c_encode_basestring is not None:
    _c_encoder = _json_encoder.c_make_encoder(None, _unserialisable, _json_encoder.c_encode_basestring, None,
                                              ":", ",", False, False, True)

    def _encode(value: Any) -> str:
        return "".join(_c_encoder(value, 0))
else:  # pragma: no cover — Pythons without the C accelerator
    _encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode

# Characters other than \n that line readers split on (str.splitlines, some JSONL tools): escaped, so a
# line is always one record. Everything else, Chinese included, is written as itself.
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _one_line(text: str) -> str:
    for ch in _LINE_BREAKS:
        if ch in text:
            text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def _ENCODE(value: Any) -> str:  # noqa: N802 — used like a constant encoder
    """Compact JSON of ``value`` as an export line writes it."""
    return _one_line(_encode(value))


# Columns written as JSON text in the archive: re-serialised on import exactly as the normaliser does.
_JSON_DUMPS = dict(ensure_ascii=False, sort_keys=True)


# =================================================================================================
# Export
# =================================================================================================
def _post_where(db: sqlite_utils.Database, sel: Selection) -> tuple[str, list]:
    """WHERE clause over ``posts p LEFT JOIN threads t`` for a selection."""
    conn = db.conn
    where, params = [], []
    if sel.forum:
        where.append(f"t.fid IN ({', '.join('?' for _ in sel.forum)})")
        params += [int(f) for f in sel.forum]
    if sel.tid:  # on p.tid: orphan posts (no thread row) stay selectable and the (tid, floor) index is used
        where.append(f"p.tid IN ({', '.join('?' for _ in sel.tid)})")
        params += [int(x) for x in sel.tid]
    # --author and --uid together: posts by any of the posters named either way.
    by = [f"p.author IN ({', '.join('?' for _ in sel.author)})"] if sel.author else []
    by += [f"p.author_uid IN ({', '.join('?' for _ in sel.uid)})"] if sel.uid else []
    if by:
        where.append(f"({' OR '.join(by)})")
        params += list(sel.author) + [int(u) for u in sel.uid]
    if sel.since or sel.until:
        zone = archive_zone(db)
        if sel.since:
            where.append("p.posted_at >= ?")
            params.append(time_bound(sel.since, zone))
        if sel.until:
            where.append("p.posted_at <= ?")
            params.append(time_bound(sel.until, zone, until=True))
    terms = parse_search(sel.search or "")
    if terms:
        in_post, post_params = _text_match(conn, terms, "posts_fts", "p.pid", "p.content_text")
        in_title, title_params = _text_match(conn, terms, "threads_fts", "t.tid", "t.title")
        where.append(f"(({in_post}) OR ({in_title}))")
        params += post_params + title_params
    return (" AND ".join(where) or "1"), params


def _existing_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")}


def _select_list(conn: sqlite3.Connection, table: str, alias: str, columns: list[str]) -> str:
    # A column the schema has and an older archive lacks is exported as null: every line has every key.
    have = _existing_columns(conn, table)
    return ", ".join(f"{alias}.[{c}]" if c in have else f"NULL AS [{c}]" for c in columns)


def _json_columns(table: str, columns: list[str]) -> list[int]:
    types = schemas.columns(table)
    return [i for i, c in enumerate(columns) if types[c] == "json"]


def _load_json(text: str) -> Any:
    """A JSON column's value; text that is not JSON (never written by the pipelines) stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_object_sql(conn: sqlite3.Connection, table: str, alias: str, columns: list[str],
                     first: tuple[tuple[str, str], ...] = ()) -> str | None:
    """``json_object(...)`` of a row, byte for byte what ``_ENCODE`` makes of its export dict, or None
    when a column type would render differently (SQLite and Python print reals differently).

    SQLite writes strings as Python's encoder does with ``ensure_ascii=False`` (real characters; ``\\n``,
    ``\\t``... and ``\\u00XX`` for other control characters), and ``json(col)`` copies a JSON column's text
    minified: the pipelines store it with real characters, so none gain ``\\uXXXX`` escapes.
    """
    types = schemas.columns(table)
    if any(types[c] not in ("integer", "text", "json") for c in columns):
        return None
    have = _existing_columns(conn, table)
    parts = [f"'{key}', {expr}" for key, expr in first]
    for c in columns:
        if c not in have:
            parts.append(f"'{c}', NULL")
        elif types[c] == "json":
            parts.append(f"'{c}', CASE WHEN json_valid({alias}.[{c}]) THEN json({alias}.[{c}]) ELSE {alias}.[{c}] END")
        else:
            parts.append(f"'{c}', {alias}.[{c}]")
    return f"json_object({', '.join(parts)})"


class _Side:
    """Rows of a side table (attachments, revisions, ratings...) in the same post order as the posts stream.

    Both streams are sorted by the same total order, so the rows of the current post, if any, are
    at the head: no sorting or comparing of keys in Python, and nothing kept but the head.
    """

    def __init__(self, cursor: Iterable[tuple], columns: list[str], json_idx: list[int]):
        self._rows = iter(cursor)
        self._columns = columns
        self._json = json_idx
        self._head = next(self._rows, None)

    def has(self, key: int) -> bool:
        """Whether the next rows are ``key``'s (the caller may then skip :meth:`take`)."""
        return self._head is not None and self._head[0] == key

    def take(self, pid: int) -> list[dict]:
        out = []
        while self._head is not None and self._head[0] == pid:
            values = list(self._head[1:])
            for i in self._json:
                if values[i] is not None:
                    values[i] = _load_json(values[i])
            out.append(dict(zip(self._columns, values)))
            self._head = next(self._rows, None)
        return out


class _ThreadSide(_Side):
    """Rows of a table nested under threads (polls, trades, tags...), in ascending tid order.

    The threads stream skips threads without a selected post (``--since``, ``--search``): their rows, at the
    head when a later thread asks, are passed over.
    """

    def take(self, tid: int) -> list[dict]:
        while self._head is not None and self._head[0] < tid:
            self._head = next(self._rows, None)
        return super().take(tid)


class _NoSide:
    """The stream of a table an older archive does not have: no rows."""

    _head = None

    @staticmethod
    def has(key: int) -> bool:
        return False

    @staticmethod
    def take(key: int) -> list[dict]:
        return []


class _Exporter:
    """Streams the rows of a selection as export dicts or JSON text; one per export (it holds cursors).

    Authors and forums repeat on every post and thread: each is looked up and encoded once (bounded
    caches) and its JSON text is spliced into the lines, which is half the cost of an export otherwise.
    """

    def __init__(self, db: sqlite_utils.Database, sel: Selection, changes: bool = False, *, media: bool = False):
        self.db, self.conn, self.sel = db, db.conn, sel
        self.changes = changes
        self.media = media  # each attachment gets ``media``: its download (--media), or null
        self.post_columns = exported_columns("posts")
        # Flat lines and the side streams rely on archive.json listing pid, tid first.
        assert self.post_columns[:2] == ["pid", "tid"], self.post_columns[:2]
        self.post_json = _json_columns("posts", self.post_columns)
        self.thread_columns = exported_columns("threads")
        self.forum_columns = exported_columns("forums")
        self.user_columns = exported_columns("users")
        self.stats_columns = exported_columns("user_stats")
        self.stats_json = _json_columns("user_stats", self.stats_columns)
        self.where, self.params = _post_where(db, sel)
        self._forums: dict[int, tuple[dict | None, str]] = {}
        self.author = lru_cache(maxsize=AUTHOR_CACHE_SIZE)(self._author)
        # The writer needs only the text: a cached str is a tenth of the size of the nested dicts.
        self.author_json = lru_cache(maxsize=AUTHOR_CACHE_SIZE)(lambda uid: self._author(uid)[1])
        self._user_sql = (f"SELECT {_select_list(self.conn, 'users', 'u', self.user_columns)}"
                          f" FROM users u WHERE u.uid = ?")
        self._stats_sql = (f"SELECT {_select_list(self.conn, 'user_stats', 's', self.stats_columns)}"
                           f" FROM user_stats s WHERE s.uid = ? ORDER BY s.seen_at DESC, s.id DESC LIMIT 1")
        self._forum_sql = (f"SELECT {_select_list(self.conn, 'forums', 'f', self.forum_columns)}"
                           f" FROM forums f WHERE f.fid = ?")
        self.tables = {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    # -- lookups ------------------------------------------------------------------------------
    def _author(self, uid: int | None) -> tuple[dict | None, str]:
        """(users row with ``stats``, its JSON) for an author uid; (None, "null") when unknown."""
        if uid is None:
            return None, "null"
        row = self.conn.execute(self._user_sql, [uid]).fetchone()
        if row is None:
            return None, "null"
        user = dict(zip(self.user_columns, row))
        stats = self.conn.execute(self._stats_sql, [uid]).fetchone()
        if stats is not None:
            values = list(stats)
            for i in self.stats_json:
                if values[i] is not None:
                    values[i] = _load_json(values[i])
            stats = dict(zip(self.stats_columns, values))
        user["stats"] = stats
        return user, _ENCODE(user)

    def forum(self, fid: int | None, depth: int = 0) -> tuple[dict | None, str]:
        """(forums row of ``fid`` with its ``parent`` nested, its JSON); (None, "null") when unknown."""
        if fid is None or depth > 8:  # a parent cycle would be a parser bug; do not follow it forever
            return None, "null"
        if fid not in self._forums:
            row = self.conn.execute(self._forum_sql, [fid]).fetchone()
            forum = None
            if row is not None:
                forum = dict(zip(self.forum_columns, row))
                parent = forum.get("parent_fid")
                forum["parent"] = self.forum(parent, depth + 1)[0] if parent not in (None, fid) else None
            self._forums[fid] = (forum, _ENCODE(forum))
        return self._forums[fid]

    # -- streams ------------------------------------------------------------------------------
    def _side(self, table: str, alias: str, order: str) -> _Side | _NoSide:
        if table not in self.tables:
            return _NoSide()
        columns = exported_columns(table)
        sql = (f"SELECT p.pid, {_select_list(self.conn, table, alias, columns)}"
               f" FROM [{table}] {alias} JOIN posts p ON p.pid = {alias}.pid LEFT JOIN threads t ON t.tid = p.tid"
               f" WHERE {self.where} ORDER BY p.tid, p.floor, p.pid, {order}")
        return _Side(self.conn.execute(sql, self.params), columns, _json_columns(table, columns))

    def _changes(self) -> _Side | None:
        """The posts' rows of the post_changes view, in the posts' order (export --changes), else None."""
        if not self.changes:
            return None
        columns = list(EXPORT_CHANGE_COLUMNS)
        sql = (f"SELECT p.pid, {', '.join(f'c.[{col}]' for col in columns)}"
               f" FROM post_changes c JOIN posts p ON p.pid = c.pid LEFT JOIN threads t ON t.tid = p.tid"
               f" WHERE {self.where} ORDER BY p.tid, p.floor, p.pid, c.at, c.kind")
        return _Side(self.conn.execute(sql, self.params), columns, [])

    def _attachment_sql(self, key: str, source: str, where: str, order: str) -> tuple[str, list[str], list[int]]:
        """SELECT of attachments rows (``a``) after the key columns ``key``, from ``source``: the SQL, the exported
        columns (with ``media`` under --media) and the indexes of the JSON ones."""
        columns = exported_columns("attachments")
        media = "NULL"
        if self.media and "media" in self.tables:
            fields = ", ".join(f"'{c}', m.[{c}]" for c in MEDIA_EXPORT_COLUMNS)
            media = f"CASE WHEN m.url IS NULL THEN NULL ELSE json_object({fields}) END"
        sql = (f"SELECT {key}, {_select_list(self.conn, 'attachments', 'a', columns)}"
               + (f", {media}" if self.media else "") + f" FROM {source}"
               + (" LEFT JOIN media m ON m.url = a.url" if media != "NULL" else "")
               + f" WHERE {where} ORDER BY {order}")
        json_idx = _json_columns("attachments", columns)
        if self.media:
            return sql, columns + ["media"], json_idx + [len(columns)]
        return sql, columns, json_idx

    def _attachments(self) -> _Side:
        """The attachments stream; with ``media``, each row also carries its ``media`` row (or null)."""
        sql, columns, json_idx = self._attachment_sql(
            "p.pid", "attachments a JOIN posts p ON p.pid = a.pid LEFT JOIN threads t ON t.tid = p.tid",
            self.where, "p.tid, p.floor, p.pid, a.rowid")
        return _Side(self.conn.execute(sql, self.params), columns, json_idx)

    def _streams(self) -> tuple:
        """The side streams the posts take their attachments, revisions, ratings, comments, debate stands and
        (--changes) changes from."""
        return (self._attachments(), self._side("post_revisions", "r", "r.id"), self._side("ratings", "r", "r.rowid"),
                self._side("post_comments", "c", "c.id"), self._side("debate_posts", "d", "d.rowid"), self._changes())

    def _posts(self, flat: bool) -> Iterator[tuple[dict, tuple[dict | None, str]]]:
        """(post dict without ``user``, author entry) in (tid, floor, pid) order."""
        columns = self.post_columns
        select = _select_list(self.conn, "posts", "p", columns)
        extra = ", t.fid, t.title" if flat else ""
        sql = (f"SELECT {select}{extra} FROM posts p LEFT JOIN threads t ON t.tid = p.tid"
               f" WHERE {self.where} ORDER BY p.tid, p.floor, p.pid")
        attachments, revisions, ratings, comments, stands, changes = self._streams()
        author = self.author
        json_idx = self.post_json
        n = len(columns)
        uid_index = columns.index("author_uid")
        for row in self.conn.execute(sql, self.params):
            values = list(row[:n])
            for i in json_idx:
                if values[i] is not None:
                    values[i] = _load_json(values[i])
            if flat:  # the thread's forum and title right after the post's pid and tid
                post = {"pid": values[0], "tid": values[1], "fid": row[n], "thread_title": row[n + 1]}
                post.update(zip(columns[2:], values[2:]))
            else:
                post = dict(zip(columns, values))
            pid = values[0]
            post["attachments"] = attachments.take(pid)
            post["revisions"] = revisions.take(pid)
            post["ratings"] = ratings.take(pid)
            post["comments"] = comments.take(pid)
            post["debate_post"] = next(iter(stands.take(pid)), None)
            if changes is not None:
                post["changes"] = changes.take(pid)
            yield post, author(values[uid_index])

    def posts(self, flat: bool = False) -> Iterator[dict]:
        """Post dicts (``user`` last) in (tid, floor, pid) order; ``flat`` adds ``fid`` and ``thread_title``."""
        for post, (user, _) in self._posts(flat):
            post["user"] = user
            yield post

    def encoded_posts(self, flat: bool = False) -> Iterator[tuple[int, str]]:
        """(tid, the post's JSON) in the same order; the text equals ``_ENCODE`` of the post dict.

        SQLite writes each post's own columns as JSON (``json_object``), Python only splices in its
        attachments, revisions, ratings, comments, debate stand and the cached author: four times faster than
        encoding dicts.
        """
        first = (("pid", "p.pid"), ("tid", "p.tid")) + ((("fid", "t.fid"), ("thread_title", "t.title")) if flat else ())
        body = _json_object_sql(self.conn, "posts", "p", self.post_columns[2:], first)
        if body is None:
            for post, (_, user_json) in self._posts(flat):
                yield post["tid"], _ENCODE(post)[:-1] + ',"user":' + user_json + "}"
            return
        sql = (f"SELECT p.pid, p.tid, p.author_uid, {body} FROM posts p LEFT JOIN threads t ON t.tid = p.tid"
               f" WHERE {self.where} ORDER BY p.tid, p.floor, p.pid")
        attachments, revisions, ratings, comments, stands, changes = self._streams()
        author_json = self.author_json
        none = _POST_EXTRAS_NONE
        # Most posts have no rating, comment or stand: a test of the streams' heads (none once they are all
        # done, as in an archive without any), and a constant.
        left = not (ratings._head is None and comments._head is None and stands._head is None)
        for pid, tid, uid, text in self.conn.execute(sql, self.params):
            extra = attachments.take(pid)
            old = revisions.take(pid)
            if left and (ratings.has(pid) or comments.has(pid) or stands.has(pid)):
                rates, notes, stand = ratings.take(pid), comments.take(pid), stands.take(pid)
                extras = (',"ratings":' + (_ENCODE(rates) if rates else "[]")
                          + ',"comments":' + (_ENCODE(notes) if notes else "[]")
                          + ',"debate_post":' + (_ENCODE(stand[0]) if stand else "null"))
                left = not (ratings._head is None and comments._head is None and stands._head is None)
            else:
                extras = none
            history = "" if changes is None else ',"changes":' + _ENCODE(changes.take(pid))
            yield tid, (text[:-1] + ',"attachments":' + (_ENCODE(extra) if extra else "[]")
                        + ',"revisions":' + (_ENCODE(old) if old else "[]") + extras + history
                        + ',"user":' + author_json(uid) + "}")

    # -- what a thread carries besides posts ------------------------------------------------------
    def _thread_filter(self, key: str) -> tuple[str, str, list]:
        """(join, WHERE, params) picking the rows whose thread (tid ``key``) is selected (--forum, --tid)."""
        where, params = [], []
        if self.sel.forum:
            where.append(f"t.fid IN ({', '.join('?' for _ in self.sel.forum)})")
            params += [int(f) for f in self.sel.forum]
        if self.sel.tid:
            where.append(f"{key} IN ({', '.join('?' for _ in self.sel.tid)})")
            params += [int(x) for x in self.sel.tid]
        join = f" LEFT JOIN threads t ON t.tid = {key}" if self.sel.forum else ""
        return join, " AND ".join(where) or "1", params

    def _thread_side(self, table: str, order: str) -> _ThreadSide | _NoSide:
        """Rows of ``table`` (nested under threads) by tid, then ``order`` (of alias ``x``)."""
        if table not in self.tables:
            return _NoSide()
        columns = exported_columns(table)
        join, where, params = self._thread_filter("x.tid")
        # (figure_history.tid is not required: a figure without its thread belongs on no line.)
        sql = (f"SELECT x.tid, {_select_list(self.conn, table, 'x', columns)} FROM [{table}] x{join}"
               f" WHERE x.tid IS NOT NULL AND {where} ORDER BY x.tid, {order}")
        return _ThreadSide(self.conn.execute(sql, params), columns, _json_columns(table, columns))

    def _trade_attachments(self) -> _ThreadSide | _NoSide:
        """The attachments of trades' goods posts (not in ``posts``) by tid, in the trades' order, each with ``pid``."""
        if "trades" not in self.tables:
            return _NoSide()
        join, where, params = self._thread_filter("x.tid")
        sql, columns, json_idx = self._attachment_sql(
            "x.tid, x.pid", f"trades x JOIN attachments a ON a.pid = x.pid{join}", where, "x.tid, x.rowid, a.rowid")
        return _ThreadSide(self.conn.execute(sql, params), ["pid"] + columns, [i + 1 for i in json_idx])

    def _thread_extras(self) -> Callable[[int], dict | None]:
        """A function tid -> the thread's :data:`THREAD_EXTRAS` (key -> row, or list of rows), or None when it has
        none of them; tids come in ascending order."""
        polls, options = self._thread_side("polls", "x.rowid"), self._thread_side("poll_options", "x.position")
        rewards, debates = self._thread_side("rewards", "x.rowid"), self._thread_side("debates", "x.rowid")
        activities = self._thread_side("activities", "x.rowid")
        applicants = self._thread_side("activity_applicants", "x.rowid")
        trades, goods = self._thread_side("trades", "x.rowid"), self._trade_attachments()
        tags, figures = self._thread_side("thread_tags", "x.rowid"), self._thread_side("figure_history", "x.id")
        sides = (polls, options, rewards, debates, activities, applicants, trades, goods, tags, figures)

        def soonest() -> float:
            """The lowest tid any stream has rows of next: a thread below it has none (most threads)."""
            return min((side._head[0] for side in sides if side._head is not None), default=float("inf"))

        upcoming = soonest()

        def extras(tid: int) -> dict | None:
            nonlocal upcoming
            if tid < upcoming:
                return None
            poll, choices = next(iter(polls.take(tid)), None), options.take(tid)
            if poll is not None:
                poll["options"] = choices
            activity, applied = next(iter(activities.take(tid)), None), applicants.take(tid)
            if activity is not None:
                activity["applicant_list"] = applied
            goods_of = trades.take(tid)
            pictures: dict[int, list[dict]] = {}
            for picture in goods.take(tid):
                pictures.setdefault(picture.pop("pid"), []).append(picture)
            for trade in goods_of:
                trade["attachments"] = pictures.get(trade["pid"], [])
            upcoming = soonest()
            return {"poll": poll, "reward": next(iter(rewards.take(tid)), None),
                    "debate": next(iter(debates.take(tid)), None), "activity": activity, "trades": goods_of,
                    "tags": tags.take(tid), "figure_history": figures.take(tid)}

        return extras

    def threads(self, encoded: bool = False) -> Iterator[tuple[dict | str, tuple[dict | None, str], dict | str,
                                                              Iterator]]:
        """(thread without ``forum``, extras and ``posts``; its forum entry; its :data:`THREAD_EXTRAS`; iterator of
        its posts), tid order.

        The thread is a dict, the extras a dict of key -> value and the posts are dicts; when ``encoded``, the
        thread may be its JSON text, the extras are the JSON of their keys (``,"poll":…,"figure_history":[…]``)
        and the posts are (tid, JSON text) pairs. Without a post filter every selected thread comes, posts or not;
        with one, only threads with a selected post. Posts whose thread has no row come under a thread of nulls
        but their tid.
        """
        thread_where, thread_params = _thread_where(self.sel)
        body = _json_object_sql(self.conn, "threads", "t", self.thread_columns) if encoded else None
        # Encoded: (tid, fid, JSON text of the thread's columns) rows, else the columns themselves.
        select = (f"t.tid, t.fid, {body}" if body
                  else _select_list(self.conn, "threads", "t", self.thread_columns))
        sql = f"SELECT {select} FROM threads t WHERE {' AND '.join(thread_where) or '1'} ORDER BY t.tid"
        threads = self.conn.execute(sql, thread_params)
        if encoded:
            groups = groupby(self.encoded_posts(), key=itemgetter(0))
        else:
            groups = groupby(self.posts(), key=itemgetter("tid"))
        extras_of = self._thread_extras()
        if encoded:
            extras = lambda tid: _encode_extras(extras_of(tid))  # noqa: E731
        else:
            extras = lambda tid: extras_of(tid) or _no_extras()  # noqa: E731
        pending = next(groups, None)
        keep_empty = not self.sel.selects_posts
        columns = self.thread_columns
        for row in threads:
            if body:
                thread, tid, fid = row[2], row[0], row[1]
            else:
                thread = dict(zip(columns, row))
                tid, fid = thread["tid"], thread.get("fid")
            while pending is not None and pending[0] < tid:
                yield self._stub(pending[0], body), (None, "null"), extras(pending[0]), pending[1]
                pending = next(groups, None)
            if pending is not None and pending[0] == tid:
                yield thread, self.forum(fid), extras(tid), pending[1]
                pending = next(groups, None)
            elif keep_empty:
                yield thread, self.forum(fid), extras(tid), iter(())
        while pending is not None:
            yield self._stub(pending[0], body), (None, "null"), extras(pending[0]), pending[1]
            pending = next(groups, None)

    def _stub(self, tid: int, encoded: bool | str | None = False) -> dict | str:
        thread = dict.fromkeys(self.thread_columns)
        thread["tid"] = tid
        return _ENCODE(thread) if encoded else thread


# What a post without ratings, comments or a debate stand carries of them (the keys of POST_EXTRAS).
_POST_EXTRAS_NONE = ',"ratings":[],"comments":[],"debate_post":null'
assert [key for key, _, _ in POST_EXTRAS] == ["ratings", "comments", "debate_post"], POST_EXTRAS
# A thread's extras when it has none: the common case, written as one constant.
_THREAD_EXTRAS_NONE = "".join(f',"{key}":' + ("[]" if many else "null") for key, _, many in THREAD_EXTRAS)


def _no_extras() -> dict:
    """A thread's extras when it has none (new lists each time: the caller may change them)."""
    return {key: [] if many else None for key, _, many in THREAD_EXTRAS}


def _encode_extras(extras: dict | None) -> str:
    """The JSON of a thread's extras as the keys of its line (``,"poll":null,…``), in THREAD_EXTRAS order."""
    if extras is None or not any(extras.values()):
        return _THREAD_EXTRAS_NONE
    return "".join(f',"{key}":' + (_ENCODE(extras[key]) if extras[key] else ("[]" if many else "null"))
                   for key, _, many in THREAD_EXTRAS)


# -- the records before the lines: the site and the crawl history ----------------------------------------
# An export starts with records that are not threads or posts, each a line of one key naming it (and ``site`` first
# with several archives): ``export`` (the format, its version and the archive's site), then a ``crawl`` per crawl
# run, a ``user`` per user whose figures were recorded (the users row with ``figures``: every user_stats row, oldest
# first), a ``post_absence`` per time a post was found gone and a ``thread_change`` per change of a thread's state.
# With them an imported copy holds the site (one archive, one site) and the history ``dzarchive changes`` reads.
# Columns (of any table) holding a crawl id: an import renumbers them when the archive has crawls of its own.
CRAWL_ID_COLUMNS = ("first_crawl", "last_crawl", "crawl_id")


def export_site(db: sqlite_utils.Database) -> dict | None:
    """The site an archive holds, as its export's ``export`` record states it: the ``site`` row (host, url,
    first_seen); for an archive without one, its first crawl's (host of the start URL, the URL, when it
    started); for one without crawls either, the host of an archived thread or post URL (url and first_seen
    null); None when nothing says."""
    from archive.state import site_host

    conn = db.conn
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "site" in tables:
        row = conn.execute("SELECT host, url, first_seen FROM site ORDER BY rowid LIMIT 1").fetchone()
        if row:
            return dict(zip(("host", "url", "first_seen"), row))
    if "crawls" in tables:
        row = conn.execute("SELECT start_url, started_at FROM crawls WHERE start_url IS NOT NULL"
                           " ORDER BY id LIMIT 1").fetchone()
        if row:
            return {"host": site_host(row[0]), "url": row[0], "first_seen": row[1]}
    for table in ("threads", "posts"):
        row = conn.execute(f"SELECT url FROM [{table}] WHERE url LIKE 'http%' LIMIT 1").fetchone()
        if row and site_host(row[0]):
            return {"host": site_host(row[0]), "url": None, "first_seen": None}
    return None


class _Records:
    """The records an export of a selection starts with (see :data:`RECORD_KEYS`), as JSON text lines.

    Crawls: all of them, whatever the selection (the posts' first and last crawl, and which crawl is the baseline
    of ``changes``, refer to them). Users, absences and thread changes: those of the selected posts and threads
    only (a filtered export carries the history of what it holds).
    """

    def __init__(self, exporter: "_Exporter"):
        self.x = exporter
        self.conn = exporter.conn
        sel = exporter.sel
        filtered = exporter.where != "1"
        # The selected posts, and threads, as subqueries (None: all of them).
        self.posts = (f"SELECT p.pid FROM posts p LEFT JOIN threads t ON t.tid = p.tid WHERE {exporter.where}",
                      exporter.params) if filtered else None
        self.authors = (f"SELECT p.author_uid FROM posts p LEFT JOIN threads t ON t.tid = p.tid"
                        f" WHERE {exporter.where}", exporter.params) if filtered else None
        if sel.selects_posts:
            self.threads = (f"SELECT p.tid FROM posts p LEFT JOIN threads t ON t.tid = p.tid"
                            f" WHERE {exporter.where}", exporter.params)
        elif filtered:
            where, params = _thread_where(sel)
            self.threads = (f"SELECT t.tid FROM threads t WHERE {' AND '.join(where)}", params)
        else:
            self.threads = None

    def lines(self) -> Iterator[str]:
        """The records' JSON texts, in :data:`RECORD_KEYS` order."""
        yield _ENCODE({"export": {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
                                  "site": export_site(self.x.db)}})
        tables = self.x.tables
        if "crawls" in tables:
            columns = schemas.columns("crawls")
            for row in self.conn.execute(f"SELECT {_select_list(self.conn, 'crawls', 'c', columns)}"
                                         f" FROM crawls c ORDER BY c.id"):
                yield _ENCODE({"crawl": dict(zip(columns, row))})
        if "user_stats" in tables:
            yield from self._users()
        for table, key, column, scope in (("post_absences", "post_absence", "pid", self.posts),
                                          ("thread_changes", "thread_change", "tid", self.threads)):
            if table not in tables:
                continue
            columns = HISTORY_COLUMNS[table]
            where, params = ("1", []) if scope is None else (f"x.{column} IN ({scope[0]})", scope[1])
            for row in self.conn.execute(f"SELECT {_select_list(self.conn, table, 'x', columns)} FROM [{table}] x"
                                         f" WHERE {where} ORDER BY x.id", params):
                yield _ENCODE({key: dict(zip(columns, row))})

    def _users(self) -> Iterator[str]:
        """A ``user`` record per user with figures (of the selected posts' authors), uid order. The users and their
        figures are two cursors in uid order, read alongside (one query each, whatever the number of users)."""
        x = self.x
        where, params = ("1", []) if self.authors is None else (f"u.uid IN ({self.authors[0]})", self.authors[1])
        figures = _ThreadSide(self.conn.execute(
            f"SELECT s.uid, {_select_list(self.conn, 'user_stats', 's', x.stats_columns)} FROM user_stats s"
            f" WHERE s.uid IN (SELECT u.uid FROM users u WHERE {where}) ORDER BY s.uid, s.id", params),
            x.stats_columns, x.stats_json)
        users = self.conn.execute(
            f"SELECT {_select_list(self.conn, 'users', 'u', x.user_columns)} FROM users u"
            f" WHERE {where} AND EXISTS (SELECT 1 FROM user_stats s WHERE s.uid = u.uid) ORDER BY u.uid", params)
        for row in users:
            user = dict(zip(x.user_columns, row))
            user["figures"] = figures.take(user["uid"])
            yield _ENCODE({"user": user})


@dataclass
class ExportResult:
    """What an export wrote."""

    threads: int = 0
    posts: int = 0


def iter_threads(db: sqlite_utils.Database | str | Path, selection: Selection | None = None, *,
                 changes: bool = False, media: bool = False) -> Iterator[dict]:
    """Export dicts, one per thread: its columns, ``forum``, its :data:`~research.common.THREAD_EXTRAS`
    (``poll`` … ``figure_history``), then ``posts`` in floor order (each with its ratings, comments and stand).

    In: an archive (or its path) and a :class:`Selection`; ``changes`` adds each post's ``changes`` (its
    ``post_changes`` rows); ``media`` adds each attachment's ``media`` row (``--media`` downloads). Holds one
    thread in memory at a time.
    """
    db = _database(db)
    for thread, (forum, _), extras, posts in _Exporter(db, selection or Selection(), changes, media=media).threads():
        thread["forum"] = forum
        thread.update(extras)
        thread["posts"] = list(posts)
        yield thread


def iter_posts(db: sqlite_utils.Database | str | Path, selection: Selection | None = None, *,
               changes: bool = False, media: bool = False) -> Iterator[dict]:
    """Flat export dicts, one per post, each with ``fid`` and ``thread_title``; (tid, floor) order."""
    db = _database(db)
    yield from _Exporter(db, selection or Selection(), changes, media=media).posts(flat=True)


def export_jsonl(db: sqlite_utils.Database | str | Path, out: IO[bytes], selection: Selection | None = None, *,
                 flat: bool = False, compress: bool = False, changes: bool = False, media: bool = False,
                 site: str | None = None, records: bool = True) -> ExportResult:
    """Write the selection as JSON Lines (UTF-8, real characters, compact) to the binary stream ``out``.

    In: an archive, a writable binary file, what to select, ``flat`` for one post per line, ``compress``
    for gzip, ``changes`` to add each post's ``changes`` (new, edited, gone: its ``post_changes`` rows, which
    say when it was found gone and by which page), ``media`` to give each attachment its ``media`` object (the
    ``--media`` download or null), ``site`` to start each line with a ``site`` key (lines of several archives
    in one file), ``records`` False to leave out the records that come first (:data:`RECORD_KEYS`: the
    ``export`` record with the archive's site, its crawls and the history of what is selected). Out: how many
    threads and posts were written. Each thread (or post) line is the JSON of what :func:`iter_threads` (or
    :func:`iter_posts`) yields. Streams: posts are encoded one by one and written in ~1 MiB chunks, so memory
    does not grow with the archive nor with a thread's length. The whole export reads one snapshot of the
    archive (one read transaction), even during a crawl.
    """
    db = _database(db)
    sel = selection or Selection()
    result = ExportResult()
    sink = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=GZIP_LEVEL) if compress else out
    chunk: list[str] = []
    size = 0
    lead = "{" if site is None else '{"site":' + json.dumps(site, ensure_ascii=False) + ","

    def emit(text: str) -> None:
        nonlocal size
        chunk.append(text)
        size += len(text)
        if size >= WRITE_BUFFER:
            sink.write(_one_line("".join(chunk)).encode("utf-8"))
            chunk.clear()
            size = 0

    conn = db.conn
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.execute("BEGIN")
    try:
        exporter = _Exporter(db, sel, changes, media=media)
        if records:
            for text in _Records(exporter).lines():
                emit(lead + text[1:] + "\n")
        if flat:
            for _, text in exporter.encoded_posts(flat=True):
                emit(lead + text[1:] + "\n")
                result.posts += 1
        else:
            for thread, (_, forum_json), extras, posts in exporter.threads(encoded=True):
                # The thread's own fields, its forum, what it carries besides posts, then its posts one at a
                # time: the line is exactly the JSON of the whole dict (posts are its last key) without holding it.
                head = thread if isinstance(thread, str) else _ENCODE(thread)
                emit(lead + head[1:-1] + ',"forum":' + forum_json + extras + ',"posts":[')
                first = True
                for _, text in posts:
                    emit(text if first else "," + text)
                    first = False
                    result.posts += 1
                emit("]}\n")
                result.threads += 1
        if chunk:
            sink.write(_one_line("".join(chunk)).encode("utf-8"))
    finally:
        if own_transaction:
            conn.execute("COMMIT")
        if compress:
            sink.close()  # writes the gzip trailer; ``out`` itself stays open
    out.flush()
    return result


# =================================================================================================
# Import
# =================================================================================================
@contextmanager
def _open_lines(source: str | Path | IO[bytes]) -> Iterator[IO[bytes]]:
    """A binary stream of JSON lines from a path, ``-`` (stdin) or a binary file; gzip is detected."""
    opened = None
    if isinstance(source, (str, Path)):
        raw = sys.stdin.buffer if str(source) == "-" else open(source, "rb")
        opened = raw if raw is not sys.stdin.buffer else None
    else:
        raw = source
    try:
        buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
        if buffered.peek(2)[:2] == b"\x1f\x8b":
            yield gzip.GzipFile(fileobj=buffered, mode="rb")
        else:
            yield buffered
    finally:
        if opened is not None:
            opened.close()


def _upsert_sql(table: str, columns: list[str], key: list[str]) -> str:
    # Merge like the archive does: a value present wins, a null never erases one. Not INSERT OR
    # REPLACE: REPLACE deletes without firing the delete triggers, which would corrupt the search index.
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f"[{c}] = coalesce(excluded.[{c}], [{c}])" for c in columns if c not in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (f"INSERT INTO [{table}] ({names}) VALUES ({marks})"
            f" ON CONFLICT ({', '.join(f'[{c}]' for c in key)}) {action}")


def _dump_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, **_JSON_DUMPS)


# Nested rows get the ids they are nested under from their thread (tid) or post (pid, and its tid).
_THREAD_KEYED = ("polls", "poll_options", "rewards", "debates", "activities", "activity_applicants", "trades",
                 "thread_tags")
_POST_KEYED = ("ratings", "post_comments", "debate_posts")


class _Importer:
    """Writes the lines of one file, in order, into an archive (the caller holds the transaction).

    It knows the site the archive holds and the one the file holds (its ``export`` record's, or for a file
    without one, the host of its threads' and posts' URLs), and refuses lines of another site; and how the
    file's crawl ids map onto the archive's (the same where the archive has none of its own).
    """

    def __init__(self, db: sqlite_utils.Database, path: str | Path = "the archive"):
        from archive.state import ArchiveState

        self.conn = db.conn
        self.path = path
        self.lines = 0  # thread and post lines read
        self.columns = {t: exported_columns(t) for t in EXPORTED_TABLES}
        self.columns.update(HISTORY_COLUMNS)
        self.json_cols = {t: {c for c in columns if schemas.columns(t)[c] == "json"}
                          for t, columns in self.columns.items()}
        self.crawl_index = {t: [i for i, c in enumerate(columns) if c in CRAWL_ID_COLUMNS]
                            for t, columns in self.columns.items()}
        self.held = ArchiveState.of_connection(self.conn).site_host()  # the archive's site, if it has one yet
        self.site: str | None = None  # the file's
        self.stated = False  # whether an export record named it (else it comes from the lines' URLs)
        self.crawl_ids: dict[int, int] = {}  # the file's crawl id -> the archive's
        self.renumbered = False
        self.sql = {t: _upsert_sql(t, self.columns[t], schemas.tables()[t]["pk"])
                    for t in ("forums", "threads", "posts", "users")}
        self.sql["attachments"] = _upsert_sql("attachments", ["pid"] + self.columns["attachments"],
                                              schemas.tables()["attachments"]["pk"])
        self.sql["quotes"] = _upsert_sql("quotes", ["pid", "position", "quoted_pid", "quoted_author",
                                                    "quoted_time_text"], ["pid", "position"])
        for table in _THREAD_KEYED + _POST_KEYED:
            parents = ["tid"] if table in _THREAD_KEYED else ["pid", "tid"]
            spec = schemas.tables()[table]
            # post_comments is keyed by a row id of its own: rows merge on what identifies a comment.
            self.sql[table] = _upsert_sql(table, parents + self.columns[table], spec.get("unique") or spec["pk"])
        self._done_forums: set[int] = set()
        self._done_users: dict[int, int] = {}  # uid -> hash of the user object written

    def _values(self, table: str, obj: dict) -> list:
        json_cols = self.json_cols[table]
        values = [_dump_json(obj.get(c)) if c in json_cols else obj.get(c) for c in self.columns[table]]
        if self.renumbered:
            for i in self.crawl_index[table]:
                if values[i] is not None:
                    values[i] = self.crawl_ids.get(values[i], values[i])
        return values

    # -- the site -----------------------------------------------------------------------------
    def claim(self, host: str, url: str | None = None, first_seen: str | None = None) -> None:
        """The file holds lines of ``host``: raise :class:`~archive.db.OtherSite` if the archive holds another site
        or the file's earlier lines were of another; record the site in an archive that has none yet."""
        from archive.db import OtherSite

        if self.site is not None:
            if host != self.site:
                raise OtherSite(f"the file holds lines of several sites ({self.site}, {host}): one archive holds one "
                                "site (export each archive on its own); nothing was imported")
            return
        if self.held and self.held != host:
            raise OtherSite(f"{self.path} holds the site {self.held}, not {host}: one archive holds one site (import"
                            f" it into its own, e.g. --db data/{host}.db); nothing was imported")
        self.site = host
        if not self.conn.execute("SELECT 1 FROM site LIMIT 1").fetchone():
            self.conn.execute("INSERT OR IGNORE INTO site (host, url, first_seen) VALUES (?, ?, ?)",
                              (host, url, first_seen))

    def _urls_site(self, urls: Iterable[str | None]) -> None:
        """A file without an ``export`` record: its site is the host of its threads' and posts' URLs."""
        from archive.state import site_host

        for url in urls:
            if url and "//" in url:
                self.claim(site_host(url))

    def header(self, record: dict) -> None:
        """The ``export`` record: check the format, claim its site."""
        if record.get("format") != EXPORT_FORMAT:
            raise ValueError(f"not a dzarchive export (format {record.get('format')!r})")
        version = record.get("version")
        if not isinstance(version, int) or version > EXPORT_VERSION:
            raise ValueError(f"export format version {version!r}: made by a newer dzarchive (this one reads up to "
                             f"{EXPORT_VERSION}); update dzarchive to import it")
        site = record.get("site")
        if site:
            self.claim(site["host"], site.get("url"), site.get("first_seen"))
            self.stated = True

    # -- the history --------------------------------------------------------------------------
    def crawl(self, crawl: dict) -> None:
        """A ``crawl`` record: the same run (start time and URL; its own id first, as two runs may start in the
        same second) is the archive's row; another keeps its id where that is free, else takes the next, and the
        file's later crawl ids follow (:meth:`_values`)."""
        columns = [c for c in schemas.columns("crawls") if c != "id"]
        old = crawl.get("id")
        taken = set(self.crawl_ids.values())
        same = [row_id for (row_id,) in self.conn.execute(
            "SELECT id FROM crawls WHERE started_at IS ? AND start_url IS ? ORDER BY id IS NOT ?, id",
            [crawl.get("started_at"), crawl.get("start_url"), old]) if row_id not in taken]
        if same:
            new = same[0]
        else:
            free = old is not None and not self.conn.execute("SELECT 1 FROM crawls WHERE id = ?", [old]).fetchone()
            names = (["id"] if free else []) + columns
            cursor = self.conn.execute(
                f"INSERT INTO crawls ({', '.join(f'[{c}]' for c in names)}) VALUES ({', '.join('?' for _ in names)})",
                ([old] if free else []) + [crawl.get(c) for c in columns])
            new = cursor.lastrowid
        if old is not None:
            self.crawl_ids[old] = new
            self.renumbered = self.renumbered or new != old

    def _stats(self, uid: int, stats: dict) -> None:
        """One user_stats row, unless the archive has the figures seen then from that source already."""
        exists = self.conn.execute("SELECT 1 FROM user_stats WHERE uid = ? AND seen_at IS ? AND source IS ?",
                                   [uid, stats.get("seen_at"), stats.get("source")]).fetchone()
        if not exists:
            columns = ["uid"] + self.columns["user_stats"]
            self.conn.execute(f"INSERT INTO user_stats ({', '.join(f'[{c}]' for c in columns)})"
                              f" VALUES ({', '.join('?' for _ in columns)})", [uid] + self._values("user_stats", stats))

    def user_record(self, user: dict) -> None:
        """A ``user`` record: the users row, then every figures row in the order seen."""
        figures = user.get("figures") or []
        self.user({k: v for k, v in user.items() if k != "figures"})
        for stats in figures:
            self._stats(user["uid"], stats)

    def _write(self, table: str, obj: dict, keys: tuple = ()) -> None:
        """Merge one row: ``keys`` are the values of the ids it is nested under (its tid, or its pid and tid)."""
        self.conn.execute(self.sql[table], [*keys, *self._values(table, obj)])

    def _insert_new(self, table: str, keys: dict, obj: dict) -> None:
        """Insert a row of a table keyed by row ids of its own (revisions, figures) unless the same row is there."""
        columns = list(keys) + self.columns[table]
        values = list(keys.values()) + self._values(table, obj)
        if self.conn.execute(f"SELECT 1 FROM [{table}] WHERE " + " AND ".join(f"[{c}] IS ?" for c in columns),
                             values).fetchone():
            return
        self.conn.execute(f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)})"
                          f" VALUES ({', '.join('?' for _ in columns)})", values)

    def forum(self, forum: dict | None) -> None:
        if not forum or forum.get("fid") is None or forum["fid"] in self._done_forums:
            return
        self._done_forums.add(forum["fid"])
        self.forum(forum.get("parent"))
        self._write("forums", forum)

    def user(self, user: dict | None) -> None:
        if not user or user.get("uid") is None:
            return
        uid = user["uid"]
        fingerprint = hash(json.dumps(user, sort_keys=True, ensure_ascii=False))
        if self._done_users.get(uid) == fingerprint:
            return
        if len(self._done_users) > AUTHOR_CACHE_SIZE * 8:  # a bounded memory of whom we wrote
            self._done_users.clear()
        self._done_users[uid] = fingerprint
        self._write("users", user)
        if user.get("stats"):
            self._stats(uid, user["stats"])

    def attachments(self, pid: int, attachments: list[dict] | None) -> None:
        for attachment in attachments or []:
            if attachment.get("ref") is None:  # an export made before attachments had a ref: the crawl's rule
                aid = attachment.get("aid")  # (pipelines.normalise.attachment_ref), aid:N where known, else the URL
                attachment = dict(attachment, ref=f"aid:{aid}" if aid is not None else attachment.get("url"))
            self._write("attachments", attachment, (pid,))

    def post(self, post: dict) -> None:
        self.user(post.get("user"))
        self._write("posts", post)
        pid, tid = post["pid"], post.get("tid")
        for position, quote in enumerate(post.get("quotes") or [], 1):
            self.conn.execute(self.sql["quotes"], [pid, position, quote.get("pid"), quote.get("author"),
                                                   quote.get("time_text")])
        self.attachments(pid, post.get("attachments"))
        for revision in post.get("revisions") or []:
            self._insert_new("post_revisions", {"pid": pid}, revision)
        for rating in post.get("ratings") or []:
            self._write("ratings", rating, (pid, tid))
        for comment in post.get("comments") or []:
            self._write("post_comments", comment, (pid, tid))
        if post.get("debate_post"):
            self._write("debate_posts", post["debate_post"], (pid, tid))

    def thread_extras(self, thread: dict) -> None:
        """What a thread line carries besides posts: boxes, trades (with their goods' attachments), tags, figures."""
        tid = thread["tid"]
        for key, table in (("poll", "polls"), ("reward", "rewards"), ("debate", "debates"), ("activity", "activities")):
            if thread.get(key):
                self._write(table, thread[key], (tid,))
        for option in (thread.get("poll") or {}).get("options") or []:
            self._write("poll_options", option, (tid,))
        for applicant in (thread.get("activity") or {}).get("applicant_list") or []:
            self._write("activity_applicants", applicant, (tid,))
        for trade in thread.get("trades") or []:
            self._write("trades", trade, (tid,))
            self.attachments(trade["pid"], trade.get("attachments"))
        for tag in thread.get("tags") or []:
            self._write("thread_tags", tag, (tid,))
        for figure in thread.get("figure_history") or []:
            self._insert_new("figure_history", {"tid": tid}, figure)

    def line(self, obj: dict) -> None:
        """One line of any kind: a thread, a --flat post, or a record (:data:`RECORD_KEYS`)."""
        # (The "site" key lines of several archives start with needs no check: each archive's lines come after its
        # own export record, or without records, name their site by their URLs.)
        if "posts" in obj or "pid" in obj:
            self.lines += 1
        if not self.stated and ("posts" in obj or "pid" in obj):
            self._urls_site([obj.get("url")] + [post.get("url") for post in obj.get("posts") or []])
        if "posts" in obj:  # a thread line
            self.forum(obj.get("forum"))
            has_row = obj.get("forum") is not None or any(
                obj.get(c) is not None for c in self.columns["threads"] if c != "tid")
            if has_row:  # not the stub of a thread the archive had no row for
                self._write("threads", obj)
            self.thread_extras(obj)
            for post in obj["posts"]:
                self.post(post)
        elif "pid" in obj:  # a --flat line
            if obj.get("thread_title") is not None or obj.get("fid") is not None:
                self.conn.execute(_upsert_sql("threads", ["tid", "fid", "title"], ["tid"]),
                                  [obj["tid"], obj.get("fid"), obj.get("thread_title")])
            self.post(obj)
        elif "export" in obj:
            self.header(obj["export"])
        elif "crawl" in obj:
            self.crawl(obj["crawl"])
        elif "user" in obj:
            self.user_record(obj["user"])
        elif "post_absence" in obj:
            self._insert_new("post_absences", {}, obj["post_absence"])
        elif "thread_change" in obj:
            self._insert_new("thread_changes", {}, obj["thread_change"])
        else:
            raise ValueError("neither a thread line (with posts), a post line (with pid) nor a record ("
                             + ", ".join(RECORD_KEYS) + ")")

    def finish(self) -> None:
        """After the last line: lines whose site nothing told are refused (the archive's site cannot be checked)."""
        if self.site is None and self.lines:
            raise ValueError("no export record and no thread or post URL says which site these lines are of: "
                             "nothing was imported")


def import_jsonl(archive_path: str | Path, source: str | Path | IO[bytes]) -> dict[str, int]:
    """Rebuild (or add to) an archive from an export: thread lines or ``--flat`` post lines, gzip or not, and the
    records before them (the site, crawls, users' figures, absences, thread state changes).

    In: the archive to create or update, and a path, ``-`` or binary stream of JSONL. Out: rows added per table
    (``site``, ``crawls``, the tables of :data:`~research.common.EXPORTED_TABLES` and the history tables). Rows merge
    as in a crawl (a null never erases a value; comments on what identifies them, revisions, figures and history
    only when the same row is not there yet; a crawl already there is the same crawl); search indexes follow by
    trigger. All or nothing: the whole file is one transaction. Raises :class:`~archive.db.OtherSite` (nothing
    written) when the file is of another site than the archive's, or holds lines of several sites; ValueError
    for a line that is not an export's, naming it. An archive this call created is removed again on failure.
    """
    from archive import Archive

    created = not Path(archive_path).exists()
    archive = Archive(archive_path)
    ensure_search(archive.db)
    importer = _Importer(archive.db, archive_path)
    conn = archive.db.conn
    tables = ("site", "crawls") + EXPORTED_TABLES + tuple(HISTORY_COLUMNS)
    count_sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM [{table}])" for table in tables)
    failed = True
    try:
        with _open_lines(source) as stream:
            conn.execute("BEGIN IMMEDIATE")
            try:
                before = conn.execute(count_sql).fetchone()
                for number, raw in enumerate(stream, 1):
                    if not raw.strip():
                        continue
                    try:
                        importer.line(json.loads(raw))
                    except (ValueError, KeyError, TypeError, AttributeError) as exc:
                        raise ValueError(f"line {number}: {exc}") from exc
                importer.finish()
                after = conn.execute(count_sql).fetchone()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        failed = False
    finally:
        archive.close()
        if failed and created:  # leave no empty archive behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{archive_path}{suffix}").unlink(missing_ok=True)
    # Rows merge: what the file adds is what the tables gained (a second import of it adds nothing).
    return {table: a - b for table, a, b in zip(tables, after, before)}
