"""Reading an archive in Datasette (issue 21): ``dzarchive serve`` serves an archive of capture G read-only with
the generated metadata; "A thread" shows a thread's posts in floor order with linked authors, "A user's posts"
a poster's posts newest first with linked titles, thread_summary titles open their posts, and a one- or
two-character search says beside its "0 records" where to find the word. The pages are checked as HTML over
HTTP and, where Chromium is installed (CI installs it), as a headless browser renders them: the DOM after
scripts ran, the width the post text gets and a screenshot that is not blank. The plain
``datasette archive.db -m metadata.json`` way the README documents is run too.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import quote, unquote, urlencode
from urllib.request import ProxyHandler, build_opener

import pytest
from parsel import Selector

import research

from .conftest import FIXTURES, requires_fixtures
from .test_e2e import fast, run_cli

pytest.importorskip("datasette", reason="Datasette is not installed: pip install -e '.[datasette]'")
pytestmark = requires_fixtures

SITE_G = FIXTURES / "discuz-x35-utf8-g"
START_G = "http://bbs.zigong.test/forum.php"
TID = 129  # 【盐都记忆】自贡老地名接龙: 129 floors, longer than a screen
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_PROXY = build_opener(ProxyHandler({}))
SERVING = re.compile(r"^serving .* read-only at (http://\S+) \(Ctrl-C stops\)$")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """An archive crawled from capture G through the replay server."""
    from testbed.replay import ReplayServer

    db = tmp_path_factory.mktemp("g") / "archive.db"
    with ReplayServer(SITE_G) as server:
        result = run_cli(*fast("crawl", START_G, "--db", str(db)), proxy=server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SITE_G / "expected.json").read_text(encoding="utf-8"))


def thread_posts(truth: dict, tid: int) -> list[dict]:
    """The posts of ``tid`` a guest sees, in floor order, as the capture's database truth has them."""
    return sorted((p for p in truth["posts"] if p["tid"] == tid and p["visible_to_guest"]), key=lambda p: p["position"])


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}


@contextlib.contextmanager
def serving(*args: str):
    """``dzarchive serve ARGS --port 0`` running: yields (process, base URL); stopped by SIGTERM afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "dzarchive", "serve", *args, "--port", "0"], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline().strip() if ready else ""
        match = SERVING.match(line)
        assert match, f"{line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise


def get(url: str) -> Selector:
    with NO_PROXY.open(url, timeout=30) as response:
        assert response.status == 200
        return Selector(text=response.read().decode("utf-8"))


def cells(page: Selector, column: str) -> list[str]:
    """The text of each cell of ``column`` in the rows table, in order."""
    return [" ".join(td.xpath("string()").get().split()) for td in page.css(f"table.rows-and-columns td.col-{column}")]


def squeeze(text: str) -> str:
    return " ".join(text.split())


def plain_posts(posts: list[dict]) -> list[dict]:
    """The posts whose text is plain (no BBCode), so the truth's text is what the page shows."""
    return [p for p in posts if "[" not in p["message_bbcode"]]


def assert_thread_page(page: Selector, posts: list[dict], base: str) -> None:
    """"A thread" shows ``posts`` in floor order, each author linked to their posts, plain texts whole."""
    assert [int(f) for f in cells(page, "floor")] == [p["position"] for p in posts]
    assert cells(page, "author") == [p["author"] for p in posts]
    links = [td.css("a::attr(href)").get() for td in page.css("td.col-author")]
    assert links == [f"{base}/a_users_posts?uid={p['authorid']}" for p in posts]
    texts = dict(zip(cells(page, "floor"), cells(page, "content_text")))
    plain = plain_posts(posts)
    assert len(plain) > 100
    assert [texts[str(p["position"])] for p in plain] == [squeeze(p["message_bbcode"]) for p in plain]


