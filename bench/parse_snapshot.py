"""Every fixture page's items, saved once and checked after a change to the parsers: a speed-up must give the same.

    python bench/parse_snapshot.py save /tmp/before.json     # on the tree before the change
    python bench/parse_snapshot.py check /tmp/before.json    # after it: exit 1, naming the pages and fields that differ

Every page of every capture's manifest (``../shared/fixtures/*/manifest.json``) and the saved pages of
``real/``, each parsed twice: with Discuz's default URL rules only, and with a :class:`scraper.urls.SiteUrls` that
learns the site's rules from the pages parsed before it (as a crawl does). The items (every field of the
:class:`~scraper.items.ParsedPage`, the raw bytes aside) are compared as JSON. Issue 22's passes over the parser
were held to this (1,632 parses).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scraper.parsers import parse_page  # noqa: E402
from scraper.urls import SiteUrls  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
FETCHED = datetime(2026, 1, 1, tzinfo=timezone.utc)  # relative times need a fixed "now" when a page has no Date


def pages(fixtures: Path = FIXTURES):
    """``(capture, url, body, content_type, status, date_header)`` of every fixture page."""
    for manifest in sorted(fixtures.glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            yield (manifest.parent.name, entry["url"], (manifest.parent / entry["file"]).read_bytes(),
                   entry.get("content_type"), entry.get("status"), entry.get("headers", {}).get("Date"))
    for path in sorted(fixtures.glob("real/*/*.htm*")):
        yield "real", f"http://{path.parent.name}/{path.name}", path.read_bytes(), None, 200, None


def snapshot(fixtures: Path = FIXTURES) -> dict[str, str]:
    """``"MODE CAPTURE URL BODY-DIGEST"`` -> the page's items as JSON, for every fixture page in both modes."""
    out: dict[str, str] = {}
    urls = SiteUrls()
    for capture, url, body, content_type, status, date in pages(fixtures):
        digest = hashlib.md5(body).hexdigest()[:8]
        for mode, identify in (("plain", None), ("identify", urls.identify)):
            page = parse_page(url, body, content_type=content_type, http_status=status, date_header=date,
                              fetched_at=FETCHED, identify=identify)
            fields = dataclasses.asdict(page)
            fields.pop("raw_body", None)
            out[f"{mode} {capture} {url} {digest}"] = json.dumps(fields, default=str, sort_keys=True, ensure_ascii=False)
            if identify is not None and page.kind in ("viewthread", "forumdisplay") and (page.tid or page.fid):
                urls.learn(page.kind, page.tid if page.kind == "viewthread" else page.fid, page.page, url)
    return out


def differences(saved: dict[str, str], now: dict[str, str]) -> list[tuple[str, list[str]]]:
    """``(page, fields that differ)`` for every page whose items differ, or that only one side has."""
    out = []
    for key in sorted(set(saved) | set(now)):
        if saved.get(key) != now.get(key):
            a, b = json.loads(saved.get(key, "{}")), json.loads(now.get(key, "{}"))
            out.append((key, sorted(name for name in set(a) | set(b) if a.get(name) != b.get(name))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("save", "check"))
    parser.add_argument("snapshot", type=Path)
    args = parser.parse_args(argv)
    if not FIXTURES.is_dir():
        print(f"parse_snapshot: no fixtures at {FIXTURES}", file=sys.stderr)
        return 2
    now = snapshot()
    if args.action == "save":
        args.snapshot.write_text(json.dumps(now, ensure_ascii=False), encoding="utf-8")
        print(f"{len(now)} parses saved to {args.snapshot}")
        return 0
    try:
        saved = json.loads(args.snapshot.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"parse_snapshot: cannot read {args.snapshot}: {exc}", file=sys.stderr)
        return 2
    differ = differences(saved, now)
    print(f"{len(now)} parses, {len(differ)} differ")
    for key, names in differ[:20]:
        print(f"  {key}: {', '.join(names)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
