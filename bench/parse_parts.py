"""Where a thread page's parse goes: the time of each part of ``parse_page`` on the bench's thread pages.

    python bench/parse_parts.py [--rounds 3] [--json]

Each part is timed by wrapping the function that does it (its module's global, which its callers look up when
they call), so a part's time includes the parts it calls: the table shows which part holds which. ``tree freed``
is the page's lxml tree freed once the page is parsed (which lxml's own time below includes too), and ``rest``
what the page's parse spends outside the parts named. Times are the best of ``--rounds`` passes over every thread
page of the captures (the pages of :mod:`bench.parse_ratio`), in µs a page, by ``perf_counter`` in this process
with the cyclic collector off (a collection inside a small part would be charged to it); lxml's own parse of the
same bytes (``lxml.html.fromstring``) is timed beside them, and ``budget_us`` is what a page may cost for the
parse to be within 2.5× of it (the performance issue's goal).
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lxml import html as lxml_html  # noqa: E402

import scraper.parsers as parsers  # noqa: E402
from scraper.parsers import thread  # noqa: E402

from bench.parse_ratio import CONTENT_TYPE, _parse_all, thread_pages  # noqa: E402

GOAL = 2.5  # the parse within this many times lxml's own
# (label, module, function, parent label): the parts of a page's parse, each under the part that calls it.
PARTS = (
    ("document", parsers, "read_document", None),
    ("thread parser", parsers, "parse_thread_page", None),
    ("post frames", thread, "_parse_post_frame", "thread parser"),
    ("authors' columns", thread, "add_author", "thread parser"),
    ("stats blocks", thread, "parse_stats_block", "thread parser"),
    ("post bodies", thread, "_read_post_body", "thread parser"),
    ("thread header", thread, "_parse_thread_header", "thread parser"),
    ("post times", thread, "read_post_time", "thread parser"),
    ("messages", thread, "read_message", "thread parser"),
    ("readers", parsers, "read_extras", None),
    ("page links", parsers, "page_links", None),
    ("page hrefs", parsers, "ALL_HREFS", None),
    ("version", parsers, "detect_version", None),
    ("base href", parsers, "find_base_href", None),
    ("API test", parsers, "looks_like_api", None),
)
# Not a function: the page's tree freed once the page is parsed (timed by _parse_all_freeing).
FREED = "tree freed"


def _parse_all_freeing(pages, spent: Counter) -> None:
    """``parse_page`` of every page, the page's tree kept past the parse (the document part hands it to ``kept``)
    and freed after it, timed as ``tree freed`` (lxml's time in the baseline holds it too)."""
    read_document, kept = parsers.read_document, []

    def keeping(*args, **kwargs):
        found = read_document(*args, **kwargs)
        kept.append(found)
        return found

    parsers.read_document = keeping
    try:
        for url, body, date in pages:
            parsers.parse_page(url, body, content_type=CONTENT_TYPE, date_header=date)
            t0 = time.perf_counter()
            kept.clear()
            spent[FREED] += time.perf_counter() - t0
    finally:
        parsers.read_document = read_document


def _timed(spent: Counter, calls: Counter, label: str, function):
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - t0
            calls[label] += 1
    return timed


def measure(rounds: int = 3, pages=None) -> dict:
    """µs a page of each part (best of ``rounds``), the whole parse's and lxml's, and how many times a page each
    part ran; ``{}`` without pages."""
    pages = thread_pages() if pages is None else pages
    if not pages:
        return {}
    _parse_all(pages)  # warm: compiled XPaths, caches, the pages' bytes in memory
    best: dict[str, float] = {}
    calls: Counter = Counter()
    saved = [(module, name, getattr(module, name)) for _, module, name, _ in PARTS]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            spent: Counter = Counter()
            calls = Counter()
            for label, module, name, _ in PARTS:
                setattr(module, name, _timed(spent, calls, label, getattr(module, name)))
            try:
                t0 = time.perf_counter()
                _parse_all_freeing(pages, spent)
                spent["parse"] = time.perf_counter() - t0
            finally:
                for module, name, function in saved:
                    setattr(module, name, function)
            t0 = time.perf_counter()
            for _, body, _ in pages:
                lxml_html.fromstring(body)
            spent["lxml"] = time.perf_counter() - t0
            for label, value in spent.items():
                best[label] = min(best.get(label, value), value)
    finally:
        if enabled:
            gc.enable()
    per_page = {label: value / len(pages) * 1e6 for label, value in best.items()}
    top = sum(per_page.get(label, 0.0) for label, _, _, parent in PARTS if parent is None) + per_page[FREED]
    return {"pages": len(pages), "rounds": rounds, "parse_us": per_page["parse"], "lxml_us": per_page["lxml"],
            "ratio": per_page["parse"] / per_page["lxml"], "budget_us": GOAL * per_page["lxml"],
            "parts_us": {label: per_page.get(label, 0.0) for label, _, _, _ in PARTS},
            "freed_us": per_page[FREED], "rest_us": per_page["parse"] - top,
            "calls_per_page": {label: calls[label] / len(pages) for label, _, _, _ in PARTS}}


def table(result: dict) -> str:
    lines = [f"{result['pages']} thread pages, best of {result['rounds']} passes, µs a page",
             f"{'parse_page':<28} {result['parse_us']:8.0f}   {result['ratio']:.2f}x lxml",
             f"{'lxml.html.fromstring':<28} {result['lxml_us']:8.0f}",
             f"{'within %.1fx lxml' % GOAL:<28} {result['budget_us']:8.0f}   "
             f"(over by {max(0.0, result['parse_us'] - result['budget_us']):.0f})", ""]
    for label, _, _, parent in PARTS:
        name = f"  {label}" if parent else label
        lines.append(f"{name:<28} {result['parts_us'][label]:8.1f}   "
                     f"{result['calls_per_page'][label]:5.1f} calls a page")
    lines.append(f"{FREED:<28} {result['freed_us']:8.1f}")
    lines.append(f"{'rest':<28} {result['rest_us']:8.1f}")
    return "\n".join(lines)


def summary(result: dict, least_us: float = 40.0) -> str:
    """One line: a page's parse in µs, the top-level parts of at least ``least_us`` and the rest, lxml's parse, and
    the goal's budget."""
    top = [(label, result["parts_us"][label]) for label, _, _, parent in PARTS if parent is None]
    shown = [(label, us) for label, us in top + [(FREED, result["freed_us"])] if us >= least_us]
    rest = result["parse_us"] - sum(us for _, us in shown)
    return (f"a page's parse, µs: {result['parse_us']:.0f} = " + ", ".join(f"{label} {us:.0f}" for label, us in shown)
            + f", the rest {rest:.0f} (lxml {result['lxml_us']:.0f}; within {GOAL}x: {result['budget_us']:.0f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.rounds)
    if not result:
        print("parse_parts: no thread pages in the fixture captures", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
