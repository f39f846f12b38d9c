"""Chinese full-text search over an archive: matching query terms against the archive's trigram indexes
(:mod:`archive.fulltext`; the index for 3+ characters, ``LIKE`` for shorter ones), Traditional and Simplified
Chinese folded by default, and :func:`search` (posts, 点评 comments and thread titles, filtered by forum, thread,
poster and time) with :func:`search_count` and its :func:`snippet`."""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import sqlite_utils

from archive.fulltext import (FOLD_FUNCTION, TRIGRAM_MIN_CHARS, _fts_ready, fold as fold_text, has_trigram,
                              register_functions, spellings)

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
@dataclass(frozen=True)
class Matching:
    """A query and how its terms match the text: ``fold`` (the default) finds a term written in either
    script, Traditional or Simplified Chinese (OpenCC's ``t2s`` folding both sides: 討論 finds 讨论 and the
    reverse); without, a term matches only as typed."""

    query: SearchQuery
    fold: bool = True


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    return "%" + _LIKE_ESCAPE.sub(r"\\\1", term) + "%"


def _fts_expression(term: str, fold: bool) -> str:
    """The FTS5 query for one term: the term, or folding, the term or its folded spelling. The index holds each
    text and, where folding changes it, its folded copy (:func:`archive.fulltext.index_text`)."""
    folded = fold_text(term) if fold else term
    if folded == term:
        return _fts_phrase(term)
    return f"({_fts_phrase(term)} OR {_fts_phrase(folded)})"


def _exact_only(term: str) -> bool:
    """Whether ``term`` has one spelling only: folding cannot change what it matches (most Simplified terms with
    no character that has a Traditional form, Latin words, numbers)."""
    return spellings(term, most=1) == [term]


def _contains(text_sql: str) -> str:
    return f"{text_sql} LIKE ? ESCAPE '\\'"


def _scan(term: str, fold: bool, text_sql: str) -> tuple[str, list]:
    """SQL true when ``text_sql`` contains ``term`` (a scan, for terms the index cannot answer). Folding: the text
    contains the term as typed, or folded it contains the term folded; the folding function runs only on rows
    that hold one of the term's spellings character by character (``spellings``), when there are few."""
    if not fold or _exact_only(term):
        return _contains(text_sql), [_like(term)]
    ways = spellings(term) or []
    folded = _contains(f"{FOLD_FUNCTION}({text_sql})")
    if ways:
        folded = "(" + " OR ".join(_contains(text_sql) for _ in ways) + f") AND {folded}"
    return f"({_contains(text_sql)} OR ({folded}))", [_like(term)] + [_like(w) for w in ways] + [_like(fold_text(term))]


def _text_match(conn: sqlite3.Connection, terms: Matching | SearchQuery | list[str], fts: str, key_sql: str,
                text_sql: str) -> tuple[str, list]:
    """SQL true when ``text_sql`` matches a query: every group, none of the excluded terms.

    ``terms`` is a :class:`Matching` (a query, folded or not), a :class:`SearchQuery` or a list of terms that must
    all appear (both folded). Terms of 3+ characters are looked up in the trigram index (one FTS5 ``MATCH`` for
    all groups made only of such terms, with ``OR`` inside a group), shorter ones with ``LIKE``. Without
    folding, a term that has other spellings is checked with ``LIKE`` as well: the index holds folded copies.
    """
    matching = terms if isinstance(terms, Matching) else Matching(
        terms if isinstance(terms, SearchQuery) else SearchQuery(tuple((t,) for t in terms)))
    query, fold = matching.query, matching.fold
    register_functions(conn)  # the folding function of the scans (already there on the archive's connections)
    use_fts = has_trigram() and _fts_ready(conn, fts)
    indexable = lambda term: use_fts and len(term) >= TRIGRAM_MIN_CHARS  # noqa: E731
    in_index = f"{key_sql} IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?)"
    parts, params, matched = [], [], []
    for group in query.groups:
        if all(indexable(t) for t in group):
            matched.append(" OR ".join(_fts_expression(t, fold) for t in group))
            if not fold and not all(_exact_only(t) for t in group):
                # The index found the term in the text or in its folded copy: keep the texts that hold it as typed.
                parts.append("(" + " OR ".join(_contains(text_sql) for _ in group) + ")")
                params.extend(_like(t) for t in group)
            continue
        alternatives = []
        for term in group:
            if indexable(term) and (fold or _exact_only(term)):
                alternatives.append(in_index)
                params.append(_fts_expression(term, fold))
            else:
                sql, scan_params = _scan(term, fold, text_sql)
                alternatives.append(sql)
                params.extend(scan_params)
        parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    if matched:
        parts.insert(0, in_index)
        params.insert(0, " AND ".join(f"({m})" if " OR " in m and len(matched) > 1 else m for m in matched))
    long_excluded = [t for t in query.excluded if indexable(t) and (fold or _exact_only(t))]
    if long_excluded:
        parts.append(f"{key_sql} NOT IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?)")
        params.append(" OR ".join(_fts_expression(t, fold) for t in long_excluded))
    for term in query.excluded:
        if term not in long_excluded:
            sql, scan_params = _scan(term, fold, f"coalesce({text_sql}, '')")
            parts.append(f"NOT {sql}")
            params.extend(scan_params)
    return " AND ".join(parts) or "1", params


