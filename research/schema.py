"""Descriptions generated from ``schemas/archive.json``: the JSON Schema of an export line
(:func:`export_schema`, shipped as ``schemas/export.schema.json``) and Datasette metadata
(:func:`datasette_metadata`). ``python -m research export-schema`` prints the former."""
from __future__ import annotations

import html
import json
import sys
from pathlib import Path
from urllib.parse import quote

import schemas
from archive.fulltext import FTS_INDEXES, VIEW_DESCRIPTIONS

from .common import MEDIA_EXPORT_COLUMNS, POST_EXTRAS, THREAD_EXTRAS, exported_columns

ISO_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
_TIME_COLUMNS = {"first_seen", "last_seen", "seen_from", "seen_until"}
# 0/1 columns (NULL where the page does not say).
_FLAG_COLUMNS = {"is_first", "is_sticky", "is_digest", "is_closed", "is_warned", "is_anonymous", "comments_more",
                 "multiple", "is_expired", "results_visible", "voters_public", "is_image", "is_resolved", "is_ended",
                 "can_view", "can_download", "verified"}
EXPORT_SCHEMA_PATH = Path(schemas.__file__).with_name("export.schema.json")


# =================================================================================================
# Schemas and metadata
# =================================================================================================
# The post_changes columns export --changes writes for each change of a post.
EXPORT_CHANGE_COLUMNS = {
    "kind": "new | edited | gone", "crawl_id": "Crawl that saw the change (gone: the first that did not see the post)",
    "at": "When that crawl saw it (ISO 8601, UTC)", "status": "gone: deleted or hidden; else the post's status",
    "text_before": "edited: the replaced text; gone: the last text seen", "text_after": "new: the first text; "
    "edited: the next text", "last_crawl": "gone: the last crawl that saw the post",
    "url": "gone: the page that showed its absence", "reason": "gone: what that page showed"}


# The records an export starts with, before its thread (or post) lines: each is a line of one key naming it.
EXPORT_FORMAT = "dzarchive"
EXPORT_VERSION = 2  # 1: thread or post lines only (before the records existed)
RECORD_KEYS = ("export", "crawl", "user", "post_absence", "thread_change")
# Columns of the history tables a record carries: every one but the row id (this archive's own numbering).
HISTORY_COLUMNS = {table: [c for c in schemas.columns(table) if c != "id"]
                   for table in ("post_absences", "thread_changes")}
_RECORD_DESCRIPTIONS = {
    "export": "The first line: the format, its version and the site the archive holds (its site row; for an archive "
              "without one, its first crawl's start URL, or the host of its URLs). import-jsonl refuses a file of "
              "another site than the archive's, or of several",
    "crawl": "A crawl run (crawls row, with its id: first_crawl, last_crawl and crawl_id on the lines refer to it)",
    "user": "A user whose figures were recorded: the users row with figures, every user_stats row oldest first "
            "(users of the selected posts only, in a filtered export)",
    "post_absence": "A time a post was found gone (post_absences row without its id)",
    "thread_change": "A change of a thread's state (thread_changes row without its id)",
}


def _nullable(kind: str | list[str]) -> list[str]:
    return (kind if isinstance(kind, list) else [kind]) + ["null"]


_CREDIT = {"type": "object", "properties": {"value": {"type": ["number", "null"]}, "unit": {"type": ["string", "null"]},
                                           "approx": {"type": "boolean"}}, "required": ["value"]}
# Shapes of the JSON columns, as the normaliser writes them. Their insides are left open to new keys.
_STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}
_DEBATERS = {"type": ["array", "null"], "items": {
    "type": "object", "properties": {"uid": {"type": ["integer", "null"]}, "username": {"type": ["string", "null"]}}}}
