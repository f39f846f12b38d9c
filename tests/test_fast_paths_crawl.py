"""The crawl's per-page cuts outside the parser hold to what they replace (issue 22).

- scraper.metarefresh: the quick meta-refresh middleware answers exactly as Scrapy's on every page, redirect or
  not, in every encoding, with refresh tags hidden in comments, scripts, odd case, cut at 4,096 characters...
- run_crawl's logging: records a handler would write still reach it; the root level is put back afterwards.
"""
from __future__ import annotations

import logging

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from scraper import settings as project_settings
from scraper.crawl import _drop_unlogged_records
from scraper.metarefresh import QuickMetaRefreshMiddleware

REFRESH = '<meta http-equiv="refresh" content="0; url=forum.php?mod=guide">'
PAGES = [
    "<html><head><title>x</title></head><body>plain</body></html>",
    f"<html><head>{REFRESH}</head><body>x</body></html>",
    "<html><head><META HTTP-EQUIV='Refresh' CONTENT='3;URL=/a.php'></head></html>",
    f"<html><head><!-- {REFRESH} --></head></html>",
    f"<html><head><noscript>{REFRESH}</noscript></head></html>",
    f"<html><head><script>var a = '{REFRESH}';</script></head></html>",  # script is not an ignored tag by default
    "<html><body><label for=fastpostrefresh><input id=fastpostrefresh></label>"
    "<script>if(getcookie('fastpostrefresh') == 1) {}</script></body></html>",
    "<html><head><meta name=x content='refresh'></head></html>",
    "<html><head><meta http-equiv=refresh content='200; url=/slow'></head></html>",  # over the max delay
    "<html><head><meta http-equiv=refresh content='0; url=javascript:x'></head></html>",
    "<html><head><meta content='0;url=/b' http-equiv=\"refresh\"",  # unterminated
    "<p>" + "中文" * 3000 + REFRESH,  # past the first 4,096 characters: no redirect
    "<p>" + "中文" * 2040 + REFRESH,  # crossing the 4,096th character
    "<p>" + "a" * 4080 + REFRESH,
    "<p>" + "\U0001f600" * 4000 + REFRESH,  # four bytes a character (UTF-8, GB18030): bytes 16,000 on, redirects
    "<p>" + "\U0001f600" * 4060 + REFRESH,  # the tag cut at the 4,096th character
    "<p>" + "\U0001f600" * 4200 + REFRESH,  # past it
    "<p>" + "\ufffd" * 5000 + "fastpostrefresh" + REFRESH,
    "<p>fastpostrefresh<!-- x -->" + "a" * 20000 + REFRESH,  # "refresh" early, the tag past the characters read
    "<html><head><meta http-equiv=\"ref\u00adresh\" content=\"0; url=/c\"></head></html>",
]
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "big5", "utf-16", "utf-16-le", "shift_jis", "cp1252", "utf-7"]


def _pair():
    crawler = get_crawler()
    return MetaRefreshMiddleware.from_crawler(crawler), QuickMetaRefreshMiddleware.from_crawler(crawler)


def _same(a, b):
    if isinstance(a, Request):
        return isinstance(b, Request) and (a.url, a.method, a.priority, a.meta.get("redirect_times"),
                                           a.meta.get("redirect_urls")) == (
            b.url, b.method, b.priority, b.meta.get("redirect_times"), b.meta.get("redirect_urls"))
    if isinstance(a, str):
        return a == b
    return a is b


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("declared", [True, False])
def test_quick_meta_refresh_answers_as_scrapys(encoding, declared):
    scrapy_mw, quick = _pair()
    redirects = 0
    for text in PAGES:
        for bom in (b"", "\ufeff".encode(encoding) if encoding.startswith("utf-16") else b""):
            try:
                body = bom + text.encode(encoding)
            except UnicodeEncodeError:
                continue
            content_type = f"text/html; charset={encoding}" if declared else "text/html"
            request = Request("http://bbs.sample.test/forum.php")
            answers = []
            for mw in (scrapy_mw, quick):
                response = HtmlResponse(request.url, body=body, headers={"Content-Type": content_type},
                                        request=request)
                try:
                    answer = mw.process_response(request, response)
                    answers.append("unchanged" if answer is response else answer)
                except ValueError as exc:  # Scrapy's own refusal of a URL (javascript:): the same from both
                    answers.append(str(exc))
            assert _same(*answers), (encoding, text[:60])
            redirects += isinstance(answers[0], Request)
    if encoding in ("utf-8", "gbk", "gb18030", "cp1252"):
        assert redirects >= 4  # the test pages do redirect: the comparison is not of two no-ops


