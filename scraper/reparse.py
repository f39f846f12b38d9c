"""Re-parse pages kept in the archive (``pages`` table) or in WARC files with today's parsers, e.g. after a parser fix."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from archive import Archive
from pipelines.normalise import iso, normalise_page
from pipelines.validate import validate_record
from scraper.items import KIND_FORUMDISPLAY, KIND_VIEWTHREAD
from scraper.parsers import parse_page, parse_tz


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


# Responses a crawl reads as pages: the rest (redirects, 5xx that were retried, 401) never reach the parsers.
_PARSED_STATUSES = range(200, 300), (403, 404, 410)
_MEDIA_TYPES = ("image/", "audio/", "video/", "font/", "application/octet-stream", "application/zip",
                "application/x-", "application/pdf")


class WarcReadError(ValueError):
    """A file given as WARC is not one."""


def _is_page(uri: str, status: int, content_type: str) -> bool:
    if not (status in _PARSED_STATUSES[0] or status in _PARSED_STATUSES[1]):
        return False
    if uri.split("?", 1)[0].endswith("/robots.txt"):
        return False  # read by the robots middleware, not the parsers
    return not content_type.lower().startswith(_MEDIA_TYPES)


def warc_pages(files: list[str | Path]):
    """Yield ``(uri, warc_date, status, headers, body)`` for every page a crawl would have parsed, in file order.

    ``body`` is the payload with its content-encoding undone; a ``revisit`` gets the payload of the
    record it refers to (by payload digest, in any of ``files``).
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    revisited = set()
    for path in files:
        count = 0
        with open(path, "rb") as stream:
            try:
                for record in ArchiveIterator(stream):
                    if record.format != "warc":  # warcio reads any text line as an ARC record
                        raise WarcReadError(f"{path}: not a readable WARC file (no WARC record in it)")
                    count += 1
                    if record.rec_type == "revisit":
                        revisited.add(record.rec_headers.get_header("WARC-Payload-Digest"))
            except ArchiveLoadFailed as exc:
                raise WarcReadError(f"{path}: not a readable WARC file ({exc})") from None
        if not count:
            raise WarcReadError(f"{path}: not a readable WARC file (no WARC record in it)")
    payloads: dict[str, bytes] = {}
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                    continue
                if record.rec_headers.get_header("WARC-Resource-Type") not in (None, "document"):
                    continue  # a page requisite (--warc): a stylesheet, script or image, never read as a page
                uri = record.rec_headers.get_header("WARC-Target-URI")
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                status = int(record.http_headers.get_statuscode() or 0)
                headers = record.http_headers
                if record.rec_type == "response":
                    body = record.content_stream().read()
                    if digest in revisited:
                        payloads[digest] = body
                else:
                    body = payloads.get(digest)
                    if body is None:
                        continue  # its original is in a file not given
                if _is_page(uri, status, headers.get_header("Content-Type") or ""):
                    date = datetime.fromisoformat(record.rec_headers.get_header("WARC-Date").replace("Z", "+00:00"))
                    yield uri, date, status, headers, body


def reparse_warc(db: str, files: list[str | Path], *, timezone_name: str | None = None,
                 keep_all_pages: bool = False) -> ReparseResult:
    """Build or update the archive ``db`` from the pages in WARC ``files``, with today's parsers.

    Each page is parsed as the crawl that fetched it parsed it: relative times (``3 天前``) against
    the response's ``Date`` header, ``fetched_at`` = the record's ``WARC-Date``. The run is recorded
    in ``crawls`` (its ``start_url`` is ``warc:`` and the first file).
    """
    files = [Path(f) for f in files]
    archive = Archive(db)
    result = ReparseResult()
    version = None
    zone = parse_tz(timezone_name)
    listed: dict[int, dict] = {}
    try:
        crawl_id = archive.start_crawl(f"warc:{files[0]}" if files else "warc:", timezone_name)
        status = "failed"
        try:
            for uri, date, http_status, headers, body in warc_pages(files):
                content_type = headers.get_header("Content-Type")
                date_header = headers.get_header("Date")
                page = parse_page(uri, body, content_type=content_type, http_status=http_status,
                                  date_header=date_header, fetched_at=date.astimezone(timezone.utc),
                                  tz=timezone_name)
                # What the crawl knew from the forum list when it asked for the thread (its reply count and
                # last post, to the minute): the spider passes it along as request meta, WARC keeps the lists.
                if page.kind == KIND_FORUMDISPLAY:
                    listed.update({t.tid: {"replies": t.replies, "last_post_at": iso(t.last_post_at, zone)}
                                   for t in page.threads})
                elif page.kind == KIND_VIEWTHREAD:
                    page.listed = listed.get(page.tid)
                record = validate_record(normalise_page(page, timezone_name))
                record.body, record.content_type, record.date_header = body, content_type, date_header
                result.rows += archive.write(record, crawl_id, keep_all_pages=keep_all_pages)
                result.pages += 1
                result.readable += page.status != "unknown"
                if page.status == "ok":
                    version = version or page.version
            status = "finished" if result.readable else "failed"
        finally:
            archive.finish_crawl(crawl_id, status, pages=result.pages, items=result.rows, version=version)
    finally:
        archive.close()
    return result
