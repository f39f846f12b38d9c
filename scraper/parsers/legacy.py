"""The Discuz! 7.x family (6.x/7.0–7.2 templates) -> the same items as the Discuz! X parsers.

Markup read here, from the 7.x default templates (``viewthread.htm``, ``viewthread_node.htm``,
``forumdisplay.htm``, ``discuz.htm``, ``showmessage.htm``, ``nopermission.htm``):

* thread pages (``viewthread.php?tid=``): posts ``div#postlist.mainbox.viewthread > div#post_PID >
  table#pidPID``; author column ``td.postauthor`` (name in ``div.postinfo a[href*=space.php?uid=]``
  when ``authoronleft`` is on, else ``a.posterlink`` beside the time; group title
  ``div#userinfoPID_a p em``; stats ``dl.profile`` dt/dd and the hover card ``div#userinfoPID dl``);
  ``td.postcontent`` with the floor ``div.postinfo strong a#postnumPID em``, the time
  ``em#authorpostonPID``, the title ``div#threadtitle h1`` on the first post, states in
  ``div.locked``, the body ``td.t_msgfont#postmessage_PID`` and the attachments ``div.postattachlist``;
* the pager ``div.pages``: its ``<em>&nbsp;N&nbsp;</em>`` is ``multi()``'s ``$num``, the number of
  *items* (replies + 1 on a thread, threads on a forum), not of pages. Pages come from the thread
  page's ``var maxpage = N`` script, else ``a.last`` (``... 57``), else the highest page link;
* forum lists (``forumdisplay.php?fid=``): ``table[summary=forum_FID]`` rows
  ``tbody#normalthread_TID`` / ``stickthread_TID`` with ``th.subject span#thread_TID a``,
  ``td.author cite a`` + ``em`` date, ``td.nums strong``/``em`` replies/views, ``td.lastpost``;
* the index (``index.php``): ``div.mainbox`` blocks of ``h3 a[href*=gid=]`` and
  ``table#category_GID`` whose ``tbody#forumFID th h2 a`` are the forums;
* ``showmessage`` pages: ``div.showmessage`` (``h1`` + ``p``), the guest login form of
  ``nopermission.htm``, and the forum password form.

7.x has no relative times, no ``万`` figures and no X-style ``span[title]``; the shared date,
number, stats and message helpers still apply unchanged.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import (
    KIND_FORUMDISPLAY, KIND_INDEX, KIND_SPECIAL, KIND_VIEWTHREAD, POST_HIDE_PARTIAL, POST_OK, STATUS_LOGIN_REQUIRED,
    STATUS_OK, STATUS_PASSWORD, Attachment, Forum, ParsedPage, Post, Thread, User,
)
from ..urls import FID_IN_HREF, GID_IN_HREF, TID_IN_HREF, classify, join_url, uid_from_href
from .authors import author_uid, is_member_link
from .common import by_id_within, classify_message, detect_version, has_class, type_prefix
from .content import image_url, is_smilie, text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .labels import LabelTable, label_pattern
from .numbers import parse_int
from .stats import apply_user_fields, parse_stats_block
from .forum import list_rows
from .profile import is_legacy_profile_page, parse_legacy_profile_page
from .thread import LOCKED_STATES, fill_floors_backwards, post_floor, precedes, read_message, read_post_time

FAMILY_X = "x"
FAMILY_LEGACY = "7.x"


POST_NODES = "/descendant::div[@id='postlist']/div[starts-with(@id, 'post_')]"
THREAD_ROWS = "/descendant::tbody[starts-with(@id, 'normalthread_') or starts-with(@id, 'stickthread_')]"
# Structure only 7.x templates produce (X uses td.t_f, td.pls, td.num, div#category_N, div#messagetext).
LEGACY_MARKERS = (
    f"/descendant::td[{has_class('t_msgfont')}] | /descendant::td[{has_class('postauthor')}]"
    f" | /descendant::div[@id='postlist' and {has_class('viewthread')}]"
    f" | /descendant::table[starts-with(@id, 'category_')]//h2/a"
    f" | {THREAD_ROWS}/descendant::td[{has_class('nums')}]"
    f" | /descendant::table[starts-with(@summary, 'forum_')]"
    f" | /descendant::div[{has_class('showmessage')}]"
)
_PAGERS = f"/descendant::div[{has_class('pages')} and not(ancestor::tbody)]"
_NAV_LINKS = "/descendant::div[@id='nav']//a"
_NUMERIC_POST_ID = re.compile(r"^post_(\d+)$")
_MAXPAGE = re.compile(r"\bvar\s+maxpage\s*=\s*(\d+)")
_DIGITS = re.compile(r"\d+")
_AID = re.compile(r"(?:^aid|[?&;]aid=)(\d+)")
_CATEGORY_ID = re.compile(r"^category_(\d+)$")
_SUMMARY_FID = re.compile(r"^forum_(\d+)$")
_FORUM_HREF = "contains(@href, 'forumdisplay.php') or contains(@href, 'forum-')"
# Lines under a forum on the index that are not its description.
# (Labels in both scripts, 子版块 / 子版塊: see .labels.)
_INDEX_LINE_LABELS = label_pattern(r"^(?:子版块|版主|主题|最后发表|链接到外部地址)")
# div.locked notes about attachments ("附件: 您所在的用户组无法下载或查看附件") say nothing of the post.
_ATTACHMENT_NOTE = label_pattern(r"^\s*附件")
_TRADE_COUNT = label_pattern(r"商品数\s*[:：]\s*(\d+)")
# The last moderation line (lang thread_mod_by "本主题由 X 于 T ACTION") and what its action (modactions.lang.php)
# says of the thread being closed: 关闭 / 限时关闭 close it, 打开 / 限时打开 / 解除限时关闭 open it.
_THREAD_MOD_BY = label_pattern(r"^本主题由")
_CLOSING_ACTIONS = LabelTable({"关闭": True, "限时关闭": True, "打开": False, "限时打开": False, "解除限时关闭": False})


# The thread page's XPaths (their text is what each reads; compiled once, run on lxml elements).
_AUTHOR_LINKS = (
    f"./descendant::td[{has_class('postauthor')}]/div[{has_class('postinfo')}]/descendant::a[contains(@href, 'uid')]"
    f" | ./descendant::div[{has_class('authorinfo')}]/a[contains(@href, 'uid')]"
    f" | ./descendant::div[@id=concat('userinfo', $pid)]/descendant::div[{has_class('popuserinfo')}]"
    "/p/a[contains(@href, 'uid')]")
# An admin's own space rule (u-5.html): the same places, the links that show a name.
_AUTHOR_NAME_LINKS = (
    f"./descendant::td[{has_class('postauthor')}]/div[{has_class('postinfo')}]/descendant::a"
    f" | ./descendant::div[{has_class('authorinfo')}]/a[{has_class('posterlink')}]"
    f" | ./descendant::div[@id=concat('userinfo', $pid)]/descendant::div[{has_class('popuserinfo')}]/p/a")
_AUTHOR_AREAS = f"(./descendant::td[{has_class('postauthor')}])[1] | ./descendant::div[{has_class('authorinfo')}]"
_AVATARS = f"./descendant::td[{has_class('postauthor')}]/div[{has_class('avatar')}]"
_ATTACH_LISTS = f"./descendant::div[{has_class('postattachlist')}]"
_LOCKED_NOTES = f"./descendant::td[{has_class('postcontent')}]/descendant::div[{has_class('locked')}]"
_AUTHOR_COLUMN = f".//td[{has_class('postauthor')}][1]"
_CARD_LINKS = f"./descendant::div[{has_class('popuserinfo')}]/p/a[contains(@href, 'uid')]"
_X_POST_NODES = etree.XPath(POST_NODES)
_X_HAS_LEGACY_MARKERS = etree.XPath(f"boolean({LEGACY_MARKERS})")
_X_ANY_H2_LINK = etree.XPath("boolean(.//h2/a)")
_X_ANY_NUMS_CELL = etree.XPath(f"boolean(./descendant::td[{has_class('nums')}])")
_X_PAGERS = etree.XPath(_PAGERS)
_X_PAGER_STRONG_TEXTS = etree.XPath(f"{_PAGERS}/strong/text()", smart_strings=False)
_X_STRONG_TEXTS = etree.XPath("./strong/text()", smart_strings=False)
_X_PAGER_LAST = etree.XPath(f"./a[{has_class('last')}]/text()", smart_strings=False)
_X_PAGER_NUMBERS = etree.XPath("./a/text() | ./strong/text()", smart_strings=False)
_X_EM_STRING = etree.XPath("string(./em)", smart_strings=False)
_X_INLINE_SCRIPTS = etree.XPath("/descendant::script[not(@src)]/text()", smart_strings=False)
# What XPath's normalize-space() collapses: XML white space only.
_XML_SPACES = re.compile(r"[ \t\r\n]+")
_MAXPAGE_ANYWHERE = re.compile(r"var\s+maxpage\s*=\s*(\d+)")
_X_NAV_LINKS = etree.XPath(_NAV_LINKS)
_X_NAV_TAIL = etree.XPath("/descendant::div[@id='nav']/text()[last()]", smart_strings=False)
_X_THREAD_BUTTONS = etree.XPath("/descendant::a[contains(@href, 'post.php?action=reply')]/@href"
                                " | /descendant::a[contains(@href, 'viewthread.php?action=printable')]/@href",
                                smart_strings=False)
_X_TITLE_HEADINGS = etree.XPath("/descendant::div[@id='threadtitle']/h1")
_X_PREFIX_LINKS = etree.XPath("./descendant::a[contains(@href, 'typeid=') or contains(@href, 'sortid=')]")
_X_TITLE_TEXTS = etree.XPath(
    "./descendant::text()[not(ancestor::a[contains(@href, 'typeid=') or contains(@href, 'sortid=')])]",
    smart_strings=False)
_X_TRADE_COUNTS = etree.XPath(f"/descendant::div[{has_class('tradectrl')}]/em/text()", smart_strings=False)
_X_MODERATION_LINES = etree.XPath(f"/descendant::div[{has_class('modact')}]/a/text()", smart_strings=False)
_X_AUTHOR_LINKS = etree.XPath(_AUTHOR_LINKS)
_X_AUTHOR_NAME_LINKS = etree.XPath(_AUTHOR_NAME_LINKS)
_X_CARD_LINKS = etree.XPath(_CARD_LINKS)
_X_TEXTS_OUTSIDE_EM = etree.XPath("./descendant::text()[not(ancestor::em)]", smart_strings=False)
_X_ATTACH_DLS = etree.XPath(f"./descendant::dl[{has_class('t_attachlist')}]")
_X_ATTACH_LINKS = etree.XPath("./descendant::a[starts-with(@id, 'aid')]"
                              " | ./descendant::a[contains(@href, 'attachment.php?aid=')]")
_X_ATTACH_IMAGES = etree.XPath("./descendant::img[not(ancestor::dt)]")
_X_COLUMN_TITLES = etree.XPath("./div[@id=$card]/p/em | ./p/em")
_X_CUSTOM_STATUS = etree.XPath(f"./descendant::p[{has_class('customstatus')}]")
_X_LAST_TEXT = etree.XPath("./text()[last()]", smart_strings=False)
_X_EM_TEXTS = etree.XPath("./em/text()", smart_strings=False)
_X_A_TEXTS = etree.XPath("./a/text()", smart_strings=False)
_X_SHOWMESSAGES = etree.XPath(f"/descendant::div[{has_class('showmessage')}]")


def detect_family(sel, version: str | None = None) -> str:
    """``"7.x"`` or ``"x"``: from the generator/footer version when there is one, else from the markup."""
    version = detect_version(sel) if version is None else version
    if version:
        return FAMILY_LEGACY if version[:1].isdigit() else FAMILY_X
    return FAMILY_LEGACY if _has_legacy_markers(_root(sel)) else FAMILY_X


def _has_legacy_markers(root) -> bool:
    """``bool(LEGACY_MARKERS)``: by one walk of the page's cells, divs, tables and tbodies that stops at the first
    (each branch's test done here, the two with a path below the element by a small XPath under it), instead of the
    union's seven walks of the page."""
    for el in root.getroottree().getroot().iter("td", "div", "table", "tbody"):
        tag = el.tag
        if tag == "td":
            cls = el.get("class")
            if cls is not None and ("t_msgfont" in cls and _holds(cls, "t_msgfont")
                                    or "postauthor" in cls and _holds(cls, "postauthor")):
                return True
        elif tag == "div":
            cls = el.get("class")
            if cls is not None and ("viewthread" in cls and el.get("id") == "postlist" and _holds(cls, "viewthread")
                                    or "showmessage" in cls and _holds(cls, "showmessage")):
                return True
        elif tag == "table":
            if el.get("summary", "").startswith("forum_") or el.get("id", "").startswith("category_") and \
                    _X_ANY_H2_LINK(el):
                return True
        elif el.get("id", "").startswith(("normalthread_", "stickthread_")) and _X_ANY_NUMS_CELL(el):
            return True
    return False


def parse_legacy_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                      fetched_at: datetime | None = None, resolve=None) -> ParsedPage | None:
    """Parse a 7.x thread, forum list, index, profile or showmessage page; ``None`` when it is none of these.
    ``resolve``: see :func:`parse_legacy_thread_page`."""
    parts = _PageParts(_root(sel))
    nodes = parts.post_nodes()
    if nodes:
        return _thread_page(parts, nodes, url, now=now, tz=tz, fetched_at=fetched_at, resolve=resolve)
    special = legacy_special_status(sel, parts.showmessages)
    if special is not None:
        target = classify(url)
        return ParsedPage(url=url, kind=KIND_SPECIAL, status=special[0], message=special[1], fetched_at=fetched_at,
                          tid=target.tid, fid=target.fid, uid=target.uid, page=target.page)
    if sel.xpath(THREAD_ROWS + " | /descendant::table[starts-with(@summary, 'forum_')] | /descendant::div[@id='forumheader']"):
        return parse_legacy_forum_page(sel, url, now=now, tz=tz, fetched_at=fetched_at)
    if sel.xpath(f"/descendant::table[starts-with(@id, 'category_')]//h2/a[{_FORUM_HREF}]"):
        return parse_legacy_index_page(sel, url, fetched_at=fetched_at)
    if is_legacy_profile_page(sel):
        return parse_legacy_profile_page(sel, url, now=now, tz=tz, fetched_at=fetched_at)
    return None


