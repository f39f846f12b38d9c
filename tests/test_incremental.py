"""Scheduled archival: incremental re-crawls, edits and deletions, user figures over time, kill and resume, the lock.

A replay server serves the capture of the site (state 1) and then its later capture (state 2).
"""
from __future__ import annotations

import sqlite3
import subprocess

import pytest

from archive import ArchiveLock
from scraper.urls import classify
from testbed.replay import ReplayServer

from .conftest import SITE_A, SITE_A2, crawl_until_interrupted, requires_fixtures
from .test_e2e import crawl_killed_after, fast, order_independent, run_cli, snapshot

pytestmark = requires_fixtures
START = "http://bbs.example.test/forum.php"


def crawl(server: ReplayServer, db, *extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """One `dzarchive crawl` of the whole site; returns the result and the paths it requested."""
    before = len(server.requests)
    result = run_cli(*fast("crawl", START, "--db", str(db), *extra), proxy=server.url)
    assert result.returncode == 0, result.stderr
    return result, server.requests[before:]


@pytest.fixture(scope="module")
def two_states(tmp_path_factory):
    """The site crawled in state 1, re-crawled unchanged, then re-crawled in state 2 (and --full)."""
    db = tmp_path_factory.mktemp("incremental") / "archive.db"
    with ReplayServer(SITE_A) as server:
        _, first = crawl(server, db)
        _, unchanged = crawl(server, db)
        after_unchanged = snapshot(db)
        server.set_capture(SITE_A2)
        _, second = crawl(server, db)
        after_second = snapshot(db)
        _, full = crawl(server, db, "--full")
    return {"db": db, "first": first, "unchanged": unchanged, "second": second, "full": full,
            "after_unchanged": after_unchanged, "after_second": after_second}


def test_unchanged_site_costs_only_robots_and_the_index(two_states):
    # The index shows each forum's threads / posts and last post: they match the archive.
    assert sorted(two_states["unchanged"]) == ["/forum.php", "/robots.txt"]
    assert len(two_states["unchanged"]) <= 0.05 * len(two_states["first"])


def pages_of(paths: list[str]) -> set[tuple]:
    """What the requested paths are, whatever their spelling: (kind, tid or fid or uid, page)."""
    targets = [classify("http://bbs.example.test" + path) for path in paths]
    return {(t.kind, t.tid or t.fid or t.uid, t.page) for t in targets if t.kind != "other"}


def test_changes_fetch_only_the_changed_threads_from_their_last_page(two_states):
    requested = pages_of(two_states["second"])
    # tid 1 got two replies: only its last archived page; tid 4 lost its reply; tid 28 is new.
    assert {p for p in requested if p[0] == "viewthread"} == {("viewthread", 1, 2), ("viewthread", 4, 1),
                                                               ("viewthread", 28, 1)}
    # Only 盐都杂谈 changed; its walk goes on to page 2 (page 1 changed) and stops there (page 2 did not).
    assert {p for p in requested if p[0] == "forumdisplay"} == {("forumdisplay", 2, 1), ("forumdisplay", 2, 2)}
    # Every poster here is already archived with a profile: their figures come with their posts.
    assert {p for p in requested if p[0] == "profile"} == set()
    # Each one requested once, in a spelling the site's own pages link.
    assert len(two_states["second"]) == len(set(two_states["second"]))


def test_new_replies_new_thread_and_deleted_reply_are_archived(two_states):
    conn = sqlite3.connect(two_states["db"])
    posts = {r[0]: r[1:] for r in conn.execute("SELECT pid, tid, floor, status, author FROM posts")}
    assert posts[137] == (1, 13, "ok", "守法公民") and posts[138] == (1, 14, "ok", "老盐工")
    assert posts[139][:2] == (28, 1) and posts[140][:2] == (28, 2)
    assert conn.execute("SELECT quoted_pid FROM quotes WHERE pid = 138").fetchall() == [(137,)]
    # The deleted reply stays, marked, last seen by the first crawls.
    assert posts[80][2] == "deleted"
    first_seen, last_seen = conn.execute("SELECT first_seen, last_seen FROM posts WHERE pid = 80").fetchone()
    crawls = conn.execute("SELECT started_at FROM crawls ORDER BY id").fetchall()
    assert first_seen <= last_seen < crawls[2][0]
    assert conn.execute("SELECT replies, title FROM threads WHERE tid = 4").fetchone()[0] == 0
    assert len(posts) == 135 + 4


def test_user_figures_are_a_time_series_of_changes(two_states):
    conn = sqlite3.connect(two_states["db"])
    series = conn.execute("SELECT credits, posts, json_extract(extcredits, '$.铜板.value') FROM user_stats"
                          " WHERE uid = 2 AND source = 'post' ORDER BY seen_at").fetchall()
    assert series == [(392051, 93000, 215115), (392061, 93002, 215119)]
    # Users whose figures did not change have one row per source, however many crawls saw them.
    assert conn.execute("SELECT count(*) FROM user_stats WHERE uid = 4").fetchone()[0] == 2


def test_full_crawl_finds_the_edited_post_and_keeps_the_old_version(two_states):
    conn = sqlite3.connect(two_states["db"])
    revisions = conn.execute("SELECT pid, content_text, edited_note FROM post_revisions").fetchall()
    assert revisions == [(15, "价格涨了不少啊", None)]
    text, note = conn.execute("SELECT content_text, edited_note FROM posts WHERE pid = 15").fetchone()
    assert text != "价格涨了不少啊" and note.startswith("本帖最后由")
    assert len(two_states["full"]) > len(two_states["second"]) * 3


def test_crawls_are_recorded_with_their_counts(two_states):
    conn = sqlite3.connect(two_states["db"])
    rows = conn.execute("SELECT status, pages, errors FROM crawls ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["finished"] * 4
    # Every request but robots.txt's was a page of the forum, and the crawl counts those.
    assert [r[1] for r in rows] == [len([path for path in two_states[k] if path != "/robots.txt"])
                                    for k in ("first", "unchanged", "second", "full")]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    db = tmp_path_factory.mktemp("whole") / "archive.db"
    with ReplayServer(SITE_A) as server:
        crawl(server, db)
    return snapshot(db)


@pytest.mark.parametrize("kill_after", [3, 15, 30, 45])
def test_kill_and_resume_ends_identical_to_an_uninterrupted_crawl(tmp_path, uninterrupted, kill_after):
    db = tmp_path / "archive.db"
    with ReplayServer(SITE_A) as server:
        crawl_killed_after(server, START, db, kill_after)
        assert len(server.requests) < 54, "the crawl finished before it could be killed"
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT status FROM crawls").fetchall() == [("running",)]
        conn.close()
        result = run_cli(*fast("crawl", START, "--db", str(db)), proxy=server.url)
        assert result.returncode == 0, result.stderr
    assert order_independent(snapshot(db)) == order_independent(uninterrupted)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM crawls ORDER BY id").fetchall() == [("interrupted",), ("finished",)]


def test_second_crawl_on_the_same_archive_refuses(tmp_path):
    db = tmp_path / "archive.db"
    with ArchiveLock(db):
        result = run_cli("crawl", START, "--db", str(db))
    assert result.returncode == 3
    assert "another crawl is writing to" in result.stderr
    assert not db.exists() or sqlite3.connect(db).execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'crawls'").fetchone()[0] in (0, 1)


def test_ctrl_c_then_the_same_command_continues_where_it_stopped(tmp_path, uninterrupted):
    db = tmp_path / "archive.db"
    with ReplayServer(SITE_A) as server:
        stopped = crawl_until_interrupted(server, db)
        assert stopped.returncode == 130 and "interrupted" in stopped.stdout
        assert (db.parent / "archive.db.jobdir" / "dzarchive-stopped-cleanly").exists()
        first_run = len(server.requests)
        result = run_cli(*fast("crawl", START, "--db", str(db)), proxy=server.url)
        assert result.returncode == 0, result.stderr
        pages = [r for r in server.requests if r != "/robots.txt"]  # each process reads robots.txt
        assert len(server.requests) > first_run
    # The saved queue carries on: no page fetched twice, none missing.
    assert len(pages) == len(set(pages)) == 53
    assert not (db.parent / "archive.db.jobdir").exists()
    assert order_independent(snapshot(db)) == order_independent(uninterrupted)
