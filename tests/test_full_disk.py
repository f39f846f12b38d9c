"""A full disk (or any failed write) stops the crawl at once, in one line, with exit code 6 (issue 21).

The disk is a real small file system: a tmpfs mounted for the test (as root, where the container lets it), whose
writes fail with ENOSPC (SQLite's "database or disk is full") exactly as a full disk's do; "freeing space" is
remounting it larger. Where mounting is not permitted, the crawl runs under a file-size limit (RLIMIT_FSIZE), whose
writes fail with EFBIG ("disk I/O error" in SQLite): as real a failed write, said in other words. The archive
after the stop opens and passes ``PRAGMA integrity_check``, and the same command on a roomy disk completes it.
"""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.replay import ReplayServer
from testbed.synthetic import SyntheticForum

from .conftest import FIXTURES, guest_checker_line, SITE_A, requires_fixtures

pytestmark = requires_fixtures

SITE_G = FIXTURES / "discuz-x35-utf8-g"
START_G = "http://bbs.zigong.test/forum.php"
# The one line (the summary's last) a stopped crawl prints.
STOPPED_LINE = re.compile(r"^  stopped: could not write (?P<what>the archive|the WARC file|the media file|the job state)"
                          r" (?P<path>\S+): (?P<reason>[^—]+) — stopped after archiving (?P<pages>\d+) pages? "
                          r"\((?P<posts>\d+) posts?\); (?P<remedy>free space|check the disk) and run the same command"
                          r" again to resume$", re.M)


def _can_mount(folder: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        return False
    subprocess.run(["umount", str(folder)], check=True)
    return True


class SmallDisk:
    """A folder on a small file system: a tmpfs of ``size`` where mounting works, else a folder whose crawls run
    with a file-size limit of ``size``. :meth:`grow` frees space (remounts larger, or lifts the limit)."""

    def __init__(self, folder: Path, size: str):
        self.folder = folder
        self.size = size
        self.mounted = _can_mount(folder)
        self.limit: int | None = None
        folder.mkdir(parents=True, exist_ok=True)
        if self.mounted:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
        else:
            self.limit = int(size.rstrip("mk")) * (1 << 20 if size.endswith("m") else 1 << 10)

    @property
    def full_reason(self) -> str:
        return "database or disk is full" if self.mounted else "disk I/O error"

    def preexec(self):
        limit = self.limit
        if limit is None:
            return None
        return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    def grow(self) -> None:
        if self.mounted:
            subprocess.run(["mount", "-o", "remount,size=512m", str(self.folder)], check=True)
        self.limit = None

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)


@pytest.fixture
def small_disk(tmp_path):
    disks = []

    def make(name: str = "small", size: str = "1m") -> SmallDisk:
        disk = SmallDisk(tmp_path / name, size)
        disks.append(disk)
        return disk

    yield make
    for disk in disks:
        disk.close()