# -- the metadata ----------------------------------------------------------------------------------------
def test_metadata_has_the_reading_queries_and_puts_column_notes_below_the_rows(archive, truth):
    metadata = research.datasette_metadata("archive")
    database = metadata["databases"]["archive"]
    queries = database["queries"]
    assert queries["a_thread"]["title"] == "A thread" and queries["a_users_posts"]["title"] == "A user's posts"
    conn = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    rows = conn.execute(queries["a_thread"]["sql"], {"tid": str(TID)}).fetchall()
    posts = thread_posts(truth, TID)
    assert [(r[0], r[1], r[2]) for r in rows] == [(p["position"], p["author"], p["authorid"]) for p in posts]
    by_uid = conn.execute(queries["a_users_posts"]["sql"], {"uid": "68", "author": ""}).fetchall()
    by_name = conn.execute(queries["a_users_posts"]["sql"], {"uid": "", "author": "仙市古镇客栈"}).fetchall()
    assert by_uid == by_name and len(by_uid) == sum(p["authorid"] == 68 and p["visible_to_guest"]
                                                    for p in truth["posts"])
    assert [r[0] for r in by_uid] == sorted((r[0] for r in by_uid), reverse=True)
    assert conn.execute(queries["a_users_posts"]["sql"], {"uid": "", "author": ""}).fetchall() == []
    # The stylesheet (a data: URL, no file to serve) moves the column notes below the rows.
    (css_url,) = metadata["extra_css_urls"]
    css = unquote(css_url.removeprefix("data:text/css,"))
    assert re.search(r"dl\.column-descriptions\{order:1", css) and "#export" in css
    plugin = database["plugins"]["dzarchive"]
    assert plugin["links"]["title"] == "a_thread?tid={tid}" and plugin["short_search"]["posts"] == "posts_containing"
    # Column notes stay in the metadata (Datasette also shows them in each column's menu).
    assert database["tables"]["posts"]["columns"]["content_text"]


def test_several_archives_get_names_and_metadata_of_their_own(archive, tmp_path):
    other = tmp_path / "other" / "archive.db"
    other.parent.mkdir()
    shutil.copy(archive, other)
    assert research.datasette_database_names([archive, other]) == ["archive", "archive_2"]
    metadata = research.datasette_metadata("archive", "archive_2", sites={"archive_2": "bbs.zigong.test"})
    assert "/archive_2/posts_containing" in metadata["databases"]["archive_2"]["tables"]["posts"]["description_html"]
    assert metadata["databases"]["archive_2"]["description"] == "The archive of bbs.zigong.test"


def test_an_archive_a_crawl_is_writing_is_served_with_what_its_log_holds(archive, tmp_path):
    from research import datasette_ui

    copy = tmp_path / "archive.db"
    shutil.copy(archive, copy)
    assert not datasette_ui.is_being_written(copy)
    writer = sqlite3.connect(copy)  # a crawl's connection, its writes still in the -wal file
    try:
        writer.execute("PRAGMA journal_mode = wal")
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE forums SET name = '盐都杂谈 (renamed)' WHERE fid = (SELECT fid FROM threads WHERE tid = ?)",
                       (TID,))
        writer.commit()
        assert datasette_ui.is_being_written(copy)
        ds = datasette_ui.make_datasette([copy], research.datasette_metadata("archive"), ["archive"])
        assert ds.databases["archive"].is_mutable  # mode=ro, not immutable (which would not read the log)
        page = Selector(text=asyncio.run(ds.client.get(f"/archive/a_thread?tid={TID}")).text)
        assert " · 盐都杂谈 (renamed) · " in page.css("p.dzarchive-heading").xpath("string()").get()
    finally:
        writer.close()
    ds = datasette_ui.make_datasette([archive], research.datasette_metadata("archive"), ["archive"])
    assert not ds.databases["archive"].is_mutable


