"""Chinese full-text search over an archive: matching query terms against the archive's trigram indexes
(:mod:`archive.fulltext`; the index for 3+ characters, ``LIKE`` for shorter ones), and :func:`search` (posts,
点评 comments and thread titles) with its :func:`snippet`."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Iterable

import sqlite_utils

from archive.fulltext import TRIGRAM_MIN_CHARS, _fts_ready, has_trigram

from .common import SearchQuery, Selection, _database, _thread_where, archive_zone, parse_search, time_bound

# -- search ---------------------------------------------------------------------------------------
HIGHLIGHT = ("«", "»")  # marks around a matched term in snippets; rare in Chinese forum text
SNIPPET_CHARS = 72  # length of a search snippet, in characters
SNIPPET_LEAD = 18  # characters of context kept before the first match
DEFAULT_LIMIT = 20
_LIKE_ESCAPE = re.compile(r"([\\%_])")
_SPACES = re.compile(r"\s+")


# =================================================================================================
# Matching terms (search and export filters)
# =================================================================================================
def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    return "%" + _LIKE_ESCAPE.sub(r"\\\1", term) + "%"


def _text_match(conn: sqlite3.Connection, terms: SearchQuery | list[str], fts: str, key_sql: str, text_sql: str
                ) -> tuple[str, list]:
    """SQL true when ``text_sql`` matches a query: every group, none of the excluded terms.

    ``terms`` is a :class:`SearchQuery` or a list of terms that must all appear. Terms of 3+ characters
    are looked up in the trigram index (one FTS5 ``MATCH`` for all groups made only of such terms, with
    ``OR`` inside a group), shorter ones with ``LIKE``.
    """
    query = terms if isinstance(terms, SearchQuery) else SearchQuery(tuple((t,) for t in terms))
    use_fts = has_trigram() and _fts_ready(conn, fts)
    indexable = lambda term: use_fts and len(term) >= TRIGRAM_MIN_CHARS  # noqa: E731
    in_index = f"{key_sql} IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?)"
    parts, params, matched = [], [], []
    for group in query.groups:
        if all(indexable(t) for t in group):
            matched.append(" OR ".join(_fts_phrase(t) for t in group))
            continue
        alternatives = []
        for term in group:
            if indexable(term):
                alternatives.append(in_index)
                params.append(_fts_phrase(term))
            else:
                alternatives.append(f"{text_sql} LIKE ? ESCAPE '\\'")
                params.append(_like(term))
        parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    if matched:
        parts.insert(0, in_index)
        params.insert(0, " AND ".join(f"({m})" if " OR " in m and len(matched) > 1 else m for m in matched))
    long_excluded = [t for t in query.excluded if indexable(t)]
    if long_excluded:
        parts.append(f"{key_sql} NOT IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?)")
        params.append(" OR ".join(_fts_phrase(t) for t in long_excluded))
    for term in query.excluded:
        if term not in long_excluded:
            parts.append(f"coalesce({text_sql}, '') NOT LIKE ? ESCAPE '\\'")
            params.append(_like(term))
    return " AND ".join(parts) or "1", params


# =================================================================================================
# Search
# =================================================================================================
def snippet(text: str | None, terms: list[str], *, length: int = SNIPPET_CHARS,
            highlight: tuple[str, str] = HIGHLIGHT) -> str:
    """A one-line extract of ``text`` around the first matching term, every match wrapped in ``highlight``."""
    text = _SPACES.sub(" ", text or "").strip()
    if not terms:
        return text[:length]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)), re.I)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - SNIPPET_LEAD)
    end = min(len(text), start + length)
    start = max(0, min(start, end - length))
    piece = pattern.sub(lambda m: f"{highlight[0]}{m.group(0)}{highlight[1]}", text[start:end])
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


SEARCH_COLUMNS = ("match", "tid", "pid", "floor", "fid", "title", "author", "author_uid", "posted_at", "snippet")


def search(db: sqlite_utils.Database | str | Path, query: str, *, forum: Iterable[int] = (),
           since: str | None = None, until: str | None = None, limit: int | None = DEFAULT_LIMIT,
           order: str = "newest", highlight: tuple[str, str] = HIGHLIGHT,
           snippet_chars: int = SNIPPET_CHARS) -> list[dict]:
    """Posts whose text, 点评 comments whose text, and threads whose title contain every term of ``query``.

    In: an archive (or its path), the query (words, phrases in "…", “…” or 「…」 quotes, ``a OR b``,
    ``-word``; see :func:`~research.common.parse_search`; case-insensitive for Latin letters), forum ids, a
    posted_at range, how many hits at most, ``newest`` or ``oldest`` first.
    Out: dicts with ``SEARCH_COLUMNS``: ``match`` is ``post``, ``comment`` or ``title``; a comment hit names the
    post commented on (``pid``, ``floor``), the commenter (``author``, ``author_uid``) and the comment's time; a
    title hit names the thread's opening post and start time, and is left out when that opening post matched
    itself (it would be the same floor twice); ``snippet`` is the text around the match with matches in
    ``highlight``. Raises ValueError for a query that only excludes.
    """
    db = _database(db)
    conn = db.conn
    parsed = parse_search(query)
    terms = parsed.terms
    if not terms:
        return []
    if order not in ("newest", "oldest"):
        raise ValueError(f"order must be newest or oldest, not {order!r}")
    forum = tuple(forum)
    zone = archive_zone(db) if (since or until) else None

    post_match, post_params = _text_match(conn, parsed, "posts_fts", "p.pid", "p.content_text")
    title_match, title_params = _text_match(conn, parsed, "threads_fts", "t.tid", "t.title")
    thread_filter, thread_params = _thread_where(Selection(forum=forum))
    post_where = [post_match] + thread_filter
    title_where = [title_match] + thread_filter
    comment_where = thread_filter[:]
    range_params: dict[str, list] = {"p": [], "t": [], "c": []}
    for bound, op, is_until in ((since, ">=", False), (until, "<=", True)):
        if bound:
            value = time_bound(bound, zone, until=is_until)
            post_where.append(f"p.posted_at {op} ?")
            range_params["p"].append(value)
            title_where.append(f"t.created_at {op} ?")
            range_params["t"].append(value)
            comment_where.append(f"c.posted_at {op} ?")
            range_params["c"].append(value)
    direction = "DESC" if order == "newest" else "ASC"
    comments, comment_params = "", []
    if _has_table(conn, "post_comments"):
        comment_match, match_params = _text_match(conn, parsed, "post_comments_fts", "c.id", "c.comment")
        # A comment's thread: its own tid, else its post's (a reader that could not tell).
        comments = f"""