# =================================================================================================
# Search
# =================================================================================================
def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    pattern = re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)), re.I)
    return [m.span() for m in pattern.finditer(text)]


def _match_spans(text: str, terms: list[str], fold: bool) -> list[tuple[int, int]]:
    """Where the terms are in ``text``, overlapping matches merged; folding, also where the folded terms are in the
    folded text (Traditional and Simplified Chinese fold character for character, so the places are the same)."""
    spans = _spans(text, terms)
    if fold:
        folded = fold_text(text)
        if len(folded) != len(text):  # a phrase folded to another length: fold character by character instead
            folded = "".join(fold_text(ch) if len(fold_text(ch)) == 1 else ch for ch in text)
        spans += _spans(folded, [fold_text(t) for t in terms])
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str | None, terms: list[str], *, length: int = SNIPPET_CHARS,
            highlight: tuple[str, str] = HIGHLIGHT, fold: bool = True) -> str:
    """A one-line extract of ``text`` around the first matching term, every match wrapped in ``highlight``; the text
    as archived, where a term in the other script matched it too (``fold``)."""
    text = _SPACES.sub(" ", text or "").strip()
    if not terms:
        return text[:length]
    spans = _match_spans(text, terms, fold)
    start = max(0, (spans[0][0] if spans else 0) - SNIPPET_LEAD)
    end = min(len(text), start + length)
    start = max(0, min(start, end - length))
    pieces, at = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        pieces += [text[at:s], highlight[0], text[s:e], highlight[1]]
        at = e
    pieces.append(text[at:end])
    return ("…" if start else "") + "".join(pieces) + ("…" if end < len(text) else "")


SEARCH_COLUMNS = ("match", "tid", "pid", "floor", "fid", "title", "author", "author_uid", "posted_at", "snippet")


def _in(column: str, values: tuple) -> str:
    return f"{column} IN ({', '.join('?' for _ in values)})"


def _search_sql(db: sqlite_utils.Database, query: str | SearchQuery, *, forum: Iterable[int], tid: Iterable[int],
                author: Iterable[str], uid: Iterable[int], since: str | None, until: str | None, fold: bool
                ) -> tuple[str, list, list[str]] | None:
    """(the UNION of post, title and comment hits as SQL without ORDER BY, its parameters, the terms to
    highlight), or None for a query with nothing to look for."""
    conn = db.conn
    parsed = parse_search(query)
    terms = parsed.terms
    if not terms:
        return None
    matching = Matching(parsed, fold)
    forum, tid, author, uid = tuple(forum), tuple(int(t) for t in tid), tuple(author), tuple(int(u) for u in uid)
    zone = archive_zone(db) if (since or until) else None

    post_match, post_params = _text_match(conn, matching, "posts_fts", "p.pid", "p.content_text")
    title_match, title_params = _text_match(conn, matching, "threads_fts", "t.tid", "t.title")
    thread_filter, thread_params = _thread_where(Selection(forum=forum, tid=tid))
    where = {"p": [post_match] + thread_filter, "t": [title_match] + thread_filter, "c": thread_filter[:]}
    extra: dict[str, list] = {"p": [], "t": [], "c": []}
    # The poster: named (as archived) or by uid, either way (as export's --author/--uid); a title hit's poster
    # is the thread's, a comment's its commenter.
    if author or uid:
        for a, conditions in where.items():
            by = ([_in(f"{a}.author", author)] if author else []) + ([_in(f"{a}.author_uid", uid)] if uid else [])
            conditions.append(by[0] if len(by) == 1 else f"({' OR '.join(by)})")
            extra[a] += list(author) + list(uid)
    for bound, op, is_until in ((since, ">=", False), (until, "<=", True)):
        if bound:
            value = time_bound(bound, zone, until=is_until)
            for a, column in (("p", "posted_at"), ("t", "created_at"), ("c", "posted_at")):
                where[a].append(f"{a}.{column} {op} ?")
                extra[a].append(value)
    comments, comment_params = "", []
    if _has_table(conn, "post_comments"):
        comment_match, match_params = _text_match(conn, matching, "post_comments_fts", "c.id", "c.comment")
        # A comment's thread: its own tid, else its post's (a reader that could not tell).
        comments = f"""
UNION ALL
SELECT 'comment', coalesce(c.tid, p.tid), c.pid, p.floor, t.fid, t.title, c.author, c.author_uid, c.posted_at,
       c.comment
FROM post_comments c LEFT JOIN posts p ON p.pid = c.pid LEFT JOIN threads t ON t.tid = coalesce(c.tid, p.tid)
WHERE {' AND '.join([comment_match] + where["c"])}"""
        comment_params = match_params + thread_params + extra["c"]
    sql = f"""
WITH post_hits AS (
SELECT 'post' AS match, p.tid AS tid, p.pid AS pid, p.floor AS floor, t.fid AS fid, t.title AS title,
       p.author AS author, p.author_uid AS author_uid, p.posted_at AS posted_at, p.content_text AS text
FROM posts p LEFT JOIN threads t ON t.tid = p.tid
WHERE {' AND '.join(where["p"])})
SELECT * FROM post_hits
UNION ALL
SELECT 'title', t.tid, fp.pid, fp.floor, t.fid, t.title, t.author, t.author_uid, t.created_at, t.title
FROM threads t LEFT JOIN posts fp ON fp.tid = t.tid AND fp.is_first = 1
WHERE {' AND '.join(where["t"])} AND (fp.pid IS NULL OR fp.pid NOT IN (SELECT pid FROM post_hits)){comments}"""
    params = (post_params + thread_params + extra["p"] + title_params + thread_params + extra["t"]
              + comment_params)
    return sql, params, terms


