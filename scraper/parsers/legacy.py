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

from parsel import Selector

from ..digits import as_int
from ..items import (
    KIND_FORUMDISPLAY, KIND_INDEX, KIND_SPECIAL, KIND_VIEWTHREAD, POST_HIDE_PARTIAL, POST_OK, STATUS_LOGIN_REQUIRED,
    STATUS_OK, STATUS_PASSWORD, Attachment, Forum, ParsedPage, Post, Thread, User,
)
from ..urls import FID_IN_HREF, GID_IN_HREF, TID_IN_HREF, classify, join_url, uid_from_href
from .authors import author_uid, is_member_link
from .common import classify_message, detect_version, has_class, type_prefix
from .content import image_url, is_smilie, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .labels import LabelTable, label_pattern
from .numbers import parse_int
from .stats import apply_user_fields, parse_stats_block
from .forum import list_rows
from .profile import is_legacy_profile_page, parse_legacy_profile_page
from .thread import LOCKED_STATES, fill_floors_backwards, post_floor, read_message, read_post_time

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


def detect_family(sel: Selector, version: str | None = None) -> str:
    """``"7.x"`` or ``"x"``: from the generator/footer version when there is one, else from the markup."""
    version = detect_version(sel) if version is None else version
    if version:
        return FAMILY_LEGACY if version[:1].isdigit() else FAMILY_X
    return FAMILY_LEGACY if sel.xpath(LEGACY_MARKERS) else FAMILY_X


def parse_legacy_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                      fetched_at: datetime | None = None, resolve=None) -> ParsedPage | None:
    """Parse a 7.x thread, forum list, index, profile or showmessage page; ``None`` when it is none of these.
    ``resolve``: see :func:`parse_legacy_thread_page`."""
    if sel.xpath(POST_NODES):
        return parse_legacy_thread_page(sel, url, now=now, tz=tz, fetched_at=fetched_at, resolve=resolve)
    special = legacy_special_status(sel)
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


# --- pager ----------------------------------------------------------------------------------

def legacy_page_count(sel: Selector) -> int:
    """Pages of a 7.x list: ``var maxpage``, else ``a.last``, else the highest page link; 1 without a pager.

    The pager's ``em`` is deliberately ignored: it counts items, not pages.
    """
    m = _MAXPAGE.search(" ".join(sel.xpath("/descendant::script[not(@src)]/text()").re(r"var\s+maxpage\s*=\s*\d+")))
    if m:
        return max(1, as_int(m.group(1)) or 1)
    best = 1
    for pager in sel.xpath(_PAGERS):
        last = pager.xpath(f"./a[{has_class('last')}]/text()").get()
        if last and _DIGITS.search(last):
            best = max(best, as_int(_DIGITS.findall(last)[-1]) or 1)
        for text in pager.xpath("./a/text() | ./strong/text()").getall():
            text = text.strip().lstrip(".").strip()
            if as_int(text):
                best = max(best, as_int(text))
    return best


def legacy_item_count(sel: Selector) -> int | None:
    """The pager's ``<em>&nbsp;N&nbsp;</em>``: posts on a thread (replies + 1), threads on a forum."""
    for pager in sel.xpath(_PAGERS):
        value = parse_int(pager.xpath("string(./em)").get())
        if value is not None:
            return value
    return None


def legacy_current_page(sel: Selector, default: int) -> int:
    """The page the pager marks with ``strong``, else ``default`` (from the URL)."""
    text = sel.xpath(f"{_PAGERS}/strong/text()").get()
    return (as_int(text.strip()) if text else None) or default


# --- thread pages ---------------------------------------------------------------------------

def parse_legacy_thread_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                             fetched_at: datetime | None = None, resolve=None) -> ParsedPage:
    """Parse a 7.x ``viewthread.php`` page into the thread, its posts, authors, stats and attachments.

    ``resolve`` (href -> :class:`~scraper.urls.Target`, the site's learned rules) reads an author link that
    neither the default spellings nor the post's author areas say the uid of (:func:`.authors.author_uid`)."""
    target = classify(url)
    page = ParsedPage(url=url, kind=KIND_VIEWTHREAD, fetched_at=fetched_at)
    thread = _thread_header(sel, url, target.tid)
    page.tid, page.fid = thread.tid, thread.fid
    page.page = legacy_current_page(sel, target.page)
    page.pages = thread.pages = legacy_page_count(sel)

    users: dict[int, User] = {}
    previous_floor: int | None = None
    for node in sel.xpath(POST_NODES):
        m = _NUMERIC_POST_ID.match(node.attrib.get("id", ""))
        pid = as_int(m.group(1)) if m else None
        if pid is None:
            continue
        post, attachments = _parse_post(node, pid, thread.tid, url, now=now, tz=tz, resolve=resolve)
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
            _read_author_column(node, pid, user, page, now)
    fill_floors_backwards(page.posts, page.page)

    items = legacy_item_count(sel)
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
            thread.replies = max(0, last - 1) + _trade_count(sel)
    thread.is_closed = _closed_by_last_moderation(sel)
    page.users = list(users.values())
    page.threads = [thread]
    return page


