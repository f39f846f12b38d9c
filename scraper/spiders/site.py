"""The ``site`` spider: walks a Discuz! forum from an index, forum list or thread URL.

It only decides what to fetch next. Every response goes through :func:`scraper.parsers.parse_page`;
the parsed page becomes the item, and its forums, threads, page counts and posters become the
next requests:

    index -> every forum and sub-forum -> every list page -> every thread -> every thread page
                                                                          -> each poster's profile

Priorities make a crawl finish the threads it has opened before it opens more list pages, so a
crawl that is stopped half-way has whole threads rather than many half threads.
"""
from __future__ import annotations

from datetime import datetime, timezone
from http.cookiejar import MozillaCookieJar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from pipelines.normalise import iso
from archive.records import FetchError
from scraper.media import MediaFetcher
from scraper.items import (
    KIND_FORUMDISPLAY, KIND_INDEX, KIND_VIEWTHREAD, STATUS_ANTITHEFT, STATUS_FLOOD, ParsedPage,
)
from scraper.parsers import parse_page, parse_tz
from archive.state import ArchiveState
from scraper.urls import classify, forum_url, profile_url, site_root, thread_url

PRIORITY_INDEX = 0
PRIORITY_FORUM = 10
PRIORITY_PROFILE = 15
PRIORITY_THREAD = 20
PRIORITY_THREAD_PAGE = 30
RETRY_STATES = (STATUS_FLOOD, STATUS_ANTITHEFT)


def load_cookies(path: str | None, host: str) -> dict[str, str]:
    """The cookies a Netscape ``cookies.txt`` holds for ``host`` (a browser export of a logged-in session)."""
    if not path:
        return {}
    jar = MozillaCookieJar(path)
    jar.load(ignore_discard=True, ignore_expires=True)
    return {c.name: c.value for c in jar if host == c.domain.lstrip(".") or host.endswith("." + c.domain.lstrip("."))}