def search(db: sqlite_utils.Database | str | Path, query: str | SearchQuery, *, forum: Iterable[int] = (),
           tid: Iterable[int] = (), author: Iterable[str] = (), uid: Iterable[int] = (),
           since: str | None = None, until: str | None = None, limit: int | None = DEFAULT_LIMIT,
           order: str = "newest", fold: bool = True, highlight: tuple[str, str] = HIGHLIGHT,
           snippet_chars: int = SNIPPET_CHARS) -> list[dict]:
    """Posts whose text, 点评 comments whose text, and threads whose title contain every term of ``query``.

    In: an archive (or its path), the query (words, phrases in "…", “…” or 「…」 quotes, ``a OR b``,
    ``-word``; see :func:`~research.common.parse_search`; case-insensitive for Latin letters), and filters that
    all apply: forum ids, thread ids, posters (``author`` names as archived, exactly, or ``uid``: a hit by any
    of them), a posted_at range; how many hits at most (``None``: all), ``newest`` or ``oldest`` first;
    ``fold`` (default): Traditional and Simplified Chinese match each other (討論 finds 讨论 and the reverse).
    Out: dicts with ``SEARCH_COLUMNS``: ``match`` is ``post``, ``comment`` or ``title``; a comment hit names the
    post commented on (``pid``, ``floor``), the commenter (``author``, ``author_uid``) and the comment's time; a
    title hit names the thread's opening post, its starter and start time, and is left out when that opening
    post matched itself (it would be the same floor twice); ``snippet`` is the text around the match, as
    archived, with matches in ``highlight``. Raises ValueError for a query that only excludes.
    """
    if order not in ("newest", "oldest"):
        raise ValueError(f"order must be newest or oldest, not {order!r}")
    db = _database(db)
    built = _search_sql(db, query, forum=forum, tid=tid, author=author, uid=uid, since=since, until=until,
                        fold=fold)
    if built is None:
        return []
    sql, params, terms = built
    direction = "DESC" if order == "newest" else "ASC"
    sql += f"\nORDER BY posted_at {direction}, tid {direction}, pid {direction}, match, text"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    hits = []
    for row in db.conn.execute(sql, params):
        hit = dict(zip(SEARCH_COLUMNS[:-1], row[:-1]))
        hit["snippet"] = snippet(row[-1], terms, length=snippet_chars, highlight=highlight, fold=fold)
        hits.append(hit)
    return hits


def search_count(db: sqlite_utils.Database | str | Path, query: str | SearchQuery, *, forum: Iterable[int] = (),
                 tid: Iterable[int] = (), author: Iterable[str] = (), uid: Iterable[int] = (),
                 since: str | None = None, until: str | None = None, fold: bool = True) -> int:
    """How many hits :func:`search` gives with no limit (the same arguments)."""
    db = _database(db)
    built = _search_sql(db, query, forum=forum, tid=tid, author=author, uid=uid, since=since, until=until,
                        fold=fold)
    if built is None:
        return 0
    sql, params, _ = built
    return db.conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None
