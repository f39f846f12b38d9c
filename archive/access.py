"""Opening an existing archive, for reading or for writing rows it already has tables for.

The researchers' commands read an archive through :func:`open_archive`; creating one and writing crawled pages
into it is :class:`archive.db.Archive`'s job.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils


def open_archive(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open an existing archive file; ``readonly`` opens it with ``mode=ro`` (nothing can write).

    Raises FileNotFoundError when there is no file (SQLite would otherwise create an empty one).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no archive at {path}")
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA query_only = ON")
    else:
        conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA busy_timeout = 10000")
    return sqlite_utils.Database(conn)
