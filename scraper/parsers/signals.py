"""Thread pages read from their sturdy signals alone, whatever the template or theme around them.

Every Discuz! generation from 5.5 to X3.5, and the themes built on them, keep a few ids because
their own JavaScript needs them: ``table#pidPID`` around a post, ``#postmessage_PID`` around its
body, ``#postnumPID`` on its floor, ``#authorpostonPID`` on its time (or, on 5.5/6.x, the bare text
``发表于 T``), links to the author's space (``space.php?uid=N``, ``home.php?mod=space&uid=N``,
``space-uid-N.html``) and the ``fid``/``tid`` script variables. When a page's skeleton is not one
the family parsers know, this module still reads every post those signals show, and
:func:`note_missing` names the fields the page did not let us read, so that the page is kept as
``partial`` rather than dropped.

Discuz! 5.5/6.x thread pages are read here too: their skeleton is exactly these signals
(``div.mainbox.viewthread > table#pidPID``, ``td.postauthor cite a``, ``strong#postnumPID``,
``div.postinfo`` with the time as text, ``div#postmessage_PID.t_msgfont``).
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import (
    KIND_PROFILE, KIND_VIEWTHREAD, POST_DELETED_FLOOR, STATUS_OK, STATUS_PARTIAL, Attachment, ParsedPage, Post,
    Thread, User,
)
from ..urls import FID_IN_HREF, TID_IN_HREF, classify, uid_from_avatar, uid_from_href
from .authors import is_member_link, stated_uid
from .common import by_id_within, class_holds, page_count, script_ids
from .content import text_of, tidy_text
from .dates import DEFAULT_TZ
from .thread import add_author, fill_floors_backwards, post_floor, post_status, read_message, read_post_time

FAMILY_6X = "6.x"

_PID_TABLES = "/descendant::table[starts-with(@id, 'pid')]"
_POST_DIVS = "/descendant::div[starts-with(@id, 'post_')]"
_MESSAGES = "/descendant::*[starts-with(@id, 'postmessage_')]"
_PID_TABLE_ID = re.compile(r"^pid(\d+)$")
_POST_DIV_ID = re.compile(r"^post_(\d+)$")
_MESSAGE_ID = re.compile(r"^postmessage_(\d+)$")
_HAS_MESSAGE = "count(./descendant::*[starts-with(@id, 'postmessage_')])"
# Links to a user's space, outside the post's body, its quotes and its signature.
_SPACE_LINKS = ("./descendant::a[contains(@href, 'space')][not(ancestor::*[starts-with(@id, 'postmessage_')])]"
                "[not(ancestor::blockquote)][not(ancestor::*[contains(@class, 'signatures') or contains(@class, 'sign')])]"
                "[not(ancestor::*[starts-with(@id, 'ratelog_') or starts-with(@id, 'comment_')])]")
# Where an author's name sits in the families' author columns and info lines.
_AUTHOR_AREAS = ("ancestor::td[contains(@class, 'postauthor') or contains(@class, 'pls')]"
                 " | ancestor::cite | ancestor::*[contains(@class, 'authi') or contains(@class, 'postinfo')"
                 " or contains(@class, 'authorinfo') or contains(@class, 'posterinfo')]")
_AUTHOR_COLUMNS = "./descendant::td[contains(@class, 'postauthor') or contains(@class, 'pls')]"
# Where the author is stated when no link names the uid (see .authors): the columns and the info lines.
_STATING_AREAS = _AUTHOR_COLUMNS + " | ./descendant::*[contains(@class, 'authi') or contains(@class, 'authorinfo')]"
_AREA_LINKS = ("./descendant-or-self::a[@href][not(ancestor::*[starts-with(@id, 'postmessage_') or starts-with(@id, 'comment_')"
               " or starts-with(@id, 'ratelog_')])][not(ancestor::blockquote)]")
_AUTHOR_HOOKS = _AUTHOR_COLUMNS + " | .//cite | ./descendant::*[contains(@class, 'authi') or contains(@class, 'authorinfo')]"
_THREAD_LINKS = ("/descendant::a[contains(@href, 'post.php?action=reply') or contains(@href, 'action=printable')"
                 " or contains(@href, 'mod=post&action=reply')]/@href")
_FORUM_CRUMBS = ("/descendant::div[@id='nav']/descendant::a[contains(@href, 'forumdisplay') or contains(@href, 'forum-')]"
                 " | /descendant::div[@id='pt']/descendant::a[contains(@href, 'forumdisplay') or contains(@href, 'forum-')]")
_TITLES = ("/descendant::*[@id='thread_subject'] | /descendant::div[@id='threadtitle']/h1"
           " | /descendant::div[contains(@class, 'viewthread')]/h1 | /descendant::div[contains(@class, 'viewthread')]//h1[1]")
_X_AREA_LINKS = etree.XPath(_AREA_LINKS)
# The XPaths above, compiled once (run on lxml elements, not a parsel Selector per node).
_X_PID_TABLES = etree.XPath(_PID_TABLES)
_X_POST_DIVS = etree.XPath(_POST_DIVS)
_X_MESSAGES = etree.XPath(_MESSAGES)
_X_FRAME_ANCESTORS = etree.XPath("ancestor::*[not(self::body) and not(self::html)]")
_X_HAS_MESSAGE = etree.XPath(_HAS_MESSAGE)
_X_AUTHOR_COLUMNS = etree.XPath(_AUTHOR_COLUMNS)
_X_STATING_AREAS = etree.XPath(_STATING_AREAS)
_X_AUTHOR_HOOKS = etree.XPath(f"boolean({_AUTHOR_HOOKS})")
_X_FORUM_CRUMBS = etree.XPath(_FORUM_CRUMBS)
_X_TITLES = etree.XPath(_TITLES)
_X_SUBJECTS = etree.XPath("/descendant::*[@id='thread_subject']")
_X_MESSAGE_OF = etree.XPath("descendant-or-self::*[@id=concat('postmessage_', $pid)]")  # what _post reads
_X_CURRENT_PAGE = etree.XPath(
    "/descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' pg ')]/strong/text()"
    " | /descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' pages ')]/strong/text()",
    smart_strings=False)
_X_IMAGE_URLS = etree.XPath("./descendant::img/@src")
_X_STRONG_TEXTS = etree.XPath("./strong/text()", smart_strings=False)
_X_6X_POST_TABLES = etree.XPath(
    "boolean(/descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' viewthread ')]"
    "[not(@id='postlist')][not(ancestor::div[@id='postlist'])]/table[starts-with(@id, 'pid')])")
_X_HAS_POSTLIST = etree.XPath("boolean(/descendant::div[@id='postlist'])")
_X_BY_ID = etree.XPath("id($id)")
# Fields Discuz renders on every post (deleted floors aside).
_FIELDS_ON_EVERY_POST = ("floor", "posted_at")


def has_post_signals(sel: Selector) -> bool:
    """Whether the page shows at least one post by a sturdy id (``table#pidN``, ``#postmessage_N``)."""
    return bool(_containers(_root(sel)))


def is_6x_thread(sel: Selector) -> bool:
    """Whether the page is a Discuz! 5.5/6.x thread: posts in ``div.mainbox.viewthread`` without 7.x's ``div#postlist``.
    ``sel``: the page's Selector or an element of it."""
    root = sel.root if isinstance(sel, Selector) else sel
    # The cheap test first (a 7.x page has div#postlist, found through the id index): the same answer.
    return not _has_postlist(root) and _X_6X_POST_TABLES(root)


def _has_postlist(root) -> bool:
    """Whether the page has a ``div#postlist`` (``_POSTLIST``): the element the id index holds, when it is one in
    the page; else the page is walked."""
    for el in _X_BY_ID(root, id="postlist"):
        if el.tag == "div" and el.get("id") == "postlist":
            top = el
            for top in el.iterancestors():
                pass
            if top.getparent() is None and top is root.getroottree().getroot():
                return True
    return _X_HAS_POSTLIST(root)


def post_containers(sel: Selector) -> list[tuple[int, Selector]]:
    """``(pid, element)`` per post, in page order: ``table#pidN``, else ``div#post_N``, else the
    largest element around ``#postmessage_N`` that holds no other post's message."""
    return [(pid, Selector(root=el)) for pid, el in _containers(_root(sel))]


def _root(sel):
    return sel.root if isinstance(sel, Selector) else sel


def _containers(root) -> list[tuple[int, etree._Element]]:
    """:func:`post_containers`, lxml elements."""
    found: list[tuple[int, etree._Element]] = []
    seen: set[int] = set()
    for xpath, pattern in ((_X_PID_TABLES, _PID_TABLE_ID), (_X_POST_DIVS, _POST_DIV_ID)):
        for el in xpath(root):
            m = pattern.match(el.get("id", ""))
            pid = as_int(m.group(1)) if m else None
            if pid is not None and pid not in seen:
                seen.add(pid)
                found.append((pid, el))
        if found:
            return found
    for message in _X_MESSAGES(root):
        m = _MESSAGE_ID.match(message.get("id", ""))
        pid = as_int(m.group(1)) if m else None
        if pid is None or pid in seen:
            continue
        seen.add(pid)
        container = message
        for ancestor in reversed(_X_FRAME_ANCESTORS(message)):
            if _X_HAS_MESSAGE(ancestor) > 1:
                break
            container = ancestor
        found.append((pid, container))
    return found


class _PageWalk:
    """What :data:`_THREAD_LINKS`, :data:`_FORUM_CRUMBS` and :data:`_CURRENT_PAGE` find, from one walk of the page's
    divs and links (ids, hrefs and classes tested here as the XPaths test them) instead of a walk of the page per
    XPath; the XPath itself where the walk cannot say its order (a repeated box, nested pagers)."""

    __slots__ = ("boxes", "pagers", "root", "thread_links")

    def __init__(self, root):
        self.root = root = root.getroottree().getroot()
        boxes, pagers, links = [], [], []
        for el in root.iter("div", "a"):
            if el.tag == "a":
                href = el.get("href")
                if href is not None and ("post.php?action=reply" in href or "action=printable" in href
                                         or "mod=post&action=reply" in href):
                    links.append(href)
                continue
            ident = el.get("id")
            if ident == "nav" or ident == "pt":
                boxes.append(el)
            cls = el.get("class")
            if cls is not None and ("pg" in cls and class_holds(el, "pg") or "pages" in cls and class_holds(el, "pages")):
                pagers.append(el)
        self.boxes, self.pagers, self.thread_links = boxes, pagers, links

    def crumbs(self) -> list:
        """``_FORUM_CRUMBS``: the forum links in ``div#nav`` and ``div#pt``."""
        if len(self.boxes) > 1:
            return _X_FORUM_CRUMBS(self.root)
        return [a for box in self.boxes for a in box.iterdescendants("a")
                if "forumdisplay" in a.get("href", "") or "forum-" in a.get("href", "")]

    def current_page_text(self) -> str | None:
        """The first of ``_CURRENT_PAGE``'s texts (``div.pg > strong``, ``div.pages > strong``), or ``None``."""
        if len(self.pagers) > 1 and any(up in self.pagers for pager in self.pagers for up in pager.iterancestors("div")):
            texts = _X_CURRENT_PAGE(self.root)
            return texts[0] if texts else None
        return next((text for pager in self.pagers for text in _X_STRONG_TEXTS(pager)), None)


def parse_signal_thread_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                             fetched_at: datetime | None = None, resolve=None) -> ParsedPage | None:
    """Read a thread page from its sturdy signals; ``None`` when it shows no post by them.

    The page is ``ok`` when every field was read and ``partial`` (with ``missing`` set) otherwise.
    ``resolve`` (href -> :class:`~scraper.urls.Target`, the site's learned rules) reads author links in a
    spelling no default rule knows.
    """
    root = _root(sel)
    containers = _containers(root)
    if not containers:
        return None
    target = classify(url)
    page = ParsedPage(url=url, kind=KIND_VIEWTHREAD, fetched_at=fetched_at)
    walk = _PageWalk(root)
    thread = _thread(sel if isinstance(sel, Selector) else Selector(root=root), walk, url, target.tid)
    page.tid, page.fid = thread.tid, thread.fid
    page.pages = thread.pages = page_count(root)
    page.page = _current_page(walk, target.page)
    users: dict[int, User] = {}
    for pid, node in containers:
        post, attachments = _post(node, pid, thread.tid, url, now=now, tz=tz, resolve=resolve)
        post.page = page.page
        page.posts.append(post)
        page.attachments.extend(attachments)
        column = _X_AUTHOR_COLUMNS(node)
        add_author(page, users, post, column[0] if column else None, now)
    _number_floors(page.posts, page.page)
    first = next((p for p in page.posts if p.is_first), None)
    if first is not None:
        thread.author, thread.author_uid = first.author, first.author_uid
        thread.created_at, thread.created_at_text = first.posted_at, first.posted_at_text
    page.users = list(users.values())
    page.threads = [thread]
    if not any(_X_AUTHOR_HOOKS(node) or post.author_uid for (_, node), post in zip(containers, page.posts)):
        page.missing.append("post.author")
    note_missing(page)
    return page