def _trade_count(sel: Selector) -> int:
    """商品数 of a 7.x trade thread's goods box (``div.tradectrl em``: ``商品数: 2``), else 0."""
    for text in sel.xpath(f"/descendant::div[{has_class('tradectrl')}]/em/text()").getall():
        m = _TRADE_COUNT.search(text)
        if m and as_int(m.group(1)) is not None:
            return as_int(m.group(1))
    return 0


def _closed_by_last_moderation(sel: Selector) -> bool | None:
    """Whether the thread is closed, as far as a 7.x page tells: its last moderation line
    (``div.modact``: 本主题由 X 于 T 关闭) says 关闭 / 打开; ``None`` when the page shows no such line."""
    for text in sel.xpath(f"/descendant::div[{has_class('modact')}]/a/text()").getall():
        words = tidy_text(text).split(" ")
        if _THREAD_MOD_BY.match(words[0]) and len(words) > 1:
            return _CLOSING_ACTIONS.find(words[-1])
    return None


def _thread_header(sel: Selector, url: str, tid_from_url: int | None) -> Thread:
    """tid, fid, forum name and title from the breadcrumb, the reply button and ``div#threadtitle``."""
    fid = tid = None
    forum_name = None
    for a in sel.xpath(_NAV_LINKS):
        href = a.attrib.get("href", "")
        fm = FID_IN_HREF.search(href)
        if fm and ("forumdisplay" in href or "forum-" in href) and as_int(fm.group(1)) is not None:
            fid, forum_name = as_int(fm.group(1)), tidy_text(a.xpath("string()").get()) or forum_name
    # The reply/new-post buttons carry both ids: post.php?action=reply&fid=F&tid=T.
    for href in sel.xpath("/descendant::a[contains(@href, 'post.php?action=reply')]/@href"
                          " | /descendant::a[contains(@href, 'viewthread.php?action=printable')]/@href").getall():
        href = href.replace("&amp;", "&")
        if fid is None and FID_IN_HREF.search(href):
            fid = as_int(FID_IN_HREF.search(href).group(1))
        if tid is None and TID_IN_HREF.search(href):
            tid = as_int(TID_IN_HREF.search(href).group(1))
    tid = tid_from_url or tid

    title = None
    prefix = None
    heading = sel.xpath("/descendant::div[@id='threadtitle']/h1")
    if heading:
        prefix_link = heading[0].xpath("./descendant::a[contains(@href, 'typeid=') or contains(@href, 'sortid=')]")
        if prefix_link:
            prefix = type_prefix(prefix_link)
            title = tidy_text("".join(heading[0].xpath(
                "./descendant::text()[not(ancestor::a[contains(@href, 'typeid=') or contains(@href, 'sortid=')])]").getall()))
        else:
            title = tidy_text(heading[0].xpath("string()").get())
    if not title:
        # Later pages have no div#threadtitle: the breadcrumb ends with "» subject" as plain text.
        tail = sel.xpath("/descendant::div[@id='nav']/text()[last()]").get() or ""
        title = tidy_text(tail).lstrip("»› ").strip()
    return Thread(tid=tid, fid=fid, title=title or None, type_prefix=prefix, forum_name=forum_name, url=url,
                  status=STATUS_OK)


def _parse_post(node: Selector, pid: int, tid: int | None, url: str, *, now: datetime | None,
                tz: tzinfo, resolve=None) -> tuple[Post, list[Attachment]]:
    post = Post(pid=pid, tid=tid, url=url)
    attachments: list[Attachment] = []
    author_link = node.xpath(
        f"./descendant::td[{has_class('postauthor')}]/div[{has_class('postinfo')}]/descendant::a[contains(@href, 'uid')]"
        f" | ./descendant::div[{has_class('authorinfo')}]/a[contains(@href, 'uid')]"
        f" | ./descendant::div[@id='userinfo{pid}']/descendant::div[{has_class('popuserinfo')}]/p/a[contains(@href, 'uid')]"
    ) or [a for a in node.xpath(
        # An admin's own space rule (u-5.html): the same places, the links that show a name.
        f"./descendant::td[{has_class('postauthor')}]/div[{has_class('postinfo')}]/descendant::a"
        f" | ./descendant::div[{has_class('authorinfo')}]/a[{has_class('posterlink')}]"
        f" | ./descendant::div[@id='userinfo{pid}']/descendant::div[{has_class('popuserinfo')}]/p/a"
    ) if is_member_link(a.root)][:1]
    if author_link:
        post.author = tidy_text(author_link[0].xpath("string()").get()) or None
        areas = node.xpath(f"(./descendant::td[{has_class('postauthor')}])[1] | ./descendant::div[{has_class('authorinfo')}]")
        post.author_uid = author_uid(author_link[0].attrib.get("href"), [a.root for a in areas], resolve)
    else:
        # Guests ("游客 <em>ip</em>"), anonymous posts ("匿名"), deleted users ("name <em>该用户已被删除</em>").
        avatar = node.xpath(f"./descendant::td[{has_class('postauthor')}]/div[{has_class('avatar')}]")
        if avatar:
            post.author = tidy_text(" ".join(avatar[0].xpath("./descendant::text()[not(ancestor::em)]").getall())) or None

    read_post_time(node, pid, post, now=now, tz=tz)
    post.floor = post_floor(node, pid)

    message_el = node.xpath(f"./descendant::td[@id='postmessage_{pid}']")
    if message_el:
        read_message(message_el[0], post, attachments, url, now=now, tz=tz)
    for listing in node.xpath(f"./descendant::div[{has_class('postattachlist')}]"):
        _attachment_list(listing, pid, url, attachments)
    post.status = _post_status(node, has_message=bool(message_el))
    return post, attachments


