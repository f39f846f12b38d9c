"""What changed between crawls: the crawl summary, `dzarchive changes`, the views, export --changes, and the rule for
"gone" (a post is gone only when a page read in full no longer shows it).

Captures A, then A again (unchanged), then state 2 (incremental), then state 2 with --full, through the replay server.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

import research
from archive import Archive
from archive.changes import mark_gone, page_shows_posts_in_full
from pipelines.normalise import normalise_page
from scraper.parsers import parse_page
from testbed.replay import Capture, ReplayServer

from .conftest import SITE_A, SITE_A2, captured_pages, requires_fixtures
from .test_e2e import fast, run_cli

pytestmark = requires_fixtures
START = "http://bbs.example.test/forum.php"


def crawl(server, db, *extra, code: int = 0):
    result = run_cli(*fast("crawl", START, "--db", str(db), *extra), proxy=server.url)
    assert result.returncode == code, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    db = tmp_path_factory.mktemp("changes") / "archive.db"
    with ReplayServer(SITE_A) as server:
        first = crawl(server, db)
        unchanged = crawl(server, db)
        server.set_capture(SITE_A2)
        second = crawl(server, db, "-v")
        full = crawl(server, db, "--full", "-v")
    return {"db": db, "first": first, "unchanged": unchanged, "second": second, "full": full}


def cli_changes(db, *args):
    result = run_cli("changes", "--db", str(db), *args)
    assert result.returncode == 0, result.stderr
    return result


def json_changes(db, *args):
    return [json.loads(line) for line in cli_changes(db, "--json", *args).stdout.splitlines()]


def test_summary_of_a_first_and_an_unchanged_crawl(states):
    assert "first crawl of this archive" in states["first"]
    assert "changes: none" in states["unchanged"]


def test_summary_counts_and_lists_the_changes_of_the_state2_crawl(states):
    out = states["second"]
    assert ("changes: new threads 1, new posts 4, edited posts 0, posts gone 1 (deleted 1), thread states 0, "
            "users' figures 3, new ratings 0, new comments 0, votes moved 0, counts moved 0") in out
    assert "new threads: tid 28 (fid 2)" in out
    assert "new posts: pid 137 (tid 1 floor 13); pid 138 (tid 1 floor 14); pid 139 (tid 28 floor 1)" in out
    assert "posts gone: pid 80 (tid 4 floor 2, deleted; last seen by crawl 1;" in out
    assert "uid 2 西秦小编 (posts 93000 -> 93002, replies 42000 -> 42002, credits 392051 -> 392061, 铜板 215115 -> 215119)" in out
    # The --full crawl finds the edit; the figures the profiles now show were already reported (crawl 3).
    assert "edited posts 1" in states["full"] and "edited posts: pid 15 (tid 2 floor 3)" in states["full"]
    assert "users' figures 0" in states["full"]


def test_deleted_reply_is_gone_with_the_last_crawl_that_saw_it_and_the_page(states):
    gone = json_changes(states["db"], "--kind", "gone")
    assert [(c["pid"], c["tid"], c["author"], c["before"]) for c in gone] == [(80, 4, "老盐工", "同问")]
    # Crawl 1 saw it; crawl 2 (unchanged site) fetched only the index; crawl 3 read its page without it.
    assert gone[0]["last_crawl"] == 1 and gone[0]["crawl_id"] == 3
    # The page as the site linked it (list page 2 links its threads with extra=page%3D2).
    assert gone[0]["url"] == "http://bbs.example.test/forum.php?mod=viewthread&tid=4&extra=page%3D2"
    assert gone[0]["reason"] == "the last page (page 1) shows floors 1-1 without floor 2"


def test_new_thread_and_new_replies_are_new(states):
    new = json_changes(states["db"], "--kind", "new")
    assert [(c["item"], c["tid"], c["pid"], c["crawl_id"]) for c in new] == [
        ("post", 1, 137, 3), ("post", 1, 138, 3), ("thread", 28, None, 3), ("post", 28, 139, 3), ("post", 28, 140, 3)]
    assert new[2]["author"] == "新来的小王" and new[3]["after"] == "大家好，刚注册，请多关照！"
    # --forum: tid 1 and tid 28 are in forum 2; nothing new elsewhere.
    assert json_changes(states["db"], "--kind", "new", "--forum", "2") == new
    assert json_changes(states["db"], "--kind", "new", "--forum", "3") == []


def test_edited_post_shows_old_and_new_text_and_a_compact_diff(states):
    edited = json_changes(states["db"], "--kind", "edited")
    assert [(c["pid"], c["crawl_id"], c["before"], c["after"]) for c in edited] == [
        (15, 4, "价格涨了不少啊", "水煮牛肉和冷吃兔都推荐，价格也实在。")]
    table = cli_changes(states["db"], "--kind", "edited").stdout
    assert "{+水煮牛肉和冷吃兔都推荐，+}价格[-涨了不少啊-]{+也实在。+}" in table
    assert research.compact_diff("价格涨了不少啊", "价格也实在") == "价格[-涨了不少啊-]{+也实在+}"


def test_users_changed_figures_are_listed_once(states):
    figures = json_changes(states["db"], "--kind", "figures")
    assert [(c["uid"], c["crawl_id"]) for c in figures] == [(2, 3), (3, 3), (13, 3)]
    assert json.loads(figures[0]["before"]) == {"posts": 93000, "replies": 42000, "credits": 392051, "铜板": 215115}
    assert json.loads(figures[0]["after"]) == {"posts": 93002, "replies": 42002, "credits": 392061, "铜板": 215119}


def test_filters_by_crawl_and_since_and_csv(states):
    db = states["db"]
    assert json_changes(db, "--crawl", "2") == []
    assert {c["kind"] for c in json_changes(db, "--crawl", "4")} == {"edited"}
    assert json_changes(db, "--since", "2999-01-01") == []
    assert len(json_changes(db, "--since", "2000")) == len(json_changes(db)) == 10
    lines = cli_changes(db, "--csv", "--kind", "gone").stdout.splitlines()
    assert lines[0].split(",") == list(research.CHANGE_COLUMNS) and ",80," in lines[1]


def test_bad_input_is_one_line_and_non_zero(states, tmp_path):
    for args, message in ((("--kind", "bogus"), "'bogus' is not one of"), (("--since", "soon"), "not a date"),
                          (("--db", str(tmp_path / "none.db")), "no archive at")):
        result = run_cli("changes", "--db", str(states["db"]), *args)
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr


def test_views_hold_the_same_changes(states):
    conn = sqlite3.connect(states["db"])
    assert sorted(conn.execute("SELECT kind, pid, crawl_id, last_crawl FROM post_changes").fetchall()) == [
        ("edited", 15, 4, None), ("gone", 80, 3, 1),
        ("new", 137, 3, None), ("new", 138, 3, None), ("new", 139, 3, None), ("new", 140, 3, None)]
    assert conn.execute("SELECT kind, tid, field, before, after FROM thread_state_changes").fetchall() == [
        ("new", 28, "status", None, "ok")]
    metadata = research.datasette_metadata("archive")["databases"]["archive"]["tables"]
    assert {"post_changes", "thread_state_changes", "user_figure_changes"} <= set(metadata)


def test_export_changes_carries_each_posts_history(states, tmp_path):
    out = tmp_path / "t.jsonl"
    result = run_cli("export", "--db", str(states["db"]), "--changes", "--tid", "4", "--tid", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    posts = {p["pid"]: p for line in out.read_text(encoding="utf-8").splitlines()
             for p in json.loads(line).get("posts", ())}  # (the records before the threads hold no posts)
    assert [(c["kind"], c["crawl_id"], c["last_crawl"], c["url"]) for c in posts[80]["changes"]] == [
        ("gone", 3, 1, "http://bbs.example.test/forum.php?mod=viewthread&tid=4&extra=page%3D2")]
    assert [(c["kind"], c["text_before"]) for c in posts[15]["changes"]] == [("edited", "价格涨了不少啊")]
    assert posts[79]["changes"] == []
    plain = run_cli("export", "--db", str(states["db"]), "--tid", "4").stdout
    assert '"changes"' not in plain


# -- the rule for "gone" -----------------------------------------------------------------------------
def _record(url: str, body: bytes, **kwargs):
    return normalise_page(parse_page(url, body, date_header="Tue, 01 Dec 2026 10:00:00 GMT", **kwargs))


@pytest.fixture()
def thread4(tmp_path):
    """An archive holding tid 4 as capture A shows it (opening post and its one reply, pid 80)."""
    page = next(p for p in captured_pages(SITE_A) if p.url.endswith("mod=viewthread&tid=4"))
    later = next(p for p in captured_pages(SITE_A2) if p.url.endswith("mod=viewthread&tid=4"))
    archive = Archive(tmp_path / "a.db")
    crawl_id = archive.start_crawl(START)
    archive.write(_record(page.url, page.body), crawl_id)
    archive.finish_crawl(crawl_id, "finished", pages=1, items=1)
    return archive, page, later


def _status(archive, pid=80):
    return archive.db.execute("SELECT status FROM posts WHERE pid = ?", [pid]).fetchone()[0]


def test_a_page_read_in_full_without_the_reply_marks_it_gone(thread4):
    archive, _, later = thread4
    record = _record(later.url, later.body)
    assert page_shows_posts_in_full(record)
    archive.write(record, archive.start_crawl(START))
    assert _status(archive) == "deleted"
    assert archive.db.execute("SELECT pid, crawl_id, url FROM post_absences").fetchall() == [(80, 2, later.url)]


@pytest.mark.parametrize("spoil", ["http_500", "unparsed", "soft_error_page", "antitheft"])
def test_a_page_not_read_in_full_marks_nothing_gone(thread4, spoil):
    archive, _, later = thread4
    if spoil == "http_500":
        record = _record(later.url, later.body, http_status=500)
    elif spoil == "unparsed":
        record = _record(later.url, later.body)
        record.errors.append(("unparsed", "a block the parsers could not read"))
    elif spoil == "soft_error_page":  # a 200 page that is no Discuz thread page (a CDN or proxy error page)
        record = _record(later.url, "<html><body><h1>502 Bad Gateway</h1></body></html>".encode())
    else:
        record = _record(later.url, "<html><body><div id='messagetext'><p>请开启浏览器 Cookie</p></div>"
                                    "<script>var 防盗链</script></body></html>".encode())
    assert not page_shows_posts_in_full(record)
    archive.write(record, archive.start_crawl(START))
    assert _status(archive) == "ok" and _status(archive, 79) == "ok"
    assert archive.db.execute("SELECT count(*) FROM post_absences").fetchone()[0] == 0


def test_thread_page_states_hide_or_delete_its_posts(thread4):
    archive, _, later = thread4
    record = _record(later.url, later.body)
    record.states = {"threads": [{"tid": 4, "status": "login_required"}]}
    record.thread_view = None
    assert mark_gone(archive.db.conn, record, 9) == 2
    assert _status(archive, 79) == _status(archive, 80) == "hidden"
    reasons = archive.db.execute("SELECT DISTINCT reason, crawl_id FROM post_absences").fetchall()
    assert reasons == [("thread page: login_required", 9)]


def test_a_failed_fetch_marks_nothing_gone(tmp_path):
    db = tmp_path / "archive.db"
    later = Capture.load(SITE_A2)
    # State 2 with the page of tid 4 (whose reply was deleted) failing: a 503, retries exhausted.
    failing = Capture(later.folder, [replace(e, status=503) if e.url.endswith("mod=viewthread&tid=4") else e
                                     for e in later.entries])
    with ReplayServer(SITE_A) as server:
        crawl(server, db)
        server.set_capture(failing)
        out = crawl(server, db, "-s", "RETRY_TIMES=0", code=5)  # finished with errors
    conn = sqlite3.connect(db)
    # It was asked for (in the spelling list page 2 links it by), and failed.
    assert conn.execute("SELECT url FROM errors WHERE url LIKE '%tid=4&extra=%'").fetchall()
    assert conn.execute("SELECT status FROM posts WHERE pid = 80").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM post_absences").fetchone() == (0,)
    assert "posts gone 0" in out and "new posts 4" in out