# -- dzarchive serve over HTTP -------------------------------------------------------------------------------
def test_serve_shows_threads_posters_summary_and_the_short_search_hint(archive, truth):
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    files_before = sorted(p.name for p in archive.parent.iterdir())
    with serving("--db", str(archive)) as (proc, base):
        assert base.endswith("/archive")
        posts = thread_posts(truth, TID)
        page = get(f"{base}/a_thread?tid={TID}")
        assert_thread_page(page, posts, "/archive")
        # Above the posts: the thread's title and forum, linked to its page on the site.
        (thread,) = [t for t in truth["threads"] if t["tid"] == TID]
        forum = {f["fid"]: f["name"] for f in truth["forums"]}[thread["fid"]]
        heading = page.css("p.dzarchive-heading")
        assert squeeze(heading.xpath("string()").get()) == f"{thread['title']} · {forum} · on the site"
        with contextlib.closing(sqlite3.connect(f"file:{archive}?mode=ro", uri=True)) as conn:
            (url,), = conn.execute("SELECT url FROM threads WHERE tid = ?", (TID,))
        assert heading.css("a::attr(href)").get() == url and url.startswith(truth["site"])

        uid = posts[1]["authorid"]
        mine = sorted((p for p in truth["posts"] if p["authorid"] == uid and p["visible_to_guest"]),
                      key=lambda p: p["dateline"], reverse=True)
        page = get(f"{base}/a_users_posts?uid={uid}&author=")
        assert page.css("p.dzarchive-heading strong::text").get() == posts[1]["author"]
        assert [int(t) for t in cells(page, "tid")] == [p["tid"] for p in mine]
        titles = {t["tid"]: t["title"] for t in truth["threads"]}
        title_links = [(td.css("a::attr(href)").get(), squeeze(td.xpath("string()").get()))
                       for td in page.css("td.col-title")]
        assert title_links == [(f"/archive/a_thread?tid={p['tid']}", titles[p["tid"]]) for p in mine]

        summary = get(f"{base}/thread_summary?_size=max")
        links = {squeeze(a.xpath("string()").get()): a.attrib["href"] for a in summary.css("td.col-title a")}
        guest_threads = {t["tid"]: t["title"] for t in truth["threads"] if t["guest_visible"]}
        assert links == {title: f"/archive/a_thread?tid={tid}" for tid, title in guest_threads.items()}

        # A two-character word: the trigram search finds nothing and says why right below "0 records", with a
        # link to the substring query, which finds it.
        word = posts[0]["message_bbcode"].split("]")[-1].strip()[:2]
        page = get(f"{base}/posts?{urlencode({'_search': word})}")
        hint = page.xpath('//p[@class="zero-results"]/following-sibling::p[1][@class="dzarchive-short-search"]')
        assert hint and word in hint.xpath("string()").get()
        href = hint.css("a::attr(href)").get()
        assert href == f"/archive/posts_containing?{urlencode({'word': word})}"
        found = cells(get(f"{base.removesuffix('/archive')}{href}"), "content_text")
        assert found and all(word in text for text in found)
        # A three-character word is looked up by the index: rows, and no hint.
        longer = get(f"{base}/posts?{urlencode({'_search': posts[1]['message_bbcode'][:3]})}")
        assert cells(longer, "pid") and not longer.css(".dzarchive-short-search")
        # The column notes are there, after the rows.
        table = get(f"{base}/posts")
        assert table.css("dl.column-descriptions dt::text").getall()[:3] == ["pid", "tid", "floor"]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and out.strip() == "stopped (SIGTERM)" and err == ""
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before  # read-only: nothing written
    assert sorted(p.name for p in archive.parent.iterdir()) == files_before


def test_ctrl_c_stops_serve_with_one_line_and_exit_0(archive):
    with serving("--db", str(archive)) as (proc, _base):
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert (proc.returncode, out.strip(), err) == (0, "stopped (Ctrl-C)", "")


