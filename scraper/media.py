"""``--media``: the images and attachments posts show, fetched as politely as the pages.

:class:`MediaFetcher` decides which media a parsed thread page leads to and reads their
responses into :class:`MediaItem` items (stored by :class:`pipelines.media.MediaPipeline`). The
spider calls it through a small hook (``SiteSpider.media``): requests go through the same
downloader as pages, so robots.txt (Scrapy's RobotsTxtMiddleware), the per-host concurrency and
the delay apply to them too, and with ``--warc`` they are recorded like every exchange.

What is fetched: every image and file attachment the parsers found in the posts (``zoomfile``/``file``
images, ``data/attachment/…``, ``forum.php?mod=attachment&aid=…``) on the forum's own host; smilies are
never among them. With ``--media-offsite`` also images hosted elsewhere. A URL the archive already
settled (stored, refused for login or permission, disallowed, gone, or failed three times) is never
asked again, and within a crawl each URL is asked once.
"""
from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.httperror import HttpError

from archive.state import ArchiveState

from .items import KIND_VIEWTHREAD, ParsedPage
from .parsers import parse_page

PRIORITY_MEDIA = -10  # after the pages: a stopped crawl has whole threads first
MEDIA_META = "dz_media"
# Statuses that are the answer, not a failure: they reach parse() instead of the errback.
ANSWER_STATUSES = [401, 403, 404, 410]
_HTTP_STATES = {401: "login_required", 403: "no_permission", 404: "not_found", 410: "not_found"}
# Discuz answers a guest's attachment request with a message page (HTTP 200): its state says why.
_PAGE_STATES = {"login_required", "no_permission", "not_found", "password", "paid"}
MAX_ATTEMPTS = 3


@dataclass
class MediaItem:
    """One media download attempt: the file's bytes when ``status == "ok"``, else why not."""

    url: str
    status: str  # ok | login_required | no_permission | not_found | robots | failed
    body: bytes | None = None
    content_type: str | None = None
    http_status: int | None = None
    message: str | None = None
    fetched_at: str | None = None
    extension: str | None = None  # what the stored file is named with (see file_extension), without the dot


_LOGIN_PAGE = "mod=logging"  # member.php?mod=logging&action=login: where Discuz sends guests
NAME_META = "dz_media_name"  # the attachment's name as the post shows it
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")
# A URL path ending in these names the program that serves the file, not the file (forum.php?mod=attachment).
_SCRIPT_EXTENSIONS = frozenset({"php", "asp", "aspx", "jsp", "cgi", "pl", "html", "htm", "shtml", "do", "action"})
_DISPOSITION_NAME = re.compile(r"""filename\*?\s*=\s*(?:[\w-]+'[\w-]*')?["']?([^"';]+)""", re.I)
# Content-Type -> extension where mimetypes' first guess is not the usual one (image/jpeg -> .jpe).
_TYPE_EXTENSIONS = {"image/jpeg": "jpg", "image/pjpeg": "jpg", "image/png": "png", "image/gif": "gif",
                    "image/webp": "webp", "image/bmp": "bmp", "image/svg+xml": "svg", "image/x-icon": "ico",
                    "application/pdf": "pdf", "application/zip": "zip", "application/x-rar-compressed": "rar",
                    "text/plain": "txt"}


def _extension_of(name: str | None, *, is_path: bool = False) -> str | None:
    match = _EXTENSION.search(unquote(name or "").strip())
    if match is None:
        return None
    extension = match.group(1).lower()
    return None if is_path and extension in _SCRIPT_EXTENSIONS else extension


def file_extension(urls: list[str], disposition: str | None, name: str | None, content_type: str | None) -> str | None:
    """The extension a media file is stored with, without the dot, or ``None``; the first of:

    1. the file name in the URL path (the final URL after redirects, then the one the post showed), unless it
       names a script (``forum.php``: Discuz's download links);
    2. the file name the server gives (``Content-Disposition: attachment; filename="laozaofang.jpg"``, which is
       what Discuz sends for ``forum.php?mod=attachment``);
    3. the attachment's name as the post shows it (``alt``, the link text);
    4. the ``Content-Type`` (``image/jpeg`` -> ``jpg``; Discuz's bare ``image`` says nothing).
    """
    for url in urls:
        extension = _extension_of(urlsplit(url).path, is_path=True)
        if extension:
            return extension
    match = _DISPOSITION_NAME.search(disposition or "")
    extension = _extension_of(match.group(1)) if match else None
    if extension or _extension_of(name):
        return extension or _extension_of(name)
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _TYPE_EXTENSIONS:
        return _TYPE_EXTENSIONS[media_type]
    guessed = mimetypes.guess_extension(media_type) if "/" in media_type else None
    return guessed.lstrip(".") if guessed and media_type != "application/octet-stream" else None


