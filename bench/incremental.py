"""Requests and time of a first crawl, an unchanged re-crawl, and a re-crawl after changes.

    python bench/incremental.py

Replays ../shared/fixtures/discuz-x34-utf8-a (state 1) and then -state2 on loopback and runs
`dzarchive crawl` against them as a user would (no politeness delay), printing for each crawl the
requests it made, their share of the first crawl's, and pages per second. Then the same for capture F
(a rewritten X3.5 site, replayed exactly as listed): a first crawl, an unchanged re-crawl and ``--full``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testbed.replay import ReplayServer  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
START = "http://bbs.example.test/forum.php"
START_F = "http://bbs.sample.test/forum.php"


def crawl(server: ReplayServer, db: Path, *extra: str, start: str = START) -> tuple[list[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=server.url, no_proxy="127.0.0.1,localhost")
    before = len(server.requests)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dzarchive", "crawl", start, "--db", str(db), "-s", "DOWNLOAD_DELAY=0",
                    "-s", "AUTOTHROTTLE_ENABLED=False", *extra], env=env, check=True, capture_output=True)
    return server.requests[before:], time.perf_counter() - started


def report(rows) -> None:
    first = rows[0][1]
    print(f"{'crawl':<52} {'requests':>8} {'of first':>9} {'seconds':>8} {'pages/s':>8}")
    for name, requests, seconds in rows:
        print(f"{name:<52} {len(requests):>8} {len(requests) / len(first):>9.1%} {seconds:>8.2f}"
              f" {len(requests) / seconds:>8.1f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ReplayServer(FIXTURES / "discuz-x34-utf8-a") as server:
        db = Path(tmp) / "archive.db"
        rows = []
        first, seconds = crawl(server, db)
        rows.append(("first crawl (state 1)", first, seconds))
        rows.append(("re-crawl, unchanged", *crawl(server, db)))
        server.set_capture(FIXTURES / "discuz-x34-utf8-a-state2")
        rows.append(("re-crawl, state 2 (2 replies, 1 thread, 1 deletion)", *crawl(server, db)))
        rows.append(("re-crawl, state 2, --full", *crawl(server, db, "--full")))
    print("capture A (dynamic URLs)")
    report(rows)
    print("\nunchanged re-crawl fetched:", " ".join(rows[1][1]))
    print("state 2 re-crawl fetched:", " ".join(r for r in rows[2][1] if "viewthread" in r))
    with tempfile.TemporaryDirectory() as tmp, ReplayServer(FIXTURES / "discuz-x35-utf8-f", exact=True) as server:
        db = Path(tmp) / "f.db"
        rows = [("first crawl", *crawl(server, db, start=START_F)),
                ("re-crawl, unchanged", *crawl(server, db, start=START_F)),
                ("re-crawl, --full", *crawl(server, db, "--full", start=START_F))]
    print("\ncapture F (X3.5, URL rewriting on, replayed exactly as listed)")
    report(rows)


if __name__ == "__main__":
    main()
