"""A crawl that ended leaves nothing beside the archive but the archive; a stopped one keeps what resuming needs;
no "Disabled ..." warnings of components that are simply off (issue 21)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive import ArchiveLock, ArchiveLocked
from testbed.replay import ReplayServer

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli

START_A = "http://bbs.example.test/forum.php"


def leftovers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.endswith((".lock", ".jobdir")))


def assert_quiet(done: subprocess.CompletedProcess) -> None:
    """Nothing on stderr that looks like a fault: no "Disabled" component, no traceback, no WARNING."""
    assert "Disabled" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert "WARNING" not in done.stderr, done.stderr


@requires_fixtures
def test_a_finished_crawl_says_nothing_of_disabled_components_and_leaves_only_the_archive(tmp_path):
    db = tmp_path / "a.db"
    with ReplayServer(SITE_A, exact=True) as server:
        done = run_cli(*fast("crawl", START_A, "--db", str(db)), proxy=server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_quiet(done)
    assert leftovers(db) == []
    # With -v the log says which components are on, and what is off is no warning either.
    with ReplayServer(SITE_A, exact=True) as server:
        verbose = run_cli(*fast("crawl", START_A, "--db", str(db), "-v"), proxy=server.url)
    assert verbose.returncode == 0, verbose.stderr
    assert "WARNING: Disabled" not in verbose.stderr
    assert "pipelines.store.StorePipeline" in verbose.stderr  # Scrapy's "Enabled item pipelines" at INFO
    assert leftovers(db) == []


@requires_fixtures
def test_a_failed_crawl_leaves_no_lock_and_no_job_state(tmp_path):
    db = tmp_path / "a.db"
    with ReplayServer(SITE_A, exact=True) as server:  # a page the capture does not have: HTTP 404
        done = run_cli(*fast("crawl", "http://bbs.example.test/forum.php?mod=forumdisplay&fid=404", "--db", str(db)),
                       proxy=server.url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Disabled" not in done.stderr
    assert leftovers(db) == []


@requires_fixtures
def test_sigterm_keeps_the_job_state_and_the_same_command_resumes_and_then_leaves_nothing(tmp_path):
    db = tmp_path / "a.db"
    with ReplayServer(SITE_A, exact=True) as server:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["http_proxy"] = server.url
        cmd = [sys.executable, "-m", "dzarchive", "crawl", START_A, "--db", str(db), "--delay", "0.05"]
        process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(server.requests) < 12 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert (tmp_path / "a.db.lock").exists()  # held while the crawl runs
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, out + err
        assert "Traceback" not in err
        # What resuming needs stays; the lock goes with its holder.
        assert leftovers(db) == ["a.db.jobdir"]
        assert (tmp_path / "a.db.jobdir" / "dzarchive-stopped-cleanly").exists()
        asked_before = len(server.requests)
        again = run_cli("crawl", START_A, "--db", str(db), "--delay", "0.05", proxy=server.url)
        asked_again = len(server.requests) - asked_before
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Resuming" not in again.stderr  # (Scrapy's INFO line, not shown without -v)
    assert asked_again < 54  # it carried on: not the whole site again (a first crawl makes 54 requests)
    assert leftovers(db) == []


def test_the_lock_file_goes_on_release_and_is_never_held_twice_by_racing_processes(tmp_path):
    """Eight processes take and release the lock as fast as they can: at no time do two hold it (each holder makes
    an O_EXCL marker while it holds the lock), though each release removes the lock file other processes have open."""
    db = tmp_path / "a.db"
    marker = tmp_path / "held"
    script = (
        "import os, sys, time\n"
        "from archive import ArchiveLock, ArchiveLocked\n"
        f"db, marker = {str(db)!r}, {str(marker)!r}\n"
        "held = 0\n"
        "end = time.monotonic() + 3\n"
        "while time.monotonic() < end:\n"
        "    try:\n"
        "        lock = ArchiveLock(db).acquire()\n"
        "    except ArchiveLocked:\n"
        "        continue\n"
        "    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # FileExistsError: held twice\n"
        "    os.close(fd)\n"
        "    held += 1\n"
        "    os.unlink(marker)\n"
        "    lock.release()\n"
        "print(held)\n"
    )
    racers = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(8)]
    results = [racer.communicate(timeout=60) for racer in racers]
    for racer, (out, err) in zip(racers, results):
        assert racer.returncode == 0, err
    assert sum(int(out) for out, _ in results) > 8  # they did take turns
    assert not (tmp_path / "a.db.lock").exists()


def test_a_lock_left_by_a_killed_holder_is_taken_over_and_then_removed(tmp_path):
    db = tmp_path / "a.db"
    holder = subprocess.Popen([sys.executable, "-c", "import time; from archive import ArchiveLock; "
                               f"ArchiveLock({str(db)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(ArchiveLocked):
        ArchiveLock(db).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "a.db.lock").exists()  # a kill leaves the file (the lock itself went with the process)
    with ArchiveLock(db):
        assert (tmp_path / "a.db.lock").read_text().startswith(f"pid {os.getpid()} ")
    assert not (tmp_path / "a.db.lock").exists()