def test_serve_failures_are_one_line(archive, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = run_cli("serve", "--db", str(archive), "--port", str(taken.getsockname()[1]))
    assert busy.returncode == 1 and busy.stdout == ""
    assert re.fullmatch(r"Error: cannot listen on 127\.0\.0\.1:\d+: .+\n", busy.stderr), busy.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("not an archive")
    bad = run_cli("serve", "--db", str(junk))
    assert bad.returncode != 0 and len(bad.stderr.splitlines()) == 1 and "junk.db" in bad.stderr
    missing = run_cli("serve", "--db", str(tmp_path / "none.db"))
    assert missing.returncode != 0 and missing.stderr.strip() == f"Error: no archive at {tmp_path / 'none.db'}"


def test_serve_without_datasette_says_how_to_install_it(archive, tmp_path):
    # A datasette that cannot be imported, as in an environment without the extra.
    (tmp_path / "datasette.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'datasette'\", name='datasette')\n")
    env = dict(_env(), PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "dzarchive", "serve", "--db", str(archive)], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: serve needs Datasette: pip install -e '.[datasette]' (or pip install 'datasette>=0.65,<0.66')"]


# -- in a headless browser ---------------------------------------------------------------------------------
def chromium(url: str, profile: Path, *mode: str) -> str:
    """Run headless Chromium on ``url`` in ``mode`` (--dump-dom, --screenshot=…): its stdout."""
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", "--no-first-run",
                          f"--user-data-dir={profile}", "--window-size=1280,900", *mode, url],
                         capture_output=True, text=True, timeout=120, env=_env(), check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """A PNG's width, height and inflated scanlines (their filter bytes included)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


# Chinese fonts Debian packages install (fonts-noto-cjk, fonts-wqy-zenhei, fonts-wqy-microhei, fonts-arphic-*).
CJK_FONT_FILES = ("**/NotoSansCJK*", "**/NotoSerifCJK*", "**/wqy-*", "**/uming.ttc", "**/ukai.ttc")


def cjk_font_installed() -> bool:
    """Whether Chromium has a font for Chinese (else the posts show as boxes); fc-list is not always there."""
    fonts = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
    return any(next(folder.glob(pattern), None) for folder in fonts if folder.is_dir() for pattern in CJK_FONT_FILES)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                                              "(apt-get install chromium fonts-noto-cjk)")


@needs_chromium
def test_a_browser_shows_a_thread_readably_and_the_links_and_hint(archive, truth, tmp_path):
    if not cjk_font_installed():
        pytest.skip("no Chinese font for Chromium: the screenshot would show boxes (apt-get install fonts-noto-cjk)")
    posts = thread_posts(truth, TID)
    with serving("--db", str(archive)) as (_proc, base):
        dom = Selector(text=chromium(f"{base}/a_thread?tid={TID}", tmp_path / "profile", "--dump-dom"))
        assert_thread_page(dom, posts, "/archive")
        shot = tmp_path / "a_thread.png"
        chromium(f"{base}/a_thread?tid={TID}", tmp_path / "profile", f"--screenshot={shot}")
        width, height, pixels = png_pixels(shot)
        assert (width, height) == (1280, 900)
        assert len(set(pixels)) > 64  # text and table lines, not a blank page
        shutil.copy(shot, Path("/tmp") / "dzarchive-datasette-a_thread.png")  # to look at

        summary = Selector(text=chromium(f"{base}/thread_summary", tmp_path / "profile", "--dump-dom"))
        links = summary.css("td.col-title a::attr(href)").getall()
        assert f"/archive/a_thread?tid={TID}" in links and len(links) == len(summary.css("td.col-title"))

        word = posts[2]["message_bbcode"][:2]
        search = Selector(text=chromium(f"{base}/posts?{urlencode({'_search': word})}", tmp_path / "profile",
                                        "--dump-dom"))
        zero = search.css("p.zero-results")
        assert squeeze(zero.xpath("string()").get()) == "0 records"
        hint = zero.xpath('following-sibling::p[1][@class="dzarchive-short-search"]')
        assert word in hint.xpath("string()").get() and "posts_containing" in hint.css("a::attr(href)").get()


@needs_chromium
def test_plain_datasette_with_the_metadata_gives_the_post_text_a_wide_column(archive, truth, tmp_path):
    """The README's way: ``datasette archive.db -m metadata.json``. A script added to the metadata for this test
    measures, in the browser, the width the post text column gets."""
    metadata = json.loads(run_cli("datasette-metadata", "--db", str(archive)).stdout)
    measure = """document.addEventListener('DOMContentLoaded', function () {
        var b = document.body, td = document.querySelector('td.col-content_text'),
            notes = document.querySelector('dl.column-descriptions'), rows = document.querySelector('table.rows-and-columns');
        b.setAttribute('data-page-width', document.documentElement.clientWidth);
        if (td) b.setAttribute('data-text-width', Math.round(td.getBoundingClientRect().width));
        if (notes && rows) b.setAttribute('data-notes-below',
            notes.getBoundingClientRect().top >= rows.getBoundingClientRect().bottom ? 'yes' : 'no');
    })"""
    metadata["extra_js_urls"] = [{"url": "data:text/javascript," + quote(measure)}]
    (tmp_path / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent)) or "datasette"
    proc = subprocess.Popen([datasette, str(archive), "-m", str(tmp_path / "metadata.json"), "-p", str(port)],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/archive"
        for _ in range(100):
            with contextlib.suppress(OSError):
                NO_PROXY.open(f"{base}.json", timeout=5).close()
                break
            time.sleep(0.1)
        dom = Selector(text=chromium(f"{base}/a_thread?tid={TID}", tmp_path / "profile", "--dump-dom"))
        assert_thread_page(dom, thread_posts(truth, TID), "/archive")  # links: the plugin loads by entry point
        text_width = int(dom.css("body::attr(data-text-width)").get())
        page_width = int(dom.css("body::attr(data-page-width)").get())
        assert text_width >= page_width * 0.45, (text_width, page_width)
        # A table's column notes come below its rows; its post texts are not squeezed among its 29 columns.
        table = Selector(text=chromium(f"{base}/posts", tmp_path / "profile", "--dump-dom"))
        assert table.css("body::attr(data-notes-below)").get() == "yes"
        assert int(table.css("body::attr(data-text-width)").get()) >= 300
    finally:
        proc.terminate()
        proc.wait(timeout=20)
