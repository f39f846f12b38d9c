"""`dzarchive search` as a researcher uses it (issue 21): options it does not know are errors, the filters
(--author, --uid, --tid, --forum, --since/--until) give exactly the posts the forum's database holds, a cut
result says how many matched, and Traditional and Simplified Chinese find each other.

The archives are crawls of capture G (a Discuz! X3.5 forum in Simplified Chinese) and G-TC (the same forum
converted to Traditional Chinese with OpenCC s2t) through the replay server; the truth is each capture's
expected.json (read from the forum's database) and the archived text read in Python, not through SQL search.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import research
from archive import Archive
from archive.fulltext import FTS_INDEXES, index_text

from .conftest import FIXTURES, expected, requires_fixtures
from .test_crawl_sites import crawl
from .test_research import cli, rows

pytestmark = requires_fixtures

SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
START = "http://bbs.zigong.test/forum.php"
# How an archive made before folding indexed its texts (dzarchive before issue 21): external-content trigram
# indexes of the texts as they are.
OLD_FTS_TABLE = ("CREATE VIRTUAL TABLE [{fts}] USING FTS5 ([{column}], tokenize='trigram', content=[{table}], "
                 "content_rowid=[{key}])")
OLD_FTS_INSERT = ("CREATE TRIGGER [{fts}_ai] AFTER INSERT ON [{table}] BEGIN\n  INSERT INTO [{fts}] (rowid, [{column}])"
                  " VALUES (new.[{key}], new.[{column}]);\nEND")


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    """Capture G and capture G-TC, each crawled into its own archive."""
    folder = tmp_path_factory.mktemp("search")
    built = {}
    for name, site in (("g", SITE_G), ("tc", SITE_G_TC)):
        result, _ = crawl(site, START, folder / f"{name}.db")
        assert result.returncode == 0, result.stderr
        built[name] = folder / f"{name}.db"
    return built


def run(*args: str):
    return CliRunner().invoke(cli(), ["search", *args])


def json_hits(db: Path, *args: str) -> list[dict]:
    done = run("--db", str(db), "--json", "--limit", "0", *args)  # options first: args may hold --
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.stdout.splitlines()]


def post_pids(hits: list[dict]) -> set[int]:
    return {h["pid"] for h in hits if h["match"] == "post"}


def archived_text(db: Path) -> dict[int, str]:
    return dict(rows(db, "SELECT pid, content_text FROM posts"))


def truth(db: Path, site: Path, word: str, keep=lambda post: True) -> set[int]:
    """pids of the posts expected.json lists that ``keep`` keeps and whose archived text holds ``word``."""
    text = archived_text(db)
    return {p["pid"] for p in expected(site)["posts"] if p["pid"] in text and word in (text[p["pid"]] or "")
            and keep(p)}


# == options ========================================================================================
@pytest.mark.parametrize("typo, meant", [("--limt", "--limit"), ("--sinse", "--since"), ("--autor", "--author"),
                                         ("--no-flod", "--no-fold")])
def test_a_mistyped_option_is_an_error_that_suggests_the_option(archives, typo, meant):
    done = run("推荐", typo, "3", "--db", str(archives["g"]), "--json")
    assert done.exit_code == 2, done.output
    assert f"No such option '{typo}'" in done.stderr and meant in done.stderr and done.stdout == ""


@pytest.mark.parametrize("args, problem", [
    (["--limit", "-1"], "'--limit': -1 is not in the range x>=0"),
    (["--since", "2025-13"], "no month 13"), (["--until", "2025-02-30"], "no day 30"),
    (["--uid", "abc"], "'abc' is not a valid integer"), (["--tid", "0"], "'--tid': 0 is not in the range x>=1"),
    (["--forum", "x"], "'x' is not a valid integer")])
def test_a_bad_option_value_is_one_line_of_error(archives, args, problem):
    done = run("盐都", *args, "--db", str(archives["g"]))
    assert done.exit_code == 2 and done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and problem in errors[0], done.stderr
    assert "Traceback" not in done.stderr


def test_query_words_that_look_like_options_go_after_two_dashes(archives):
    db = archives["g"]
    everything = post_pids(json_hits(db, "盐都"))
    without = post_pids(json_hits(db, "--", "盐都", "-论坛"))
    text = archived_text(db)
    assert without == {pid for pid in everything if "论坛" not in text[pid]} and 0 < len(without) < len(everything)
    assert post_pids(json_hits(db, "盐都 -论坛")) == without  # in quotes with the rest of the query
    refused = run("盐都", "-论坛", "--db", str(db))
    assert refused.exit_code == 2 and "No such option: -论坛" in refused.stderr and "--" in refused.stderr
    assert "after --" in run("--help").stdout


# == filters ========================================================================================
def test_author_gives_exactly_that_posters_posts(archives):
    db = archives["g"]
    hits = json_hits(db, "的", "--author", "退休教师老罗")
    assert post_pids(hits) == truth(db, SITE_G, "的", lambda p: p["author"] == "退休教师老罗") != set()
    assert {h["author"] for h in hits} == {"退休教师老罗"}  # title and comment hits are theirs too
    # several names: a post by any of them; a name is matched exactly as archived
    two = json_hits(db, "的", "--author", "退休教师老罗", "--author", "灯会摄影师")
    assert post_pids(two) == truth(db, SITE_G, "的", lambda p: p["author"] in ("退休教师老罗", "灯会摄影师"))
    assert json_hits(db, "的", "--author", "退休教师") == []


def test_uid_gives_exactly_that_users_posts_and_with_author_either(archives):
    db = archives["g"]
    uid = next(p["authorid"] for p in expected(SITE_G)["posts"] if p["author"] == "冷吃兔掌柜")
    by_uid = json_hits(db, "的", "--uid", str(uid))
    assert post_pids(by_uid) == truth(db, SITE_G, "的", lambda p: p["authorid"] == uid) != set()
    either = json_hits(db, "的", "--uid", str(uid), "--author", "退休教师老罗")
    assert post_pids(either) == truth(db, SITE_G, "的", lambda p: p["authorid"] == uid or p["author"] == "退休教师老罗")


def test_tid_and_forum_give_exactly_those_threads_posts(archives):
    db = archives["g"]
    assert post_pids(json_hits(db, "盐", "--tid", "129")) == truth(db, SITE_G, "盐", lambda p: p["tid"] == 129) != set()
    both = json_hits(db, "盐", "--tid", "129", "--tid", "134")
    assert post_pids(both) == truth(db, SITE_G, "盐", lambda p: p["tid"] in (129, 134))
    assert {h["tid"] for h in both} == {129, 134}
    in_forum = json_hits(db, "兔", "--forum", "12")
    assert post_pids(in_forum) == truth(db, SITE_G, "兔", lambda p: p["fid"] == 12) != set()
    assert {h["fid"] for h in in_forum} == {12}


def test_filters_combine_and_each_one_narrows(archives):
    db = archives["g"]
    posts = expected(SITE_G)["posts"]
    author = "自流井人"
    fid = 11
    since, until = "2025-01-01", "2026-06"
    keep = (lambda p: p["author"] == author and p["fid"] == fid and "2025-01-01" <= p["dateline"][:10] <= "2026-06-31")
    hits = json_hits(db, "的", "--author", author, "--forum", str(fid), "--since", since, "--until", until)
    assert post_pids(hits) == truth(db, SITE_G, "的", keep) != set()
    # each filter alone lets more through: the result is their AND
    for dropped in (["--forum", str(fid)], ["--since", since], ["--until", until]):
        args = ["--author", author, "--forum", str(fid), "--since", since, "--until", until]
        at = args.index(dropped[0])
        looser = post_pids(json_hits(db, "的", *(args[:at] + args[at + 2:])))
        assert looser >= post_pids(hits)
    assert post_pids(json_hits(db, "的", "--author", author)) > post_pids(hits)
    assert {p["pid"] for p in posts if p["author"] == author} >= post_pids(hits)


# == counting =======================================================================================
def test_a_cut_result_says_how_many_matched(archives):
    db = archives["g"]
    every = json_hits(db, "的")
    total = len(every)
    assert total > 20 and total == research.search_count(research.open_archive(db, readonly=True), "的")
    assert post_pids(every) == truth(db, SITE_G, "的")
    table = run("的", "--db", str(db))
    assert table.exit_code == 0 and len(table.stdout.splitlines()) == 2 + 20
    assert f"20 of {total} shown (--limit 0 for all)" in table.stderr.splitlines()
    # machine formats: stdout is the rows alone, the line is on stderr
    cut = run("的", "--db", str(db), "--json", "--limit", "5")
    assert [json.loads(line) for line in cut.stdout.splitlines()] == every[:5]
    assert cut.stderr.splitlines() == [f"5 of {total} shown (--limit 0 for all)"]
    whole = run("的", "--db", str(db), "--limit", "0")
    assert len(whole.stdout.splitlines()) == 2 + total and "shown" not in whole.stderr
    exact = run("的", "--db", str(db), "--limit", str(total), "--csv")
    assert len(exact.stdout.splitlines()) == 1 + total and "shown" not in exact.stderr
    filtered = json_hits(db, "的", "--author", "退休教师老罗")
    few = run("的", "--db", str(db), "--author", "退休教师老罗", "--limit", "3")
    assert f"3 of {len(filtered)} shown (--limit 0 for all)" in few.stderr


# == Traditional and Simplified =====================================================================
@pytest.mark.parametrize("simplified, traditional", [("盐都", "鹽都"), ("盐都论坛", "鹽都論壇"), ("记得", "記得")])
def test_each_script_finds_the_other(archives, simplified, traditional):
    g, tc = archives["g"], archives["tc"]
    want = truth(g, SITE_G, simplified)
    assert want and want == truth(tc, SITE_G_TC, traditional)  # the same posts, in each script
    assert post_pids(json_hits(g, traditional)) == want  # a Traditional query, Simplified text
    assert post_pids(json_hits(tc, simplified)) == want  # a Simplified query, Traditional text
    assert post_pids(json_hits(tc, traditional)) == want and post_pids(json_hits(g, simplified)) == want
    # --no-fold: only the script typed
    assert json_hits(g, traditional, "--no-fold") == [] and json_hits(tc, simplified, "--no-fold") == []
    assert post_pids(json_hits(tc, traditional, "--no-fold")) == want


def test_snippets_show_the_text_as_archived(archives):
    tc = archives["tc"]
    hits = json_hits(tc, "盐都")
    assert hits and all("«鹽都»" in h["snippet"] for h in hits if h["match"] == "post")
    assert all("盐都" not in h["snippet"] for h in hits)
    # the archive keeps the forum's own text: folding is in the index only
    assert all("盐" not in (text or "") for text in archived_text(tc).values())
    assert rows(tc, "SELECT count(*) FROM posts WHERE content_text LIKE '%鹽都%'")[0][0] == len(truth(tc, SITE_G_TC, "鹽都"))


def test_comments_and_titles_fold_too(archives):
    tc = archives["tc"]
    comment = next(c for c in expected(SITE_G_TC)["comments"] if c["comment"] == "做好了記得發圖")
    found = [h for h in json_hits(tc, "记得发图") if h["match"] == "comment"]
    assert [(h["pid"], h["author"]) for h in found] == [(comment["pid"], comment["author"])]
    assert found[0]["snippet"] == "做好了«記得發圖»"
    titles = {h["tid"] for h in json_hits(tc, "自贡井盐历史") if h["match"] in ("title", "post")}
    assert 134 in titles


# == archives made before folding ===================================================================
def make_old(path: Path) -> None:
    """Give an archive the search indexes dzarchive made before folding: the texts as they are, external content."""
    conn = sqlite3.connect(path)
    with conn:
        for fts, table, key, column in FTS_INDEXES:
            for name, kind in ((f"{fts}_ai", "TRIGGER"), (f"{fts}_ad", "TRIGGER"), (f"{fts}_au", "TRIGGER"),
                               (fts, "TABLE")):
                conn.execute(f"DROP {kind} IF EXISTS [{name}]")
            spec = {"fts": fts, "table": table, "key": key, "column": column}
            conn.execute(OLD_FTS_TABLE.format(**spec))
            conn.execute(OLD_FTS_INSERT.format(**spec))
            conn.execute(f"INSERT INTO [{fts}] ([{fts}]) VALUES ('rebuild')")
    conn.close()


def test_an_archive_indexed_before_folding_is_upgraded_on_its_first_search(archives, tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(archives["tc"], old)
    make_old(old)
    texts = rows(old, "SELECT pid, content_text FROM posts ORDER BY pid")
    assert rows(old, "SELECT rowid FROM posts_fts WHERE posts_fts MATCH '\"盐都论坛\"'") == []  # not folded
    want = truth(old, SITE_G_TC, "鹽都論壇")
    first = run("盐都论坛", "--db", str(old), "--json")
    assert first.exit_code == 0, first.output
    assert "rebuilding the search index" in first.stderr and "folding" in first.stderr
    assert post_pids([json.loads(line) for line in first.stdout.splitlines()]) == want != set()
    # once: the next search finds the index as it wants it and writes nothing
    second = run("盐都论坛", "--db", str(old), "--json")
    assert second.stdout == first.stdout and "index" not in second.stderr
    assert rows(old, "SELECT pid, content_text FROM posts ORDER BY pid") == texts  # the texts are untouched
    assert rows(old, "SELECT sql FROM sqlite_master WHERE name = 'posts_fts'") == [
        ("CREATE VIRTUAL TABLE [posts_fts] USING FTS5 ([content_text], tokenize='trigram', content='')",)]
    conn = sqlite3.connect(old)
    conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    # every text indexed once, folded beside itself
    assert conn.execute("SELECT count(*) FROM posts_fts_docsize").fetchone()[0] == len(texts)
    conn.close()


def test_ensure_search_on_a_folded_archive_changes_nothing(archives, tmp_path):
    path = tmp_path / "tc.db"
    shutil.copy(archives["tc"], path)
    archive = Archive(path)
    before = archive.db.conn.total_changes
    research.ensure_search(archive.db)
    assert archive.db.conn.total_changes == before and research.search_ready(archive.db)
    archive.close()


def test_opening_an_old_archive_for_a_crawl_upgrades_its_index(archives, tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(archives["tc"], path)
    make_old(path)
    archive = Archive(path)  # what a crawl does first
    assert research.search_ready(archive.db)
    # the triggers index what others write, folded: a new reply in Traditional is found in Simplified
    with archive.db.conn:
        archive.db.conn.execute("INSERT INTO posts (pid, tid, floor, content_text) VALUES (99001, 129, 999, '鹽都燈會真好看')")
    assert [h["pid"] for h in research.search(archive.db, "盐都灯会")] == [99001]
    with archive.db.conn:
        archive.db.conn.execute("UPDATE posts SET content_text = '改了' WHERE pid = 99001")
    assert research.search(archive.db, "盐都灯会") == []
    archive.db.conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
    archive.close()


def test_index_text_holds_the_text_and_its_folded_copy():
    assert index_text("讨论区") == "讨论区"
    assert index_text("討論區") == "討論區\x1f讨论区"
    assert index_text(None) is None and index_text("abc") == "abc"
