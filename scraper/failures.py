"""Why a crawl failed, in one line and in the user's terms (no exception class names, no tracebacks).

The spider notes the first thing that went wrong with the start page, and the first with any other page, in the
crawl's stats (:data:`STAT_START_FAILURE`, :data:`STAT_FIRST_FAILURE`); the crawl's summary
(:meth:`scraper.crawl.CrawlResult.summary`) names it when the crawl failed:

    HTTP 404 at the start URL http://bbs.example.com/forum.php
    not a Discuz! site: http://example.com/ shows no Discuz markup
    connection refused: bbs.example.com:80
    the site says: 抱歉，指定的版块不存在 (http://bbs.example.com/forum.php?mod=forumdisplay&fid=999)

Importable without Scrapy running; the exceptions are told apart by their class names along the cause chain, as
Scrapy (2.13+) wraps Twisted's in its own (``DownloadConnectionRefusedError`` for ``ConnectionRefusedError``, ...).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from scraper.items import KIND_FORUMDISPLAY, KIND_SPECIAL, STATUS_UNKNOWN, ParsedPage

STAT_START_FAILURE = "dzarchive/start_failure"  # why the start page gave nothing to crawl from
STAT_FIRST_FAILURE = "dzarchive/first_failure"  # the first other page the crawl could not archive, and why

# Exception class names (along the cause chain) -> what happened, in words; {where} is host:port.
_NETWORK_WORDS = (
    (("DownloadConnectionRefusedError", "ConnectionRefusedError"), "connection refused: {where}"),
    (("CannotResolveHostError", "DNSLookupError"), "host not found: {host} (DNS lookup failed)"),
    (("DownloadTimeoutError", "TimeoutError", "TCPTimedOutError", "UserTimeout"),
     "timed out: {where} did not answer in time"),
    (("NoRouteError", "HostUnreachable"), "host unreachable: {where}"),
    (("ResponseDataLossError", "PotentialDataLoss"), "the answer from {where} was cut off"),
)
# Words in an exception's text that say the TLS handshake failed (OpenSSL.SSL.Error inside ResponseNeverReceived).
_TLS_WORDS = ("SSL", "TLS", "certificate", "handshake")
# OpenSSL's reason, the last of its ('lib', 'func', 'reason') tuples: "wrong version number", "certificate verify failed".
_TLS_REASON = re.compile(r"'([^'()\[\]]+)'\)\]")


def _where(url: str) -> tuple[str, str]:
    """``(host, host:port)`` of ``url``, the port the scheme's default when the URL gives none."""
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return host, f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (``raise ... from``), outermost first."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def network_failure(exc: BaseException, url: str) -> str:
    """What a request that got no answer met (``exc``: the download's exception), in one line: "connection
    refused: host:port", "host not found: host (DNS lookup failed)", "timed out: ...", "TLS handshake with
    host:port failed", "the connection to host:port closed before an answer", else "could not fetch URL: text"."""
    host, where = _where(url)
    chain = _chain(exc)
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    for classes, words in _NETWORK_WORDS:
        if names.intersection(classes):
            return words.format(host=host, where=where)
    text = " ".join(str(e) for e in chain)
    if any(word in text for word in _TLS_WORDS):
        reasons = _TLS_REASON.findall(text)
        return f"TLS handshake with {where} failed" + (f": {reasons[-1]}" if reasons else "")
    if names.intersection({"DownloadFailedError", "ResponseFailed", "ResponseNeverReceived", "ConnectionLost",
                           "ConnectionDone", "ConnectionClosed"}):
        return f"the connection to {where} closed before an answer"
    detail = str(exc).strip() or type(exc).__name__
    return f"could not fetch {url}: {detail}"


def http_failure(status: int, url: str, *, start: bool = False) -> str:
    """``HTTP 404 at the start URL URL`` (``start``) or ``HTTP 500 at URL``."""
    return f"HTTP {status} at {'the start URL ' if start else ''}{url}"


def page_failure(page: ParsedPage, url: str, http_status: int | None, *, start: bool = False) -> str | None:
    """Why a fetched page gives the crawl nothing, or ``None`` when it is a page of the forum to archive.

    The site's own message when Discuz showed one (a showmessage page, its error page: "the site says: ..."),
    else the HTTP status when it is an error (``HTTP 404 at the start URL ...``), else, for a page no reader
    recognised, that the page is no Discuz page (for the start page: "not a Discuz! site: URL shows no Discuz
    markup"). A start page no reader knows that links to forums (a portal, a theme's home page) is no failure.
    """
    error_status = http_status is not None and http_status >= 400
    if page.kind != KIND_SPECIAL:
        return http_failure(http_status, url, start=start) if error_status and not page.links else None
    if page.status != STATUS_UNKNOWN and page.message:
        return f"the site says: {page.message} ({url})"
    if error_status:
        return http_failure(http_status, url, start=start)
    if page.status != STATUS_UNKNOWN:
        return f"the site answered with its {page.status.replace('_', ' ')} page ({url})"
    if (page.message or "").startswith("parser error"):
        return f"{url} could not be read ({page.message})"
    if start:
        if any(link.kind == KIND_FORUMDISPLAY for link in page.links):
            return None  # a home page the readers do not know, linking to the forums: the crawl goes on from there
        return f"not a Discuz! site: {url} shows no Discuz markup"
    return f"{url} shows no Discuz markup the readers know"


def robots_failure(url: str, *, start: bool = False) -> str:
    """The site's robots.txt forbids ``url``."""
    host = urlsplit(url).netloc
    return f"robots.txt of {host} forbids {'the start URL ' if start else ''}{url}"


def crawl_failure(start: str | None, first: str | None, *, robots_forbidden: int = 0,
                  retrying: bool = False) -> str | None:
    """The one line that says why a failed crawl failed: what went wrong with the start page, else (the start page
    was read but nothing it led to could be) the first page that could not be archived; ``None`` when neither is
    known (the summary's other lines say it: a barrier, a closed site, a refused login). ``retrying``: a
    ``--retry-errors`` crawl, which has no start page, only the pages the last crawls could not archive."""
    if start:
        return start
    if first and retrying:
        return f"none of the pages to fetch again could be archived; the first: {first}"
    if first:
        return f"nothing past the start page could be archived; the first: {first}"
    if robots_forbidden:
        return f"robots.txt forbids every page the start page leads to ({robots_forbidden})"
    return None
