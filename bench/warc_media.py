"""What --warc and --media cost: WARC bytes per 1,000 pages, and crawl time side by side.

    python bench/warc_media.py [--runs 5]

Crawls the whole of ../shared/fixtures/discuz-x34-utf8-a on loopback as a user would (no politeness
delay), served by tests/wire_site.py (index gzip, thread pages chunked and half of them gzip, list
pages GBK, a thread with 6 pictures and 2 attachments), in four modes: plain, --warc, --media,
--warc --media. Prints the median wall time of each (a fresh process per crawl, as `dzarchive
crawl` runs) and of the crawl alone (Scrapy's ``elapsed_time_seconds``), the WARC size per exchange and per 1,000 pages, and the writer's own time per
exchange measured in-process.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # not bench/: its incremental.py would shadow the package Twisted imports

from tests.wire_site import WireSite  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
START = "http://bbs.example.test/forum.php"
ELAPSED = re.compile(r"'elapsed_time_seconds': ([0-9.]+)")
MODES = {"plain": [], "--warc": ["--warc", "{warc}"], "--media": ["--media"],
         "--warc --media": ["--warc", "{warc}", "--media"]}


def crawl(site: WireSite, tmp: Path, extra: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, Scrapy's elapsed seconds, requests, WARC bytes) of one crawl into a new archive."""
    run = Path(tempfile.mkdtemp(dir=tmp))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=site.url, no_proxy="127.0.0.1,localhost")
    args = [a.replace("{warc}", str(run / "warc")) for a in extra]
    before = len(site.requests)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dzarchive", "crawl", START, "--db", str(run / "a.db"),
                    "--log-file", str(run / "crawl.log"),
                    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", *args],
                   env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    warc = sum(p.stat().st_size for p in (run / "warc").glob("*.warc.gz")) if (run / "warc").exists() else 0
    # The crawl itself, without the process start and imports: Scrapy's stats dump at the end of the log.
    elapsed = float(ELAPSED.search((run / "crawl.log").read_text(encoding="utf-8")).group(1))
    return seconds, elapsed, len(site.requests) - before, warc


def writer_cost(site_capture: Path, tmp: Path, repeat: int = 20) -> float:
    """Milliseconds WarcWriter takes per exchange (request + response record), on the capture's pages."""
    from testbed.replay import Capture

    from scraper.warc import WarcWriter

    entries = list(Capture.load(site_capture))
    bodies = [(e.url, e.body()) for e in entries]
    writer = WarcWriter(tmp / "writer", info={"software": "bench"})
    started = time.perf_counter()
    for i in range(repeat):
        for url, body in bodies:
            writer.write_exchange(f"{url}#{i}", method=b"GET", request_headers=[(b"User-Agent", b"bench")],
                                  request_body=b"", status=200, reason=b"OK", protocol=b"HTTP/1.1",
                                  response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
                                  body=body + str(i).encode())  # no revisits: every payload new
    writer.close()
    return (time.perf_counter() - started) * 1000 / (repeat * len(bodies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name, WireSite(FIXTURES / "discuz-x34-utf8-a") as site:
        tmp = Path(tmp_name)
        results = {mode: [] for mode in MODES}
        for _ in range(args.runs):  # interleaved, so load on the machine hits every mode alike
            for mode, extra in MODES.items():
                results[mode].append(crawl(site, tmp, extra))
        base = [statistics.median(r[i] for r in results["plain"]) for i in (0, 1)]
        print(f"{'mode':<16}{'requests':>9}{'wall s':>8}{'vs plain':>10}{'crawl s':>9}{'vs plain':>10}"
              f"{'WARC bytes':>12}{'per 1,000 req':>15}")
        for mode, runs in results.items():
            wall, elapsed = (statistics.median(r[i] for r in runs) for i in (0, 1))
            requests, warc = runs[0][2], runs[0][3]
            per_1000 = f"{warc / requests * 1000 / 1e6:.1f} MB" if warc else "-"
            print(f"{mode:<16}{requests:>9}{wall:>8.2f}{(wall / base[0] - 1) * 100:>+9.0f}%"
                  f"{elapsed:>9.2f}{(elapsed / base[1] - 1) * 100:>+9.0f}%{warc or '-':>12}{per_1000:>15}")
        print(f"WarcWriter alone: {writer_cost(FIXTURES / 'discuz-x34-utf8-a', tmp):.2f} ms per exchange "
              "(request + response record, gzip, digests)")


if __name__ == "__main__":
    main()
