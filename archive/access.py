"""Opening an existing archive, for reading or for writing rows it already has tables for.

The researchers' commands read an archive through :func:`open_archive`; creating one and writing crawled pages
into it is :class:`archive.db.Archive`'s job.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from .fulltext import register_functions


SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every dzarchive archive has had since its first version: a database without them is another program's.
ARCHIVE_TABLES = {"crawls", "threads", "posts"}


class NotAnArchive(ValueError):
    """A file that is not a dzarchive archive (another program's SQLite database, a damaged or garbage file)."""


class ArchiveNotWritable(PermissionError):
    """An archive (or its folder) that this process may not write: a crawl into it would write nothing."""


def check_archive(path: str | Path, *, whole_file: bool = True) -> None:
    """Raise :class:`NotAnArchive` unless ``path`` is missing, empty, or a readable dzarchive archive.

    It reads the file only (``mode=ro``): a file that is not an archive is left exactly as it was. With
    ``whole_file`` (the default) SQLite's ``quick_check`` reads every page, about 2 ms per MB; without, only the
    header and the table list are read (a crawl reads the whole file once, before it starts, not at each opening).
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise NotAnArchive(f"{path} cannot be read ({exc.strerror})") from None
    if header != SQLITE_HEADER:
        raise NotAnArchive(f"{path} is not a dzarchive archive (not a SQLite database); nothing was changed")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0] if whole_file else "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise NotAnArchive(f"{path} is damaged or not a SQLite database ({exc}); nothing was changed") from None
    if problem != "ok":  # a damaged page that SQLite can still open around: quick_check says where
        first = " ".join(problem.replace("*** in database main ***", "").split())
        raise NotAnArchive(f"{path} is damaged ({first}); nothing was changed")
    if tables and not ARCHIVE_TABLES <= tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise NotAnArchive(f"{path} is another program's SQLite database (tables {shown}), not a dzarchive archive;"
                           " nothing was changed: give the crawl its own --db")


def check_writable(path: str | Path) -> None:
    """Raise :class:`ArchiveNotWritable` unless an archive at ``path`` (and its -wal and -shm files) can be written."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    # The mode bits too: root may write a file anyone made read-only, and must not when they did.
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise ArchiveNotWritable(f"{path} is read-only: a crawl could write nothing into it")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArchiveNotWritable(f"{folder} is read-only: a crawl could not write {path.name} (and its -wal file) there")


def open_archive(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open an existing archive file; ``readonly`` opens it with ``mode=ro`` (nothing can write).

    Raises FileNotFoundError when there is no file (SQLite would otherwise create an empty one), and
    :class:`NotAnArchive` for a file that is not a dzarchive archive.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no archive at {path}")
    check_archive(path)
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA query_only = ON")
    else:
        conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA busy_timeout = 10000")
    register_functions(conn)  # what the search triggers index with (archive.fulltext)
    return sqlite_utils.Database(conn)
