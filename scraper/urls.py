"""Discuz! URLs: what a URL points at, and one canonical spelling for each page.

Discuz serves the same page under many spellings: dynamic (``forum.php?mod=viewthread&tid=7&page=2``),
rewritten (``thread-7-2-1.html``, whose third number is only the forum list page to go back to),
7.x (``viewthread.php?tid=7&page=2``), and with ``extra=``/``fromuid=``/``highlight=`` noise.
``classify()`` reads them all; ``canonical()`` writes back one form so that a crawl fetches each
page once. Rewrite rules are an admin setting, so a site may spell its pages in a way none of the
default rules knows (``t-7-2.html``, ``/thread/7/2``, a member's space as ``u-5.html`` or ``/people/5/``):
:class:`SiteUrls` learns such a site's own patterns from pages whose ids their markup states, and reads
(or, where no link shows a page, writes) URLs in the site's spelling. Whatever the rules, a member's
uid is also stated by URLs no rule rewrites: the avatar (:func:`uid_from_avatar`) and the dynamic
links beside a post (:func:`member_uid_in_href`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from .digits import as_int
from .items import KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_VIEWTHREAD

# Query parameters Discuz ignores when rendering a page (navigation breadcrumbs, highlighting).
IGNORED_PARAMS = frozenset({"extra", "fromuid", "highlight", "from", "frommage"})
# Parameters that make a thread or list URL show something else than the page itself: one author's
# posts (只看该作者), another order, one post, a printable copy, a filtered or re-sorted list, a trade's goods
# page (do=tradeinfo: no floor of the thread, read as its own kind by the parsers).
VIEW_FILTER_PARAMS = frozenset({"authorid", "ordertype", "viewpid", "action", "filter", "orderby", "specialtype",
                                "typeid", "sortid", "dateline", "digest", "mobile", "archiver", "inajax", "do"})

_THREAD_STATIC = re.compile(r"(?:^|/)thread-(?P<tid>\d+)-(?P<page>\d+)-(?P<prev>\d+)\.html$")
_FORUM_STATIC = re.compile(r"(?:^|/)forum-(?P<fid>\w+)-(?P<page>\d+)\.html$")
_SPACE_STATIC = re.compile(r"(?:^|/)space-uid-(?P<uid>\d+)\.html$")
# ``uid=5``, ``space-uid-5.html``, 7.x ``space.php?uid=5``, and rewrite rules that keep the word (``/uid/5``).
_UID_IN_HREF = re.compile(r"(?:(?<![a-z])uid[=/_-]|space\.php\?uid=)(\d+)", re.IGNORECASE)
# Links that name a member whatever the rewrite rules (none of them is rewritten): the space and its
# sub-pages (``home.php?mod=space&uid=5&do=profile|thread``), 7.x ``space.php?uid=5``, 发消息 (``touid=5``),
# 关注 (``fuid=5``), 只看该作者 (``authorid=5``), 7.x 加为好友 (``newbuddyid=5``) and ``pm.php?action=new&uid=5``.
# (A uid is MySQL's unsigned int, at most 10 digits: a longer run is no uid.)
_MEMBER_ID_IN_HREF = re.compile(r"(?:[?&;](?:uid|touid|fuid|authorid|newbuddyid)=|space-uid-)(\d{1,10})(?!\d)",
                                re.IGNORECASE)
# Avatars: UCenter's ``avatar.php?uid=5&size=middle`` (X and 7.x), or the file itself,
# ``data/avatar/000/00/00/05_avatar_middle.jpg`` (``avatarmethod``: the uid as 9 digits, split 3/2/2/2).
_AVATAR_PHP_UID = re.compile(r"avatar\.php\?(?:[^#]*?&)?uid=(\d{1,10})(?!\d)", re.IGNORECASE)
_AVATAR_FILE_UID = re.compile(r"/(\d{3})/(\d{2})/(\d{2})/(\d{2})(?:_real)?_avatar_(?:big|middle|small)\.\w+",
                              re.IGNORECASE)
# Ids in links of either URL style (dynamic ``fid=2``, rewritten ``forum-2-1.html``, ``thread-7-1-1.html``).
FID_IN_HREF = re.compile(r"(?:[?&;]fid=|forum-)(\d+)")
TID_IN_HREF = re.compile(r"(?:[?&;]tid=|thread-)(\d+)")
GID_IN_HREF = re.compile(r"[?&;]gid=(\d+)")


@dataclass(frozen=True)
class Target:
    """What a URL asks Discuz for."""

    kind: str  # index | forumdisplay | viewthread | profile | other
    tid: int | None = None
    fid: int | None = None
    uid: int | None = None
    page: int = 1


# An absolute http(s) URL urlsplit() has nothing to check or clean in: a lower-case scheme, a host (and port) of
# ASCII letters, digits, dots, hyphens and colons, then a path, query and fragment without white space or controls.
# Its parts are where the first "/", "?" and "#" fall, as urlsplit() finds them (a query may hold "?", a fragment
# "?" and "#"); anything else (brackets, "@", a non-ASCII host, a tab to remove) goes the long way.
_SIMPLE_URL = re.compile(r"(https?)://([A-Za-z0-9.:-]+)(/[^?#\x00-\x20\x7f]*)?"
                         r"(?:\?([^#\x00-\x20\x7f]*))?(?:#([^\x00-\x20\x7f]*))?")


def split_url(url: str) -> SplitResult:
    """``urlsplit(url)``, read by one regular expression where the URL is a plain absolute http(s) one (a fifth of
    urlsplit's cost: every link a page shows is split, most of them only once)."""
    m = _SIMPLE_URL.fullmatch(url)
    if m is None:
        return urlsplit(url)
    scheme, netloc, path, query, fragment = m.groups()
    return SplitResult(scheme, netloc, path or "", query or "", fragment or "")


def _query(url: str) -> dict[str, str]:
    return _query_of(split_url(url).query)


def _query_of(query: str) -> dict[str, str]:
    """``{name.lower(): value}`` of ``parse_qsl(query, keep_blank_values=True)``."""
    return dict(_pairs(query, lower=True))


def _pairs(query: str, lower: bool = False) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)`` (names lower-cased if ``lower``). Without ``%`` or ``+``
    nothing is unquoted: the pairs are the pieces between ``&`` split at their first ``=``, empty pieces
    skipped, as parse_qsl splits them."""
    if "%" in query or "+" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        return [(k.lower(), v) for k, v in pairs] if lower else pairs
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((name.lower() if lower else name, value))
    return pairs


def _int(value: str | None) -> int | None:
    return as_int(value)  # a link in a post may say tid=² or a tid of 5000 digits: no id (scraper/digits.py)


_UNREAD = object()
# Targets without ids, made once (a Target is frozen).
_OTHER = Target("other")
_INDEX = Target(KIND_INDEX)

# Every page repeats the site's menus, pagers and profile links: each URL is read once (a few dozen MB at most).
URL_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=URL_CACHE_SIZE)
def classify(url: str) -> Target:
    """Read a Discuz URL (any style) into a :class:`Target`."""
    parts = split_url(url)
    path = parts.path
    name = path.rsplit("/", 1)[-1]
    q = _query_of(parts.query)
    page = _int(q.get("page")) or 1
    if ".html" in path:  # what each static spelling ends with
        m = _THREAD_STATIC.search(path)
        if m and _int(m.group("tid")) is not None:
            return Target(KIND_VIEWTHREAD, tid=_int(m.group("tid")), page=_int(m.group("page")) or 1)
        m = _FORUM_STATIC.search(path)
        if m:
            return Target(KIND_FORUMDISPLAY, fid=_int(m.group("fid")), page=_int(m.group("page")) or 1)
        m = _SPACE_STATIC.search(path)
        if m and _int(m.group("uid")) is not None:
            return Target(KIND_PROFILE, uid=_int(m.group("uid")))
    mod = q.get("mod", "")
    if VIEW_FILTER_PARAMS.intersection(q) and (mod in ("viewthread", "forumdisplay") or name in (
            "viewthread.php", "forumdisplay.php")):
        return _OTHER
    if name == "forum.php" or name == "":
        if mod == "viewthread" and _int(q.get("tid")):
            return Target(KIND_VIEWTHREAD, tid=_int(q.get("tid")), page=page)
        if mod == "forumdisplay" and _int(q.get("fid")):
            return Target(KIND_FORUMDISPLAY, fid=_int(q.get("fid")), page=page)
        if mod in ("", "index") and "gid" not in q:
            return _INDEX
    if name == "viewthread.php" and _int(q.get("tid")):
        return Target(KIND_VIEWTHREAD, tid=_int(q.get("tid")), page=page)
    if name == "forumdisplay.php" and _int(q.get("fid")):
        return Target(KIND_FORUMDISPLAY, fid=_int(q.get("fid")), page=page)
    if name in ("index.php",) and not q:
        return _INDEX
    if name == "home.php" and mod == "space" and _int(q.get("uid")) and q.get("do", "profile") == "profile":
        return Target(KIND_PROFILE, uid=_int(q.get("uid")))
    if name == "space.php" and _int(q.get("uid")):
        return Target(KIND_PROFILE, uid=_int(q.get("uid")))
    return _OTHER


@lru_cache(maxsize=URL_CACHE_SIZE)
def canonical(url: str) -> str:
    """One spelling per page: drop ignored parameters, fragments, ``page=1`` and sort the query.

    Rewritten thread URLs keep their style but lose the meaningless third number.
    """
    parts = split_url(url)
    m = _THREAD_STATIC.search(parts.path)
    path = parts.path
    if m:
        path = path[: m.start("prev")] + "1" + path[m.end("prev"):]
    pairs = [(k, v) for k, v in _pairs(parts.query) if k.lower() not in IGNORED_PARAMS]
    if any(k == "mod" and v in ("viewthread", "forumdisplay") for k, v in pairs) or path.endswith(
        ("viewthread.php", "forumdisplay.php")
    ):
        pairs = [(k, v) for k, v in pairs if not (k == "page" and v in ("1", ""))]
    pairs.sort()
    # urlencode quotes nothing in names and values of letters, digits and "_.-~" alone.
    query = "&".join([f"{k}={v}" for k, v in pairs]) if _PLAIN_QUERY.fullmatch(parts.query) else urlencode(pairs)
    scheme, netloc, path = parts.scheme.lower(), parts.netloc.lower(), path or "/"
    if scheme and netloc and path[0] == "/":  # what urlunsplit() writes for these parts
        return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"
    return urlunsplit((scheme, netloc, path, query, ""))


def join_url(base: str, href: str) -> str | None:
    """``urljoin(base, href)``, or ``None`` for a URL urllib cannot read (``http://[x``: "Invalid IPv6 URL"),
    as a member's link or a damaged page may hold: that link is no link, the rest of the page is read.

    A file name with a query (``forum.php?mod=viewthread&tid=7``: one path segment, not ``.`` nor ``..``, no
    scheme, fragment, parameters, white space or controls) joins to what ``urljoin`` makes of ``a?b`` on the
    same base with ``a?b`` replaced: urljoin's steps for it depend only on the base."""
    if not href:
        return base  # what urljoin gives for an empty href, before it reads either
    if _FILE_AND_QUERY.fullmatch(href):
        prefix = _join_prefix(base)
        if prefix is not None:
            return prefix + href
    try:
        return urljoin(base, href)
    except ValueError:
        return None


# One path segment (no scheme: no ":"; not "." nor ".."), then a query that is not empty (urljoin drops a lone "?").
_FILE_AND_QUERY = re.compile(r"(?!\.\.?(?:\?|$))[^\x00-\x20:/?#;\\\x7f]+(?:\?[^\x00-\x20#\x7f]+)?")
# A query whose names and values urlencode leaves as they are, with no "%" or "+" that parse_qsl would unquote.
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.~-]*(?:=[A-Za-z0-9_.~-]*)?(?:&[A-Za-z0-9_.~-]*(?:=[A-Za-z0-9_.~-]*)?)*")


