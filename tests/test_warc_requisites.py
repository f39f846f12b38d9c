"""--warc fetches what the archived pages need to be shown (page requisites), so the WARC replays like the site.

Capture G's real X3.5 pages, served by :class:`testbed.requisites_site.RequisiteSite`, which answers the
stylesheets, scripts, images and icons those pages reference with generated files (some with 404), and a CDN host
whose robots.txt disallows ``/private/``; G's own robots.txt disallows ``/uc_server/`` (``avatar.php``).
"""
from __future__ import annotations

import gzip
import json
import shutil
import struct
import subprocess
import threading
import zipfile
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from scraper.parsers.requisites import IMAGE, SCRIPT, STYLESHEET, css_requisites, page_requisites
from scraper.urls import classify
from testbed.requisites_site import BODY_COLOUR, CDN_HOST, RequisiteSite

from .conftest import FIXTURES, requires_fixtures
from .test_e2e import fast, run_cli

pytestmark = requires_fixtures
SITE_G = FIXTURES / "discuz-x35-utf8-g"
HOST = "http://bbs.zigong.test"
THREAD = HOST + "/thread-138-1-1.html"  # three lazy-loaded inline photos and one listed, avatars, smilies' theme
ROBOTS_DISALLOWED = ("/uc_server/", "http://img.cdn.test/private/")


def g_page(url: str) -> bytes:
    manifest = json.loads((SITE_G / "manifest.json").read_text(encoding="utf-8"))
    return (SITE_G / next(e["file"] for e in manifest if e["url"] == url)).read_bytes()


# -- finding them (pure) -----------------------------------------------------------------------------------------
def test_a_discuz_thread_page_needs_its_stylesheets_scripts_images_and_lazy_photos():
    found = dict(page_requisites(THREAD, g_page(THREAD)))
    # kept as the page spells them (the ?FPN version suffix), resolved against <base href="http://bbs.zigong.test/">
    assert found[HOST + "/data/cache/style_1_common.css?FPN"] == STYLESHEET
    assert found[HOST + "/data/cache/common.js?FPN"] == SCRIPT
    assert found[HOST + "/static/image/common/logo.svg"] == IMAGE
    assert found[HOST + "/uc_server/avatar.php?uid=57&size=middle"] == IMAGE
    # a lazy-loaded photo: the placeholder it shows and the picture the page's script puts in its place
    assert found[HOST + "/static/image/common/none.gif"] == IMAGE
    assert found[HOST + "/data/attachment/forum/202510/19/183000ryb6nqt9ob9zct9u.jpg"] == IMAGE
    assert found[HOST + "/favicon.ico"] == IMAGE  # the page names no icon: a browser asks for this one
    # X's footer script that runs the forum's mail queue is an action, not a file; IE-only CSS sits in a comment
    assert not any("sendmail" in url or "iefix" in url for url in found)
    assert all(url.startswith(HOST + "/") for url in found)


def test_base_href_srcset_style_attributes_and_what_is_never_a_requisite():
    page = b"""<html><head><base href="http://cdn.example.org/bbs/">
    <link rel="Shortcut Icon" href="favicon.png"><link rel="alternate" href="rss.xml">
    <style>@import "theme.css"; .x{background:url(img/x.png)}</style>
    <script src="js/a.js?v=1"></script><script>var inline = 1;</script></head>
    <body background="bg.gif"><img src="data:image/gif;base64,R0lGOD" srcset="s1.png 1x, s2.png 2x">
    <div style="background-image: url('d.png')"></div><img src="javascript:void(0)"><img src="a.gif#frag">
    <input type="IMAGE" src="go.png"><a href="not-a-requisite.html">x</a></body></html>"""
    found = page_requisites("http://bbs.example.org/t.html", page)
    base = "http://cdn.example.org/bbs/"
    assert found == [(base + "theme.css", STYLESHEET), (base + "img/x.png", IMAGE), (base + "js/a.js?v=1", SCRIPT),
                     (base + "favicon.png", IMAGE), (base + "bg.gif", IMAGE), (base + "a.gif", IMAGE),
                     (base + "go.png", IMAGE), (base + "s1.png", IMAGE), (base + "s2.png", IMAGE),
                     (base + "d.png", IMAGE)]