def test_quick_meta_refresh_keeps_scrapys_exceptions():
    scrapy_mw, quick = _pair()
    body = f"<html><head>{REFRESH}</head></html>".encode()
    for meta in ({"dont_redirect": True}, {}):
        request = Request("http://bbs.sample.test/forum.php", meta=dict(meta))
        response = HtmlResponse(request.url, body=body, headers={"Content-Type": "text/html"}, request=request)
        assert _same(scrapy_mw.process_response(request, response), quick.process_response(request, response))
    image = Response("http://bbs.sample.test/a.jpg", body=b"refresh")
    assert quick.process_response(Request(image.url), image) is image


def test_quick_meta_refresh_replaces_scrapys_at_its_place_and_follows_its_setting():
    middlewares = project_settings.DOWNLOADER_MIDDLEWARES
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["scraper.metarefresh.QuickMetaRefreshMiddleware"] == 580  # Scrapy's own place
    from scrapy.exceptions import NotConfigured
    with pytest.raises(NotConfigured):
        QuickMetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={"METAREFRESH_ENABLED": False}))


def test_root_level_follows_the_handlers_and_keeps_what_they_write():
    saved, handlers = logging.root.level, list(logging.root.handlers)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    try:
        for handler in handlers:
            logging.root.removeHandler(handler)
        logging.root.setLevel(logging.NOTSET)
        logging.root.addHandler(Keep(logging.INFO))
        _drop_unlogged_records()
        assert logging.root.level == logging.INFO
        log = logging.getLogger("scrapy.core.scraper")
        log.debug("dropped"); log.info("kept"); log.error("kept too")
        assert records == ["kept", "kept too"]
        logging.root.addHandler(Keep(logging.NOTSET))  # one handler that takes everything (pytest's, -vv)
        logging.root.setLevel(logging.NOTSET)
        _drop_unlogged_records()
        assert logging.root.level == logging.NOTSET
    finally:
        for handler in list(logging.root.handlers):
            logging.root.removeHandler(handler)
        for handler in handlers:
            logging.root.addHandler(handler)
        logging.root.setLevel(saved)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "big5", "cp1252"])
def test_quick_meta_refresh_on_undecodable_bytes_and_takes_the_quick_path(encoding):
    scrapy_mw, quick = _pair()
    tag = REFRESH.encode()
    bodies = [b"<p>" + b"\xff" * n + tag for n in (100, 4000, 4090, 5000, 17000)]
    bodies += [b"<p>" + b"\x81" * n + b"refresh" + tag for n in (3, 4000, 9000)]
    for body in bodies:
        request = Request("http://bbs.sample.test/forum.php")
        answers = []
        for mw in (scrapy_mw, quick):
            response = HtmlResponse(request.url, body=body, headers={"Content-Type": f"text/html; charset={encoding}"},
                                    request=request)
            answer = mw.process_response(request, response)
            answers.append("unchanged" if answer is response else answer)
        assert _same(*answers), (encoding, body[:20], len(body))
    plain = HtmlResponse("http://bbs.sample.test/a", body=PAGES[0].encode(encoding),
                         headers={"Content-Type": f"text/html; charset={encoding}"})
    comment = HtmlResponse("http://bbs.sample.test/a", body=PAGES[3].encode(encoding),
                           headers={"Content-Type": f"text/html; charset={encoding}"})
    assert quick._no_refresh(plain) and quick._no_refresh(comment)  # decided without Scrapy's decoding
    utf16 = HtmlResponse("http://bbs.sample.test/a", body=PAGES[0].encode("utf-16"),
                         headers={"Content-Type": "text/html; charset=utf-16"})
    assert not quick._no_refresh(utf16)  # left to Scrapy


