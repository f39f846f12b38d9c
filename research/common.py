"""What several parts of :mod:`research` share: opening an archive (:func:`open_archive`, from
:mod:`archive.access`), the
filters a search or an export applies (:class:`Selection`, :func:`parse_search`, :func:`time_bound`,
:func:`archive_zone`) and which tables and columns an export carries (:func:`exported_columns`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

import sqlite_utils

import schemas
from archive.access import open_archive
from archive.state import ArchiveState

# -- export ---------------------------------------------------------------------------------------
# What a thread page shows besides posts, as a thread line nests it: (key on the line, table, one row or a list).
# A poll carries its ``options``, an activity its ``applicant_list`` and each trade the ``attachments`` of its
# goods post (which is not in ``posts``). They come after ``forum`` and before ``posts``, in this order.
THREAD_EXTRAS = (("poll", "polls", False), ("reward", "rewards", False), ("debate", "debates", False),
                 ("activity", "activities", False), ("trades", "trades", True), ("tags", "thread_tags", True),
                 ("figure_history", "figure_history", True))
# And under each post (a --flat line too), after ``revisions``: its ratings, its 点评 comments, its debate stand.
POST_EXTRAS = (("ratings", "ratings", True), ("comments", "post_comments", True),
               ("debate_post", "debate_posts", False))
# Archive tables an export carries (and ``import_jsonl`` rebuilds). ``quotes`` rows are rebuilt from
# ``posts.quotes``; ``user_stats`` as each author's latest row on the lines, and every row in the records before
# them (research/export.py: with ``crawls``, ``post_absences``, ``thread_changes`` and the ``site``). Row ids of
# ``post_revisions``, ``user_stats``, ``post_comments`` and ``figure_history`` are not carried (they number rows of
# this archive only); their crawl ids are, as the crawls are. Nested rows leave out the ids of what they are nested
# under (a poll's tid, a rating's pid).
EXPORTED_TABLES = ("forums", "threads", "posts", "quotes", "post_revisions", "attachments", "users", "user_stats",
                   "polls", "poll_options", "rewards", "debates", "debate_posts", "activities", "activity_applicants",
                   "trades", "ratings", "post_comments", "thread_tags", "figure_history")
# What an attachment's ``media`` object carries (``export --media``): the download, and the file under ARCHIVE.media/.
MEDIA_EXPORT_COLUMNS = ("status", "sha256", "size", "content_type", "path", "fetched_at")
_NOT_EXPORTED = {"post_revisions": {"id", "pid"}, "attachments": {"pid"},
                 "user_stats": {"id", "uid"},
                 "polls": {"tid"}, "poll_options": {"tid"}, "rewards": {"tid"}, "debates": {"tid"},
                 "debate_posts": {"pid", "tid"}, "activities": {"tid"}, "activity_applicants": {"tid"},
                 "trades": {"tid"}, "ratings": {"pid", "tid"}, "post_comments": {"id", "pid", "tid"},
                 "thread_tags": {"tid"}, "figure_history": {"id", "tid"}}

# -- --since / --until ---------------------------------------------------------------------------
# Sorts after the characters that can follow a time prefix (T, +, -, Z, ., :, digits): ``posted_at <=
# '2024-10-31' || '~'`` keeps every time of that day.
_UNTIL_SUFFIX = "~"
_DATE_PREFIX = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_DATE_HINT = "use 2024, 2024-10, 2024-10-01 or 2024-10-01T09:00"

# -- search queries -------------------------------------------------------------------------------
# A query token: an optional exclusion mark (ASCII or full-width minus), then a phrase in any of the
# quotes Chinese and Western keyboards type, or a bare word. Spaces, the IME's full-width space
# (U+3000) included, separate tokens; a quote left open is a separator.
_QUERY_TOKEN = re.compile(r"""(?P<neg>[-－](?=\S))?(?:"(?P<q1>[^"]*)"|“(?P<q2>[^”]*)”|「(?P<q3>[^」]*)」"""
                          r"""|『(?P<q4>[^』]*)』|＂(?P<q5>[^＂]*)＂|'(?P<q6>[^']*)'|(?P<word>[^\s"“”「」『』＂]+))""")
_OR = "OR"


# =================================================================================================
# Opening
# =================================================================================================
def archive_site(db: sqlite_utils.Database) -> str | None:
    """The site an archive holds: its host as the ``site`` table records it (older archives: the first crawl's)."""
    return ArchiveState.of_connection(db.conn).site_host()


