"""--warc: WARC/1.1 records of every exchange, byte for byte as the server sent them; reparse and WACZ from them.

The forum is capture A served by :class:`tests.wire_site.WireSite`, which sends gzip, chunked, GBK and
duplicate ``Set-Cookie`` responses and remembers the bytes it wrote.
"""
from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from scraper.urls import Target, classify
from testbed.replay import ReplayServer

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli, snapshot
from .wire_site import GONE, PHOTO_A, PHOTO_B, SALT_SECRET, SERVER_AUTH_SECRET, WireSite, as_received

pytestmark = requires_fixtures
FORUM_40 = "http://bbs.example.test/forum.php?mod=forumdisplay&fid=40"
MEMBER_COOKIE_SECRET = "memberCOOKIEsecret7f3e"


def records(folder: Path, *, parse: bool = True) -> list[dict]:
    """Every record of the WARC files in ``folder`` (file order): type, URI, WARC headers, raw block."""
    out = []
    for path in sorted(folder.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, no_record_parse=not parse):
                headers = dict(record.rec_headers.headers)
                out.append({"file": path.name, "type": record.rec_type, "uri": headers.get("WARC-Target-URI"),
                            "headers": headers, "block": record.raw_stream.read() if not parse else None,
                            "http": record.http_headers})
    return out


def raw_records(folder: Path) -> list[dict]:
    return records(folder, parse=False)


def warcio_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from warcio.cli import main; main()", "check", "-v",
                           *map(str, sorted(folder.glob("*.warc.gz")))], capture_output=True, text=True)


@pytest.fixture(scope="module")
def wire_crawl(tmp_path_factory):
    """Forum 40 of capture A (4 threads, a sub-forum, profiles, a thread with pictures) crawled with --warc --media."""
    tmp = tmp_path_factory.mktemp("warc")
    with WireSite(SITE_A) as site:
        result = run_cli(*fast("crawl", FORUM_40, "--db", str(tmp / "a.db"), "--warc", str(tmp / "warc"), "--media"),
                         proxy=site.url)
    assert result.returncode == 0, result.stderr
    return {"db": tmp / "a.db", "warc": tmp / "warc", "site": site}


