"""The researchers' side: JSONL export/import round trip, the export schema, Chinese search kept in sync
with crawls, read-only query, stats, views and Datasette metadata, on archives built from the captures."""
from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import sqlite3
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import schemas
from archive import Archive
from archive.fulltext import register_functions
from pipelines.normalise import normalise_page
from pipelines.validate import validate_record
import research
from scraper.parsers import parse_page
from research import text_search
from dzarchive.research_commands import register

from .conftest import SITE_A, SITE_A2, captured_pages, requires_fixtures

pytestmark = requires_fixtures

CST = timezone(timedelta(hours=8))
# Export covers these tables; for each, the columns compared after a round trip (ids number rows of
# one archive only; crawl ids are carried, with the crawls).
ROUND_TRIP_SKIP = {"post_revisions": {"id"}, "user_stats": {"id"}, "post_comments": {"id"},
                   "figure_history": {"id"}, "post_absences": {"id"}, "thread_changes": {"id"}}


# -- building archives from the captures -----------------------------------------------------------
def write_capture(archive: Archive, capture: Path) -> None:
    """Store every page of a capture as the crawler's pipelines would."""
    for p in captured_pages(capture):
        page = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
        archive.write(validate_record(normalise_page(page)))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Path:
    """The site crawled twice (state 1, then state 2), the search set up before the first crawl."""
    path = tmp_path_factory.mktemp("research") / "archive.db"
    archive = Archive(path)
    research.ensure_search(archive.db)
    for capture in (SITE_A, SITE_A2):
        write_capture(archive, capture)
    archive.close()
    return path


@pytest.fixture()
def db(crawled):
    database = research.open_archive(crawled, readonly=True)
    yield database
    database.conn.close()


