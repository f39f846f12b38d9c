"""Crawling forums as they are really set up (issue 8): rewritten URLs, mixed spellings, a sub-folder with
changed rewrite rules, robots.txt that forbids every ``?``, redirects of dynamic spellings, and one site
per archive.

Capture F is a real Discuz! X3.5 install with URL rewriting on. Each site is replayed with
``exact=True``: only the spellings its manifest lists are served, so a crawler that invents URLs
instead of following the site's own links archives nothing.
"""
from __future__ import annotations

import json
import sqlite3

import jsonschema
import pytest

from scraper.urls import classify
from testbed import variants
from testbed.replay import ReplayServer

from .conftest import FIXTURES, ROOT, SITE_A, crawl_until_interrupted, expected, requires_fixtures
from .test_e2e import assert_archive_is_the_site, crawl_killed_after, fast, order_independent, run_cli, snapshot

pytestmark = requires_fixtures
SITE_F = FIXTURES / "discuz-x35-utf8-f"
START_F = "http://bbs.sample.test/forum.php"


def crawl(folder, start: str, db, *extra: str, exact: bool = True):
    """One `dzarchive crawl` of a replayed site; returns the result and the paths the server was asked for."""
    with ReplayServer(folder, exact=exact) as server:
        result = run_cli(*fast("crawl", start, "--db", str(db), *extra), proxy=server.url)
        return result, list(server.requests)


@pytest.fixture(scope="module")
def site_f(tmp_path_factory):
    db = tmp_path_factory.mktemp("f") / "f.db"
    result, requested = crawl(SITE_F, START_F, db)
    return db, result, requested


def test_a_rewritten_site_is_archived_whole_by_its_own_links(site_f):
    db, result, requested = site_f
    assert result.returncode == 0, result.stderr
    assert_archive_is_the_site(db, SITE_F)
    # Nothing but what the site linked, each page once although lists, pagers and redirects spell it apart.
    listed = {e["url"].split("bbs.sample.test", 1)[1] for e in json.loads((SITE_F / "manifest.json").read_text())}
    assert set(requested) <= listed
    assert len(requested) == len(set(requested))
    # The archive keeps the links the site showed: rewritten list and thread links, the pager's dynamic ones.
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT url FROM forums WHERE fid = 36").fetchone() == ("http://bbs.sample.test/forum-36-1.html",)
    assert conn.execute("SELECT url FROM threads WHERE tid = 9").fetchone() == ("http://bbs.sample.test/thread-9-1-2.html",)
    assert conn.execute("SELECT url FROM thread_pages WHERE tid = 8 AND page = 2").fetchone() == (
        "http://bbs.sample.test/forum.php?mod=viewthread&tid=8&extra=page%3D1&page=2",)


def test_an_unchanged_rewritten_site_costs_at_most_five_percent(site_f, tmp_path):
    db, _, first = site_f
    again = tmp_path / "again.db"
    again.write_bytes(db.read_bytes())
    result, requested = crawl(SITE_F, START_F, again)
    assert result.returncode == 0, result.stderr
    assert sorted(requested) == ["/forum.php", "/robots.txt"]
    assert len(requested) <= 0.05 * len(first)


def test_a_sub_folder_with_changed_rewrite_rules(tmp_path):
    site = variants.custom_rules(SITE_F, tmp_path / "site")
    db = tmp_path / "bbs.db"
    result, requested = crawl(site, "http://bbs.sample.test/bbs/forum.php", db)
    assert result.returncode == 0, result.stderr
    assert_archive_is_the_site(db, SITE_F)
    # Its threads and forums were followed in the admin's spelling, which no default rule reads.
    assert "/bbs/thread/8/1" in requested and "/bbs/forum/36/2" in requested
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT url FROM threads WHERE tid = 8").fetchone() == ("http://bbs.sample.test/bbs/thread/8/1",)


def test_robots_txt_forbidding_every_query_is_obeyed_with_the_static_spellings(tmp_path):
    site = variants.robots(SITE_F, tmp_path / "site", "User-agent: *\nDisallow: /*?*\n")
    db = tmp_path / "robots.db"
    result, requested = crawl(site, START_F, db)
    assert result.returncode == 0, result.stderr
    assert not [path for path in requested if "?" in path]
    # The in-thread pager is dynamic; the list rows' page links and the space pages are not.
    assert_archive_is_the_site(db, SITE_F)
    assert "robots.txt kept" not in result.stdout