UNION ALL
SELECT 'comment', coalesce(c.tid, p.tid), c.pid, p.floor, t.fid, t.title, c.author, c.author_uid, c.posted_at,
       c.comment
FROM post_comments c LEFT JOIN posts p ON p.pid = c.pid LEFT JOIN threads t ON t.tid = coalesce(c.tid, p.tid)
WHERE {' AND '.join([comment_match] + comment_where)}"""
        comment_params = match_params + thread_params + range_params["c"]
    sql = f"""
WITH post_hits AS (
SELECT 'post' AS match, p.tid AS tid, p.pid AS pid, p.floor AS floor, t.fid AS fid, t.title AS title,
       p.author AS author, p.author_uid AS author_uid, p.posted_at AS posted_at, p.content_text AS text
FROM posts p LEFT JOIN threads t ON t.tid = p.tid
WHERE {' AND '.join(post_where)})
SELECT * FROM post_hits
UNION ALL
SELECT 'title', t.tid, fp.pid, fp.floor, t.fid, t.title, t.author, t.author_uid, t.created_at, t.title
FROM threads t LEFT JOIN posts fp ON fp.tid = t.tid AND fp.is_first = 1
WHERE {' AND '.join(title_where)} AND (fp.pid IS NULL OR fp.pid NOT IN (SELECT pid FROM post_hits)){comments}
ORDER BY posted_at {direction}, tid {direction}, pid {direction}, match, text"""
    params = (post_params + thread_params + range_params["p"] + title_params + thread_params + range_params["t"]
              + comment_params)
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    hits = []
    for row in conn.execute(sql, params):
        hit = dict(zip(SEARCH_COLUMNS[:-1], row[:-1]))
        hit["snippet"] = snippet(row[-1], terms, length=snippet_chars, highlight=highlight)
        hits.append(hit)
    return hits


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None
