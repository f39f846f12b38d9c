"""One crawl at a time per archive: ``ARCHIVE.lock``, taken with filelock, released however its holder ends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from archive import ArchiveLock, ArchiveLocked


def test_a_second_lock_is_refused_with_the_holder_named(tmp_path):
    db = tmp_path / "a.db"
    with ArchiveLock(db):
        assert (tmp_path / "a.db.lock").read_text().startswith(f"pid {os.getpid()} since ")
        with pytest.raises(ArchiveLocked, match=rf"another crawl is writing to {db} \(pid {os.getpid()} since .*\); "
                                                "not starting a second one"):
            ArchiveLock(db).acquire()
    with ArchiveLock(db):  # released on exit: it can be taken again
        pass
    assert not (tmp_path / "a.db.lock").exists()  # and the file is gone with it


def test_the_lock_goes_with_a_killed_holder(tmp_path):
    db = tmp_path / "a.db"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from archive import ArchiveLock; "
                               f"held = ArchiveLock({str(db)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ArchiveLocked, match=f"pid {holder.pid} since"):
            ArchiveLock(db).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with ArchiveLock(db):
        pass
