"""Scrapy's feed exports: `scrapy crawl site -O items.jsonl` writes every archived page's rows as JSON."""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess

from archive.records import FetchError, PageRecord
from scraper.feeds import PageJsonLinesExporter, feed_item
from testbed.replay import ReplayServer

from .conftest import ROOT, SITE_A, requires_fixtures


def test_a_page_record_is_written_without_its_bytes():
    record = PageRecord(url="http://bbs.example.test/thread-7-1-1.html", kind="viewthread", status="ok",
                        fetched_at="2026-01-01T00:00:00+00:00", rows={"posts": [{"pid": 1, "content_text": "盐帮菜"}]},
                        errors=[("parse", "no posts")], keep_body=True, body=b"\xff\xfe<html>")
    out = io.BytesIO()
    exporter = PageJsonLinesExporter(out, encoding="utf-8")
    exporter.start_exporting()
    exporter.export_item(record)
    exporter.export_item(FetchError(url="http://bbs.example.test/x", kind="fetch", message="refused"))
    exporter.finish_exporting()
    page, error = [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()]
    assert page["rows"] == {"posts": [{"pid": 1, "content_text": "盐帮菜"}]}
    assert page["errors"] == [{"kind": "parse", "message": "no posts"}]
    assert "body" not in page and "keep_body" not in page and page["kind"] == "viewthread"
    assert error == {"url": "http://bbs.example.test/x", "kind": "fetch", "message": "refused", "error": True}
    assert record.body == b"\xff\xfe<html>"  # what the pipelines hold is unchanged
    assert feed_item({"other": 1}) == {"other": 1}


@requires_fixtures
def test_scrapy_crawl_writes_the_archived_items_as_json_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    feed, db = tmp_path / "items.jsonl", tmp_path / "a.db"
    with ReplayServer(SITE_A) as server:
        env.update(http_proxy=server.url, no_proxy="127.0.0.1,localhost")
        done = subprocess.run(
            ["scrapy", "crawl", "site", "-a", "start_url=http://bbs.example.test/thread-2-1-1.html", "-O", str(feed),
             "-s", f"DZ_DB={db}", "-s", "DZ_PROFILES=False", "-s", "DOWNLOAD_DELAY=0",
             "-s", "AUTOTHROTTLE_ENABLED=False"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "log_count/ERROR" not in done.stderr, done.stderr[-2000:]
    pages = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    conn = sqlite3.connect(db)
    assert f"Stored jsonl feed ({len(pages)} items)" in done.stderr
    assert {(r["tid"], r["page"]) for p in pages for r in p["rows"]["thread_pages"]} == \
        set(conn.execute("SELECT tid, page FROM thread_pages")) == {(2, n) for n in range(1, 8)}
    assert {p["kind"] for p in pages} == {"viewthread"}
    feed_posts = {post["pid"]: post["content_text"] for p in pages for post in p["rows"]["posts"]}
    assert feed_posts == dict(conn.execute("SELECT pid, content_text FROM posts"))
    assert len(feed_posts) == 65
