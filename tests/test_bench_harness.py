"""The benchmark harness (bench/run.py) measures what it says it measures."""
from __future__ import annotations

import os
import sys

import pytest


def test_the_bench_measures_a_process_by_its_own_peak_rss_not_the_bench_processes():
    # A process started by vfork and exec begins with its parent's peak RSS (Linux keeps the old address space's
    # high-water mark at exec): the bench's measured processes are started by a small process of their own.
    from types import SimpleNamespace

    from bench import run

    ballast = bytearray(300 * 1024 * 1024)  # this process well past 300 MB at its peak
    ballast[::4096] = b"x" * len(ballast[::4096])
    server = SimpleNamespace(requests=[], first_request_at=None)
    small = run._timed_run([sys.executable, "-c", "import sys; sys.exit(1)"], dict(os.environ), server)
    assert small["peak_rss_mb"] < 60 and 0 < small["cpu_s"] < 5
    big = run._timed_run([sys.executable, "-c", "b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
                         dict(os.environ), server)
    assert 150 < big["peak_rss_mb"] < 250
    with pytest.raises(RuntimeError, match="exited 3"):
        run._timed_run([sys.executable, "-c", "import sys; sys.exit(3)"], dict(os.environ), server)
    del ballast