_JSON_SHAPES = {
    ("posts", "quotes"): {"type": ["array", "null"], "items": {"$ref": "#/$defs/quote"}},
    ("posts", "rate_totals"): {"type": ["object", "null"], "additionalProperties": {"type": "number"}},
    **{(table, "missing"): _STRINGS for table in ("polls", "rewards", "debates", "activities", "trades")},
    ("debates", "affirm_debater_list"): _DEBATERS,
    ("debates", "nega_debater_list"): _DEBATERS,
    ("user_stats", "extcredits"): {"type": ["object", "null"], "additionalProperties": _CREDIT},
    ("user_stats", "approx"): {"type": ["array", "null"], "items": {"type": "string"}},
    ("user_stats", "raw"): {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}},
}
_JSON_TYPES = {"integer": "integer", "text": "string", "real": "number", "blob": "string"}


def _column_schema(table: str, column: str) -> dict:
    kind, description = schemas.tables()[table]["columns"][column][:2]
    if kind == "json":
        prop = dict(_JSON_SHAPES.get((table, column), {}))
    else:
        prop = {"type": _nullable(_JSON_TYPES[kind])}
        if kind == "text" and (column.endswith("_at") or column in _TIME_COLUMNS):
            prop["pattern"] = ISO_TIME_PATTERN
        if column in _FLAG_COLUMNS:
            prop["enum"] = [0, 1, None]
    if "required" in schemas.tables()[table]["columns"][column][2:] and "type" in prop:
        prop["type"] = [t for t in prop["type"] if t != "null"]
    prop["description"] = description
    return prop


def _object(table: str, extra: dict | None = None, *, first: dict | None = None,
            columns: list[str] | None = None) -> dict:
    props = dict(first or {})
    for column in exported_columns(table) if columns is None else columns:
        props[column] = _column_schema(table, column)
    props.update(extra or {})
    return {"type": "object", "description": schemas.tables()[table]["description"], "properties": props,
            "required": list(props), "additionalProperties": False}


def _nested(table: str, key: str, many: bool) -> dict:
    """The schema of a key holding rows of ``table`` nested in a line: a list of them, or one (or null)."""
    ref = {"$ref": f"#/$defs/{_DEF_NAMES[table]}"}
    described = {"description": _NESTED_DESCRIPTIONS[key]}
    if many:
        return {"type": "array", "items": ref, **described}
    return {"anyOf": [ref, {"type": "null"}], **described}


# Names of the $defs of nested rows, and what each key of a line holding them says.
_DEF_NAMES = {"polls": "poll", "poll_options": "poll_option", "rewards": "reward", "debates": "debate",
              "debate_posts": "debate_post", "activities": "activity", "activity_applicants": "activity_applicant",
              "trades": "trade", "thread_tags": "tag", "figure_history": "figure", "ratings": "rating",
              "post_comments": "comment"}
_NESTED_DESCRIPTIONS = {
    "poll": "The thread's poll (polls row) with its options in order; null for a thread without one",
    "reward": "The thread's reward (rewards row); null for a thread without one",
    "debate": "The thread's debate (debates row); each reply's stand is its post's debate_post",
    "activity": "The thread's activity (activities row) with the applicants it lists; null without one",
    "trades": "The thread's goods (trades rows), each with the attachments of its goods post",
    "tags": "The thread's tags (thread_tags rows)",
    "figure_history": "The thread's changing figures, one row per value seen (figure_history rows, oldest first): "
                      "poll and debate votes, 支持/反对, applicants, downloads, goods in stock",
    "ratings": "The post's ratings (评分, ratings rows)",
    "comments": "The post's 点评 comments (post_comments rows)",
    "debate_post": "The post's stand in a debate (debate_posts row); null outside debates",
}


def _attachment_object() -> dict:
    """An attachment; ``export --media`` adds ``media`` (its ``media`` row's download fields, or null)."""
    media = {"anyOf": [{"type": "object", "description": schemas.tables()["media"]["description"],
                        "properties": {c: _column_schema("media", c) for c in MEDIA_EXPORT_COLUMNS},
                        "additionalProperties": False}, {"type": "null"}],
             "description": "With export --media: the file downloaded by crawl --media, or null"}
    attachment = _object("attachments", {"media": media})
    attachment["required"].remove("media")
    return attachment