def test_a_stylesheet_needs_its_imports_and_url_images_relative_to_itself():
    css = """/* url(commented.png) */ @import url("extra.css?x"); @import 'print.css';
    body{background:url(../../static/image/common/bg.png)} .a{background:url( "http://cdn.test/a.png" )}
    .b{background:url(data:image/png;base64,iVBOR)} @font-face{src:url(fonts/f.woff2#iefix) format("woff2")}"""
    found = css_requisites("http://h.test/data/cache/style_1_common.css?FPN", css)
    assert found == [("http://h.test/data/cache/extra.css?x", STYLESHEET),
                     ("http://h.test/data/cache/print.css", STYLESHEET),
                     ("http://h.test/static/image/common/bg.png", IMAGE), ("http://cdn.test/a.png", IMAGE),
                     ("http://h.test/data/cache/fonts/f.woff2", IMAGE)]


# -- fetching them ------------------------------------------------------------------------------------------------
def warc_records(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "revisit", "request"):
                    continue
                out.append({"type": record.rec_type, "uri": record.rec_headers.get_header("WARC-Target-URI"),
                            "resource": record.rec_headers.get_header("WARC-Resource-Type"),
                            "status": int(record.http_headers.get_statuscode()) if record.rec_type != "request"
                            else None})
    return out


@pytest.fixture(scope="module")
def g_crawl(tmp_path_factory):
    """Thread 138 of capture G and its posters' profiles, crawled with --warc."""
    tmp = tmp_path_factory.mktemp("requisites")
    with RequisiteSite(SITE_G) as site:
        result = run_cli(*fast("crawl", THREAD, "--db", str(tmp / "g.db"), "--warc", str(tmp / "warc")),
                         proxy=site.url)
    assert result.returncode == 0, result.stderr
    return {"tmp": tmp, "db": tmp / "g.db", "warc": tmp / "warc", "site": site, "result": result}


def test_the_warc_holds_every_requisite_the_pages_reference_that_the_server_answered(g_crawl):
    site, records = g_crawl["site"], warc_records(g_crawl["warc"])
    responses = {r["uri"]: r for r in records if r["type"] in ("response", "revisit")}
    pages = [uri for uri, r in responses.items() if r["resource"] is None and r["status"] == 200
             and not uri.endswith("/robots.txt")]
    assert THREAD in pages and any("uid=" in uri or "space-" in uri for uri in pages)  # profiles too
    referenced: dict[str, str] = {}
    for uri in pages:
        body = _payload(g_crawl["warc"], uri)
        referenced.update(page_requisites(uri, body))
    assert len(referenced) > 20
    answered = {f"http://{host}{target}": status for (host, target), status in site.answered.items()}
    for url, kind in referenced.items():
        if any(part in url for part in ROBOTS_DISALLOWED):
            assert url not in answered and url not in responses, url  # robots.txt obeyed
            continue
        assert url in answered, url
        assert responses[url]["status"] == answered[url], url  # a 404 is recorded as the 404 it was
        assert responses[url]["resource"] == kind
    assert responses[HOST + "/static/image/common/online_moderator.gif"]["status"] == 404
    assert responses[HOST + "/data/cache/seditor.js?FPN"]["status"] == 404
    # what the stylesheets need: their url() images, an @import and its relative url(), the CDN's picture
    for url in (HOST + "/static/image/common/background.png", HOST + "/data/cache/style_1_extra.css?FPN",
                HOST + "/static/image/common/avatar_frame.png", f"http://{CDN_HOST}/bg/header.png"):
        assert responses[url]["status"] == 200, url
    # the lazy-loaded photos, by their zoomfile/file URLs
    photos = [u for u in responses if "/data/attachment/forum/202510/19/" in u]
    assert len(photos) == 4 and all(responses[u]["status"] == 200 for u in photos)


def _payload(folder: Path, uri: str) -> bytes:
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == uri:
                    return record.content_stream().read()
    raise KeyError(uri)


def test_each_requisite_is_fetched_once_and_robots_txt_is_obeyed(g_crawl):
    site = g_crawl["site"]
    counts = Counter(site.requests)
    assert [key for key, n in counts.items() if n > 1] == []
    assert counts[("bbs.zigong.test", "/data/cache/style_1_common.css?FPN")] == 1  # shared by every page
    assert counts[(CDN_HOST, "/robots.txt")] == 1  # the CDN's robots.txt asked before its files
    assert not [t for h, t in site.requests if t.startswith("/uc_server/")]  # G's robots.txt: Disallow: /uc_server/
    assert not [t for h, t in site.requests if h == CDN_HOST and t.startswith("/private/")]
    assert not [t for h, t in site.requests if "sendmail" in t]
    requests = [r for r in warc_records(g_crawl["warc"]) if r["type"] == "request" and r["resource"]]
    assert len(requests) == len({r["uri"] for r in requests})


