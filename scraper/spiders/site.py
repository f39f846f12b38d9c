"""The ``site`` spider: walks a Discuz! forum by the links its pages show, from any page of it.

It only decides what to fetch next. Every response goes through :func:`scraper.parsers.parse_page`;
the parsed page becomes the item, and the links it shows (``ParsedPage.links``) become the next
requests, spelled as the site spells them:

    index -> its forum links -> each list page's thread links and pager links -> each thread page's
    pager links (and a trade thread's goods pages) -> each poster's profile link

Nothing is requested that no page linked, with one exception, said where it happens: an
incremental re-crawl resumes a thread at its last archived page, which the list does not link. That
URL is the one the page was archived from last time (the site's own link), else one written in a
pattern the site's own links showed (:class:`scraper.urls.SiteUrls`).

A page is known by what it is (kind, id, page number), read from the markup around its link and
checked against the page itself when it arrives, not by its URL: one page is requested once
whichever spelling led to it (a rewritten list link, the dynamic in-thread pager, a redirect).
When robots.txt forbids the spelling a link used, another spelling seen for the same page is tried
before the page is counted as forbidden.

Priorities make a crawl finish the threads it has opened before it opens more list pages, so a
crawl that is stopped half-way has whole threads rather than many half threads.
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from archive.records import FetchError
from archive.state import ArchiveState
from pipelines.normalise import iso
from scraper.barriers import BARRIER_META, CLOSE_BARRIER, STAT_BARRIER, StoppedAtBarrier
from scraper.write_failures import StoppedWriting
from scraper.confirm import SoftErrorConfirmation
from scraper.failures import (STAT_FIRST_FAILURE, STAT_START_FAILURE, http_failure, network_failure, page_failure,
                              robots_failure)
from scraper.login import DiscuzLogin, LoginFailed
from scraper.media import MediaFetcher
from scraper.warc import PageRequisites
from scraper.items import (
    KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_SPECIAL, KIND_TRADEINFO, KIND_VIEWTHREAD, STATUS_ANTITHEFT,
    STATUS_BARRIER, STATUS_CLOSED_SITE, STATUS_FLOOD, STATUS_LOGIN_REQUIRED, Link,
    ParsedPage,
)
from scraper.parsers import parse_page, parse_tz
from scraper.parsers.extras import _readers as _thread_extras_readers
from scraper.urls import SiteUrls, Target, classify

# parse_page imports its thread-extras readers at the first thread page (about 20 ms, 5% of crawling capture A):
# imported with the spider instead, they are set-up (before the first request, and frozen out of the collector's
# walks with the rest of it by run_crawl), not the crawl's time.
_thread_extras_readers()

PRIORITY_INDEX = 0
PRIORITY_FORUM = 10
PRIORITY_PROFILE = 15
PRIORITY_THREAD = 20
PRIORITY_THREAD_PAGE = 30
RETRY_STATES = (STATUS_FLOOD, STATUS_ANTITHEFT)
# The request meta the spider sets itself (what a request fetched again carries over; Scrapy's own stays behind).
OWN_META = ("identity", "link", "onward", "listed", "start", "subforum", "dz_confirm", "dz_not_before", "dz_relogged")
RELOGGED = "dz_relogged"  # fetched again after logging in again: "login required" now is the truth
CLOSE_SITE_CLOSED = "closed_site"  # the close reason when the site says, and keeps saying, it is closed

Identity = tuple  # (kind, id, page): what a page is, whatever its URL


def site_domain(host: str) -> str:
    """The domain a crawl stays in: the host without ``www.``, so that ``www.`` and bare-host redirects
    and forums bound to a sub-domain of it (Discuz's 域名绑定) stay in the crawl."""
    host = (host or "").lower()
    return host[4:] if host.startswith("www.") else host


class SiteSpider(scrapy.Spider):
    """Archive a Discuz! site, one forum, or one thread, depending on what ``start_url`` shows.

    Arguments (``-a name=value``): ``start_url`` (required; any page of the site, in any spelling),
    ``profiles`` (``1``/``0``: fetch posters' profile pages; default from the ``DZ_PROFILES`` setting).
    """

    name = "site"

    def __init__(self, start_url: str | None = None, profiles: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not start_url:
            raise ValueError("the site spider needs a start URL: -a start_url=http://bbs.example.com/forum.php")
        if not urlsplit(start_url).scheme:
            start_url = "http://" + start_url
        self.start_url = start_url
        self.allowed_domains = [site_domain(urlsplit(start_url).hostname)]
        # What the crawl covers: the whole site, or one forum (and its sub-forums) or one thread, as the
        # start page turns out to be. Until it arrives, the URL's reading stands in.
        target = classify(start_url)
        self.scope = target.kind if target.kind in (KIND_FORUMDISPLAY, KIND_VIEWTHREAD) else KIND_INDEX
        self.scope_ids: set[int] = set(filter(None, [target.fid if self.scope == KIND_FORUMDISPLAY else target.tid]))
        self._profiles_arg = profiles
        self.crawl_id = None
        self.urls = SiteUrls()
        self.requested: dict[Identity, list[str]] = {}  # page -> the spellings requested for it, in order
        self.spellings: dict[Identity, list[str]] = {}  # page -> every spelling a page linked it by
        self.archived: set[Identity] = set()  # pages archived by this crawl
        self.robots_forbidden: set[Identity | str] = set()
        # Set from the crawler's settings in from_crawler(); these are the values without one. (A member's
        # cookies are not the spider's: they live in the cookie jar, scraper/cookies.py.)
        self.incremental = False
        self.fetch_profiles = True
        self.tz = parse_tz(None)
        self.archive_state = ArchiveState(None)
        self.media = MediaFetcher()  # --media: see scraper/media.py
        self.requisites = PageRequisites()  # --warc: what archived pages need to be shown, see scraper/warc.py
        self.confirmation = SoftErrorConfirmation()  # soft error pages: see scraper/confirm.py
        self.retry_errors = False  # --retry-errors: fetch only what the last crawls could not
        self.login = DiscuzLogin()  # --login USER: see scraper/login.py
        self._after_login: list[scrapy.Request] = []  # pages to fetch again once logged in again
        self.forums_shown: set[int] = set()  # forums readable pages of this crawl showed (the index, parents)
        # The charset this site's Discuz pages were read in: how a page that declares none usable is read.
        self.site_charset: str | None = None

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
        # The site's own spellings, as earlier crawls archived them: how resumed pages are spelled.
        for kind, ident, page, url in spider.archive_state.page_urls():
            spider.urls.learn(kind, ident, page, url)
        spider.media = MediaFetcher.from_crawler(crawler)
        spider.requisites = PageRequisites.from_crawler(crawler)
        spider.confirmation = SoftErrorConfirmation.from_crawler(crawler)
        spider.retry_errors = crawler.settings.getbool("DZ_RETRY_ERRORS", False)
        spider.login = DiscuzLogin.from_crawler(crawler)
        return spider

    def _restore(self) -> None:
        """Keep what this crawl requested, archived and learned in Scrapy's job state (``self.state``, saved
        in JOBDIR by the SpiderState extension), so that a crawl continued after Ctrl-C knows it too.

        Called when the first start request is taken, after SpiderState has loaded ``self.state`` (on
        spider_opened, whose handlers run in an order this spider does not control)."""
        state = getattr(self, "state", None)
        if state is None:  # no JOBDIR: nothing outlives this process
            return
        self.requested = state.setdefault("requested", self.requested)
        self.spellings = state.setdefault("spellings", self.spellings)
        self.archived = state.setdefault("archived", self.archived)
        self.robots_forbidden = state.setdefault("robots_forbidden", self.robots_forbidden)
        self.urls = state.setdefault("urls", self.urls)

    async def start(self):
        self._restore()
        if self.login.enabled:
            try:
                self.logger.info("logged in as %s: %s", self.login.user,
                                 await self.login.log_in(self.crawler.engine, self.start_url))
            except LoginFailed as exc:
                self.crawler.stats.set_value("dzarchive/login_error", str(exc))
                self.logger.error("%s", exc)
                return
        for request in self.start_requests():
            yield request

    def _log_in_again(self, request):
        """A logged-in crawl met "login required": the session expired. Log in again, then fetch the page again."""
        meta = {k: v for k, v in request.meta.items() if k in OWN_META}
        self._after_login.append(request.replace(dont_filter=True, meta=dict(meta, **{RELOGGED: True})))
        if len(self._after_login) == 1:
            yield self.login.form_request(self._logged_in_again)

    async def _logged_in_again(self, response):
        try:
            self.logger.info("session expired; logged in again as %s: %s", self.login.user,
                             await self.login.submit(self.crawler.engine, response))
        except LoginFailed as exc:
            self.logger.error("%s", exc)
        pending, self._after_login = self._after_login, []
        for request in pending:
            yield request

    def start_requests(self):
        if self.retry_errors:
            yield from self._failed_requests()
            return
        yield scrapy.Request(self.start_url, callback=self.parse, errback=self.on_error,
                             priority=PRIORITY_THREAD if self.scope == KIND_VIEWTHREAD else PRIORITY_INDEX,
                             meta={"start": True})
        if self.fetch_profiles and self.incremental:
            # Profiles a stopped crawl did not reach: later runs would otherwise never ask for them.
            for uid, url in self.archive_state.users_without_profile():
                request = self._request(Link(KIND_PROFILE, url, uid), PRIORITY_PROFILE)
                if request is not None:
                    yield request

    def _failed_requests(self):
        """--retry-errors: the pages the last crawls could not fetch or read, instead of the start page."""
        for url in self.archive_state.failed_urls():
            target = classify(url)
            ident = {KIND_VIEWTHREAD: target.tid, KIND_FORUMDISPLAY: target.fid, KIND_PROFILE: target.uid}.get(
                target.kind)
            link = Link(target.kind, url, ident, target.page or 1) if ident else Link(KIND_SPECIAL, url)
            # A thread page carries on to the pages after it only; the ones before were archived.
            request = self._request(link, PRIORITY_THREAD, onward=target.kind == KIND_VIEWTHREAD)
            if request is not None:
                yield request

    # -- responses --------------------------------------------------------------------------
    def parse(self, response, **kwargs):
        barrier = response.meta.get(BARRIER_META)
        if barrier is not None:  # a firewall's challenge, or a CC-defence check meant for a person
            self._stop_at_barrier(barrier.line(), response.url)
        page = parse_page(
            response.url, response.body,
            content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            http_status=response.status, date_header=response.headers.get("Date"),
            fetched_at=datetime.now(timezone.utc), tz=self.tz, identify=self.urls.identify,
            charset_hint=self.site_charset,
        )
        if page.kind != KIND_SPECIAL and page.charset:
            self.site_charset = page.charset
        if page.status == STATUS_BARRIER:
            self._stop_at_barrier(page.message, response.url)
        if page.status in RETRY_STATES:
            # Flood control or the anti-theft challenge: the page is fine, we were too fast.
            retry = get_retry_request(response.request, spider=self, reason=f"discuz {page.status}")
            if retry is not None:
                self._slow_down(response)
                yield retry
                return
        else:
            self._speed_up(response)
        wanted = response.meta.get("identity")
        if page.kind == KIND_SPECIAL and wanted:
            # An error page does not say which thread or forum it stands for; the link that led here did.
            kind, ident, number = wanted
            page.tid = page.tid or (ident if kind == KIND_VIEWTHREAD else None)
            page.fid = page.fid or (ident if kind == KIND_FORUMDISPLAY else None)
            page.page = page.page or number
        identity = self._identity(page) or wanted
        if page.status == STATUS_LOGIN_REQUIRED and self.login.enabled and not response.meta.get(RELOGGED) \
                and self.login.logins <= self.login.retries:
            yield from self._log_in_again(response.request)
            return
        if page.kind == KIND_SPECIAL and self.confirmation.contradicts(page.status, *self._known(page, response.meta)):
            # A soft error page about something the crawl or archive holds: believed only once confirmed.
            retry = self.confirmation.retry(response.request, page.status)
            if retry is not None:
                yield retry
                return
            if page.status == STATUS_CLOSED_SITE:
                page.raw_body = response.body
                yield page  # archived as the crawl's error; nothing it would mark is touched (archive/changes.py)
                raise CloseSpider(CLOSE_SITE_CLOSED)
        self._note_failure(page_failure(page, response.url, response.status, start=bool(response.meta.get("start"))),
                           response.meta)
        if response.meta.get("start"):
            self._set_scope(page)
        elif response.meta.get("subforum") and page.fid and self.scope == KIND_FORUMDISPLAY:
            self.scope_ids.add(page.fid)  # linked as a sub-forum in a spelling that did not say its fid
        self._learn(page, response.url)
        if identity is not None:
            if identity in self.archived:
                return  # another spelling of a page this crawl archived already (a redirect, say)
            self.archived.add(identity)
        self.forums_shown.update(forum.fid for forum in page.forums)
        page.raw_body = response.body
        page.listed = response.meta.get("listed")
        yield page
        yield from self.follow(page, response.meta)
        yield from self.media.requests(page, self)
        yield from self.requisites.for_page(response, self, skip=self.media.asked)

    # -- page requisites (--warc): scraper/warc.py's; recorded in the WARC, never parsed as pages -----------
    def parse_requisite(self, response):
        yield from self.requisites.parse(response, self)

    def requisite_failed(self, failure):
        yield from self.requisites.failed(failure, self)

    # -- media (--media): requests and responses are scraper/media.py's; these only route them there ----
    def parse_media(self, response):
        yield self.media.parse(response)

    def media_failed(self, failure):
        if not failure.check(StoppedAtBarrier, StoppedWriting):  # not sent: the crawl stopped (a barrier, a write)
            yield self.media.failed(failure)

    def _identity(self, page: ParsedPage) -> Identity | None:
        """What the page is, by its own markup."""
        if page.kind == KIND_VIEWTHREAD and page.tid:
            return (KIND_VIEWTHREAD, page.tid, page.page or 1)
        if page.kind == KIND_FORUMDISPLAY and page.fid:
            return (KIND_FORUMDISPLAY, page.fid, page.page or 1)
        if page.kind == KIND_PROFILE and page.uid and page.user_stats:
            return (KIND_PROFILE, page.uid, "figures")
        return None

    def _known(self, page: ParsedPage, meta: dict) -> tuple[bool, bool]:
        """What is known of the thread, forum or user a soft error page stands for: (shown by a readable page of
        this crawl, read: pages of it archived by this crawl or an earlier one)."""
        if meta.get("start") or (meta.get("identity") or (None,))[0] == KIND_PROFILE:
            return True, False  # the page the operator gave, or the profile of someone whose posts a page showed
        if page.tid:
            read = any(i[0] == KIND_VIEWTHREAD and i[1] == page.tid for i in self.archived) \
                or self.archive_state.thread(page.tid) is not None
            return bool(meta.get("listed")), read
        if page.fid:
            read = any(i[0] == KIND_FORUMDISPLAY and i[1] == page.fid for i in self.archived) \
                or self.archive_state.forum_walked(page.fid)
            return page.fid in self.forums_shown, read
        return False, False

    def _set_scope(self, page: ParsedPage) -> None:
        """The start page says what the crawl covers: the site, one forum (with its sub-forums) or one thread."""
        if page.kind == KIND_VIEWTHREAD and page.tid:
            self.scope, self.scope_ids = KIND_VIEWTHREAD, {page.tid}
        elif page.kind == KIND_FORUMDISPLAY and page.fid:
            self.scope, self.scope_ids = KIND_FORUMDISPLAY, {page.fid}
        elif page.kind != KIND_SPECIAL:
            self.scope, self.scope_ids = KIND_INDEX, set()

    def _learn(self, page: ParsedPage, url: str) -> None:
        """Learn the site's spellings from the page's own URL and from every link whose target it knows."""
        identity = self._identity(page)
        if identity is not None and identity[0] != KIND_PROFILE:
            self.urls.learn(identity[0], identity[1], identity[2], url)
            ident = {"tid" if identity[0] == KIND_VIEWTHREAD else "fid": identity[1]}
            self.urls.remember(url, Target(identity[0], page=identity[2], **ident))
        for link in page.links:
            if link.id is None:
                target = self.urls.identify(link.url)
                if target.kind == link.kind:
                    link.id, link.page = target.fid if link.kind == KIND_FORUMDISPLAY else target.tid, target.page
            if link.id is not None:
                self.urls.learn(link.kind, link.id, link.page, link.url)
                number = link.rank if link.kind == KIND_PROFILE else link.page
                spellings = self.spellings.setdefault((link.kind, link.id, number), [])
                if link.url not in spellings:
                    spellings.append(link.url)

    def _stop_at_barrier(self, line: str, url: str) -> None:
        """Stop the crawl at a barrier (scraper/barriers.py): the page is not archived, so it marks nothing gone and
        is no error of the forum's; the summary says which barrier it is and what to do (``dzarchive/barrier``)."""
        stats = getattr(getattr(self, "crawler", None), "stats", None)
        if stats is not None and not stats.get_value(STAT_BARRIER):  # else the middleware said it already
            stats.set_value(STAT_BARRIER, line)
            self.logger.info("stopped at %s: %s", url, line)
        raise CloseSpider(CLOSE_BARRIER)

    def _slow_down(self, response) -> None:
        """Double the delay of the site's download slot (at most a minute), as a server asking us to wait wants."""
        try:
            downloader = self.crawler.engine.downloader
        except (AttributeError, RuntimeError):  # not crawling (a test driving parse() by hand)
            return
        slot = downloader.slots.get(response.meta.get("download_slot"))
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, 1.0), 60.0)

    def _speed_up(self, response) -> None:
        """After a normal answer, halve a delay that flood pages raised, down to DOWNLOAD_DELAY again (or the
        delay the host's slot is set to, as the CC defence's one request a second is: scraper/barriers.py).

        AutoThrottle, when on, sets the delay itself from the server's latency; without it, a delay doubled once
        would otherwise stay doubled for the rest of the crawl.
        """
        settings = getattr(getattr(self, "crawler", None), "settings", None)
        if settings is None or settings.getbool("AUTOTHROTTLE_ENABLED"):
            return
        try:
            downloader = self.crawler.engine.downloader
            key = response.meta.get("download_slot")
            slot = downloader.slots.get(key)
        except (AttributeError, RuntimeError):
            return
        base = max(settings.getfloat("DOWNLOAD_DELAY"),
                   getattr(downloader, "per_slot_settings", {}).get(key, {}).get("delay", 0))
        if slot is not None and slot.delay > base:
            slot.delay = max(base, slot.delay / 2)

    # -- what to fetch next ------------------------------------------------------------------
    def follow(self, page: ParsedPage, response_meta: dict | None = None):
        """The requests a parsed page leads to, within the crawl's scope (and, incremental, what changed)."""
        response_meta = response_meta or {}
        links = _by_target(page.links)
        if page.kind == KIND_INDEX and self.scope == KIND_INDEX:
            figures = {f.fid: f for f in page.forums}
            for link in links.get(KIND_FORUMDISPLAY, ()):
                if link.page == 1 and not self._forum_unchanged(figures.get(link.id)):
                    yield from self._emit(link, PRIORITY_FORUM)
        elif page.kind == KIND_FORUMDISPLAY and self.scope != KIND_VIEWTHREAD:
            yield from self._follow_list(page, links)
        elif page.kind == KIND_VIEWTHREAD:
            yield from self._follow_thread(page, links, onward=response_meta.get("onward", False))
        elif page.kind == KIND_SPECIAL and response_meta.get("start") and self.scope == KIND_INDEX:
            # A start page no reader knows (a portal, a theme's home page): the forums it links to.
            for link in links.get(KIND_FORUMDISPLAY, ()):
                if link.page == 1:
                    yield from self._emit(link, PRIORITY_FORUM)
        elif page.kind == KIND_PROFILE and not page.user_stats and self.fetch_profiles:
            # A space front page that shows a feed: its profile link shows the figures.
            for link in links.get(KIND_PROFILE, ()):
                if link.id == page.uid and link.rank == 0:
                    yield from self._emit(link, PRIORITY_PROFILE)

    def _follow_list(self, page: ParsedPage, links: dict[str, list[Link]]):
        figures = {f.fid: f for f in page.forums}
        for link in links.get(KIND_FORUMDISPLAY, ()):
            if link.id is None:
                # A sub-forum row whose link no rule reads yet: its list page will say its fid.
                yield from self._emit(link, PRIORITY_FORUM, subforum=True)
                continue
            if link.id == page.fid or link.page != 1:
                continue
            forum = figures.get(link.id)
            sub = forum is not None and forum.parent_fid == page.fid and forum.type == "sub"
            # A forum crawl takes the forum's sub-forums; a site crawl takes every forum a page links
            # (sub-forums and forums the index does not list).
            if self.scope == KIND_FORUMDISPLAY and not sub:
                continue
            if sub and self.scope == KIND_FORUMDISPLAY:
                self.scope_ids.add(link.id)
            if not self._forum_unchanged(forum if sub else None):
                yield from self._emit(link, PRIORITY_FORUM)
        thread_links = {}
        for link in links.get(KIND_VIEWTHREAD, ()):
            thread_links.setdefault(link.id, {}).setdefault(link.page, link)
        changed = 0
        # One query for the whole list page, not one per row.
        archived = self.archive_state.threads(t.tid for t in page.threads) if self.incremental else {}
        for thread in page.threads:
            # A one-forum crawl skips global stickies from other forums; a site crawl takes all.
            if self.scope == KIND_FORUMDISPLAY and thread.fid not in self.scope_ids:
                continue
            shown = thread_links.get(thread.tid, {})
            # In the archive's own form (pipelines.normalise.iso), as the watermarks are stored.
            listed = {"replies": thread.replies, "last_post_at": iso(thread.last_post_at, self.tz)}
            known = archived.get(thread.tid)
            if known is not None and known.unchanged(**listed):
                continue
            if not thread.is_sticky:
                changed += 1
            if known is None or known.resume_page == 1:
                # The row's own link; a theme that shows none still has the site's pattern.
                link = shown.get(1) or self._derived(KIND_VIEWTHREAD, thread.tid, 1, None, page.url)
                onward = known is not None
            else:
                # Resuming at the last archived page: a link the list shows (multi-page rows link their
                # pages), else the URL it was archived from, else one in the site's own pattern.
                link = shown.get(known.resume_page) or self._derived(KIND_VIEWTHREAD, thread.tid, known.resume_page,
                                                                     known.resume_url, page.url)
                onward = True
                if link is None:  # no spelling of that page is known: walk from the first page
                    link, onward = shown.get(1), False
            if link is not None:
                yield from self._emit(link, PRIORITY_THREAD, onward=onward, listed=listed)
        yield from self._list_pages(page, links.get(KIND_FORUMDISPLAY, ()), changed)

    def _list_pages(self, page: ParsedPage, forum_links: list[Link], changed: int):
        """The forum's other list pages its pager links: all of them, or (incremental) the next one while
        pages still change.

        Discuz sorts lists by last post, so the first page holding only unchanged threads ends the
        walk. A forum the archive does not hold completely (a crawl was stopped in it) is walked in full.
        """
        pages = [link for link in forum_links if link.id == page.fid and link.page != page.page]
        if self.incremental and self.archive_state.forum_complete(page.fid):
            following = (page.page or 1) + 1
            pages = [link for link in pages if link.page == following] if changed else []
        for link in pages:
            yield from self._emit(link, PRIORITY_FORUM - link.page / 10000)

    def _follow_thread(self, page: ParsedPage, links: dict[str, list[Link]], *, onward: bool):
        # Bringing a known thread up to date needs only the pages after the one fetched.
        pages = [link for link in links.get(KIND_VIEWTHREAD, ()) if link.id == page.tid and link.page != page.page]
        if not any(link.page > (page.page or 1) for link in pages) and (page.pages or 1) > (page.page or 1):
            # The page counts more pages but its theme shows no link to them: the site's own pattern.
            pages += filter(None, (self._derived(KIND_VIEWTHREAD, page.tid, n, None, page.url)
                                   for n in range((page.page or 1) + 1, page.pages + 1)))
        for link in pages:
            if not onward or link.page > (page.page or 1):
                yield from self._emit(link, PRIORITY_THREAD_PAGE, onward=onward, listed=page.listed)
        # A trade thread's goods pages (do=tradeinfo: each goods post's details and text), with its pages.
        for link in links.get(KIND_TRADEINFO, ()):
            yield from self._emit(link, PRIORITY_THREAD_PAGE)
        if not self.fetch_profiles:
            return
        best: dict[int, Link] = {}
        for link in links.get(KIND_PROFILE, ()):
            if link.id is not None and (link.id not in best or link.rank < best[link.id].rank):
                best[link.id] = link
        for user in page.users:
            # A re-crawl sees known users' figures beside their posts; it needs only new users' profiles.
            link = best.get(user.uid)
            if link is not None and not (self.incremental and self.archive_state.has_profile(user.uid)):
                yield from self._emit(link, PRIORITY_PROFILE)

    def _derived(self, kind: str, ident: int, number: int, archived_url: str | None, base: str) -> Link | None:
        """A page no link on this page shows: its archived URL, else the site's own pattern (SiteUrls)."""
        spellings = ([archived_url] if archived_url else []) + self.spellings.get((kind, ident, number), [])
        spellings += self.urls.urls_for(kind, ident, number, base)
        return Link(kind, spellings[0], ident, number) if spellings else None

    def _forum_unchanged(self, forum) -> bool:
        """Incremental: the index's thread/post counts and last post for the forum match the archive."""
        return forum is not None and self.incremental and self.archive_state.forum_unchanged(
            forum.fid, forum.threads, forum.posts, iso(forum.last_post_at, self.tz))

    def _emit(self, link: Link, priority: float, **meta):
        request = self._request(link, priority, **meta)
        if request is not None:
            stats = getattr(getattr(self, "crawler", None), "stats", None)
            if stats is not None:
                stats.inc_value("dzarchive/links_followed")
            yield request

    def _request(self, link: Link, priority: float, *, onward: bool = False, listed: dict | None = None,
                 url: str | None = None, subforum: bool = False) -> scrapy.Request | None:
        """A request for the page ``link`` leads to, or ``None`` when this crawl requested that page already."""
        # A profile's two spellings are two pages (the space's front page may show a feed, not figures).
        number = link.rank if link.kind == KIND_PROFILE else link.page
        identity = (link.kind, link.id, number) if link.id is not None else None
        key = identity or link.url
        if key in self.requested and url is None:
            return None
        self.requested.setdefault(key, []).append(url or link.url)
        meta = {"identity": identity, "link": link}
        if onward:
            meta["onward"] = True
        if listed:
            meta["listed"] = listed
        if subforum:
            meta["subforum"] = True
        return scrapy.Request(url or link.url, callback=self.parse, errback=self.on_error, priority=int(priority),
                              meta=meta)

    def on_error(self, failure):
        """A request that produced no page: try another spelling if robots.txt forbade this one, else record it."""
        request = failure.request
        if failure.check(StoppedAtBarrier, StoppedWriting):  # or a write that failed: the crawl is stopping
            return  # not sent: the crawl stopped at a barrier, and the page is no error of the forum's
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            retry = self._other_spelling(request)
            if retry is not None:
                yield retry
                return
            self.robots_forbidden.add(request.meta.get("identity") or request.url)
            self.crawler.stats.set_value("dzarchive/robots_forbidden", len(self.robots_forbidden))
            self._note_failure(robots_failure(request.url, start=bool(request.meta.get("start"))), request.meta)
            return
        start = bool(request.meta.get("start"))
        if failure.check(HttpError):
            response = failure.value.response
            self._note_failure(http_failure(response.status, request.url, start=start), request.meta)
            yield FetchError(request.url, "http", f"HTTP {response.status}")
            return
        self._note_failure(network_failure(failure.value, request.url), request.meta)
        if failure.check(DNSLookupError, TimeoutError, TCPTimedOutError):
            yield FetchError(request.url, "fetch", f"{type(failure.value).__name__}: {failure.value}")
        else:
            yield FetchError(request.url, "fetch", f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def _note_failure(self, line: str | None, meta: dict) -> None:
        """Keep why the start page, or else the first other page, gave the crawl nothing (scraper/failures.py): the
        summary of a failed crawl names it."""
        stats = getattr(getattr(self, "crawler", None), "stats", None)
        if line is None or stats is None:
            return
        key = STAT_START_FAILURE if meta.get("start") else STAT_FIRST_FAILURE
        if not stats.get_value(key):
            stats.set_value(key, line)

    def _other_spelling(self, request) -> scrapy.Request | None:
        identity, link = request.meta.get("identity"), request.meta.get("link")
        if identity is None or link is None:
            return None
        tried = self.requested.get(identity, [])
        candidates = self.spellings.get(identity, []) + self.urls.urls_for(identity[0], identity[1], identity[2],
                                                                          request.url)
        if identity[0] == KIND_PROFILE:
            # A profile's other spelling is the space's front page, which most sites show the figures on too.
            candidates += [url for key, urls in self.spellings.items() if key[:2] == identity[:2] for url in urls]
        fresh = next((url for url in candidates if url not in tried), None)
        if fresh is None:
            return None
        return self._request(link, request.priority, onward=request.meta.get("onward", False),
                             listed=request.meta.get("listed"), url=fresh)


def _by_target(links: list[Link]) -> dict[str, list[Link]]:
    """Links by kind, the better spelling (lower rank) of each page first."""
    out: dict[str, list[Link]] = {}
    for link in sorted(links, key=lambda link: link.rank):
        out.setdefault(link.kind, []).append(link)
    return out
