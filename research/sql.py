"""Read-only SQL on an archive (:func:`query`, refusing any statement that would change it) and what an
archive holds (:func:`stats`)."""
from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from archive.writes import EXTRA_NAMES

from .common import _database, open_archive

# =================================================================================================
# Read-only SQL
# =================================================================================================
# Pragmas that only read, also when given an argument (``PRAGMA table_info(posts)``).
READ_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", "database_list",
                "collation_list", "function_list", "module_list", "pragma_list", "compile_options"}


def _read_only_authorizer(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    """Refuse what ``mode=ro`` and ``query_only`` let through or answer unclearly: setting a pragma
    (``query_only = OFF``, ``journal_mode``) and attaching another database file (which could create it)."""
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None and arg1 not in READ_PRAGMAS:
        return sqlite3.SQLITE_DENY
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class ReadOnlyError(Exception):
    """A query tried to change the archive, which ``query`` opens read-only."""


class QueryError(Exception):
    """A query SQLite could not run (syntax, unknown table...)."""


@dataclass
class QueryResult:
    """Column names and a row iterator; close the connection when done (or iterate to the end)."""

    columns: list[str]
    rows: Iterator[tuple]


def query(path: str | Path, sql: str, params: dict | list | None = None) -> QueryResult:
    """Run one SQL statement on the archive at ``path`` opened read-only (``mode=ro`` and ``query_only``).

    In: the archive path, the statement, its parameters (``:name`` dict or ``?`` list). Out: a
    :class:`QueryResult` streaming the rows. Raises :class:`ReadOnlyError` for a statement that writes,
    :class:`QueryError` for any other failure.
    """
    db = open_archive(path, readonly=True)
    conn = db.conn
    conn.set_authorizer(_read_only_authorizer)
    try:
        cursor = conn.execute(sql, params or [])
    except sqlite3.Error as exc:  # ProgrammingError (two statements) included
        conn.close()
        message = str(exc)
        if any(sign in message for sign in ("readonly", "read-only", "not authorized")):
            raise ReadOnlyError(
                f"the archive is opened read-only: statements that change it are refused ({message})") from exc
        raise QueryError(message) from exc
    columns = [d[0] for d in cursor.description or []]

    def rows() -> Iterator[tuple]:
        try:
            yield from cursor
        except sqlite3.Error as exc:
            raise QueryError(str(exc)) from exc
        finally:
            conn.close()

    return QueryResult(columns, rows())


def jsonable(value: Any, *, json_cols: bool = False) -> Any:
    """A column value as JSON can carry it: bytes become ``{"$base64": true, "encoded": ...}`` (as sqlite-utils).

    With ``json_cols``, text holding a JSON array or object (the archive's JSON columns, ``json_object()``
    results) becomes that value, as sqlite-utils' ``--json-cols`` does; other text stays text.
    """
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    if json_cols and isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, (list, dict)):
            return decoded
    return value


# =================================================================================================
# Stats
# =================================================================================================
FORUM_STATS_COLUMNS = ("fid", "name", "type", "threads", "posts", "users", "first_post_at", "last_post_at")
MONTH_STATS_COLUMNS = ("month", "posts", "threads", "users")
# What the archive holds beside the posts (the report's ``extras``): table -> how a summary names its rows.
EXTRA_STATS = EXTRA_NAMES


def stats(db: sqlite_utils.Database | str | Path) -> dict:
    """What the archive holds.

    Out: ``{"totals": {forums, threads, posts, users, first_post_at, last_post_at}, "extras": {table: rows}
    for each table of :data:`EXTRA_STATS` (what the thread pages show besides posts: polls, ratings, 点评
    comments...; 0 for a table an older archive lacks), "forums": [rows of FORUM_STATS_COLUMNS], "months": [rows
    of MONTH_STATS_COLUMNS], "last_crawl": crawls row or None}``. Per forum, ``threads`` are its threads rows,
    ``posts`` the posts in them and ``users`` their distinct authors; categories (type ``group``) are left out
    unless threads point at them. ``users`` in the totals is the ``users`` table.
    """
    db = _database(db)
    conn = db.conn
    totals = dict(zip(
        ("forums", "threads", "posts", "users", "first_post_at", "last_post_at"),
        conn.execute("""SELECT (SELECT count(*) FROM forums), (SELECT count(*) FROM threads),
            (SELECT count(*) FROM posts), (SELECT count(*) FROM users),
            (SELECT min(posted_at) FROM posts), (SELECT max(posted_at) FROM posts)""").fetchone()))
    have = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    extras = {table: conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] if table in have else 0
              for table in EXTRA_STATS}
    forums = [dict(zip(FORUM_STATS_COLUMNS, row)) for row in conn.execute("""
        WITH fids AS (SELECT fid FROM forums WHERE type IS NOT 'group' UNION SELECT fid FROM threads)
        SELECT fids.fid, f.name, f.type,
               (SELECT count(*) FROM threads t WHERE t.fid IS fids.fid),
               count(p.pid), count(DISTINCT p.author_uid), min(p.posted_at), max(p.posted_at)
        FROM fids
        LEFT JOIN forums f ON f.fid = fids.fid
        LEFT JOIN threads t ON t.fid IS fids.fid
        LEFT JOIN posts p ON p.tid = t.tid
        GROUP BY fids.fid ORDER BY fids.fid""")]
    months = [dict(zip(MONTH_STATS_COLUMNS, row)) for row in conn.execute("""
        SELECT substr(posted_at, 1, 7) AS month, count(*), count(DISTINCT tid), count(DISTINCT author_uid)
        FROM posts WHERE posted_at IS NOT NULL GROUP BY month ORDER BY month""")]
    crawl = conn.execute("SELECT * FROM crawls ORDER BY id DESC LIMIT 1")
    row = crawl.fetchone()
    last_crawl = dict(zip([d[0] for d in crawl.description], row)) if row else None
    return {"totals": totals, "extras": extras, "forums": forums, "months": months, "last_crawl": last_crawl}