def test_stats_collector_counts_and_warns_as_scrapys():
    import warnings

    from scrapy.statscollectors import MemoryStatsCollector

    from scraper.stats import ArchiveStatsCollector

    assert project_settings.STATS_CLASS == "scraper.stats.ArchiveStatsCollector"
    crawler = get_crawler()
    said = []
    for cls in (MemoryStatsCollector, ArchiveStatsCollector):
        stats = cls(crawler)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stats.open_spider()
            stats.inc_value("a"); stats.inc_value("a", 2); stats.inc_value("b", start=5); stats.inc_value("c", 1, 3)
            stats.max_value("m", 3); stats.max_value("m", 1); stats.min_value("n", 3); stats.min_value("n", 1)
            stats.set_value("s", {"x": 1}); stats.set_value("s2", None)
            got = (stats.get_value("a"), stats.get_value("missing"), stats.get_value("missing", 7))
            stats.inc_value("w", spider=None); stats.inc_value("w", 1, 0, None); stats.get_value("w", None, None)
            stats.max_value("m", 9, spider=None); stats.set_value("z", 1, None)
            snapshot = dict(stats.get_stats())
            stats.clear_stats()
        said.append((snapshot, got, stats.get_stats(), [(str(w.message), w.category, w.filename, w.lineno)
                                                       for w in caught]))
    assert said[0][3] and said[0][:3] != ({}, None, None)  # Scrapy's warns; the operations did something
    lines = [line for *_, line in said[0][3]]
    assert said[0][:3] == said[1][:3]
    # The same warnings, said of the same lines (of this test: each pair of runs differs by the loop's line only).
    assert [w[:3] for w in said[0][3]] == [w[:3] for w in said[1][3]] and lines == [line for *_, line in said[1][3]]


@pytest.mark.parametrize("env", [
    {"http_proxy": "http://proxy.test:3128", "no_proxy": "127.0.0.1,localhost"},
    {"http_proxy": "http://user:pw@proxy.test:3128", "https_proxy": "http://p2.test:8080", "no_proxy": ".sample.test"},
    {"http_proxy": "http://proxy.test:3128", "no_proxy": "*"},
    {"https_proxy": "http://p2.test:8080"},
    {},
])
def test_proxy_middleware_chooses_as_scrapys(monkeypatch, env):
    from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware

    from scraper.proxy import HostCachedProxyMiddleware

    for name in [name for name in __import__("os").environ if name.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert project_settings.DOWNLOADER_MIDDLEWARES["scraper.proxy.HostCachedProxyMiddleware"] == 750
    assert project_settings.DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware"] is None
    crawler = get_crawler()
    scrapy_mw, ours = HttpProxyMiddleware.from_crawler(crawler), HostCachedProxyMiddleware.from_crawler(crawler)
    urls = ["http://bbs.sample.test/forum.php", "http://bbs.sample.test/a", "https://bbs.sample.test/b",
            "http://127.0.0.1:8080/x", "http://localhost/y", "http://other.test/z", "ftp://bbs.sample.test/f",
            "http://bbs.sample.test/forum.php"]
    metas = [{}, {"proxy": "http://meta.test:1"}, {"proxy": None}, {"proxy": "http://u:p@meta.test:1"}]
    for round_ in range(2):  # the second round from the cache
        for url in urls:
            for meta in metas:
                requests = [Request(url, meta=dict(meta)) for _ in range(2)]
                for mw, request in zip((scrapy_mw, ours), requests):
                    assert mw.process_request(request) is None
                (a, b) = requests
                assert (a.meta, a.headers.to_unicode_dict()) == (b.meta, b.headers.to_unicode_dict()), (url, meta)
                # A request the middleware saw before (a redirect or retry keeps its meta) is treated alike too.
                for mw, request in zip((scrapy_mw, ours), requests):
                    mw.process_request(request)
                assert (a.meta, a.headers.to_unicode_dict()) == (b.meta, b.headers.to_unicode_dict()), (url, meta)


def test_replacements_take_scrapys_places_and_settings():
    from scrapy.exceptions import NotConfigured
    from scrapy.settings import Settings
    from scrapy.utils.conf import build_component_list

    from scraper.proxy import HostCachedProxyMiddleware

    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    ours = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    scrapys = build_component_list(Settings().getwithbase("DOWNLOADER_MIDDLEWARES"))
    names = [path.rpartition(".")[2] for path in ours]
    assert "MetaRefreshMiddleware" not in names and "HttpProxyMiddleware" not in names
    # Each in its place in Scrapy's order: the same neighbours among Scrapy's own middlewares.
    renamed = [name.replace("QuickMetaRefresh", "MetaRefresh").replace("HostCachedProxy", "HttpProxy") for name in names]
    base = [path.rpartition(".")[2] for path in scrapys]
    assert [name for name in renamed if name in base] == [name for name in base if name in renamed]
    for enabled, cls in (("METAREFRESH_ENABLED", QuickMetaRefreshMiddleware),
                         ("HTTPPROXY_ENABLED", HostCachedProxyMiddleware)):
        assert cls.from_crawler(get_crawler(settings_dict={enabled: True})) is not None
        with pytest.raises(NotConfigured):
            cls.from_crawler(get_crawler(settings_dict={enabled: False}))
