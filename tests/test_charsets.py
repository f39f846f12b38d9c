"""A page's charset, read as a browser reads it (issue 20): a declaration that is no text encoding
(``charset=hex``, ``base64``, ``foo``, an empty ``<meta charset="">``) counts as none; then the page's first
meta declaration that is a text encoding, what the site's other pages were written in, UTF-8 when the bytes
are UTF-8, else GB18030 or Big5 as the bytes say. Whatever the declaration, the page is read and its bytes kept.
"""
from __future__ import annotations

import random
import sqlite3
from dataclasses import replace

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings import default_settings
from scrapy.utils.test import get_crawler

from scraper import settings as project_settings
from scraper.charset import ReadableCharsetMiddleware
from scraper.metarefresh import QuickMetaRefreshMiddleware
from scraper.parsers import parse_page
from scraper.parsers.common import decode_body, usable_charset
from scraper.spiders.site import SiteSpider
from testbed.cc_defence import CC_TEXTS, security_page
from testbed.replay import Capture, Entry, ReplayServer

from .conftest import FIXTURES, captured_pages, requires_fixtures
from .test_e2e import assert_archive_is_the_site, fast, run_cli

SITE_F = FIXTURES / "discuz-x35-utf8-f"
SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
DATE = "Wed, 25 Nov 2026 03:55:10 GMT"
NOT_TEXT_ENCODINGS = ("hex", "base64", "rot13", "zlib", "bz2", "uu", "quopri", "undefined", "foo", "",
                      "x-user-defined", "utf-7", "idna", "punycode", "unicode_escape", "raw_unicode_escape")
GBK_TEXT = ("<html><head>{meta}<title>川北生活网</title></head>"
            "<body><p>发表于 2025-4-5 18:30 回复 论坛的帖子</p></body></html>")
BIG5_TEXT = ("<html><head>{meta}<title>舊版論壇</title></head>"
             "<body><p>發表於 2025-4-5 18:30 回覆 論壇的帖子</p></body></html>")


def _page(template: str, meta: str, encoding: str) -> bytes:
    return template.format(meta=meta).encode(encoding)


def _undeclared(body: bytes) -> str:
    """A UTF-8 capture page with its charset declaration (``<meta charset="utf-8" />``) emptied."""
    return body.decode("utf-8").replace('charset="utf-8"', 'charset=""').replace("charset=utf-8", "charset=")


# --- the order: BOM, header, meta, the site's other pages, UTF-8, GB18030/Big5 ----------------------------------

def test_a_byte_order_mark_outranks_every_declaration():
    body = "\ufeff".encode("utf-8") + _page(GBK_TEXT, '<meta charset="gbk">', "utf-8")
    text, encoding = decode_body(body, "text/html; charset=big5", "big5")
    assert encoding == "utf-8" and text.startswith("<html>") and "川北生活网" in text
    text, encoding = decode_body(b"\xff\xfe" + _page(GBK_TEXT, "", "utf-16-le"), "text/html; charset=gbk")
    assert encoding == "utf-16-le" and "川北生活网" in text


def test_the_header_charset_comes_before_the_meta_and_the_meta_before_the_sites_charset():
    body = _page(GBK_TEXT, '<meta charset="utf-8">', "gbk")
    assert decode_body(body, "text/html; charset=gbk")[1] == "gb18030"
    body = _page(BIG5_TEXT, '<meta charset="big5">', "big5")
    # Big5 bytes also read as GB18030 (mojibake): the page's own declaration wins over the site's charset.
    text, encoding = decode_body(body, "text/html", "gbk")
    assert encoding == "big5hkscs" and "舊版論壇" in text


