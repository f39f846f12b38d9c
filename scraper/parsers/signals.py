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
from .common import page_count, script_ids
from .content import tidy_text
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
_X_IMAGE_URLS = etree.XPath("./descendant::img/@src")
_X_STRING = etree.XPath("string()")
# Fields Discuz renders on every post (deleted floors aside).
_FIELDS_ON_EVERY_POST = ("floor", "posted_at")


def has_post_signals(sel: Selector) -> bool:
    """Whether the page shows at least one post by a sturdy id (``table#pidN``, ``#postmessage_N``)."""
    return bool(post_containers(sel))


def is_6x_thread(sel: Selector) -> bool:
    """Whether the page is a Discuz! 5.5/6.x thread: posts in ``div.mainbox.viewthread`` without 7.x's ``div#postlist``."""
    return bool(sel.xpath("/descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' viewthread ')]"
                          "[not(@id='postlist')][not(ancestor::div[@id='postlist'])]/table[starts-with(@id, 'pid')]")) \
        and not sel.xpath("/descendant::div[@id='postlist']")


def post_containers(sel: Selector) -> list[tuple[int, Selector]]:
    """``(pid, element)`` per post, in page order: ``table#pidN``, else ``div#post_N``, else the
    largest element around ``#postmessage_N`` that holds no other post's message."""
    found: list[tuple[int, Selector]] = []
    seen: set[int] = set()
    for xpath, pattern in ((_PID_TABLES, _PID_TABLE_ID), (_POST_DIVS, _POST_DIV_ID)):
        for el in sel.xpath(xpath):
            m = pattern.match(el.attrib.get("id", ""))
            pid = as_int(m.group(1)) if m else None
            if pid is not None and pid not in seen:
                seen.add(pid)
                found.append((pid, el))
        if found:
            return found
    for message in sel.xpath(_MESSAGES):
        m = _MESSAGE_ID.match(message.attrib.get("id", ""))
        pid = as_int(m.group(1)) if m else None
        if pid is None or pid in seen:
            continue
        seen.add(pid)
        container = message
        for ancestor in reversed(message.xpath("ancestor::*[not(self::body) and not(self::html)]")):
            if float(ancestor.xpath(_HAS_MESSAGE).get()) > 1:
                break
            container = ancestor
        found.append((pid, container))
    return found


def parse_signal_thread_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                             fetched_at: datetime | None = None, resolve=None) -> ParsedPage | None:
    """Read a thread page from its sturdy signals; ``None`` when it shows no post by them.

    The page is ``ok`` when every field was read and ``partial`` (with ``missing`` set) otherwise.
    ``resolve`` (href -> :class:`~scraper.urls.Target`, the site's learned rules) reads author links in a
    spelling no default rule knows.
    """
    containers = post_containers(sel)
    if not containers:
        return None
    target = classify(url)
    page = ParsedPage(url=url, kind=KIND_VIEWTHREAD, fetched_at=fetched_at)
    thread = _thread(sel, url, target.tid)
    page.tid, page.fid = thread.tid, thread.fid
    page.pages = thread.pages = page_count(sel)
    page.page = _current_page(sel, target.page)
    users: dict[int, User] = {}
    for pid, node in containers:
        post, attachments = _post(node, pid, thread.tid, url, now=now, tz=tz, resolve=resolve)
        post.page = page.page
        page.posts.append(post)
        page.attachments.extend(attachments)
        column = node.xpath(_AUTHOR_COLUMNS)
        add_author(page, users, post, column[0] if column else None, now)
    _number_floors(page.posts, page.page)
    first = next((p for p in page.posts if p.is_first), None)
    if first is not None:
        thread.author, thread.author_uid = first.author, first.author_uid
        thread.created_at, thread.created_at_text = first.posted_at, first.posted_at_text
    page.users = list(users.values())
    page.threads = [thread]
    if not any(node.xpath(_AUTHOR_HOOKS) or post.author_uid for (_, node), post in zip(containers, page.posts)):
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