class SiteSpider(scrapy.Spider):
    """Archive a Discuz! site, one forum, or one thread, depending on ``start_url``.

    Arguments (``-a name=value``): ``start_url`` (required), ``profiles`` (``1``/``0``: fetch
    posters' profile pages; default from the ``DZ_PROFILES`` setting).
    """

    name = "site"

    def __init__(self, start_url: str | None = None, profiles: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not start_url:
            raise ValueError("the site spider needs a start URL: -a start_url=http://bbs.example.com/forum.php")
        if not urlsplit(start_url).scheme:
            start_url = "http://" + start_url
        self.start_url = start_url
        self.root = site_root(start_url)
        self.allowed_domains = [urlsplit(start_url).hostname]
        self.scope = classify(start_url).kind  # index / forumdisplay / viewthread (other -> index)
        self._profiles_arg = profiles
        self.crawl_id = None
        # Set from the crawler's settings in from_crawler(); these are the values without one.
        self.cookies: dict[str, str] = {}
        self.incremental = False
        self.fetch_profiles = True
        self.tz = parse_tz(None)
        self.archive_state = ArchiveState(None)
        self.media = MediaFetcher()  # --media: see scraper/media.py

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.tz = parse_tz(crawler.settings.get("DZ_TIMEZONE"))
        arg = spider._profiles_arg
        spider.fetch_profiles = crawler.settings.getbool("DZ_PROFILES", True) if arg is None else arg not in (
            "0", "false", "no", "")
        # Incremental unless told otherwise or the archive is new: only what changed is fetched.
        spider.archive_state = ArchiveState(crawler.settings.get("DZ_DB"))
        spider.incremental = not crawler.settings.getbool("DZ_FULL", False) and not spider.archive_state.empty
        crawler.signals.connect(spider.archive_state.close, signal=signals.spider_closed)
        spider.cookies = load_cookies(crawler.settings.get("DZ_COOKIES"), spider.allowed_domains[0])
        spider.media = MediaFetcher.from_crawler(crawler)
        return spider

    async def start(self):
        for request in self.start_requests():
            yield request

    def start_requests(self):
        yield scrapy.Request(self.start_url, callback=self.parse, errback=self.on_error, cookies=self.cookies,
                             priority=PRIORITY_THREAD if self.scope == KIND_VIEWTHREAD else PRIORITY_INDEX)
        if self.fetch_profiles and self.incremental and not self.archive_state.legacy_site():
            # Profiles a stopped crawl did not reach: later runs would otherwise never ask for them.
            for uid in self.archive_state.users_without_profile():
                yield self._request(profile_url(self.root, uid), PRIORITY_PROFILE)

    # -- responses --------------------------------------------------------------------------
    def parse(self, response, **kwargs):
        page = parse_page(
            response.url, response.body,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            http_status=response.status, date_header=response.headers.get("Date"),
            fetched_at=datetime.now(timezone.utc), tz=self.tz,
        )
        if page.status in RETRY_STATES:
            # Flood control or the anti-theft challenge: the page is fine, we were too fast.
            retry = get_retry_request(response.request, spider=self, reason=f"discuz {page.status}")
            if retry is not None:
                self._slow_down(response)
                yield retry
                return
        page.raw_body = response.body
        page.listed = response.meta.get("listed")
        yield page
        yield from self.follow(page, response.meta)
        yield from self.media.requests(page, self)

    # -- media (--media): requests and responses are scraper/media.py's; these only route them there ----
    def parse_media(self, response):
        yield self.media.parse(response)

    def media_failed(self, failure):
        yield self.media.failed(failure)

    def _slow_down(self, response) -> None:
        """Double the delay of the site's download slot (at most a minute), as a server asking us to wait wants."""
        try:
            downloader = self.crawler.engine.downloader
        except (AttributeError, RuntimeError):  # not crawling (a test driving parse() by hand)
            return
        slot = downloader.slots.get(response.meta.get("download_slot"))
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, 1.0), 60.0)

    def follow(self, page: ParsedPage, response_meta: dict | None = None):
        """The requests a parsed page leads to, within the crawl's scope (and, incremental, what changed)."""
        response_meta = response_meta or {}
        legacy = bool(page.version and page.version[:1].isdigit())
        if page.kind == KIND_INDEX and self.scope not in (KIND_FORUMDISPLAY, KIND_VIEWTHREAD):
            for forum in page.forums:
                if forum.type != "group" and not self._forum_unchanged(forum):
                    yield self._request(forum_url(self.root, forum.fid, legacy=legacy), PRIORITY_FORUM)
        elif page.kind == KIND_FORUMDISPLAY and self.scope != KIND_VIEWTHREAD:
            for forum in page.forums:
                if forum.parent_fid == page.fid and forum.type == "sub" and not self._forum_unchanged(forum):
                    yield self._request(forum_url(self.root, forum.fid, legacy=legacy), PRIORITY_FORUM)
            changed = 0
            for thread in page.threads:
                # A one-forum crawl skips global stickies from other forums; a site crawl takes all.
                if thread.fid != page.fid and self.scope == KIND_FORUMDISPLAY:
                    continue
                # In the archive's own form (pipelines.normalise.iso), as the watermarks are stored.
                listed = {"replies": thread.replies, "last_post_at": iso(thread.last_post_at, self.tz)}
                known = self.archive_state.thread(thread.tid) if self.incremental else None
                if known is not None and known.unchanged(**listed):
                    continue
                if not thread.is_sticky:
                    changed += 1
                start = known.resume_page if known else 1
                yield self._request(thread_url(self.root, thread.tid, start, legacy=legacy), PRIORITY_THREAD,
                                    onward=known is not None, listed=listed)
            yield from self._list_pages(page, changed, legacy)
        elif page.kind == KIND_VIEWTHREAD:
            # Bringing a known thread up to date needs only the pages after the one fetched.
            onward = response_meta.get("onward", False)
            for n in range(page.page + 1 if onward else 1, (page.pages or 1) + 1):
                if n != page.page:
                    yield self._request(thread_url(self.root, page.tid, n, legacy=legacy), PRIORITY_THREAD_PAGE,
                                        listed=page.listed)
            # 7.x profile pages (space.php) are not parsed: their figures come with the posts.
            if self.fetch_profiles and not legacy:
                for user in page.users:
                    # A re-crawl sees known users' figures beside their posts; it needs only new users' profiles.
                    if not (self.incremental and self.archive_state.has_profile(user.uid)):
                        yield self._request(profile_url(self.root, user.uid, legacy=legacy), PRIORITY_PROFILE)

    def _forum_unchanged(self, forum) -> bool:
        """Incremental: the index's thread/post counts and last post for the forum match the archive."""
        return self.incremental and self.archive_state.forum_unchanged(
            forum.fid, forum.threads, forum.posts, iso(forum.last_post_at, self.tz))

    def _list_pages(self, page: ParsedPage, changed: int, legacy: bool):
        """The forum's other list pages: all of them, or (incremental) the next one while pages still change.

        Discuz sorts lists by last post, so the first page holding only unchanged threads ends the
        walk. A forum the archive does not hold completely (a crawl was stopped in it) is walked
        in full.
        """
        last = page.pages or 1
        if not self.incremental or not self.archive_state.forum_complete(page.fid):
            pages = [n for n in range(1, last + 1) if n != page.page]
        else:
            pages = [page.page + 1] if changed and page.page < last else []
        for n in pages:
            yield self._request(forum_url(self.root, page.fid, n, legacy=legacy), PRIORITY_FORUM - n / 10000)

    def _request(self, url: str, priority: float, *, onward: bool = False, listed: dict | None = None
                 ) -> scrapy.Request:
        meta = {}
        if onward:
            meta["onward"] = True
        if listed:
            meta["listed"] = listed
        return scrapy.Request(url, callback=self.parse, errback=self.on_error, priority=int(priority), meta=meta,
                              cookies=self.cookies)

    def on_error(self, failure):
        """A request that produced no page: record it, so the crawl summary and ``errors`` table show it."""
        request = failure.request
        if failure.check(HttpError):
            response = failure.value.response
            yield FetchError(request.url, "http", f"HTTP {response.status}")
        elif failure.check(DNSLookupError, TimeoutError, TCPTimedOutError):
            yield FetchError(request.url, "fetch", f"{type(failure.value).__name__}: {failure.value}")
        else:
            yield FetchError(request.url, "fetch", f"{failure.type.__name__}: {failure.getErrorMessage()}")
