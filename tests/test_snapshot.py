"""Publishing an archive to the shared folder (``archive.snapshot.publish``), as queue workers do."""
import sqlite3
import uuid

from archive.snapshot import publish


def _archive(path, rows):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(r,) for r in rows])
    conn.commit()
    conn.close()


def _rows(path):
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")]
    finally:
        conn.close()


def test_publish_replaces_the_shared_archive_and_removes_a_killed_publishers_copy(tmp_path):
    local, shared = tmp_path / "local.db", tmp_path / "shared" / "bbs.example.test.db"
    shared.parent.mkdir()
    _archive(shared, [1])
    # A worker killed in the middle of its copy leaves its temporary file behind; the next holder of the lease
    # removes it. Another archive's copy (a name that starts like this one) and other files stay.
    abandoned = shared.parent / f".{shared.name}.{uuid.uuid4().hex}.tmp"
    abandoned.write_bytes(b"SQLite format 3\0 half a copy")
    others = [shared.parent / f".{shared.name}.x.db.{uuid.uuid4().hex}.tmp",
              shared.parent / f".{shared.name}.notes.tmp", shared.parent / "bbs.example.test.db.log"]
    for other in others:
        other.write_text("keep")
    _archive(local, [1, 2, 3])

    publish(local, shared)

    assert _rows(shared) == [1, 2, 3]
    assert not abandoned.exists()
    assert all(other.read_text() == "keep" for other in others)
    assert sorted(p.name for p in shared.parent.iterdir()) == sorted([shared.name] + [o.name for o in others])


def test_publish_removes_a_write_ahead_log_left_beside_the_shared_archive(tmp_path):
    local, shared = tmp_path / "local.db", tmp_path / "out" / "a.db"
    _archive(local, [7])
    shared.parent.mkdir()
    for suffix in ("-wal", "-shm"):
        (shared.parent / f"a.db{suffix}").write_bytes(b"stale")
    publish(local, shared)
    assert _rows(shared) == [7]
    assert sorted(p.name for p in shared.parent.iterdir()) == ["a.db"]
