"""Pipeline stages alone: normalise, validate, store (merges, revisions, user_stats series, kept pages)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import schemas
from archive import Archive
from pipelines.normalise import NormalisePipeline, normalise_page
from archive.records import FetchError
from pipelines.validate import validate_record
from scraper.items import ParsedPage, Post, Thread, User, UserStats
from scraper.parsers import parse_page

from .conftest import SITE_A, SITE_A2, captured_pages, requires_fixtures

CST = timezone(timedelta(hours=8))
FETCHED = datetime(2026, 11, 25, 3, 55, 10, tzinfo=timezone.utc)


def thread_page(content: str = "原文", credits: int = 10, views: int = 5, sticky=None) -> ParsedPage:
    page = ParsedPage(url="http://b.test/forum.php?mod=viewthread&tid=7", kind="viewthread", fetched_at=FETCHED)
    page.threads = [Thread(tid=7, fid=2, title="标题", views=views, replies=0, is_sticky=sticky,
                           created_at=datetime(2024, 10, 1, 9, tzinfo=CST), url="http://b.test/thread-7-1-1.html")]
    page.posts = [Post(pid=70, tid=7, floor=1, is_first=True, author="甲", author_uid=5, content_text=content,
                       content_html=f"<b>{content}</b>", posted_at=datetime(2024, 10, 1, 1, tzinfo=timezone.utc))]
    page.users = [User(uid=5, username="甲")]
    page.user_stats = [UserStats(uid=5, seen_at=FETCHED, credits=credits, extcredits={"威望": {"value": 1, "unit": "点"}},
                                 raw={"积分": str(credits)}, source="post")]
    return page


def test_normalise_writes_iso_times_in_the_forum_zone_and_json():
    record = normalise_page(thread_page(), "+08:00")
    post = record.rows["posts"][0]
    assert post["posted_at"] == "2024-10-01T09:00:00+08:00"
    assert record.rows["threads"][0]["created_at"] == "2024-10-01T09:00:00+08:00"
    # The link the site showed, not a spelling of our own.
    assert record.rows["threads"][0]["url"] == "http://b.test/thread-7-1-1.html"
    assert post["is_first"] == 1
    stats = record.rows["user_stats"][0]
    assert stats["seen_at"] == "2026-11-25T11:55:10+08:00"
    assert json.loads(stats["extcredits"]) == {"威望": {"value": 1, "unit": "点"}}
    assert record.fetched_at == "2026-11-25T03:55:10+00:00"
    for table, rows in record.rows.items():
        for row in rows:
            assert schemas.validate_row(table, row) == [], (table, row)


def test_validation_drops_bad_rows_records_why_and_keeps_the_page():
    record = normalise_page(thread_page())
    record.rows["posts"][0]["floor"] = "first"
    record.rows["threads"][0]["tid"] = None
    record.body = b"<html>page</html>"
    validate_record(record)
    assert record.rows["posts"] == [] and record.rows["threads"] == []
    assert [kind for kind, _ in record.errors] == ["validation", "validation"]
    messages = " | ".join(message for _, message in record.errors)
    assert "posts.floor: expected integer" in messages and "threads.tid: required value missing" in messages
    assert record.keep_body


def test_validation_checks_types_by_kind_not_by_exact_class():
    class Text(str):
        pass

    assert schemas.validate_row("posts", {"pid": 1, "tid": 1, "content_text": Text("x"), "floor": 2}) == []
    assert schemas.validate_row("user_stats", {"uid": 1, "seen_at": "2025", "online_hours": 3}) == []  # int is real
    assert schemas.validate_row("posts", {"pid": 1, "tid": 1, "floor": True}) == [
        "posts.floor: expected integer, got bool True"]
    assert schemas.validate_row("posts", {"pid": 1, "no_such": None}) == [
        "posts: unknown column 'no_such'", "posts.tid: required value missing"]


def test_store_is_idempotent_and_merges_what_each_page_knows(tmp_path):
    archive = Archive(tmp_path / "a.db")
    crawl = archive.start_crawl("http://b.test/forum.php")
    archive.write(normalise_page(thread_page(sticky=True)), crawl)
    before = archive.counts()
    # The thread page does not say whether the thread is sticky: the list page's answer stays.
    archive.write(normalise_page(thread_page(sticky=None)), crawl)
    assert archive.counts() == before
    assert archive.db["threads"].get(7)["is_sticky"] == 1
    assert archive.db["user_stats"].count == 1


def test_edited_post_keeps_its_earlier_version(tmp_path):
    archive = Archive(tmp_path / "a.db")
    first = normalise_page(thread_page("原文"))
    archive.write(first, 1)
    later = normalise_page(thread_page("改过的内容"))
    later.fetched_at = "2026-11-26T00:00:00+00:00"
    archive.write(later, 2)
    post = archive.db["posts"].get(70)
    assert post["content_text"] == "改过的内容"
    assert (post["first_seen"], post["last_seen"]) == ("2026-11-25T03:55:10+00:00", "2026-11-26T00:00:00+00:00")
    revisions = list(archive.db["post_revisions"].rows)
    assert [(r["pid"], r["content_text"], r["content_html"], r["seen_from"], r["seen_until"]) for r in revisions] == [
        (70, "原文", "<b>原文</b>", "2026-11-25T03:55:10+00:00", "2026-11-25T03:55:10+00:00")]


def test_user_stats_is_a_series_of_changes(tmp_path):
    archive = Archive(tmp_path / "a.db")
    for credits, day in ((10, 25), (10, 26), (12, 27), (12, 28)):
        page = thread_page(credits=credits)
        page.user_stats[0].seen_at = datetime(2026, 11, day, tzinfo=timezone.utc)
        archive.write(normalise_page(page))
    assert [r["credits"] for r in archive.db["user_stats"].rows_where(order_by="seen_at")] == [10, 12]


def test_user_stats_are_compared_with_the_latest_of_the_same_source_by_time(tmp_path):
    """Figures beside a post and on the profile are two series; a page fetched out of order is compared with the
    latest by time. Written page by page and in one batch, the same rows."""
    def page(source, credits, day):
        p = thread_page(credits=credits)
        p.user_stats[0].source, p.user_stats[0].seen_at = source, datetime(2026, 11, day, tzinfo=timezone.utc)
        return normalise_page(p)

    def pages():
        return [page("post", 10, 25), page("profile", 20, 26),
                page("post", 10, 27),  # as the latest post figures (not the profile's, which are later): kept out
                page("post", 12, 28), page("post", 10, 24),  # older than 28 and not as 28 showed: a row
                page("post", 12, 29), page("profile", 20, 30)]  # as the latest of each series: no rows

    expected = [("post", 10, "25"), ("profile", 20, "26"), ("post", 12, "28"), ("post", 10, "24")]
    one, batch = Archive(tmp_path / "one.db"), Archive(tmp_path / "batch.db")
    for record in pages():
        one.write(record)
    batch.write_many(pages())
    for archive in (one, batch):
        rows = archive.db.execute("SELECT source, credits, substr(seen_at, 9, 2) FROM user_stats ORDER BY id")
        assert rows.fetchall() == expected


def test_validation_remembers_only_valid_row_shapes():
    good = {"pid": 1, "tid": 1, "floor": 2, "content_text": "x"}
    assert schemas.validate_row("posts", good) == []
    # Same columns, another type or a missing required value: checked again, not taken for the valid shape.
    assert schemas.validate_row("posts", dict(good, floor=True)) == ["posts.floor: expected integer, got bool True"]
    assert schemas.validate_row("posts", dict(good, floor="2")) == ["posts.floor: expected integer, got str '2'"]
    assert schemas.validate_row("posts", dict(good, tid=None)) == ["posts.tid: required value missing"]
    assert schemas.validate_row("threads", good) == ["threads: unknown column 'pid'", "threads: unknown column 'floor'",
                                                     "threads: unknown column 'content_text'"]
    assert schemas.validate_row("posts", dict(good)) == []


def test_normalise_strips_text_turns_booleans_to_integers_and_writes_sorted_json():
    class Text(str):
        pass

    page = thread_page(content="  原文\n")
    page.posts[0].author = Text(" 甲 ")
    page.posts[0].is_first = True
    page.threads[0].is_sticky = False
    page.user_stats[0].raw = {"积分": "10", "在线时间": 1.5, "a": [1, None, {"z": True, "b": "\"乙\""}]}
    page.user_stats[0].approx = {"主题", "回帖"}
    record = normalise_page(page)
    post, thread, stats = record.rows["posts"][0], record.rows["threads"][0], record.rows["user_stats"][0]
    assert post["content_text"] == "原文" and post["author"] == "甲" and type(post["author"]) is str
    assert post["is_first"] == 1 and type(post["is_first"]) is int and thread["is_sticky"] == 0
    assert stats["raw"] == json.dumps(page.user_stats[0].raw, ensure_ascii=False, sort_keys=True)
    assert stats["raw"] == '{"a": [1, null, {"b": "\\"乙\\"", "z": true}], "在线时间": 1.5, "积分": "10"}'
    assert stats["approx"] == '["主题", "回帖"]'
    assert stats["extcredits"] == '{"威望": {"unit": "点", "value": 1}}'


def test_unreadable_page_is_logged_and_kept(tmp_path):
    archive = Archive(tmp_path / "a.db")
    crawl = archive.start_crawl("http://b.test/forum.php")
    page = parse_page("http://b.test/forum.php?mod=viewthread&tid=7", b"<html><body>??</body></html>")
    page.raw_body = b"<html><body>??</body></html>"
    record = NormalisePipeline("+08:00").process_item(page)
    archive.write(validate_record(record), crawl)
    kept = archive.db["pages"].get("http://b.test/forum.php?mod=viewthread&tid=7")
    assert kept["body"] == b"<html><body>??</body></html>" and kept["status"] == "unknown"
    error = next(archive.db["errors"].rows)
    assert (error["kind"], error["crawl_id"]) == ("unparsed", crawl)
    archive.record_error(FetchError("http://b.test/x", "fetch", "ConnectionRefusedError"), crawl)
    row = archive.finish_crawl(crawl, "failed", pages=1, items=0)
    assert (row["status"], row["errors"]) == ("failed", 2)


def test_missing_thread_does_not_create_a_row_but_updates_an_archived_one(tmp_path):
    archive = Archive(tmp_path / "a.db")
    missing = parse_page("http://b.test/forum.php?mod=viewthread&tid=7",
                         '<div id="messagetext"><p>抱歉，指定的主题不存在或已被删除或正在被审核</p></div>'.encode())
    archive.write(normalise_page(missing))
    assert archive.db["threads"].count == 0
    archive.write(normalise_page(thread_page()))
    archive.write(normalise_page(missing))
    assert archive.db["threads"].get(7)["status"] == "not_found"
    assert archive.db["posts"].count == 1  # nothing is deleted


@requires_fixtures
@pytest.mark.parametrize("capture", [SITE_A, SITE_A2], ids=lambda p: p.name)
def test_every_capture_page_normalises_to_valid_rows(capture):
    for p in captured_pages(capture):
        page = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
        record = validate_record(normalise_page(page))
        assert [e for e in record.errors if e[0] == "validation"] == [], p.url


def test_readers_can_query_while_a_crawl_writes(tmp_path):
    import sqlite3

    archive = Archive(tmp_path / "a.db")
    archive.write(normalise_page(thread_page()))
    assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader = sqlite3.connect(f"file:{tmp_path / 'a.db'}?mode=ro", uri=True)
    with archive.db.conn:  # a page being written: its transaction is open
        archive.db.conn.execute("UPDATE threads SET views = 99 WHERE tid = 7")
        assert reader.execute("SELECT views FROM threads WHERE tid = 7").fetchone() == (5,)
    assert reader.execute("SELECT views FROM threads WHERE tid = 7").fetchone() == (99,)


@requires_fixtures
def test_kept_unreadable_page_is_archived_after_reparse(tmp_path):
    from scraper.reparse import reparse

    db = tmp_path / "a.db"
    archive = Archive(db)
    page = next(p for p in captured_pages(SITE_A) if p.url.endswith("tid=2&page=2"))
    # As if yesterday's parsers had failed on it: kept with its headers, status unknown.
    archive.db["pages"].insert({"url": page.url, "kind": "special", "status": "unknown", "http_status": 200,
                                "content_type": page.content_type, "date_header": page.date,
                                "fetched_at": "2026-11-25T03:55:10+00:00", "crawl_id": 1, "body": page.body})
    archive.close()
    result = reparse(str(db))
    assert (result.pages, result.readable) == (1, 1)
    archive = Archive(db)
    assert sorted(r["pid"] for r in archive.db["posts"].rows) == list(range(23, 33))
    assert archive.db["pages"].get(page.url)["status"] == "ok"