@lru_cache(maxsize=1024)
def _join_prefix(base: str) -> str | None:
    """What ``urljoin(base, "a?b")`` puts before ``a?b`` (``None`` when it does not end so, or fails)."""
    try:
        joined = urljoin(base, "a?b")
    except ValueError:
        return None
    return joined[:-3] if joined.endswith("a?b") else None


def _local_part(url: str) -> str:
    """``url``'s path and query (``/bbs/t-7-2.html``, ``/forum.php?mod=viewthread&tid=7``), ``&amp;`` read as ``&``:
    what a site's learned patterns are made of and matched against (:class:`SiteUrls`)."""
    parts = split_url(url.replace("&amp;", "&"))
    return parts.path + ("?" + parts.query if parts.query else "")


def is_folder_url(url: str) -> bool:
    """Whether ``url`` names a folder without a query (``http://host/bbs/``): the index by default rules,
    or a page in a site's own rule that ends in a folder (``/people/5/``)."""
    parts = split_url(url)
    return parts.path.endswith("/") and not parts.query


def fid_in_href(href: str | None, resolve=None) -> int | None:
    """The fid a forum link leads to: from the default spellings, else from ``resolve(href)`` (a site's
    own rules, :meth:`SiteUrls.identify`, bound to the page's base URL), else ``None``."""
    if not href:
        return None
    m = FID_IN_HREF.search(href)
    if m:
        return _int(m.group(1))
    target = resolve(href) if resolve is not None else None
    return target.fid if target is not None and target.kind == KIND_FORUMDISPLAY else None


