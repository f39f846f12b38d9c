"""How fast the parsers read pages: every fixture page parsed N times, per page kind.

    python bench/parse_speed.py                  # 20 rounds, stops early after --budget seconds
    python bench/parse_speed.py --rounds 5 --budget 10

Prints pages/s and posts/s over all pages, and the mean and worst time per page for each kind
(viewthread, forumdisplay, index, profile, special). Parsing is pure CPU (no I/O: the pages are
read into memory first), single-threaded.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.real_truth import MOBILE_API_PAGES, REAL_PAGES  # noqa: E402
from scraper.parsers import parse_page  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"


def load_pages(fixtures: Path) -> list[tuple[str, bytes, str | None, str | None]]:
    """``(url, body, content_type, date_header)`` of every capture page and every real page."""
    pages = []
    for manifest in sorted(fixtures.glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            body = (manifest.parent / entry["file"]).read_bytes()
            pages.append((entry["url"], body, entry.get("content_type"), entry.get("headers", {}).get("Date")))
    for name, url, _ in REAL_PAGES + MOBILE_API_PAGES:
        path = fixtures / "real" / name
        if path.exists():
            pages.append((url, path.read_bytes(), None, None))
    return pages


def run(pages, rounds: int, budget: float) -> dict:
    """Parse every page ``rounds`` times (fewer if ``budget`` seconds run out); timings per kind."""
    per_kind: dict[str, list[float]] = defaultdict(list)
    posts = 0
    done = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for url, body, content_type, date_header in pages:
            t0 = time.perf_counter()
            page = parse_page(url, body, content_type=content_type, date_header=date_header)
            per_kind[page.kind].append(time.perf_counter() - t0)
            posts += len(page.posts)
        done += 1
        if time.perf_counter() - started > budget:
            break
    return {"rounds": done, "per_kind": per_kind, "posts": posts, "wall": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each page is parsed (default 20)")
    parser.add_argument("--budget", type=float, default=45.0, help="stop after the round that passes this many seconds")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)
    pages = load_pages(args.fixtures)
    if not pages:
        print(f"no fixture pages under {args.fixtures}", file=sys.stderr)
        return 2
    size = sum(len(body) for _, body, _, _ in pages)
    result = run(pages, args.rounds, args.budget)
    timings = [t for ts in result["per_kind"].values() for t in ts]
    parse_time = sum(timings)
    print(f"{len(pages)} pages ({size / 1e6:.1f} MB) x {result['rounds']} rounds = {len(timings)} parses "
          f"in {result['wall']:.1f} s")
    print(f"{len(timings) / parse_time:8.1f} pages/s   {result['posts'] / parse_time:8.1f} posts/s   "
          f"{size * result['rounds'] / parse_time / 1e6:6.2f} MB/s")
    print(f"{'kind':<14}{'parses':>8}{'mean ms':>10}{'median ms':>11}{'max ms':>9}")
    for kind, ts in sorted(result["per_kind"].items(), key=lambda kv: -sum(kv[1])):
        print(f"{kind:<14}{len(ts):>8}{1000 * statistics.mean(ts):>10.2f}{1000 * statistics.median(ts):>11.2f}"
              f"{1000 * max(ts):>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
