"""The allocator a crawl runs on (dzarchive/allocator.py): a crawling command started on the system's malloc runs
itself again on mimalloc, the same process, where the machine has it; nothing else does, and nothing it starts
inherits it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dzarchive import allocator

ROOT = Path(__file__).resolve().parents[1]
# Prints the pid before and after preload(), then the allocator in use and LD_PRELOAD as the command sees them: an
# exec runs the program again, so a process run again prints its first line twice, with the same pid.
PROBE = """
import os, sys
print("start", os.getpid(), flush=True)
from dzarchive import allocator
allocator.preload(sys.argv[1:])
print("in use", allocator.in_use())
print("LD_PRELOAD", os.environ.get("LD_PRELOAD"))
print("markers", sorted(k for k in os.environ if k.startswith("_DZARCHIVE")))
"""


def probe(*argv: str, **env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", allocator.ENV)}
    environ.update(env)
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=environ, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def mimalloc() -> str:
    path = allocator.library({})
    if path is None:
        if os.environ.get("CI") and not os.environ.get("DZARCHIVE_CI_WITHOUT_MIMALLOC"):
            pytest.fail("CI installs libmimalloc2.0 (.ci/run), but dzarchive.allocator finds no libmimalloc")
        pytest.skip("no libmimalloc on this machine (Debian: apt install libmimalloc2.0)")
    return path


def test_a_crawling_command_runs_itself_again_on_mimalloc_in_the_same_process():
    mimalloc()
    for command in ("crawl", "demo", "reparse"):
        lines = probe("--quiet", command, "http://bbs.example.test/")
        starts = [line for line in lines if line.startswith("start")]
        assert len(starts) == 2 and starts[0] == starts[1], lines  # run again: exec, the same pid
        assert lines[-3].startswith("in use libmimalloc"), lines
        # What the crawl starts (a browser for a WACZ's pages, git…) does not inherit it, nor the markers.
        assert lines[-2:] == ["LD_PRELOAD None", "markers []"]


def test_the_programs_it_starts_keep_the_ld_preload_it_was_given():
    mimalloc()
    other = next((str(p) for p in sorted(Path("/").glob("*lib*/*-linux-gnu/libz.so.1"))), None)
    if other is None:
        pytest.skip("no libz.so.1 to preload")
    lines = probe("crawl", LD_PRELOAD=other)
    assert lines[-3].startswith("in use libmimalloc") and lines[-2] == f"LD_PRELOAD {other}"


def test_other_commands_a_started_allocator_and_system_stay_as_they_are():
    # (run and worker start a crawl process per site, which moves to it itself.)
    for argv, env in ((("export", "--db", "x.db"), {}), (("--help",), {}), ((), {}), (("run",), {}), (("worker",), {}),
                      (("crawl",), {allocator.ENV: "system"}), (("crawl",), {allocator.ENV: " SYSTEM "})):
        lines = probe(*argv, **env)
        assert len([line for line in lines if line.startswith("start")]) == 1, (argv, env, lines)
        assert lines[-3] == "in use None"
    # Started on an allocator already (here one the loader cannot find, so the system's stays in use): kept.
    lines = probe("crawl", LD_PRELOAD="/nowhere/libjemalloc.so.2")
    assert len([line for line in lines if line.startswith("start")]) == 1
    assert lines[-2] == "LD_PRELOAD /nowhere/libjemalloc.so.2"


def test_a_library_named_in_the_environment_is_used_and_a_missing_one_is_a_one_line_error(tmp_path):
    path = mimalloc()
    assert allocator.library({allocator.ENV: path}) == path
    assert probe("crawl", **{allocator.ENV: path})[-3].startswith("in use libmimalloc")
    environ = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    environ[allocator.ENV] = str(tmp_path / "libnone.so")
    done = subprocess.run([sys.executable, "-m", "dzarchive", "crawl", "http://bbs.example.test/", "--db",
                           str(tmp_path / "a.db")], env=environ, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"dzarchive: DZARCHIVE_MALLOC={tmp_path / 'libnone.so'}: no such library file (a path to one, or 'system')"]
    assert not (tmp_path / "a.db").exists()
    spaced = tmp_path / "my libs" / "libmimalloc.so.2"
    spaced.parent.mkdir()
    spaced.write_bytes(Path(path).read_bytes())
    with pytest.raises(allocator.AllocatorError, match="space or a colon"):
        allocator.library({allocator.ENV: str(spaced)})


def test_the_command_is_the_first_word_that_is_no_option():
    assert allocator.command_of(["--quiet", "crawl", "--db", "x"]) == "crawl"
    assert allocator.command_of(["--version"]) is None and allocator.command_of([]) is None


def test_the_bench_runs_the_bare_spider_on_the_crawls_allocator():
    from bench import run

    path = mimalloc()
    assert run.crawl_allocator() == os.path.basename(path)
    assert run._on_crawl_allocator({})["LD_PRELOAD"] == path
    assert run._on_crawl_allocator({"LD_PRELOAD": "/x/liba.so"})["LD_PRELOAD"] == f"{path} /x/liba.so"
    assert "LD_PRELOAD" not in run._on_crawl_allocator({allocator.ENV: "system"})
    # Started on another allocator, the crawls keep it (preload), and so does the bare spider.
    assert run._on_crawl_allocator({"LD_PRELOAD": "/x/libjemalloc.so.2"})["LD_PRELOAD"] == "/x/libjemalloc.so.2"
    assert allocator.for_crawls({"LD_PRELOAD": "/x/libz.so:/x/libtcmalloc.so.4"}) == "/x/libtcmalloc.so.4"
    assert "crawls (both sides) on " + os.path.basename(path) in run.table(
        {"date": "d", "command": "c", "crawl_allocator": run.crawl_allocator(), "parse_allocator": "system"})