def export_schema() -> dict:
    """The JSON Schema (draft 2020-12) of one export line, built from ``schemas/archive.json``.

    ``schemas/export.schema.json`` is this, written by ``python -m research export-schema``.
    """
    nullable_ref = lambda name: {"anyOf": [{"$ref": f"#/$defs/{name}"}, {"type": "null"}]}  # noqa: E731
    post_extra = {
        "attachments": {"type": "array", "items": {"$ref": "#/$defs/attachment"},
                        "description": "The post's images and files (attachments rows, without pid)"},
        "revisions": {"type": "array", "items": {"$ref": "#/$defs/revision"},
                      "description": "Earlier versions of the post, oldest first (post_revisions rows)"},
        **{key: _nested(table, key, many) for key, table, many in POST_EXTRAS},
        "user": dict(nullable_ref("user"), description="The author's users row with their latest figures; "
                                                       "null for guests and authors without a users row"),
    }
    post = _object("posts", post_extra)
    changes = {"type": "array", "items": {"$ref": "#/$defs/change"},
               "description": "With export --changes only: the post's changes between crawls, oldest first "
                              "(post_changes rows: new, edited, gone)"}
    post["properties"]["changes"] = changes  # optional: not in "required"
    pid, tid = post["properties"]["pid"], post["properties"]["tid"]
    flat_first = {"pid": pid, "tid": tid,
                  "fid": {"type": ["integer", "null"], "description": "Forum of the post's thread"},
                  "thread_title": {"type": ["string", "null"], "description": "Title of the post's thread"}}
    post_line = _object("posts", post_extra, first=flat_first)
    post_line["properties"]["changes"] = changes
    post_line["description"] = "A --flat export line: one post, with its thread's forum id and title."
    thread = _object("threads", {
        "forum": dict(nullable_ref("forum"), description="The thread's forum, parents nested"),
        **{key: _nested(table, key, many) for key, table, many in THREAD_EXTRAS},
        "posts": {"type": "array", "items": {"$ref": "#/$defs/post"},
                  "description": "The thread's (selected) posts in floor order"}})
    thread["description"] = ("A default export line: one thread, its forum, what its pages show besides posts (poll, "
                             "reward, debate, activity, trades, tags, changing figures) and its posts.")
    site = {"type": "string", "description": "With several archives exported at once only: the site the line "
                                             "comes from (its host, the archive's site table)"}
    for line in (thread, post_line):
        line["properties"]["site"] = site  # optional: not in "required"
    records = _records(site)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dzarchive JSONL export line",
        "description": (f"One line of `dzarchive export` output (format version {EXPORT_VERSION}): first the records "
                        "(an export record with the archive's site, then its crawls, users' figures over time, posts "
                        "found gone and threads' state changes: each a line of one key naming it), then a thread with "
                        "its boxes and posts nested per line (default) or one post per line (--flat). Keys are archive "
                        "columns (schemas/archive.json) under the same names; JSON columns are JSON values; times are "
                        "ISO 8601 as stored. Generated by `python -m research export-schema`."),
        "oneOf": [{"$ref": "#/$defs/thread_line"}, {"$ref": "#/$defs/post_line"}]
                 + [{"$ref": f"#/$defs/{key}_record"} for key in RECORD_KEYS],
        "$defs": {
            "thread_line": thread,
            "post_line": post_line,
            **records,
            "forum": _object("forums", {"parent": dict(nullable_ref("forum"), description="The parent forum")}),
            "post": post,
            "user": _object("users", {"stats": dict(nullable_ref("user_stats"),
                                                    description="The user's latest user_stats row")}),
            "user_stats": _object("user_stats"),
            "attachment": _attachment_object(),
            "revision": _object("post_revisions"),
            "poll": _object("polls", {"options": {"type": "array", "items": {"$ref": "#/$defs/poll_option"},
                                                  "description": "The poll's options in the order shown"}}),
            "poll_option": _object("poll_options"),
            "reward": _object("rewards"),
            "debate": _object("debates"),
            "debate_post": _object("debate_posts"),
            "activity": _object("activities", {
                "applicant_list": {"type": "array", "items": {"$ref": "#/$defs/activity_applicant"},
                                   "description": "The applicants the activity box lists (activity_applicants rows)"}}),
            "activity_applicant": _object("activity_applicants"),
            "trade": _object("trades", {"attachments": {
                "type": "array", "items": {"$ref": "#/$defs/attachment"},
                "description": "The goods post's pictures and files (attachments rows whose pid is the trade's pid)"}}),
            "tag": _object("thread_tags"),
            "figure": _object("figure_history"),
            "rating": _object("ratings"),
            "comment": _object("post_comments"),
            "change": {"type": "object", "description": "One change of a post between crawls (a post_changes row)",
                       "properties": {c: {"type": ["integer", "string", "null"], "description": d}
                                      for c, d in EXPORT_CHANGE_COLUMNS.items()},
                       "required": list(EXPORT_CHANGE_COLUMNS), "additionalProperties": False},
            "quote": {"type": "object", "description": "A quoted post, as posts.quotes holds it",
                      "properties": {"pid": {"type": ["integer", "null"]}, "author": {"type": ["string", "null"]},
                                     "time_text": {"type": ["string", "null"]}, "text": {"type": ["string", "null"]}},
                      "required": ["pid", "author", "time_text"]},
        },
    }


