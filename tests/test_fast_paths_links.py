"""``page_links``' shortcuts (issue 22) list exactly the links the long way lists.

- What an href is by the default rules is read once per (base, href) (``links._read_facts``), ``identify`` asked only
  about links the page could still list; the pagers' links without an XPath per link; the authors' areas from one
  ``id()`` look-up and only the links a site's rules could make a space link read for a name or an avatar.
- ``scraper.urls``: ``join_url`` of a file name with a query, ``classify`` and ``canonical`` of queries without
  ``%``/``+`` without urllib's quoting round trip.

``_reference_page_links`` below is ``page_links`` as it was before these shortcuts (its XPaths and helpers are kept
in ``links`` as the definitions); the new one must give the same links, in the same order, on the captures' pages
and on odd markup, with and without a site's rules.
"""
from __future__ import annotations

import random
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from lxml import etree
from parsel import Selector

from scraper import urls
from scraper.digits import as_int
from scraper.items import (KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_TRADEINFO, KIND_VIEWTHREAD, Link,
                           ParsedPage, Post, Trade)
from scraper.parsers import links, parse_page
from scraper.parsers.common import read_document
from scraper.urls import SiteUrls, Target, classify, is_folder_url, join_url

from .conftest import FIXTURES, captured_pages, requires_fixtures

# The reference page_links below reads a link's text as the old code did: an XPath string() call.
_STRING = etree.XPath("string()")

CAPTURES = ("discuz-x34-utf8-a", "discuz-x35-utf8-g", "discuz-70-utf8-k", "discuz-x34-utf8-a-member")


def _reference_join(base: str, href: str) -> str | None:
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def _reference_pager_links(root, current: int) -> list[tuple[str, int]]:
    found = []
    for pager in links._X_PAGERS(root):
        strong = links._X_STRONG(pager)
        shown = strong[0].strip() if strong else ""
        here = as_int(shown) or current
        for a in links._X_PAGER_LINKS(pager):
            classes = a.get("class", "").split()
            step = next((links._CLASSES[c] for c in classes if c in links._CLASSES), None)
            number = here + step if step is not None else links._page_number(_STRING(a))
            if number is not None and number >= 1:
                found.append((a.get("href"), number))
    return found


def _reference_page_links(sel, page: ParsedPage, identify=None, base_href: str | None = None) -> list[Link]:
    """``page_links`` before the shortcuts: every href joined and classified as it comes, ``identify`` asked per
    link, the pagers and author areas read with their XPaths."""
    root = sel.root
    base = _reference_join(page.url, base_href if base_href is not None else links.find_base_href(root, None)) \
        or page.url

    def resolve(href: str):
        url = _reference_join(base, href.strip())
        url, target = (url, classify(url)) if url is not None else ("", Target("other"))
        if identify is not None and (target.kind == "other" or (target.kind == KIND_INDEX and is_folder_url(url))):
            target = identify(url)
        return url, target

    out: list[Link] = []
    seen: set[str] = set()

    def add(kind, href, ident, number=1, rank=0):
        if not href or links._NOT_A_PAGE.match(href.strip()):
            return
        url = resolve(href)[0]
        if url in seen or not url.startswith(("http://", "https://")):
            return
        seen.add(url)
        out.append(Link(kind=kind, url=url, id=ident, page=number, rank=rank))

    own_id = page.tid if page.kind == KIND_VIEWTHREAD else page.fid if page.kind == KIND_FORUMDISPLAY else None
    if own_id is not None:
        for href, number in _reference_pager_links(root, page.page or 1):
            target = resolve(href)[1]
            if target.kind == "other" or (target.kind == page.kind and (target.tid or target.fid) == own_id):
                add(page.kind, href, own_id, number)
    if page.kind == KIND_VIEWTHREAD:
        for trade in page.trades:
            if trade.url and trade.pid:
                add(KIND_TRADEINFO, trade.url, trade.pid)
    if page.kind == KIND_FORUMDISPLAY:
        for row in links._X_THREAD_ROWS(root):
            m = links._ROW_TID.match(row.get("id", ""))
            tid = as_int(m.group(1)) if m else None
            if tid is None:
                continue
            for a in links._X_ROW_LINKS(row):
                text = _STRING(a).strip()
                target = resolve(a.get("href"))[1]
                number = links._page_number(text)
                if target.kind == KIND_VIEWTHREAD and target.tid == tid:
                    add(KIND_VIEWTHREAD, a.get("href"), tid, target.page)
                elif target.kind == "other" and number is not None and links._X_IN_TPS(a):
                    add(KIND_VIEWTHREAD, a.get("href"), tid, number)
                elif target.kind == "other" and text and number is None and "xst" in a.get("class", ""):
                    add(KIND_VIEWTHREAD, a.get("href"), tid, 1)
    rows = links._X_FORUM_ROW_LINKS if page.kind == "index" else \
        links._X_SUBFORUM_ROW_LINKS if page.kind == KIND_FORUMDISPLAY else None
    if rows is not None:
        for a in rows(root):
            href = a.get("href", "")
            if resolve(href)[1].kind == "other" and "gid=" not in href:
                add(KIND_FORUMDISPLAY, href, None)
    for href in links._X_HREFS(root):
        if identify is None and not links._MAYBE_PAGE.search(href):
            continue  # the default reading never looked at these
        target = resolve(href)[1]
        if target.kind not in links._FOLLOWED_KINDS:
            continue
        kind, ident, number, rank = links._followed(target, href)
        add(kind, href, ident, number, rank)
    if page.kind == KIND_VIEWTHREAD:
        for href, uid in links._author_space_links(root, page):
            if resolve(href)[1].kind in ("other", KIND_INDEX):
                add(KIND_PROFILE, href, uid, 1, rank=1)
    return out