def note_missing(page: ParsedPage) -> ParsedPage:
    """Mark a thread page ``partial`` when a field every Discuz post shows was not read.

    Floors and times are rendered for every post but a deleted floor; a post without them means
    the page hid them from us. ``missing`` lists ``post.<field>`` names, and ``message`` says on how
    many posts. Pages already in another state keep it.
    """
    shown = [p for p in page.posts if p.status != POST_DELETED_FLOOR]
    lacking = {}
    for name in _FIELDS_ON_EVERY_POST:
        count = sum(1 for p in shown if getattr(p, name) is None)
        if count:
            lacking[f"post.{name}"] = count
            if f"post.{name}" not in page.missing:
                page.missing.append(f"post.{name}")
    if page.missing and page.status in (STATUS_OK, STATUS_PARTIAL):
        page.status = STATUS_PARTIAL
        page.message = "partial: not read " + ", ".join(
            f"{name} ({lacking[name]} of {len(shown)} posts)" if name in lacking else name for name in page.missing)
    return page


def _post(node: etree._Element, pid: int, tid: int | None, url: str, *, now: datetime | None,
          tz: tzinfo, resolve=None) -> tuple[Post, list[Attachment]]:
    post = Post(pid=pid, tid=tid, url=url)
    attachments: list[Attachment] = []
    link = _author_link(node)
    if link is not None:
        post.author = tidy_text(text_of(link)) or None
        post.author_uid = uid_from_href(link.get("href"))
    else:
        post.author, post.author_uid = _stated_author(node, resolve)
    read_post_time(node, pid, post, now=now, tz=tz)
    post.floor = post_floor(node, pid)
    # descendant-or-self::*[@id='postmessage_PID']: the node itself, else through the id index (by_id_within).
    key = f"postmessage_{pid}"
    message = [node] if node.get("id") == key else by_id_within(node, key)
    if message:
        read_message(message[0], post, attachments, url, now=now, tz=tz)
    post.status = post_status(node, has_message=bool(message))
    return post, attachments


