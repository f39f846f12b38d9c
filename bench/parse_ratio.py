"""Parse cost against lxml alone: ``parse_page`` vs ``lxml.html.fromstring`` on the same thread pages.

    python bench/parse_ratio.py [--rounds 5]

Both are timed side by side in the same process, round after round, on every viewthread page of
the fixture captures (decoded bytes in, as a crawl gets them). Also a minimal parsel extraction
(pid, author, time, text per post) for scale. Prints the ratios.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lxml import html as lxml_html  # noqa: E402
from parsel import Selector  # noqa: E402

from scraper.parsers import parse_page  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"


def thread_pages(fixtures: Path = FIXTURES) -> list[tuple[str, bytes, str | None]]:
    """``(url, body, date_header)`` of every thread page in the captures' manifests."""
    pages = []
    for manifest in sorted(fixtures.glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            if "viewthread" in entry["url"] or "thread-" in entry["url"]:
                body = (manifest.parent / entry["file"]).read_bytes()
                if b"postlist" in body:
                    pages.append((entry["url"], body, entry.get("headers", {}).get("Date")))
    return pages


def _minimal(body: bytes) -> int:
    sel = Selector(body=body, type="html")
    n = 0
    for post in sel.xpath("//div[@id='postlist']/div[starts-with(@id, 'post_')]"):
        post.xpath(".//div[contains(@class,'authi')]/a/text()").get()
        post.xpath(".//em[starts-with(@id,'authorposton')]//text()").get()
        post.xpath("string(.//td[starts-with(@id,'postmessage_')])").get()
        n += 1
    return n


def measure(rounds: int = 5, fixtures: Path = FIXTURES) -> dict:
    """Seconds per pass over the thread pages for lxml alone, a minimal parsel extraction, and parse_page."""
    pages = thread_pages(fixtures)
    if not pages:
        return {}
    times = {"lxml": [], "minimal": [], "parse_page": []}
    posts = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _, body, _ in pages:
            lxml_html.fromstring(body)
        t1 = time.perf_counter()
        for _, body, _ in pages:
            _minimal(body)
        t2 = time.perf_counter()
        for url, body, date in pages:
            posts += len(parse_page(url, body, content_type="text/html; charset=utf-8", date_header=date).posts)
        t3 = time.perf_counter()
        times["lxml"].append(t1 - t0)
        times["minimal"].append(t2 - t1)
        times["parse_page"].append(t3 - t2)
    best = {k: min(v) for k, v in times.items()}
    return {"pages": len(pages), "posts_per_pass": posts // rounds, "lxml_s": best["lxml"],
            "minimal_s": best["minimal"], "parse_page_s": best["parse_page"],
            "minimal_ratio": best["minimal"] / best["lxml"], "parse_ratio": best["parse_page"] / best["lxml"],
            "parse_pages_per_s": len(pages) / best["parse_page"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.rounds)
    if not result:
        print(f"no thread pages under {FIXTURES}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