def uid_from_href(href: str | None) -> int | None:
    """The uid in a space/profile link (``home.php?mod=space&uid=5``, ``space-uid-5.html``, 7.x ``space.php?uid=5``)."""
    if not href:
        return None
    m = _UID_IN_HREF.search(href.replace("&amp;", "&"))
    return _int(m.group(1)) if m else None


def member_uid_in_href(href: str | None) -> int | None:
    """The member a link beside a post names, in spellings no rewrite rule changes: ``uid=5`` (space, its
    sub-pages, 7.x ``space.php``), ``touid=5``, ``fuid=5``, ``authorid=5``, ``newbuddyid=5``, ``space-uid-5``.
    ``None`` for other links and for uid 0 (a guest)."""
    if not href:
        return None
    m = _MEMBER_ID_IN_HREF.search(href.replace("&amp;", "&"))
    return (_int(m.group(1)) or None) if m else None


def uid_from_avatar(src: str | None) -> int | None:
    """The uid an avatar image's URL states (``uc_server/avatar.php?uid=5&size=middle``, 7.x alike, or
    ``data/avatar/000/00/00/05_avatar_middle.jpg``); ``None`` for other images and for uid 0."""
    if not src or "avatar" not in src.lower():
        return None
    m = _AVATAR_PHP_UID.search(src.replace("&amp;", "&"))
    if m:
        return _int(m.group(1)) or None
    m = _AVATAR_FILE_UID.search(src)
    return (int("".join(m.groups())) or None) if m else None


