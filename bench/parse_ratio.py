"""Parse cost against lxml alone: ``parse_page`` vs ``lxml.html.fromstring`` on the same thread pages.

    python bench/parse_ratio.py [--rounds 5]
    valgrind --tool=callgrind python bench/parse_ratio.py --loop parse --passes 2 --every 3   # instructions


Both are timed side by side in the same process, round after round, on every viewthread page of
the fixture captures (decoded bytes in, as a crawl gets them), as CPU time of this process (a busy
machine's other work does not count). Also a minimal parsel extraction (pid, author, time, text per
post) for scale, and ``parse_page`` with the thread-extras readers switched off: the difference is
what the readers (polls, rewards, debates, activities, trades, ratings, comments, attachment facts,
tags, recommend counts, post states) cost. ``readers_on_plain_pages`` is each reader's own cost on
the thread pages that show none of those boxes, as a share of lxml's time for those pages.
Prints the ratios. ``--loop parse|lxml`` only runs ``--passes`` passes of ``parse_page`` (or of lxml) over
every ``--every``-th page, untimed: under callgrind, the instructions of 2 passes less those of 1 are one pass's,
start-up and page reading taken off (divide by the pages it prints).
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lxml import html as lxml_html  # noqa: E402
from parsel import Selector  # noqa: E402

import scraper.parsers as parsers  # noqa: E402
from scraper.parsers import extras, parse_page  # noqa: E402
from scraper.parsers.common import read_document  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
CONTENT_TYPE = "text/html; charset=utf-8"
# What the readers add to a page; a page with none of these is a "plain" page.
_BOXES = ("polls", "rewards", "debates", "debate_posts", "activities", "trades", "ratings", "post_comments",
          "thread_tags")


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


def _parse_all(pages) -> int:
    return sum(len(parse_page(url, body, content_type=CONTENT_TYPE, date_header=date).posts)
               for url, body, date in pages)


def measure(rounds: int = 5, fixtures: Path = FIXTURES) -> dict:
    """CPU seconds per pass over the thread pages for lxml alone, a minimal parsel extraction, parse_page, and
    parse_page without the thread-extras readers; the best of ``rounds``."""
    pages = thread_pages(fixtures)
    if not pages:
        return {}
    times = {"lxml": [], "minimal": [], "parse_page": [], "no_extras": []}
    posts = 0
    for _ in range(rounds):
        t0 = time.process_time()
        for _, body, _ in pages:
            lxml_html.fromstring(body)
        t1 = time.process_time()
        for _, body, _ in pages:
            _minimal(body)
        t2 = time.process_time()
        posts += _parse_all(pages)
        t3 = time.process_time()
        with mock.patch.object(parsers, "read_extras", lambda *args, **kwargs: None):
            _parse_all(pages)
        t4 = time.process_time()
        times["lxml"].append(t1 - t0)
        times["minimal"].append(t2 - t1)
        times["parse_page"].append(t3 - t2)
        times["no_extras"].append(t4 - t3)
    best = {k: min(v) for k, v in times.items()}
    return {"pages": len(pages), "posts_per_pass": posts // rounds, "lxml_s": best["lxml"],
            "minimal_s": best["minimal"], "parse_page_s": best["parse_page"], "no_extras_s": best["no_extras"],
            "minimal_ratio": best["minimal"] / best["lxml"], "parse_ratio": best["parse_page"] / best["lxml"],
            "parse_ratio_without_extras": best["no_extras"] / best["lxml"],
            "parse_pages_per_s": len(pages) / best["parse_page"],
            "readers_on_plain_pages": reader_costs(pages, rounds)}


def reader_costs(pages, rounds: int = 5) -> dict:
    """Each reader's CPU time on the thread pages without any box (the best of ``rounds``), as a share of lxml's
    time for the same pages; ``context`` is building what every reader shares (the posts' containers)."""
    plain = []
    for url, body, date in pages:
        page = parse_page(url, body, content_type=CONTENT_TYPE, date_header=date)
        if page.kind != "viewthread" or any(getattr(page, name) for name in _BOXES) or not body.lstrip().startswith(b"<"):
            continue
        plain.append((url, body, date, page, read_document(body, url, CONTENT_TYPE)[0].root))
    if not plain:
        return {}
    readers = extras._readers()
    # A collection that falls inside one reader's few microseconds would be charged to it: none while timing.
    gc.disable()
    try:
        return _reader_costs(plain, readers, rounds)
    finally:
        gc.enable()


def _reader_costs(plain, readers, rounds: int) -> dict:
    """The figures of :func:`reader_costs` for the ``plain`` pages (``(url, body, date, page, root)``)."""
    best: dict[str, float] = {}
    lxml_best = None
    for _ in range(rounds):
        spent = {"context": 0.0, **{name: 0.0 for name, _ in readers}}
        for url, _, _, page, root in plain:
            # The page's hrefs, as parse_page hands them in: it reads them for the page's links anyway.
            hrefs = extras.ALL_HREFS(root)
            t0 = time.process_time()
            ctx = extras.ThreadContext(url=url, tid=page.tid, posts=extras.post_containers(
                root, [post.pid for post in page.posts]), hrefs=hrefs)
            spent["context"] += time.process_time() - t0
            for name, reader in readers:
                t0 = time.process_time()
                reader(page, root, ctx)
                spent[name] += time.process_time() - t0
        for name, value in spent.items():
            best[name] = min(best.get(name, value), value)
        t0 = time.process_time()
        for _, body, _, _, _ in plain:
            lxml_html.fromstring(body)
        elapsed = time.process_time() - t0
        lxml_best = elapsed if lxml_best is None else min(lxml_best, elapsed)
    out = {"pages": len(plain), "lxml_s": lxml_best}
    out.update({name: round(value / lxml_best, 4) for name, value in best.items()})
    out["all"] = round(sum(best.values()) / lxml_best, 4)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loop", choices=("parse", "lxml"), help="only run passes, untimed (for callgrind)")
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--every", type=int, default=1, help="with --loop: every N-th thread page")
    args = parser.parse_args(argv)
    if args.loop:
        pages = thread_pages()[::args.every]
        for _ in range(args.passes):
            if args.loop == "lxml":
                for _, body, _ in pages:
                    lxml_html.fromstring(body)
            else:
                _parse_all(pages)
        print(f"{len(pages)} pages x {args.passes} passes")
        return 0
    result = measure(args.rounds)
    if not result:
        print(f"no thread pages under {FIXTURES}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
