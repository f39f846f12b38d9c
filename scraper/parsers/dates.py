"""Discuz! times as shown -> timezone-aware datetimes.

Discuz renders times with ``dgmdate()``: absolute in the site's ``dateformat`` (``Y-n-j`` by default,
also ``Y-m-d``, ``Y/m/d``, ``n-j`` without a year, ``Y年n月j日``) with or without ``H:i(:s)``, or, when
``dateconvert`` is on, relative (``刚刚``, ``N 秒前``, ``N 分钟前``, ``半小时前``, ``N 小时前``,
``昨天 10:20``, ``前天 10:20``, ``N 天前``) usually wrapped in a ``span`` whose ``title`` holds the
exact time. Times carry no offset: they are in the forum's ``timeoffset`` (UTC+8 unless configured).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from dateutil import tz as dateutil_tz
from dateutil.parser import parse as dateutil_parse

from ..digits import as_int
from .labels import chars, label_pattern, label_regex, simplified, spellings

DEFAULT_TZ = timezone(timedelta(hours=8), "UTC+08:00")

_SPACES = re.compile(r"[\s\u00a0\u3000]+")
# 2024-10-1 09:00:00 / 2024/10/01 9:00 / 2024年10月1日 09:00 / 2024.10.1
_ABSOLUTE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?:上午|下午|晚上)?\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
# n-j H:i (dateformat without a year)
_NO_YEAR = re.compile(
    r"(?<![\d-])(?P<m>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})\s*日?(?:(?:\s*(?:上午|下午|晚上)\s*|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?(?![\d-])"
)
# Relative times in both scripts (刚刚 / 剛剛, N 分钟前 / N 分鐘前, N 小时前 / N 小時前): see .labels.
_JUST_NOW = label_pattern(r"刚刚|刚才")  # X 刚刚, 7.x 刚才
_SECONDS_AGO = label_pattern(r"(\d+)\s*秒前")
_MINUTES_AGO = label_pattern(r"(\d+)\s*分钟前")
_HALF_HOUR_AGO = label_pattern(r"半小时前")
_HOURS_AGO = label_pattern(r"(\d+)\s*小时前")
_DAY_WORD = label_pattern(r"(今天|昨天|前天)\s*(\d{1,2}):(\d{2})")
_DAYS_AGO = label_pattern(r"(\d+)\s*天前")
# 7.x dgmdate(): "N 天前 H:i" is the calendar day N days back at that time (X prints no time after 天前).
_DAYS_AGO_AT = label_pattern(r"(\d+)\s*天前\s*(\d{1,2}):(\d{2})")
# A character every relative pattern above needs (刚/剛 of 刚刚 and 刚才, 前 of N 秒前 … N 天前 and 前天, 今 and 昨 of 今天
# and 昨天): a text without one (nor _TIME_ONLY's H:i) is no relative time, found by one search instead of nine.
_RELATIVE_MARK = label_pattern(r"[刚前今昨]")
_MERIDIEM = re.compile(r"\b[AaPp][Mm]\b|上午|下午|晚上")
_TIME_ONLY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")

_DAY_OFFSETS = {"今天": 0, "昨天": 1, "前天": 2}
# The labels before a post's time (发表于 / 發表於, 发表时间 / 發表時間), every spelling, longest first.
POSTED_LABELS = ("发表于", "发表时间")
_POSTED_PREFIXES = tuple(sorted({s for label in POSTED_LABELS for s in spellings(label)}, key=len, reverse=True))
# "发表于 T" as bare text (Discuz 5.5/6.x, themes that drop em#authorpostonPID): T in any dateformat,
# 24- or 12-hour, or relative.
_POSTED_TIME = re.compile(
    rf"(?:{chars('发表于')}|{chars('发表时间')})\s*[:：]?\s*(?P<time>"
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*(?:上午|下午|晚上)?\s*\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
    r"|\d{1,2}\s*[-/月]\s*\d{1,2}\s*日?(?:\s*(?:上午|下午|晚上)?\s*\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
    + label_regex(r"|(?:今天|昨天|前天)\s*\d{1,2}:\d{2}|刚刚|刚才|半小时前|\d+\s*天前\s*\d{1,2}:\d{2}"
                  r"|\d+\s*(?:秒|分钟|小时|天)前)")
)


def parse_tz(value: str | tzinfo | None) -> tzinfo:
    """Turn ``"+08:00"``, ``"8"``, ``"Asia/Taipei"`` or a tzinfo into a tzinfo (default UTC+8)."""
    if value is None or value == "":
        return DEFAULT_TZ
    if isinstance(value, tzinfo):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(?:UTC|GMT)?\s*([+-]?)(\d{1,2})(?::?(\d{2}))?", text)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return timezone(sign * delta)
    zone = dateutil_tz.gettz(text)
    if zone is None:
        raise ValueError(f"unknown time zone {value!r}: use an offset like +08:00 or a zone name")
    return zone


def clean_time_text(text: str | None) -> str:
    """Collapse whitespace (including ``&nbsp;``) and drop the ``发表于`` prefix Discuz puts first."""
    if not text:
        return ""
    text = _SPACES.sub(" ", text).strip()
    if not text.startswith(_POSTED_PREFIXES):
        return text
    for prefix in _POSTED_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):].lstrip(" :：")
    return text


def posted_time_text(text: str | None) -> str | None:
    """The time in a bare ``发表于 T`` line (``1楼 发表于 2009-6-10 13:18 只看该作者`` -> ``2009-6-10 13:18``)."""
    m = _POSTED_TIME.search(_SPACES.sub(" ", text or ""))
    return m.group("time").strip() if m else None


def parse_absolute(text: str, tz: tzinfo = DEFAULT_TZ, now: datetime | None = None) -> datetime | None:
    """Parse an absolute Discuz time (any of the common ``dateformat`` settings) in the site's zone."""
    m = _ABSOLUTE.search(text)
    if m:
        parts = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
        return _build(parts["y"], parts["m"], parts["d"], _24h(parts["H"], text), parts["M"], parts["S"], tz)
    m = _NO_YEAR.search(text)
    if m and now is not None:
        # ``n-j``: the year is the crawl's, unless that lands in the future (then last year).
        parts = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
        local_now = now.astimezone(tz)
        hour = _24h(parts["H"], text)
        dt = _build(local_now.year, parts["m"], parts["d"], hour, parts["M"], parts["S"], tz)
        if dt is not None and dt > local_now + timedelta(days=1):
            dt = _build(local_now.year - 1, parts["m"], parts["d"], hour, parts["M"], parts["S"], tz)
        return dt
    try:
        dt = dateutil_parse(text, fuzzy=False)
    except (ValueError, OverflowError, ArithmeticError):  # dateutil: decimal.InvalidOperation on "1:1e999"
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def parse_relative(text: str, now: datetime, tz: tzinfo = DEFAULT_TZ) -> datetime | None:
    """Resolve a relative Discuz time against ``now`` (the response's Date header, else fetch time)."""
    local_now = now.astimezone(tz)
    if not _RELATIVE_MARK.search(text) and not _TIME_ONLY.match(text):
        return None  # no pattern below can match (the common case: an absolute time)
    if _JUST_NOW.search(text):
        return local_now
    m = _DAYS_AGO_AT.search(text)
    if m and as_int(m.group(1)) is not None:
        day = (local_now - timedelta(days=as_int(m.group(1)))).date()
        return datetime(day.year, day.month, day.day, int(m.group(2)), int(m.group(3)), tzinfo=tz)
    for pattern, unit in ((_SECONDS_AGO, "seconds"), (_MINUTES_AGO, "minutes"), (_HOURS_AGO, "hours"),
                          (_DAYS_AGO, "days")):
        m = pattern.search(text)
        if m and as_int(m.group(1)) is not None:
            return local_now - timedelta(**{unit: as_int(m.group(1))})
    if _HALF_HOUR_AGO.search(text):
        return local_now - timedelta(minutes=30)
    m = _DAY_WORD.search(text)
    if m:
        day = (local_now - timedelta(days=_DAY_OFFSETS[simplified(m.group(1))])).date()
        return datetime(day.year, day.month, day.day, int(m.group(2)), int(m.group(3)), tzinfo=tz)
    m = _TIME_ONLY.match(text)
    if m:  # some themes show only H:i for today's posts
        return local_now.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=int(m.group(3) or 0),
                                 microsecond=0)
    return None