def _rows(found: list[Link]) -> list[tuple]:
    return [(link.kind, link.url, link.id, link.page, link.rank) for link in found]


def _outcome(read, *args) -> list[tuple] | str:
    """The links ``read(*args)`` lists, or "raises" (parse_page then keeps the page without links)."""
    try:
        return _rows(read(*args))
    except Exception:  # noqa: BLE001 - the same as parse_page's
        return "raises"


def _site_rules() -> SiteUrls:
    """A site's own rules, as a crawl learns them: thread/list pages in t-ID-PAGE / f-ID-PAGE, spaces in u-ID.html
    and /people/ID/."""
    rules = SiteUrls()
    rules.learn(KIND_VIEWTHREAD, 7, 2, "http://h/bbs/t-7-2.html")
    rules.learn(KIND_FORUMDISPLAY, 3, 4, "http://h/bbs/f-3-4.html")
    rules.learn(KIND_PROFILE, 55, None, "http://h/bbs/u-55.html")
    rules.learn(KIND_PROFILE, 56, None, "http://h/bbs/people/56/")
    return rules


def _html_pages():
    for name in CAPTURES:
        folder = FIXTURES / name
        if folder.exists():
            yield from (p for p in captured_pages(folder) if p.body.lstrip().startswith(b"<"))


@requires_fixtures
def test_page_links_lists_what_the_long_way_lists_on_the_captures():
    checked = authors = 0
    learned = SiteUrls()
    for page in _html_pages():
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date)
        for identify in (None, classify, learned.identify, _site_rules().identify):
            asked: list[str] = []

            def counting(url, _identify=identify):
                asked.append(url)
                return _identify(url)

            new = links.page_links(sel, parsed, counting if identify is not None else None)
            assert _rows(new) == _rows(_reference_page_links(sel, parsed, identify)), (page.url, identify)
            # The base parse_page joined once for its resolver and hands on: the same links.
            base = join_url(page.url, links.find_base_href(sel.root, None)) or page.url
            assert _rows(links.page_links(sel, parsed, identify, base=base)) == _rows(new), (page.url, identify)
            assert len(asked) == len(set(asked))  # once per URL and page
        if parsed.kind in (KIND_VIEWTHREAD, KIND_FORUMDISPLAY) and (parsed.tid or parsed.fid):
            learned.learn(parsed.kind, parsed.tid or parsed.fid, parsed.page, page.url)
        checked += 1
        authors += bool(links._author_space_links(sel.root, parsed))
    assert checked > 150 and authors > 50


