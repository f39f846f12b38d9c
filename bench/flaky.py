"""What a crawl of a flaky server archives: after one run and after a rerun, as a share of a clean crawl.

    python bench/flaky.py [--rate 0.21] [--seeds 8]

Replays ../shared/fixtures/discuz-x34-utf8-a on loopback through testbed.flaky.FlakyReplayServer, which fails
``rate`` of its responses (500/502/503, 429 with Retry-After, resets, truncated bodies, timeouts, and Discuz's
"not found", "站点已关闭" and flood pages served with status 200), each URL at most twice. For each seed it runs
`dzarchive crawl` twice into one archive, as an operator would, and prints the fault rate served, each run's exit
code and the share of the clean crawl's rows the archive then holds (testbed.flaky.archive_share).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testbed.flaky import FlakyReplayServer, archive_share  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
START = "http://bbs.example.test/forum.php"
FAST = ("-s", "DOWNLOAD_DELAY=0.01", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=2",
        "-s", "DZ_CONFIRM_BACKOFF=0.2")


def crawl(server, db: Path, *extra: str) -> int:
    """One `dzarchive crawl` through ``server``; returns its exit code."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=server.url, no_proxy="127.0.0.1,localhost")
    done = subprocess.run([sys.executable, "-m", "dzarchive", "crawl", START, "--db", str(db), *FAST, *extra],
                          env=env, capture_output=True, text=True, timeout=600)
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.21)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    site = FIXTURES / "discuz-x34-utf8-a"
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean.db"
        with FlakyReplayServer(site, rate=0) as server:
            crawl(server, clean)
        print(f"{'seed':>4} {'faults':>7} {'run 1':>12} {'run 2':>12}")
        firsts, seconds = [], []
        for seed in range(1, args.seeds + 1):
            db = Path(tmp) / f"seed{seed}.db"
            with FlakyReplayServer(site, rate=args.rate, seed=seed, stall=3.0) as server:
                code1 = crawl(server, db)
                first = archive_share(clean, db)
                rate = server.fault_rate
                code2 = crawl(server, db)
                second = archive_share(clean, db)
            firsts.append(first)
            seconds.append(second)
            print(f"{seed:>4} {rate:>6.0%} {first:>7.1%} (={code1}) {second:>7.1%} (={code2})", flush=True)
        print(f"mean: run 1 {sum(firsts) / len(firsts):.1%}, run 2 {sum(seconds) / len(seconds):.1%}")


if __name__ == "__main__":
    main()
