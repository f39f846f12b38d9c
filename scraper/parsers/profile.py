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

from parsel import Selector

from ..digits import as_int
from ..items import ParsedPage, User, UserStats
from ..urls import classify
from .content import tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .numbers import parse_figure, parse_hours
from .labels import LabelTable, label_pattern, xpath_contains
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
_DATE = re.compile(r"\d{4}\s*[-/年]\s*\d{1,2}")
_GROUP_LABELS = LabelTable({"用户组": True})
_X_GROUP_LINK = f"/descendant::div[contains(@class, 'u_profile')]/descendant::li[em[{xpath_contains('用户组')}]]//a"
_NOT_FIGURES = frozenset({"readperm", "uid"})


def is_profile_page(sel: Selector) -> bool:
    """Whether the page is a Discuz! X space profile."""
    return bool(sel.xpath("/descendant::div[contains(@class, 'u_profile')] | /descendant::ul[@id='pbbs']"))


def parse_profile_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                       fetched_at: datetime | None = None) -> ParsedPage:
    """Parse a profile page into one :class:`User` and one :class:`UserStats` (source ``profile``)."""
    page = ParsedPage(url=url, kind="profile", fetched_at=fetched_at)
    heading = sel.xpath("/descendant::div[contains(@class, 'u_profile')]//h2[contains(@class, 'mbn')][1]")
    uid = None
    username = None
    if heading:
        m = _UID.search(heading[0].xpath("string()").get())
        uid = as_int(m.group(1)) if m else None
        username = tidy_text("".join(heading[0].xpath("./text()").getall())) or None
    uid = uid or classify(url).uid
    if uid is None:
        return page
    page.uid = uid
    user = User(uid=uid, username=username)
    stats = UserStats(uid=uid, seen_at=now, source="profile")
    summary = tidy_text(sel.xpath("string(/descendant::div[contains(@class, 'u_profile')])").get() or "")
    for label, value in _COUNTS.findall(summary):
        stats.raw[label] = value
        if _COUNT_FIELDS.has(label):
            setattr(stats, _COUNT_FIELDS.find(label), as_int(value))
    group = sel.xpath(_X_GROUP_LINK)
    if group:
        user.group_title = tidy_text(group[0].xpath("string()").get()) or None
        m = _GID.search(group[0].attrib.get("href", ""))
        user.group_id = as_int(m.group(1)) if m else None
    for li in sel.xpath("/descendant::div[contains(@class, 'u_profile')]/descendant::li[em]"):
        label = tidy_text(li.xpath("string(./em)").get()).rstrip(":：")
        value = tidy_text("".join(li.xpath("./text() | ./*[not(self::em)]//text()").getall()))
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
        elif field is None and li.xpath("ancestor::*[@id='psts']"):
            figure = parse_figure(value)
            if figure.value is not None:
                stats.extcredits[label] = {"value": figure.value, "unit": figure.unit}
    if stats.posts is None and stats.replies is not None and stats.threads is not None:
        stats.posts = stats.replies + stats.threads
    page.users.append(user)
    page.user_stats.append(stats)
    return page


def is_legacy_profile_page(sel: Selector) -> bool:
    """Whether the page is a Discuz! 7.x ``space.php`` profile (``viewpro_classic.htm``) showing a UID."""
    return bool(sel.xpath(_LEGACY_PROFILE)) and bool(_UID.search(tidy_text(sel.xpath("string(//body)").get() or "")))


def parse_legacy_profile_page(sel: Selector, url: str, *, now: datetime | None = None, tz: tzinfo = DEFAULT_TZ,
                              fetched_at: datetime | None = None) -> ParsedPage:
    """Parse a 7.x profile into one :class:`User` and one :class:`UserStats` (source ``profile``), by labels."""
    page = ParsedPage(url=url, kind="profile", fetched_at=fetched_at)
    m = _UID.search(tidy_text(sel.xpath("string(/descendant::*[contains(@class, 'itemtitle')])").get() or "")) \
        or _UID.search(tidy_text(sel.xpath("string(//body)").get() or ""))
    uid = (as_int(m.group(1)) if m else None) or classify(url).uid
    if uid is None:
        return page
    page.uid = uid
    user = User(uid=uid, username=tidy_text(sel.xpath("string(/descendant::*[contains(@class, 'itemtitle')]/h1)").get() or "") or None)
    pairs = []
    seen_lines: set[str] = set()
    for line in sel.xpath(_LEGACY_LINES):
        text = tidy_text(line.xpath("string()").get() or "")
        if not text or text in seen_lines or line.xpath(".//li | .//tr | .//h3"):
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
            credit = (line.root.tag == "p" and figure.value is not None and not _DATE.search(value)
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