def _records(site: dict) -> dict:
    """The $defs of the records an export starts with (``<key>_record``) and of what they hold."""
    header = {"type": "object", "description": "The export's format and site", "properties": {
        "format": {"const": EXPORT_FORMAT, "description": "Always dzarchive"},
        "version": {"type": "integer", "minimum": 2, "description": "The format's version (this schema's: "
                                                                     f"{EXPORT_VERSION}; files without it are 1)"},
        "site": {"anyOf": [{"$ref": "#/$defs/site"}, {"type": "null"}],
                 "description": "The site the archive holds; null when nothing says"}},
        "required": ["format", "version", "site"], "additionalProperties": False}
    user = _object("users", {"figures": {"type": "array", "items": {"$ref": "#/$defs/user_stats"},
                                         "description": "Every user_stats row of the user, oldest first"}})
    held = {"export": header, "crawl": {"$ref": "#/$defs/crawl"}, "user": user,
            "post_absence": _object("post_absences", columns=HISTORY_COLUMNS["post_absences"]),
            "thread_change": _object("thread_changes", columns=HISTORY_COLUMNS["thread_changes"])}
    defs = {"site": _object("site"), "crawl": _object("crawls")}
    for key in RECORD_KEYS:
        defs[f"{key}_record"] = {"type": "object", "description": _RECORD_DESCRIPTIONS[key],
                                 "properties": {"site": site, key: held[key]}, "required": [key],
                                 "additionalProperties": False}
    return defs


def datasette_database_name(path: str | Path) -> str:
    """The name Datasette gives an archive file (its file name without the extension): the metadata's key."""
    return Path(path).stem


def datasette_database_names(paths) -> list[str]:
    """The names Datasette gives archives served together: each file's name without the extension, with
    ``_2``, ``_3`` … after a name already taken (``dzarchive serve`` names them so; the metadata's keys)."""
    names: list[str] = []
    for path in paths:
        name, n = datasette_database_name(path), 1
        while (name if n == 1 else f"{name}_{n}") in names:
            n += 1
        names.append(name if n == 1 else f"{name}_{n}")
    return names


