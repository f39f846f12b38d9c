"""Parse cost of thread pages a crawl has never met: synthetic thread pages, each with URLs of its own.

    python bench/parse_fresh.py --time                   # CPU ms per new page
    valgrind --tool=callgrind python bench/parse_fresh.py 150 100   # less the same with 150 0: instructions

``WARM`` pages of a synthetic forum (``testbed/synthetic.py``, capture A's markup) are parsed first, then ``NEW``
others, as a crawl meets them: with a :class:`~scraper.urls.SiteUrls` that learns each page's own URL and is asked
about its links, as the spider does. The fixture pages of ``parse_ratio.py`` repeat their URLs from pass to pass;
a crawl's pages each bring ~20 URLs (every post's reply, report and message links, every poster's space) that
``classify``, ``canonical`` and the links' table have not read yet.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scraper.items import KIND_VIEWTHREAD  # noqa: E402
from scraper.parsers import parse_page  # noqa: E402
from scraper.urls import SiteUrls, Target  # noqa: E402

CAPTURE = ROOT.parent / "shared" / "fixtures" / "discuz-x34-utf8-a"


def pages(count: int) -> list[tuple[str, bytes]]:
    from testbed.synthetic import HOST, SyntheticForum

    forum = SyntheticForum(CAPTURE, threads=count, multi_page_every=0, posters=count)
    return [(f"http://{HOST}/forum.php?mod=viewthread&tid={tid}", forum.thread_page(tid, 1).encode("utf-8"))
            for tid in range(count, 0, -1)]


def parse_all(batch: list[tuple[str, bytes]], urls: SiteUrls) -> None:
    for url, body in batch:
        page = parse_page(url, body, content_type="text/html; charset=utf-8", identify=urls.identify)
        if page.tid:
            urls.learn(KIND_VIEWTHREAD, page.tid, page.page or 1, url)
            urls.remember(url, Target(KIND_VIEWTHREAD, tid=page.tid, page=page.page or 1))
        for link in page.links:
            if link.id is None:
                urls.identify(link.url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warm", nargs="?", type=int, default=500)
    parser.add_argument("new", nargs="?", type=int, default=500)
    parser.add_argument("--time", action="store_true", help="print CPU ms per new page")
    args = parser.parse_args(argv)
    if not CAPTURE.is_dir():
        print(f"no capture at {CAPTURE}", file=sys.stderr)
        return 2
    batch = pages(args.warm + args.new)
    urls = SiteUrls()
    parse_all(batch[:args.warm], urls)
    started = time.process_time()
    parse_all(batch[args.warm:], urls)
    if args.time and args.new:
        print(f"{(time.process_time() - started) / args.new * 1000:.3f} CPU ms per new page ({args.new} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
