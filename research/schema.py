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

from .common import MEDIA_EXPORT_COLUMNS, exported_columns

ISO_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
_TIME_COLUMNS = {"first_seen", "last_seen", "seen_from", "seen_until"}
_FLAG_COLUMNS = {"is_first", "is_sticky", "is_digest", "is_closed"}
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


def _nullable(kind: str | list[str]) -> list[str]:
    return (kind if isinstance(kind, list) else [kind]) + ["null"]


_CREDIT = {"type": "object", "properties": {"value": {"type": ["number", "null"]}, "unit": {"type": ["string", "null"]},
                                           "approx": {"type": "boolean"}}, "required": ["value"]}
# Shapes of the JSON columns, as the normaliser writes them. Their insides are left open to new keys.
_JSON_SHAPES = {
    ("posts", "quotes"): {"type": ["array", "null"], "items": {"$ref": "#/$defs/quote"}},
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


def _object(table: str, extra: dict | None = None, *, first: dict | None = None) -> dict:
    props = dict(first or {})
    for column in exported_columns(table):
        props[column] = _column_schema(table, column)
    props.update(extra or {})
    return {"type": "object", "description": schemas.tables()[table]["description"], "properties": props,
            "required": list(props), "additionalProperties": False}


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
        "posts": {"type": "array", "items": {"$ref": "#/$defs/post"},
                  "description": "The thread's (selected) posts in floor order"}})
    thread["description"] = "A default export line: one thread, its forum and its posts."
    site = {"type": "string", "description": "With several archives exported at once only: the site the line "
                                             "comes from (its host, the archive's site table)"}
    for line in (thread, post_line):
        line["properties"]["site"] = site  # optional: not in "required"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dzarchive JSONL export line",
        "description": ("One line of `dzarchive export` output: a thread with its posts nested (default) or one post "
                        "(--flat). Keys are archive columns (schemas/archive.json) under the same names; JSON "
                        "columns are JSON values; times are ISO 8601 as stored. Generated by "
                        "`python -m research export-schema`."),
        "oneOf": [{"$ref": "#/$defs/thread_line"}, {"$ref": "#/$defs/post_line"}],
        "$defs": {
            "thread_line": thread,
            "post_line": post_line,
            "forum": _object("forums", {"parent": dict(nullable_ref("forum"), description="The parent forum")}),
            "post": post,
            "user": _object("users", {"stats": dict(nullable_ref("user_stats"),
                                                    description="The user's latest user_stats row")}),
            "user_stats": _object("user_stats"),
            "attachment": _attachment_object(),
            "revision": _object("post_revisions"),
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


def datasette_database_name(path: str | Path) -> str:
    """The name Datasette gives an archive file (its file name without the extension): the metadata's key."""
    return Path(path).stem


def datasette_metadata(database: str = "archive") -> dict:
    """Datasette metadata for an archive named ``database`` (see :func:`datasette_database_name`).

    Out: a dict for ``datasette DB.db -m metadata.json``: a description of every table, view and
    column, full-text search on ``posts`` (and ``threads``) through the trigram indexes, and a canned
    query for terms under three characters, which a trigram index cannot look up.
    """
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
    # The search box on posts goes to the trigram index, which answers "0 rows" for a 1-2 character
    # word: say so where the reader searches, with a link to the query that finds it.
    tables["posts"]["description_html"] = (
        f"{html.escape(tables['posts']['description'])} <strong>Search</strong> here needs words of 3 or more "
        f"characters; a word of 1 or 2 characters (盐帮, 法院) finds nothing here: use "
        f'<a href="/{quote(database)}/posts_containing">posts_containing</a> instead. The post HTML '
        f"(<code>content_html</code>) is the last column.")
    for name, (description, columns) in VIEW_DESCRIPTIONS.items():
        tables[name] = {"description": description, "columns": columns}
    return {
        "title": "dzarchive: Discuz! forum archive",
        "description": ("Forums, threads, posts and posters crawled from a Discuz! forum. Search on posts uses a "
                        "trigram index: terms of 3+ characters; for 1-2 character words use the "
                        "posts_containing query."),
        "databases": {database: {
            "tables": tables,
            "queries": {
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
            },
        }},
    }


def _main(argv: list[str]) -> int:
    if argv[:1] == ["export-schema"]:
        sys.stdout.write(json.dumps(export_schema(), ensure_ascii=False, indent=2) + "\n")
        return 0
    sys.stderr.write("usage: python -m research export-schema > schemas/export.schema.json\n")
    return 2