def datasette_metadata(database: str = "archive", *others: str, sites: dict[str, str] | None = None) -> dict:
    """Datasette metadata for archives named ``database`` (and ``others``; see :func:`datasette_database_name`).

    Out: a dict for ``datasette DB.db -m metadata.json``: a short description of every table and view with
    its column notes (shown below the rows, through the stylesheet in ``extra_css_urls``), full-text search
    on ``posts``, ``post_comments`` (点评) and ``threads`` through the trigram indexes, and canned queries
    to read by: "A thread" (``a_thread?tid=``: its posts in floor order), "A user's posts"
    (``a_users_posts?uid=`` or ``?author=``), substring search for words under three characters (which a
    trigram index cannot look up), a poll's results, ratings given and received, a thread's figures over
    time. ``plugins.dzarchive`` tells the dzarchive Datasette plugin (research/datasette_ui) which cells
    link to which query (an author to their posts, a thread title to its posts), which texts to show
    whole and which search gets the short-word hint beside its result. Ids link to their rows through the
    foreign keys ``archive.json`` declares (Datasette reads them from the archive). ``sites`` (name ->
    host) describes each database as the archive of its site.
    """
    names = (database, *others)
    databases = {name: _datasette_database(name) for name in names}
    for name, site in (sites or {}).items():
        if name in databases:
            databases[name]["description"] = f"The archive of {site}"
    return {
        "title": "dzarchive: Discuz! forum archive",
        "description": ("Forums, threads, posts and posters crawled from a Discuz! forum, with what the thread pages "
                        "show besides posts (polls, rewards, debates, activities, goods, ratings, 点评 comments, "
                        "tags, attachments, figures over time). Read a thread with the a_thread query (or a "
                        "title in thread_summary), a poster's posts with a_users_posts. Search on posts and "
                        "comments uses a trigram index: terms of 3+ characters; for 1-2 character words use the "
                        "posts_containing and comments_containing queries."),
        "extra_css_urls": [DATASETTE_CSS_URL],
        "databases": databases,
    }


# The page style the metadata adds (a data: URL, so that no file has to be served): column notes move
# below the rows (Datasette 0.65 lists them above, pushing the data a screen down) as a compact two-column
# list, and post and comment texts get a readable width instead of a narrow column.
DATASETTE_CSS = """
body.table section.content{display:flex;flex-direction:column}
body.table section.content>dl.column-descriptions{order:1;display:grid;grid-template-columns:max-content auto;
 gap:.15em 1em;margin:1.5em 0 0;padding-top:.5em;border-top:1px solid #ccc;font-size:.85em}
body.table section.content>#export,body.table section.content>pre.wrapped-sql{order:2}
body.table section.content>dl.column-descriptions::before{content:"Column notes";grid-column:1/-1;font-weight:bold}
dl.column-descriptions dt,dl.column-descriptions dd{margin:0;padding:0;line-height:1.3em}
td.col-content_text,td.col-comment,td.col-text_before,td.col-text_after{min-width:24em;max-width:64em}
body.query td.col-content_text{min-width:36em;font-size:1.05em;line-height:1.6}
body.query td.col-posted_at,body.query td.col-author{white-space:nowrap}
.dzarchive-heading{font-size:1.3em;margin:.5em 0}
.dzarchive-short-search{padding:.5em .8em;background:#fff3cd;border-left:4px solid #e0a800}
""".strip()
DATASETTE_CSS_URL = "data:text/css," + quote(DATASETTE_CSS)
# The canned query a 1-2 character full-text search on a table is pointed to.
_SHORT_SEARCH = {"posts": "posts_containing", "post_comments": "comments_containing", "threads": "threads_titled"}


