"""A page's requisites: what a browser fetches to show it (stylesheets, scripts, images, icons), and a stylesheet's.

Pure functions, no Scrapy: ``page_requisites(url, body)`` reads a page, ``css_requisites(url, text)`` a stylesheet.
Used by ``--warc`` (``scraper.warc.PageRequisites``), so that a WARC replays a page as the site showed it.

What a page needs, each URL resolved against ``<base href>`` when the page has one (Discuz X sets it to the site
URL in ``header_common.htm``, 7.x to ``$boardurl``) and kept exactly as the page spells it otherwise
(``data/cache/style_1_common.css?FPN``: the ``?`` version suffix is part of the URL a replay is asked for):

- stylesheets: ``link rel=stylesheet``, and the ``url(...)`` / ``@import`` of ``<style>`` blocks and ``style=``
  attributes (a fetched stylesheet's own are :func:`css_requisites`');
- scripts: ``script src``;
- images the page shows: ``img`` ``src``, ``srcset`` and the lazy-load attributes Discuz and its themes use for the
  real picture (``zoomfile``, ``file``, ``data-original``, ``data-src``: a photo shows ``src=none.gif`` until the
  page's script swaps them in, so replay needs both), ``input type=image``, ``background=`` attributes;
- icons: ``link rel~=icon`` (``icon``, ``shortcut icon``, ``apple-touch-icon``), else ``/favicon.ico``, which a
  browser asks for when the page names none.

Never: ``data:``/``javascript:`` URLs, anything not http(s), and scripts that are actions rather than files
(X's footer ``home.php?mod=misc&ac=sendmail``, which runs the forum's mail queue; anything with a ``formhash``).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from ..urls import join_url
from .common import read_document

# Kinds of requisite, as WARC-Resource-Type names them (browsertrix-crawler's names, Chrome's resource types).
STYLESHEET = "stylesheet"
SCRIPT = "script"
IMAGE = "image"

_BASE_HREF = etree.XPath("/descendant::base[@href][1]/@href")
_REL_HAS = "contains(concat(' ', translate(normalize-space(@rel), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', " \
           "'abcdefghijklmnopqrstuvwxyz'), ' '), ' {} ')"
_STYLESHEET_LINKS = etree.XPath(f"/descendant::link[{_REL_HAS.format('stylesheet')}]/@href")
_ICON_LINKS = etree.XPath(f"/descendant::link[{_REL_HAS.format('icon')} or {_REL_HAS.format('apple-touch-icon')}"
                          f" or {_REL_HAS.format('apple-touch-icon-precomposed')}]/@href")
_SCRIPTS = etree.XPath("/descendant::script/@src")
# The picture an img shows, and the real one lazy loading puts in its place (scraper/parsers/content.py reads the
# same attributes for the post's images).
_IMAGE_SOURCES = etree.XPath("/descendant::img/@src | /descendant::img/@zoomfile | /descendant::img/@file"
                             " | /descendant::img/@data-original | /descendant::img/@data-src"
                             " | /descendant::input[translate(@type, 'IMAGE', 'image')='image']/@src"
                             " | /descendant::*[@background]/@background")
_SRCSETS = etree.XPath("/descendant::img/@srcset | /descendant::source/@srcset")
_STYLE_BLOCKS = etree.XPath("/descendant::style/text()")
_STYLE_ATTRS = etree.XPath("/descendant::*/@style")

# url(...) in CSS, quoted or not; @import "x.css" without url().
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^\s;)'"]+))""", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# Scripts that do something on the server when asked for: X's footer runs the mail queue through one.
_ACTION_URL = re.compile(r"[?&](?:ac=sendmail|formhash=|action=logout)(?:&|$|=)", re.I)
_SRCSET_SPLIT = re.compile(r",\s+|,(?=\S)")


def page_requisites(url: str, body: bytes | str, content_type: str | None = None) -> list[tuple[str, str]]:
    """``(absolute URL, kind)`` of everything the page at ``url`` needs to be shown, in document order, each once.

    ``kind`` is :data:`STYLESHEET`, :data:`SCRIPT` or :data:`IMAGE` (icons are images). ``body`` is the page as
    served (bytes, decoded as the parsers decode pages, or text).
    """
    root = read_document(body, url, content_type)[0].root
    base = url
    for href in _BASE_HREF(root):
        base = join_url(url, href.strip()) or url
    found: dict[str, str] = {}

    def add(href: str | None, kind: str, against: str = base) -> None:
        absolute = _absolute(against, href)
        if absolute is not None and absolute not in found:
            found[absolute] = kind

    for href in _STYLESHEET_LINKS(root):
        add(href, STYLESHEET)
    for text in _STYLE_BLOCKS(root):
        for href, kind in _css_urls(text):
            add(href, kind)
    for src in _SCRIPTS(root):
        add(src, SCRIPT)
    icons = _ICON_LINKS(root)
    for href in icons:
        add(href, IMAGE)
    for src in _IMAGE_SOURCES(root):
        add(src, IMAGE)
    for srcset in _SRCSETS(root):
        for candidate in _SRCSET_SPLIT.split(srcset.strip()):
            add(candidate.strip().split(" ")[0], IMAGE)
    for style in _STYLE_ATTRS(root):
        for href, kind in _css_urls(style):
            add(href, kind)
    if not icons:
        add("/favicon.ico", IMAGE, url)  # what a browser asks the page's own host for
    return list(found.items())


def css_requisites(url: str, text: str) -> list[tuple[str, str]]:
    """``(absolute URL, kind)`` a stylesheet at ``url`` needs: its ``@import`` s (:data:`STYLESHEET`) and ``url()``
    images and fonts (:data:`IMAGE`), resolved against the stylesheet's own URL, each once."""
    found: dict[str, str] = {}
    for href, kind in _css_urls(text):
        absolute = _absolute(url, href)
        if absolute is not None and absolute not in found:
            found[absolute] = kind
    return list(found.items())


def _css_urls(text: str) -> list[tuple[str, str]]:
    """The raw URLs a piece of CSS refers to: ``@import`` s first (stylesheets), then every other ``url()``."""
    text = _CSS_COMMENT.sub("", text)
    imports = [next(filter(None, m.groups()), "") for m in _CSS_IMPORT.finditer(text)]
    urls = [next(filter(None, m.groups()), "") for m in _CSS_URL.finditer(text)]
    return [(u, STYLESHEET) for u in imports] + [(u, IMAGE) for u in urls if u not in imports]


def _absolute(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base``, without its fragment; ``None`` for what is not an http(s) file to fetch."""
    href = (href or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(("data:", "javascript:", "about:", "blob:")):
        return None
    absolute = join_url(base, href)
    if absolute is None:
        return None
    try:
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or _ACTION_URL.search(absolute):
        return None
    return absolute.split("#", 1)[0]