_ODD_THREAD = """<html><head><base href="/bbs/"></head><body>
<div class="pg\tx"><strong><!-- c -->3</strong><strong>9</strong><a href="t-7-1.html">1</a><a href="t-7-2.html"><b>2</b></a>
 <a class="nxt" href="t-7-4.html">next</a><a class="prev\tx" href="t-7-2.html">prev</a><a href="t-7-5.html">\xa05 </a>
 <a href="javascript:;">6</a><a>7</a><a href="">8</a><div class="pages"><strong>12</strong><a href="t-7-13.html">x</a>
 <a href="forum.php?mod=viewthread&amp;tid=7&amp;page=14">14</a><a href="forum.php?mod=viewthread&amp;tid=8&amp;page=2">2</a>
 </div></div>
<div class="pgs"><a href="t-7-99.html">99</a></div><div class="pg"><strong> </strong><strong>4</strong>
 <a class="nxt" href="t-7-77.html">n</a></div><div class="pg"><strong><b>5</b></strong><a class="nxt" href="t-7-78.html">n</a></div>
<div class="pg"><a class="next" href="t-7-79.html">n</a></div>
<div id="post_1"><table id="pid1"><tr><td class="pls"><div id="favatar1"><div class="authi"><a href="u-55.html">Ann</a>
 <a href="u-55.html#x"> Ann </a><a href="home.php?mod=space&amp;uid=55">Ann</a><a href="people/56/">Ann</a>
 <a href="u-55.html"><span>A</span>nn</a><a href="u-60.html"><!-- Ann -->An<b></b>n</a></div>
 <a href="u-57.html"><img src="uc_server/avatar.php?uid=55&amp;size=middle"></a><a href="u-58.html"><img src="x.png"></a>
 <a href="u-59.html"><img src="data/avatar/000/00/00/55_avatar_small.jpg"></a><a href="u-61.html">Bob</a>
 <a name="favatar2" href="u-62.html">Bob<a href="u-63.html">Bob</a></a></div></td>
 <td class="plc"><div class="pi"><em id="authorposton1">now</em><a href="u-64.html">Ann</a></div></td></tr></table></div>
<div id="post_2"><table id="pid2"><tr><td class="pls"><div id="favatar2"><a href="u-65.html">Bob</a></div></td>
 <td class="plc"><div class="pi"><a href="u-66.html">Bob</a><span><em id="authorposton2">now</em></span></div></td></tr></table></div>
<div id="post_3"><table><tr><td class="postauthor"><div id="userinfo3"><a href="u-67.html">Cy</a></div>
 <a href="u-68.html">Cy</a></td></tr></table><em id="authorposton3">x</em><em id="authorposton3">y</em></div>
<div id="favatar4"><a href="u-69.html">Di</a></div><p id="favatar4"><a href="u-70.html">Di</a></p>
<a href="forum.php?mod=viewthread&amp;tid=7">t</a><a href="space-uid-5.html">s</a><a href="home.php?mod=space&amp;uid=5&amp;do=profile">p</a>
<a href=" forum.php?mod=viewthread&amp;tid=7 ">t2</a><a href="http://[x">bad</a><a href="mailto:a@b">m</a><a href="#top">#</a>
<a href="f-3-4.html">f</a><a href="t-9-1.html">t9</a><a href="people/56/">p56</a><a href="u-55.html">u55</a><a href="./">dot</a>
<a href="../">up</a><a href="forum.php?">q</a><a href="index.php">i</a><a href="?page=2">?</a><a href="t-7-1.html#f">f</a>
</body></html>"""


def _odd_page(url: str = "http://h/bbs/t-7-3.html") -> tuple[Selector, ParsedPage]:
    sel = Selector(text=_ODD_THREAD)
    page = ParsedPage(url=url, kind=KIND_VIEWTHREAD, tid=7, page=3)
    page.posts = [Post(pid=1, tid=7, author="Ann", author_uid=55), Post(pid=2, tid=7, author="Bob", author_uid=62),
                  Post(pid=3, tid=7, author="Cy", author_uid=67), Post(pid=4, tid=7, author="Di", author_uid=69),
                  Post(pid=5, tid=7, author="Ann", author_uid=55), Post(pid=6, tid=7, author=None, author_uid=70),
                  Post(pid=7, tid=7, author="Eve", author_uid=None)]
    page.trades = [Trade(tid=7, pid=9, url="forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=9"),
                   Trade(tid=7, pid=None, url="x.html"), Trade(tid=7, pid=10, url=None)]
    return sel, page


@pytest.mark.parametrize("url", ["http://h/bbs/t-7-3.html", "https://h/bbs/t-7-3.html", "http://[x/t.html"])
def test_page_links_lists_what_the_long_way_lists_on_odd_markup(url):
    sel, page = _odd_page(url)
    for identify in (None, classify, _site_rules().identify):
        for base_href in (None, "", "/bbs/", "http://other/x/", "javascript:x"):
            new = _outcome(links.page_links, sel, page, identify, base_href)
            assert new == _outcome(_reference_page_links, sel, page, identify, base_href), (identify, base_href)
            assert new != "raises" or url.startswith("http://[")
    if not url.startswith("http://h"):
        return
    found = {(link.kind, link.url, link.id, link.page, link.rank) for link in links.page_links(sel, page)}
    # Without a site's rules: the pager's own page numbers, the authors' spaces that no default rule reads (by their
    # name, by an avatar of theirs) and the goods link.
    assert (KIND_VIEWTHREAD, "http://h/bbs/t-7-4.html", 7, 4, 0) in found
    if url.startswith("http://h"):
        assert (KIND_PROFILE, "http://h/bbs/u-57.html", 55, 1, 1) in found
        assert (KIND_PROFILE, "http://h/bbs/u-59.html", 55, 1, 1) in found
        assert not any(row[1] == "http://h/bbs/u-58.html" for row in found)
        assert (KIND_TRADEINFO, "http://h/bbs/forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=9", 9, 1, 0) in found