def crawl(server, start: str, db: Path, *args: str, disk: SmallDisk | None = None,
          delay: str = "0") -> tuple[subprocess.CompletedProcess, float]:
    """`dzarchive crawl START --db DB ARGS` through ``server``, as a user runs it; returns how it ended and how long
    it took."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["http_proxy"] = server.url
    cmd = [sys.executable, "-m", "dzarchive", "crawl", start, "--db", str(db), *args,
           "-s", f"DOWNLOAD_DELAY={delay}", "-s", "AUTOTHROTTLE_ENABLED=False"]
    began = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300,
                          preexec_fn=disk.preexec() if disk else None)
    return done, time.monotonic() - began


def integrity(db: Path) -> str:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def table_count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def leftovers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.endswith((".lock", ".jobdir")))


def assert_stopped_in_one_line(done: subprocess.CompletedProcess, what: str, reason: str) -> re.Match:
    assert done.returncode == 6, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert "Disabled" not in done.stderr, done.stderr
    assert " ERROR" not in done.stderr, done.stderr
    match = STOPPED_LINE.search(done.stdout)
    assert match, done.stdout
    assert match["what"] == what and match["reason"] == reason, match.group(0)
    assert done.stdout.rstrip().endswith(match.group(0).strip())  # the last thing the user reads
    return match



def test_a_full_disk_stops_the_crawl_in_one_line_and_a_rerun_with_room_completes_it(small_disk, tmp_path):
    disk = small_disk("small", "1m")
    db = disk.folder / "g.db"
    with ReplayServer(SITE_G, exact=True) as server:
        # --keep-pages all: the raw pages fill a megabyte after some twenty of capture G's 69.
        done, _ = crawl(server, START_G, db, "--keep-pages", "all", disk=disk)
        match = assert_stopped_in_one_line(done, "the archive", disk.full_reason)
        assert match["path"] == str(db)
        assert match["remedy"] == ("free space" if disk.mounted else "check the disk")
        assert len(server.requests) < 69  # it stopped: not every page was fetched
        # What the line says the archive holds is what it holds, and what the summary says.
        assert integrity(db) == "ok"
        posts = table_count(db, "SELECT count(*) FROM posts")
        assert int(match["posts"]) == posts
        assert int(match["pages"]) == table_count(db, "SELECT count(*) FROM pages WHERE status IN ('ok', 'partial')")
        assert f"{posts} posts" in done.stdout.splitlines()[2]
        assert table_count(db, "SELECT count(*) FROM crawls WHERE status = 'running'") <= 1
        assert leftovers(db) == []

        disk.grow()  # space freed: the same command carries on
        again, _ = crawl(server, START_G, db, "--keep-pages", "all", disk=disk)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stderr and "Disabled" not in again.stderr
    assert integrity(db) == "ok"
    assert re.match(r"threads 100\.0% posts 100\.0%", guest_checker_line(db, SITE_G, tmp_path))
    guest = json.loads((SITE_G / "expected.json").read_text(encoding="utf-8"))
    visible = [p for p in guest["posts"] if p.get("visible_to_guest", True)]
    assert table_count(db, "SELECT count(*) FROM posts") == len(visible) == 234
    assert leftovers(db) == []


def test_the_crawl_stops_within_seconds_of_the_failure_and_a_copy_on_a_roomy_disk_completes(small_disk, tmp_path):
    disk = small_disk("small", "1m")
    db = disk.folder / "s.db"
    forum = SyntheticForum(SITE_A, threads=600)  # 600 threads, 660 pages: about ten seconds' crawl
    with ReplayServer(forum) as server:
        done, took = crawl(server, "http://bbs.example.test/forum.php?mod=forumdisplay&fid=2", db,
                           "--keep-pages", "all", "--no-profiles", disk=disk)
        assert_stopped_in_one_line(done, "the archive", disk.full_reason)
        asked = len(server.requests)
        # Not minutes, and not on: the pages asked after the failure are the few in flight when it came.
        assert took < 30
        assert asked < forum.total_pages() // 3, asked
        time.sleep(1)
        assert len(server.requests) == asked  # nothing is fetched after the crawl ended
        assert integrity(db) == "ok"
        # The archive (its -wal too: committed pages are there until a checkpoint) copied onto a roomy disk.
        roomy = tmp_path / "roomy"
        roomy.mkdir()
        for path in disk.folder.iterdir():
            if path.name.startswith("s.db"):
                shutil.copy(path, roomy / path.name)
        copy = roomy / "s.db"
        again, _ = crawl(server, "http://bbs.example.test/forum.php?mod=forumdisplay&fid=2", copy, "--no-profiles")
    assert again.returncode == 0, again.stdout + again.stderr
    want = forum.expected()
    assert table_count(copy, "SELECT count(*) FROM threads") == want["threads"]
    assert table_count(copy, "SELECT count(*) FROM posts") == want["posts"]
    assert integrity(copy) == "ok"
    assert leftovers(copy) == []


def test_a_warc_folder_on_a_full_disk_stops_the_crawl_and_its_files_read_to_the_end(small_disk, tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    disk = small_disk("warc", "256k")  # capture G's exchanges take more than 256 KB of WARC
    if not disk.mounted:
        pytest.skip("needs a small file system for the WARC folder alone (mount -t tmpfs: not permitted here)")
    db = tmp_path / "g.db"
    with ReplayServer(SITE_G, exact=True) as server:
        done, _ = crawl(server, START_G, db, "--warc", str(disk.folder), disk=disk)
        match = assert_stopped_in_one_line(
            done, "the WARC file", "No space left on device" if disk.mounted else "File too large")
        assert match["path"].startswith(str(disk.folder))
        # Every file the crawl left reads to its end: the record the disk had no room for was cut off whole.
        records = []
        for path in sorted(disk.folder.glob("*.warc.gz")):
            with path.open("rb") as f:
                records += [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(f)]
        assert records[0][0] == "warcinfo" and sum(kind == "response" for kind, _ in records) > 5
        assert integrity(db) == "ok"
        assert leftovers(db) == []

        disk.grow()
        again, _ = crawl(server, START_G, db, "--warc", str(disk.folder), disk=disk)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.match(r"threads 100\.0% posts 100\.0%", guest_checker_line(db, SITE_G, tmp_path))


def test_media_on_a_full_disk_stop_the_crawl(small_disk, tmp_path):
    disk = small_disk("media", "16k")  # capture G's pictures do not fit in 16 KB
    if not disk.mounted:
        pytest.skip("needs a small file system for the media folder alone (mount -t tmpfs: not permitted here)")
    db = tmp_path / "g.db"
    with ReplayServer(SITE_G, exact=True) as server:
        done, _ = crawl(server, START_G, db, "--media", "-s", f"DZ_MEDIA_DIR={disk.folder}", disk=disk)
    assert_stopped_in_one_line(done, "the media file", "No space left on device" if disk.mounted else "File too large")
    assert not list(disk.folder.rglob("*.part"))  # no half file left behind
    assert integrity(db) == "ok"
    assert leftovers(db) == []
