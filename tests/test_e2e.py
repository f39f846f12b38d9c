"""End to end: `dzarchive crawl` against a loopback replay of a real Discuz! capture, then the database.

The replay server serves the capture exactly as its manifest says; the crawler reaches it as an
HTTP proxy (``http_proxy``), so the site keeps its own host name (``bbs.example.test``).
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime

import pytest

from testbed.replay import ReplayServer

from .conftest import SITE_A, expected, requires_fixtures
from .ground_truth import bbcode_text, capture_facts, extcredit_names

pytestmark = requires_fixtures

# Columns that legitimately differ between two crawls of the same pages (row ids follow fetch order).
VOLATILE = {"id", "first_seen", "last_seen", "crawl_id", "first_crawl", "last_crawl", "fetched_at", "at"}


def run_cli(*args: str, proxy: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    """Run the installed `dzarchive` entry point the way a user would."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    if proxy:
        env["http_proxy"] = proxy
        env["no_proxy"] = "127.0.0.1,localhost"  # loopback addresses are reached directly
    return subprocess.run([sys.executable, "-m", "dzarchive", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def fast(*args: str) -> tuple[str, ...]:
    """Crawl options for a loopback server: no politeness delay."""
    return (*args, "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")


def snapshot(db_path) -> dict:
    """Every archive table's rows without the columns that record when they were seen."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    out = {}
    for table in ("forums", "threads", "posts", "quotes", "users", "user_stats", "attachments", "post_revisions"):
        rows = [{k: r[k] for k in r.keys() if k not in VOLATILE} for r in conn.execute(f"SELECT * FROM {table}")]
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    conn.close()
    return out


def without_views(tables: dict) -> dict:
    """Views is a live counter (each fetch adds one): its last value depends on which page came last."""
    return {name: [{k: v for k, v in row.items() if k != "views"} for row in rows] for name, rows in tables.items()}


def order_independent(tables: dict) -> dict:
    """What two crawls of the same pages must agree on whatever order the pages came in.

    Besides views, a user_stats row's ``seen_at`` is the Date of the first page that showed those
    figures, and pages arrive in a different order from run to run. So does a post's ``url``: a page
    is fetched by the first of the site's links to it that the crawl meets (page 3 of a thread is
    ``…&extra=page%3D1&page=3`` from page 1's pager and ``…&extra=&page=3`` from page 2's).
    """
    tables = without_views(tables)
    stats = [{k: v for k, v in row.items() if k != "seen_at"} for row in tables["user_stats"]]
    posts = [{k: v for k, v in row.items() if k != "url"} for row in tables["posts"]]
    return dict(tables, user_stats=sorted(stats, key=lambda r: json.dumps(r, sort_keys=True, default=str)),
                posts=sorted(posts, key=lambda r: json.dumps(r, sort_keys=True, default=str)))


def crawl_killed_after(server, start: str, db, requests: int) -> None:
    """Start `dzarchive crawl` against ``server`` and SIGKILL it once the server has seen ``requests`` requests."""
    command = [sys.executable, "-m", "dzarchive", *fast("crawl", start, "--db", str(db))]
    process = subprocess.Popen(command, env={"PATH": "/usr/bin:/bin", "http_proxy": server.url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(server.requests) < requests and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def replay():
    with ReplayServer(SITE_A) as server:
        yield server


@pytest.fixture(scope="module")
def site_archive(tmp_path_factory, replay):
    """The capture crawled once from the forum index, and the CLI's result."""
    db = tmp_path_factory.mktemp("e2e") / "archive.db"
    result = run_cli(*fast("crawl", "http://bbs.example.test/forum.php", "--db", str(db)), proxy=replay.url)
    return db, result


def test_crawl_reports_success_and_counts(site_archive):
    db, result = site_archive
    assert result.returncode == 0, result.stderr
    truth = expected(SITE_A)
    assert "finished" in result.stdout
    assert f"{len(truth['posts'])} posts" in result.stdout
    conn = sqlite3.connect(db)
    status, pages, errors, version = conn.execute("SELECT status, pages, errors, site_version FROM crawls").fetchone()
    assert (status, errors, version) == ("finished", 0, "X3.4")
    assert pages > len(truth["threads"])


def assert_archive_is_the_site(db, folder, *, profiles: bool = True) -> None:
    """The archive equals the capture's database ground truth: threads, posts, posters and their figures.

    What the capture's README says of its pages (posts per page, when views were read, which figures the
    block beside a post shows, the extcredits' names) comes from ``ground_truth.capture_facts``.
    """
    truth, facts = expected(folder), capture_facts(folder)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    posts = {r["pid"]: r for r in conn.execute("SELECT * FROM posts")}
    assert set(posts) == {p["pid"] for p in truth["posts"] if p.get("visible_to_guest", True)}
    for want in truth["posts"]:
        got = posts[want["pid"]]
        assert (got["tid"], got["floor"], bool(got["is_first"]), got["author"], got["author_uid"]) == (
            want["tid"], want["position"], want["first"], want["author"], want["authorid"]), want["pid"]
        assert datetime.fromisoformat(got["posted_at"]) == datetime.fromisoformat(want["dateline"]), want["pid"]
        assert got["posted_at"].endswith(truth.get("timezone", "+08:00"))
        if want["status_note"] == "ok":
            assert got["content_text"] == bbcode_text(want["message_bbcode"]), want["pid"]
        assert got["status"] == want["status_note"].split(" ", 1)[0]

    threads = {r["tid"]: r for r in conn.execute("SELECT * FROM threads")}
    visible = [t for t in truth["threads"] if t["tid"] not in truth["hidden_threads"]]
    assert set(threads) == {t["tid"] for t in visible}
    for want in visible:
        got = threads[want["tid"]]
        assert (got["fid"], got["title"], got["author"], got["author_uid"], got["replies"]) == (
            want["fid"], want["title"], want["author"], want["authorid"], want["replies"]), want["tid"]
        # A live counter (each fetch adds one), read before or after the capture.
        assert got["views"] <= want["views"] if facts.views_read_after_capture else got["views"] >= want["views"]
        assert (got["is_sticky"], got["is_digest"], got["is_closed"]) == (
            int(want["displayorder"] > 0), want["digest"], want["closed"]), want["tid"]
        assert datetime.fromisoformat(got["created_at"]) == datetime.fromisoformat(want["dateline"])
        assert got["pages"] == -(-(want["replies"] + 1) // facts.posts_per_page), want["tid"]

    # Members no page shows (an admin who never posted) are not archived.
    posters = {p["authorid"] for p in truth["posts"]} | {t["authorid"] for t in visible}
    users = {r["uid"]: r for r in conn.execute("SELECT * FROM users")}
    assert set(users) == {u["uid"] for u in truth["users"] if u["uid"] in posters}
    names = extcredit_names(truth, facts)
    sources = ("profile",) if not facts.post_block_shows else ("post", "profile")
    for want in (u for u in truth["users"] if u["uid"] in posters):
        got = users[want["uid"]]
        assert (got["username"], got["group_id"]) == (want["username"], want["groupid"])
        if not profiles:
            continue
        # The profile page shows the registration time to the minute.
        assert datetime.fromisoformat(got["registered_at"]) == datetime.fromisoformat(
            want["regdate"].replace(" ", "T")).replace(second=0)
        for source in sources:
            stats = conn.execute("SELECT * FROM user_stats WHERE uid = ? AND source = ? ORDER BY seen_at DESC",
                                 (want["uid"], source)).fetchone()
            assert stats is not None, (want["uid"], source)
            assert (stats["credits"], stats["threads"], stats["posts"], stats["online_hours"]) == (
                want["credits"], want["threads"], want["posts"], want["oltime"]), (want["uid"], source)
            extcredits = json.loads(stats["extcredits"])
            assert {name: extcredits[name]["value"] for name in names.values()} == {
                name: want[key] for key, name in names.items()}, (want["uid"], source)
    forums = {r["fid"]: r for r in conn.execute("SELECT * FROM forums")}
    for want in truth["forums"]:
        if want.get("visible_to_guest", True):
            assert (forums[want["fid"]]["name"], forums[want["fid"]]["parent_fid"]) == (want["name"], want["parent_fid"])
    conn.close()


def test_archive_matches_ground_truth(site_archive):
    db, _ = site_archive
    assert_archive_is_the_site(db, SITE_A)


def test_second_crawl_changes_nothing(site_archive, replay):
    db, _ = site_archive
    before = snapshot(db)
    again = run_cli(*fast("crawl", "http://bbs.example.test/forum.php", "--db", str(db)), proxy=replay.url)
    assert again.returncode == 0, again.stderr
    assert without_views(snapshot(db)) == without_views(before)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*), max(status) FROM crawls").fetchone() == (2, "finished")


def test_one_thread_all_pages_from_a_rewritten_url(tmp_path, replay):
    db = tmp_path / "one.db"
    result = run_cli(*fast("crawl", "http://bbs.example.test/thread-2-3-1.html", "--db", str(db), "--no-profiles"),
                     proxy=replay.url)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT DISTINCT tid FROM posts").fetchall() == [(2,)]
    floors = [r[0] for r in conn.execute("SELECT floor FROM posts ORDER BY floor")]
    assert floors == list(range(1, 66))
    assert conn.execute("SELECT count(*) FROM forums").fetchone()[0] == 0


def test_one_forum_with_its_sub_forums(tmp_path, replay):
    db = tmp_path / "forum.db"
    result = run_cli(*fast("crawl", "http://bbs.example.test/forum.php?mod=forumdisplay&fid=40", "--db", str(db),
                           "--no-profiles"), proxy=replay.url)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    assert sorted(r[0] for r in conn.execute("SELECT tid FROM threads")) == [23, 24, 25, 26]
    assert conn.execute("SELECT parent_fid FROM forums WHERE fid = 41").fetchone() == (40,)


def test_unreachable_site_fails_with_nonzero_exit(tmp_path):
    db = tmp_path / "none.db"
    # Port 9 on loopback (discard) is closed: every request fails.
    result = run_cli(*fast("crawl", "http://127.0.0.1:9/forum.php", "--db", str(db), "-s", "RETRY_TIMES=0"))
    assert result.returncode == 1
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM crawls").fetchone() == ("failed",)
    assert conn.execute("SELECT count(*) FROM errors WHERE kind = 'fetch'").fetchone()[0] >= 1


def test_special_pages_are_recorded_not_parsed_as_content(tmp_path, replay):
    db = tmp_path / "special.db"
    result = run_cli(*fast("crawl", "http://bbs.example.test/forum.php?mod=viewthread&tid=27", "--db", str(db)),
                     proxy=replay.url)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT tid, status FROM threads").fetchall() == [(27, "login_required")]
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 0
    assert conn.execute("SELECT kind FROM errors").fetchall() == [("special",)]
    # Nothing readable was archived, so the crawl did not succeed.
    assert result.returncode == 1


def test_demo_archives_the_generated_forum(tmp_path):
    from testbed.demo_site import build_demo_site

    db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    truth = json.loads((build_demo_site(tmp_path / "site") / "expected.json").read_text(encoding="utf-8"))
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == len(truth["posts"])
    assert sorted(r[0] for r in conn.execute("SELECT pid FROM posts")) == sorted(p["pid"] for p in truth["posts"])
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == len(truth["users"])
    assert conn.execute("SELECT status FROM crawls").fetchone() == ("finished",)