@pytest.mark.parametrize("kind", ["index", KIND_FORUMDISPLAY, KIND_VIEWTHREAD, "other"])
def test_a_page_whose_own_url_urllib_cannot_split_raises_where_the_long_way_raised(kind):
    """Only an empty href joins to the page's own URL: the long way read it (and raised) in pagers, rows, author
    areas and with a site's rules, not among a page's other links without them."""
    sel = Selector(text=_ODD_THREAD.replace('<a href="">8</a>', ""))
    empty = Selector(text=_ODD_THREAD)
    for selector in (sel, empty):
        _, page = _odd_page("http://[x/t.html")
        page.kind = kind
        for identify in (None, _site_rules().identify):
            outcome = _outcome(links.page_links, selector, page, identify)
            assert outcome == _outcome(_reference_page_links, selector, page, identify)
            if kind == "index" and identify is None:
                assert outcome != "raises"


def test_author_links_are_the_author_space_links_the_page_could_list():
    sel, page = _odd_page()
    base = "http://h/bbs/"
    table: dict = {}
    new = [(uid, facts[0]) for uid, facts in links._author_links(sel.root, page, table, base)]
    expected = []
    for href, uid in links._author_space_links(sel.root, page):
        facts = links._read_facts({}, base, href)
        if facts[2] and facts[1].kind in ("other", KIND_INDEX):
            expected.append((uid, facts[0]))
    assert new == expected
    assert ("http://h/bbs/u-60.html" in [u for _, u in new]) and ("http://h/bbs/u-57.html" in [u for _, u in new])


def test_author_areas_from_one_lookup_are_those_looked_up_one_by_one():
    root = etree.fromstring(_ODD_THREAD, etree.HTMLParser())
    areas = links._areas_by_post(root, [1, 2, 3, 4, 5, 99])
    for pid in (1, 2, 3, 4, 5, 99):
        assert areas(pid) == links._author_areas(root, pid), pid
    # An anchor named favatar2 (in the index, with the div that has it as id after it): the index's own answer.
    assert links._areas_by_post(root, [2])(2) == links._author_areas(root, 2)
    # Ids the index answers otherwise than by an element with that id or name: one by one.
    odd = etree.fromstring("<html><body><a id='favatar1' name='authorposton1'>x</a><a name='favatar1'>y</a>"
                           "<div id='authorposton2'><a href='u'>z</a></div><div id='favatar2'></div></body></html>",
                           etree.HTMLParser())
    # An anchor whose name is an id the index gives to an element before it (the div), and whose id is asked too.
    clash = etree.fromstring("<html><body><p><em id='authorposton3'>t</em></p>"
                             "<a id='favatar3' name='authorposton3' href='u'>n</a></body></html>", etree.HTMLParser())
    assert links._ids_found(clash, ["favatar3", "authorposton3"]) is None
    for root_, pids in ((odd, [1]), (odd, [2]), (odd, [1, 2]), (odd, [2, 1]), (clash, [3])):
        found = links._areas_by_post(root_, pids)
        for pid in pids:
            assert found(pid) == links._author_areas(root_, pid)
    assert links._author_areas(clash, 3)[-1].tag == "p"


@pytest.mark.parametrize("strong", ["<strong>3</strong>", "<strong> 4 </strong><strong>5</strong>", "<strong></strong>",
                                    "<strong><!--c-->6</strong>", "<strong><b>7</b>8</strong>", "", "<b><strong>9</strong></b>",
                                    "<strong>\n</strong><strong>2</strong>", "<strong>&amp;1</strong>", "x<strong>1</strong>y"])
def test_a_pagers_current_page_is_the_text_its_xpath_reads(strong):
    pager = etree.fromstring(f"<html><body><div class='pg'>{strong}<a href='x'>1</a></div></body></html>",
                             etree.HTMLParser()).find(".//div")
    texts = links._X_STRONG(pager)
    assert links._strong_text(pager) == (texts[0].strip() if texts else "")


@requires_fixtures
def test_pager_links_are_what_the_xpaths_read_on_the_captures():
    checked = 0
    for page in _html_pages():
        sel, _, _ = read_document(page.body, page.url, "text/html; charset=utf-8")
        for current in (1, 5):
            assert links._pager_links(sel.root, current) == _reference_pager_links(sel.root, current)
        checked += bool(links._pager_links(sel.root, 1))
    root = etree.fromstring(_ODD_THREAD, etree.HTMLParser())
    assert links._pager_links(root, 3) == _reference_pager_links(root, 3)
    assert checked > 40


