"""The user-stats block beside a post, read by its labels.

The block is an admin-editable template (``pre_forum_threadprofile``), so nothing is read by
position. Every ``label -> value`` pair is collected from

* the numbercard ``div.tns`` (``<th><p>112</p>主题</th>``),
* ``dl`` lists of ``dt``/``dd`` pairs (``dl.pil`` profile node, ``dl.cl`` hover card, 7.x ``dl.profile``),
* ``<p>签到天数: 1289 天</p>``-style lines some plugins add,

then known labels are mapped to typed fields and every other numeric ``dl`` or numbercard entry is
taken as an extcredit (威望, 金钱, 贡献, or a site's own such as 铜板) with its unit (the numbercard
can be configured to show extcredits too). All pairs stay in ``raw``; plugin lines such as
``签到天数: 1289 天`` stay there only.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from lxml import etree

from ..digits import as_int
from ..items import User, UserStats
from .common import class_holds
from .content import text_of, tidy_text
from .labels import LabelTable
from .numbers import Figure, parse_figure, parse_hours

# label -> field, looked up in either script (积分 / 積分, 在线时间 / 在線時間 / 線上時間): see .labels.
KNOWN_LABELS = LabelTable({
    "UID": "uid",
    "主题": "threads", "主题数": "threads",
    "帖子": "posts", "发帖": "posts", "帖子数": "posts",
    "回帖": "replies", "回帖数": "replies",
    "积分": "credits",
    "精华": "digests",
    "在线时间": "online_hours",
    # 7.x hover cards say 注册 (lang regtime), 7.x profiles 注册日期 / 上次访问.
    "注册时间": "registered", "注册": "registered", "注册日期": "registered",
    "最后登录": "last_login", "最后访问": "last_login", "上次访问": "last_login",
    "阅读权限": "readperm",
    "听众": "followers", "粉丝": "followers",
    "收听": "following",
    "好友": "friends", "好友数": "friends",
    "记录": "doings", "日志": "blogs", "相册": "albums", "分享": "shares", "广播": "broadcasts",
})
_COUNT_FIELDS = ("threads", "posts", "replies", "credits", "digests", "followers", "following", "friends")
_LABEL_VALUE_LINE = re.compile(r"^(?P<label>[^\d:：]{1,12})\s*[:：]\s*(?P<value>\S.*)$")
_LABEL_TRIM = re.compile(r"[\s:：\u00a0]+$|^[\s\u00a0]+")
_GID = re.compile(r"gid=(\d+)")
_EXACT_FIGURE = re.compile(r"\s*[\d,]+\s*")
_COMMENT, _PI = etree.Comment, etree.ProcessingInstruction
# Compiled once: a thread page reads one stats block per post.
_NUMBERCARD_CELLS = etree.XPath(
    "./descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' tns ')]/descendant::th"
    " | ./descendant::div[contains(concat(' ', normalize-space(@class), ' '), ' tns ')]/descendant::td")
_DLS = etree.XPath("./descendant::dl")
_LINES = etree.XPath("./descendant::p[not(ancestor::div[contains(@class, 'tns')])]")
_SPAN_TITLES = etree.XPath("./descendant::span[@title]/@title")
_GROUP_LINK = etree.XPath(".//p/em/a[contains(@href, 'usergroup')] | .//p/em/a[contains(@href, 'gid=')]")
_GROUP_TITLE = etree.XPath(".//p/em[not(@id)]")
_CUSTOM_TITLE = etree.XPath("./descendant::p[contains(concat(' ', normalize-space(@class), ' '), ' xg1 ')]")


@lru_cache(maxsize=4096)
def _label(text: str) -> str:
    return _LABEL_TRIM.sub("", tidy_text(text))


@lru_cache(maxsize=4096)  # the same few figures and labels, page after page: text as the element gives it
def _figure(text: str, exact: str | None) -> Figure:
    return parse_figure(tidy_text(text), exact)


@lru_cache(maxsize=4096)
def _line(text: str) -> tuple[str, Figure] | None:
    """A plugin line's ``(label, figure)`` (``签到天数: 1289 天``), from its text as the element gives it."""
    m = _LABEL_VALUE_LINE.match(tidy_text(text))
    return (_label(m.group("label")), parse_figure(m.group("value"))) if m else None