def _root(sel) -> etree._Element:
    """The lxml element of a parsel Selector (the forum, index and showmessage readers still take Selectors)."""
    return sel.root if isinstance(sel, Selector) else sel


# --- pager ----------------------------------------------------------------------------------

def legacy_page_count(sel) -> int:
    """Pages of a 7.x list: ``var maxpage``, else ``a.last``, else the highest page link; 1 without a pager.

    The pager's ``em`` is deliberately ignored: it counts items, not pages. ``sel``: a Selector or an element.
    """
    return _page_count(_root(sel), None)


def _page_count(root, pagers: list | None) -> int:
    """:func:`legacy_page_count`; ``pagers``: what :data:`_PAGERS` finds, when the caller has it."""
    # The first "var maxpage = N" of the inline scripts, in page order (what joining every script's matches and
    # searching the joined text finds).
    for text in _X_INLINE_SCRIPTS(root):
        if "maxpage" in text:
            m = _MAXPAGE_ANYWHERE.search(text)
            if m:
                return max(1, as_int(m.group(1)) or 1)
    best = 1
    for pager in _X_PAGERS(root) if pagers is None else pagers:
        last = _X_PAGER_LAST(pager)
        last = last[0] if last else None
        if last and _DIGITS.search(last):
            best = max(best, as_int(_DIGITS.findall(last)[-1]) or 1)
        for text in _X_PAGER_NUMBERS(pager):
            text = text.strip().lstrip(".").strip()
            if as_int(text):
                best = max(best, as_int(text))
    return best