def test_requisites_are_no_pages_rows_or_errors_of_the_archive(g_crawl):
    import sqlite3

    conn = sqlite3.connect(g_crawl["db"])
    assert conn.execute("SELECT count(*) FROM errors").fetchone()[0] == 0
    assert conn.execute("SELECT status, errors FROM crawls").fetchone() == ("finished", 0)
    urls = [u for (u,) in conn.execute("SELECT url FROM pages")] if _has(conn, "pages") else []
    assert not [u for u in urls if u.endswith((".css", ".js", ".gif", ".png", ".jpg", ".ico")) or "?FPN" in u]
    # reparse reads the pages of the WARC, not its stylesheets, scripts and images
    rebuilt = g_crawl["tmp"] / "rebuilt.db"
    result = run_cli("reparse", "--warc", *map(str, sorted(g_crawl["warc"].glob("*.warc.gz"))), "--db", str(rebuilt))
    assert result.returncode == 0, result.stderr
    page_records = [r for r in warc_records(g_crawl["warc"]) if r["type"] == "response" and r["resource"] is None
                    and not r["uri"].endswith("/robots.txt") and r["status"] in (200, 403, 404, 410)]
    assert f"read {len(page_records)} page(s)" in result.stdout
    assert sqlite3.connect(rebuilt).execute("SELECT count(*) FROM errors").fetchone()[0] == 0
    # The crawl fetched those pages, and says so: robots.txt and the requisites are no pages.
    assert conn.execute("SELECT pages FROM crawls").fetchone()[0] == len(page_records)
    assert f"fetched {len(page_records)} pages," in g_crawl["result"].stdout


def _has(conn, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [table]).fetchone() is not None


def test_without_warc_nothing_but_pages_and_media_is_fetched(tmp_path):
    with RequisiteSite(SITE_G) as site:
        result = run_cli(*fast("crawl", THREAD, "--db", str(tmp_path / "g.db"), "--no-profiles", "--media"),
                         proxy=site.url)
    assert result.returncode == 0, result.stderr
    targets = [t for _, t in site.requests]
    assert not [t for t in targets if "/data/cache/" in t or "/static/" in t or t == "/favicon.ico"]
    assert not [h for h, _ in site.requests if h == CDN_HOST]
    assert sum("/data/attachment/forum/" in t for t in targets) == 4  # --media: the photos only


def test_wacz_includes_the_requisites_and_lists_only_the_thread_pages(g_crawl):
    wacz = g_crawl["tmp"] / "g.wacz"
    result = run_cli("wacz", str(g_crawl["db"]), "-o", str(wacz))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(wacz) as z:
        index = b"".join(gzip.decompress(z.read(n)) if n.endswith(".gz") else z.read(n)
                         for n in z.namelist() if n.startswith("indexes/")).decode("utf-8", "replace")
        packed = set()
        for name in (n for n in z.namelist() if n.startswith("archive/")):
            with z.open(name) as stream:
                packed.update(r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream)
                              if r.rec_type in ("response", "revisit"))
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()[1:]]
    requisites = {r["uri"] for r in warc_records(g_crawl["warc"]) if r["resource"]}
    assert len(requisites) > 20 and requisites <= packed
    # the index that ReplayWeb.page looks URLs up in (SURT form: host reversed, lower case)
    assert "data/cache/style_1_common.css?fpn" in index.lower() and "bg/header.png" in index
    assert [classify(p["url"]).kind for p in pages] == ["viewthread"] and pages[0]["url"] == THREAD


