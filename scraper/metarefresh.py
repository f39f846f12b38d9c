"""Scrapy's meta-refresh middleware, without decoding the pages that hold no refresh.

Scrapy's ``MetaRefreshMiddleware`` decodes every HTML response (``response.text``: the whole body, after working out
its encoding) to scan its first 4,096 characters for a refresh (w3lib's scan: comments and the ignored tags skipped,
a ``<meta`` tag whose attributes hold ``refresh``), though a refresh is rare. Here the bytes answer first, when the
encoding is one in which every character of the text is a byte sequence of the bytes, ASCII ones their own bytes
(w3lib's ``_scannable``: UTF-8, the GB, Big5 and other multi-byte CJK encodings, single-byte ones):

- The first 4,096 characters come from at most 4 x 4,096 bytes (no character of these encodings takes more than 4;
  an undecodable byte becomes one character), plus a byte-order mark: :data:`SCAN_BYTES`.
- A refresh needs the ASCII letters ``refresh`` in those characters (w3lib lower-cases the attributes; no
  non-ASCII letter lower-cases to one of them), so in those bytes: without them, nothing to do.
- Else w3lib's own bytes scan (the pattern it scans the text with) over those bytes: the tags it finds are the
  text's tags (``<``, ``>``, quotes, ``-``, ``/`` and spaces are only ever those bytes). A text cut shorter (4,096
  characters) has no tag with ``refresh`` in its attributes that the longer one lacks: a tag crossing the cut is
  cut shorter, and what follows it inside the cut lies within the longer text's tag.

A page with no such tag is passed on untouched, as Scrapy's code passes it after decoding it. Anything else (such a
tag, another encoding, a UTF-16/32 byte-order mark, a w3lib without that scan) goes to Scrapy's code, which decides.
"""
from __future__ import annotations

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse

try:
    from w3lib.html import _build_meta_scan_bytes_pattern, _scannable
except ImportError:  # a w3lib without the bytes scan: every page goes to Scrapy's code
    _build_meta_scan_bytes_pattern = _scannable = None

SCANNED_CHARACTERS = 4096  # what Scrapy's get_meta_refresh reads: response.text[0:4096]
SCAN_BYTES = 4 * SCANNED_CHARACTERS + 3  # the bytes those characters can come from, after a UTF-8 byte-order mark
_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-16/32: the text is read in them, whatever is declared


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """``MetaRefreshMiddleware`` that passes on without decoding a page whose bytes hold no refresh tag (see the
    module docstring); enabled and configured by the same settings (``METAREFRESH_*``)."""

    def __init__(self, settings):
        super().__init__(settings)
        ignored = tuple(sorted({tag.lower() for tag in self._ignore_tags}))  # as w3lib's get_meta_refresh
        self._scan = _build_meta_scan_bytes_pattern(ignored) if _build_meta_scan_bytes_pattern else None

    def process_response(self, request, response, spider=None):
        if self._scan is not None and isinstance(response, HtmlResponse) and self._no_refresh(response):
            return response
        return super().process_response(request, response)

    def _no_refresh(self, response) -> bool:
        head = response.body[:SCAN_BYTES]
        if head.startswith(_BOMS) or not _scannable(response.encoding):
            return False
        if b"refresh" not in head.lower():
            return True
        for match in self._scan.finditer(head):
            attrs = match.group("attrs")
            if attrs and b"refresh" in attrs.lower():
                return False
        return True
