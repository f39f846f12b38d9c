"""The store writes several pages per transaction, each page whole: a kill loses whole pages only."""
from __future__ import annotations

import sqlite3

import pytest

from archive import Archive
from pipelines.normalise import normalise_page
from pipelines.store import StorePipeline
from pipelines.validate import validate_record
from scraper.parsers import parse_page

from .conftest import SITE_A, captured_pages, requires_fixtures


def _records(n: int):
    pages = [p for p in captured_pages(SITE_A) if "viewthread" in p.url and p.url.endswith("&page=1")][:n]
    assert len(pages) == n
    return [validate_record(normalise_page(parse_page(p.url, p.body, content_type=p.content_type, date_header=p.date)))
            for p in pages]


def _archived(db) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)  # another reader, as a resumed crawl would be
    try:
        return conn.execute("SELECT count(*) FROM thread_pages").fetchone()[0]
    finally:
        conn.close()


@requires_fixtures
def test_pages_are_committed_a_batch_at_a_time_and_the_rest_at_close(tmp_path):
    db = tmp_path / "a.db"
    store = StorePipeline(str(db), batch=3, batch_seconds=3600, lock_held=True)
    store.open_spider()
    records = _records(7)
    for n, record in enumerate(records, 1):
        store.process_item(record)
        assert _archived(db) == (n // 3) * 3  # nothing of a batch shows before the batch is written
    store.spider_closed(None, "finished")
    assert _archived(db) == 7
    assert Archive(db).crawl(1)["status"] == "finished"


@requires_fixtures
def test_a_batch_that_fails_leaves_no_page_of_it_half_written(tmp_path):
    archive = Archive(tmp_path / "a.db")
    good, other, broken = _records(3)
    archive.write(good)
    posts = archive.db.execute("SELECT count(*) FROM posts").fetchone()[0]
    broken.rows["posts"][0]["no_such_column"] = 1  # the third page of the batch cannot be written
    with pytest.raises(sqlite3.OperationalError):
        archive.write_many([other, broken])
    assert archive.db.execute("SELECT count(*) FROM thread_pages").fetchone()[0] == 1
    assert archive.db.execute("SELECT count(*) FROM posts").fetchone()[0] == posts


@requires_fixtures
def test_a_page_waits_no_longer_than_the_batch_time(tmp_path):
    db = tmp_path / "a.db"
    store = StorePipeline(str(db), batch=1000, batch_seconds=0, lock_held=True)
    store.open_spider()
    store.process_item(_records(1)[0])
    assert _archived(db) == 1
    store.spider_closed(None, "finished")