def legacy_item_count(sel) -> int | None:
    """The pager's ``<em>&nbsp;N&nbsp;</em>``: posts on a thread (replies + 1), threads on a forum."""
    return _item_count(_X_PAGERS(_root(sel)))


def _item_count(pagers: list) -> int | None:
    for pager in pagers:
        value = parse_int(_X_EM_STRING(pager))
        if value is not None:
            return value
    return None


def legacy_current_page(sel, default: int) -> int:
    """The page the pager marks with ``strong``, else ``default`` (from the URL)."""
    return _current_page(_root(sel), _X_PAGERS(_root(sel)), default)


def _current_page(root, pagers: list, default: int) -> int:
    """What ``_PAGERS/strong/text()`` finds first (in page order); ``pagers``: what :data:`_PAGERS` finds."""
    if len(pagers) > 1 and _nested(pagers):
        texts = _X_PAGER_STRONG_TEXTS(root)  # one pager inside another: page order is not pager order
    else:
        texts = [text for pager in pagers for text in _X_STRONG_TEXTS(pager)]
    text = texts[0] if texts else None
    return (as_int(text.strip()) if text else None) or default


def _nested(elements: list) -> bool:
    """Whether one of ``elements`` is inside another."""
    for el in elements:
        for ancestor in el.iterancestors():
            if ancestor in elements:  # lxml elements compare by identity
                return True
    return False


# --- thread pages ---------------------------------------------------------------------------

def parse_legacy_thread_page(sel, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                             fetched_at: datetime | None = None, resolve=None) -> ParsedPage:
    """Parse a 7.x ``viewthread.php`` page into the thread, its posts, authors, stats and attachments.

    ``sel``: the page's Selector or root element. ``resolve`` (href -> :class:`~scraper.urls.Target`, the site's
    learned rules) reads an author link that neither the default spellings nor the post's author areas say the
    uid of (:func:`.authors.author_uid`)."""
    parts = _PageParts(_root(sel))
    return _thread_page(parts, parts.post_nodes(), url, now=now, tz=tz, fetched_at=fetched_at, resolve=resolve)