def _datasette_database(database: str) -> dict:
    """The metadata of one archive named ``database``: its tables and views, canned queries and plugin settings."""
    tables: dict[str, dict] = {}
    labels = {"forums": "name", "threads": "title", "users": "username"}
    for name, spec in schemas.tables().items():
        meta = {"description": spec["description"],
                "columns": {c: s[1] for c, s in spec["columns"].items()}}
        if name in labels:
            meta["label_column"] = labels[name]
        tables[name] = meta
    for fts, table, key, _ in FTS_INDEXES:
        tables[table].update({"fts_table": fts, "fts_pk": key})
        tables[fts] = {"hidden": True}
    tables["pages"]["hidden"] = True  # raw page bodies: large blobs, for re-parsing, not reading
    tables["posts"]["sort_desc"] = "posted_at"
    # The search box on a table goes to the trigram index, which answers "0 rows" for a 1-2 character
    # word: the plugin says so beside that result; the description says it for Datasette without it.
    for table, query in _SHORT_SEARCH.items():
        tables[table]["description_html"] = (
            f"{html.escape(tables[table]['description'])} Search needs words of 3 or more characters; for shorter "
            f'ones use <a href="/{quote(database)}/{query}">{query}</a>.')
    tables["posts"]["description_html"] += " The post HTML (<code>content_html</code>) is the last column."
    tables["ratings"]["sort_desc"] = "first_seen"
    tables["figure_history"]["sort_desc"] = "seen_at"
    for name, (description, columns) in VIEW_DESCRIPTIONS.items():
        tables[name] = {"description": description, "columns": columns}
    if "thread_summary" in tables:
        tables["thread_summary"]["description"] += " A title opens the thread's posts (a_thread)."
    return {
        "tables": tables,
        "queries": {**_READING_QUERIES, **_DATASETTE_QUERIES},
        "plugins": {"dzarchive": {
            "links": {"author": "a_users_posts?uid={author_uid}", "title": "a_thread?tid={tid}",
                      "username": "a_users_posts?uid={uid}"},
            "full_text": ["content_text", "comment"],
            "short_search": _SHORT_SEARCH,
            "headings": _READING_HEADINGS,
        }},
    }