def _author_link(node: etree._Element) -> etree._Element | None:
    """The post's author: the first named space link in an author area, else the first named one.

    What :data:`_SPACE_LINKS` finds and :data:`_AUTHOR_AREAS` tests, by a walk of the post's links and of the
    ancestors of those whose href names a space (the ids, tags and classes tested here as the XPaths test them)."""
    first_named = None
    for a in node.iterdescendants("a"):
        href = a.get("href")
        if href is None or "space" not in href:
            continue
        in_area = False
        for above in a.iterancestors():
            ident = above.get("id")
            if ident is not None and ident.startswith(("postmessage_", "ratelog_", "comment_")):
                break  # in a message, a rate log or a comment
            tag = above.tag
            if tag == "blockquote":
                break
            cls = above.get("class")
            if cls is not None:
                if "sign" in cls:  # contains(@class, 'signatures') or contains(@class, 'sign')
                    break
                if "authi" in cls or "postinfo" in cls or "authorinfo" in cls or "posterinfo" in cls or (
                        tag == "td" and ("postauthor" in cls or "pls" in cls)):
                    in_area = True
            if tag == "cite":
                in_area = True
        else:
            if uid_from_href(href) and tidy_text(text_of(a)):
                if in_area:
                    return a
                if first_named is None:
                    first_named = a
    return first_named