def _thread_page(found: _PageParts, nodes: list, url: str, *, now: datetime | None, tz: tzinfo,
                 fetched_at: datetime | None, resolve) -> ParsedPage:
    """:func:`parse_legacy_thread_page`, given the page's parts and what :data:`POST_NODES` finds."""
    target = classify(url)
    page = ParsedPage(url=url, kind=KIND_VIEWTHREAD, fetched_at=fetched_at)
    root = found.root
    thread = _thread_header(found, url, target.tid)
    page.tid, page.fid = thread.tid, thread.fid
    pagers = found.pagers
    page.page = _current_page(root, pagers, target.page)
    page.pages = thread.pages = _page_count(root, pagers)

    users: dict[int, User] = {}
    previous_floor: int | None = None
    for node in nodes:
        m = _NUMERIC_POST_ID.match(node.get("id", ""))
        pid = as_int(m.group(1)) if m else None
        if pid is None:
            continue
        parts = _PostParts(node, pid)
        post, attachments = _parse_post(parts, pid, thread.tid, url, now=now, tz=tz, resolve=resolve)
        post.page = page.page
        if post.floor is None and previous_floor is not None:
            post.floor = previous_floor + 1
        previous_floor = post.floor
        post.is_first = post.floor == 1
        page.posts.append(post)
        page.attachments.extend(attachments)
        if post.is_first:
            thread.author, thread.author_uid = post.author, post.author_uid
            thread.created_at, thread.created_at_text = post.posted_at, post.posted_at_text
        if post.author_uid:
            user = users.setdefault(post.author_uid, User(uid=post.author_uid, username=post.author))
            _read_author_column(parts, pid, user, page, now)
    fill_floors_backwards(page.posts, page.page)

    items = _item_count(pagers)
    filtered = "authorid" in url  # 只看该作者: the pager then counts that author's posts only
    if items is not None and not filtered:
        thread.replies = max(0, items - 1)
    elif page.page == page.pages and page.posts and not filtered:
        # 7.0's pager shows no count (multi() with shownum off) and the page no 回复 figure; the last page's
        # last floor is the number of posts shown (floors count the posts before this page too). Goods posts
        # of a trade thread count in replies but are no floors: viewthread.php takes 商品数 off before paging.
        last = page.posts[-1].floor
        if last is None and page.pages == 1:
            last = len(page.posts)  # no pager: every post of the thread is on this page
        if last is not None:
            thread.replies = max(0, last - 1) + _trade_count(found)
    thread.is_closed = _closed_by_last_moderation(found)
    page.users = list(users.values())
    page.threads = [thread]
    return page


def _trade_count(found: _PageParts) -> int:
    """商品数 of a 7.x trade thread's goods box (``div.tradectrl em``: ``商品数: 2``), else 0."""
    for text in found.trade_counts():
        m = _TRADE_COUNT.search(text)
        if m and as_int(m.group(1)) is not None:
            return as_int(m.group(1))
    return 0


def _closed_by_last_moderation(found: _PageParts) -> bool | None:
    """Whether the thread is closed, as far as a 7.x page tells: its last moderation line
    (``div.modact``: 本主题由 X 于 T 关闭) says 关闭 / 打开; ``None`` when the page shows no such line."""
    for text in found.moderation_lines():
        words = tidy_text(text).split(" ")
        if _THREAD_MOD_BY.match(words[0]) and len(words) > 1:
            return _CLOSING_ACTIONS.find(words[-1])
    return None


def _thread_header(found: _PageParts, url: str, tid_from_url: int | None) -> Thread:
    """tid, fid, forum name and title from the breadcrumb, the reply button and ``div#threadtitle``."""
    fid = tid = None
    forum_name = None
    for a in found.nav_links():
        href = a.get("href", "")
        fm = FID_IN_HREF.search(href)
        if fm and ("forumdisplay" in href or "forum-" in href) and as_int(fm.group(1)) is not None:
            fid, forum_name = as_int(fm.group(1)), tidy_text(text_of(a)) or forum_name
    # The reply/new-post buttons carry both ids: post.php?action=reply&fid=F&tid=T.
    for href in _thread_buttons(found.root):
        href = href.replace("&amp;", "&")
        if fid is None and FID_IN_HREF.search(href):
            fid = as_int(FID_IN_HREF.search(href).group(1))
        if tid is None and TID_IN_HREF.search(href):
            tid = as_int(TID_IN_HREF.search(href).group(1))
    tid = tid_from_url or tid

    title = None
    prefix = None
    heading = found.title_headings()
    if heading:
        prefix_link = _X_PREFIX_LINKS(heading[0])
        if prefix_link:
            prefix = type_prefix(prefix_link)
            title = tidy_text("".join(_X_TITLE_TEXTS(heading[0])))
        else:
            title = tidy_text(text_of(heading[0]))
    if not title:
        # Later pages have no div#threadtitle: the breadcrumb ends with "» subject" as plain text.
        title = tidy_text(found.nav_tail()).lstrip("»› ").strip()
    return Thread(tid=tid, fid=fid, title=title or None, type_prefix=prefix, forum_name=forum_name, url=url,
                  status=STATUS_OK)


