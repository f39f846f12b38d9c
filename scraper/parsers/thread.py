"""Thread pages (``viewthread``) -> thread, posts, authors, their stats, attachments.

Discuz! X hooks used (stable across X2.5–X3.5 and common themes):
posts ``div#postlist > div#post_PID`` (numeric PID, never ``#post_new``) holding ``table#pidPID``;
author column ``td.pls``; body ``td#postmessage_PID``; time ``em#authorpostonPID``; floor
``a#postnumPID``; title ``span#thread_subject``; views/replies the ``span.xi1`` pair in
``#postlist .hm``; pages from the ``div.pg`` pager (absent on one-page threads).
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo
from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import (
    POST_BANNED_AUTHOR, POST_BANNED_SINGLE, POST_DELETED_FLOOR, POST_HIDDEN_REPLY, POST_HIDE_PARTIAL, POST_OK,
    POST_PAID, POST_PASSWORD, STATUS_PARTIAL, Attachment, ParsedPage, Post, Thread, User,
)
from ..urls import FID_IN_HREF, TID_IN_HREF, classify
from .authors import author_uid, is_member_link
from .common import (by_id, by_id_within, class_holds, current_page, ids_indexed, is_legacy_pager, page_count,
                     script_ids, type_prefix)
from .content import clean_message, set_aside, text_of, tidy_text
from .dates import DEFAULT_TZ, POSTED_LABELS, clean_time_text, parse_discuz_time, posted_time_text
from .labels import LabelTable, any_label_re, label_pattern, spellings, xpath_contains_any
from .numbers import parse_int
from .stats import apply_user_fields, parse_stats_block

# Posts: div#postlist (found through the id index) > div#post_PID. Themes that wrap the list differently
# still keep div#post_PID around table#pidPID.
POST_NODES_ANYWHERE = "/descendant::div[starts-with(@id, 'post_')][table[starts-with(@id, 'pid')]]"
_NUMERIC_POST_ID = re.compile(r"^post_(\d+)$")
# The ids of a post's message, time and floor (read_post_time, post_floor), looked up for all posts at once.
_POST_IDS = ("postmessage_", "authorposton", "postnum")
# The default ``custominfo.postno`` names of the first floors; sites may rename them.
FLOOR_NAMES = LabelTable({"楼主": 1, "沙发": 2, "板凳": 3, "地板": 4, "地下室": 5})
_FLOOR_DIGITS = re.compile(r"(\d+)")
# Bare "发表于 T" text outside the message, its quotes and the 点评 comments / rate log under it
# (5.5/6.x, themes without em#authorpostonPID).
POSTED_TEXTS = (f"./descendant::text()[{xpath_contains_any(*POSTED_LABELS)}]"
                "[not(ancestor::*[starts-with(@id, 'postmessage_') or starts-with(@id, 'comment_')"
                " or starts-with(@id, 'ratelog_')])][not(ancestor::blockquote)]"
                "[not(ancestor::script)][not(ancestor::textarea)]")
# Labels in both scripts (查看 / 回复, 回覆; 来自手机 / 來自手機; IP属地 / IP屬地): see .labels.
_VIEWS_REPLIES = re.compile(rf"(?:{any_label_re('查看数', '查看', '阅读').pattern})\s*[:：]?\s*([\d,]+).*?"
                            rf"(?:{any_label_re('回复', '回帖').pattern})\s*[:：]?\s*([\d,]+)")
_DEVICE = label_pattern(r"来自\s*[:：]?\s*(\S*?(?:客户端|手机|移动端|App|APP|版|网页)\S*)")
_LOCATION = label_pattern(r"(?:IP\s*属地|发布于)\s*[:：]\s*(\S+)")

# div.locked notes -> post state, in both scripts (该帖被管理员或版主屏蔽 / 該帖被管理員或版主屏蔽): see .labels.
LOCKED_STATES: tuple[tuple[re.Pattern, str], ...] = (
    (any_label_re("作者被禁止或删除"), POST_BANNED_AUTHOR),
    (any_label_re("被管理员或版主屏蔽"), POST_BANNED_SINGLE),
    (any_label_re("仅作者可见"), POST_HIDDEN_REPLY),
    # X: "购买主题"; 7.x pay_comment: "本主题需向作者支付 5 金钱 才能浏览".
    (any_label_re("购买", "售价", "付费", "需向作者支付"), POST_PAID),
    (any_label_re("密码"), POST_PASSWORD),
    (any_label_re("隐藏", "回复", "积分高于"), POST_HIDE_PARTIAL),
)
# A deleted floor's placeholder (无效楼层, 该帖已被删除).
_DELETED_FLOOR = any_label_re("无效楼层")


def is_thread_page(sel: Selector) -> bool:
    """Whether the page carries a Discuz! X post list."""
    return bool(post_nodes(sel))


def post_nodes(sel: Selector) -> list:
    """The post containers of an X thread page (``div#post_PID``, lxml elements), by the stable ids."""
    root = _root(sel)
    postlist = by_id(root, "postlist", "div")
    return [node for el in postlist for node in _POSTS_IN_LIST(el)] or _POST_NODES_ANYWHERE(root)


def _root(node):
    """The lxml element under a parsel Selector (the 5.5–7.x readers still pass Selectors)."""
    return node.root if isinstance(node, Selector) else node


def _string(el) -> str:
    """``string(el)`` ("" for no element), as :func:`.content.text_of` reads it (no XPath call)."""
    return text_of(el) if el is not None else ""


# Compiled once; per-post ids are XPath variables ($pid), so one expression serves every post.
_POSTS_IN_LIST = etree.XPath("./div[starts-with(@id, 'post_')]")
_POST_NODES_ANYWHERE = etree.XPath(POST_NODES_ANYWHERE)
_PARENT = etree.XPath("..")
_AUTHOR_LINK = etree.XPath(
    "./descendant::div[@id=concat('favatar', $pid)]/descendant::div[contains(@class,'authi')]/descendant::a[contains(@href,'uid')]"
    " | ./descendant::div[@id=concat('userinfo', $pid)]//strong/a[contains(@href,'uid')]"
    " | ./descendant::td[contains(@class,'plc')]/descendant::div[contains(@class,'authi')]/a[contains(@href,'uid')]")
_AUTHOR_SPACE_LINK = etree.XPath(
    "./descendant::div[@id=concat('favatar', $pid)]/descendant::div[contains(@class,'authi')]/descendant::a[contains(@href,'space')]")
# A space link in a spelling that names no uid (an admin's own rule: u-5.html, /people/5/): the name link of the
# column, of the hover card, or (left column closed) the one before the time in the header. Not javascript:;, which
# anonymous and 点评-as-post frames show.
_AUTHOR_NAME_LINK = etree.XPath(
    "./descendant::div[@id=concat('favatar', $pid)]/descendant::div[contains(@class,'authi')]/a"
    " | ./descendant::div[@id=concat('userinfo', $pid)]//strong/a"
    " | ./descendant::td[contains(@class,'plc')]/descendant::div[contains(@class,'authi')]"
    "/a[following-sibling::em[@id=concat('authorposton', $pid)]]")
# Where the post's author is stated (see .authors): the column (div#favatarPID, else the first td.pls) and the
# header's div.authi.
_AUTHOR_COLUMN_AREA = etree.XPath(
    "./descendant::div[@id=concat('favatar', $pid)]"
    " | (./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' pls ')])[1]")
_HEADER_AREAS = etree.XPath(
    "./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' plc ')]"
    "/descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' authi ')]")
# A post without a member link: the name shown in its place (viewthread_node.htm): 匿名 (anonymoustext), 游客 with
# the IP in an em, or a deleted member's name with 该用户已被删除 in an em. X3.4 themes put it in div.authi, stock
# X3.5 in div.pi itself.
_ANONYMOUS = etree.XPath(
    "./descendant::div[@id=concat('favatar', $pid)]/descendant::div[contains(@class,'authi')]"
    " | ./descendant::div[@id=concat('favatar', $pid)]/div[contains(concat(' ', @class, ' '), ' pi ')][not(div)]")
_ANONYMOUS_NAME = etree.XPath("./text() | ./a/text()")
_ATTACHMENT_LISTS = etree.XPath("./descendant::div[contains(concat(' ', @class, ' '), ' pattl ')]")
_AUTHOR_COLUMN = etree.XPath("./descendant::td[contains(concat(' ', normalize-space(@class), ' '), ' pls ')]")
_TIME_TITLE = etree.XPath(".//span/@title")
_POSTED_TEXTS = etree.XPath(POSTED_TEXTS)
_FLOOR_NUMBER = etree.XPath("./em/text()")
_PCT = etree.XPath("./descendant::div[contains(concat(' ', @class, ' '), ' pct ')]")
_LOCKED = etree.XPath("./descendant::div[contains(concat(' ', @class, ' '), ' locked ')]")
# The divs of a post that _ATTACHMENT_LISTS, _PCT and _LOCKED find, in one walk of the post (its message
# included) instead of three; _with_class_word then picks each kind out as those XPaths do.
_BODY_DIVS = etree.XPath("./descendant::div[contains(@class, 'pattl') or contains(@class, 'pct')"
                         " or contains(@class, 'locked')]")
# Relative to div#pt (the breadcrumbs) and div#postlist, found through the page's id index.
_CRUMBS = etree.XPath("./descendant::a")
_TS_HEADINGS = etree.XPath("./descendant::h1[contains(concat(' ', @class, ' '), ' ts ')]")
_ANY_TS_HEADINGS = etree.XPath("/descendant::h1[contains(concat(' ', @class, ' '), ' ts ')]")
_PREFIX_LINK = etree.XPath("./a[contains(@href, 'typeid=') or contains(@href, 'sortid=')]")
_COUNTS = etree.XPath("./descendant::div[contains(concat(' ', @class, ' '), ' hm ')]"
                      "/descendant::span[contains(concat(' ', @class, ' '), ' xi1 ')]/text()")
_HEADER_TEXTS = etree.XPath("./table[1]//text()")
_CLOSED = etree.XPath("./descendant::img[contains(@src, 'locked.gif') or "
                      + " or ".join(f"@alt='{s}'" for s in spellings("关闭")) + " or contains(@src, 'locked.png')]"
                      " | ./table[1]/descendant::i[contains(concat(' ', normalize-space(@class), ' '), ' fico-lock ')]")
_PAGERS = etree.XPath("./descendant::div[contains(concat(' ', @class, ' '), ' pg ')]")
_FOLLOWING_PAGERS = etree.XPath("./following-sibling::div/descendant::div[contains(concat(' ', @class, ' '), ' pg ')]")
_FORUM_IN_CRUMB = re.compile(r"forum-\d+-\d+\.html")
# _AUTHOR_LINK's three branches, under the parts _Frame found (the favatar's authi divs, div#userinfoPID, the header's
# authi divs).
_UID_LINKS_UNDER = etree.XPath("./descendant::a[contains(@href, 'uid')]")
_UID_LINKS_IN_STRONG = etree.XPath(".//strong/a[contains(@href, 'uid')]")
_UID_LINKS_CHILD = etree.XPath("./a[contains(@href, 'uid')]")


def _frame_parts(node, favatar: str, userinfo: str, stand_ins: dict | None = None) -> tuple[list, list | None]:
    """Every element the frame XPaths above start from, in document order: what
    ``./descendant::div[@id=$favatar or @id=$userinfo or contains(@class, 'authi')]
    | ./descendant::td[contains(@class, 'pls') or contains(@class, 'plc')]`` finds, in one walk of the post (a walk
    in C that stops only at divs and tds costs less than that XPath's tests of every element's attributes).

    With ``stand_ins`` (stand-in -> message, the messages set aside): also what :func:`_body_divs` will find once
    the messages are back, from the same walk: the divs outside the messages, and in a message's place the message
    itself (its divs are read when asked, :func:`_spliced`). Without: ``None``."""
    parts = []
    body = [] if stand_ins is not None else None
    for el in node.iter("div", "td"):
        if el is node:
            continue
        # A message's stand-in stands for the message in the body list (lxml elements hash by identity).
        message = stand_ins.get(el) if body is not None else None
        if message is not None:
            body.append(message)
        if el.tag == "div":
            cls = el.get("class", "")
            ident = el.get("id")
            if ident == favatar or ident == userinfo or "authi" in cls:
                parts.append(el)
            if message is None and body is not None and ("pattl" in cls or "pct" in cls or "locked" in cls):
                body.append(el)
        else:
            cls = el.get("class", "")
            if "pls" in cls or "plc" in cls:
                parts.append(el)
    return parts, body


def _spliced(body: list, messages: set) -> list:
    """What :func:`_body_divs` finds, from :func:`_frame_parts`' list: each message put back is walked for its divs."""
    out = []
    for el in body:
        if el in messages:
            out.extend(_body_divs(el, include_self=True))
        else:
            out.append(el)
    return out


def _under(el, containers: list, node) -> bool:
    """Whether one of ``containers`` is a proper ancestor of ``el`` below ``node``."""
    for parent in el.iterancestors():
        if parent is node:
            return False
        if parent in containers:  # lxml elements compare and hash by identity
            return True
    return False


def precedes(a, b, top=None) -> bool:
    """Whether element ``a`` comes before ``b`` in document order (``a`` is not ``b``); ``top``: an element both are
    under (their chains of ancestors are then compared up to it, not up to the root)."""
    chain_a, chain_b = [a], [b]
    for chain, el in ((chain_a, a), (chain_b, b)):
        for parent in el.iterancestors():
            chain.append(parent)
            if parent is top:
                break
    if any(x is b for x in chain_a):  # b is an ancestor of a
        return False
    if any(x is a for x in chain_b):
        return True
    while len(chain_a) > 1 and len(chain_b) > 1 and chain_a[-2] is chain_b[-2]:
        chain_a.pop()
        chain_b.pop()
    parent = chain_a[-1]
    return parent.index(chain_a[-2]) < parent.index(chain_b[-2])


def _uid_link_under(div):
    """``_UID_LINKS_UNDER(div)[0]`` (or ``None``), by a walk that stops only at links."""
    for a in div.iter("a"):
        if "uid" in a.get("href", "") and a is not div:
            return a
    return None


def _uid_link_in_strong(div):
    """``_UID_LINKS_IN_STRONG(div)[0]`` (or ``None``): the first link with a uid whose parent is a ``strong`` under
    ``div``, by a walk that stops only at links."""
    for a in div.iter("a"):
        if "uid" in a.get("href", "") and a is not div:
            parent = a.getparent()
            if parent is not div and parent.tag == "strong":
                return a
    return None


class _Frame:
    """What _AUTHOR_LINK (its first element), _AUTHOR_COLUMN_AREA, _HEADER_AREAS and _AUTHOR_COLUMN find in a
    post, from one walk of it (:func:`_frame_parts`) and walks of the few parts it finds, not one walk of the
    post per XPath. Where the parts nest so that their order is not plain, the XPath itself is run."""

    __slots__ = ("body", "columns", "favatars", "key", "node", "parts")

    def __init__(self, node, key: str, stand_ins: dict | None = None):
        self.node, self.key = node, key
        self.parts, self.body = _frame_parts(node, "favatar" + key, "userinfo" + key, stand_ins)
        self.favatars = [el for el in self.parts if el.tag == "div" and el.get("id") == "favatar" + key]
        self.columns = [el for el in self.parts if el.tag == "td" and class_holds(el, "pls")]  # _AUTHOR_COLUMN

    def author_link(self):
        """``_AUTHOR_LINK(node)[0]``, or ``None``."""
        node, parts = self.node, self.parts
        authis = [el for el in parts if el.tag == "div" and "authi" in el.get("class", "")]
        firsts = []
        if self.favatars:
            for div in authis:
                if _under(div, self.favatars, node):
                    link = _uid_link_under(div)
                    if link is not None:  # the first such div with a link holds the branch's first (nested or not)
                        firsts.append(link)
                        break
        infos = [el for el in parts if el.tag == "div" and el.get("id") == "userinfo" + self.key]
        if len(infos) > 1:
            return (_AUTHOR_LINK(node, pid=self.key) or [None])[0]
        if infos:
            link = _uid_link_in_strong(infos[0])
            if link is not None:
                firsts.append(link)
        cells = [el for el in parts if el.tag == "td" and "plc" in el.get("class", "")]
        if cells:
            headed = [div for div in authis if _under(div, cells, node)]
            if len(headed) > 1 and any(_under(div, headed, node) for div in headed):
                return (_AUTHOR_LINK(node, pid=self.key) or [None])[0]
            for div in headed:
                link = next((a for a in div if a.tag == "a" and "uid" in a.get("href", "")), None)  # _UID_LINKS_CHILD
                if link is not None:
                    firsts.append(link)
                    break
        if not firsts:
            return None
        first = firsts[0]
        for other in firsts[1:]:
            if other is not first and precedes(other, first, node):
                first = other
        return first

    def author_areas(self) -> list:
        """``_AUTHOR_COLUMN_AREA(node)[:1] + _HEADER_AREAS(node)``."""
        areas = []
        for el in self.parts:
            if el.tag == "div" and el.get("id") == "favatar" + self.key or self.columns and el is self.columns[0]:
                areas.append(el)
                break
        cells = [el for el in self.parts if el.tag == "td" and class_holds(el, "plc")]
        if cells:
            areas += [el for el in self.parts if el.tag == "div" and class_holds(el, "authi")
                      and _under(el, cells, self.node)]
        return areas


def parse_thread_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                      fetched_at: datetime | None = None, resolve=None, pagers=None) -> ParsedPage:
    """Parse a Discuz! X ``viewthread`` page.

    ``now`` anchors relative times (the response's Date header, else the fetch time). ``resolve`` (href ->
    :class:`~scraper.urls.Target`, the site's learned rules) reads an author link that neither Discuz's
    default spellings nor the post's author areas say the uid of. ``pagers``: the page's
    :class:`~.links.PagerDivs`, where the caller has one (``page_links`` reads the same divs).
    """
    target = classify(url)
    page = ParsedPage(url=url, kind="viewthread", fetched_at=fetched_at)
    nodes = []
    numbered = []
    for node in post_nodes(sel):
        m = _NUMERIC_POST_ID.match(node.get("id", ""))
        if m and as_int(m.group(1)) is not None:
            numbered.append((node, m.group(1)))
    # Each post's message, time and floor ids, for all the posts in one look-up of the page's id index.
    indexed = ids_indexed(sel.root, [f"{prefix}{number}" for _, key in numbered for prefix in _POST_IDS
                                     for number in {key, str(as_int(key))}])
    for node, key in numbered:
        message = by_id_within(node, "postmessage_" + key, ("td", "div"), indexed)
        nodes.append((node, as_int(key), message[0] if message else None))
    users: dict[int, User] = {}
    posts: list[tuple[Post | None, object, object, object]] = []
    messages = [message for _, _, message in nodes if message is not None]
    # Where each message is: its stand-in is found there while the messages are set aside.
    places = [(parent, parent.index(message)) for message in messages for parent in (message.getparent(),)
              if parent is not None]
    aside = set(messages)  # the messages, set aside while the frame is read (their own divs read once back)
    # The page's 7.x pagers outside the messages, what page_count's walk finds while they are set aside (but a
    # message's stand-in, which holds nothing a pager is read for), from the pager divs of the whole page.
    legacy = None
    if pagers is not None:
        legacy = [div for div in pagers() if is_legacy_pager(div) and div not in aside
                  and not any(parent in aside for parent in div.iterancestors())]
    with set_aside(messages):
        stand_ins = {parent[index]: message for (parent, index), message in zip(places, messages)} \
            if len(places) == len(messages) else None
        # The pagers: in div#pgt above the posts (it marks the current page) and in the div after div#postlist.
        top = [pager for el in by_id(sel.root, "pgt", "div") for pager in _PAGERS(el)]
        bottom = [pager for el in by_id(sel.root, "postlist", "div") for pager in _following_pagers(el)]
        page.page = current_page(sel, target.page, top)
        # On a later page the posts' frames are not searched for the header's counts and title (see _ListParts).
        thread = _parse_thread_header(sel, url, target.tid, {node for node, _, _ in nodes},
                                      posts_may_tell=page.page in (None, 1))
        page.pages = thread.pages = page_count(sel, top + bottom, legacy)
        for node, pid, message in nodes:
            try:
                frame = _Frame(node, str(pid), stand_ins)
                post = _parse_post_frame(node, pid, thread.tid, url, now=now, tz=tz, resolve=resolve, frame=frame,
                                         indexed=indexed)
            except (RecursionError, ValueError):
                frame, post = None, None
            pls = frame.columns if frame is not None else _AUTHOR_COLUMN(node)
            posts.append((post, node, message, pls[0] if pls else None, frame.body if frame is not None else None))
    page.tid = thread.tid
    page.fid = thread.fid
    previous_floor: int | None = None
    for (post, node, message, column, body), (_, pid, _) in zip(posts, nodes):
        attachments: list[Attachment] = []
        if post is not None:
            try:
                attachments = _read_post_body(node, post, message, url, now=now, tz=tz,
                                              body=body if body is not None else None, messages=aside)
            except (RecursionError, ValueError):
                post = None
        if post is None:
            # One post too deeply nested (or otherwise unreadable) must not cost the page its other posts.
            post = Post(pid=pid, tid=thread.tid, url=url, content_text=None)
            page.status = STATUS_PARTIAL
            if "post.content_text" not in page.missing:
                page.missing.append("post.content_text")
        page.attachments.extend(attachments)
        post.page = page.page
        if post.floor is None:
            post.floor = previous_floor + 1 if previous_floor is not None else None
        previous_floor = post.floor
        post.is_first = post.floor == 1
        page.posts.append(post)
        if post.is_first:
            thread.author, thread.author_uid = post.author, post.author_uid
            thread.created_at, thread.created_at_text = post.posted_at, post.posted_at_text
        add_author(page, users, post, column, now)
    fill_floors_backwards(page.posts, page.page)
    page.users = list(users.values())
    page.threads = [thread]
    return page