# -- replaying a thread page from the WARC in a browser ------------------------------------------------------------
class WarcReplayProxy:
    """An HTTP proxy on loopback that answers each request with the WARC's response for that URL (as recorded:
    status line, headers, still-encoded body), else 404; ``asked`` lists ``(url, answered)`` in order."""

    def __init__(self, folder: Path):
        self.records: dict[str, tuple[bytes, bytes]] = {}
        payloads: dict[str, tuple[bytes, bytes]] = {}
        for path in sorted(folder.glob("*.warc.gz")):
            with open(path, "rb") as stream:
                for record in ArchiveIterator(stream):
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "response":
                        head = record.http_headers.to_bytes() if hasattr(record.http_headers, "to_bytes") else \
                            record.http_headers.to_str().encode("latin-1")
                        body = record.raw_stream.read()
                        payloads[record.rec_headers.get_header("WARC-Record-ID")] = (head, body)
                        self.records.setdefault(uri, (head, body))
                    elif record.rec_type == "revisit":
                        original = payloads[record.rec_headers.get_header("WARC-Refers-To")]
                        self.records.setdefault(uri, original)
        self.asked: list[tuple[str, bool]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                found = proxy.records.get(self.path)
                proxy.asked.append((self.path, found is not None))
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                head, body = found
                lines = [line for line in head.split(b"\r\n")[1:] if line and not line.lower().startswith(
                    (b"content-length:", b"transfer-encoding:", b"connection:", b"set-cookie:"))]
                status_line = head.split(b"\r\n", 1)[0]
                self.wfile.write(status_line + b"\r\n" + b"".join(line + b"\r\n" for line in lines)
                                 + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

            do_CONNECT = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _browse(tmp: Path, port: int, url: str, *output: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-features=Translate,OptimizationHints,MediaRouter", f"--user-data-dir={tmp / 'profile'}",
         f"--proxy-server=127.0.0.1:{port}", "--virtual-time-budget=5000", "--window-size=1000,800", *output, url],
        capture_output=True, text=True, timeout=120)


def png_pixels(data: bytes) -> set[tuple[int, int, int]]:
    """The RGB colours in an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium's screenshots are)."""
    chunks, pos = {}, 8
    idat = b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        chunks.setdefault(kind, chunk)
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and colour_type in (2, 6)
    bpp = 4 if colour_type == 6 else 3
    raw, stride, previous, colours = zlib.decompress(idat), width * bpp, bytearray(width * bpp), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        colours.update(tuple(line[i:i + 3]) for i in range(0, stride, bpp * 7))  # every 7th pixel is enough
        previous = line
    return colours


@pytest.mark.skipif(_chromium() is None, reason="no chromium (apt-get install chromium)")
def test_a_thread_page_replays_from_the_warc_in_a_browser(g_crawl, tmp_path):
    proxy = WarcReplayProxy(g_crawl["warc"])
    try:
        dom = _browse(tmp_path, proxy.port, THREAD, "--dump-dom")
        shot = _browse(tmp_path, proxy.port, THREAD, f"--screenshot={tmp_path / 'thread.png'}")
    finally:
        proxy.close()
    assert dom.returncode == 0 and "盐" in dom.stdout, dom.stderr[-2000:]
    asked = [(url, ok) for url, ok in proxy.asked if url.startswith((HOST, f"http://{CDN_HOST}"))]
    misses = {url for url, ok in asked if not ok}
    # every request the browser made was answered from the WARC, except what robots.txt kept the crawl from (the
    # avatars, the CDN's /private/) and the mail-queue script (an action, which robots.txt disallows as well)
    assert misses and all(any(part in url for part in ROBOTS_DISALLOWED + ("ac=sendmail",)) for url in misses), misses
    answered = {url for url, ok in asked if ok}
    # the stylesheets applied: the browser asked for the images only their rules name (and the @import)
    assert {HOST + "/data/cache/style_1_common.css?FPN", HOST + "/data/cache/style_1_extra.css?FPN",
            HOST + "/static/image/common/background.png", f"http://{CDN_HOST}/bg/header.png"} <= answered
    # the scripts ran (they mark the page) and put the lazy-loaded photos' real files in place
    assert 'data-dz-scripts="' in dom.stdout
    assert 'src="data/attachment/forum/202510/19/183000ryb6nqt9ob9zct9u.jpg"' in dom.stdout
    assert HOST + "/data/attachment/forum/202510/19/183000ryb6nqt9ob9zct9u.jpg" in answered
    assert shot.returncode == 0, shot.stderr[-2000:]
    colours = png_pixels((tmp_path / "thread.png").read_bytes())
    assert BODY_COLOUR in colours and len(colours) > 20  # the stylesheet's body colour, and a page drawn on it