class _PageParts:
    """What the thread page's XPaths over every div find (:data:`POST_NODES`, :data:`_PAGERS`, :data:`_NAV_LINKS`,
    the ``div#threadtitle`` heading, the ``div.tradectrl`` and ``div.modact`` lines, the ``div.showmessage`` box of a
    page that is no thread page), from one walk of the page's
    divs (the id and class tested here as the XPaths test them) instead of a walk of the page per XPath. Where
    the walk alone cannot say the XPath's order (a repeated id, nested boxes), the XPath itself runs."""

    __slots__ = ("moderations", "navs", "pagers", "postlists", "root", "showmessages", "titles", "trades")

    def __init__(self, root):
        self.root = root = root.getroottree().getroot()
        postlists, navs, titles, pagers, trades, moderations, showmessages = [], [], [], [], [], [], []
        for div in root.iter("div"):
            ident = div.get("id")
            if ident is not None:
                if ident == "postlist":
                    postlists.append(div)
                elif ident == "nav":
                    navs.append(div)
                elif ident == "threadtitle":
                    titles.append(div)
            cls = div.get("class")
            if cls is not None:
                if "pages" in cls and _holds(cls, "pages") and next(div.iterancestors("tbody"), None) is None:
                    pagers.append(div)
                if "tradectrl" in cls and _holds(cls, "tradectrl"):
                    trades.append(div)
                if "modact" in cls and _holds(cls, "modact"):
                    moderations.append(div)
                if "showmessage" in cls and _holds(cls, "showmessage"):
                    showmessages.append(div)
        self.postlists, self.navs, self.titles = postlists, navs, titles
        self.pagers, self.trades, self.moderations, self.showmessages = pagers, trades, moderations, showmessages

    def post_nodes(self) -> list:
        """``POST_NODES``: ``div#postlist > div[id^=post_]``."""
        if len(self.postlists) > 1:
            return _X_POST_NODES(self.root)
        return [div for postlist in self.postlists for div in postlist.iterchildren("div")
                if div.get("id", "").startswith("post_")]

    def nav_links(self) -> list:
        """``_NAV_LINKS``: every ``a`` inside ``div#nav``."""
        if len(self.navs) > 1:
            return _X_NAV_LINKS(self.root)
        return [a for nav in self.navs for a in nav.iter("a")]

    def nav_tail(self) -> str:
        """The first of ``div#nav``'s last text nodes (in page order), or ``""``."""
        if len(self.navs) > 1:
            tail = _X_NAV_TAIL(self.root)
            return tail[0] if tail else ""
        for nav in self.navs:
            text = _X_LAST_TEXT(nav)
            if text:
                return text[0]
        return ""

    def title_headings(self) -> list:
        """``div#threadtitle > h1``."""
        if len(self.titles) > 1:
            return _X_TITLE_HEADINGS(self.root)
        return [h1 for div in self.titles for h1 in div.iterchildren("h1")]

    def trade_counts(self) -> list:
        """``div.tradectrl > em`` text nodes."""
        return _child_texts(self.trades, _X_TRADE_COUNTS, _X_EM_TEXTS, self.root)

    def moderation_lines(self) -> list:
        """``div.modact > a`` text nodes."""
        return _child_texts(self.moderations, _X_MODERATION_LINES, _X_A_TEXTS, self.root)


def _child_texts(divs: list, whole, each, root) -> list:
    """What ``whole`` (``/descendant::div[…]/TAG/text()``) finds, from the divs it starts from (``divs``, in page
    order) and ``each`` (``./TAG/text()``); ``whole`` itself where one div is inside another."""
    if len(divs) > 1 and _nested(divs):
        return whole(root)
    return [text for div in divs for text in each(div)]


def _thread_buttons(root) -> list:
    """``_THREAD_BUTTONS``' hrefs (the reply and print links), by a walk of the page's links."""
    found = []
    for a in root.getroottree().getroot().iter("a"):
        href = a.get("href")
        if href is not None and ("post.php?action=reply" in href or "viewthread.php?action=printable" in href):
            found.append(href)
    return found


class _PostParts:
    """What the post XPaths below find in ``div#post_PID`` (:data:`_AUTHOR_LINKS`, :data:`_AUTHOR_AREAS`,
    :data:`_AVATARS`, :data:`_ATTACH_LISTS`, :data:`_LOCKED_NOTES`, :data:`_AUTHOR_COLUMN`), from one walk of the
    post that stops only at ``td`` and ``div`` (their class tested here as :func:`.common.has_class` does) instead
    of a walk per XPath. Where the parts nest so that page order is not plain, the XPath itself runs."""

    __slots__ = ("areas", "authorinfos", "avatars", "columns", "contents", "lists", "locked", "node", "order", "pid",
                 "postinfos", "userinfos")

    def __init__(self, node, pid: int):
        self.node, self.pid = node, pid
        userinfo = f"userinfo{pid}"
        columns, contents, postinfos, authorinfos, avatars, locked, lists, userinfos = [], [], [], [], [], [], [], []
        areas = []  # _AUTHOR_AREAS: the first td.postauthor and every div.authorinfo, in page order (the walk's)
        order = {}  # where the walk met the divs author links are found in
        for at, el in enumerate(node.iterdescendants("td", "div")):
            cls = el.get("class")
            if el.tag == "td":
                if cls is not None:
                    if "postauthor" in cls and _holds(cls, "postauthor"):
                        if not columns:
                            areas.append(el)
                        columns.append(el)
                    if "postcontent" in cls and _holds(cls, "postcontent"):
                        contents.append(el)
                continue
            if el.get("id") == userinfo:
                userinfos.append(el)
                order[el] = at
            if cls is None:
                continue
            if "post" in cls:
                if "postinfo" in cls and _holds(cls, "postinfo"):
                    postinfos.append(el)
                    order[el] = at
                if "postattachlist" in cls and _holds(cls, "postattachlist"):
                    lists.append(el)
            if "authorinfo" in cls and _holds(cls, "authorinfo"):
                authorinfos.append(el)
                areas.append(el)
                order[el] = at
            if "avatar" in cls and _holds(cls, "avatar"):
                avatars.append(el)
            if "locked" in cls and _holds(cls, "locked"):
                locked.append(el)
        self.columns, self.contents, self.postinfos, self.authorinfos = columns, contents, postinfos, authorinfos
        self.avatars, self.locked, self.lists, self.userinfos, self.areas = avatars, locked, lists, userinfos, areas
        self.order = order

    def author_link(self):
        """``_AUTHOR_LINKS(node, pid)[0]``, or ``None``: the first link of each branch, the first of those in page
        order (a branch is not searched when the link found already comes before where its links are)."""
        node = self.node
        if len(self.userinfos) > 1:
            return next(iter(_X_AUTHOR_LINKS(node, pid=str(self.pid))), None)
        first = box = None  # the link found first so far, and the walked div it is in
        # td.postauthor > div.postinfo // a[href*=uid]: the first such div with a link holds the branch's first
        # (a div inside it is walked with it).
        infos = [div for div in self.postinfos if _parent_in(div, self.columns)]
        for div in infos:
            first = next((a for a in div.iter("a") if "uid" in a.get("href", "")), None)
            if first is not None:
                box = div
                break
        # div.authorinfo > a[href*=uid]: each inside a div.authorinfo, so after the first of those starts.
        authorinfos = self.authorinfos
        if authorinfos and (first is None or not self._before(first, box, authorinfos[0])):
            if len(authorinfos) > 1 and _nested(authorinfos):
                return next(iter(_X_AUTHOR_LINKS(node, pid=str(self.pid))), None)
            for div in authorinfos:
                link = next((a for a in div.iterchildren("a") if "uid" in a.get("href", "")), None)
                if link is not None:
                    if first is None or precedes(link, first, node):
                        first, box = link, div
                    break
        # div#userinfoPID // div.popuserinfo / p / a[href*=uid]: inside div#userinfoPID.
        if self.userinfos and (first is None or not self._before(first, box, self.userinfos[0])):
            link = _card_link(self.userinfos[0])
            if link is not None and (first is None or precedes(link, first, node)):
                first = link
        return first

    def _before(self, link, box, div) -> bool:
        """Whether ``link`` (inside the walked ``box``) comes before the walked ``div`` in page order: ``div`` starts
        before ``box`` (so before the link), or after it and outside it (so after the link); inside it, compared."""
        if div is box or self.order[div] < self.order[box]:
            return False
        for above in div.iterancestors():
            if above is box:
                return precedes(link, div, self.node)
            if above is self.node:
                break
        return True

    def author_areas(self) -> list:
        """``_AUTHOR_AREAS(node)``: the first ``td.postauthor`` and every ``div.authorinfo``, in page order."""
        return list(self.areas)

    def avatars_in_column(self) -> list:
        """``_AVATARS(node)``: ``td.postauthor > div.avatar``."""
        return [div for div in self.avatars if _parent_in(div, self.columns)]

    def locked_notes(self) -> list:
        """``_LOCKED_NOTES(node)``: every ``div.locked`` inside a ``td.postcontent``."""
        if not self.locked or not self.contents:
            return []
        return [div for div in self.locked if any(td in self.contents for td in div.iterancestors("td"))]