def _stated_author(node: etree._Element, resolve=None) -> tuple[str | None, int | None]:
    """(name, uid) of a post whose author's space link is in a spelling no default rule reads (an admin's own
    rule): the uid its author areas state (:mod:`.authors`) and the named link there that leads where the avatar
    does, else the named link the site's learned rule reads (``resolve``); ``(None, None)`` when neither."""
    areas = _X_STATING_AREAS(node)
    links = list(dict.fromkeys(a for area in areas for a in _X_AREA_LINKS(area)))
    named = [a for a in links if is_member_link(a)]
    uid = stated_uid(areas)
    if uid is not None:
        avatar_hrefs = {a.get("href") for a in links if any(uid_from_avatar(src) == uid for src in _X_IMAGE_URLS(a))}
        for a in named:
            if a.get("href") in avatar_hrefs:
                return tidy_text(text_of(a)) or None, uid
    if resolve is not None:
        for a in named:
            target = resolve(a.get("href"))
            if target.kind == KIND_PROFILE and target.uid and uid in (None, target.uid):
                return tidy_text(text_of(a)) or None, target.uid
    return None, None


def _number_floors(posts: list[Post], page: int | None) -> None:
    """Floors the page did not show: one more than the previous post's, or one less than the next's."""
    previous = None
    for post in posts:
        if post.floor is None and previous is not None:
            post.floor = previous + 1
        previous = post.floor
    fill_floors_backwards(posts, page)
    for post in posts:
        post.is_first = post.floor == 1