# -- scraper.urls -------------------------------------------------------------------------------------------------

def _reference_query(url: str) -> dict[str, str]:
    return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}


def _reference_canonical(url: str) -> str:
    parts = urlsplit(url)
    m = urls._THREAD_STATIC.search(parts.path)
    path = parts.path
    if m:
        path = path[: m.start("prev")] + "1" + path[m.end("prev"):]
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in urls.IGNORED_PARAMS]
    if any(k == "mod" and v in ("viewthread", "forumdisplay") for k, v in pairs) or path.endswith(
            ("viewthread.php", "forumdisplay.php")):
        pairs = [(k, v) for k, v in pairs if not (k == "page" and v in ("1", ""))]
    pairs.sort()
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path or "/", urlencode(pairs), ""))


_BASES = ["http://h/", "http://h/bbs/", "http://h/bbs/x.php?y=1#f", "http://h", "https://H:80/a//b/./../c/",
          "http://h/a/..", "", "javascript:x", "mailto:a@b", "http://[x", "ftp://h/d/", "http:", "http://h/bbs/;p?q",
          "//h/x/", "http://h/..", "file:///tmp/", "HTTP://h/A/", "http://h/a b/"]
_PIECES = list("ab./?#:;&=%+ \t\n\\@!~-_[]") + ["..", "forum.php", "%3D", "\u3000", "é", "\x7f", "\x00", "//",
                                                "http:", "a:b", "mod=viewthread&tid=7"]


def test_join_url_is_urljoin():
    rng = random.Random(22)
    hrefs = ["", "forum.php?mod=viewthread&tid=7", ".", "..", "..?x", ".?x", "a?", "?", "a", "a?b#c", "a;b?c", "a?b:c",
             "x:y?z", "...", "..a", "a..?b", "a?b?c", "a?b/c", "é?x", "a\\b?c", "1:2?3"]
    hrefs += ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 7))) for _ in range(6000)]
    fast = 0
    for base in _BASES:
        for href in hrefs:
            assert join_url(base, href) == _reference_join(base, href), (base, href)
            fast += bool(urls._FILE_AND_QUERY.fullmatch(href))
    assert fast > 1000  # the shortcut was taken


def test_classify_and_canonical_read_queries_as_urllib_does():
    rng = random.Random(22)
    parts = ["mod=viewthread", "tid=7", "TID=8", "page=1", "page=", "page=2", "fid=2", "mod=forumdisplay",
             "extra=page%3D1", "a+b=c", "uid=5", "do=profile", "mod=space", "", "x", "=y", "a=b=c", "k=%E5%90%88",
             "k=%41", "from=space", "highlight=x", "mod=index", "gid=1", "ordertype=1", "Mod=viewthread", "q=a b",
             "q=~._-", "q=é", "q=%zz", "PAGE=3", "tid=²", "tid=0", "a;b=1", "İ=1", "K=v", "do=thread"]
    paths = ["forum.php", "viewthread.php", "forumdisplay.php", "home.php", "space.php", "index.php", "",
             "thread-7-2-1.html", "forum-3-2.html", "space-uid-5.html", "x/", "bbs/forum.php", "a.html/forum.php",
             "thread-7-2-1.htm", "forum-x-2.html"]
    plain = 0
    for _ in range(20000):
        query = "&".join(rng.choice(parts) for _ in range(rng.randint(0, 5)))
        sep = rng.choice(["?", "?", "?", ""])
        url = rng.choice(["http://h/", "https://H.x/bbs/", "http://h:80/"]) + rng.choice(paths) + \
            (sep + query if sep else "") + rng.choice(["", "", "#f"])
        assert urls._query(url) == _reference_query(url), url
        assert urls.canonical.__wrapped__(url) == _reference_canonical(url), url
        target = urls.classify.__wrapped__(url)
        assert target == _reference_classify(url), url
        plain += bool(urls._PLAIN_QUERY.fullmatch(urlsplit(url).query))
    assert plain > 1000