def _card_link(userinfo):
    """``_X_CARD_LINKS(userinfo)[0]`` (``./descendant::div[has_class('popuserinfo')]/p/a[contains(@href, 'uid')]``),
    or ``None``: the hover card's divs walked, the class tested here."""
    cards = [div for div in userinfo.iterdescendants("div")
             if "popuserinfo" in div.get("class", "") and _holds(div.get("class"), "popuserinfo")]
    if len(cards) > 1 and _nested(cards):
        return next(iter(_X_CARD_LINKS(userinfo)), None)
    for card in cards:
        for p in card.iterchildren("p"):
            for a in p.iterchildren("a"):
                if "uid" in a.get("href", ""):
                    return a
    return None


def _parent_in(el, elements: list) -> bool:
    parent = el.getparent()
    return parent is not None and parent in elements


def _holds(cls: str, name: str) -> bool:
    """What :func:`.common.has_class` tests, given the element's class value: ``name`` is one of its words, the
    value split at XML white space only (normalize-space(); U+3000 or U+00A0 split no words)."""
    if "\t" in cls or "\n" in cls or "\r" in cls:
        cls = _XML_SPACES.sub(" ", cls)
    return f" {name} " in f" {cls} "


def _parse_post(parts: _PostParts, pid: int, tid: int | None, url: str, *, now: datetime | None,
                tz: tzinfo, resolve=None) -> tuple[Post, list[Attachment]]:
    node = parts.node
    post = Post(pid=pid, tid=tid, url=url)
    attachments: list[Attachment] = []
    first = parts.author_link()
    author_link = [first] if first is not None else [
        # An admin's own space rule (u-5.html): the same places, the links that show a name.
        a for a in _X_AUTHOR_NAME_LINKS(node, pid=str(pid)) if is_member_link(a)][:1]
    if author_link:
        post.author = tidy_text(text_of(author_link[0])) or None
        post.author_uid = author_uid(author_link[0].get("href"), parts.author_areas(), resolve)
    else:
        # Guests ("游客 <em>ip</em>"), anonymous posts ("匿名"), deleted users ("name <em>该用户已被删除</em>").
        avatar = parts.avatars_in_column()
        if avatar:
            post.author = tidy_text(" ".join(_X_TEXTS_OUTSIDE_EM(avatar[0]))) or None

    read_post_time(node, pid, post, now=now, tz=tz)
    post.floor = post_floor(node, pid)

    message_el = by_id_within(node, f"postmessage_{pid}", ("td",))
    if message_el:
        read_message(message_el[0], post, attachments, url, now=now, tz=tz)
    for listing in parts.lists:
        _attachment_list(listing, pid, url, attachments)
    post.status = _post_status(parts.locked_notes(), has_message=bool(message_el))
    return post, attachments


def _attachment_list(listing, pid: int, base_url: str, out: list[Attachment]) -> None:
    """``div.postattachlist``: one ``dl.t_attachlist`` per attachment; ``dl.attachimg`` ones are images."""
    seen = {a.url for a in out}
    for dl in _X_ATTACH_DLS(listing):
        link = _X_ATTACH_LINKS(dl)
        name = tidy_text(text_of(link[0])) if link else None
        aid = None
        if link:
            m = _AID.search(link[0].get("id", "")) or _AID.search(link[0].get("href", "").replace("&amp;", "&"))
            aid = as_int(m.group(1)) if m else None
        image = None
        for img in _X_ATTACH_IMAGES(dl):
            if not is_smilie(img) and "attachicons" not in (img.get("src") or ""):
                image = image_url(img, base_url)
                if image:
                    name = name or img.get("alt")
                    break
        if image:
            kind, media_url = "image", image
        elif link and _absolute(link[0].get("href", ""), base_url):
            kind, media_url = "file", _absolute(link[0].get("href", ""), base_url)
        else:
            continue
        if media_url not in seen:
            seen.add(media_url)
            out.append(Attachment(pid=pid, url=media_url, name=name or None, kind=kind, aid=aid))


