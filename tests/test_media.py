"""--media: the pictures and attachments posts show, stored once per content, politely, never fetched twice.

Capture A served by :class:`tests.wire_site.WireSite`: the first post of thread 23 shows two photos
with the same bytes, a smilie, an offsite image, a robots-disallowed image, a missing image, an
attachment that needs login and one that is served; the second post shows the first photo again.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

import research

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli
from .test_research import schema_errors
from .wire_site import (
    GONE, OFFSITE, OFFSITE_PNG, PDF, PDF_LOGIN, PHOTO, PHOTO_A, PHOTO_B, PRIVATE, REDIRECTED, REPORT, SMILIE, ZIP,
    ZIP_OK, WireSite,
)

pytestmark = requires_fixtures
HOST = "http://bbs.example.test"
FORUM_40 = HOST + "/forum.php?mod=forumdisplay&fid=40"
MEDIA_PATHS = (PHOTO_A, PHOTO_B, PRIVATE, GONE, PDF_LOGIN, ZIP_OK, SMILIE, REDIRECTED, REPORT)


def media_rows(db) -> dict[str, dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return {r["url"]: dict(r) for r in conn.execute("SELECT * FROM media")}


@pytest.fixture(scope="module")
def media_crawl(tmp_path_factory):
    """Forum 40 crawled with --media, then re-crawled with --full --media."""
    tmp = tmp_path_factory.mktemp("media")
    db = tmp / "a.db"
    with WireSite(SITE_A) as site:
        first = run_cli(*fast("crawl", FORUM_40, "--db", str(db), "--media"), proxy=site.url)
        assert first.returncode == 0, first.stderr
        first_requests = list(site.requests)
        rows_after_first = media_rows(db)
        again = run_cli(*fast("crawl", FORUM_40, "--db", str(db), "--media", "--full"), proxy=site.url)
        assert again.returncode == 0, again.stderr
        second_requests = site.requests[len(first_requests):]
    return {"db": db, "folder": tmp / "a.db.media", "first": first_requests, "second": second_requests,
            "rows": rows_after_first}


def test_images_and_attachments_are_stored_content_addressed(media_crawl):
    rows = media_crawl["rows"]
    zip_row = rows[HOST + ZIP_OK]
    assert (zip_row["status"], zip_row["size"], zip_row["sha256"]) == ("ok", len(ZIP), hashlib.sha256(ZIP).hexdigest())
    assert zip_row["content_type"] == "application/octet-stream" and zip_row["http_status"] == 200
    stored = media_crawl["folder"] / zip_row["path"]
    # The URL names a script (forum.php?mod=attachment): the extension is the server's file name's (data.zip).
    assert zip_row["path"] == f"{zip_row['sha256'][:2]}/{zip_row['sha256']}.zip" and stored.read_bytes() == ZIP


def test_a_redirected_attachment_is_recorded_under_the_url_the_post_shows(media_crawl):
    row = media_crawl["rows"][HOST + REDIRECTED]
    assert (row["status"], row["content_type"], row["sha256"]) == ("ok", "application/pdf", hashlib.sha256(PDF).hexdigest())
    assert HOST + REPORT not in media_crawl["rows"]
    assert row["path"].endswith(".pdf")  # the file the redirect led to names it (report.pdf)


def test_one_content_under_two_urls_is_stored_once(media_crawl):
    rows = media_crawl["rows"]
    a, b = rows[HOST + PHOTO_A], rows[HOST + PHOTO_B]
    assert a["status"] == b["status"] == "ok" and a["sha256"] == b["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    files = sorted(p for p in media_crawl["folder"].rglob("*") if p.is_file())
    assert len(files) == 3  # the photo, the zip and the pdf
    assert sorted(p.suffix for p in files) == [".jpg", ".pdf", ".zip"]
    assert a["path"] == b["path"] == f"{a['sha256'][:2]}/{a['sha256']}.jpg"
    assert (media_crawl["folder"] / a["path"]).read_bytes() == PHOTO


def test_a_picture_in_many_posts_is_fetched_once(media_crawl):
    conn = sqlite3.connect(media_crawl["db"])
    assert sorted(conn.execute("SELECT pid FROM attachments WHERE url = ?", [HOST + PHOTO_A])) == [(128,), (129,)]
    paths = [t for h, t, _ in media_crawl["first"]]
    assert paths.count(PHOTO_A) == 1


def test_refused_downloads_are_recorded_as_such(media_crawl):
    rows = media_crawl["rows"]
    login = rows[HOST + PDF_LOGIN]
    # Discuz answers a guest with its message page (HTTP 200): recorded as needing login, nothing stored.
    assert (login["status"], login["http_status"], login["sha256"], login["path"]) == ("login_required", 200, None, None)
    assert "登录" in login["message"]
    assert rows[HOST + GONE]["status"] == "not_found" and rows[HOST + GONE]["http_status"] == 404
    assert rows[HOST + PRIVATE]["status"] == "robots"


def test_media_requests_obey_robots_and_leave_smilies_and_other_hosts_alone(media_crawl):
    first = media_crawl["first"]
    assert ("bbs.example.test", PRIVATE) not in [(h, t) for h, t, _ in first]  # disallowed: never asked
    assert all(t != SMILIE for _, t, _ in first) and HOST + SMILIE not in media_crawl["rows"]
    assert all(h == "bbs.example.test" for h, _, _ in first) and OFFSITE not in media_crawl["rows"]
    # one robots.txt for pages and media alike
    assert [t for _, t, _ in first].count("/robots.txt") == 1


def test_recrawl_fetches_no_known_media_again(media_crawl):
    second = [t for _, t, _ in media_crawl["second"]]
    assert any("mod=viewthread&tid=23" in t for t in second)  # --full: the thread with the media was read again
    assert not set(second) & set(MEDIA_PATHS)
    rows = media_rows(media_crawl["db"])
    assert rows == media_crawl["rows"]  # nothing re-fetched, attempts unchanged
    assert {r["attempts"] for r in rows.values()} == {1}


def test_media_offsite_fetches_images_hosted_elsewhere_after_their_robots(tmp_path):
    with WireSite(SITE_A) as site:
        result = run_cli(*fast("crawl", HOST + "/forum.php?mod=viewthread&tid=23", "--db", str(tmp_path / "a.db"),
                               "--no-profiles", "--media-offsite"), proxy=site.url)
    assert result.returncode == 0, result.stderr
    offsite = [t for h, t, _ in site.requests if h == "img.other.test"]
    assert offsite == ["/robots.txt", "/pic.png"]
    row = media_rows(tmp_path / "a.db")[OFFSITE]
    assert row["status"] == "ok" and (tmp_path / "a.db.media" / row["path"]).read_bytes() == OFFSITE_PNG
    assert row["path"].endswith(".png")


def test_export_and_datasette_metadata_show_media(media_crawl, tmp_path):
    out = tmp_path / "t.jsonl"
    result = run_cli("export", "--db", str(media_crawl["db"]), "--tid", "23", "--media", "-o", str(out))
    assert result.returncode == 0, result.stderr
    # the thread's line (an export may start with records of its site and crawls)
    thread = next(line for line in map(json.loads, out.read_text(encoding="utf-8").splitlines()) if "posts" in line)
    attachments = {a["url"]: a for a in thread["posts"][0]["attachments"]}
    photo = attachments[HOST + PHOTO_A]["media"]
    assert photo["status"] == "ok" and photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert photo["path"] == f"{photo['sha256'][:2]}/{photo['sha256']}.jpg"
    assert attachments[HOST + PDF_LOGIN]["media"]["status"] == "login_required"
    schema = research.export_schema()
    assert schema_errors(thread, schema["$defs"]["thread_line"], schema) == []
    plain = run_cli("export", "--db", str(media_crawl["db"]), "--tid", "23")
    assert '"media"' not in plain.stdout  # only when asked: the default export format is unchanged
    meta = json.loads(run_cli("datasette-metadata", "--db", str(media_crawl["db"])).stdout)
    archive = next(iter(meta["databases"].values()))
    assert "sha256" in archive["tables"]["media"]["columns"]
    assert "post_media" in archive["queries"]


@pytest.mark.parametrize("urls, disposition, name, content_type, expected", [
    (["http://h/data/attachment/forum/202510/19/a.JPG"], None, None, "image/png", "jpg"),  # the path first
    (["http://h/forum.php?mod=attachment&aid=NDV8"], 'attachment; filename="laozaofang.jpg"', None, "image", "jpg"),
    (["http://h/forum.php?mod=attachment&aid=NDV8"], None, "report.PDF", "application/octet-stream", "pdf"),
    (["http://h/forum.php?mod=attachment&aid=NDV8"], None, None, "image/jpeg; charset=binary", "jpg"),
    (["http://h/forum.php?mod=attachment&aid=NDV8"], None, None, "image", None),  # X's bare "image": no guess
    (["http://h/attachment.php?aid=7"], "attachment; filename*=UTF-8''%E7%9B%90.png", None, None, "png"),
    (["http://h/pic"], None, None, "application/octet-stream", None),
])
def test_stored_files_keep_their_extension_from_path_server_name_post_or_type(urls, disposition, name, content_type,
                                                                              expected):
    from scraper.media import file_extension

    assert file_extension(urls, disposition, name, content_type) == expected


def test_capture_g_attachments_are_stored_with_their_extensions_and_lazy_photos_downloaded(tmp_path):
    """Capture G's thread 138: three inline photos shown lazily (src=none.gif, zoomfile/file) and one listed, served
    by forum.php?mod=attachment with the bare type ``image`` and a Content-Disposition file name."""
    from testbed.replay import ReplayServer

    from .conftest import FIXTURES

    db = tmp_path / "g.db"
    with ReplayServer(FIXTURES / "discuz-x35-utf8-g") as server:
        result = run_cli(*fast("crawl", "http://bbs.zigong.test/thread-138-1-1.html", "--db", str(db), "--media",
                               "--no-profiles"), proxy=server.url)
    assert result.returncode == 0, result.stderr
    rows = media_rows(db)
    photos = {url: row for url, row in rows.items() if "/data/attachment/forum/202510/19/" in url}
    assert len(photos) == 4 and all(r["status"] == "ok" for r in photos.values())  # the zoomfile URLs, not none.gif
    assert not any(url.endswith("none.gif") for url in rows)
    for row in photos.values():
        stored = tmp_path / "g.db.media" / row["path"]
        assert row["path"].endswith(".jpg") and stored.read_bytes()[:3] == b"\xff\xd8\xff"


def test_an_archive_stored_without_extensions_keeps_its_paths(tmp_path):
    from pipelines.media import store_file

    folder = tmp_path / "a.db.media"
    old = folder / hashlib.sha256(PHOTO).hexdigest()[:2] / hashlib.sha256(PHOTO).hexdigest()
    old.parent.mkdir(parents=True)
    old.write_bytes(PHOTO)  # as an earlier version stored it
    sha, path = store_file(folder, PHOTO, "jpg")
    assert path == f"{sha[:2]}/{sha}" and (folder / path).read_bytes() == PHOTO
    assert [p.name for p in old.parent.iterdir()] == [sha]  # the same content is not stored twice
    sha_zip, path_zip = store_file(folder, ZIP, "zip")
    assert path_zip == f"{sha_zip[:2]}/{sha_zip}.zip" and (folder / path_zip).read_bytes() == ZIP