def test_warcio_check_passes(wire_crawl):
    check = warcio_check(wire_crawl["warc"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout


def test_every_exchange_is_a_request_response_pair_with_the_query_string(wire_crawl):
    recs = records(wire_crawl["warc"])
    assert recs[0]["type"] == "warcinfo"
    responses = {r["headers"]["WARC-Record-ID"]: r for r in recs if r["type"] in ("response", "revisit")}
    requests = [r for r in recs if r["type"] == "request"]
    assert len(requests) == len(responses) == len(wire_crawl["site"].requests)
    for request in requests:
        response = responses[request["headers"]["WARC-Concurrent-To"]]
        assert request["uri"] == response["uri"]
    uris = {r["uri"] for r in requests}
    assert FORUM_40 in uris and "http://bbs.example.test/home.php?mod=space&uid=2&do=profile" in uris
    request = next(r for r in requests if r["uri"] == FORUM_40)
    assert request["http"].protocol == "GET" or request["http"].statusline.startswith("/forum.php")
    block = next(r for r in raw_records(wire_crawl["warc"]) if r["type"] == "request" and r["uri"] == FORUM_40)["block"]
    assert block.startswith(b"GET /forum.php?mod=forumdisplay&fid=40 HTTP/1.1\r\nHost: bbs.example.test\r\n")
    assert b"\r\nAccept-Encoding: " in block and b"\r\nUser-Agent: dzarchive/" in block


def test_response_block_is_byte_identical_to_what_the_server_sent(wire_crawl):
    site = wire_crawl["site"]
    checked = {"gzip": 0, "chunked": 0, "gbk": 0}
    for record in raw_records(wire_crawl["warc"]):
        if record["type"] not in ("response", "revisit"):
            continue
        host, _, rest = record["uri"].partition("://")[2].partition("/")
        sent = site.sent[(host, "/" + rest)]
        expected = as_received(sent)
        if record["type"] == "revisit":  # the headers only: the payload is the record it refers to
            expected = expected.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        assert record["block"] == expected, record["uri"]
        checked["gzip"] += b"\r\nContent-Encoding: gzip\r\n" in sent
        checked["chunked"] += b"\r\nTransfer-Encoding: chunked\r\n" in sent
        checked["gbk"] += b"charset=GBK" in sent
    assert all(checked.values()), checked
    # Still gzip-encoded, as received; the chunked framing is gone.
    # Thread 24's first page, in whatever spelling the site linked it by.
    index = next(r for r in raw_records(wire_crawl["warc"]) if r["type"] == "response"
                 and classify(r["uri"]) == Target("viewthread", tid=24, page=1))
    head, body = index["block"].split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding" not in head and gzip.decompress(body).startswith(b"<!DOCTYPE")


def test_status_line_keeps_its_reason_phrase_and_repeated_set_cookie(wire_crawl):
    blocks = {r["uri"]: r["block"] for r in raw_records(wire_crawl["warc"]) if r["type"] == "response"}
    assert blocks["http://bbs.example.test" + GONE].startswith(b"HTTP/1.1 404 File Not Found\r\n")
    head = blocks[FORUM_40].split(b"\r\n\r\n", 1)[0]
    assert head.count(b"\r\nSet-Cookie: ") == 2
    assert f"Set-Cookie: Xsd3_2132_saltkey={SALT_SECRET};".encode() in head  # a guest crawl keeps them


def test_repeated_payload_becomes_a_revisit(wire_crawl):
    recs = records(wire_crawl["warc"])
    photos = {"http://bbs.example.test" + PHOTO_A, "http://bbs.example.test" + PHOTO_B}
    by_id = {r["headers"]["WARC-Record-ID"]: r for r in recs}
    for other in (r for r in recs if r["type"] == "revisit"):  # e.g. two hosts' identical robots.txt
        original = by_id[other["headers"]["WARC-Refers-To"]]
        assert original["headers"]["WARC-Payload-Digest"] == other["headers"]["WARC-Payload-Digest"]
        assert original["http"].get_statuscode().startswith("2")  # error pages are never deduplicated
    revisits = [r for r in recs if r["type"] == "revisit" and r["uri"] in photos]
    assert len(revisits) == 1
    revisit = revisits[0]
    original = next(r for r in recs if r["headers"]["WARC-Record-ID"] == revisit["headers"]["WARC-Refers-To"])
    assert original["type"] == "response" and original["uri"] == revisit["headers"]["WARC-Refers-To-Target-URI"]
    assert {original["uri"], revisit["uri"]} == photos
    assert revisit["headers"]["WARC-Payload-Digest"] == original["headers"]["WARC-Payload-Digest"]
    assert revisit["headers"]["WARC-Profile"].endswith("/identical-payload-digest")
    assert revisit["headers"]["WARC-Refers-To-Date"] == original["headers"]["WARC-Date"]


def test_warcinfo_names_dzarchive_and_its_settings(wire_crawl):
    info = next(r for r in raw_records(wire_crawl["warc"]) if r["type"] == "warcinfo")["block"].decode()
    assert "software: dzarchive/" in info and "warcio/" in info
    assert "isPartOf: " + FORUM_40 in info
    settings = json.loads(next(line for line in info.splitlines() if line.startswith("dzarchive-settings: "))
                          .partition(": ")[2])
    assert settings["DZ_MEDIA"] is True and settings["ROBOTSTXT_OBEY"] is True


def test_archive_lists_the_warc_files_its_crawl_wrote(wire_crawl):
    conn = sqlite3.connect(wire_crawl["db"])
    listed = [Path(p) for (p,) in conn.execute("SELECT path FROM warc_files WHERE crawl_id = 1")]
    assert listed == sorted(wire_crawl["warc"].glob("*.warc.gz"))


def test_files_rotate_by_size_each_with_a_warcinfo(tmp_path):
    with WireSite(SITE_A) as site:
        result = run_cli(*fast("crawl", FORUM_40, "--db", str(tmp_path / "a.db"), "--warc", str(tmp_path / "warc"),
                               "-s", "DZ_WARC_MAX_SIZE=20000"), proxy=site.url)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(files) >= 3
    for path in files:
        assert path.stat().st_size < 20000 + 40000  # one exchange past the limit at most
        with open(path, "rb") as stream:
            kinds = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(stream)]
        assert kinds[0][0] == "warcinfo"
        # a request and its response never straddle two files
        assert sorted(u for t, u in kinds if t == "request") == sorted(u for t, u in kinds
                                                                       if t in ("response", "revisit"))
    assert warcio_check(tmp_path / "warc").returncode == 0


def test_logged_in_crawl_writes_no_cookie_value(tmp_path):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       f".bbs.example.test\tTRUE\t/\tFALSE\t0\tXsd3_2132_auth\t{MEMBER_COOKIE_SECRET}\n", encoding="utf-8")
    with WireSite(SITE_A, member_cookie=MEMBER_COOKIE_SECRET) as site:
        result = run_cli(*fast("crawl", FORUM_40, "--db", str(tmp_path / "a.db"), "--warc", str(tmp_path / "warc"),
                               "--media", "--cookies", str(cookies)), proxy=site.url)
    assert result.returncode == 0, result.stderr
    assert all(MEMBER_COOKIE_SECRET in c for _, _, c in site.requests if c)  # the cookie was sent...
    raw = b"".join(gzip.decompress(p.read_bytes()) for p in (tmp_path / "warc").glob("*.warc.gz"))
    assert b"Cookie: Xsd3_2132_auth=" in raw and b"Set-Cookie: Xsd3_2132_saltkey=; expires=" in raw
    for secret in (MEMBER_COOKIE_SECRET, SERVER_AUTH_SECRET, SALT_SECRET):  # ...but no value is written
        assert secret.encode() not in raw
    assert warcio_check(tmp_path / "warc").returncode == 0