def parse_discuz_time(text: str | None, title: str | None = None, *, now: datetime | None = None,
                      tz: tzinfo = DEFAULT_TZ) -> datetime | None:
    """The datetime a Discuz time element means.

    ``title`` is the ``span[title]`` Discuz puts around relative times (exact, preferred);
    ``text`` is what the page shows. Relative text is resolved against ``now``. Returns ``None``
    when nothing in the inputs reads as a time.
    """
    if title:
        try:
            dt = parse_absolute(clean_time_text(title), tz, now)
        except OverflowError:
            dt = None
        if dt is not None:
            return dt
    text = clean_time_text(text)
    if not text:
        return None
    try:
        if now is not None:
            dt = parse_relative(text, now, tz)
            if dt is not None:
                return dt
        return parse_absolute(text, tz, now)
    except (OverflowError, ValueError):  # "99999 天前", 25:61, a time at the calendar's edge: no time we can hold
        return None


def _24h(hour: int, text: str) -> int:
    """A 12-hour ``timeformat`` (``h:i A``): 03:20 PM / 下午 3:20 is 15:20, 12:05 AM is 00:05."""
    m = _MERIDIEM.search(text)
    if not m or hour > 12:
        return hour
    if m.group(0).upper() in ("PM", "下午", "晚上"):
        return hour % 12 + 12
    return hour % 12


def _build(y: int, m: int, d: int, hh: int, mm: int, ss: int, tz: tzinfo) -> datetime | None:
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=tz)
    except ValueError:
        return None


def parse_http_date(value: str | bytes | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware UTC datetime (``None`` when absent or unreadable)."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return _http_date(value)


@lru_cache(maxsize=64)
def _http_date(value: str) -> datetime | None:
    """:func:`parse_http_date` of a header's text. Kept for the last few texts: a crawl's pages of one second
    share the header (the parser and the normaliser each read it), and reading one costs ~15 us."""
    from email.utils import parsedate_to_datetime

    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not _HTTP_YEARS[0] <= dt.year <= _HTTP_YEARS[1]:
        return None  # a broken clock (year 9999): anchor relative times on the fetch time instead
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# Date headers outside these years are a server's broken clock, not a time to read pages by.
_HTTP_YEARS = (1995, 2999)
