"""Shared test helpers: where the fixture captures are, and how to read them."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
SITE_A = FIXTURES / "discuz-x34-utf8-a"
SITE_A2 = FIXTURES / "discuz-x34-utf8-a-state2"
SITE_MEMBER = FIXTURES / "discuz-x34-utf8-a-member"
REAL = FIXTURES / "real"

FIXTURES_MISSING = "../shared/fixtures is not beside the project"
requires_fixtures = pytest.mark.skipif(not SITE_A.exists(), reason=FIXTURES_MISSING)
# Where the captures come from, for a clone without them (said once, at the top of the run).
FIXTURES_ORIGIN = ("the fixtures are the project's shared captures of real Discuz! forums (each folder's README.md "
                   "says how it was taken): put the shared/ folder beside the clone, so that ../shared/fixtures/ "
                   "holds discuz-x34-utf8-a/ and the others")


def pytest_report_collectionfinish(config, start_path, items):
    """Before any test runs: without the fixtures, say how many tests will be skipped, which, and why."""
    if FIXTURES.is_dir():
        return []
    skipped: dict[str, int] = {}
    for item in items:
        if any(mark.name == "skipif" and mark.args and mark.args[0] for mark in item.iter_markers()):
            module = item.nodeid.split("::")[0]
            skipped[module] = skipped.get(module, 0) + 1
    if not skipped:
        return []
    listing = ", ".join(f"{module} ({count})" for module, count in sorted(skipped.items()))
    total = sum(skipped.values())
    return [f"fixtures: {FIXTURES} not found: {total} test{'s' if total != 1 else ''} that read real captures "
            f"will be skipped: {listing}", f"fixtures: {FIXTURES_ORIGIN}"]


def whole_site_captures() -> list[Path]:
    """Every capture folder with both a manifest and database ground truth."""
    if not FIXTURES.exists():
        return []
    return sorted(p for p in FIXTURES.iterdir() if (p / "manifest.json").exists() and (p / "expected.json").exists())


@dataclass(frozen=True)
class CapturedPage:
    url: str
    body: bytes
    status: int
    content_type: str
    date: str | None
    meta: dict


@lru_cache(maxsize=None)
def captured_pages(folder: Path) -> tuple[CapturedPage, ...]:
    """The pages of a capture, in manifest order."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return tuple(
        CapturedPage(e["url"], (folder / e["file"]).read_bytes(), e["status"], e.get("content_type", ""),
                     e.get("headers", {}).get("Date"), e)
        for e in manifest
    )


@lru_cache(maxsize=None)
def expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def crawl_until_interrupted(server, db, *args: str, after: int = 12, path: str = "/usr/bin:/bin",
                            start: str = "http://bbs.example.test/forum.php") -> subprocess.CompletedProcess:
    """Run `dzarchive crawl START --db DB --delay 0.05 ARGS` through a replay ``server`` and press Ctrl-C
    once it has served ``after`` requests; returns how the crawl ended."""
    cmd = [sys.executable, "-m", "dzarchive", "crawl", start, "--db", str(db), "--delay", "0.05", *args]
    process = subprocess.Popen(cmd, env={"PATH": path, "http_proxy": server.url}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(server.requests) < after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, process.returncode, out, err)


def guest_checker_line(db: Path, capture: Path, tmp_path: Path) -> str:
    """The judges' checker (``../shared/tools``) on the archive ``db`` against the capture's guest view: the summary
    line it ends with (``threads 100.0% posts 100.0% users 100.0%``)."""
    tools = FIXTURES.parent / "tools"
    truth = tmp_path / "truth.json"
    subprocess.run([sys.executable, str(tools / "view_expected.py"), str(capture / "expected.json"), str(truth),
                    "--view", "guest"], check=True, capture_output=True, timeout=120)
    run = subprocess.run([sys.executable, str(tools / "check_archive.py"), str(db), str(truth)], check=False,
                         capture_output=True, text=True, timeout=300)
    return run.stdout.strip().splitlines()[-1]