def test_pages_robots_txt_leaves_no_spelling_for_are_counted(tmp_path):
    site = variants.robots(SITE_F, tmp_path / "site", "User-agent: *\nDisallow: /*?*\nDisallow: /space-uid-\n")
    db = tmp_path / "robots.db"
    result, requested = crawl(site, START_F, db)
    assert result.returncode == 0, result.stderr
    assert_archive_is_the_site(db, SITE_F, profiles=False)
    # The twelve posters' profiles have only forbidden spellings.
    assert "robots.txt kept the crawl from 12 page(s)" in result.stdout
    assert sqlite3.connect(db).execute("SELECT robots_forbidden FROM crawls").fetchone() == (12,)


def test_dynamic_spellings_redirected_to_static_ones_are_archived_once(tmp_path):
    site = variants.redirect_dynamic(SITE_F, tmp_path / "site")
    db = tmp_path / "redirect.db"
    result, requested = crawl(site, START_F, db)
    assert result.returncode == 0, result.stderr
    assert_archive_is_the_site(db, SITE_F)
    conn = sqlite3.connect(db)
    # One row per page, whichever spelling led to it.
    pages = conn.execute("SELECT count(*) FROM thread_pages").fetchone()[0]
    assert pages == sum(-(-(t["replies"] + 1) // 6) for t in expected(SITE_F)["threads"])


def test_start_url_may_be_any_page_in_any_spelling(tmp_path):
    db = tmp_path / "thread.db"
    # The in-thread pager's dynamic spelling of page 3 of thread 8: the crawl covers that thread.
    result, _ = crawl(SITE_F, "http://bbs.sample.test/forum.php?mod=viewthread&tid=8&extra=page%3D1&page=3", db,
                      "--no-profiles")
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT DISTINCT tid FROM posts").fetchall() == [(8,)]
    assert [r[0] for r in conn.execute("SELECT floor FROM posts ORDER BY floor")] == list(range(1, 34))


def test_a_forum_crawl_stays_in_its_forum_and_sub_forums(tmp_path):
    db = tmp_path / "forum.db"
    result, requested = crawl(SITE_F, "http://bbs.sample.test/forum-38-1.html", db, "--no-profiles")
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    truth = expected(SITE_F)
    assert {r[0] for r in conn.execute("SELECT tid FROM threads")} == {
        t["tid"] for t in truth["threads"] if t["fid"] in (38, 39)}


def test_a_crawl_that_archives_nothing_past_its_start_page_fails(tmp_path):
    # Every link of the index is forbidden: nothing but the index can be archived.
    site = variants.robots(SITE_F, tmp_path / "site", "User-agent: *\nDisallow: /forum-\nDisallow: /*?*\n")
    db = tmp_path / "nothing.db"
    result, _ = crawl(site, START_F, db)
    assert result.returncode == 1
    assert "robots.txt kept the crawl from 3 page(s)" in result.stdout
    assert sqlite3.connect(db).execute("SELECT status FROM crawls").fetchone() == ("failed",)


def test_another_site_is_refused_and_nothing_is_written(tmp_path):
    db = tmp_path / "one.db"
    result, _ = crawl(SITE_A, "http://bbs.example.test/forum.php", db, exact=False)
    assert result.returncode == 0, result.stderr
    before = snapshot(db)
    crawls = sqlite3.connect(db).execute("SELECT count(*) FROM crawls").fetchone()
    result, requested = crawl(SITE_F, START_F, db)
    assert result.returncode == 4
    assert "holds the site bbs.example.test, not bbs.sample.test" in result.stderr
    assert result.stderr.count("\n") == 1 and requested == []
    assert snapshot(db) == before
    assert sqlite3.connect(db).execute("SELECT count(*) FROM crawls").fetchone() == crawls
    # The same site under www. and https is the same site.
    assert sqlite3.connect(db).execute("SELECT host FROM site").fetchall() == [("bbs.example.test",)]


# -- reading several archives: each row says which site it comes from --------------------------------
@pytest.fixture(scope="module")
def two_archives(tmp_path_factory, site_f):
    folder = tmp_path_factory.mktemp("archives")
    a = folder / "bbs.example.test.db"
    result, _ = crawl(SITE_A, "http://bbs.example.test/forum.php", a, exact=False)
    assert result.returncode == 0, result.stderr
    (folder / "bbs.sample.test.db").write_bytes(site_f[0].read_bytes())
    return folder


def lines(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_query_of_several_archives_names_each_rows_site(two_archives):
    rows = lines(run_cli("query", "SELECT count(*) AS posts FROM posts", "--db", str(two_archives), "--json"))
    assert rows == [{"site": "bbs.example.test", "posts": len(expected(SITE_A)["posts"])},
                    {"site": "bbs.sample.test", "posts": len(expected(SITE_F)["posts"])}]
    # Two --db give the same as their folder.
    files = [str(p) for p in sorted(two_archives.glob("*.db"))]
    assert lines(run_cli("query", "SELECT count(*) AS posts FROM posts", "--db", files[0], "--db", files[1],
                         "--json")) == rows


def test_search_stats_changes_and_export_of_several_archives(two_archives):
    # 旅游 is in F's threads only, 盐帮 in A's only: each hit is tagged with its own site.
    hits = lines(run_cli("search", "旅游", "--db", str(two_archives), "--json", "--limit", "0"))
    assert hits and {h["site"] for h in hits} == {"bbs.sample.test"}
    both = lines(run_cli("search", "的", "--db", str(two_archives), "--json", "--limit", "5"))
    assert len(both) == 5 and [h["posted_at"] for h in both] == sorted((h["posted_at"] for h in both), reverse=True)
    reports = lines(run_cli("stats", "--db", str(two_archives), "--json"))
    assert [(r["site"], r["totals"]["threads"]) for r in reports] == [
        ("bbs.example.test", 26), ("bbs.sample.test", len(expected(SITE_F)["threads"]))]
    table = run_cli("stats", "--db", str(two_archives), "--by", "forum", "--csv")
    assert table.stdout.splitlines()[0].startswith("site,fid,name")
    exported = lines(run_cli("export", "--db", str(two_archives), "--flat"))
    assert {line["site"] for line in exported} == {"bbs.example.test", "bbs.sample.test"}
    # each archive's records (its site, crawls, history) come before its posts; the posts:
    assert [line["export"]["site"]["host"] for line in exported if "export" in line] == [
        "bbs.example.test", "bbs.sample.test"]
    exported = [line for line in exported if "pid" in line]
    assert len(exported) == len(expected(SITE_A)["posts"]) + len(expected(SITE_F)["posts"])
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "export.schema.json").read_text()))
    assert [line["pid"] for line in exported if not validator.is_valid(line)] == []
    assert run_cli("changes", "--db", str(two_archives), "--json").returncode == 0
    metadata = json.loads(run_cli("datasette-metadata", "--db", str(two_archives)).stdout)
    assert set(metadata["databases"]) == {"bbs.example.test", "bbs.sample.test"}
    assert "bbs.sample.test" in metadata["databases"]["bbs.sample.test"]["description"]


