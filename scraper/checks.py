"""What a crawl (or ``dzarchive parse``/``reparse``) is given, checked before anything runs: the start URL, the
forum's time zone, ``-s NAME=VALUE`` settings. Each check returns the value to use or raises
:class:`CrawlInputError` with one line for the user (the command line turns it into exit code 2).

Importable without Scrapy (``parse`` and ``reparse`` check ``--tz`` with it); only :func:`check_setting` loads it.
"""
from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from urllib.parse import urlsplit

from scraper.parsers.dates import parse_tz


class CrawlInputError(ValueError):
    """A crawl that cannot start as asked (a bad URL, time zone, cookies file or archive); nothing was written."""


_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$")
# A "host" that is a page's file name: "forum.php" given without the site's address.
_PAGE_FILE_HOST = re.compile(r"\.(?:php|html?|aspx?|jsp|cgi)$", re.IGNORECASE)
# A UTC offset as parse_tz reads it: "+08:00", "8", "UTC+8", "GMT-05:30".
_UTC_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-]?)(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
# The offsets local times on Earth use (UTC-12:00, Baker Island, to UTC+14:00, Line Islands).
_EARLIEST, _LATEST = timedelta(hours=-12), timedelta(hours=14)
_NOT_A_ZONE = ("is not a UTC offset between -12:00 and +14:00 (e.g. +08:00) or a time zone name"
               " (e.g. Asia/Shanghai)")
# -s NAME=VALUE: Scrapy's setting names are upper-case words.
_SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# Settings whose default is a whole number but that are read as seconds, fractions allowed (DOWNLOAD_TIMEOUT=7.5).
_SECONDS_SETTING = re.compile(r"_(?:TIMEOUT|DELAY|INTERVAL|SECONDS)$")


def check_start_url(url: str) -> str:
    """The start URL as the crawl uses it (``http://`` added when no scheme is given); raises
    :class:`CrawlInputError` for one that names no web host."""
    text = (url or "").strip()
    if not text:
        raise CrawlInputError("no start URL: give a page of the forum, e.g. http://bbs.example.com/forum.php")
    bare = "://" not in text
    if bare:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise CrawlInputError(f"{url!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise CrawlInputError(f"{url!r} is not a web address: the scheme must be http or https, not {parts.scheme!r}")
    if not host or not (_HOST.match(host) or ":" in host):
        raise CrawlInputError(f"{url!r} is not a URL with a host name (e.g. http://bbs.example.com/forum.php)")
    if bare and _PAGE_FILE_HOST.search(host):
        raise CrawlInputError(f"{url!r} names a page but no site: give the page's whole address, e.g."
                              f" http://bbs.example.com/{url.strip()}")
    return text


def check_timezone(value: str | None) -> str | None:
    """``value`` when it is a UTC offset between -12:00 and +14:00 or a time zone name ``parse_tz`` knows (``None``
    and ``""`` stand for the default, +08:00); raises :class:`CrawlInputError` otherwise."""
    if value is None or not str(value).strip():
        return value
    text = str(value).strip()
    offset = _UTC_OFFSET.fullmatch(text)
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
        delta = timedelta(hours=hours, minutes=minutes) * (-1 if offset.group(1) == "-" else 1)
        if minutes >= 60 or not _EARLIEST <= delta <= _LATEST:
            raise CrawlInputError(f"{text} {_NOT_A_ZONE}")
        return value
    try:
        parse_tz(text)
    except ValueError:
        raise CrawlInputError(f"{text!r} {_NOT_A_ZONE}") from None
    return value


def check_setting(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` (``-s``) as ``(NAME, VALUE)``; raises :class:`CrawlInputError` for one that is not a setting
    assignment, or whose value the setting cannot take (a word for a number, ``maybe`` for a switch, ...).

    A setting's kind is that of its value in dzarchive's settings (scraper/settings.py) or Scrapy's defaults; a
    name neither knows is passed on as given (an add-on's setting).
    """
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise CrawlInputError(f"{text!r} is not NAME=VALUE (e.g. -s DOWNLOAD_DELAY=1)")
    if not _SETTING_NAME.fullmatch(name):
        raise CrawlInputError(f"{name!r} is not a setting name: they are upper-case, e.g. DOWNLOAD_DELAY")
    from scrapy.settings import BaseSettings, Settings

    known = Settings()
    known.setmodule("scraper.settings", priority="project")
    default = known.get(name)
    if default is None or isinstance(default, str):
        return name, value
    kind = None
    try:
        if isinstance(default, bool):
            kind = "a switch (1, 0, True or False)"
            Settings({name: value}).getbool(name)
        elif isinstance(default, int) and not _SECONDS_SETTING.search(name):
            kind = "a whole number"
            int(value)
        elif isinstance(default, (int, float)):
            kind = "a number"
            if not math.isfinite(float(value)):
                raise ValueError(value)
        elif isinstance(default, (dict, BaseSettings)):
            kind = "a JSON object (e.g. {\"name\": 1})"
            if not isinstance(json.loads(value), dict):
                raise ValueError(value)
    except ValueError:
        raise CrawlInputError(f"{name}={value}: {name} takes {kind}") from None
    return name, value
