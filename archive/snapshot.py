"""Moving an archive file between disks whole: WAL checkpoints, consistent snapshots, progress of a running crawl.

A queue worker (``dzarchive.queue``) crawls into a copy of the archive on local disk and publishes it back to
the shared archive folder; SQLite itself never writes on the shared (perhaps network) file system. Publishing is
a copy to a temporary name in the destination folder, an fsync and an ``os.replace``, so a reader of the shared
folder sees the old archive or the new one, never half of one. Only the holder of the site's lease publishes, so
a temporary file of the same archive found there is a dead publisher's (a worker killed mid-copy) and is removed.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import uuid
from pathlib import Path


def checkpoint(path: str | Path) -> None:
    """Fold the archive's write-ahead log into the main file, so the file alone holds every committed page."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def snapshot(source: str | Path, target: str | Path) -> None:
    """Write a consistent copy of ``source`` (which a crawl may be writing) to ``target`` (SQLite's backup API)."""
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.execute("PRAGMA busy_timeout = 10000")
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


def publish(local: str | Path, shared: str | Path) -> None:
    """Copy the (checkpointed, closed) archive ``local`` to ``shared`` atomically: a temporary file, then a rename.

    The caller holds the site's lease: any earlier temporary copy of ``shared`` is a killed publisher's and goes."""
    shared = Path(shared)
    shared.parent.mkdir(parents=True, exist_ok=True)
    ours = re.compile(rf"\.{re.escape(shared.name)}\.[0-9a-f]{{32}}\.tmp")
    for abandoned in shared.parent.glob(f".{glob.escape(shared.name)}.*.tmp"):
        if ours.fullmatch(abandoned.name):  # not the copy of another archive whose name starts like this one
            abandoned.unlink(missing_ok=True)
    temporary = shared.parent / f".{shared.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(local, "rb") as source, open(temporary, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, shared)
    finally:
        temporary.unlink(missing_ok=True)
    for stale in (Path(f"{shared}-wal"), Path(f"{shared}-shm")):
        stale.unlink(missing_ok=True)  # left by a crawl run directly on the shared folder: not ours


def crawl_progress(path: str | Path) -> dict:
    """The archive's latest crawl run: ``{"crawl_id", "status", "pages"}``, pages being the thread and forum list
    pages it archived so far (``crawls.pages`` is only written when the run ends). Empty before the first run."""
    path = Path(path)
    if not path.is_file():
        return {}
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout = 2000")
        row = conn.execute("SELECT id, status FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return {}
        pages = sum(conn.execute(f"SELECT count(*) FROM {table} WHERE crawl_id = ?", [row[0]]).fetchone()[0]
                    for table in ("thread_pages", "forum_pages"))
        return {"crawl_id": row[0], "status": row[1], "pages": pages}
    except sqlite3.OperationalError:  # a brand-new file whose schema is not there yet
        return {}
    finally:
        conn.close()