def _asked_url(request) -> str:
    """The URL the post showed, also after redirects (the attachments table links posts to it)."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class MediaFetcher:
    """Media requests for parsed pages, and media responses into :class:`MediaItem`.

    Settings: ``DZ_MEDIA`` (on/off), ``DZ_MEDIA_OFFSITE`` (also other hosts' images), ``DZ_DB``
    (which URLs the archive already settled).
    """

    def __init__(self, enabled: bool = False, *, offsite: bool = False, settled: set[str] | None = None):
        self.enabled = enabled
        self.offsite = offsite
        self.settled = settled or set()
        self.asked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler) -> "MediaFetcher":
        s = crawler.settings
        if not s.getbool("DZ_MEDIA"):
            return cls(False)
        state = ArchiveState(s.get("DZ_DB"))
        try:
            settled = state.settled_media(MAX_ATTEMPTS)
        finally:
            state.close()
        return cls(True, offsite=s.getbool("DZ_MEDIA_OFFSITE"), settled=settled)

    def requests(self, page: ParsedPage, spider) -> list[scrapy.Request]:
        """The media requests a parsed page leads to (none unless enabled, and only from thread pages)."""
        if not self.enabled or page.kind != KIND_VIEWTHREAD:
            return []
        own_host = urlsplit(spider.start_url).hostname
        out = []
        for attachment in page.attachments:
            url = attachment.url
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or url in self.settled or url in self.asked:
                continue
            offsite = parts.hostname != own_host
            if offsite and not (self.offsite and attachment.kind == "image"):
                continue
            self.asked.add(url)
            # dont_filter: asked once already (self.asked); a redirect to a URL also shown elsewhere must still land.
            out.append(scrapy.Request(
                url, callback=spider.parse_media, errback=spider.media_failed, priority=PRIORITY_MEDIA, dont_filter=True,
                # allow_offsite: Discuz may redirect an attachment to its remote attachment host.
                meta={MEDIA_META: True, "handle_httpstatus_list": ANSWER_STATUSES, "allow_offsite": True,
                      NAME_META: attachment.name}))
        return out

    def parse(self, response) -> MediaItem:
        """A media response: the file, or the state of the page Discuz sent instead."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        base = {"url": _asked_url(response.request), "http_status": response.status,
                "content_type": content_type, "fetched_at": _now()}
        if response.status in _HTTP_STATES:
            return MediaItem(status=_HTTP_STATES[response.status], message=f"HTTP {response.status}", **base)
        if (content_type or "").lower().startswith(("text/html", "application/xhtml")):
            page = parse_page(response.url, response.body, content_type=content_type, http_status=response.status,
                              date_header=response.headers.get("Date"))
            status = page.status if page.status in _PAGE_STATES else "failed"
            return MediaItem(status=status, message=page.message or "an HTML page instead of the file", **base)
        disposition = response.headers.get("Content-Disposition", b"").decode("utf-8", "replace") or None
        extension = file_extension([response.url, base["url"]], disposition, response.meta.get(NAME_META), content_type)
        return MediaItem(status="ok", body=response.body, extension=extension, **base)

    def failed(self, failure) -> MediaItem:
        """A media request that got no answer: disallowed by robots.txt, or a fetch or HTTP error."""
        request = failure.request
        url = _asked_url(request)
        if failure.check(HttpError):
            response = failure.value.response
            return MediaItem(url, "failed", http_status=response.status, message=f"HTTP {response.status}",
                             fetched_at=_now())
        if failure.check(IgnoreRequest):
            message = str(failure.value)
            if _LOGIN_PAGE in request.url:  # a guest sent on to the login form, which robots.txt disallows
                return MediaItem(url, "login_required", message=f"redirected to {request.url}", fetched_at=_now())
            if "robots.txt" in message:
                return MediaItem(url, "robots", message=message, fetched_at=_now())
        return MediaItem(url, "failed", message=f"{failure.type.__name__}: {failure.getErrorMessage()}",
                         fetched_at=_now())


class OffsiteRobotsMiddleware:
    """Downloader middleware (order 45, before OffsiteMiddleware at 50): lets robots.txt of other hosts be fetched.

    With ``--media-offsite`` an image on another host passes the offsite filter (``allow_offsite``), and
    so does a page requisite on a CDN with ``--warc`` (scraper/warc.py), but the robots.txt request
    RobotsTxtMiddleware makes for that host would not, and a robots.txt that cannot be fetched allows
    everything. Robots.txt requests are only ever made for hosts whose requests passed the filter, so
    they may pass too. Enabled by ``DZ_MEDIA_OFFSITE`` (with ``DZ_MEDIA``) or ``DZ_WARC_DIR``.
    """

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        offsite_media = s.getbool("DZ_MEDIA") and s.getbool("DZ_MEDIA_OFFSITE")
        requisites = bool(s.get("DZ_WARC_DIR")) and s.getbool("DZ_WARC_REQUISITES", True)
        if not (offsite_media or requisites):
            raise NotConfigured  # without a message: Scrapy would warn "Disabled ..." of a component simply off
        return cls()

    def process_request(self, request, spider=None):
        if request.meta.get("dont_obey_robotstxt") and urlsplit(request.url).path == "/robots.txt":
            request.meta["allow_offsite"] = True
        return None
