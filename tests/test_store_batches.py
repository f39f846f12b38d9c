"""The store writes several pages per transaction, each page whole: a kill loses whole pages only."""
from __future__ import annotations

import copy
import sqlite3

import pytest

from archive import Archive
from pipelines.normalise import normalise_page
from pipelines.store import StorePipeline
from pipelines.validate import validate_record
from scraper.parsers import parse_page

from .conftest import SITE_A, SITE_A2, SITE_MEMBER, captured_pages, requires_fixtures


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


def _pages(*captures):
    """Every page of the captures, parsed, normalised and validated, in order."""
    return [validate_record(normalise_page(parse_page(p.url, p.body, content_type=p.content_type,
                                                      http_status=p.status, date_header=p.date)))
            for capture in captures for p in captured_pages(capture)]


def _tables(db) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                            " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'")]
        return {n: sorted(conn.execute(f"SELECT * FROM [{n}]").fetchall(), key=repr) for n in names}
    finally:
        conn.close()


def _search(db, term: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
        return [pid for (pid,) in conn.execute("SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? ORDER BY rowid",
                                               [f'"{term}"'])]
    finally:
        conn.close()


@requires_fixtures
def test_one_batch_archives_what_its_pages_written_one_by_one_would(tmp_path):
    """State 1, state 2 (edits, posts gone), member pages (a thread hidden), state 1 again: in one batch, as one by one."""
    pages = _pages(SITE_A, SITE_A2, SITE_MEMBER, SITE_A)
    one_by_one, batched = Archive(tmp_path / "one.db"), Archive(tmp_path / "batch.db")
    written = sum(one_by_one.write(page, 1) for page in pages)
    assert batched.write_many(pages, 1) == written
    one_by_one.close()
    batched.close()
    tables = _tables(tmp_path / "one.db")
    assert tables["post_revisions"] and tables["post_absences"] and tables["thread_changes"]
    assert _tables(tmp_path / "batch.db") == tables
    assert tables["search_pause"] == []
    for term in ("冷吃兔", "涨了不少", "平台也要负责任"):
        assert _search(tmp_path / "batch.db", term) == _search(tmp_path / "one.db", term) != []


@requires_fixtures
def test_a_later_page_of_a_batch_is_not_found_gone_by_an_earlier_one(tmp_path):
    """The same thread page twice in a batch, the second showing a post the first did not: as one by one."""
    second = next(p for p in _pages(SITE_A) if p.thread_view and len(p.rows["posts"]) > 2)
    first = copy.deepcopy(second)
    missing = first.rows["posts"].pop(1)  # the first fetch did not show its second post
    first.thread_view["pids"].remove(missing["pid"])
    first.thread_view["floors"].remove(missing["floor"])
    archive = Archive(tmp_path / "a.db")
    archive.write(second)  # archived with all its posts
    archive.write_many([first, second])  # first: the post is gone; second: it is back
    absences = archive.db.execute("SELECT pid FROM post_absences").fetchall()
    status = archive.db.execute("SELECT status FROM posts WHERE pid = ?", [missing["pid"]]).fetchone()[0]
    archive.close()
    assert absences == [(missing["pid"],)]
    assert status != "deleted"  # the second page showed it again, after the first found it gone


class _Counting:
    """A connection that counts the statements handed to SQLite (an executemany is one)."""

    def __init__(self, conn):
        self.conn, self.statements = conn, 0

    def execute(self, *args):
        self.statements += 1
        return self.conn.execute(*args)

    def executemany(self, *args):
        self.statements += 1
        return self.conn.executemany(*args)


@requires_fixtures
def test_a_batch_costs_the_same_statements_however_many_pages_and_rows(tmp_path):
    from archive.writes import write_batch

    firsts = list({p.thread_view["tid"]: p for p in _pages(SITE_A) if p.thread_view and p.thread_view["page"] == 1}.values())
    assert len(firsts) >= 20
    counts = []
    for n, pages in enumerate((firsts[:2], firsts[:20])):
        archive = Archive(tmp_path / f"{n}.db")
        conn = _Counting(archive.db.conn)
        with archive.db.conn:
            write_batch(conn, pages, 1)
        counts.append(conn.statements)
        assert archive.db.execute("SELECT count(*) FROM thread_pages").fetchone()[0] == len(pages)
        archive.close()
    assert counts[0] == counts[1] < 30


@requires_fixtures
def test_every_read_of_a_batch_goes_through_an_index_and_a_users_history_is_never_sorted(tmp_path):
    """Cost flat as the archive grows: no statement of a batch scans an archive table, and a user's latest figures
    are one step down an index however many snapshots they have (their history is not read and sorted)."""
    import re

    pages = _pages(SITE_A, SITE_A2, SITE_MEMBER, SITE_A)
    archive = Archive(tmp_path / "a.db")
    statements = []
    archive.db.conn.set_trace_callback(statements.append)
    archive.write_many(pages[:40], 1)
    archive.write_many(pages[40:], 1)  # the second batch reads what the first wrote
    archive.db.conn.set_trace_callback(None)
    checked = 0
    for sql in statements:
        if not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", sql, re.I):
            continue
        plan = [detail for *_, detail in archive.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        scanned = [d for d in plan if d.startswith("SCAN") and not re.match(r"SCAN (sqlite_master|\w+ VIRTUAL TABLE)", d)
                   and not d.startswith("SCAN (")]  # the parameter lists (json_each) and subqueries' results
        assert scanned == [], (sql[:200], plan)
        if "FROM user_stats" in sql and sql.lstrip().upper().startswith("SELECT"):
            assert not any("TEMP B-TREE" in d for d in plan), (sql[:200], plan)
            checked += 1
        checked += 1
    assert checked > 20
    archive.close()


@requires_fixtures
def test_a_batch_is_indexed_for_search_as_one_segment_whatever_the_order_of_its_posts(tmp_path):
    """The index is fed the batch's texts in key order: one FTS5 segment a batch, not one per step down in pid
    (pages come in crawl order, and their threads' pids go up and down), and the index matches the table."""
    pages = list(reversed(_pages(SITE_A)))
    pids = [row["pid"] for page in pages for row in page.rows["posts"]]
    assert pids != sorted(pids)
    archive = Archive(tmp_path / "a.db")
    archive.write_many(pages, 1)
    segments = archive.db.execute("SELECT count(DISTINCT segid) FROM posts_fts_idx").fetchone()[0]
    indexed = archive.db.execute("SELECT count(*) FROM posts_fts").fetchone()[0]
    archive.close()
    assert segments == 1
    assert indexed == len(set(pids))
    assert _search(tmp_path / "a.db", "冷吃兔") != []  # _search runs FTS5's integrity-check first
