"""The SQLite archive: schema, idempotent writes, crawl bookkeeping. A Python API as much as a pipeline backend.

>>> from archive import Archive
>>> archive = Archive("data/archive.db")
>>> archive.counts()
{'forums': 4, 'threads': 26, 'posts': 135, 'users': 15, ...}

Writes merge: a row is inserted once (``first_seen``) and later sightings update only the
columns they carry a value for (``last_seen`` always), so a page that shows less (a thread
page does not say whether the thread is sticky) never erases what another page showed. A post
whose content changed keeps its earlier version in ``post_revisions``; a user's figures get a
new ``user_stats`` row only when they changed. Nothing is ever deleted. Each page is written
in one transaction.
"""
from __future__ import annotations

import errno
import hashlib
import os
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path

import filelock
import sqlite_utils

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

import schemas

from .access import check_archive
from . import fulltext
from .fulltext import ensure_search, register_functions, search_outdated, search_paused
from .records import FetchError, PageRecord
from .state import ArchiveState, site_host
from .writes import write_batch

# Bump when ensure_schema() itself changes what it makes of the same archive.json (a new upgrade step, say).
SCHEMA_CODE_REVISION = 2

# A table whose key changed: statements that fill the new key's columns in an older archive and merge the rows it
# makes one (the latest kept), run before the table is rebuilt on that key. Attachments were keyed by URL, but
# download links carry per-view tokens (X3 ``mod=attachment&aid=ENC``, 7.x ``attachment.php?...&k=&t=&sid=``), so
# each crawl added the same attachment again: they are keyed by aid where one is known.
KEY_UPGRADES = {
    "attachments": (
        "UPDATE attachments SET ref = CASE WHEN aid IS NOT NULL THEN 'aid:' || aid ELSE url END WHERE ref IS NULL",
        "DELETE FROM attachments WHERE rowid NOT IN (SELECT max(rowid) FROM attachments GROUP BY pid, ref)",
    ),
}


@lru_cache(maxsize=None)
def schema_fingerprint() -> int:
    """What :meth:`Archive.ensure_schema` makes, as a positive 31-bit number: ``archive.json``, the search
    indexes, triggers and views of :mod:`archive.fulltext`, and whether this SQLite has trigram search.

    An archive's ``PRAGMA user_version`` holds the fingerprint of the schema last made in it, so that
    opening an archive already up to date costs one pragma read instead of reading every table's columns,
    foreign keys, indexes, triggers and views. A dzarchive of another schema sees another number and upgrades.
    """
    parts = [str(SCHEMA_CODE_REVISION), schemas.SCHEMA_PATH.read_text(encoding="utf-8"),
             repr(sorted(fulltext.VIEWS.items())), repr(fulltext.has_trigram())]
    parts += [repr(sorted(fulltext._fts_sql(*index).items())) for index in fulltext.FTS_INDEXES]
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ArchiveLocked(RuntimeError):
    """Another crawl is writing to this archive."""


class OtherSite(RuntimeError):
    """The archive holds another site: one archive, one site (their ids would collide)."""