_DIGIT_RUN = re.compile(r"\d+")
# An id or page number in a learned pattern: an unsigned int of MySQL's, at most 10 digits (a longer run is no id).
_LEARNED_NUMBER = r"(?P<{}>\d{{1,10}})"
# A uid standing alone in a space URL (``u-5.html``, ``/people/5/``), not inside a name (``u-user5.html``, ``%E5``).
_LONE_NUMBER = "(?<![0-9A-Za-z%]){}(?![0-9A-Za-z])"


class SiteUrls:
    """One site's own URL spellings, learned from its pages.

    Discuz writes links through its rewrite rules (``rewriteoutput()``), which an admin may change
    (``forum-{fid}-{page}.html`` becomes ``f{fid}p{page}.html``, say), so no fixed pattern reads
    every site. A page's markup states what it is (the ``tid``/``fid`` script variables, the
    pager's current page), so a fetched page whose identity is known teaches the pattern behind
    its own URL: :meth:`learn` turns ``http://host/bbs/t-7-2.html`` for thread 7 page 2 into
    ``t-{id}-{page}.html``. :meth:`identify` then reads links no default rule knows, and
    :meth:`url_for` writes the URL of a page no link shows (resuming a thread at its last archived
    page), always in a spelling the site itself used for another page of the same kind.

    Only unambiguous examples teach: the id and the page number must each appear exactly once
    among the URL's numbers (page 1 of thread 1 teaches nothing). Other numbers stay literal
    (``thread-{id}-{page}-1.html`` keeps the list page it came from).

    A member's space is learned the same way from a post's author link, whose uid the post's avatar and
    other links state (``/bbs/people/5/`` becomes ``people/{id}/``): it has no page number, and only
    spellings no default rule reads teach.
    """

    def __init__(self):
        self._templates: dict[str, list[tuple[str, re.Pattern]]] = {}
        self._pages: dict[str, Target] = {}  # URL -> what it turned out to be, for pages fetched
        # URL -> what the learned patterns read in it (None: none), while no pattern is added: every page repeats
        # the site's menus and profile links, each read once. Emptied whole past URL_CACHE_SIZE entries.
        self._matched: dict[str, Target | None] = {}
        self._odd_pages = False  # see remember()

    # A SiteUrls from a job state written before _odd_pages was kept: every URL is looked up in _pages.
    _odd_pages = True

    def remember(self, url: str, target: Target) -> None:
        """``url`` was fetched and its page said what it is.

        :meth:`identify` looks a URL up here only when the default rules cannot tell what it is (``other``, or a
        folder). Two URLs of one :func:`canonical` spelling are read alike by :func:`classify` when their query
        names no parameter twice (canonical keeps every pair classify reads for a kind, in another order, and
        drops only what classify reads for no kind: the ignored parameters, ``page=1``, the static third number,
        the fragment, the case of the scheme and host). So while every page remembered is one the default rules
        read as a thread or list page, by a query that names no parameter twice, no URL the default rules cannot
        tell is one of them, and identify does not spell it canonically to look for it (most of a thread page's
        new URLs: replies, reports, redirects)."""
        self._pages[canonical(url)] = target
        if not self._odd_pages:
            names = [name for name, _ in _pairs(split_url(url).query, lower=True)]
            self._odd_pages = classify(url).kind in ("other", KIND_INDEX) or len(set(names)) < len(names)

    def learn(self, kind: str, ident: int | None, page: int | None, url: str) -> None:
        """Learn the pattern behind ``url``, the address of page ``page`` of ``kind`` ``ident`` (a member's
        space: ``kind`` profile, ``ident`` the uid, ``page`` not read)."""
        if kind == KIND_PROFILE:
            if not ident or classify(url).kind == KIND_PROFILE:
                return  # a default spelling: classify() reads it already
            page = None
        elif kind not in (KIND_VIEWTHREAD, KIND_FORUMDISPLAY) or not ident or not page or page < 2 or ident == page:
            return
        local = _local_part(url)
        runs = _DIGIT_RUN.findall(local)
        if runs.count(str(ident)) != 1 or (page is not None and runs.count(str(page)) != 1):
            return
        if kind == KIND_PROFILE and not re.search(_LONE_NUMBER.format(ident), local):
            return
        template, pattern, pos = [], [], 0
        for m in _DIGIT_RUN.finditer(local):
            literal = local[pos:m.start()]
            template.append(literal.replace("{", "{{").replace("}", "}}"))
            pattern.append(re.escape(literal))
            if m.group() == str(ident):
                template.append("{id}")
                pattern.append(_LEARNED_NUMBER.format("id"))
            elif page is not None and m.group() == str(page):
                template.append("{page}")
                pattern.append(_LEARNED_NUMBER.format("page"))
            else:
                template.append(m.group())
                pattern.append(r"\d+")
            pos = m.end()
        template.append(local[pos:].replace("{", "{{").replace("}", "}}"))
        pattern.append(re.escape(local[pos:]))
        text = "".join(template)
        known = self._templates.setdefault(kind, [])
        if all(t != text for t, _ in known):
            known.append((text, re.compile("^" + "".join(pattern) + "$")))
            self._matched.clear()

    def identify(self, url: str) -> Target:
        """What ``url`` leads to: a default Discuz spelling, else one of the site's learned patterns.

        A folder URL (``/bbs/``) reads as the index by default, but a learned pattern may end in a folder
        (``/bbs/people/5/``): there the pattern wins."""
        target = classify(url)
        if target.kind != "other" and not (target.kind == KIND_INDEX and is_folder_url(url)):
            return target
        known = self._pages.get(canonical(url)) if self._odd_pages else None  # (see remember())
        if known is not None or not self._templates:
            return known or target
        matched = self._matched.get(url, _UNREAD)
        if matched is _UNREAD:
            if len(self._matched) > URL_CACHE_SIZE:
                self._matched.clear()
            matched = self._matched[url] = self._match(url)
        return matched or target

    def _match(self, url: str) -> Target | None:
        """What the first learned pattern that reads ``url`` says it is, else ``None``."""
        local = _local_part(url)
        for kind, templates in self._templates.items():
            for _, pattern in templates:
                m = pattern.match(local)
                ident = _int(m.group("id")) if m else None
                if ident is not None:
                    if kind == KIND_PROFILE:
                        return Target(kind, uid=ident)
                    if kind == KIND_VIEWTHREAD:
                        return Target(kind, tid=ident, page=_int(m.group("page")) or 1)
                    return Target(kind, fid=ident, page=_int(m.group("page")) or 1)
        return None

    def urls_for(self, kind: str, ident: int, page: int, base: str) -> list[str]:
        """The URL of page ``page`` of ``kind`` ``ident`` in each spelling learned, first learned first (a
        member's space: ``page`` not read)."""
        return [urljoin(base, template.format(id=ident, page=page)) for template, _ in self._templates.get(kind, [])]

    def known(self, kind: str) -> list[str]:
        """The learned templates of ``kind`` (``t-{id}-{page}.html``, ``people/{id}/``), first learned first."""
        return [t for t, _ in self._templates.get(kind, [])]
