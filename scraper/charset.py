"""A response whose declared charset is no text encoding gets one its bytes can be read in.

Scrapy's ``TextResponse`` decodes with the charset the page declares (the ``Content-Type`` header, else the
page's ``<meta>``) as soon as anything reads ``response.text``, and Scrapy's own meta-refresh middleware does
for every page. A declaration that names a codec but no text encoding (``charset=hex``, ``base64``, ``rot13``,
``undefined``) makes that raise ``LookupError``: the fetch fails and the page's bytes never reach the spider.
This middleware gives such a response the encoding :func:`scraper.parsers.common.decode_body` reads its
bytes in (as a browser would: BOM, a meta declaration that is a text encoding, UTF-8, GB18030/Big5), so that
the page is parsed, archived, and its bytes kept like any other. The body is not changed.

It sits after the decompression middleware (590: the body it reads is the page) and before meta-refresh
(580: the first reader of ``response.text``); a response whose charset is usable passes untouched.
"""
from __future__ import annotations

from scrapy.http import TextResponse

from .parsers.common import decode_body, usable_charset


class ReadableCharsetMiddleware:
    """Downloader middleware: replace a ``TextResponse``'s unusable declared encoding (see the module docstring)."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_response(self, request, response, spider=None):
        if not isinstance(response, TextResponse) or usable_charset(response.encoding):
            return response
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        return response.replace(encoding=decode_body(response.body, content_type)[1])