@pytest.mark.parametrize("charset", NOT_TEXT_ENCODINGS)
def test_a_declaration_that_is_no_text_encoding_counts_as_none(charset):
    assert not usable_charset(charset)
    body = _page(GBK_TEXT, '<meta http-equiv="Content-Type" content="text/html; charset=gbk" />', "gbk")
    text, encoding = decode_body(body, f"text/html; charset={charset}")
    assert encoding == "gb18030" and "川北生活网" in text
    # ... in the page's meta too: the next declaration, the site's charset or the bytes decide.
    for meta in (f'<meta charset="{charset}">',
                 f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'):
        text, encoding = decode_body(_page(GBK_TEXT, meta, "gbk"), f"text/html; charset={charset}", "gbk")
        assert encoding == "gb18030" and "川北生活网" in text, meta


def test_usable_charsets_are_the_web_ones_under_any_alias():
    for name in ("utf-8", "UTF8", "gbk", "GB2312", "x-gbk", "gb18030", "big5", "cp950", "latin1", "shift_jis"):
        assert usable_charset(name), name


def test_the_first_meta_that_names_a_text_encoding_is_the_one():
    meta = ('<!-- <meta charset="big5"> --><meta charset="" /><meta charset="hex">'
            '<meta http-equiv="Content-Type" content="text/html; charset=gbk" /><meta charset="big5">')
    text, encoding = decode_body(_page(GBK_TEXT, meta, "gbk"))
    assert encoding == "gb18030" and "发表于" in text
    # inajax answers declare it in their XML declaration.
    xml = '<?xml version="1.0" encoding="gbk"?>\n<root><![CDATA[发表于 回复]]></root>'.encode("gbk")
    assert decode_body(xml, "text/xml; charset=hex") == (xml.decode("gbk"), "gb18030")


def test_the_sites_charset_reads_a_page_that_declares_none():
    big5 = _page(BIG5_TEXT, '<meta charset="">', "big5")
    big5.decode("gb18030")  # every Big5 byte pair is a GB18030 one too: only the hint can tell them apart here
    assert decode_body(big5, "text/html; charset=hex", "big5") == (big5.decode("big5hkscs"), "big5hkscs")
    assert decode_body(big5, "text/html; charset=hex", "gbk")[1] == "gb18030"
    # A hint the bytes refute is passed over: GBK bytes are no UTF-8.
    gbk = _page(GBK_TEXT, '<meta charset="">', "gbk")
    assert decode_body(gbk, "text/html; charset=hex", "utf-8") == (gbk.decode("gb18030"), "gb18030")


@requires_fixtures
def test_an_undeclared_page_is_utf8_when_its_bytes_are_else_gb18030_or_big5():
    simplified = next(p.body for p in captured_pages(SITE_G) if "thread-" in p.url)
    traditional = next(p.body for p in captured_pages(SITE_G_TC) if "thread-" in p.url)
    for body, encoding, want in ((simplified, "utf-8", "utf-8"), (simplified, "gbk", "gb18030"),
                                 (traditional, "big5hkscs", "big5hkscs"), (traditional, "gb18030", "gb18030")):
        raw = _undeclared(body).encode(encoding, "xmlcharrefreplace")
        assert decode_body(raw, "text/html; charset=hex") == (raw.decode(want), want), encoding


@requires_fixtures
def test_a_damaged_page_is_read_in_its_own_encoding():
    rng = random.Random(20)
    text = _undeclared(next(p.body for p in captured_pages(SITE_G) if "thread-" in p.url))
    utf8 = text.encode("utf-8")
    for _ in range(20):
        at = rng.randrange(len(utf8))
        spliced = utf8[:at] + rng.randbytes(300) + utf8[at:]
        assert decode_body(spliced, "text/html; charset=utf-8")[1] == "utf-8"
        assert decode_body(spliced, "text/html; charset=hex")[1] == "utf-8"
        cut = text[:rng.randrange(len(text) // 2, len(text))]
        decoded, encoding = decode_body(cut.encode("gbk") + b"\xb7", "text/html; charset=hex")  # cut in a character
        assert encoding == "gb18030" and decoded.startswith(cut)


def test_utf16_is_believed_only_where_the_bytes_are_utf16():
    body = _page(GBK_TEXT, '<meta charset="utf-8">', "utf-8")
    assert decode_body(body, "text/html; charset=utf-16") == (body.decode("utf-8"), "utf-8")
    wide = _page(GBK_TEXT, "", "utf-16-le")
    assert decode_body(wide, "text/html; charset=utf-16le") == (wide.decode("utf-16-le"), "utf-16-le")


@pytest.mark.parametrize("version", ["X3.5", "7"])
@pytest.mark.parametrize("site_charset", ["gbk", "big5"])
def test_a_cc_defence_page_with_its_empty_meta_charset_is_read_in_the_sites_charset(site_charset, version):
    subject, message = CC_TEXTS[4]
    # Printed before Discuz knows the charset: <meta charset=""> (X3.5) or none (7.x: entities), under PHP's
    # default header or none.
    page = security_page(subject, message, version=version).decode("utf-8")
    body = page.encode(site_charset, "xmlcharrefreplace")
    for content_type in ("text/html; charset=UTF-8", "text/html", None):
        text, _ = decode_body(body, content_type, site_charset)
        assert text == body.decode(site_charset), content_type


@requires_fixtures
def test_parse_page_reads_a_hex_page_of_a_gbk_site_whole():
    page = next(p for p in captured_pages(SITE_F) if p.url.endswith("thread-8-1-1.html"))
    clean = parse_page(page.url, page.body, content_type=page.content_type, date_header=DATE)
    gbk = _undeclared(page.body).encode("gbk")
    for hint in ("gbk", None):
        read = parse_page(page.url, gbk, content_type="text/html; charset=hex", date_header=DATE, charset_hint=hint)
        assert read.kind == "viewthread" and read.charset == "gb18030"
        assert [(p.pid, p.author, p.content_text) for p in read.posts] == [
            (p.pid, p.author, p.content_text) for p in clean.posts]


# --- the crawler: Scrapy's response, the spider's hint ----------------------------------------------------------

def _response(body: bytes, content_type: str, url: str = "http://bbs.sample.test/forum.php") -> HtmlResponse:
    return HtmlResponse(url, body=body, headers={"Content-Type": content_type, "Date": DATE}, request=Request(url))


@pytest.mark.parametrize("charset", ["hex", "base64", "undefined", "rot13"])
def test_a_response_declaring_no_text_encoding_gets_one_its_bytes_read_in(charset):
    body = _page(GBK_TEXT, '<meta charset="gbk">', "gbk")
    response = _response(body, f"text/html; charset={charset}")
    with pytest.raises((LookupError, UnicodeError)):
        response.text  # what Scrapy does by itself: the fetch failed and the page was lost
    fixed = ReadableCharsetMiddleware().process_response(response.request, response)
    assert isinstance(fixed, HtmlResponse) and fixed.body == body and fixed.url == response.url
    assert fixed.encoding == "gb18030" and "川北生活网" in fixed.text
    meta_only = _response(_page(GBK_TEXT, f'<meta charset="{charset}">', "gbk"), "text/html")
    assert "川北生活网" in ReadableCharsetMiddleware().process_response(meta_only.request, meta_only).text


def test_a_response_with_a_usable_charset_passes_untouched():
    middleware = ReadableCharsetMiddleware()
    response = _response(_page(GBK_TEXT, "", "utf-8"), "text/html; charset=utf-8")
    assert middleware.process_response(response.request, response) is response
    image = Response("http://bbs.sample.test/a.jpg", body=b"\xff\xd8\xff", headers={"Content-Type": "image/jpeg"})
    assert middleware.process_response(Request(image.url), image) is image


def test_the_middleware_reads_before_meta_refresh_and_after_decompression():
    crawler = get_crawler(SiteSpider)
    middlewares = {**default_settings.DOWNLOADER_MIDDLEWARES_BASE, **project_settings.DOWNLOADER_MIDDLEWARES}
    ours = middlewares["scraper.charset.ReadableCharsetMiddleware"]
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None  # ours in its place
    assert middlewares["scraper.metarefresh.QuickMetaRefreshMiddleware"] < ours < \
        middlewares["scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"]
    # Meta-refresh reads response.text: on the page as our middleware hands it on, it works.
    body = _page(GBK_TEXT, '<meta http-equiv="refresh" content="0; url=forum.php?mod=guide">', "gbk")
    response = ReadableCharsetMiddleware().process_response(None, _response(body, "text/html; charset=hex"))
    for refresh in (MetaRefreshMiddleware.from_crawler(crawler), QuickMetaRefreshMiddleware.from_crawler(crawler)):
        redirected = refresh.process_response(response.request, response)
        assert isinstance(redirected, Request) and redirected.url.endswith("forum.php?mod=guide")


@requires_fixtures
def test_the_spider_reads_a_page_in_the_charset_of_the_sites_pages(tmp_path, monkeypatch):
    import scraper.spiders.site as site

    crawler = get_crawler(SiteSpider, {"DZ_DB": str(tmp_path / "none.db")})
    spider = SiteSpider.from_crawler(crawler, start_url="http://bbs.sample.test/forum.php")
    index = next(p for p in captured_pages(SITE_F) if p.url.endswith("/forum.php"))
    big5 = index.body.decode("utf-8").replace('charset="utf-8"', 'charset="big5"').encode("big5hkscs",
                                                                                        "xmlcharrefreplace")
    list(spider.parse(_response(big5, "text/html")))
    assert spider.site_charset == "big5hkscs"
    hints = []
    real = site.parse_page
    monkeypatch.setattr(site, "parse_page", lambda *a, **kw: hints.append(kw.get("charset_hint")) or real(*a, **kw))
    list(spider.parse(_response(b"<html><body>not found</body></html>", "text/html; charset=hex",
                                "http://bbs.sample.test/thread-9-1-1.html")))
    assert hints == ["big5hkscs"]
    assert spider.site_charset == "big5hkscs"  # an unreadable page teaches nothing


# --- end to end: a replay serving hex pages ------------------------------------------------------------------------

def _gbk_site(folder, tmp_path, hex_pages: dict[str, str]) -> Capture:
    """Capture ``folder`` re-served as a GBK site (``charset=gbk`` in header and meta), except the pages
    ``hex_pages`` names (URL suffix -> the meta charset they declare), served with ``charset=hex``."""
    capture = Capture.load(folder)
    entries = []
    for i, entry in enumerate(capture):
        body = entry.body()
        if entry.content_type.startswith("text/html"):
            meta = next((m for suffix, m in hex_pages.items() if entry.url.endswith(suffix)), None)
            text = body.decode("utf-8")
            if meta is None:
                body = text.replace('charset="utf-8"', 'charset="gbk"').encode("gb18030")
                content_type = "text/html; charset=gbk"
            else:
                body = text.replace('charset="utf-8"', f'charset="{meta}"').encode("gb18030")
                content_type = "text/html; charset=hex"
            path = tmp_path / f"{i:04d}.html"
            path.write_bytes(body)
            entry = replace(entry, path=path, content_type=content_type)
        entries.append(entry)
    return Capture(tmp_path, entries)


@requires_fixtures
def test_hex_pages_of_a_gbk_site_are_crawled_read_and_kept(tmp_path):
    hex_pages = {"thread-8-1-1.html": "hex", "thread-16-1-1.html": "", "forum-37-1.html": "",
                 "home.php?mod=space&uid=2&do=profile": "base64"}
    (tmp_path / "site").mkdir()
    capture = _gbk_site(SITE_F, tmp_path / "site", hex_pages)
    db = tmp_path / "a.db"
    with ReplayServer(capture) as server:
        result = run_cli(*fast("crawl", "http://bbs.sample.test/forum.php", "--db", str(db), "--keep-pages", "all"),
                         proxy=server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_archive_is_the_site(db, SITE_F)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM errors").fetchone()[0] == 0
    kept = {url: (status, content_type, body) for url, status, content_type, body
            in conn.execute("SELECT url, status, content_type, body FROM pages")}
    served = {entry.url: entry for entry in capture}
    for suffix in hex_pages:
        url = next(u for u in kept if u.endswith(suffix))
        status, content_type, body = kept[url]
        assert (status, content_type, body) == ("ok", "text/html; charset=hex", served[url].body()), suffix


@requires_fixtures
def test_an_unreadable_hex_page_is_kept_byte_for_byte(tmp_path):
    url = "http://bbs.sample.test/thread-8-1-1.html"
    junk = random.Random(3).randbytes(5000)
    (tmp_path / "junk.html").write_bytes(junk)
    capture = Capture(tmp_path, [Entry(url, "junk.html", tmp_path / "junk.html", 200, "text/html; charset=hex",
                                       {"Date": DATE})])
    db = tmp_path / "a.db"
    with ReplayServer(capture) as server:
        result = run_cli(*fast("crawl", url, "--db", str(db)), proxy=server.url)
    assert "Traceback" not in result.stderr and "LookupError" not in result.stderr
    conn = sqlite3.connect(db)
    # Fetched and read as far as it goes (nothing), recorded as unreadable, its bytes kept for a later reparse.
    assert conn.execute("SELECT status, body FROM pages WHERE url = ?", [url]).fetchone() == ("unknown", junk)
    assert conn.execute("SELECT kind FROM errors WHERE url = ?", [url]).fetchall() == [("unparsed",)]