def _thread(sel: Selector, walk: _PageWalk, url: str, tid_from_url: int | None) -> Thread:
    fid, tid = script_ids(sel)
    tid = tid_from_url or tid
    root = walk.root
    for href in walk.thread_links:
        href = href.replace("&amp;", "&")
        if fid is None and FID_IN_HREF.search(href):
            fid = as_int(FID_IN_HREF.search(href).group(1))
        if tid is None and TID_IN_HREF.search(href):
            tid = as_int(TID_IN_HREF.search(href).group(1))
    forum_name = None
    crumbs = walk.crumbs()
    if crumbs:
        forum_name = tidy_text(text_of(crumbs[-1])) or None
        m = FID_IN_HREF.search(crumbs[-1].get("href", ""))
        if fid is None and m:
            fid = as_int(m.group(1))
    title = None
    for heading in _titles(root):
        title = tidy_text(text_of(heading))
        if title:
            break
    return Thread(tid=tid, fid=fid, title=title or None, forum_name=forum_name, url=url, status=STATUS_OK)


def _titles(root) -> list:
    """What :data:`_TITLES` finds. Its h1 branches by a walk of the page's h1s (the last branch,
    ``div[contains(@class, 'viewthread')]//h1[1]``, costs libxml2 a walk of every post's subtree per post when the
    posts' divs nest, as 5.5/6.x pages' unclosed divs make them); the whole XPath where an element has the id
    ``thread_subject`` (X themes), whose order among the h1s the walk does not know."""
    if _X_SUBJECTS(root):
        return _X_TITLES(root)
    found = []
    for h1 in root.getroottree().getroot().iter("h1"):
        parent = h1.getparent()
        if parent is not None and parent.tag == "div" and (
                parent.get("id") == "threadtitle" or "viewthread" in parent.get("class", "")):
            found.append(h1)  # div#threadtitle/h1, div[contains(@class, 'viewthread')]/h1
        elif next(h1.itersiblings("h1", preceding=True), None) is None and any(
                "viewthread" in div.get("class", "") for div in h1.iterancestors("div")):
            found.append(h1)  # the first h1 child of an element in such a div
    return found


def _current_page(walk: _PageWalk, default: int) -> int:
    text = walk.current_page_text()
    return (as_int(text.strip()) if text else None) or default


__all__ = ["FAMILY_6X", "has_post_signals", "is_6x_thread", "post_containers", "parse_signal_thread_page",
           "note_missing"]