class ArchiveLock:
    """An exclusive lock on an archive for the length of a crawl (``ARCHIVE.lock`` beside it, there only while held).

    It is an OS lock (``flock`` on Unix; ``filelock``'s ``LockFileEx`` elsewhere), so it is released when its
    process dies, however it dies. While held, the file names its holder (pid and start time) for the message a
    second crawl prints. The file is removed on release, race-free: the holder unlinks it while still holding the
    lock, and a process that got the lock on a file that is no longer the one at the path (it opened it before the
    unlink) lets go and tries again on the new one, so two processes never hold locks on different files. After a
    kill the file stays (empty or naming the dead holder) and the next crawl takes it over.
    """

    def __init__(self, db_path: str | Path):
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None
        self._lock: filelock.BaseFileLock | None = None

    def acquire(self) -> "ArchiveLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = self._flock() if fcntl is not None else None
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            self._fd = None  # a file system without flock (some network and FUSE mounts): filelock's fallback
        if self._fd is None:  # Windows (filelock removes its file on release there), or no flock here
            lock = filelock.FileLock(self.path, timeout=0)
            try:
                lock.acquire()
            except filelock.Timeout:
                raise self._locked() from None
            self._lock = lock
        self._note(f"pid {os.getpid()} since {utc_now()}")
        return self

    def _flock(self) -> int:
        """Open and lock the file at the path, the same file as the one still there once locked."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._locked() from None
            except BaseException:
                os.close(fd)
                raise
            try:
                here = os.stat(self.path)
            except FileNotFoundError:
                here = None
            held = os.fstat(fd)
            if here is not None and (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino):
                return fd
            os.close(fd)  # the holder before us removed this file on release: lock the one at the path now

    def _locked(self) -> ArchiveLocked:
        return ArchiveLocked(f"another crawl is writing to {str(self.path)[:-5]} ({self._holder()}); "
                             "not starting a second one")

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                self.path.unlink(missing_ok=True)  # while still held: see the class docstring
            except OSError:
                pass  # a folder that became read-only: the empty-named file stays, and the next crawl takes it
            finally:
                os.close(fd)  # releases the flock
        if self._lock is not None:
            self._note("")
            self._lock.release()
            self._lock = None

    def _note(self, text: str) -> None:
        # Best effort: a full disk has no room for it, and Windows does not let another handle write a locked file.
        try:
            if self._fd is not None:
                os.ftruncate(self._fd, 0)
                os.pwrite(self._fd, text.encode("utf-8"), 0)
            else:
                self.path.write_text(text, encoding="utf-8")
        except OSError:
            pass

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            return "another process"

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


class Archive:
    """An archive database. Creates (or upgrades) the schema on open; WAL mode so readers never block."""

    def __init__(self, path: str | Path, *, create: bool = True, checked: bool = False):
        """Open (``create``: or create) the archive at ``path``. ``checked``: the caller ran
        :func:`~archive.access.check_archive` on it already (a crawl does, before it starts), so the whole
        file is not read again; another program's database is refused either way."""
        self.path = Path(path)
        check_archive(self.path, whole_file=not checked)  # another program's database is refused, and left untouched
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise FileNotFoundError(f"no archive at {self.path}")
        self.db = sqlite_utils.Database(self.path)
        self.db.conn.execute("PRAGMA busy_timeout = 10000")
        register_functions(self.db.conn)  # the search triggers fold the texts they index with it
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a transaction is still whole or
        # absent after any crash; a power cut may lose the last few, which a resumed crawl fetches again.
        self.db.conn.execute("PRAGMA synchronous = NORMAL")
        if create:
            self.db.enable_wal()
            if self.db.execute("PRAGMA user_version").fetchone()[0] != schema_fingerprint() or search_paused(self.db) \
                    or search_outdated(self.db):
                # A pause left committed (by a writer that is not the archive's batches) is lifted there too, and
                # search indexes folded otherwise (or not at all) are rebuilt.
                self.ensure_schema()

    # -- schema -----------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create missing tables, columns and indexes from ``schemas/archive.json`` (and the search indexes,
        triggers and views), then record the schema's fingerprint in ``PRAGMA user_version``.

        Opening an archive runs this only when its ``user_version`` is not :func:`schema_fingerprint` (a new
        archive, or one an older or newer dzarchive made); called directly, it checks everything again.
        """
        for name, spec in schemas.tables().items():
            cols = {c: schemas.SQLITE_TYPES[t[0]] for c, t in spec["columns"].items()}
            table = self.db[name]
            if not table.exists():
                self.db.execute(self._create_sql(name, cols, spec["pk"], schemas.foreign_keys(name)))
            else:
                existing = {c.name for c in table.columns}
                for col, sql_type in cols.items():
                    if col not in existing:
                        self.db.execute(f"ALTER TABLE [{name}] ADD COLUMN [{col}] {sql_type}")
                self._upgrade_table(name)
            wanted = {f"idx_{name}_{'_'.join(index)}": index for index in spec.get("indexes", [])}
            for index_name, index in wanted.items():
                self.db.execute(
                    f"CREATE INDEX IF NOT EXISTS [{index_name}] ON [{name}] ({', '.join(f'[{c}]' for c in index)})"
                )
            if spec.get("unique"):
                # A row's identity where the table's key is a row id (post_comments): what re-crawls merge on.
                unique = spec["unique"]
                wanted[f"idx_{name}_{'_'.join(unique)}"] = unique
                self.db.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS [idx_{name}_{'_'.join(unique)}] ON [{name}]"
                                f" ({', '.join(f'[{c}]' for c in unique)})")
            # An index of ours that the schema replaced (by one over other columns) only slows the writes down.
            # Ours are named idx_<table>_<columns>; any other index on the table is somebody's and stays.
            for (index_name,) in self.db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                    [name]).fetchall():
                if index_name.startswith(f"idx_{name}_") and index_name not in wanted:
                    self.db.execute(f"DROP INDEX [{index_name}]")
        # Chinese full-text search (FTS5 trigram) kept in sync by triggers, and the researchers' views.
        ensure_search(self.db)
        self.db.execute(f"PRAGMA user_version = {schema_fingerprint()}")

    def _upgrade_table(self, name: str) -> None:
        """Bring a table made by an earlier dzarchive to ``archive.json``'s key, foreign keys and column order.

        SQLite cannot add a constraint to a table, change its key or move a column: sqlite-utils'
        ``transform`` rebuilds the table (same rows, rowids, columns and indexes), once. Dropping the old
        table drops its search triggers, and a view over a table being rebuilt cannot stay, so both are
        removed first; ``ensure_search`` then makes them again and re-fills the index. A new key is filled
        first (:data:`KEY_UPGRADES`), and rows the new key makes one are merged into the latest of them.
        """
        spec = schemas.tables()[name]
        wanted = schemas.foreign_keys(name)
        have = {fk.column: (fk.other_table, fk.other_column) for fk in self.db[name].foreign_keys}
        missing = [(column, *target) for column, target in wanted.items() if have.get(column) != target]
        order = list(spec["columns"])
        pk = None if spec["pk"] == ["id"] or self.db[name].pks == spec["pk"] else spec["pk"]
        if not missing and pk is None and [c.name for c in self.db[name].columns] == order:
            return
        for kind, item in self.db.execute(
                "SELECT type, name FROM sqlite_master WHERE type = 'view' OR (type = 'trigger' AND tbl_name = ?)",
                [name]).fetchall():
            self.db.execute(f"DROP {kind.upper()} IF EXISTS [{item}]")
        if pk is not None:
            with self.db.conn:
                for statement in KEY_UPGRADES.get(name, ()):
                    self.db.execute(statement)
        self.db[name].transform(add_foreign_keys=missing or None, column_order=order, pk=pk)

    @staticmethod
    def _create_sql(name: str, cols: dict[str, str], pk: list[str],
                    foreign_keys: dict[str, tuple[str, str]] | None = None) -> str:
        defs = []
        for col, sql_type in cols.items():
            if pk == ["id"] and col == "id":
                defs.append("[id] INTEGER PRIMARY KEY")
            elif col in (foreign_keys or {}):
                other, other_col = foreign_keys[col]
                defs.append(f"[{col}] {sql_type} REFERENCES [{other}]([{other_col}])")
            else:
                defs.append(f"[{col}] {sql_type}")
        if pk != ["id"]:
            defs.append(f"PRIMARY KEY ({', '.join(f'[{c}]' for c in pk)})")
        return f"CREATE TABLE [{name}] (\n   " + ",\n   ".join(defs) + "\n)"

    # -- crawls -----------------------------------------------------------------------------
    def start_crawl(self, start_url: str, timezone_name: str | None = None) -> int:
        """Record a new crawl run; returns its id.

        Runs still marked ``running`` were killed (only one crawl holds the archive's lock at a
        time): they are marked ``interrupted``.
        """
        self.claim_site(start_url)
        with self.db.conn:
            self.db.conn.execute("UPDATE crawls SET status = 'interrupted' WHERE status = 'running'")
            cursor = self.db.conn.execute(
                "INSERT INTO crawls (started_at, start_url, status, pages, items, errors, timezone, reads_extras)"
                " VALUES (?, ?, 'running', 0, 0, 0, ?, 1)", (utc_now(), start_url, timezone_name))
        return cursor.lastrowid

    def claim_site(self, url: str) -> str:
        """Record that this archive holds the site of ``url``; raise :class:`OtherSite` if it holds another.

        Returns the site's host. The first crawl names the site; older archives without a ``site``
        row are named by their first crawl's start URL.
        """
        host = site_host(url)
        held = ArchiveState.of_connection(self.db.conn).site_host()
        if held and held != host:
            raise OtherSite(f"{self.path} holds the site {held}, not {host}: one archive holds one site "
                            f"(give this crawl its own, e.g. --db data/{host}.db)")
        if not held or not self.db.execute("SELECT 1 FROM site LIMIT 1").fetchone():
            with self.db.conn:
                self.db.conn.execute("INSERT OR IGNORE INTO site (host, url, first_seen) VALUES (?, ?, ?)",
                                     (held or host, url, utc_now()))
        return host

    def finish_crawl(self, crawl_id: int, status: str, *, pages: int, items: int, version: str | None = None,
                     robots_forbidden: int = 0) -> dict:
        """Close a crawl run with its final status and counts; returns the crawl row."""
        errors = self.db.execute(
            "SELECT count(*) FROM errors WHERE crawl_id = ? AND kind != 'special'", [crawl_id]).fetchone()[0]
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE crawls SET finished_at = ?, status = ?, pages = ?, items = ?, errors = ?,"
                " site_version = coalesce(?, site_version), robots_forbidden = ? WHERE id = ?",
                (utc_now(), status, pages, items, errors, version, robots_forbidden, crawl_id))
        return self.crawl(crawl_id)

    def crawl(self, crawl_id: int) -> dict:
        """One ``crawls`` row as a dict."""
        return self.db["crawls"].get(crawl_id)

    # -- writes -----------------------------------------------------------------------------
    def write(self, record: PageRecord, crawl_id: int | None = None, *, keep_all_pages: bool = False) -> int:
        """Write one page's rows in one transaction; returns how many rows were written or updated."""
        return self.write_many([record], crawl_id, keep_all_pages=keep_all_pages)

    def write_many(self, records, crawl_id: int | None = None, *, keep_all_pages: bool = False) -> int:
        """Write several pages in one transaction, in order: all of them are archived, or none.

        A page is never split across transactions, so a crawl killed mid-batch leaves whole pages
        only (the ones before the batch), and resuming fetches the rest. Returns the rows written.
        The batch costs one statement per table, not one per row (:func:`archive.writes.write_batch`).
        """
        records = list(records)
        with self.db.conn:
            return write_batch(self.db.conn, records, crawl_id, keep_all_pages)

    def record_error(self, error: FetchError, crawl_id: int | None) -> None:
        """Record a request that produced no page."""
        with self.db.conn:
            self.db.conn.execute("INSERT INTO errors (crawl_id, url, kind, message, at) VALUES (?, ?, ?, ?, ?)",
                                 (crawl_id, error.url, error.kind, error.message, utc_now()))

    # -- media and WARC files (--media, --warc) ----------------------------------------------
    def write_media(self, row: dict) -> None:
        """Record one media download attempt (a ``media`` row keyed by url; ``attempts`` counts up)."""
        values = dict(row, fetched_at=row.get("fetched_at") or utc_now())
        cols = list(values)
        updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in cols if c != "url")
        with self.db.conn:
            self.db.conn.execute(
                f"INSERT INTO media ({', '.join(f'[{c}]' for c in cols)}, attempts)"
                f" VALUES ({', '.join('?' for _ in cols)}, 1)"
                f" ON CONFLICT (url) DO UPDATE SET {updates}, attempts = coalesce(attempts, 0) + 1",
                list(values.values()))

    def record_warc_file(self, path: str | Path, crawl_id: int | None) -> None:
        """Note a WARC file a crawl into this archive started writing."""
        with self.db.conn:
            self.db.conn.execute("INSERT OR IGNORE INTO warc_files (path, crawl_id, created_at) VALUES (?, ?, ?)",
                                 (str(Path(path).resolve()), crawl_id, utc_now()))

    # -- reads ------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row count of every archive table."""
        return {name: self.db[name].count for name in schemas.tables() if self.db[name].exists()}

    def last_crawls(self, n: int = 5) -> list[dict]:
        """The ``n`` most recent crawl rows, newest first."""
        return list(self.db.query("SELECT * FROM crawls ORDER BY id DESC LIMIT ?", [n]))

    def close(self) -> None:
        self.db.close()

