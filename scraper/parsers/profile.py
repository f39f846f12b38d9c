"""User profile pages -> user and their exact figures.

The profile shows what the stats block beside a post often rounds or leaves out: the exact
registration time (``2010-6-10 10:00``), figures without ``万``, the group, and every extcredit.

* Discuz! X (``home.php?mod=space&uid=N&do=profile``): ``div.u_profile`` with ``li > em`` labels.
* Discuz! 7.x (``space.php?uid=N``, ``space.php?uid=N&action=viewpro``; template
  ``viewpro_classic.htm``): ``div.itemtitle`` with ``h1`` name and ``(UID: N)``, then label lines:
  ``ul.commonlist li`` (``注册日期: 2008-5-1``, ``帖子: 98129 篇(…)``, ``精华: 3 篇``…),
  ``h3.blocktitle`` (``用户组: …``, ``积分: 1234``), and ``p`` lines (``在线时间: 总计 N 小时, …``,
  the extcredits ``威望: 5 ,&nbsp;金钱: 300 …``), and ``th``/``td`` rows of the base profile.
  Lines are read by label wherever the theme puts them.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from lxml import etree
from parsel import Selector

from ..digits import as_int
from ..items import ParsedPage, User, UserStats
from ..urls import classify
from .content import text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .labels import LabelTable, label_pattern, spellings, xpath_contains
from .numbers import parse_figure, parse_hours
from .stats import KNOWN_LABELS, stats_from_pairs

_UID = re.compile(r"UID\s*[:：]\s*(\d+)")
# Labels in both scripts (回帖数 / 回帖數, 用户组 / 用戶組): see .labels.
_COUNTS = label_pattern(r"(回帖数|主题数|好友数|帖子数|记录数|日志数|相册数|分享数)\s*(\d+)")
_COUNT_FIELDS = LabelTable({"回帖数": "replies", "主题数": "threads", "好友数": "friends", "帖子数": "posts"})
_GID = re.compile(r"gid=(\d+)")
_SKIP_LABELS = LabelTable({label: True for label in ("已用空间", "邮箱状态", "视频认证", "所在时区", "统计信息")})
# 7.x: every "label: value" on a line; several per line in the extcredits paragraph ("威望: 5 , 金钱: 300").
_LINE_PAIRS = re.compile(r"(?P<label>[^\d\s:：,，()（）|][^\d:：,，()（）|]{0,11}?)\s*[:：]\s*(?P<value>[^,，|]*)")
_LEGACY_LINES = ("/descendant::*[@id='profilecontent' or contains(@class, 'itemtitle') or @id='baseprofile']"
                 "/descendant::*[self::li or self::h3 or self::p or self::tr]"
                 " | /descendant::div[contains(@class, 'main')]/descendant::ul[contains(@class, 'commonlist')]/li"
                 " | /descendant::div[contains(@class, 'main')]/descendant::h3[contains(@class, 'blocktitle')]")
_LEGACY_PROFILE = ("/descendant::div[@id='profilecontent'] | /descendant::div[contains(@class, 'itemtitle')][./descendant::li[contains(., 'UID')]]"
                   " | /descendant::ul[contains(@class, 'commonlist')]")
_X_LEGACY_LINES = etree.XPath(_LEGACY_LINES)
_X_LEGACY_PROFILE = etree.XPath(f"boolean({_LEGACY_PROFILE})")
_X_BODY_TEXT = etree.XPath("string(//body)")
_X_ITEMTITLE_TEXT = etree.XPath("string(/descendant::*[contains(@class, 'itemtitle')])")
_X_ITEMTITLE_NAME = etree.XPath("string(/descendant::*[contains(@class, 'itemtitle')]/h1)")
_DATE = re.compile(r"\d{4}\s*[-/年]\s*\d{1,2}")
_GROUP_LABELS = LabelTable({"用户组": True})
_X_GROUP_LINK = f"/descendant::div[contains(@class, 'u_profile')]/descendant::li[em[{xpath_contains('用户组')}]]//a"
_NOT_FIGURES = frozenset({"readperm", "uid"})


_X_IS_PROFILE_PAGE = etree.XPath("boolean(/descendant::div[contains(@class, 'u_profile')] | /descendant::ul[@id='pbbs'])")
# The profile's boxes; what is read under them (the definitions :class:`_Profile` follows in one walk of them):
_X_PROFILE_BOXES = etree.XPath("/descendant::div[contains(@class, 'u_profile')]")
_HEADING = "/descendant::div[contains(@class, 'u_profile')]//h2[contains(@class, 'mbn')][1]"
_LABELLED_LINES = "/descendant::div[contains(@class, 'u_profile')]/descendant::li[em]"
_LINE_VALUE = "./text() | ./*[not(self::em)]//text()"
_GROUP_SPELLINGS = tuple(spellings("用户组"))


def is_profile_page(sel: Selector) -> bool:
    """Whether the page is a Discuz! X space profile."""
    return _X_IS_PROFILE_PAGE(sel.root)


class _Profile:
    """What the X profile's XPaths find under its ``div.u_profile`` boxes: ``heading`` (``_HEADING``'s first),
    ``lines`` (``_LABELLED_LINES``) and ``group`` (``_X_GROUP_LINK``'s first), from one walk of the boxes that stop
    at ``h2`` and ``li``. Boxes inside another box are left out (their elements are the outer box's)."""

    __slots__ = ("group", "heading", "lines", "summary")

    def __init__(self, root: etree._Element):
        self.summary = self.heading = self.group = None
        self.lines: list = []
        boxes = _X_PROFILE_BOXES(root)
        if not boxes:
            return
        self.summary = text_of(boxes[0])
        for box in _outermost(boxes):
            for el in box.iterdescendants("h2", "li"):
                if el.tag == "h2":
                    if self.heading is None and "mbn" in (el.get("class") or ""):
                        self.heading = el
                    continue
                ems = [child for child in el if child.tag == "em"]
                if not ems:
                    continue
                self.lines.append(el)
                if self.group is None and any(s in text_of(em) for em in ems for s in _GROUP_SPELLINGS):
                    self.group = next(el.iterdescendants("a"), None)


def _outermost(boxes: list) -> list:
    """``boxes`` (in document order) less those inside an earlier one."""
    if len(boxes) == 1:
        return boxes
    kept: list = []
    for box in boxes:
        if not any(outer in box.iterancestors() for outer in kept):
            kept.append(box)
    return kept


def _line_value(li: etree._Element) -> str:
    """``_LINE_VALUE`` joined: the line's own text and the text of its children other than ``em``."""
    parts = [li.text or ""]
    for child in li:
        if isinstance(child.tag, str) and child.tag != "em":
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _child_text(el: etree._Element, tag: str) -> str:
    """``string(./TAG)``: the text of ``el``'s first child ``tag``."""
    for child in el:
        if child.tag == tag:
            return text_of(child)
    return ""


def parse_profile_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                       fetched_at: datetime | None = None) -> ParsedPage:
    """Parse a profile page into one :class:`User` and one :class:`UserStats` (source ``profile``)."""
    page = ParsedPage(url=url, kind="profile", fetched_at=fetched_at)
    profile = _Profile(sel.root)
    heading = profile.heading
    uid = None
    username = None
    if heading is not None:
        m = _UID.search(text_of(heading))
        uid = as_int(m.group(1)) if m else None
        username = tidy_text("".join(_own_texts(heading))) or None
    uid = uid or classify(url).uid
    if uid is None:
        return page
    page.uid = uid
    user = User(uid=uid, username=username)
    stats = UserStats(uid=uid, seen_at=now, source="profile")
    summary = tidy_text(profile.summary or "")
    for label, value in _COUNTS.findall(summary):
        stats.raw[label] = value
        if _COUNT_FIELDS.has(label):
            setattr(stats, _COUNT_FIELDS.find(label), as_int(value))
    group = profile.group
    if group is not None:
        user.group_title = tidy_text(text_of(group)) or None
        m = _GID.search(group.get("href", ""))
        user.group_id = as_int(m.group(1)) if m else None
    for li in profile.lines:
        label = tidy_text(_child_text(li, "em")).rstrip(":：")
        value = tidy_text(_line_value(li))
        if not label or not value or _SKIP_LABELS.has(label) or _GROUP_LABELS.has(label):
            continue
        stats.raw[label] = value
        field = KNOWN_LABELS.find(label)
        if field == "registered":
            user.registered_at_text = value
            user.registered_at = parse_discuz_time(value, now=now, tz=tz)
        elif field == "last_login":
            user.last_login_text = value
        elif field == "online_hours":
            stats.online_hours = parse_hours(value)
        elif field in ("credits", "digests", "threads", "posts", "friends", "followers", "following"):
            setattr(stats, field, parse_figure(value).value)
        elif field is None and any(a.get("id") == "psts" for a in li.iterancestors()):  # ancestor::*[@id='psts']
            figure = parse_figure(value)
            if figure.value is not None:
                stats.extcredits[label] = {"value": figure.value, "unit": figure.unit}
    if stats.posts is None and stats.replies is not None and stats.threads is not None:
        stats.posts = stats.replies + stats.threads
    page.users.append(user)
    page.user_stats.append(stats)
    return page


def _own_texts(el: etree._Element):
    """``./text()``: ``el``'s own text nodes."""
    if el.text:
        yield el.text
    for child in el:
        if child.tail:
            yield child.tail


def is_legacy_profile_page(sel: Selector) -> bool:
    """Whether the page is a Discuz! 7.x ``space.php`` profile (``viewpro_classic.htm``) showing a UID."""
    return _X_LEGACY_PROFILE(sel.root) and bool(_UID.search(tidy_text(_X_BODY_TEXT(sel.root))))


def parse_legacy_profile_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                              fetched_at: datetime | None = None) -> ParsedPage:
    """Parse a 7.x profile into one :class:`User` and one :class:`UserStats` (source ``profile``), by labels."""
    page = ParsedPage(url=url, kind="profile", fetched_at=fetched_at)
    m = _UID.search(tidy_text(_X_ITEMTITLE_TEXT(sel.root))) or _UID.search(tidy_text(_X_BODY_TEXT(sel.root)))
    uid = (as_int(m.group(1)) if m else None) or classify(url).uid
    if uid is None:
        return page
    page.uid = uid
    user = User(uid=uid, username=tidy_text(_X_ITEMTITLE_NAME(sel.root)) or None)
    pairs = []
    seen_lines: set[str] = set()
    for line in _X_LEGACY_LINES(sel.root):
        text = tidy_text(text_of(line))
        # A line that holds lines (.//li | .//tr | .//h3) is read by those.
        if not text or text in seen_lines or next(line.iterdescendants("li", "tr", "h3"), None) is not None:
            continue
        seen_lines.add(text)
        for pm in _LINE_PAIRS.finditer(text):
            label, value = pm.group("label").strip(), pm.group("value").strip()
            if not value or _SKIP_LABELS.has(label):
                continue
            if _GROUP_LABELS.has(label):
                user.group_title = user.group_title or value
                continue
            figure = parse_figure(value)
            # Extcredits are the figures of the credits paragraph (``p``); list lines hold dates,
            # ranks and per-day rates as well.
            credit = (line.tag == "p" and figure.value is not None and not _DATE.search(value)
                      and KNOWN_LABELS.find(label) not in _NOT_FIGURES)
            origin = "profile" if credit else "line"
            pairs.append((label, figure, origin))
    stats, fields = stats_from_pairs(pairs, uid, seen_at=now, source="profile")
    stats.raw.pop("UID", None)
    # 注册日期 is gmdate($dateformat): a date, resolved as one by parse_page.
    user.registered_at_text = fields.get("registered_at_text")
    user.last_login_text = fields.get("last_login_text")
    page.users.append(user)
    page.user_stats.append(stats)
    return page