def _following_pagers(postlist) -> list:
    """What :data:`_FOLLOWING_PAGERS` finds, by walks that stop only at divs (the XPath tests every div's class)."""
    return [div for sibling in postlist.itersiblings("div") for div in sibling.iter("div")
            if div is not sibling and " pg " in f" {div.get('class', '')} "]


def add_author(page: ParsedPage, users: dict[int, User], post: Post, column, now: datetime | None) -> User | None:
    """The post's author as one :class:`User` per uid, with what the author ``column`` shows.

    The column's stats block goes to ``page.user_stats`` once per uid: a page renders one author's block
    the same beside each of their posts, so it is read once. ``None`` for posts without a uid.
    """
    if not post.author_uid:
        return None
    user = users.setdefault(post.author_uid, User(uid=post.author_uid, username=post.author))
    if column is not None and not any(s.uid == post.author_uid for s in page.user_stats):
        stats, fields = parse_stats_block(_root(column), post.author_uid, seen_at=now)
        apply_user_fields(user, fields)
        if stats.raw and not any(s.uid == stats.uid for s in page.user_stats):
            page.user_stats.append(stats)
    return user


def _parse_thread_header(sel: Selector, url: str, tid_from_url: int | None, posts=frozenset(),
                         posts_may_tell: bool = True) -> Thread:
    """The thread item from the page's header (breadcrumbs, title, counts, lock); ``posts`` are the post containers
    (read elsewhere: the header is read outside them; see :class:`_ListParts` for ``posts_may_tell``)."""
    fid, tid = script_ids(sel)
    tid = tid or tid_from_url
    root = _root(sel)
    postlist = by_id(root, "postlist", "div")
    forum_name = None
    for a in (a for pt in by_id(root, "pt", "div") for a in _CRUMBS(pt)):
        href = a.get("href", "")
        fm = FID_IN_HREF.search(href)
        if fm and ("forumdisplay" in href or _FORUM_IN_CRUMB.search(href)):
            forum_name = tidy_text(_string(a)) or forum_name
            if fid is None:
                fid = as_int(fm.group(1))
        if tid is None:
            tm = TID_IN_HREF.search(href)
            if tm and ("viewthread" in href or "thread-" in href):
                tid = as_int(tm.group(1))
    # span#thread_subject on X2.5+, a#thread_subject on X2 and some themes.
    subject = by_id(root, "thread_subject")
    title = tidy_text(_string(subject[0])) if subject else None
    lists = [_ListParts(el, posts, posts_may_tell=posts_may_tell) for el in postlist]
    counts = [text for parts in lists for text in parts.counts()]
    views = parse_int(counts[0]) if len(counts) > 0 else None
    replies = parse_int(counts[1]) if len(counts) > 1 else None
    if views is None:
        # Themes that restyle the header still print the labels: 查看: 3022 | 回复: 64.
        header = tidy_text(" ".join(text for el in postlist for text in _HEADER_TEXTS(el)))
        m = _VIEWS_REPLIES.search(header)
        if m:
            views, replies = parse_int(m.group(1)), parse_int(m.group(2))
    # X3.4 ``img[src*=locked.gif]``; X3.5 the icon font ``<i class="fico-lock fc-s" title="关闭">`` by the title.
    closed = any(parts.closed() for parts in lists)
    # The title's h1.ts is in the post list in every stock template; themes may move it.
    headings = [h for parts in lists for h in parts.title_headings()] or _ANY_TS_HEADINGS(root)
    return Thread(
        tid=tid, fid=fid, title=title or None, type_prefix=type_prefix([a for h in headings for a in _PREFIX_LINK(h)]),
        views=views, replies=replies, is_closed=closed, forum_name=forum_name, url=url, status="ok",
    )


