"""Re-parse pages kept in the archive (``pages`` table) with today's parsers, e.g. after a parser fix."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archive import Archive
from pipelines.normalise import normalise_page
from pipelines.validate import validate_record
from scraper.parsers import parse_page


@dataclass
class ReparseResult:
    pages: int = 0
    readable: int = 0  # pages that now parse to something other than an unknown page
    rows: int = 0


def reparse(db: str, *, only_unreadable: bool = True, timezone_name: str | None = None) -> ReparseResult:
    """Parse the kept pages again and write what they yield; returns counts.

    With ``only_unreadable`` (the default) only pages whose stored status is ``unknown`` are read.
    The kept bytes stay; each page's row records its new status.
    """
    archive = Archive(db)
    result = ReparseResult()
    try:
        where = "WHERE status = 'unknown'" if only_unreadable else ""
        rows = list(archive.db.query(f"SELECT url, content_type, date_header, fetched_at, http_status, body, crawl_id"
                                     f" FROM pages {where} ORDER BY fetched_at"))
        for row in rows:
            page = parse_page(row["url"], row["body"], content_type=row["content_type"],
                              http_status=row["http_status"], date_header=row["date_header"],
                              fetched_at=datetime.fromisoformat(row["fetched_at"]), tz=timezone_name)
            page.raw_body = row["body"]
            record = validate_record(normalise_page(page, timezone_name))
            record.body, record.content_type, record.date_header = row["body"], row["content_type"], row["date_header"]
            record.keep_body = True  # it was kept before: keep it, with its new status
            result.rows += archive.write(record, row["crawl_id"])
            result.pages += 1
            result.readable += page.status != "unknown"
    finally:
        archive.close()
    return result
