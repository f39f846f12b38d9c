"""WACZ packing (``dzarchive wacz``, ``crawl --wacz``): an archive's WARC files, a CDXJ index and ``pages.jsonl``.

py-wacz (the ``wacz`` extra) writes the package: the WARCs under ``archive/``, its CDXJ index under
``indexes/``, ``datapackage.json`` with every file's hash. ``pages.jsonl`` is written here: one entry per
archived thread page (``thread_pages``), at the time of its first capture in the WARCs, titled with
the thread's title, so ReplayWeb.page lists the threads.
"""
from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive import open_archive

from .items import KIND_VIEWTHREAD
from .urls import classify


class WaczError(RuntimeError):
    """The archive cannot be packed (no WARC files, py-wacz missing or failing)."""


@dataclass
class WaczResult:
    path: Path
    warcs: int
    pages: int
    size: int


def archive_warcs(db: str | Path) -> list[Path]:
    """The WARC files the archive's crawls wrote (``warc_files``) that still exist, oldest first."""
    conn = open_archive(db, readonly=True)
    try:
        if not conn["warc_files"].exists():
            return []
        return [Path(p) for (p,) in conn.execute("SELECT path FROM warc_files ORDER BY created_at, path")
                if Path(p).is_file()]
    finally:
        conn.close()


def thread_page_entries(db: str | Path, warcs: list[Path]) -> list[dict]:
    """``pages.jsonl`` entries: each archived thread page, first capture in ``warcs``, with the thread's title."""
    from warcio.archiveiterator import ArchiveIterator

    conn = open_archive(db, readonly=True)
    try:
        archived = {(tid, page) for tid, page in conn.execute("SELECT tid, page FROM thread_pages")}
        titles = dict(conn.execute("SELECT tid, title FROM threads"))
    finally:
        conn.close()
    entries, seen = [], set()
    for path in warcs:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers.get_statuscode() != "200":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                target = classify(url)
                key = (target.tid, target.page)
                if target.kind != KIND_VIEWTHREAD or key not in archived or key in seen:
                    continue
                seen.add(key)
                title = titles.get(target.tid) or f"thread {target.tid}"
                entries.append({"id": f"t{target.tid}p{target.page}", "url": url,
                                "ts": record.rec_headers.get_header("WARC-Date"),
                                "title": title if target.page == 1 else f"{title} (page {target.page})"})
    return entries


def pack_wacz(db: str | Path, output: str | Path, *, warcs: list[Path] | None = None,
              title: str | None = None) -> WaczResult:
    """Write ``output`` (.wacz) from ``warcs`` (default: the archive's own) and the archive's thread pages."""
    try:
        from wacz.main import main as wacz_main
    except ImportError:
        raise WaczError("packing WACZ needs py-wacz: pip install 'dzarchive[wacz]'") from None
    warcs = warcs if warcs is not None else archive_warcs(db)
    if not warcs:
        raise WaczError(f"no WARC files for {db}: crawl with --warc DIR first (or give them with --warc FILE)")
    output = Path(output)
    entries = thread_page_entries(db, warcs)
    with tempfile.TemporaryDirectory(prefix="dzarchive-wacz-") as tmp:
        pages = Path(tmp) / "pages.jsonl"
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Thread pages"}
        pages.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in [header, *entries]),
                         encoding="utf-8")
        args = ["create", "-o", str(output), "-p", str(pages), "--copy-pages",
                "--title", title or f"dzarchive: {Path(db).name}", *map(str, warcs)]
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            code = wacz_main(args)
    if code not in (0, None) or not output.is_file():
        raise WaczError(f"py-wacz could not write {output}: {log.getvalue().strip().splitlines()[-1:]}")
    return WaczResult(output, len(warcs), len(entries), output.stat().st_size)