def _reference_classify(url: str) -> Target:
    """classify as it was: the query read by parse_qsl, every static pattern tried, new Targets."""
    parts = urlsplit(url)
    path = parts.path
    name = path.rsplit("/", 1)[-1]
    q = _reference_query(url)
    page = as_int(q.get("page")) or 1
    m = urls._THREAD_STATIC.search(path)
    if m and as_int(m.group("tid")) is not None:
        return Target(KIND_VIEWTHREAD, tid=as_int(m.group("tid")), page=as_int(m.group("page")) or 1)
    m = urls._FORUM_STATIC.search(path)
    if m:
        return Target(KIND_FORUMDISPLAY, fid=as_int(m.group("fid")), page=as_int(m.group("page")) or 1)
    m = urls._SPACE_STATIC.search(path)
    if m and as_int(m.group("uid")) is not None:
        return Target(KIND_PROFILE, uid=as_int(m.group("uid")))
    mod = q.get("mod", "")
    if urls.VIEW_FILTER_PARAMS.intersection(q) and (mod in ("viewthread", "forumdisplay") or name in (
            "viewthread.php", "forumdisplay.php")):
        return Target("other")
    if name == "forum.php" or name == "":
        if mod == "viewthread" and as_int(q.get("tid")):
            return Target(KIND_VIEWTHREAD, tid=as_int(q.get("tid")), page=page)
        if mod == "forumdisplay" and as_int(q.get("fid")):
            return Target(KIND_FORUMDISPLAY, fid=as_int(q.get("fid")), page=page)
        if mod in ("", "index") and "gid" not in q:
            return Target(KIND_INDEX)
    if name == "viewthread.php" and as_int(q.get("tid")):
        return Target(KIND_VIEWTHREAD, tid=as_int(q.get("tid")), page=page)
    if name == "forumdisplay.php" and as_int(q.get("fid")):
        return Target(KIND_FORUMDISPLAY, fid=as_int(q.get("fid")), page=page)
    if name in ("index.php",) and not q:
        return Target(KIND_INDEX)
    if name == "home.php" and mod == "space" and as_int(q.get("uid")) and q.get("do", "profile") == "profile":
        return Target(KIND_PROFILE, uid=as_int(q.get("uid")))
    if name == "space.php" and as_int(q.get("uid")):
        return Target(KIND_PROFILE, uid=as_int(q.get("uid")))
    return Target("other")


_URL_STARTS = ["http://h", "https://h.x:80", "HTTP://h", "http://H.X", "http://", "http:/", "http:", "//h", "ftp://h",
               "http://[::1]", "http://[x", "http://u@h", "http://h\u3000", "http://é.cn", "http://h:", " http://h",
               "\thttp://h", "http://h\n", "javascript:", "", "http://h.x-y.z", "https://", "Http://h", "http1://h"]


def test_split_url_is_urlsplit():
    rng = random.Random(22)
    found = set()
    for _ in range(30000):
        url = rng.choice(_URL_STARTS) + "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8)))
        try:
            expected = urlsplit(url)
        except ValueError:
            with pytest.raises(ValueError):
                urls.split_url(url)
            continue
        assert urls.split_url(url) == expected, url
        found.add(bool(urls._SIMPLE_URL.fullmatch(url)))
    assert found == {True, False}  # both ways taken


def test_canonical_writes_what_urlunsplit_writes():
    rng = random.Random(23)
    ends = ["", "/", "/forum.php", "/bbs/x/", "?mod=viewthread&tid=7&page=1", "/a?b=1#f", "/thread-7-2-3.html",
            "/a%20b?k=%E5%90%88", "?", "#", "/é?x=é"]
    for _ in range(20000):
        url = rng.choice(_URL_STARTS) + rng.choice(ends) + "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 3)))
        try:
            expected = _reference_canonical(url)
        except ValueError:
            continue
        assert urls.canonical.__wrapped__(url) == expected, url


@requires_fixtures
def test_split_url_is_urlsplit_on_every_link_of_the_captures():
    taken = 0
    for capture in CAPTURES:
        for page in captured_pages(FIXTURES / capture):
            url = page.url
            root = read_document(page.body, url, page.content_type or None)[0].root
            for href in links.ALL_HREFS(root):
                joined = join_url(url, href.strip())
                if joined:
                    assert urls.split_url(joined) == urlsplit(joined), joined
                    taken += bool(urls._SIMPLE_URL.fullmatch(joined))
    assert taken > 1000


def test_the_plain_query_pattern_means_urlencode_changes_nothing():
    for query in ("a=1&b=2", "a", "a=&b", "a=b=c", "a=1&&b", "", "a-b_c.d~=x", "a=%41", "a=b+c", "é=1", "a=b c"):
        pairs = parse_qsl(query, keep_blank_values=True)
        if urls._PLAIN_QUERY.fullmatch(query):
            assert urls._pairs(query) == pairs
            assert "&".join(f"{k}={v}" for k, v in pairs) == urlencode(pairs)
        assert urls._pairs(query) == pairs
    assert not urls._PLAIN_QUERY.fullmatch("a=b=c") and not urls._PLAIN_QUERY.fullmatch("a=%41")
    assert re.fullmatch(urls._PLAIN_QUERY, "mod=viewthread&tid=7&page=1")


