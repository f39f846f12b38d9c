"""The crawl's cookies: one jar, filled from ``--cookies`` (and ``--login``), never carried by requests.

Scrapy's own :class:`~scrapy.downloadermiddlewares.cookies.CookiesMiddleware` keeps the cookies the site sets; two
things about it are wrong for an archiver, and this subclass fixes them:

- cookies given as ``Request(cookies=...)`` travel with every request, so Scrapy's disk queue (``JOBDIR``,
  ``ARCHIVE.jobdir/requests.queue/``) pickles a member's session into files that stay beside the archive. Here
  the member's cookies are put straight into the jar when the crawl opens: requests carry none, and nothing
  secret reaches job state.
- to decide whether a cookie's domain is a public suffix it asks ``tldextract``, which downloads the Public
  Suffix List on first use (a connection to hosts that are not the forum; a traceback offline). Here
  ``tldextract`` reads the snapshot bundled with it and fetches nothing.
"""
from __future__ import annotations

from http.cookiejar import Cookie, LoadError, MozillaCookieJar

from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.utils.httpobj import urlparse_cached
from tldextract import TLDExtract

# The Public Suffix List as bundled with tldextract: no download, no cache directory.
_OFFLINE_SUFFIXES = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


class CookiesFileError(ValueError):
    """A ``--cookies`` file that cannot be read as a Netscape ``cookies.txt``."""


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is a public suffix (``com``, ``com.cn``, ``github.io``), by the bundled list."""
    return not _OFFLINE_SUFFIXES(domain).domain


def read_cookies_file(path: str, host: str) -> list[Cookie]:
    """The cookies a Netscape ``cookies.txt`` holds for ``host``; raises :class:`CookiesFileError` for a bad file."""
    jar = MozillaCookieJar(path)
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (LoadError, OSError, UnicodeDecodeError) as exc:
        raise CookiesFileError(f"{path} is not a cookies.txt in Netscape format ({_first_line(exc)}): export the"
                               " browser's cookies with a 'cookies.txt' extension") from None
    host = (host or "").lower()
    for cookie in jar:
        if not cookie.expires:  # a session cookie (browsers export it with expiry 0): for the whole crawl
            cookie.expires, cookie.discard = None, False
    return [c for c in jar if host == c.domain.lstrip(".").lower() or host.endswith("." + c.domain.lstrip(".").lower())]


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class ArchiveCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie middleware with the member's cookies in its jar and no Public Suffix List download.

    Settings: ``DZ_COOKIES`` (a Netscape ``cookies.txt``); the spider's ``start_url`` says whose cookies to take.
    """

    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        middleware.cookies_file = crawler.settings.get("DZ_COOKIES")
        from scrapy import signals

        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        start_url = getattr(spider, "start_url", None)
        if self.cookies_file and start_url:
            from urllib.parse import urlsplit

            self.add_cookies(read_cookies_file(self.cookies_file, urlsplit(start_url).hostname or ""))

    def add_cookies(self, cookies, jar_key=None) -> None:
        """Put ``cookies`` (``http.cookiejar.Cookie`` objects) into the crawl's jar."""
        jar = self.jars[jar_key]
        for cookie in cookies:
            jar.jar.set_cookie(cookie)

    def _process_cookies(self, cookies, *, jar, request) -> None:
        # As Scrapy's, with the public-suffix check made offline.
        for cookie in cookies:
            cookie_domain = cookie.domain.removeprefix(".")
            hostname = urlparse_cached(request).hostname
            if hostname is None:
                continue
            if cookie_domain and is_public_suffix(cookie_domain):
                if cookie_domain != hostname.lower():
                    continue
                cookie.domain = hostname.lower()
            jar.set_cookie_if_ok(cookie, request)
