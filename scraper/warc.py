"""WARC/1.1 (ISO 28500) records of every HTTP exchange a crawl makes, as the forum served it.

Enabled with ``dzarchive crawl --warc DIR`` (setting ``DZ_WARC_DIR``):

- :class:`WarcMiddleware`, a downloader middleware at 950, nearer the network than every built-in one:
  it sees each request with its final headers (cookies, ``Accept-Encoding``) and each response before
  ``HttpCompressionMiddleware`` (590) decodes it, before redirects (600) and retries (550) act, so
  redirects, retries and robots.txt are recorded too. Scrapy 2.19's HTTP/1.1 handler has already
  removed the chunked framing and the hop-by-hop headers (``Transfer-Encoding``, ``Connection``,
  ``Keep-Alive``) and writes ``Content-Length`` first; everything else, repeated ``Set-Cookie``
  included, comes in the order served.
- :class:`ReasonPhraseDownloadHandler` keeps the status line's reason phrase (Scrapy's responses
  carry only the code) in ``request.meta["dz_http_reason"]``.
- :class:`WarcWriter` writes request/response pairs, gzip per record, ``revisit`` records for a
  payload already written, a ``warcinfo`` record at the start of every file, and rotates files by size.

- :class:`PageRequisites` asks, once per crawl, for what each archived page needs to be shown (its stylesheets
  and theirs, scripts, images, lazy-loaded photos, icons: :mod:`scraper.parsers.requisites`), so that the WARC
  replays the page as the site showed it. They go through the same scheduler as the pages (robots.txt, the
  per-host cap, AutoThrottle), after them (a low priority; lower still on other hosts, such as a CDN), and
  are recorded like every exchange, with ``WARC-Resource-Type`` (``stylesheet``, ``script``, ``image``) on
  their records; they are never parsed as pages nor archived as rows.

A logged-in crawl (``DZ_COOKIES``) never writes its secrets: the values of ``Cookie`` and
``Set-Cookie`` are blanked in the records (names and cookie attributes stay).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import NotConfigured, ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

from .write_failures import StoppedWriting, is_write_failure, stop_crawl
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
DEFAULT_MAX_SIZE = 1_000_000_000  # bytes per WARC file before the next one is started
REASON_META = "dz_http_reason"
VERSION_META = "dz_http_version"
# Settings recorded in each file's warcinfo: how the crawl behaved.
INFO_SETTINGS = ("DZ_TIMEZONE", "DZ_PROFILES", "DZ_FULL", "DZ_MEDIA", "DZ_MEDIA_OFFSITE", "DZ_WARC_REQUISITES",
                 "ROBOTSTXT_OBEY", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "CONCURRENT_REQUESTS_PER_DOMAIN", "RETRY_TIMES")
_COOKIE_PAIR = re.compile(rb"^\s*([^=;]*)=?")


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of ``body``: ``sha1:`` and the base32 SHA-1, as warcio and pywb write it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def redact_cookie_header(name: bytes, value: bytes) -> bytes:
    """``Cookie: a=1; b=2`` -> ``a=; b=``; ``Set-Cookie: a=1; path=/`` -> ``a=; path=/`` (values gone)."""
    if name.lower() == b"cookie":
        return b"; ".join(_COOKIE_PAIR.match(pair).group(1).strip() + b"=" for pair in value.split(b";") if pair.strip())
    first, sep, attributes = value.partition(b";")
    return _COOKIE_PAIR.match(first).group(1).strip() + b"=" + sep + attributes


class _RawHttpHeaders(StatusAndHeaders):
    """HTTP headers written exactly as given (warcio would re-encode them as ASCII with %-escapes)."""

    def __init__(self, raw: bytes, statusline: str, headers: list[tuple[str, str]], protocol: str,
                 is_http_request: bool = False):
        super().__init__(statusline, headers, protocol, is_http_request=is_http_request)
        self.raw = raw

    def compute_headers_buffer(self, header_filter=None):
        self.headers_buff = self.raw


def http_header_block(first_line: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The bytes of an HTTP message head: first line, ``Name: value`` lines, blank line."""
    return first_line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"


def _text_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers]