def test_identify_reads_each_url_once_until_a_pattern_is_learned():
    """SiteUrls.identify remembers what the learned patterns read in a URL; a new pattern reads every URL anew."""
    rules = SiteUrls()
    steps = [(KIND_VIEWTHREAD, 7, 2, "http://h/bbs/t-7-2.html"), (KIND_PROFILE, 55, None, "http://h/bbs/u-55.html"),
             (KIND_FORUMDISPLAY, 3, 4, "http://h/bbs/f-3-4.html"), (KIND_PROFILE, 56, None, "http://h/bbs/people/56/"),
             (KIND_VIEWTHREAD, 9, 3, "http://h/bbs/forum.php?mod=viewthread&tid=9&page=3")]
    asked = ["http://h/bbs/t-8-2.html", "http://h/bbs/u-60.html", "http://h/bbs/f-5-1.html", "http://h/bbs/people/61/",
             "http://h/bbs/misc.php?mod=faq", "http://h/bbs/", "http://h/bbs/x-1.html",
             "http://h/bbs/forum.php?mod=viewthread&tid=10&page=2"]
    done = []
    for step in steps:
        remembered = [rules.identify(url) for url in asked]  # read before the new pattern
        rules.learn(*step)
        done.append(step)
        fresh = SiteUrls()
        for learned in done:
            fresh.learn(*learned)
        assert [rules.identify(url) for url in asked] == [fresh.identify(url) for url in asked]
        assert [rules.identify(url) for url in asked] == [fresh.identify(url) for url in asked]  # remembered
        if step[0] == KIND_VIEWTHREAD and len(done) == 1:
            assert remembered[0] != rules.identify(asked[0])  # t-8-2.html: read anew, now a thread page
    assert rules.identify("http://h/bbs/u-60.html") == Target(KIND_PROFILE, uid=60)
    assert rules.identify("http://h/bbs/people/61/") == Target(KIND_PROFILE, uid=61)
    rules.remember("http://h/bbs/x-1.html", Target(KIND_VIEWTHREAD, tid=1))
    assert rules.identify("http://h/bbs/x-1.html") == Target(KIND_VIEWTHREAD, tid=1)  # a fetched page's own word


def test_the_table_of_hrefs_stays_bounded_when_every_page_shares_one_base(monkeypatch):
    # A Discuz X site states one <base href> on every page, and each thread page brings hrefs of its own: the
    # table is emptied once it holds more than its bound, whatever the base, so a long crawl's memory stays flat.
    from scraper.parsers import links, parse_page
    monkeypatch.setattr(links, "_FACTS_SIZE", 100)
    monkeypatch.setattr(links, "_FACTS", {})
    monkeypatch.setattr(links, "_facts_count", [0])
    sizes = []
    for n in range(40):
        anchors = "".join(f'<a href="forum.php?mod=viewthread&amp;tid={n * 20 + i + 1}">t</a>' for i in range(20))
        page = parse_page(f"http://h/forum.php?mod=forumdisplay&fid=2&page={n + 1}",
                          f'<html><head><base href="http://h/"></head><body>{anchors}</body></html>'.encode(),
                          content_type="text/html; charset=utf-8")
        assert sorted(link.id for link in page.links if link.kind == "viewthread") == list(range(n * 20 + 1, n * 20 + 21))
        sizes.append(sum(len(table) for table in links._FACTS.values()))
    assert max(sizes) <= 100 + 21 and min(sizes[5:]) < max(sizes)


@requires_fixtures
def test_identify_reads_every_link_of_the_captures_as_when_it_always_looks_up_the_fetched_pages():
    """SiteUrls.identify does not spell a URL the default rules cannot tell canonically to look it up among the
    pages fetched while each of those is a thread or list page by the default rules, its query naming no
    parameter twice (see SiteUrls.remember): every link of the captures is read as by one that always looks."""
    for rules_of in (SiteUrls, _site_rules):
        gated, always = rules_of(), rules_of()
        always._odd_pages = True
        read = 0
        for page in _html_pages():
            parsed = parse_page(page.url, page.body, content_type=page.content_type, date_header=page.date,
                                identify=gated.identify)
            root = read_document(page.body, page.url, page.content_type or None)[0].root
            for href in links.ALL_HREFS(root):
                url = join_url(page.url, href.strip())
                if url:
                    try:
                        assert gated.identify(url) == always.identify(url), url
                    except ValueError:  # a URL urllib cannot split: both raise
                        with pytest.raises(ValueError):
                            always.identify(url)
                    read += 1
            if parsed.kind in (KIND_VIEWTHREAD, KIND_FORUMDISPLAY) and (parsed.tid or parsed.fid):
                target = Target(parsed.kind, tid=parsed.tid, page=parsed.page or 1) \
                    if parsed.kind == KIND_VIEWTHREAD else Target(parsed.kind, fid=parsed.fid, page=parsed.page or 1)
                for rules in (gated, always):
                    rules.remember(page.url, target)
        assert read > 10_000
        assert not gated._odd_pages  # the captures' pages are all read by the default rules: the look-ups skipped