_CLOSED_ALTS = frozenset(spellings("关闭"))
_LOCK_ICONS = etree.XPath("./table[1]/descendant::i[contains(concat(' ', normalize-space(@class), ' '), ' fico-lock ')]")
_OWN_TEXTS = etree.XPath("./text()")


class _ListParts:
    """What the header's XPaths over div#postlist find (:data:`_COUNTS`, :data:`_CLOSED`, :data:`_TS_HEADINGS`), read
    outside the posts: one walk of div#postlist's other children (the header table, the pagers' rows) that stops
    only at divs, spans, imgs and h1s. The thread's header is not in a post, and a post's frame never says the
    thread is closed. Where no counts (or no title heading) show outside the posts, a theme may have moved them
    into the opening post's frame: on the first page (``posts_may_tell``) the whole list is then walked for them,
    as the XPaths do; Discuz shows the counts on the first page only."""

    __slots__ = ("_full", "counters", "headings", "locked_img", "postlist", "posts", "posts_may_tell", "spans")

    def __init__(self, postlist, posts=frozenset(), scoped: bool = True, posts_may_tell: bool = True):
        self.postlist, self.posts, self.posts_may_tell, self._full = postlist, posts, posts_may_tell, None
        self.counters, self.spans, self.headings = [], [], []
        self.locked_img = False
        for child in postlist if scoped else (postlist,):
            if child in posts:  # lxml elements hash by identity
                continue
            for el in child.iter("div", "span", "img", "h1"):
                if el is postlist:
                    continue
                tag = el.tag
                # These XPaths test concat(' ', @class, ' ') as it is (no normalize-space): so do these tests.
                if tag == "div":
                    if " hm " in f" {el.get('class', '')} ":
                        self.counters.append(el)
                elif tag == "span":
                    if " xi1 " in f" {el.get('class', '')} ":
                        self.spans.append(el)
                elif tag == "img":
                    src = el.get("src", "")
                    if "locked.gif" in src or "locked.png" in src or el.get("alt") in _CLOSED_ALTS:
                        self.locked_img = True
                elif " ts " in f" {el.get('class', '')} ":
                    self.headings.append(el)

    def full(self) -> _ListParts:
        """The same, read from the whole list (posts included) where the posts may tell; else this."""
        if self._full is None:
            self._full = _ListParts(self.postlist, scoped=False) if self.posts and self.posts_may_tell else self
        return self._full

    def counts(self) -> list:
        """``_COUNTS(postlist)``: the text nodes of the span.xi1s inside a div.hm (outside the posts where any)."""
        found = self._counts()
        if found:
            return found
        full = self.full()
        return full._counts() if full is not self else found

    def _counts(self) -> list:
        if not self.counters or not self.spans:
            return []
        return [text for span in self.spans if _under(span, self.counters, self.postlist)
                for text in _OWN_TEXTS(span)]

    def title_headings(self) -> list:
        """``_TS_HEADINGS(postlist)`` (outside the posts where any)."""
        return self.headings or self.full().headings

    def closed(self) -> bool:
        """``bool(_CLOSED(postlist))`` outside the posts."""
        return self.locked_img or bool(_LOCK_ICONS(self.postlist))