# The queries to read by: a thread as its pages show it, a poster's posts. Few columns, so the text is wide.
_READING_QUERIES = {
    "a_thread": {
        "title": "A thread",
        "hide_sql": True,
        "description": "The posts of thread tid in floor order: who wrote each (a name opens their posts), when, "
                       "and the text.",
        "sql": ("SELECT p.floor, p.author, p.author_uid, p.posted_at, p.content_text\n"
                "FROM posts p WHERE p.tid = :tid\nORDER BY p.floor, p.pid"),
    },
    "a_users_posts": {
        "title": "A user's posts",
        "hide_sql": True,
        "description": "The posts of a poster, newest first, by uid or by name (author): the thread title opens "
                       "the thread.",
        "sql": ("SELECT p.posted_at, t.title, p.tid, p.floor, p.author, p.content_text\n"
                "FROM posts p LEFT JOIN threads t ON t.tid = p.tid\n"
                "WHERE (:uid <> '' OR :author <> '')\n"
                "  AND (:uid = '' OR p.author_uid = :uid) AND (:author = '' OR p.author = :author)\n"
                "ORDER BY p.posted_at DESC, p.pid DESC"),
    },
    "threads_titled": {
        "title": "Threads whose title contains a word (any length)",
        "description": "Substring match on thread titles, for words a trigram index cannot look up.",
        "sql": ("SELECT t.tid, t.title, t.author, t.author_uid, t.created_at, t.replies, t.views\n"
                "FROM threads t WHERE t.title LIKE '%' || :word || '%'\nORDER BY t.created_at DESC LIMIT 200"),
    },
}
# What the plugin shows above a reading query's rows: the thread's title and forum with its page on the site,
# the poster's name and group (heading, note, url).
_READING_HEADINGS = {
    "a_thread": ("SELECT t.title AS heading, f.name AS note, t.url FROM threads t\n"
                 "LEFT JOIN forums f ON f.fid = t.fid WHERE t.tid = :tid"),
    "a_users_posts": ("SELECT coalesce((SELECT username FROM users WHERE uid = :uid), nullif(:author, '')) AS heading,\n"
                      "       (SELECT group_title FROM users WHERE uid = :uid) AS note, NULL AS url"),
}
_DATASETTE_QUERIES = {
    "post_media": {
        "title": "Images and attachments of posts, with their downloads",
        "description": "Each attachment with the file crawl --media stored (path under ARCHIVE.media/).",
        "sql": ("SELECT a.pid, p.tid, a.kind, a.name, a.url, m.status, m.size, m.content_type, m.path\n"
                "FROM attachments a JOIN posts p ON p.pid = a.pid LEFT JOIN media m ON m.url = a.url\n"
                "WHERE :tid = '' OR p.tid = :tid\nORDER BY p.tid, p.floor, a.rowid"),
    },
    "posts_containing": {
        "title": "Posts containing a word (any length)",
        "description": "Substring match for words a trigram index cannot look up (盐帮, 法院).",
        "sql": ("SELECT p.pid, p.tid, t.title, p.floor, p.author, p.posted_at, p.content_text\n"
                "FROM posts p LEFT JOIN threads t ON t.tid = p.tid\n"
                "WHERE p.content_text LIKE '%' || :word || '%'\nORDER BY p.posted_at DESC LIMIT 200"),
    },
    "comments_containing": {
        "title": "点评 comments containing a word (any length)",
        "description": "Substring match on comment text, for words a trigram index cannot look up.",
        "sql": ("SELECT c.id, c.pid, p.tid, t.title, p.floor, c.author, c.posted_at, c.comment\n"
                "FROM post_comments c LEFT JOIN posts p ON p.pid = c.pid\n"
                "LEFT JOIN threads t ON t.tid = p.tid\n"
                "WHERE c.comment LIKE '%' || :word || '%'\nORDER BY c.posted_at DESC LIMIT 200"),
    },
    "poll_results": {
        "title": "A poll's results",
        "description": "Each option of a thread's poll, in the order shown, with its votes and share as "
                       "last seen (empty tid: every poll).",
        "sql": ("SELECT o.tid, t.title, o.position, o.text, o.votes, o.percent, p.voters, p.multiple,\n"
                "       p.max_choices, p.expires_at, p.is_expired, p.results_visible\n"
                "FROM poll_options o JOIN polls p ON p.tid = o.tid LEFT JOIN threads t ON t.tid = o.tid\n"
                "WHERE :tid = '' OR o.tid = :tid\nORDER BY o.tid, o.position"),
    },
    "ratings_given": {
        "title": "Ratings (评分) given, per rater and credit",
        "description": "How often each user rated, in which credit, how much in all, up and down.",
        "sql": ("SELECT r.uid, r.username, r.credit, count(*) AS ratings, sum(r.score) AS total,\n"
                "       sum(r.score > 0) AS up, sum(r.score < 0) AS down,\n"
                "       count(DISTINCT p.author_uid) AS authors_rated\n"
                "FROM ratings r LEFT JOIN posts p ON p.pid = r.pid\n"
                "GROUP BY r.uid, r.credit ORDER BY ratings DESC"),
    },
    "ratings_received": {
        "title": "Ratings (评分) received, per author and credit",
        "description": "How the community rated each author's posts: ratings, total score, up and down.",
        "sql": ("SELECT p.author_uid, p.author, r.credit, count(*) AS ratings, sum(r.score) AS total,\n"
                "       sum(r.score > 0) AS up, sum(r.score < 0) AS down,\n"
                "       count(DISTINCT r.pid) AS posts_rated\n"
                "FROM ratings r JOIN posts p ON p.pid = r.pid\n"
                "GROUP BY p.author_uid, r.credit ORDER BY ratings DESC"),
    },
    "thread_figures_over_time": {
        "title": "A thread's figures over time",
        "description": "Every value seen of a thread's changing figures (poll and debate votes, "
                       "支持/反对, applicants, downloads, goods in stock), oldest first.",
        "sql": ("SELECT h.subject, h.ref, h.pid, h.figure, h.value, h.seen_at, h.crawl_id\n"
                "FROM figure_history h WHERE h.tid = :tid\n"
                "ORDER BY h.subject, h.pid, h.ref, h.figure, h.seen_at, h.id"),
    },
}


def _main(argv: list[str]) -> int:
    if argv[:1] == ["export-schema"]:
        sys.stdout.write(json.dumps(export_schema(), ensure_ascii=False, indent=2) + "\n")
        return 0
    sys.stderr.write("usage: python -m research export-schema > schemas/export.schema.json\n")
    return 2