def archive_files(paths) -> list[Path]:
    """The archives named: files as they are, and every ``*.db`` file in a folder (sorted).

    Raises FileNotFoundError for a path that does not exist or a folder holding no archive.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.db") if p.is_file())
            if not inside:
                raise FileNotFoundError(f"no archive (*.db) in {path}")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no archive at {path}")
    return list(dict.fromkeys(found))


def _database(db: sqlite_utils.Database | str | Path, readonly: bool = True) -> sqlite_utils.Database:
    return db if isinstance(db, sqlite_utils.Database) else open_archive(db, readonly=readonly)


# =================================================================================================
# Filters shared by search and export
# =================================================================================================
@dataclass(frozen=True)
class SearchQuery:
    """A parsed search query: every group must match (a group matches when any of its terms does),
    and no ``excluded`` term may appear. ``盐帮 推荐 OR 正宗 -广告`` is
    ``groups=(("盐帮",), ("推荐", "正宗")), excluded=("广告",)``."""

    groups: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def terms(self) -> list[str]:
        """The terms that may match, in query order (what a snippet highlights)."""
        return [term for group in self.groups for term in group]

    def __bool__(self) -> bool:
        return bool(self.groups or self.excluded)


def parse_search(query: str | SearchQuery | None) -> SearchQuery:
    """Read a search query as people type it.

    Words separated by spaces (ASCII or the full-width ``　``) must all appear; a phrase in ``"…"``,
    ``“…”``, ``「…」``, ``『…』``, ``＂…＂`` or ``'…'`` is matched as a whole, spaces included; ``a OR b``
    (capital OR) needs either, binding tighter than the space (``盐帮 推荐 OR 正宗`` = 盐帮 and one of
    推荐 / 正宗); ``-word`` (or ``-"a phrase"``) must not appear. Raises ValueError for a query that
    only excludes: there must be something to look for.
    """
    if isinstance(query, SearchQuery):
        return query
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for match in _QUERY_TOKEN.finditer(query or ""):
        word = match.group("word")
        text = next((g for g in (match.group(f"q{i}") for i in range(1, 7)) if g is not None), word)
        text = text.strip()
        if word == _OR and not match.group("neg"):
            join_next = bool(groups)  # a dangling OR joins nothing
            continue
        if not text:
            continue
        if match.group("neg"):
            excluded.append(text)
        elif join_next:
            groups[-1].append(text)
        else:
            groups.append([text])
        join_next = False
    if excluded and not groups:
        raise ValueError(f"nothing to look for in {query!r}: -word only leaves out posts that contain it")
    return SearchQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def search_terms(query: str) -> list[str]:
    """The terms of a search query that may match (see :func:`parse_search`), e.g. to highlight them."""
    return parse_search(query).terms


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
        period = _DATE_PREFIX.fullmatch(text)
        if period:
            _check_period(value, *period.groups())
            return text + _UNTIL_SUFFIX if until else text
        from dateutil import parser as date_parser

        try:
            moment = date_parser.isoparse(text)
        except ValueError:
            try:
                moment = date_parser.parse(text)
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"not a date or time: {value!r} ({_DATE_HINT})") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    text = moment.replace(tzinfo=None).isoformat()
    return text + _UNTIL_SUFFIX if until else text


def _check_period(value: str, year: str, month: str | None, day: str | None) -> None:
    """Raise ValueError, saying what is wrong, for a year, month or day that does not exist (2024-13)."""
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"not a date: {value!r} has no month {month} ({_DATE_HINT})")
    if day is not None:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"not a date: {value!r}: {year}-{month} has no day {day} ({_DATE_HINT})") from None
    if int(year) < 1:
        raise ValueError(f"not a date: {value!r} has no year {year} ({_DATE_HINT})")


@dataclass(frozen=True)
class Selection:
    """Which posts an export or search covers.

    ``forum`` and ``tid`` select whole threads; ``since``/``until`` (on ``posted_at``), ``search``
    (posts containing every term, or all posts of threads whose title does), ``author`` (posts.author, as
    written) and ``uid`` (posts.author_uid: posts by any of them) select posts.
    """

    forum: tuple[int, ...] = ()
    tid: tuple[int, ...] = ()
    since: str | date | datetime | None = None
    until: str | date | datetime | None = None
    search: str | None = None
    author: tuple[str, ...] = ()
    uid: tuple[int, ...] = ()

    @property
    def selects_posts(self) -> bool:
        return bool(self.since or self.until or self.author or self.uid
                    or (self.search and parse_search(self.search)))


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