def _parse_post_frame(node, pid: int, tid: int | None, url: str, *, now: datetime | None,
                      tz: tzinfo, resolve=None, frame: _Frame | None = None, indexed: dict | None = None) -> Post:
    """What the post's frame says (author, time, device and place notes, floor), its message set aside."""
    post = Post(pid=pid, tid=tid, url=url)
    key = str(pid)
    # Sites whose space links carry the username instead of the uid: the second form; an admin's own space
    # rule: the third.
    frame = frame or _Frame(node, key)
    first = frame.author_link()
    author_link = [first] if first is not None else _AUTHOR_SPACE_LINK(node, pid=key) or [
        a for a in _AUTHOR_NAME_LINK(node, pid=key) if is_member_link(a)][:1]
    if author_link:
        post.author = tidy_text(_string(author_link[0])) or None
        areas = frame.author_areas()  # favatar is inside the td.pls
        post.author_uid = author_uid(author_link[0].get("href"), areas, resolve)
    else:
        anonymous = _ANONYMOUS(node, pid=key)
        if anonymous:
            post.author = tidy_text(" ".join(_ANONYMOUS_NAME(anonymous[0]))) or None

    time_el = read_post_time(node, pid, post, now=now, tz=tz, indexed=indexed)
    if time_el:
        holder = time_el[0].getparent()  # string(..): the time's parent (the document's text at the root)
        authi_text = tidy_text(text_of(holder if holder is not None else time_el[0]))
        device = _DEVICE.search(authi_text)
        if device:
            post.device = device.group(1)
        location = _LOCATION.search(authi_text)
        if location:
            post.location = location.group(1)

    post.floor = post_floor(node, pid, indexed)
    return post