def test_identify_finds_a_fetched_page_the_default_rules_read_otherwise():
    url = "http://h/forum.php?mod=viewthread&tid=5&tid=x"
    assert classify(url).kind == "other"  # the last tid is no number
    # Fetched as tid=x&tid=5 (a thread page by the default rules): one canonical spelling with the URL above.
    rules = SiteUrls()
    rules.remember("http://h/forum.php?mod=viewthread&tid=x&tid=5", Target(KIND_VIEWTHREAD, tid=5))
    assert rules.identify(url) == Target(KIND_VIEWTHREAD, tid=5)
    # A rewritten page the default rules cannot tell: found by any spelling of it.
    rules = SiteUrls()
    rules.remember("http://h/bbs/t-5.html", Target(KIND_VIEWTHREAD, tid=5))
    assert rules.identify("HTTP://H/bbs/t-5.html#top") == Target(KIND_VIEWTHREAD, tid=5)
    # Only default spellings fetched: no page fetched is another URL, nothing is looked up.
    rules = SiteUrls()
    rules.remember("http://h/forum.php?mod=viewthread&tid=5&extra=page%3D1", Target(KIND_VIEWTHREAD, tid=5))
    assert not rules._odd_pages
    assert rules.identify("http://h/forum.php?mod=redirect&tid=5&goto=lastpost") == Target("other")
    # A SiteUrls from a job state written before the flag was kept looks every URL up.
    old = SiteUrls()
    old.remember("http://h/forum.php?mod=viewthread&tid=x&tid=5", Target(KIND_VIEWTHREAD, tid=5))
    del old.__dict__["_odd_pages"]
    assert old._odd_pages
    assert old.identify("http://h/forum.php?mod=viewthread&tid=5&tid=x") == Target(KIND_VIEWTHREAD, tid=5)


def _pager_readings(sel, url: str, pagers) -> tuple:
    from scraper.parsers.thread import parse_thread_page
    page = parse_thread_page(sel, url, pagers=pagers)
    return page.pages, page.page, _rows(links.page_links(sel, page, None, pagers=pagers))


@requires_fixtures
def test_the_pager_divs_walked_once_read_as_the_two_walks_did():
    """parse_page walks a thread page's pager divs once (links.PagerDivs), before the messages are set aside: the
    thread parser's 7.x pagers (those outside the messages) and page_links' pagers come from it, as from their own
    walks, on the captures' thread pages and on one with 7.x pagers in and outside a message."""
    from scraper.parsers.thread import is_thread_page

    def both(body: bytes, url: str) -> tuple:
        sel, fresh = (read_document(body, url, "text/html; charset=utf-8")[0] for _ in range(2))
        once = _pager_readings(sel, url, links.PagerDivs(sel.root))
        assert once == _pager_readings(fresh, url, None), url
        return once

    checked = 0
    for page in _html_pages():
        if classify(page.url).kind == KIND_VIEWTHREAD and is_thread_page(read_document(page.body, page.url)[0]):
            both(page.body, page.url)
            checked += 1
    assert checked > 40
    page = next(p for p in captured_pages(FIXTURES / "discuz-x34-utf8-a") if p.url.endswith("tid=3&page=1"))
    assert b'class="pg"' not in page.body  # one page: no X pager, so the 7.x pagers are read
    start = page.body.index(b">", page.body.index(b'id="postmessage_')) + 1
    body = (page.body[:start] + b'<div class="pages"><a href="forum.php?mod=viewthread&amp;tid=3&amp;page=30">30</a>'
            b'</div>' + page.body[start:]).replace(b"</body>", b'<div class="x pages"><strong>2</strong><a href="'
                                                 b'forum.php?mod=viewthread&amp;tid=3&amp;page=9">9</a></div></body>', 1)
    pages, _, found = both(body, page.url)
    assert pages == 9  # the pager outside the posts is read, not the one a post shows
    assert (KIND_VIEWTHREAD, 3, 30) in {(kind, ident, number) for kind, _, ident, number, _ in found}  # still a link