def _figure_of(el: etree._Element) -> Figure:
    """A value element: exact figure from a ``span[title]`` when present."""
    if not len(el):  # no child nodes: no span under it, and its text is all there is
        return _figure(el.text or "", None)
    # Children without child nodes of their own (``<dd><a>392051</a></dd>``): the text and the spans are theirs.
    texts = [el.text or ""]
    exact = None
    for child in el:
        if len(child):
            break
        tag = child.tag
        if tag.__class__ is str:
            if exact is None and tag == "span":
                title = child.get("title")
                if title is not None and _EXACT_FIGURE.fullmatch(title):
                    exact = title
            texts.append(child.text or "")
        elif tag is not _COMMENT and tag is not _PI:
            break  # an entity: to string()
        texts.append(child.tail or "")  # a comment's text is no text of the value; its tail is
    else:
        return _figure("".join(texts), exact)
    exact = None
    for span in el.iter("span"):  # what _SPAN_TITLES finds, without an XPath per value
        title = span.get("title") if span is not el else None
        if title is not None and _EXACT_FIGURE.fullmatch(title):
            exact = title
            break
    return _figure(text_of(el), exact)


class _Block:
    """What a stats block's XPaths find (:data:`_NUMBERCARD_CELLS`, :data:`_DLS`, :data:`_LINES`,
    :data:`_GROUP_LINK`, :data:`_GROUP_TITLE`, :data:`_CUSTOM_TITLE`, each in document order), from one walk of
    the block instead of one walk per XPath. Where the walk alone cannot say (two numbercards, group links under
    two ``em``s, which may nest), the XPath runs."""

    __slots__ = ("_block", "cells", "custom_titles", "dls", "group_links", "group_titles", "line_candidates")

    def __init__(self, block: etree._Element):
        cards, tns_divs, dls, paragraphs = [], [], [], []
        group_links, group_titles, custom_titles = [], [], []
        link_ems = 0
        for el in block.iterdescendants("div", "dl", "p", "em"):
            tag = el.tag
            if tag == "div":
                cls = el.get("class", "")
                if "tns" in cls:
                    tns_divs.append(el)
                    if class_holds(el, "tns"):
                        cards.append(el)
            elif tag == "p":
                paragraphs.append(el)
                cls = el.get("class")
                if cls is not None and "xg1" in cls and class_holds(el, "xg1"):
                    custom_titles.append(el)
            elif tag == "dl":
                dls.append(el)
            else:  # em: p/em (a title) and p/em/a (a group link), the p inside the block
                parent = el.getparent()
                if parent is not block and parent.tag == "p":
                    if el.get("id") is None:
                        group_titles.append(el)
                    if len(el):
                        found = False
                        for a in el:
                            if a.tag == "a":
                                href = a.get("href", "")
                                if "usergroup" in href or "gid=" in href:
                                    group_links.append(a)
                                    found = True
                        link_ems += found
        if not cards:
            self.cells = []
        elif len(cards) == 1:
            self.cells = list(cards[0].iter("th", "td"))
        else:
            self.cells = _NUMBERCARD_CELLS(block)
        self.dls = dls
        # An em's child links come in document order unless another em with links is inside it.
        self.group_links = group_links if link_ems < 2 else _GROUP_LINK(block)
        self.group_titles, self.custom_titles = group_titles, custom_titles
        self._block = block
        if tns_divs and paragraphs:
            inside = {p for div in tns_divs for p in div.iter("p")}
            self.line_candidates = [p for p in paragraphs if p not in inside]
        else:
            self.line_candidates = paragraphs

    @property
    def lines(self) -> list:
        """The p outside any div whose class contains "tns", the block's own ancestors included (:data:`_LINES`):
        :attr:`line_candidates` (those outside such divs inside the block) unless the block is in such a div."""
        block = self._block
        if not self.line_candidates or block.tag == "div" and "tns" in block.get("class", ""):
            return []
        for div in block.iterancestors("div"):
            if "tns" in div.get("class", ""):
                return []
        return self.line_candidates