def test_a_folder_without_archives_is_a_clear_error(tmp_path):
    result = run_cli("stats", "--db", str(tmp_path))
    assert result.returncode == 1 and result.stderr.strip() == f"Error: no archive (*.db) in {tmp_path}"


@pytest.mark.parametrize("kill_after", [8, 25, 40])
def test_a_rewritten_site_killed_at_any_point_resumes_without_loss(tmp_path, site_f, kill_after):
    db = tmp_path / "killed.db"
    with ReplayServer(SITE_F, exact=True) as server:
        crawl_killed_after(server, START_F, db, kill_after)
        assert len(server.requests) < 52, "the crawl finished before it could be killed"
        result = run_cli(*fast("crawl", START_F, "--db", str(db)), proxy=server.url)
        assert result.returncode == 0, result.stderr
    assert order_independent(snapshot(db)) == order_independent(snapshot(site_f[0]))


def test_a_rewritten_site_continued_after_ctrl_c_fetches_no_page_twice(tmp_path):
    db = tmp_path / "interrupted.db"
    with ReplayServer(SITE_F, exact=True) as server:
        stopped = crawl_until_interrupted(server, db, after=15, start=START_F)
        assert stopped.returncode == 130, stopped.stderr
        result = run_cli(*fast("crawl", START_F, "--db", str(db)), proxy=server.url)
        assert result.returncode == 0, result.stderr
        requested = [path for path in server.requests if path != "/robots.txt"]
    # Across both runs each page once, whichever of its spellings (list link, pager link) was used.
    pages = [(t.kind, t.tid or t.fid or t.uid, t.page) for t in (classify("http://bbs.sample.test" + path)
                                                                  for path in requested)]
    assert len(pages) == len(set(pages)) == len(set(requested))
    assert_archive_is_the_site(db, SITE_F)