def _absolute(href: str, base_url: str) -> str | None:
    return join_url(base_url, href.replace("&amp;", "&"))


def _post_status(notes: list, *, has_message: bool) -> str:
    """The post state from its ``div.locked`` notes (attachment notes excepted)."""
    for locked in notes:
        text = tidy_text(text_of(locked))
        if _ATTACHMENT_NOTE.match(text):
            continue
        for pattern, state in LOCKED_STATES:
            if pattern.search(text):
                if state == POST_HIDE_PARTIAL and not has_message:
                    continue
                return state
    return POST_OK


def _read_author_column(parts: _PostParts, pid: int, user: User, page: ParsedPage, now: datetime | None) -> None:
    """Stats (``dl.profile`` and the hover card's ``dl``), group title and custom title from ``td.postauthor``."""
    if not parts.columns:  # _AUTHOR_COLUMN: the first td.postauthor
        return
    column = parts.columns[0]
    if user.registered_at_text is not None and user.last_login_text is not None and \
            any(s.uid == user.uid for s in page.user_stats):
        # The user's block is read and the two fields its pairs can give are set: reading it again would change
        # nothing (apply_user_fields keeps first values); only the titles may still be missing.
        stats, fields = None, {}
        if user.group_title is not None and user.custom_title is not None:
            return
    else:
        stats, fields = parse_stats_block(column, user.uid, seen_at=now)
        # 7.x puts the group title in <p><em>, next to hover-card <em>s (当前离线, nickname) that are not titles.
        for key in ("group_title", "group_id", "custom_title"):
            fields.pop(key, None)
    title = _column_title(column, f"userinfo{pid}_a")
    if title is not None:
        fields["group_title"] = tidy_text(text_of(title)) or None
    custom = next((p for p in column.iter("p") if "customstatus" in p.get("class", "")
                   and _holds(p.get("class"), "customstatus")), None)  # _X_CUSTOM_STATUS(column)[0], walked
    if custom is not None:
        fields["custom_title"] = tidy_text(text_of(custom)) or None
    apply_user_fields(user, fields)
    if stats is not None and stats.raw and not any(s.uid == stats.uid for s in page.user_stats):
        page.user_stats.append(stats)


def _column_title(column, card: str):
    """``_X_COLUMN_TITLES(column, card=card)[0]`` (``./div[@id=$card]/p/em | ./p/em``), or ``None``: the column's
    children in order, each one's own subtree."""
    for child in column:
        tag = child.tag
        if tag == "p":
            for em in child.iterchildren("em"):
                return em
        elif tag == "div" and child.get("id") == card:
            for p in child.iterchildren("p"):
                for em in p.iterchildren("em"):
                    return em
    return None


# --- forum lists ----------------------------------------------------------------------------

def parse_legacy_forum_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                            fetched_at: datetime | None = None) -> ParsedPage:
    """Parse a 7.x ``forumdisplay.php`` page: the forum and its parents, sub-forums, thread rows, pages."""
    target = classify(url)
    page = ParsedPage(url=url, kind=KIND_FORUMDISPLAY, fetched_at=fetched_at)
    fid = target.fid
    if fid is None:
        summary = sel.xpath("/descendant::table[starts-with(@summary, 'forum_')]/@summary").get() or ""
        m = _SUMMARY_FID.match(summary)
        fid = as_int(m.group(1)) if m else None
    chain: list[Forum] = []
    for a in sel.xpath(_NAV_LINKS):
        href = a.attrib.get("href", "")
        name = tidy_text(a.xpath("string()").get()) or None
        gm, fm = GID_IN_HREF.search(href), FID_IN_HREF.search(href)
        gid, linked = as_int(gm.group(1)) if gm else None, as_int(fm.group(1)) if fm else None
        if gid is not None and ("index.php" in href or "forum.php" in href or href.startswith("?")):
            chain.append(Forum(fid=gid, name=name, type="group"))
        elif linked is not None and ("forumdisplay" in href or "forum-" in href) and linked != fid:
            chain.append(Forum(fid=linked, name=name, type="forum"))
    for parent, child in zip(chain, chain[1:]):
        child.parent_fid = parent.fid
        if parent.type != "group":
            child.type = "sub"
    page.forums.extend(chain)
    page.fid = fid
    if fid is not None:
        name = tidy_text(sel.xpath("string(/descendant::div[@id='forumheader']/h1)").get() or "") or None
        if name is None:
            name = tidy_text(sel.xpath("/descendant::div[@id='nav']/text()[last()]").get() or "").lstrip("»› ").strip() or None
        parent = chain[-1] if chain else None
        page.forums.append(Forum(fid=fid, name=name, parent_fid=parent.fid if parent else None,
                                 type="sub" if parent is not None and parent.type != "group" else "forum"))
        for link in sel.xpath(f"/descendant::div[@id='subforum']//h2/a[{_FORUM_HREF}]"):
            m = FID_IN_HREF.search(link.attrib.get("href", ""))
            sub_fid = as_int(m.group(1)) if m else None
            if sub_fid is not None and sub_fid != fid and all(f.fid != sub_fid for f in page.forums):
                page.forums.append(Forum(fid=sub_fid, name=tidy_text(link.xpath("string()").get()) or None,
                                         parent_fid=fid, type="sub"))
    page.page = legacy_current_page(sel, target.page)
    page.pages = legacy_page_count(sel)
    page.threads = list_rows(sel.xpath(THREAD_ROWS), fid, lambda row, tid: _parse_row(row, tid, now=now, tz=tz))
    return page