def collect_pairs(block: etree._Element, found: _Block | None = None) -> list[tuple[str, Figure, str]]:
    """Every (label, figure, origin) in a stats block; origin is ``card``, ``dl`` or ``line``."""
    found = found or _Block(block)
    pairs: list[tuple[str, Figure, str]] = []
    for cell in found.cells:
        value_el = None
        texts = [cell.text or ""]
        for child in cell:
            if value_el is None and child.tag == "p":  # ./p
                value_el = child
            texts.append(child.tail or "")
        if value_el is None:
            continue
        # The label is the cell's own text around the <p> (``<th><p>112</p>主题</th>``).
        label = _label("".join(texts))
        if label:
            pairs.append((label, _figure_of(value_el), "card"))
    for dl in found.dls:
        label = None
        for child in dl:
            tag = child.tag
            if tag == "dt":
                label = _label(text_of(child))
            elif tag == "dd" and label:
                pairs.append((label, _figure_of(child), "dl"))
                label = None
    lines = [line for line in map(_line, map(text_of, found.line_candidates)) if line is not None]
    if lines and found.lines:  # the block's ancestors only matter when a line reads as a pair
        pairs += [(*line, "line") for line in lines]
    return pairs


@lru_cache(maxsize=4096)
def _known(label: str) -> str | None:
    return KNOWN_LABELS.find(label)


def stats_from_pairs(pairs: list[tuple[str, Figure, str]], uid: int, *, seen_at: datetime | None = None,
                     source: str = "post") -> tuple[UserStats, dict]:
    """Map ``(label, figure, origin)`` pairs to :class:`UserStats` and user fields, by label only.

    Unknown numeric labels from ``dl``/``card``/``profile`` origins are extcredits (威望, 金钱…);
    ``回帖`` + ``主题`` rebuild ``posts`` when only replies are shown (X3.4+ numbercards).
    """
    stats = UserStats(uid=uid, seen_at=seen_at, source=source)
    user_fields: dict = {}
    for label, figure, origin in pairs:
        stats.raw.setdefault(label, figure.shown)
        field = _known(label)
        if field in _COUNT_FIELDS:
            current = getattr(stats, field)
            # A later exact figure beats an earlier rounded one (the hover card vs the numbercard).
            if current is None or (field in stats.approx and not figure.approx):
                setattr(stats, field, figure.value)
                if figure.approx and field not in stats.approx:
                    stats.approx.append(field)
                elif not figure.approx and field in stats.approx:
                    stats.approx.remove(field)
        elif field == "online_hours":
            if stats.online_hours is None:
                stats.online_hours = parse_hours(figure.shown)
        elif field == "registered":
            user_fields.setdefault("registered_at_text", figure.shown)
        elif field == "last_login":
            user_fields.setdefault("last_login_text", figure.shown)
        elif field is None and origin in ("dl", "card", "profile") and figure.value is not None and label not in stats.extcredits:
            stats.extcredits[label] = {"value": figure.value, "unit": figure.unit}
            if figure.approx:
                stats.extcredits[label]["approx"] = True
    if stats.posts is None and stats.replies is not None and stats.threads is not None:
        # Newer X3.4/X3.5 label the numbercard 回帖 and show posts − threads there.
        stats.posts = stats.replies + stats.threads
        if "replies" in stats.approx or "threads" in stats.approx:
            stats.approx.append("posts")
    return stats, user_fields


def parse_stats_block(block: etree._Element, uid: int, *, seen_at: datetime | None = None) -> tuple[UserStats, dict]:
    """Read one author column into :class:`UserStats` plus user fields found there.

    Returns ``(stats, user_fields)``; ``user_fields`` may hold ``group_title``, ``group_id``,
    ``custom_title`` and ``registered_at_text``. A block with no pairs (guests with
    ``threadguestlite``) gives empty stats, which is not an error.
    """
    found = _Block(block)
    stats, user_fields = stats_from_pairs(collect_pairs(block, found), uid, seen_at=seen_at, source="post")
    group = found.group_links
    if group:
        user_fields["group_title"] = tidy_text(text_of(group[0])) or None
        m = _GID.search(group[0].get("href", ""))
        if m:
            user_fields["group_id"] = as_int(m.group(1))
    else:
        title = found.group_titles
        if title:
            user_fields["group_title"] = tidy_text(text_of(title[0])) or None
    custom = found.custom_titles
    if custom:
        user_fields["custom_title"] = tidy_text(text_of(custom[0])) or None
    return stats, user_fields


def apply_user_fields(user: User, fields: dict) -> User:
    """Copy the fields :func:`parse_stats_block` found onto ``user`` (first value wins)."""
    for key, value in fields.items():
        if value is not None and getattr(user, key, None) is None:
            setattr(user, key, value)
    return user