def _attachment_list(listing: Selector, pid: int, base_url: str, out: list[Attachment]) -> None:
    """``div.postattachlist``: one ``dl.t_attachlist`` per attachment; ``dl.attachimg`` ones are images."""
    seen = {a.url for a in out}
    for dl in listing.xpath(f"./descendant::dl[{has_class('t_attachlist')}]"):
        link = dl.xpath("./descendant::a[starts-with(@id, 'aid')] | ./descendant::a[contains(@href, 'attachment.php?aid=')]")
        name = tidy_text(link[0].xpath("string()").get()) if link else None
        aid = None
        if link:
            m = _AID.search(link[0].attrib.get("id", "")) or _AID.search(link[0].attrib.get("href", "").replace("&amp;", "&"))
            aid = as_int(m.group(1)) if m else None
        image = None
        for img in dl.xpath("./descendant::img[not(ancestor::dt)]"):
            if not is_smilie(img.root) and "attachicons" not in (img.attrib.get("src") or ""):
                image = image_url(img.root, base_url)
                if image:
                    name = name or img.attrib.get("alt")
                    break
        if image:
            kind, media_url = "image", image
        elif link and _absolute(link[0].attrib.get("href", ""), base_url):
            kind, media_url = "file", _absolute(link[0].attrib.get("href", ""), base_url)
        else:
            continue
        if media_url not in seen:
            seen.add(media_url)
            out.append(Attachment(pid=pid, url=media_url, name=name or None, kind=kind, aid=aid))


def _absolute(href: str, base_url: str) -> str | None:
    return join_url(base_url, href.replace("&amp;", "&"))


def _post_status(node: Selector, *, has_message: bool) -> str:
    """The post state from its ``div.locked`` notes (attachment notes excepted)."""
    for locked in node.xpath(f"./descendant::td[{has_class('postcontent')}]/descendant::div[{has_class('locked')}]"):
        text = tidy_text(locked.xpath("string()").get())
        if _ATTACHMENT_NOTE.match(text):
            continue
        for pattern, state in LOCKED_STATES:
            if pattern.search(text):
                if state == POST_HIDE_PARTIAL and not has_message:
                    continue
                return state
    return POST_OK


def _read_author_column(node: Selector, pid: int, user: User, page: ParsedPage, now: datetime | None) -> None:
    """Stats (``dl.profile`` and the hover card's ``dl``), group title and custom title from ``td.postauthor``."""
    column = node.xpath(f".//td[{has_class('postauthor')}][1]")
    if not column:
        return
    stats, fields = parse_stats_block(column[0].root, user.uid, seen_at=now)
    # 7.x puts the group title in <p><em>, next to hover-card <em>s (当前离线, nickname) that are not titles.
    for key in ("group_title", "group_id", "custom_title"):
        fields.pop(key, None)
    title = column[0].xpath(f"./div[@id='userinfo{pid}_a']/p/em | ./p/em")
    if title:
        fields["group_title"] = tidy_text(title[0].xpath("string()").get()) or None
    custom = column[0].xpath(f"./descendant::p[{has_class('customstatus')}]")
    if custom:
        fields["custom_title"] = tidy_text(custom[0].xpath("string()").get()) or None
    apply_user_fields(user, fields)
    if stats.raw and not any(s.uid == stats.uid for s in page.user_stats):
        page.user_stats.append(stats)


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

def legacy_special_status(sel: Selector) -> tuple[str, str] | None:
    """``(status, message)`` for a 7.x ``div.showmessage`` page, else ``None``.

    The forum password form and the guest login form of ``nopermission.htm`` decide the state
    by themselves; otherwise the message text is classified like an X showmessage().
    """
    box = sel.xpath(f"/descendant::div[{has_class('showmessage')}]")
    if not box:
        return None
    box = box[0]
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