def _post(node: Selector, pid: int, tid: int | None, url: str, *, now: datetime | None,
          tz: tzinfo, resolve=None) -> tuple[Post, list[Attachment]]:
    post = Post(pid=pid, tid=tid, url=url)
    attachments: list[Attachment] = []
    link = _author_link(node)
    if link is not None:
        post.author = tidy_text(link.xpath("string()").get()) or None
        post.author_uid = uid_from_href(link.attrib.get("href"))
    else:
        post.author, post.author_uid = _stated_author(node, resolve)
    read_post_time(node, pid, post, now=now, tz=tz)
    post.floor = post_floor(node, pid)
    message = node.xpath(f"descendant-or-self::*[@id='postmessage_{pid}']")
    if message:
        read_message(message[0], post, attachments, url, now=now, tz=tz)
    post.status = post_status(node, has_message=bool(message))
    return post, attachments


def _author_link(node: Selector) -> Selector | None:
    """The post's author: the first named space link in an author area, else the first named one."""
    named = [a for a in node.xpath(_SPACE_LINKS)
             if uid_from_href(a.attrib.get("href")) and tidy_text(a.xpath("string()").get())]
    for a in named:
        if a.xpath(_AUTHOR_AREAS):
            return a
    return named[0] if named else None


def _stated_author(node: Selector, resolve=None) -> tuple[str | None, int | None]:
    """(name, uid) of a post whose author's space link is in a spelling no default rule reads (an admin's own
    rule): the uid its author areas state (:mod:`.authors`) and the named link there that leads where the avatar
    does, else the named link the site's learned rule reads (``resolve``); ``(None, None)`` when neither."""
    areas = [area.root for area in node.xpath(_STATING_AREAS)]
    links = list(dict.fromkeys(a for area in areas for a in _X_AREA_LINKS(area)))
    named = [a for a in links if is_member_link(a)]
    uid = stated_uid(areas)
    if uid is not None:
        avatar_hrefs = {a.get("href") for a in links if any(uid_from_avatar(src) == uid for src in _X_IMAGE_URLS(a))}
        for a in named:
            if a.get("href") in avatar_hrefs:
                return tidy_text(_X_STRING(a)) or None, uid
    if resolve is not None:
        for a in named:
            target = resolve(a.get("href"))
            if target.kind == KIND_PROFILE and target.uid and uid in (None, target.uid):
                return tidy_text(_X_STRING(a)) or None, target.uid
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


def _thread(sel: Selector, url: str, tid_from_url: int | None) -> Thread:
    fid, tid = script_ids(sel)
    tid = tid_from_url or tid
    for href in sel.xpath(_THREAD_LINKS).getall():
        href = href.replace("&amp;", "&")
        if fid is None and FID_IN_HREF.search(href):
            fid = as_int(FID_IN_HREF.search(href).group(1))
        if tid is None and TID_IN_HREF.search(href):
            tid = as_int(TID_IN_HREF.search(href).group(1))
    forum_name = None
    crumbs = sel.xpath(_FORUM_CRUMBS)
    if crumbs:
        forum_name = tidy_text(crumbs[-1].xpath("string()").get()) or None
        m = FID_IN_HREF.search(crumbs[-1].attrib.get("href", ""))
        if fid is None and m:
            fid = as_int(m.group(1))
    title = None
    for heading in sel.xpath(_TITLES):
        title = tidy_text(heading.xpath("string()").get())
        if title:
            break
    return Thread(tid=tid, fid=fid, title=title or None, forum_name=forum_name, url=url, status=STATUS_OK)


def _current_page(sel: Selector, default: int) -> int:
    text = sel.xpath("/descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' pg ')]/strong/text()"
                     " | /descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' pages ')]/strong/text()").get()
    return (as_int(text.strip()) if text else None) or default


__all__ = ["FAMILY_6X", "has_post_signals", "is_6x_thread", "post_containers", "parse_signal_thread_page",
           "note_missing"]