@pytest.fixture(scope="module")
def capture_a_warc(tmp_path_factory):
    """The whole of capture A crawled from the index with --warc (the replay server, as in test_e2e)."""
    tmp = tmp_path_factory.mktemp("warc-a")
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", "http://bbs.example.test/forum.php", "--db", str(tmp / "live.db"),
                               "--warc", str(tmp / "warc")), proxy=server.url)
    assert result.returncode == 0, result.stderr
    return tmp


def test_reparse_from_warc_equals_the_live_archive(capture_a_warc):
    rebuilt = capture_a_warc / "rebuilt.db"
    files = sorted(map(str, (capture_a_warc / "warc").glob("*.warc.gz")))
    result = run_cli("reparse", "--warc", *files, "--db", str(rebuilt))
    assert result.returncode == 0, result.stderr
    assert "read 53 page(s)" in result.stdout
    live, again = snapshot(capture_a_warc / "live.db"), snapshot(rebuilt)
    assert again["posts"] and again == live
    conn = sqlite3.connect(rebuilt)
    assert conn.execute("SELECT status, site_version FROM crawls").fetchone() == ("finished", "X3.4")


def test_reparse_of_a_file_that_is_not_a_warc_fails_clearly(tmp_path):
    bad = tmp_path / "notes.warc.gz"
    bad.write_bytes(b"this is not a WARC file\n")
    result = run_cli("reparse", "--warc", str(bad), "--db", str(tmp_path / "x.db"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "not a readable WARC file" in result.stderr


def test_wacz_packs_the_warcs_and_validates(capture_a_warc):
    wacz = capture_a_warc / "site.wacz"
    result = run_cli("wacz", str(capture_a_warc / "live.db"), "-o", str(wacz))
    assert result.returncode == 0, result.stderr
    validate = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(wacz)], capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    with zipfile.ZipFile(wacz) as z:
        names = set(z.namelist())
        assert {"datapackage.json", "pages/pages.jsonl"} <= names
        assert any(n.startswith("indexes/") and n.endswith((".cdx", ".cdxj", ".cdx.gz", ".idx")) for n in names)
        assert any(n.startswith("archive/") and n.endswith(".warc.gz") for n in names)
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()[1:]]
    conn = sqlite3.connect(capture_a_warc / "live.db")
    thread_pages = conn.execute("SELECT count(*) FROM thread_pages").fetchone()[0]
    assert len(pages) == thread_pages
    titles = {classify(p["url"]): p["title"] for p in pages}
    assert titles[Target("viewthread", tid=2, page=3)].startswith("盐帮菜哪家最正宗？")


def test_wacz_of_an_archive_without_warcs_fails_clearly(tmp_path):
    from archive import Archive

    Archive(tmp_path / "empty.db").close()
    result = run_cli("wacz", str(tmp_path / "empty.db"))
    assert result.returncode == 1 and "Traceback" not in result.stderr and "no WARC files" in result.stderr


def test_config_file_turns_on_warc_and_media_for_a_site(tmp_path):
    (tmp_path / "dzarchive.toml").write_text(
        'database = "data/a.db"\n\n[[site]]\n'
        f'url = "{FORUM_40}"\nwarc = "data/warc"\nmedia = true\n', encoding="utf-8")
    with WireSite(SITE_A) as site:
        result = run_cli("run", "--config", str(tmp_path / "dzarchive.toml"), proxy=site.url)
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "data" / "warc").glob("*.warc.gz"))
    assert files and warcio_check(tmp_path / "data" / "warc").returncode == 0
    conn = sqlite3.connect(tmp_path / "data" / "a.db")
    assert conn.execute("SELECT count(*) FROM media WHERE status = 'ok'").fetchone()[0] == 4