def _parse_row(row: Selector, tid: int, *, now: datetime | None, tz: tzinfo) -> Thread:
    thread = Thread(tid=tid, is_sticky=row.attrib.get("id", "").startswith("stickthread_"))
    title = row.xpath(f"./descendant::span[@id='thread_{tid}']/a | ./descendant::th[{has_class('subject')}]"
                      "//a[contains(@href, 'viewthread.php') or contains(@href, 'thread-')][1]")
    if title:
        thread.title = tidy_text(title[0].xpath("string()").get()) or None
    prefix = row.xpath(".//th//em/a[contains(@href, 'typeid=') or contains(@href, 'sortid=')]")
    thread.type_prefix = type_prefix(prefix)
    thread.is_digest = bool(row.xpath("./descendant::img[contains(@src, 'digest_')]"))
    # A lock folder icon is the only sign of a closed thread; without it the row does not say.
    thread.is_closed = True if row.xpath("./descendant::img[contains(@src, 'folder_lock')]") else None
    author_cell = row.xpath(f"./descendant::td[{has_class('author')}]")
    if author_cell:
        link = author_cell[0].xpath("./cite/a")
        if link:
            thread.author = tidy_text(link[0].xpath("string()").get()) or None
            thread.author_uid = uid_from_href(link[0].attrib.get("href"))
        else:
            thread.author = tidy_text(author_cell[0].xpath("string(./cite)").get()) or None
        created = tidy_text(author_cell[0].xpath("string(./em)").get() or "")
        if created:
            thread.created_at_text = created
            # dgmdate() wraps recent times (昨天 / N 天前 H:i) in a span whose title is the exact time.
            thread.created_at = parse_discuz_time(created, author_cell[0].xpath("./em//span/@title").get(),
                                                  now=now, tz=tz)
            if thread.created_at is not None and ":" not in created:
                # 7.x lists show the date only (dateformat): keep a date, not a made-up midnight.
                thread.created_at = thread.created_at.date()
    nums = row.xpath(f"./descendant::td[{has_class('nums')}]")
    if nums:
        thread.replies = parse_int(nums[0].xpath("string(./strong)").get())
        thread.views = parse_int(nums[0].xpath("string(./em)").get())
    last = row.xpath(f"./descendant::td[{has_class('lastpost')}]")
    if last:
        thread.last_poster = tidy_text(last[0].xpath("string(./cite)").get() or "") or None
        shown = tidy_text(last[0].xpath("string(./em)").get() or "")
        if shown:
            thread.last_post_at_text = shown
            thread.last_post_at = parse_discuz_time(shown, last[0].xpath("./em//span/@title").get(), now=now, tz=tz)
    return thread


# --- index ----------------------------------------------------------------------------------

def parse_legacy_index_page(sel: Selector, url: str, *, fetched_at: datetime | None = None) -> ParsedPage:
    """Parse the 7.x index: every category (``table#category_GID``), its forums and their sub-forums."""
    page = ParsedPage(url=url, kind=KIND_INDEX, fetched_at=fetched_at)
    seen: set[int] = set()
    for table in sel.xpath("/descendant::table[starts-with(@id, 'category_')]"):
        m = _CATEGORY_ID.match(table.attrib.get("id", ""))
        gid = as_int(m.group(1)) if m else None
        if gid is None:
            continue
        header = table.xpath("preceding-sibling::h3[1]")
        name = tidy_text(header[0].xpath("string()").get()) if header else None
        if gid not in seen:
            seen.add(gid)
            page.forums.append(Forum(fid=gid, name=name or None, type="group"))
        for link in table.xpath(f".//h2/a[{_FORUM_HREF}]"):
            fm = FID_IN_HREF.search(link.attrib.get("href", ""))
            fid = as_int(fm.group(1)) if fm else None
            if fid is None:
                continue
            cell = link.xpath("ancestor::th[1]")
            description = None
            if cell:
                for p in cell[0].xpath(".//p"):
                    text = tidy_text(p.xpath("string()").get())
                    if text and not _INDEX_LINE_LABELS.match(text) and not p.xpath(f"./descendant::a[{_FORUM_HREF}]"):
                        description = text
                        break
            if fid not in seen:
                seen.add(fid)
                page.forums.append(Forum(fid=fid, name=tidy_text(link.xpath("string()").get()) or None,
                                         parent_fid=gid, type="forum", description=description))
            # "子版块: <a href=forumdisplay.php?fid=N><u>name</u></a>" under the forum's name.
            for sub in (cell[0].xpath(f".//p/descendant::a[{_FORUM_HREF}]") if cell else []):
                sm = FID_IN_HREF.search(sub.attrib.get("href", ""))
                sub_fid = as_int(sm.group(1)) if sm else None
                if sub_fid is not None and sub_fid not in seen:
                    seen.add(sub_fid)
                    page.forums.append(Forum(fid=sub_fid, name=tidy_text(sub.xpath("string()").get()) or None,
                                             parent_fid=fid, type="sub"))
    return page


# --- showmessage ----------------------------------------------------------------------------

def legacy_special_status(sel: Selector, boxes: list | None = None) -> tuple[str, str] | None:
    """``(status, message)`` for a 7.x ``div.showmessage`` page, else ``None``.

    The forum password form and the guest login form of ``nopermission.htm`` decide the state
    by themselves; otherwise the message text is classified like an X showmessage(). ``boxes``: what
    ``/descendant::div[has_class('showmessage')]`` finds (lxml elements), when the caller has it.
    """
    if boxes is None:
        boxes = _X_SHOWMESSAGES(_root(sel))
    if not boxes:
        return None
    box = Selector(root=boxes[0])
    if box.xpath("./descendant::input[@name='pw'] | ./ancestor::form[contains(@action, 'pwverify')]"):
        return STATUS_PASSWORD, tidy_text(box.xpath("string(./h1)").get())
    lines = []
    for p in box.xpath("./p"):
        # Skip the "如果您的浏览器没有自动跳转" / "[ 点击这里返回上一页 ]" link lines.
        if p.xpath("./a") and not "".join(p.xpath("./text()").getall()).strip():
            continue
        text = tidy_text(p.xpath("string()").get())
        if text:
            lines.append(text)
    message = " ".join(lines) or tidy_text(box.xpath("string(./h1)").get())
    if box.xpath("./descendant::form[@id='loginform'] | ./descendant::input[@name='username']"):
        return STATUS_LOGIN_REQUIRED, message
    return classify_message(message), message


__all__ = ["FAMILY_LEGACY", "FAMILY_X", "detect_family", "parse_legacy_page", "parse_legacy_thread_page",
           "parse_legacy_forum_page", "parse_legacy_index_page", "legacy_special_status", "legacy_page_count",
           "legacy_item_count"]