def _read_post_body(node, post: Post, message_el, url: str, *, now: datetime | None,
                    tz: tzinfo, body: list | None = None, messages: set = frozenset()) -> list[Attachment]:
    """The post's message, its attachment listings and its state; the attachments found. ``body``: what the
    frame's walk found for :func:`_body_divs` (see :func:`_frame_parts`), the ``messages`` in it read now."""
    attachments: list[Attachment] = []
    if message_el is not None:
        read_message(message_el, post, attachments, url, now=now, tz=tz)
    divs = _spliced(body, messages) if body is not None else _body_divs(node)
    # Attachments not inlined in the message are listed in div.pattl below it.
    for listing in _with_class_word(divs, "pattl"):
        add_media(attachments, post.pid, clean_message(listing, url))
    post.status = post_status(node, has_message=message_el is not None, divs=divs)
    return attachments


def _body_divs(node, include_self: bool = False) -> list:
    """What :data:`_BODY_DIVS` finds, by a walk that stops only at divs and tests their class in Python (for a
    post's hundreds of elements, cheaper than the XPath's attribute tests); ``include_self``: ``node`` too, if it
    is such a div (``descendant-or-self``)."""
    divs = []
    for div in node.iter("div"):
        cls = div.get("class")
        if cls and ("pattl" in cls or "pct" in cls or "locked" in cls) and (include_self or div is not node):
            divs.append(div)
    return divs