class WarcWriter:
    """Writes exchanges into ``directory/PREFIX-TIMESTAMP-NNNNN.warc.gz``, a new file past ``max_size`` bytes.

    ``info`` is the ``warcinfo`` record each file starts with. Payloads already written (same
    payload digest) become ``revisit`` records that refer to the first capture. ``on_file(path)``
    is called when a file is opened.
    """

    def __init__(self, directory: str | Path, *, prefix: str = "dzarchive", max_size: int = DEFAULT_MAX_SIZE,
                 info: dict | None = None, redact_cookies: bool = False, on_file=None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = re.sub(r"[^\w.-]+", "_", prefix)
        self.max_size = max_size
        self.info = info or {}
        self.redact_cookies = redact_cookies
        self.on_file = on_file
        self.stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        self.serial = 0
        self.files: list[Path] = []
        self.records = 0
        self.revisits = 0
        self._seen: dict[str, tuple[str, str, str]] = {}  # payload digest -> (uri, date, record id)
        self._file = None
        self._writer: WARCWriter | None = None
        self._complete = 0  # bytes of the current file that hold whole records, written out

    def _open(self) -> None:
        self.serial += 1
        path = self.directory / f"{self.prefix}-{self.stamp}-{self.serial:05d}.warc.gz"
        while path.exists():  # two crawls in one second
            self.serial += 1
            path = self.directory / f"{self.prefix}-{self.stamp}-{self.serial:05d}.warc.gz"
        self._file = open(path, "wb")
        self._complete = 0
        self.files.append(path)
        self._writer = WARCWriter(self._file, gzip=True, warc_version=WARC_VERSION)
        self._writer.write_record(self._writer.create_warcinfo_record(path.name, self.info))
        self._file.flush()
        self._complete = self._file.tell()
        self.records += 1
        if self.on_file:
            self.on_file(path)

    def write_exchange(self, url: str, *, method: bytes, request_headers: list[tuple[bytes, bytes]],
                       request_body: bytes, status: int, reason: bytes | None, protocol: bytes,
                       response_headers: list[tuple[bytes, bytes]], body: bytes,
                       date: datetime | None = None, resource_type: str | None = None) -> str:
        """Write one request and its response (or a revisit); returns the response record's WARC-Type.

        ``resource_type`` (a page requisite's kind) is written as ``WARC-Resource-Type`` on both records.
        """
        if self._writer is None:
            self._open()
        if self.redact_cookies:
            request_headers = [(n, redact_cookie_header(n, v) if n.lower() == b"cookie" else v)
                               for n, v in request_headers]
            response_headers = [(n, redact_cookie_header(n, v) if n.lower() == b"set-cookie" else v)
                                for n, v in response_headers]
        warc_date = datetime_to_iso_date((date or datetime.now(timezone.utc)).replace(tzinfo=None), use_micros=True)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not any(n.lower() == b"host" for n, _ in request_headers):
            request_headers = [(b"Host", parts.netloc.encode("idna" if not parts.netloc.isascii() else "ascii"))
                               ] + request_headers
        request_line = method + b" " + target.encode("ascii", "backslashreplace") + b" HTTP/1.1"
        request_http = _RawHttpHeaders(http_header_block(request_line, request_headers),
                                       f"{method.decode()} {target}", _text_headers(request_headers),
                                       "HTTP/1.1", is_http_request=True)
        reason = reason if reason is not None else HTTPStatus(status).phrase.encode() if status in HTTPStatus._value2member_map_ else b""
        status_line = protocol + b" " + str(status).encode() + (b" " + reason if reason else b"")
        response_http = _RawHttpHeaders(http_header_block(status_line, response_headers),
                                        f"{status} {reason.decode('latin-1')}".strip(),
                                        _text_headers(response_headers), protocol.decode("latin-1"))
        digest = payload_digest(body)
        extra = {"WARC-Resource-Type": resource_type} if resource_type else {}
        # Only a file served as such (2xx) is deduplicated: error pages that happen to be alike stay answers of their own.
        dedup = bool(body) and 200 <= status < 300
        earlier = self._seen.get(digest) if dedup else None
        if earlier is not None:
            response = self._writer.create_revisit_record(
                url, digest, earlier[0], earlier[1], http_headers=response_http,
                warc_headers_dict={"WARC-Date": warc_date, "WARC-Refers-To": earlier[2], **extra})
            self.revisits += 1
        else:
            response = self._writer.create_warc_record(
                url, "response", payload=BytesIO(body), length=len(body), http_headers=response_http,
                warc_headers_dict={"WARC-Date": warc_date, **extra})
            if dedup:
                self._seen[digest] = (url, warc_date, response.rec_headers.get_header("WARC-Record-ID"))
        request = self._writer.create_warc_record(
            url, "request", payload=BytesIO(request_body), length=len(request_body), http_headers=request_http,
            warc_headers_dict={"WARC-Date": warc_date, **extra})
        self._writer.write_request_response_pair(request, response)
        # Written out now, so that a write that fails (a full disk) does so here, and the file is cut back to the
        # records before it (abandon()).
        self._file.flush()
        self._complete = self._file.tell()
        self.records += 2
        if self._file.tell() >= self.max_size:
            self.close()
        return response.rec_type

    def close(self) -> None:
        """Finish the current file (the next exchange opens a new one)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None

    def abandon(self) -> None:
        """After a write that failed: close the current file and cut it back to its whole records (a file that
        got no whole warcinfo record is removed), so that every WARC file written reads to its end."""
        if self._file is None:
            return
        path, complete = self.files[-1], self._complete
        try:
            self._file.close()
        except OSError:
            pass  # what was still buffered is the broken record: cut off below
        self._file = None
        self._writer = None
        try:
            if complete == 0:
                path.unlink(missing_ok=True)
                self.files.pop()
            elif path.stat().st_size > complete:
                os.truncate(path, complete)
        except OSError as exc:
            logger.warning("could not cut %s back to its whole records: %s", path, exc)


class WarcMiddleware:
    """Downloader middleware (order 950): writes every exchange to WARC files in ``DZ_WARC_DIR``.

    Settings: ``DZ_WARC_DIR`` (unset: disabled), ``DZ_WARC_MAX_SIZE`` (bytes per file), ``DZ_COOKIES``
    (set: a logged-in crawl, cookie values are blanked), ``DZ_DB`` (the archive records which files
    its crawls wrote, for ``dzarchive wacz``).
    """

    def __init__(self, writer: WarcWriter, crawler=None):
        self.writer = writer
        self.crawler = crawler
        self.failed: BaseException | None = None  # a write that failed: the crawl is stopping, nothing more is written

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        directory = s.get("DZ_WARC_DIR")
        if not directory:
            raise NotConfigured  # without a message: Scrapy would warn "Disabled ..." of a component simply off
        from importlib.metadata import version

        import scrapy

        from .settings import VERSION

        info = {
            "software": f"dzarchive/{VERSION} (Scrapy/{scrapy.__version__}, warcio/{version('warcio')})",
            "format": "WARC File Format 1.1",
            "conformsTo": "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "http-header-user-agent": s.get("USER_AGENT"),
            "robots": "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore",
            "dzarchive-settings": json.dumps({name: s.get(name) for name in INFO_SETTINGS}, ensure_ascii=False,
                                             default=str),
        }
        db = s.get("DZ_DB")
        middleware = cls(None, crawler)
        writer = WarcWriter(directory, prefix="dzarchive", max_size=s.getint("DZ_WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
                            info=info, redact_cookies=bool(s.get("DZ_COOKIES") or s.get("DZ_LOGIN_USER")),
                            on_file=(lambda path: middleware._record_file(db, path)) if db else None)
        middleware.writer = writer
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider):
        start = getattr(spider, "start_url", None)
        if start:
            self.writer.info["isPartOf"] = start
            self.writer.prefix = re.sub(r"[^\w.-]+", "_", f"dzarchive-{urlsplit(start).hostname}")

    def _record_file(self, db: str, path: Path) -> None:
        from archive import Archive

        spider = getattr(self.crawler, "spider", None)
        archive = Archive(db)
        try:
            archive.record_warc_file(path, getattr(spider, "crawl_id", None))
        finally:
            archive.close()

    def process_response(self, request, response, spider=None):
        if request.meta.get("dz_secret"):  # the login form and its answer (scraper/login.py): never recorded
            return response
        if self.failed is not None:  # stopping: an answer that is not in the WARC is not archived either
            raise StoppedWriting("could not write the WARC file")
        try:
            self.writer.write_exchange(
                response.url, method=request.method.encode(), request_headers=list(_header_pairs(request.headers)),
                request_body=request.body or b"", status=response.status, reason=request.meta.get(REASON_META),
                protocol=request.meta.get(VERSION_META) or (response.protocol or "HTTP/1.1").encode(),
                response_headers=list(_header_pairs(response.headers)), body=response.body,
                resource_type=request.meta.get(REQUISITE_META))
        except Exception as exc:  # noqa: BLE001 - only a failed write is caught
            if not is_write_failure(exc):
                raise
            # A WARC that cannot be written loses the raw exchanges: the crawl stops, as for the archive itself
            # (the file, or the archive's note of it: warc_files).
            self.failed = exc
            what, where = (("the WARC file", self.writer.files[-1] if self.writer.files else self.writer.directory)
                           if isinstance(exc, OSError) else ("the archive", self.crawler.settings.get("DZ_DB")))
            self.writer.abandon()
            stop_crawl(self.crawler, what, where, exc)
            raise StoppedWriting(f"could not write {what}") from None
        return response

    def spider_closed(self, spider, reason):
        try:
            self.writer.close()
        except OSError as exc:  # its last records could not be written out: cut back to the whole ones
            self.writer.abandon()
            if self.failed is None:
                self.failed = exc
                stop_crawl(self.crawler, "the WARC file", self.writer.directory, exc)
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("dzarchive/warc_records", self.writer.records)
            self.crawler.stats.set_value("dzarchive/warc_revisits", self.writer.revisits)
        logger.info("WARC: %d records (%d revisits) in %s", self.writer.records, self.writer.revisits,
                    ", ".join(str(p) for p in self.writer.files))


REQUISITE_META = "dz_requisite"  # on a page requisite's request: its kind (scraper.parsers.requisites)
REQUISITE_TRIES_META = "dz_requisite_tries"
PRIORITY_REQUISITE = -20  # after the pages and their media: a stopped crawl has its pages first
PRIORITY_REQUISITE_OFFSITE = -30  # another host's (a CDN's): last
REQUISITE_TRIES = 3  # answers that say "try again" (5xx, 429, no answer) before a requisite is left out
_PAGE_TYPES = ("text/html", "application/xhtml")
# Counted in the crawl's stats.
STAT_REQUISITES = "dzarchive/requisites"  # requested (each URL once)
STAT_REQUISITE_RESPONSES = "dzarchive/requisite_responses"  # answers (of response_received_count: not pages)
STAT_REQUISITES_ROBOTS = "dzarchive/requisites_robots"  # left out: robots.txt disallows them
STAT_REQUISITES_FAILED = "dzarchive/requisites_failed"  # no usable answer after REQUISITE_TRIES


class PageRequisites:
    """``--warc``: requests for what archived pages need to be shown, each URL once per crawl.

    The spider hands it each archived page's response (:meth:`for_page`) and routes the requisites' answers and
    failures back (:meth:`parse`, :meth:`failed`); it yields only requests, never items, so nothing of a requisite
    is archived as a row or counted as a page error. A stylesheet's answer leads to its own ``@import`` s and
    ``url()`` images. Answers that say "try again" are asked again up to :data:`REQUISITE_TRIES` times here rather
    than by Scrapy's RetryMiddleware, whose give-up is logged as an error of the crawl.

    Settings: ``DZ_WARC_DIR`` (unset: disabled), ``DZ_WARC_REQUISITES`` (default on), ``RETRY_HTTP_CODES``.
    """

    def __init__(self, enabled: bool = False, *, retry_codes=(500, 502, 503, 504, 522, 524, 408, 429), crawler=None):
        self.enabled = enabled
        self.retry_codes = frozenset(int(code) for code in retry_codes)
        self.crawler = crawler  # for its stats, which exist once the crawl has started
        self.asked: set[str] = set()
        self._restored = False

    @classmethod
    def from_crawler(cls, crawler) -> "PageRequisites":
        s = crawler.settings
        enabled = bool(s.get("DZ_WARC_DIR")) and s.getbool("DZ_WARC_REQUISITES", True)
        return cls(enabled, retry_codes=s.getlist("RETRY_HTTP_CODES") or (), crawler=crawler)

    def for_page(self, response, spider, skip=()) -> list:
        """The requests for the requisites of the archived page ``response`` not asked yet (``skip``: URLs fetched
        otherwise, e.g. by ``--media``). None unless enabled, or when the answer is not an HTML page."""
        if not self.enabled:
            return []
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        if content_type and not content_type.lower().startswith(_PAGE_TYPES):
            return []
        from .parsers.requisites import page_requisites

        return self._requests(page_requisites(response.url, response.body, content_type), spider, skip)

    def parse(self, response, spider) -> list:
        """A requisite's answer (already in the WARC): asked again when it says "try again", a stylesheet's own
        requisites when it is one; nothing else."""
        self._count(STAT_REQUISITE_RESPONSES)
        if response.status in self.retry_codes:
            return self._again(response.request, spider)
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        is_css = content_type.startswith("text/css") or (
            not content_type and response.meta.get(REQUISITE_META) == "stylesheet")
        if not is_css or response.status != 200:
            return []
        from .parsers.requisites import css_requisites

        encoding = getattr(response, "encoding", None) or "utf-8"
        return self._requests(css_requisites(response.url, response.body.decode(encoding, "replace")), spider, ())

    def failed(self, failure, spider) -> list:
        """A requisite that got no answer: disallowed by robots.txt (left out), else asked again a few times."""
        from scrapy.exceptions import IgnoreRequest

        if failure.check(IgnoreRequest):
            if "robots.txt" in str(failure.value):
                self._count(STAT_REQUISITES_ROBOTS)
            return []  # robots.txt, or a crawl stopping at a barrier
        return self._again(failure.request, spider)

    def _again(self, request, spider) -> list:
        tries = request.meta.get(REQUISITE_TRIES_META, 1)
        if tries >= REQUISITE_TRIES:
            self._count(STAT_REQUISITES_FAILED)
            spider.logger.info("page requisite left out after %d tries: %s", tries, request.url)
            return []
        return [request.replace(dont_filter=True, meta=dict(request.meta, **{REQUISITE_TRIES_META: tries + 1}))]

    def _requests(self, found: list[tuple[str, str]], spider, skip) -> list:
        import scrapy

        self._restore(spider)
        own_domain = (getattr(spider, "allowed_domains", None) or [""])[0]
        out = []
        for url, kind in found:
            if url in self.asked or url in skip:
                continue
            self.asked.add(url)
            host = (urlsplit(url).hostname or "").lower()
            onsite = bool(own_domain) and (host == own_domain or host.endswith("." + own_domain))
            out.append(scrapy.Request(
                url, callback=spider.parse_requisite, errback=spider.requisite_failed, dont_filter=True,
                priority=PRIORITY_REQUISITE if onsite else PRIORITY_REQUISITE_OFFSITE,
                # allow_offsite: a CDN's files are the page's too. handle_httpstatus_all: a 404 is an answer to
                # record, not an error of the crawl.
                meta={REQUISITE_META: kind, "allow_offsite": True, "handle_httpstatus_all": True, "dont_retry": True}))
        self._count(STAT_REQUISITES, len(out))
        return out

    def _restore(self, spider) -> None:
        """Keep the URLs asked in Scrapy's job state, so a crawl continued after Ctrl-C asks none twice."""
        if not self._restored:
            self._restored = True
            state = getattr(spider, "state", None)
            if state is not None:
                self.asked = state.setdefault("requisites", self.asked)

    def _count(self, key: str, n: int = 1) -> None:
        stats = getattr(self.crawler, "stats", None) if self.crawler is not None else None
        if stats is not None and n:
            stats.inc_value(key, n)


def _header_pairs(headers):
    """Scrapy ``Headers`` as ``(name, value)`` byte pairs, one per value, repeated headers kept."""
    for name, values in headers.items():
        for value in values:
            yield name, value


def warc_settings(directory: str | Path, max_size: int | None = None) -> dict:
    """The Scrapy settings that turn WARC writing on (what ``dzarchive crawl --warc DIR`` sets)."""
    handler = "scraper.warc.ReasonPhraseDownloadHandler"
    settings = {"DZ_WARC_DIR": str(directory), "DOWNLOAD_HANDLERS": {"http": handler, "https": handler}}
    if max_size:
        settings["DZ_WARC_MAX_SIZE"] = max_size
    return settings


class _ReasonKeepingAgent(_ScrapyAgent):
    """Scrapy's HTTP/1.1 agent, which also notes the status line's reason phrase and protocol."""

    def _cb_bodyready(self, txresponse, request):
        request.meta[REASON_META] = txresponse.phrase
        version = txresponse.version
        request.meta[VERSION_META] = f"{version[0].decode()}/{version[1]}.{version[2]}".encode()
        return super()._cb_bodyready(txresponse, request)


class ReasonPhraseDownloadHandler(HTTP11DownloadHandler):
    """The HTTP/1.1 download handler with :class:`_ReasonKeepingAgent` (set for http and https with ``--warc``).

    Its ``download_request`` is Scrapy 2.19's with the agent swapped (the agent class is not a setting).
    """

    async def download_request(self, request):
        agent = _ReasonKeepingAgent(
            contextFactory=self._contextFactory, bindAddress=self._bind_address, pool=self._pool,
            maxsize=self._default_maxsize, warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss, crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging)
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            logger.warning(get_dataloss_msg(request.url))
            raise