def rows(path: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def is_record(line: str | dict) -> bool:
    """Whether an export line is one of the records before the threads (site, crawls, history), not a thread or post."""
    obj = json.loads(line) if isinstance(line, str) else line
    return "posts" not in obj and "pid" not in obj


def export_lines(source, selection=None, *, with_records: bool = False, **options) -> list[str]:
    """The lines of an export; the thread (or post) lines only unless ``with_records``."""
    out = io.BytesIO()
    research.export_jsonl(source, out, selection, **options)
    data = out.getvalue()
    if options.get("compress"):
        data = gzip.decompress(data)
    # split on \n only: JSONL's one line break (str.splitlines would also split on U+2028...)
    lines = data.decode("utf-8").split("\n")[:-1]
    return lines if with_records else [line for line in lines if not is_record(line)]


def cli() -> click.Group:
    group = click.Group("dzarchive")
    register(group)
    return group


# -- a JSON Schema check that needs no extra package ------------------------------------------------
def schema_errors(instance, schema: dict, root: dict, path: str = "$") -> list[str]:
    """Errors of ``instance`` against the draft 2020-12 subset export.schema.json uses
    (type, properties, required, additionalProperties, items, $ref, anyOf, oneOf, enum, pattern)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return schema_errors(instance, root["$defs"][name], root, path)
    errors = []
    for key in ("anyOf", "oneOf"):
        if key in schema:
            passing = sum(not schema_errors(instance, option, root, path) for option in schema[key])
            if passing == 0 or (key == "oneOf" and passing > 1):
                errors.append(f"{path}: {passing} of the {key} options match")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks = {"null": lambda v: v is None, "boolean": lambda v: isinstance(v, bool),
                  "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  "string": lambda v: isinstance(v, str), "array": lambda v: isinstance(v, list),
                  "object": lambda v: isinstance(v, dict)}
        if not any(checks[t](instance) for t in types):
            return errors + [f"{path}: {instance!r:.40} is not {types}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} not in {schema['enum']}")
    if "pattern" in schema and isinstance(instance, str) and not re.search(schema["pattern"], instance):
        errors.append(f"{path}: {instance!r} does not match {schema['pattern']}")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        errors += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in instance]
        for key, value in instance.items():
            if key in props:
                errors += schema_errors(value, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(value, schema["additionalProperties"], root, f"{path}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            errors += schema_errors(item, schema["items"], root, f"{path}[{i}]")
    return errors


@pytest.fixture(scope="module")
def validate():
    """A function line -> list of errors: jsonschema when installed, else the subset checker above."""
    schema = json.loads(research.EXPORT_SCHEMA_PATH.read_text(encoding="utf-8"))
    try:
        import jsonschema
    except ImportError:
        return lambda obj: schema_errors(obj, schema, schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return lambda obj: [e.message for e in validator.iter_errors(obj)] + schema_errors(obj, schema, schema)


# == search index ===================================================================================
def test_sqlite_has_trigram():
    assert research.has_trigram(), f"SQLite {sqlite3.sqlite_version} has no trigram tokenizer (needs 3.34+)"


def test_ensure_search_is_idempotent_and_cheap(crawled, tmp_path):
    path = tmp_path / "copy.db"
    shutil.copy(crawled, path)
    archive = Archive(path)
    master = rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    names = {name for _, name, _ in master}
    assert {"posts_fts", "threads_fts", "posts_fts_ai", "posts_fts_au", "posts_fts_ad", "threads_fts_au",
            "thread_summary", "user_activity", "posts_per_month", "user_latest_stats"} <= names
    before = archive.db.conn.total_changes
    research.ensure_search(archive.db)
    research.ensure_search(archive.db)
    assert archive.db.conn.total_changes == before  # nothing rebuilt, nothing rewritten
    assert rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == master
    archive.close()


def test_ensure_search_fills_the_index_of_an_existing_archive(tmp_path):
    archive = Archive(tmp_path / "a.db")
    write_capture(archive, SITE_A)  # archived before search existed
    research.ensure_search(archive.db)
    assert [h["pid"] for h in research.search(archive.db, "奥特曼") if h["match"] == "post"] == [1]
    archive.db.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    archive.close()


def test_ensure_search_repairs_a_missing_trigger(tmp_path):
    archive = Archive(tmp_path / "a.db")
    research.ensure_search(archive.db)
    archive.db.execute("DROP TRIGGER posts_fts_au")
    write_capture(archive, SITE_A)
    research.ensure_search(archive.db)  # recreates the trigger and rebuilds the index
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM sqlite_master WHERE name = 'posts_fts_au'") == [(1,)]
    archive.db.execute("UPDATE posts SET content_text = '改成了独一无二的文字' WHERE pid = 2")
    assert [h["pid"] for h in research.search(archive.db, "独一无二")] == [2]
    archive.close()


def test_a_batch_indexes_its_posts_without_the_triggers_and_leaves_them_on(tmp_path):
    """The archive's batches feed the index themselves; any other writer still has the triggers."""
    archive = Archive(tmp_path / "a.db")
    write_capture(archive, SITE_A)
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM search_pause") == [(0,)]
    assert [h["pid"] for h in research.search(archive.db, "奥特曼") if h["match"] == "post"] == [1]
    with archive.db.conn:  # another writer, after the batches
        archive.db.conn.execute("INSERT INTO posts (pid, tid, content_text) VALUES (9001, 1, '独一无二的盐帮菜')")
    assert [h["pid"] for h in research.search(archive.db, "独一无二")] == [9001]
    archive.db.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    archive.close()


def test_a_pause_left_committed_is_lifted_and_the_index_rebuilt_on_opening(tmp_path):
    archive = Archive(tmp_path / "a.db")
    write_capture(archive, SITE_A)
    with archive.db.conn:  # a writer that paused the triggers, committed, and did not index
        archive.db.conn.execute("INSERT INTO search_pause (id) VALUES (1)")
        archive.db.conn.execute("INSERT INTO posts (pid, tid, content_text) VALUES (9001, 1, '独一无二的盐帮菜')")
    assert research.search(archive.db, "独一无二") == []
    archive.close()
    archive = Archive(tmp_path / "a.db")
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM search_pause") == [(0,)]
    assert [h["pid"] for h in research.search(archive.db, "独一无二")] == [9001]
    archive.close()


def test_an_archive_with_the_earlier_triggers_is_upgraded_on_opening(tmp_path):
    """Archives made before the batches fed the index: per-row triggers and no search_pause table."""
    path = tmp_path / "a.db"
    archive = Archive(path)
    write_capture(archive, SITE_A)
    conn = archive.db.conn
    with conn:
        conn.execute("DROP TABLE search_pause")
        for fts, table, key, column in research.FTS_INDEXES:
            for op in ("ai", "au"):
                conn.execute(f"DROP TRIGGER [{fts}_{op}]")
            conn.execute(f"CREATE TRIGGER [{fts}_ai] AFTER INSERT ON [{table}] BEGIN\n"
                         f"  INSERT INTO [{fts}] (rowid, [{column}]) VALUES (new.[{key}], new.[{column}]);\nEND")
            conn.execute(f"CREATE TRIGGER [{fts}_au] AFTER UPDATE ON [{table}] WHEN old.[{column}] IS NOT "
                         f"new.[{column}] BEGIN\n  INSERT INTO [{fts}] ([{fts}], rowid, [{column}]) VALUES ('delete', "
                         f"old.[{key}], old.[{column}]);\n  INSERT INTO [{fts}] (rowid, [{column}]) VALUES "
                         f"(new.[{key}], new.[{column}]);\nEND")
        conn.execute("PRAGMA user_version = 0")  # as every archive made before the schema's fingerprint
    archive.close()
    archive = Archive(path)  # opening upgrades: the table, the triggers, the index rebuilt once
    write_capture(archive, SITE_A2)
    assert rows(path, "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%search_pause%'") == [(5,)]
    assert 15 in {h["pid"] for h in research.search(archive.db, "冷吃兔", limit=None)}
    assert 15 not in {h["pid"] for h in research.search(archive.db, "涨了不少", limit=None)}
    archive.db.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    archive.db.execute("INSERT INTO threads_fts (threads_fts, rank) VALUES ('integrity-check', 1)")
    archive.close()


def test_index_follows_the_archive_upserts(tmp_path):
    """The archive writes with INSERT ... ON CONFLICT(pid) DO UPDATE: the update trigger must fire."""
    archive = Archive(tmp_path / "a.db")
    research.ensure_search(archive.db)
    conn = archive.db.conn
    upsert = ("INSERT INTO posts (pid, tid, content_text, last_seen) VALUES (?, 7, ?, ?)"
              " ON CONFLICT (pid) DO UPDATE SET content_text = excluded.content_text, last_seen = excluded.last_seen")
    with conn:
        conn.execute(upsert, (70, "第一版：盐帮菜真好吃", "1"))
    assert [h["pid"] for h in research.search(archive.db, "盐帮菜")] == [70]
    with conn:
        conn.execute(upsert, (70, "第二版：冷吃兔更好吃", "2"))
    assert research.search(archive.db, "盐帮菜") == []
    assert [h["pid"] for h in research.search(archive.db, "冷吃兔")] == [70]
    # A re-crawl that sees the same text re-indexes nothing (the trigger's WHEN) and stays correct.
    segments = conn.execute("SELECT count(*) FROM posts_fts_data").fetchone()[0]
    with conn:
        conn.execute(upsert, (70, "第二版：冷吃兔更好吃", "3"))
    assert conn.execute("SELECT count(*) FROM posts_fts_data").fetchone()[0] == segments
    conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    conn.execute("INSERT INTO threads_fts (threads_fts, rank) VALUES ('integrity-check', 1)")
    archive.close()


def test_second_crawl_keeps_the_index_in_sync(crawled, db):
    """State 2 edited pid 15 and added pids 137/138: the index built during the crawls follows."""
    old, new = rows(crawled, "SELECT r.content_text, p.content_text FROM post_revisions r JOIN posts p USING (pid)"
                             " WHERE pid = 15")[0]
    assert "涨了不少" in old and "涨了不少" not in new and "冷吃兔" in new
    assert 15 not in {h["pid"] for h in research.search(db, "涨了不少", limit=None)}
    assert 15 in {h["pid"] for h in research.search(db, "冷吃兔", limit=None)}
    assert [h["pid"] for h in research.search(db, "平台也要负责任")] == [137]
    # FTS5 checks its index against the posts table (an integrity-check is a write command).
    rows(crawled, "INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    rows(crawled, "INSERT INTO threads_fts (threads_fts, rank) VALUES ('integrity-check', 1)")


# == search =========================================================================================
def truth(path: Path, terms: list[str], *, fids=None, since=None, until=None) -> tuple[set, set]:
    """(pids of posts containing every term, tids of threads whose title does), by Python, not SQL search."""
    posts = {pid for pid, fid, text, at in rows(path, "SELECT p.pid, t.fid, p.content_text, p.posted_at FROM posts p"
                                                      " LEFT JOIN threads t USING (tid)")
             if all(term.lower() in (text or "").lower() for term in terms)
             and (fids is None or fid in fids) and (since is None or (at and at >= since))
             and (until is None or (at and at <= until))}
    threads = {tid for tid, fid, title, at in rows(path, "SELECT tid, fid, title, created_at FROM threads")
               if all(term.lower() in (title or "").lower() for term in terms)
               and (fids is None or fid in fids) and (since is None or (at and at >= since))
               and (until is None or (at and at <= until))}
    # A title hit whose opening post matched too would be the same floor 1 twice: search leaves it out.
    opening = dict(rows(path, "SELECT tid, pid FROM posts WHERE is_first = 1"))
    return posts, {tid for tid in threads if opening.get(tid) not in posts}


def hit_sets(hits: list[dict]) -> tuple[set, set]:
    return ({h["pid"] for h in hits if h["match"] == "post"}, {h["tid"] for h in hits if h["match"] == "title"})


@pytest.mark.parametrize("query", ["奥特曼", "法院", "盐帮", "杭州互联网法院", "侵权", "冷吃兔", "博物馆", "得好",
                                   "AI", "lora", "奥特曼 法院", '"奥特曼系列"'])
def test_search_finds_chinese_words_of_any_length(crawled, db, query):
    hits = research.search(db, query, limit=None)
    want = truth(crawled, research.search_terms(query))
    assert hit_sets(hits) == want
    assert want != (set(), set()), "the word should be in the capture"
    for hit in hits:
        assert any(f"«{t.lower()}»" in hit["snippet"].lower() for t in research.search_terms(query)), hit


def matching(path: Path, terms: list[str]) -> tuple[set, set]:
    """(pids, tids) of posts and titles containing every term, before floor-1 duplicates are left out."""
    posts = {pid for pid, text in rows(path, "SELECT pid, content_text FROM posts")
             if all(t.lower() in (text or "").lower() for t in terms)}
    return posts, {tid for tid, title in rows(path, "SELECT tid, title FROM threads")
                   if all(t.lower() in (title or "").lower() for t in terms)}


@pytest.mark.parametrize("query, words", [
    ("“哪家最正宗”", ["哪家最正宗"]),  # Chinese IME quotes
    ("「哪家最正宗」", ["哪家最正宗"]),
    ("『盐帮菜』", ["盐帮菜"]),
    ("盐帮\u3000推荐", ["盐帮", "推荐"]),  # the IME's full-width space separates words
    ("“训练。 图源”", ["训练。 图源"]),  # a phrase keeps its space
])
def test_search_reads_queries_as_chinese_users_type_them(crawled, db, query, words):
    want = truth(crawled, words)
    assert want != (set(), set()), "the words should be in the capture"
    assert hit_sets(research.search(db, query, limit=None)) == want


def test_search_or_and_exclusion(crawled, db):
    either = hit_sets(research.search(db, "奥特曼 OR 冷吃兔", limit=None))
    ultraman, rabbit = matching(crawled, ["奥特曼"]), matching(crawled, ["冷吃兔"])
    assert either[0] == ultraman[0] | rabbit[0] and ultraman[0] and rabbit[0]
    # OR binds tighter than the space: 推荐 and one of 奥特曼 / 冷吃兔 (a short term on one side: LIKE)
    both = hit_sets(research.search(db, "推荐 奥特曼 OR 冷吃兔", limit=None))
    assert both[0] == (ultraman[0] | rabbit[0]) & matching(crawled, ["推荐"])[0] and both[0]
    short = hit_sets(research.search(db, "盐帮 OR 奥特曼", limit=None))[0]
    assert short == matching(crawled, ["盐帮"])[0] | ultraman[0]
    # -word leaves out posts (and titles) containing it, long terms through the index, short by LIKE
    recommended = matching(crawled, ["推荐"])
    for excluded in ("沿滩", "水煮牛肉", '"那家，水煮"'):
        without = hit_sets(research.search(db, f"推荐 -{excluded}", limit=None))
        assert without[0] == recommended[0] - matching(crawled, [excluded.strip('"')])[0]
        assert without[0] and without[0] != recommended[0]
    assert hit_sets(research.search(db, "推荐 －沿滩", limit=None)) == hit_sets(research.search(db, "推荐 -沿滩", limit=None))
    with pytest.raises(ValueError, match="nothing to look for"):
        research.search(db, "-广告")


def test_a_title_match_is_not_a_second_floor_1_row(crawled, db):
    hits = research.search(db, "盐帮菜", limit=None)
    opening = rows(crawled, "SELECT pid FROM posts WHERE tid = 2 AND is_first = 1")[0][0]
    assert [(h["match"], h["tid"], h["pid"]) for h in hits if h["tid"] == 2] == [("post", 2, opening)]
    # a thread whose opening post does not contain the words still shows as a title hit
    title_only = research.search(db, "夕阳下", limit=None)
    assert [(h["match"], h["tid"], h["floor"]) for h in title_only] == [("title", 26, 1)]


def test_search_words_may_start_with_a_dash_after_two_dashes_or_in_quotes(crawled):
    runner = CliRunner()
    want = hit_sets(research.search(crawled, "推荐 -沿滩", limit=None))[0]
    assert 16 in want and 25 not in want
    for args in (["--", "推荐", "-沿滩"], ["推荐 -沿滩"]):
        done = runner.invoke(cli(), ["search", "--db", str(crawled), "--json", "--limit", "0", *args])
        assert done.exit_code == 0, done.output
        assert {json.loads(line)["pid"] for line in done.output.splitlines()} == want
    # Before --, a dashed word is an option the command does not know: an error that says how to write it.
    dashed = runner.invoke(cli(), ["search", "推荐", "-沿滩", "--db", str(crawled)])
    assert dashed.exit_code == 2 and "No such option: -沿滩" in dashed.output and "-- 盐帮 -沿滩" in dashed.output
    only = runner.invoke(cli(), ["search", "--db", str(crawled), "--", "-平台"])
    assert only.exit_code == 2 and "nothing to look for" in only.output and "Traceback" not in only.output


@pytest.mark.parametrize("value", ["2024-13", "2024-12-32", "2024-00", "2023-02-29"])
def test_commands_refuse_dates_that_do_not_exist(crawled, value):
    for command in (["search", "法院"], ["export"]):
        done = CliRunner().invoke(cli(), [*command, "--db", str(crawled), "--since", value])
        assert done.exit_code == 2 and "--since" in done.output and "not a date" in done.output, done.output
        assert "Traceback" not in done.output


def test_search_finds_words_deep_inside_a_long_post(db):
    (hit,) = [h for h in research.search(db, "奥特曼") if h["match"] == "post"]
    assert (hit["pid"], hit["tid"], hit["floor"], hit["author"]) == (1, 1, 1, "西秦小编")
    assert hit["posted_at"] == "2025-02-11T08:06:55+08:00"
    assert hit["title"] == "用户用AI生成侵权图片,平台要担责?法院判决案例来了"
    text = rows(Path(db.conn.execute("PRAGMA database_list").fetchone()[2]),
                "SELECT content_text FROM posts WHERE pid = 1")[0][0]
    assert len(text) > 2000 and text.index("奥特曼") > 200
    assert "原告系«奥特曼»系列形象" in hit["snippet"]


def test_two_character_words_use_the_scan_and_three_use_the_index(db, monkeypatch):
    scans = []
    original = text_search._text_match

    def spy(conn, terms, fts, key_sql, text_sql):
        sql, params = original(conn, terms, fts, key_sql, text_sql)
        scans.append(sql)
        return sql, params

    monkeypatch.setattr(text_search, "_text_match", spy)  # where search() looks it up
    research.search(db, "法院")
    assert scans and all("MATCH" not in s and "LIKE" in s for s in scans)
    scans.clear()
    research.search(db, "奥特曼")
    assert scans and all("MATCH" in s and "LIKE" not in s for s in scans)


def test_search_without_the_index_gives_the_same_answers(db, monkeypatch):
    with_index = {q: research.search(db, q, limit=None) for q in ("奥特曼", "博物馆", "法院 平台")}
    monkeypatch.setattr(text_search, "has_trigram", lambda: False)
    assert {q: research.search(db, q, limit=None) for q in with_index} == with_index


def test_search_respects_forum_and_time_filters(crawled, db):
    all_hits = hit_sets(research.search(db, "博物馆", limit=None))
    assert all_hits == truth(crawled, ["博物馆"]) and len(all_hits[0]) == 2  # pid 91 in fid 2, pid 130 in fid 40
    assert hit_sets(research.search(db, "博物馆", forum=[40], limit=None)) == truth(crawled, ["博物馆"], fids={40})
    assert hit_sets(research.search(db, "博物馆", forum=[40]))[0] == {130}
    assert hit_sets(research.search(db, "得好", forum=[41]))[0] == {135}
    since = hit_sets(research.search(db, "博物馆", since="2025-01-01", limit=None))
    assert since == truth(crawled, ["博物馆"], since="2025-01-01") and since[0] == {130}
    # --until takes in the whole day, month or year named
    until = hit_sets(research.search(db, "博物馆", until="2024-11", limit=None))
    assert until[0] == {91} and until == truth(crawled, ["博物馆"], until="2024-11-30T23:59:59+08:00")
    assert hit_sets(research.search(db, "法院", since="2026-11-25T11:47:30+08:00", until="2026-11-25"))[0] == {137}
    # an offset given in UTC is compared in the forum's zone
    assert hit_sets(research.search(db, "法院", since="2026-11-25T03:47:30Z"))[0] == {137}


def test_search_orders_and_limits(db):
    newest = research.search(db, "法院", limit=None)
    times = [h["posted_at"] for h in newest]
    assert times == sorted(times, reverse=True)
    assert [h["posted_at"] for h in research.search(db, "法院", limit=None, order="oldest")] == sorted(times)
    assert research.search(db, "法院", limit=2) == newest[:2]
    assert research.search(db, "   ") == []


def test_time_bounds_compare_as_strings_with_stored_times():
    assert research.time_bound("2024-10", CST, until=True) > "2024-10-31T23:59:59+08:00"
    assert research.time_bound("2024-10", CST, until=True) < "2024-11-01"
    assert research.time_bound("2024-10-01", CST) <= "2024-10-01T00:00:00+08:00"
    assert research.time_bound("2024-10-01T01:00:00Z", CST) == "2024-10-01T09:00:00"
    assert research.time_bound(datetime(2024, 10, 1, 9, 30), CST) == "2024-10-01T09:30:00"
    with pytest.raises(ValueError):
        research.time_bound("last tuesday-ish", CST)


# == export =========================================================================================
def test_every_exported_line_validates_against_the_schema(db, validate):
    checked = 0
    for lines in (export_lines(db), export_lines(db, flat=True),
                  export_lines(db, research.Selection(search="法院", since="2025-01-01"))):
        for line in lines:
            assert validate(json.loads(line)) == [], line[:200]
            checked += 1
    assert checked >= 28 + 139


def test_the_schema_rejects_what_it_should(db, validate):
    thread = json.loads(export_lines(db, research.Selection(tid=(2,)))[0])
    post = thread["posts"][0]
    assert validate(thread) == []
    assert validate(dict(thread, surprise=1)) != []
    assert validate({k: v for k, v in thread.items() if k != "title"}) != []
    assert validate(dict(thread, views="many")) != []
    assert validate(dict(thread, posts=[dict(post, posted_at="yesterday")])) != []
    assert validate(dict(thread, posts=[dict(post, is_first=2)])) != []


def test_schema_file_is_generated_from_the_archive_schema():
    shipped = json.loads(research.EXPORT_SCHEMA_PATH.read_text(encoding="utf-8"))
    assert shipped == research.export_schema(), "regenerate: python -m research export-schema > " \
                                                "schemas/export.schema.json"
    defs = shipped["$defs"]
    for name, table in (("thread_line", "threads"), ("post", "posts"), ("forum", "forums"), ("user", "users")):
        assert set(research.exported_columns(table)) <= set(defs[name]["properties"])
        assert set(schemas.columns(table)) - set(defs[name]["properties"]) == set()


def test_export_line_carries_thread_forum_posts_authors_and_figures(crawled, db):
    lines = export_lines(db)
    assert len(lines) == rows(crawled, "SELECT count(*) FROM threads")[0][0]
    threads = [json.loads(line) for line in lines]
    assert [t["tid"] for t in threads] == sorted(t["tid"] for t in threads)
    thread = next(t for t in threads if t["tid"] == 2)
    assert (thread["title"], thread["forum"]["name"], thread["forum"]["parent"]["name"]) == \
           ("盐帮菜哪家最正宗？", "盐都杂谈", "盐都社区")
    assert [p["floor"] for p in thread["posts"]] == list(range(1, 66))
    assert [p["pid"] for p in thread["posts"]] == [r[0] for r in rows(
        crawled, "SELECT pid FROM posts WHERE tid = 2 ORDER BY floor")]
    quoting = next(p for p in thread["posts"] if p["pid"] == 18)
    assert quoting["quotes"][0]["pid"] == 13 and quoting["quotes"][0]["author"] == "西秦小编"
    edited = next(p for p in thread["posts"] if p["pid"] == 15)
    assert [r["content_text"] for r in edited["revisions"]] == ["价格涨了不少啊"]
    image = next(p for p in thread["posts"] if p["pid"] == 24)
    assert [a["url"] for a in image["attachments"]] == ["http://bbs.example.test/static/image/common/logo.png"]
    author = thread["posts"][0]["user"]
    latest = rows(crawled, "SELECT seen_at, credits, posts FROM user_stats WHERE uid = ?"
                           " ORDER BY seen_at DESC, id DESC LIMIT 1", [author["uid"]])[0]
    assert (author["stats"]["seen_at"], author["stats"]["credits"], author["stats"]["posts"]) == latest
    assert isinstance(author["stats"]["extcredits"], dict) and "威望" in author["stats"]["extcredits"]
    hidden = next(t for t in threads if t["tid"] == 27)
    assert (hidden["status"], hidden["posts"]) == ("login_required", [])


def test_export_is_utf8_with_real_characters_and_iso_times(db):
    raw = b"\n".join(line.encode("utf-8") for line in export_lines(db)) + b"\n"
    text = raw.decode("utf-8")
    assert "盐帮菜" in text and not re.search(r"\\u[0-9a-fA-F]{4}", text)
    thread = json.loads(text.splitlines()[0])
    assert datetime.fromisoformat(thread["created_at"]).utcoffset() == timedelta(hours=8)
    assert datetime.fromisoformat(thread["posts"][0]["posted_at"]).utcoffset() == timedelta(hours=8)


def test_streamed_lines_equal_the_python_api(db):
    assert export_lines(db) == [research._ENCODE(t) for t in research.iter_threads(db)]
    assert export_lines(db, flat=True) == [research._ENCODE(p) for p in research.iter_posts(db)]
    assert export_lines(db, compress=True) == export_lines(db)


def test_streamed_json_escapes_like_python(tmp_path):
    """SQLite writes the posts' JSON in the fast path: it must escape exactly as Python does."""
    archive = Archive(tmp_path / "a.db")
    awkward = 'quote " backslash \\ tab \t newline \n cr \r bell \x07 unit \x1f del \x7f 中文 \u2028 😀'
    archive.db["threads"].insert({"tid": 1, "title": awkward})
    archive.db["posts"].insert({"pid": 1, "tid": 1, "floor": 1, "content_text": awkward,
                                "quotes": json.dumps([{"pid": 9, "text": awkward}], ensure_ascii=False)})
    assert export_lines(archive.db) == [research._ENCODE(t) for t in research.iter_threads(archive.db)]
    (line,) = export_lines(archive.db)
    assert json.loads(line)["posts"][0]["content_text"] == awkward
    assert len(line.splitlines()) == 1  # U+2028 is escaped: one record, one line, for any reader
    archive.close()


def test_flat_export_is_one_post_per_line_with_its_thread(crawled, db):
    lines = [json.loads(line) for line in export_lines(db, flat=True)]
    assert len(lines) == rows(crawled, "SELECT count(*) FROM posts")[0][0]
    first = lines[0]
    assert list(first)[:4] == ["pid", "tid", "fid", "thread_title"]
    assert (first["tid"], first["fid"], first["thread_title"]) == (1, 2, "用户用AI生成侵权图片,平台要担责?法院判决案例来了")


def test_export_filters(crawled, db):
    forum = [json.loads(line) for line in export_lines(db, research.Selection(forum=(40, 41)))]
    assert sorted(t["tid"] for t in forum) == [r[0] for r in rows(
        crawled, "SELECT tid FROM threads WHERE fid IN (40, 41) ORDER BY tid")]
    one = [json.loads(line) for line in export_lines(db, research.Selection(tid=(2,)))]
    assert [(t["tid"], len(t["posts"])) for t in one] == [(2, 65)]
    dated = [json.loads(line) for line in export_lines(db, research.Selection(since="2025-01-01", until="2025-01"),
                                                           flat=True)]
    assert {p["pid"] for p in dated} == {r[0] for r in rows(
        crawled, "SELECT pid FROM posts WHERE posted_at >= '2025-01-01' AND posted_at < '2025-02-01'")}
    found = [json.loads(line) for line in export_lines(db, research.Selection(search="法院"))]
    # thread 1's title contains 法院: all its posts; elsewhere only posts that contain it
    assert [(t["tid"], len(t["posts"])) for t in found] == [(1, rows(
        crawled, "SELECT count(*) FROM posts WHERE tid = 1")[0][0])]


def export_measured(path) -> tuple:
    """Export the archive at ``path`` into a sink that only counts: (result, bytes written, peak traced memory)."""
    class Counter(io.RawIOBase):
        size = 0

        def write(self, data):
            self.size += len(data)
            return len(data)

    sink = Counter()
    tracemalloc.start()
    result = research.export_jsonl(research.open_archive(path, readonly=True), sink)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, sink.size, peak


def test_export_streams_in_flat_memory(tmp_path, crawled):
    """One thread of ~20k posts (~25 MB on one line) exports with a few MB of Python memory."""
    path = tmp_path / "big.db"
    shutil.copy(crawled, path)
    conn = sqlite3.connect(path)
    register_functions(conn)  # what the search triggers index with
    cols = [r[1] for r in conn.execute("PRAGMA table_info(posts)")]
    shifted = ", ".join({"pid": "pid + ?", "floor": "floor + ?"}.get(c, c) for c in cols)
    with conn:
        for k in range(1, 301):
            conn.execute(f"INSERT INTO posts ({', '.join(cols)}) SELECT {shifted} FROM posts WHERE tid = 2 AND pid < 200",
                         (k * 1000, k * 100))
    conn.close()

    result, written, peak = export_measured(path)
    assert result.posts > 19_000 and written > 20 * 2**20
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB for {written / 2**20:.0f} MiB written"


# == import and the round trip ======================================================================
def table_contents(path: Path, table: str, where: str = "") -> list[tuple]:
    columns = [c for c in schemas.columns(table) if c not in ROUND_TRIP_SKIP.get(table, set())]
    return sorted(rows(path, f"SELECT {', '.join(columns)} FROM {table} {where}"), key=repr)


def test_export_import_round_trip_is_lossless(crawled, tmp_path):
    exported = tmp_path / "a.jsonl"
    with open(exported, "wb") as out:
        research.export_jsonl(crawled, out)
    counts = research.import_jsonl(tmp_path / "b.db", exported)
    assert counts["threads"] == 28 and counts["posts"] == 139
    again = tmp_path / "b.jsonl"
    with open(again, "wb") as out:
        research.export_jsonl(tmp_path / "b.db", out)
    assert again.read_bytes() == exported.read_bytes()

    a, b = crawled, tmp_path / "b.db"
    # every exported table (polls, ratings, comments... too: tests/test_research_extras.py has an archive with
    # rows in each) but forums, of which an export carries a part; user_stats whole (every figure seen, as the
    # user records carry them)
    for table in set(research.EXPORTED_TABLES) - {"forums"}:
        assert table_contents(b, table) == table_contents(a, table), table
    assert rows(b, "SELECT count(*) FROM user_stats")[0][0] > rows(b, "SELECT count(*) FROM users")[0][0]
    # forums: every forum a thread is in, with its parents
    assert table_contents(b, "forums") == table_contents(
        a, "forums", "WHERE fid IN (SELECT fid FROM threads) OR fid IN (SELECT parent_fid FROM forums"
                     " WHERE fid IN (SELECT fid FROM threads))")
    # this archive was written without a crawl: its site is the host of its URLs, and the copy holds it
    assert rows(b, "SELECT host, url, first_seen FROM site") == [("bbs.example.test", None, None)]
    # and the imported archive is searchable
    assert hit_sets(research.search(b, "奥特曼"))[0] == {1}


def test_flat_round_trip_and_gzip_input(crawled, tmp_path):
    exported = tmp_path / "a.jsonl.gz"
    with open(exported, "wb") as out:
        research.export_jsonl(crawled, out, flat=True, compress=True)
    research.import_jsonl(tmp_path / "b.db", exported)
    assert export_lines(tmp_path / "b.db", flat=True) == export_lines(crawled, flat=True)
    assert table_contents(tmp_path / "b.db", "posts") == table_contents(crawled, "posts")


def test_importing_twice_changes_nothing(crawled, tmp_path):
    exported = tmp_path / "a.jsonl"
    with open(exported, "wb") as out:
        research.export_jsonl(crawled, out)
    research.import_jsonl(tmp_path / "b.db", exported)
    first = {t: table_contents(tmp_path / "b.db", t) for t in research.EXPORTED_TABLES}
    research.import_jsonl(tmp_path / "b.db", exported)
    assert {t: table_contents(tmp_path / "b.db", t) for t in research.EXPORTED_TABLES} == first


def test_import_rejects_a_line_that_is_not_an_export(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"tid": 1, "posts": []}\n{"hello": "world"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        research.import_jsonl(tmp_path / "b.db", bad)


# == query ==========================================================================================
@pytest.mark.parametrize("sql", ["DELETE FROM posts", "INSERT INTO users (uid) VALUES (999)",
                                 "UPDATE threads SET title = 'x'", "DROP TABLE posts", "CREATE TABLE x (a)",
                                 "CREATE TEMP TABLE x (a)", "PRAGMA journal_mode = DELETE", "PRAGMA query_only = OFF",
                                 "ATTACH DATABASE 'elsewhere.db' AS other"])
def test_query_refuses_writes(crawled, sql):
    before = rows(crawled, "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM users),"
                           " (SELECT group_concat(title) FROM threads)")
    with pytest.raises(research.ReadOnlyError, match="read-only"):
        list(research.query(crawled, sql).rows)
    assert rows(crawled, "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM users),"
                         " (SELECT group_concat(title) FROM threads)") == before


def test_query_reads_with_parameters(crawled):
    result = research.query(crawled, "SELECT tid, title FROM threads WHERE fid = :fid ORDER BY tid", {"fid": 41})
    assert result.columns == ["tid", "title"]
    assert list(result.rows) == rows(crawled, "SELECT tid, title FROM threads WHERE fid = 41 ORDER BY tid")
    with pytest.raises(research.QueryError, match="no such table"):
        research.query(crawled, "SELECT * FROM nowhere")
    columns = [r[1] for r in research.query(crawled, "PRAGMA table_info(posts)").rows]
    assert columns[:3] == ["pid", "tid", "floor"]  # pragmas that read still work


def test_query_command_outputs_and_errors(crawled):
    runner = CliRunner()
    sql = "SELECT tid, title FROM threads WHERE tid IN (1, 2) ORDER BY tid"
    as_json = runner.invoke(cli(), ["query", sql, "--db", str(crawled), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert [json.loads(line) for line in as_json.output.splitlines()] == [
        {"tid": 1, "title": "用户用AI生成侵权图片,平台要担责?法院判决案例来了"}, {"tid": 2, "title": "盐帮菜哪家最正宗？"}]
    as_csv = runner.invoke(cli(), ["query", sql, "--db", str(crawled), "--csv"])
    assert as_csv.output.splitlines() == ["tid,title", '1,"用户用AI生成侵权图片,平台要担责?法院判决案例来了"',
                                          "2,盐帮菜哪家最正宗？"]
    table = runner.invoke(cli(), ["query", sql, "--db", str(crawled)])
    assert table.output.splitlines()[0].split() == ["tid", "title"] and "盐帮菜哪家最正宗？" in table.output
    refused = runner.invoke(cli(), ["query", "DELETE FROM posts", "--db", str(crawled)])
    assert refused.exit_code == 1 and "read-only" in refused.output
    missing = runner.invoke(cli(), ["query", "SELECT 1", "--db", str(crawled.parent / "none.db")])
    assert missing.exit_code == 1 and "no archive" in missing.output
    assert not (crawled.parent / "none.db").exists()


def test_query_json_decodes_json_columns_and_tables_mark_cuts(crawled):
    runner = CliRunner()
    sql = "SELECT pid, quotes, json_object('n', 1) AS made, '[not json' AS text FROM posts WHERE pid = 18"
    (line,) = runner.invoke(cli(), ["query", sql, "--db", str(crawled), "--json"]).stdout.splitlines()
    row = json.loads(line)
    stored = json.loads(rows(crawled, "SELECT quotes FROM posts WHERE pid = 18")[0][0])
    assert row == {"pid": 18, "quotes": stored, "made": {"n": 1}, "text": "[not json"}
    assert row["quotes"][0]["pid"] == 13
    raw = json.loads(runner.invoke(cli(), ["query", sql, "--db", str(crawled), "--json", "--no-json-cols"]).stdout)
    assert isinstance(raw["quotes"], str) and json.loads(raw["quotes"]) == stored

    long_sql = "SELECT pid, content_text FROM posts WHERE pid = 1"
    text = rows(crawled, "SELECT content_text FROM posts WHERE pid = 1")[0][0]
    cut = runner.invoke(cli(), ["query", long_sql, "--db", str(crawled)])
    assert cut.exit_code == 0
    cell = cut.stdout.splitlines()[2].split(None, 1)[1]
    assert cell.endswith("…") and len(cell) < 40
    assert "1 cell cut short" in cut.stderr and "--width 0" in cut.stderr
    whole = runner.invoke(cli(), ["query", long_sql, "--db", str(crawled), "--width", "0"])
    assert " ".join(text.split()) in whole.stdout and "cut short" not in whole.stderr
    narrow = runner.invoke(cli(), ["query", long_sql, "--db", str(crawled), "--width", "10"])
    assert narrow.stdout.splitlines()[2].split(None, 1)[1] == "近年来,生…"  # 9 columns and the mark


# == stats and views ================================================================================
def test_stats_equal_counts_taken_with_sql(crawled, db):
    report = research.stats(db)
    assert report["totals"] == dict(zip(
        ("forums", "threads", "posts", "users", "first_post_at", "last_post_at"),
        rows(crawled, "SELECT (SELECT count(*) FROM forums), (SELECT count(*) FROM threads),"
                      " (SELECT count(*) FROM posts), (SELECT count(*) FROM users),"
                      " (SELECT min(posted_at) FROM posts), (SELECT max(posted_at) FROM posts)")[0]))
    assert report["totals"]["posts"] == 139 and report["totals"]["threads"] == 28
    by_fid = {f["fid"]: f for f in report["forums"]}
    for fid, threads in rows(crawled, "SELECT fid, count(*) FROM threads GROUP BY fid"):
        assert by_fid[fid]["threads"] == threads
    for fid, posts, users, first, last in rows(
            crawled, "SELECT t.fid, count(*), count(DISTINCT p.author_uid), min(p.posted_at), max(p.posted_at)"
                     " FROM posts p JOIN threads t USING (tid) GROUP BY t.fid"):
        assert (by_fid[fid]["posts"], by_fid[fid]["users"], by_fid[fid]["first_post_at"], by_fid[fid]["last_post_at"]) \
               == (posts, users, first, last)
    assert (by_fid[2]["name"], by_fid[41]["name"]) == ("盐都杂谈", "摄影天地")
    assert sum(f["posts"] for f in report["forums"]) == 139
    assert [(m["month"], m["posts"]) for m in report["months"]] == rows(
        crawled, "SELECT substr(posted_at, 1, 7), count(*) FROM posts GROUP BY 1 ORDER BY 1")
    assert report["last_crawl"] is None  # pages were written without a crawl run


def test_stats_reports_the_last_crawl(tmp_path):
    archive = Archive(tmp_path / "a.db")
    crawl = archive.start_crawl("http://bbs.example.test/forum.php", "+08:00")
    archive.finish_crawl(crawl, "finished", pages=3, items=9)
    archive.close()
    last = research.stats(tmp_path / "a.db")["last_crawl"]
    assert (last["id"], last["status"], last["pages"], last["start_url"]) == (
        crawl, "finished", 3, "http://bbs.example.test/forum.php")


def test_stats_command(crawled):
    runner = CliRunner()
    text = runner.invoke(cli(), ["stats", "--db", str(crawled)])
    assert text.exit_code == 0, text.output
    assert "28 threads, 139 posts" in text.output and "盐都杂谈" in text.output and "2024-10" in text.output
    report = json.loads(runner.invoke(cli(), ["stats", "--db", str(crawled), "--json"]).output)
    assert report["totals"]["posts"] == 139
    months = runner.invoke(cli(), ["stats", "--db", str(crawled), "--by", "month", "--csv"]).output.splitlines()
    assert months[0] == "month,posts,threads,users" and len(months) == 1 + len(report["months"])


def test_views_answer_the_common_questions(crawled, db):
    summary = {r[0]: r[1:] for r in db.conn.execute("SELECT tid, forum, posts, posters FROM thread_summary")}
    assert summary[2] == ("盐都杂谈", 65, len(rows(crawled, "SELECT DISTINCT author_uid FROM posts WHERE tid = 2")))
    assert len(summary) == 28
    activity = {r[0]: r[1:] for r in db.conn.execute("SELECT uid, posts, threads_started, credits FROM user_activity")}
    for uid, posts, started in rows(crawled, "SELECT author_uid, count(*), sum(is_first) FROM posts"
                                             " WHERE author_uid IS NOT NULL GROUP BY 1"):
        latest = rows(crawled, "SELECT credits FROM user_stats WHERE uid = ? ORDER BY seen_at DESC, id DESC LIMIT 1",
                      [uid])
        assert activity[uid] == (posts, started, latest[0][0] if latest else None)
    monthly = db.conn.execute("SELECT sum(posts) FROM posts_per_month").fetchone()[0]
    assert monthly == rows(crawled, "SELECT count(*) FROM posts WHERE posted_at IS NOT NULL")[0][0]


# == the CLI ========================================================================================
def test_export_and_import_commands(crawled, tmp_path):
    runner = CliRunner()
    out = tmp_path / "threads.jsonl.gz"
    done = runner.invoke(cli(), ["export", "--db", str(crawled), "-o", str(out), "--forum", "40"])
    assert done.exit_code == 0, done.output
    lines = gzip.decompress(out.read_bytes()).decode("utf-8").splitlines()
    assert [json.loads(line)["tid"] for line in lines if not is_record(line)] == [23, 24, 25]
    stdout = runner.invoke(cli(), ["export", "--db", str(crawled), "--flat", "--tid", "1", "--no-records"])
    assert [json.loads(line)["pid"] for line in stdout.stdout.splitlines()] == [r[0] for r in rows(
        crawled, "SELECT pid FROM posts WHERE tid = 1 ORDER BY floor")]
    imported = runner.invoke(cli(), ["import-jsonl", str(out), "--db", str(tmp_path / "b.db")])
    assert imported.exit_code == 0, imported.output
    assert rows(tmp_path / "b.db", "SELECT tid FROM threads ORDER BY tid") == [(23,), (24,), (25,)]
    bad_date = runner.invoke(cli(), ["export", "--db", str(crawled), "--since", "soon"])
    assert bad_date.exit_code == 2 and "--since" in bad_date.output


def test_search_command(crawled):
    runner = CliRunner()
    table = runner.invoke(cli(), ["search", "奥特曼", "--db", str(crawled)])
    assert table.exit_code == 0, table.output
    header, _, row = table.output.splitlines()[:3]
    assert header.split() == ["posted_at", "tid", "floor", "match", "author", "title", "snippet"]
    assert "2025-02-11T08:06:55+08:00" in row and "西秦小编" in row and "«奥特曼»" in row
    as_json = runner.invoke(cli(), ["search", "法院", "--db", str(crawled), "--json", "--forum", "2",
                                    "--since", "2026-01-01", "--limit", "5"])
    hits = [json.loads(line) for line in as_json.output.splitlines()]
    assert [(h["match"], h["pid"], h["floor"], h["author"]) for h in hits] == [("post", 137, 13, "守法公民")]
    assert hits[0]["snippet"] == "«法院»判得好，平台也要负责任。"


# == Datasette ======================================================================================
def datasette_search(path: Path, table: str, word: str) -> list[int]:
    """The keys Datasette's search box finds in ``table`` through the metadata's ``fts_table`` (the clause of
    datasette.views.table, the word quoted as its escape_fts does), on a plain connection as Datasette's:
    without dzarchive's SQL functions. Datasette's own detection looks for ``content=[table]``: the contentless
    folded indexes are named in the metadata instead."""
    spec = research.datasette_metadata("archive")["databases"]["archive"]["tables"][table]
    fts, pk = spec["fts_table"], spec["fts_pk"]
    return [key for (key,) in rows(path, f"SELECT [{pk}] FROM [{table}] WHERE rowid IN (SELECT rowid FROM [{fts}]"
                                         f" WHERE [{fts}] MATCH ?) ORDER BY [{pk}]", [f'"{word}"'])]


def test_datasette_finds_search_on_posts_and_metadata_covers_everything(crawled):
    for table, key, column, word in (("posts", "pid", "content_text", "奥特曼"), ("threads", "tid", "title", "法院判决")):
        found = datasette_search(crawled, table, word)
        assert found and found == [k for (k,) in rows(crawled, f"SELECT {key} FROM {table} WHERE instr({column}, ?)"
                                                              f" ORDER BY {key}", [word])]
    metadata = research.datasette_metadata("archive")
    tables = metadata["databases"]["archive"]["tables"]
    for name, spec in schemas.tables().items():
        assert tables[name]["description"] == spec["description"]
        assert set(tables[name]["columns"]) == set(spec["columns"])
    assert (tables["posts"]["fts_table"], tables["posts"]["fts_pk"]) == ("posts_fts", "pid")
    for view in research.VIEWS:
        assert tables[view]["description"]
        columns = [d[0] for d in sqlite3.connect(crawled).execute(f"SELECT * FROM {view} LIMIT 0").description]
        assert set(tables[view]["columns"]) <= set(columns), view
    sql = metadata["databases"]["archive"]["queries"]["posts_containing"]["sql"]
    assert {r[0] for r in rows(crawled, sql, {"word": "盐帮"})} == truth(crawled, ["盐帮"])[0]
    printed = CliRunner().invoke(cli(), ["datasette-metadata", "--db", str(crawled)])
    assert json.loads(printed.output)["databases"]["archive"]["tables"]["posts"]["fts_table"] == "posts_fts"


def test_datasette_metadata_links_ids_and_is_keyed_by_the_file_name(crawled, tmp_path):
    fks = {(table, row[3], row[2], row[4]) for table in ("posts", "threads", "quotes", "user_stats")
           for row in sqlite3.connect(crawled).execute(f"PRAGMA foreign_key_list({table})")}
    assert fks == {("posts", "tid", "threads", "tid"), ("posts", "author_uid", "users", "uid"),
                   ("threads", "fid", "forums", "fid"), ("user_stats", "uid", "users", "uid"),
                   ("quotes", "quoted_pid", "posts", "pid")}
    named = tmp_path / "盐都 2024.db"
    shutil.copy(crawled, named)
    printed = CliRunner().invoke(cli(), ["datasette-metadata", "--db", str(named)])
    assert printed.exit_code == 0, printed.output
    databases = json.loads(printed.output)["databases"]
    assert list(databases) == ["盐都 2024"]  # what `datasette "盐都 2024.db"` calls it
    posts = databases["盐都 2024"]["tables"]["posts"]
    assert 'href="/%E7%9B%90%E9%83%BD%202024/posts_containing"' in posts["description_html"]
    assert "3 or more" in posts["description_html"]
    missing = CliRunner().invoke(cli(), ["datasette-metadata", "--db", str(tmp_path / "a.db")])
    assert missing.exit_code == 1 and "no archive at" in missing.output and not (tmp_path / "a.db").exists()
    # the long HTML is the posts table's last column, so a table view opens on the text
    columns = [row[1] for row in sqlite3.connect(crawled).execute("PRAGMA table_info(posts)")]
    assert columns[-1] == "content_html" and columns.index("content_text") < 10


def test_an_archive_from_before_foreign_keys_is_upgraded_once(crawled, tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(crawled, path)
    old = Archive(path)
    old.db.execute("DROP VIEW thread_summary")  # views over posts would block the old layout's rebuild
    old.db.execute("DROP VIEW user_activity")
    old.db.execute("DROP VIEW posts_per_month")
    earlier_order = [c for c in schemas.columns("posts") if c != "content_html"]
    earlier_order.insert(earlier_order.index("content_text") + 1, "content_html")
    old.db["posts"].transform(drop_foreign_keys=["tid", "author_uid"], column_order=earlier_order)
    old.db.execute("PRAGMA user_version = 0")  # as every dzarchive before the schema fingerprint left it
    old.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_key_list(posts)").fetchall() == []
    assert [row[1] for row in conn.execute("PRAGMA table_info(posts)")] == earlier_order
    before = conn.execute("SELECT * FROM posts ORDER BY pid").fetchall()
    conn.close()
    Archive(path).close()  # opening upgrades
    conn = sqlite3.connect(path)
    assert {row[3] for row in conn.execute("PRAGMA foreign_key_list(posts)")} == {"tid", "author_uid"}
    assert [row[1] for row in conn.execute("PRAGMA table_info(posts)")] == list(schemas.columns("posts"))
    columns = ", ".join(c for c in schemas.columns("posts"))
    assert sorted(conn.execute(f"SELECT {columns} FROM posts").fetchall()) == sorted(
        tuple(row) for row in sqlite3.connect(crawled).execute(f"SELECT {columns} FROM posts"))
    assert len(before) == 139
    conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    conn.close()
    archive = Archive(path)
    assert hit_sets(research.search(archive.db, "冷吃兔", limit=None)) == truth(crawled, ["冷吃兔"])
    changes = archive.db.conn.total_changes
    archive.close()
    assert changes == 0  # the second opening rebuilds nothing