def _with_class_word(divs: list, word: str) -> list:
    """The elements of ``divs`` that ``contains(concat(' ', @class, ' '), ' WORD ')`` finds, in their order."""
    spaced = f" {word} "
    return [div for div in divs if spaced in f" {div.get('class', '')} "]


def read_message(message_el, post: Post, attachments: list[Attachment], url: str, *,
                 now: datetime | None, tz: tzinfo) -> None:
    """Fill ``post`` from its message element (text, HTML, edit note, quotes) and collect its media."""
    msg = clean_message(_root(message_el), url)
    post.content_text, post.content_html = msg.text, msg.html
    post.edited_note, post.edited_by = msg.edited_note, msg.edited_by
    if msg.edited_at_text:
        post.edited_at = parse_discuz_time(msg.edited_at_text, now=now, tz=tz)
    post.quotes = msg.quotes
    add_media(attachments, post.pid, msg)


def add_media(attachments: list[Attachment], pid: int, msg) -> None:
    """Append the images and files of a cleaned message to ``attachments``, once per URL."""
    seen = {a.url for a in attachments}
    for kind, items in (("image", msg.images), ("file", msg.files)):
        for media_url, name, aid in items:
            if media_url not in seen:
                seen.add(media_url)
                attachments.append(Attachment(pid=pid, url=media_url, name=name, kind=kind, aid=aid))


