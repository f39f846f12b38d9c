"""Tests for testbed.replay: the loopback server that replays a captured Discuz! site."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from testbed.replay import Capture, ReplayServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"
SITE_A = FIXTURES / "discuz-x34-utf8-a"
SITE_A_STATE2 = FIXTURES / "discuz-x34-utf8-a-state2"
SITE_A_MEMBER = FIXTURES / "discuz-x34-utf8-a-member"
HOST = "bbs.example.test"

pytestmark = pytest.mark.skipif(not SITE_A.is_dir(), reason=f"capture fixtures not found at {FIXTURES}")

# A direct opener: an http_proxy in the test environment must not hijack loopback requests.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def entry_for(folder: Path, url_suffix: str) -> dict:
    """The manifest entry whose URL is exactly http://HOST/<url_suffix>."""
    wanted = f"http://{HOST}/{url_suffix}"
    return next(e for e in manifest(folder) if e["url"] == wanted)


def file_bytes(folder: Path, url_suffix: str) -> bytes:
    return (folder / entry_for(folder, url_suffix)["file"]).read_bytes()


def fetch(server: ReplayServer, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET server.url + path directly; return (status, headers, body) for 2xx and errors alike."""
    try:
        with DIRECT.open(server.url + path.lstrip("/"), timeout=5) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


@pytest.fixture(scope="module")
def server():
    with ReplayServer(SITE_A) as srv:
        yield srv


# --- Capture.load / lookup -------------------------------------------------------------


def test_load_reads_manifest_and_site():
    capture = Capture.load(SITE_A)
    assert len(capture.entries) == len(manifest(SITE_A)) == 105
    assert capture.site == f"http://{HOST}/"
    assert capture.hosts == {HOST}
    first = capture.entries[0]
    assert first.url == f"http://{HOST}/robots.txt"
    assert first.body() == (SITE_A / "pages/0001.txt").read_bytes()


def test_load_keeps_extra_manifest_keys_as_meta():
    capture = Capture.load(SITE_A_MEMBER)
    assert capture.lookup("member.php?mod=logging&action=login").meta == {"logged_in": False}
    assert capture.lookup("forum.php?mod=viewthread&tid=27").meta == {"logged_in": True}


def test_lookup_accepts_absolute_rooted_and_relative_urls():
    capture = Capture.load(SITE_A)
    want = entry_for(SITE_A, "forum.php?mod=viewthread&tid=1&page=2")["file"]
    for url in (
        f"http://{HOST}/forum.php?mod=viewthread&tid=1&page=2",
        "http://other.host:8080/forum.php?mod=viewthread&tid=1&page=2",
        "/forum.php?mod=viewthread&tid=1&page=2",
        "forum.php?mod=viewthread&tid=1&page=2",
    ):
        assert capture.lookup(url).file == want, url


def test_lookup_ignores_extra_fromuid_highlight_and_fragment():
    capture = Capture.load(SITE_A)
    plain = capture.lookup("forum.php?mod=viewthread&tid=10")
    assert plain.file == entry_for(SITE_A, "forum.php?mod=viewthread&tid=10")["file"]
    for url in (
        "forum.php?mod=viewthread&tid=10&extra=page%3D1",
        "forum.php?mod=viewthread&tid=10&extra=page%3D1&highlight=%E7%9B%90",
        "forum.php?mod=viewthread&tid=10&fromuid=3",
        "forum.php?mod=viewthread&tid=10#pid40",
        "forum.php?mod=viewthread&extra=&tid=10&fromuid=3#lastpost",
    ):
        assert capture.lookup(url) is plain, url
    # Dropping ignored params must not make an explicit page=2 collapse onto page 1.
    assert capture.lookup("forum.php?mod=viewthread&tid=1&extra=page%3D1&page=2").file == (
        entry_for(SITE_A, "forum.php?mod=viewthread&tid=1&page=2")["file"]
    )


def test_lookup_param_order_and_amp_entities():
    capture = Capture.load(SITE_A)
    page3 = entry_for(SITE_A, "forum.php?mod=viewthread&tid=2&page=3")["file"]
    assert capture.lookup("forum.php?page=3&tid=2&mod=viewthread").file == page3
    assert capture.lookup("forum.php?mod=viewthread&amp;tid=2&amp;page=3").file == page3
    assert capture.lookup("forum.php?mod=viewthread&#38;tid=2&amp;amp;page=3").file == page3


def test_lookup_page_one_only_falls_back_when_unlisted():
    capture = Capture.load(SITE_A)
    # Both spellings are listed, so each gets its own recorded response.
    no_page = capture.lookup("forum.php?mod=viewthread&tid=1")
    page1 = capture.lookup("forum.php?mod=viewthread&tid=1&page=1")
    assert no_page.file == entry_for(SITE_A, "forum.php?mod=viewthread&tid=1")["file"]
    assert page1.file == entry_for(SITE_A, "forum.php?mod=viewthread&tid=1&page=1")["file"]
    assert no_page is not page1
    # Only tid=9999&page=1 is listed: the bare tid falls back to it.
    assert capture.lookup("forum.php?mod=viewthread&tid=9999") is capture.lookup(
        "forum.php?mod=viewthread&tid=9999&page=1"
    )
    # The member capture lists only tid=1 without page: page=1 falls back the other way.
    member = Capture.load(SITE_A_MEMBER)
    assert member.lookup("forum.php?mod=viewthread&tid=1&page=1").file == "pages/005.html"
    # Any other page is not conflated.
    assert capture.lookup("forum.php?mod=viewthread&tid=1&page=3") is None
    assert member.lookup("forum.php?mod=viewthread&tid=1&page=2") is None


def test_lookup_unknown_urls_return_none():
    capture = Capture.load(SITE_A)
    assert capture.lookup("forum.php?mod=viewthread&tid=12345") is None
    assert capture.lookup("forum.php?mod=viewthread") is None
    assert capture.lookup("/") is None
    assert capture.lookup("forum.php?mod=viewthread&tid=1&page=2&ordertype=1") is None


def _write_capture(folder: Path, entries: list[dict], files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps(entries), encoding="utf-8")
    return folder


def _entry(url: str, file: str) -> dict:
    return {"url": url, "file": file, "status": 200, "content_type": "text/html; charset=utf-8",
            "headers": {"Date": "Wed, 25 Nov 2026 03:55:10 GMT"}}


def test_static_thread_url_ignores_third_number_and_first_entry_wins(tmp_path):
    folder = _write_capture(
        tmp_path / "cap",
        [
            _entry("http://s.test/thread-10-1-1.html", "a.html"),
            _entry("http://s.test/thread-10-2-1.html", "b.html"),
            _entry("http://s.test/thread-10-1-1.html", "dup.html"),
        ],
        {"a.html": b"a", "b.html": b"b", "dup.html": b"dup"},
    )
    capture = Capture.load(folder)
    assert capture.site == "http://s.test/"
    assert capture.lookup("/thread-10-1-2.html").file == "a.html"
    assert capture.lookup("thread-10-1-1.html").body() == b"a"
    assert capture.lookup("/thread-10-2-5.html").file == "b.html"
    assert capture.lookup("/thread-10-3-1.html") is None
    assert capture.lookup("/thread-11-1-1.html") is None


def test_load_reports_missing_files(tmp_path):
    folder = _write_capture(
        tmp_path / "cap",
        [_entry("http://s.test/a", "a.html"), _entry("http://s.test/b", "pages/gone.html")],
        {"a.html": b"a"},
    )
    with pytest.raises(FileNotFoundError, match="pages/gone.html"):
        Capture.load(folder)
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        Capture.load(tmp_path / "nowhere")


# --- HTTP serving ----------------------------------------------------------------------


def test_serves_thread_page_bytes_unchanged(server):
    status, headers, body = fetch(server, "forum.php?mod=viewthread&tid=1&page=2")
    expected = file_bytes(SITE_A, "forum.php?mod=viewthread&tid=1&page=2")
    assert status == 200
    assert body == expected
    assert int(headers["Content-Length"]) == len(expected)
    assert "chunked" not in headers.get("Transfer-Encoding", "")


def test_content_type_and_date_come_from_manifest(server):
    for suffix in ("forum.php?mod=viewthread&tid=2&page=7", "robots.txt"):
        entry = entry_for(SITE_A, suffix)
        status, headers, body = fetch(server, suffix)
        assert status == entry["status"]
        assert headers["Content-Type"] == entry["content_type"]
        assert headers["Date"] == entry["headers"]["Date"]
        assert headers.get_all("Date") == [entry["headers"]["Date"]]
        assert body == (SITE_A / entry["file"]).read_bytes()
    assert fetch(server, "robots.txt")[1]["Content-Type"] == "text/plain; charset=UTF-8"


def test_missing_thread_is_served_as_recorded_404(server):
    entry = entry_for(SITE_A, "forum.php?mod=viewthread&tid=9999&page=1")
    assert entry["status"] == 404
    for path in ("forum.php?mod=viewthread&tid=9999&page=1", "forum.php?mod=viewthread&tid=9999"):
        status, headers, body = fetch(server, path)
        assert status == 404
        assert body == (SITE_A / entry["file"]).read_bytes()
        assert "抱歉，指定的主题不存在".encode() in body
        assert headers["Date"] == entry["headers"]["Date"]


def test_ignored_params_and_param_order_over_http(server):
    tid10 = file_bytes(SITE_A, "forum.php?mod=viewthread&tid=10")
    assert fetch(server, "forum.php?mod=viewthread&tid=10&extra=page%3D1")[2] == tid10
    assert fetch(server, "forum.php?mod=viewthread&tid=10&fromuid=7&highlight=x")[2] == tid10
    page3 = file_bytes(SITE_A, "forum.php?mod=viewthread&tid=2&page=3")
    assert fetch(server, "forum.php?page=3&mod=viewthread&tid=2")[2] == page3


def test_unknown_url_is_html_404(server):
    status, headers, body = fetch(server, "forum.php?mod=viewthread&tid=4242")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert int(headers["Content-Length"]) == len(body)
    assert b"404" in body and b"tid=4242" in body


def test_head_sends_headers_without_body(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("HEAD", "/forum.php?mod=viewthread&tid=1&page=2")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read() == b""
        expected = file_bytes(SITE_A, "forum.php?mod=viewthread&tid=1&page=2")
        assert int(resp.getheader("Content-Length")) == len(expected)
    finally:
        conn.close()


def test_proxy_style_absolute_uri(server):
    # Raw proxy request line, two requests on one keep-alive connection.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", f"http://{HOST}/forum.php", headers={"Host": HOST})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.read() == file_bytes(SITE_A, "forum.php")
        conn.request("GET", f"http://{HOST}/forum.php?mod=viewthread&tid=2&extra=page%3D1&page=4",
                     headers={"Host": HOST})
        resp = conn.getresponse()
        assert resp.read() == file_bytes(SITE_A, "forum.php?mod=viewthread&tid=2&page=4")
    finally:
        conn.close()
    # urllib configured with the server as its HTTP proxy, as a crawler would be.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.url}))
    with opener.open(f"http://{HOST}/forum.php?mod=viewthread&tid=1&page=2", timeout=5) as resp:
        assert resp.read() == file_bytes(SITE_A, "forum.php?mod=viewthread&tid=1&page=2")


def test_strict_host_rejects_foreign_hosts():
    with ReplayServer(SITE_A, strict_host=True) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        try:
            conn.request("GET", "http://elsewhere.test/forum.php", headers={"Host": "elsewhere.test"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 404
            conn.request("GET", f"http://{HOST}/forum.php", headers={"Host": HOST})
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, file_bytes(SITE_A, "forum.php"))
            conn.request("GET", "/forum.php", headers={"Host": "elsewhere.test"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 404
        finally:
            conn.close()
        assert fetch(srv, "forum.php")[0] == 200  # Host: 127.0.0.1:PORT is local


def test_set_capture_switches_site_state_and_requests_are_logged():
    tid1_p2 = "forum.php?mod=viewthread&tid=1&page=2"
    before, after = file_bytes(SITE_A, tid1_p2), file_bytes(SITE_A_STATE2, tid1_p2)
    assert before != after  # two new replies landed on page 2 in state 2
    with ReplayServer(SITE_A) as srv:
        assert srv.url == f"http://127.0.0.1:{srv.port}/"
        assert fetch(srv, tid1_p2)[2] == before
        assert fetch(srv, "forum.php?mod=viewthread&tid=28")[0] == 404  # not yet posted
        srv.set_capture(SITE_A_STATE2)
        assert srv.capture.folder == SITE_A_STATE2
        assert fetch(srv, tid1_p2)[2] == after
        status, headers, body = fetch(srv, "forum.php?mod=viewthread&tid=28")
        assert (status, body) == (200, file_bytes(SITE_A_STATE2, "forum.php?mod=viewthread&tid=28"))
        assert headers["Date"] == entry_for(SITE_A_STATE2, "forum.php?mod=viewthread&tid=28")["headers"]["Date"]
        srv.set_capture(Capture.load(SITE_A))
        assert fetch(srv, tid1_p2)[2] == before

        assert srv.requests == [
            "/" + tid1_p2,
            "/forum.php?mod=viewthread&tid=28",
            "/" + tid1_p2,
            "/forum.php?mod=viewthread&tid=28",
            "/" + tid1_p2,
        ]
        assert srv.requests.count("/" + tid1_p2) == 3


def test_requests_log_records_path_query_of_proxy_requests():
    with ReplayServer(SITE_A) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        try:
            for path in (f"http://{HOST}/robots.txt", f"http://{HOST}/forum.php?mod=forumdisplay&fid=2"):
                conn.request("GET", path, headers={"Host": HOST})
                conn.getresponse().read()
        finally:
            conn.close()
        fetch(srv, "nope.php")
        assert srv.requests == ["/robots.txt", "/forum.php?mod=forumdisplay&fid=2", "/nope.php"]


def test_main_serves_until_interrupted():
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed.replay", str(SITE_A), "--port", "0"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with DIRECT.open(url + "robots.txt", timeout=5) as resp:
            assert resp.read() == (SITE_A / "pages/0001.txt").read_bytes()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
