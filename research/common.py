"""What several parts of :mod:`research` share: opening an archive (:func:`open_archive`, from
:mod:`archive.access`), the
filters a search or an export applies (:class:`Selection`, :func:`search_terms`, :func:`time_bound`,
:func:`archive_zone`) and which tables and columns an export carries (:func:`exported_columns`)."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

import sqlite_utils

import schemas
from archive.access import open_archive

# -- export ---------------------------------------------------------------------------------------
# Archive tables an export carries (and ``import_jsonl`` rebuilds). ``quotes`` rows are rebuilt from
# ``posts.quotes``; ``user_stats`` only as each author's latest row; ``post_revisions`` and
# ``user_stats`` row ids and crawl ids are not carried (they number rows of this archive only).
EXPORTED_TABLES = ("forums", "threads", "posts", "quotes", "post_revisions", "attachments", "users", "user_stats")
# What an attachment's ``media`` object carries (``export --media``): the download, and the file under ARCHIVE.media/.
MEDIA_EXPORT_COLUMNS = ("status", "sha256", "size", "content_type", "path", "fetched_at")
_NOT_EXPORTED = {"post_revisions": {"id", "pid"}, "attachments": {"pid"}, "user_stats": {"id", "uid", "crawl_id"}}

# -- --since / --until ---------------------------------------------------------------------------
# Sorts after the characters that can follow a time prefix (T, +, -, Z, ., :, digits): ``posted_at <=
# '2024-10-31' || '~'`` keeps every time of that day.
_UNTIL_SUFFIX = "~"
_DATE_PREFIX = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


# =================================================================================================
# Opening
# =================================================================================================
def _database(db: sqlite_utils.Database | str | Path, readonly: bool = True) -> sqlite_utils.Database:
    return db if isinstance(db, sqlite_utils.Database) else open_archive(db, readonly=readonly)


# =================================================================================================
# Filters shared by search and export
# =================================================================================================
def search_terms(query: str) -> list[str]:
    """Split a search query into terms: words separated by spaces, or "quoted phrases"."""
    try:
        terms = shlex.split(query)
    except ValueError:  # an unbalanced quote: take the words as they are
        terms = query.split()
    return [t for t in (term.strip() for term in terms) if t]


def archive_zone(db: sqlite_utils.Database) -> tzinfo:
    """The forum's time zone as the archive records it (latest crawl's ``--tz``, else a stored time's offset)."""
    from scraper.parsers.dates import parse_tz

    conn = db.conn
    row = conn.execute("SELECT timezone FROM crawls WHERE timezone IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    if row:
        try:
            return parse_tz(row[0])
        except ValueError:
            pass
    row = conn.execute("SELECT posted_at FROM posts WHERE length(posted_at) > 19 LIMIT 1").fetchone()
    if row:
        try:
            zone = datetime.fromisoformat(row[0]).tzinfo
            if zone is not None:
                return zone
        except ValueError:
            pass
    return parse_tz(None)


def time_bound(value: str | date | datetime | None, zone: tzinfo, *, until: bool = False) -> str | None:
    """A --since/--until value as a string that compares correctly with the archive's ISO times.

    ``2024``, ``2024-10`` and ``2024-10-01`` are periods: ``since`` starts at their beginning, ``until``
    keeps all of them. A time without offset is the forum's local time; one with an offset is
    converted to the forum's zone (stored times carry that zone, so string order is time order).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        text = value.isoformat()
        return text + _UNTIL_SUFFIX if until else text
    else:
        text = str(value).strip()
        if _DATE_PREFIX.fullmatch(text):
            return text + _UNTIL_SUFFIX if until else text
        from dateutil import parser as date_parser

        try:
            moment = date_parser.isoparse(text)
        except ValueError:
            try:
                moment = date_parser.parse(text)
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"not a date or time: {value!r} (use 2024-10-01 or 2024-10-01T09:00)") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    text = moment.replace(tzinfo=None).isoformat()
    return text + _UNTIL_SUFFIX if until else text


@dataclass(frozen=True)
class Selection:
    """Which posts an export or search covers.

    ``forum`` and ``tid`` select whole threads; ``since``/``until`` (on ``posted_at``) and ``search``
    (posts containing every term, or all posts of threads whose title does) select posts.
    """

    forum: tuple[int, ...] = ()
    tid: tuple[int, ...] = ()
    since: str | date | datetime | None = None
    until: str | date | datetime | None = None
    search: str | None = None

    @property
    def selects_posts(self) -> bool:
        return bool(self.since or self.until or (self.search and search_terms(self.search)))


def _thread_where(sel: Selection, t: str = "t") -> tuple[list[str], list]:
    where, params = [], []
    if sel.forum:
        where.append(f"{t}.fid IN ({', '.join('?' for _ in sel.forum)})")
        params += [int(f) for f in sel.forum]
    if sel.tid:
        where.append(f"{t}.tid IN ({', '.join('?' for _ in sel.tid)})")
        params += [int(x) for x in sel.tid]
    return where, params


# =================================================================================================
# Exported columns
# =================================================================================================
def exported_columns(table: str) -> list[str]:
    """The columns of ``table`` an export line carries, in ``schemas/archive.json`` order."""
    skip = _NOT_EXPORTED.get(table, set())
    return [c for c in schemas.columns(table) if c not in skip]