def read_post_time(node, pid: int, post: Post, *, now: datetime | None, tz: tzinfo, indexed: dict | None = None) -> list:
    """Set ``posted_at_text``/``posted_at`` from ``em#authorpostonPID`` (exact from its ``span[title]``).

    Without that element (Discuz 5.5/6.x, themes), the first bare ``发表于 T`` text outside the
    message is read instead. Returns the lxml element holding the time in a list (empty when none
    is found) for callers reading around it.
    """
    node = _root(node)
    time_el = by_id_within(node, f"authorposton{pid}", (), indexed)
    if time_el:
        post.posted_at_text = clean_time_text(_string(time_el[0])) or None
        title = _TIME_TITLE(time_el[0])
        post.posted_at = parse_discuz_time(post.posted_at_text, title[0] if title else None, now=now, tz=tz)
        return time_el
    for text in _POSTED_TEXTS(node):
        holder = text.getparent()
        shown = posted_time_text(str(text)) or (posted_time_text(_string(holder)) if holder is not None else None)
        if shown:
            post.posted_at_text = shown
            title = _TIME_TITLE(holder) if holder is not None else None
            post.posted_at = parse_discuz_time(shown, title[0] if title else None, now=now, tz=tz)
            return [holder] if holder is not None else []
    return []


def post_floor(node, pid: int, indexed: dict | None = None) -> int | None:
    """The floor ``#postnumPID`` shows: ``<em>N</em>``, a ``postno`` name (楼主, 沙发…) or digits; else ``None``.

    X and 7.x render it as ``a#postnumPID``, 5.5/6.x as ``strong#postnumPID`` (``7楼``).
    """
    link = by_id_within(_root(node), f"postnum{pid}", (), indexed)
    if not link:
        return None
    number = _FLOOR_NUMBER(link[0])
    if number and as_int(number[0].strip()) is not None:
        return as_int(number[0].strip())
    label = tidy_text(_string(link[0]))
    if FLOOR_NAMES.has(label):
        return FLOOR_NAMES.find(label)
    m = _FLOOR_DIGITS.search(label)
    return as_int(m.group(1)) if m else None


