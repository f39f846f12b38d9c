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

A logged-in crawl (``DZ_COOKIES``) never writes its secrets: the values of ``Cookie`` and
``Set-Cookie`` are blanked in the records (names and cookie attributes stay).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
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
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
DEFAULT_MAX_SIZE = 1_000_000_000  # bytes per WARC file before the next one is started
REASON_META = "dz_http_reason"
VERSION_META = "dz_http_version"
# Settings recorded in each file's warcinfo: how the crawl behaved.
INFO_SETTINGS = ("DZ_TIMEZONE", "DZ_PROFILES", "DZ_FULL", "DZ_MEDIA", "DZ_MEDIA_OFFSITE", "ROBOTSTXT_OBEY",
                 "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "CONCURRENT_REQUESTS_PER_DOMAIN", "RETRY_TIMES")
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

    def _open(self) -> None:
        self.serial += 1
        path = self.directory / f"{self.prefix}-{self.stamp}-{self.serial:05d}.warc.gz"
        while path.exists():  # two crawls in one second
            self.serial += 1
            path = self.directory / f"{self.prefix}-{self.stamp}-{self.serial:05d}.warc.gz"
        self._file = open(path, "wb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version=WARC_VERSION)
        self._writer.write_record(self._writer.create_warcinfo_record(path.name, self.info))
        self.records += 1
        self.files.append(path)
        if self.on_file:
            self.on_file(path)

    def write_exchange(self, url: str, *, method: bytes, request_headers: list[tuple[bytes, bytes]],
                       request_body: bytes, status: int, reason: bytes | None, protocol: bytes,
                       response_headers: list[tuple[bytes, bytes]], body: bytes,
                       date: datetime | None = None) -> str:
        """Write one request and its response (or a revisit); returns the response record's WARC-Type."""
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
        earlier = self._seen.get(digest) if body else None
        if earlier is not None:
            response = self._writer.create_revisit_record(
                url, digest, earlier[0], earlier[1], http_headers=response_http,
                warc_headers_dict={"WARC-Date": warc_date, "WARC-Refers-To": earlier[2]})
            self.revisits += 1
        else:
            response = self._writer.create_warc_record(
                url, "response", payload=BytesIO(body), length=len(body), http_headers=response_http,
                warc_headers_dict={"WARC-Date": warc_date})
            if body:
                self._seen[digest] = (url, warc_date, response.rec_headers.get_header("WARC-Record-ID"))
        request = self._writer.create_warc_record(
            url, "request", payload=BytesIO(request_body), length=len(request_body), http_headers=request_http,
            warc_headers_dict={"WARC-Date": warc_date})
        self._writer.write_request_response_pair(request, response)
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


class WarcMiddleware:
    """Downloader middleware (order 950): writes every exchange to WARC files in ``DZ_WARC_DIR``.

    Settings: ``DZ_WARC_DIR`` (unset: disabled), ``DZ_WARC_MAX_SIZE`` (bytes per file), ``DZ_COOKIES``
    (set: a logged-in crawl, cookie values are blanked), ``DZ_DB`` (the archive records which files
    its crawls wrote, for ``dzarchive wacz``).
    """

    def __init__(self, writer: WarcWriter, crawler=None):
        self.writer = writer
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        directory = s.get("DZ_WARC_DIR")
        if not directory:
            raise NotConfigured("no DZ_WARC_DIR")
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
        self.writer.write_exchange(
            response.url, method=request.method.encode(), request_headers=list(_header_pairs(request.headers)),
            request_body=request.body or b"", status=response.status, reason=request.meta.get(REASON_META),
            protocol=request.meta.get(VERSION_META) or (response.protocol or "HTTP/1.1").encode(),
            response_headers=list(_header_pairs(response.headers)), body=response.body)
        return response

    def spider_closed(self, spider, reason):
        self.writer.close()
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("dzarchive/warc_records", self.writer.records)
            self.crawler.stats.set_value("dzarchive/warc_revisits", self.writer.revisits)
        logger.info("WARC: %d records (%d revisits) in %s", self.writer.records, self.writer.revisits,
                    ", ".join(str(p) for p in self.writer.files))


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