def fill_floors_backwards(posts: list[Post], page: int | None) -> None:
    """Floors renamed by a site's ``postno`` setting: count back from the next known floor."""
    for i in range(len(posts) - 2, -1, -1):
        if posts[i].floor is None and posts[i + 1].floor is not None:
            posts[i].floor = posts[i + 1].floor - 1
            posts[i].is_first = posts[i].floor == 1


def post_status(node, *, has_message: bool, divs: list | None = None) -> str:
    """A post's state: a deleted floor (``无效楼层``), else the first ``div.locked`` note that names one.

    ``divs``: what ``_BODY_DIVS`` finds in the post, when the caller has read it."""
    node = _root(node)
    pct = _PCT(node) if divs is None else _with_class_word(divs, "pct")
    pct_text = _string(pct[0]) if pct else ""
    if _DELETED_FLOOR.search(pct_text):
        return POST_DELETED_FLOOR
    for locked in _LOCKED(node) if divs is None else _with_class_word(divs, "locked"):
        text = _string(locked)
        for pattern, state in LOCKED_STATES:
            if pattern.search(text):
                if state == POST_HIDE_PARTIAL and not has_message:
                    continue
                return state
    return POST_OK


__all__ = ["parse_thread_page", "is_thread_page", "FLOOR_NAMES", "LOCKED_STATES", "post_floor", "fill_floors_backwards",
           "add_media", "add_author", "post_status", "read_post_time", "read_message"]
