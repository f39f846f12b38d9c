"""One archive, one site, through export and import (issue 21): an export carries its site, its crawls and the history
they recorded; `import-jsonl` writes the site, refuses another site's lines (exit 4, as a crawl of another site is
refused) and a file of several sites, all or nothing; `changes` on an imported copy equals the original's; a crawl of
another forum into the copy is refused. And `export --author/--uid`.

Archives: capture A crawled, then A-state2 crawled incrementally and with --full (a new thread, new posts, a post
gone, an edit, users' figures moved), and capture F (another site), through the replay server.
"""
from __future__ import annotations

import gzip
import json
import shutil
import sqlite3

import pytest

import research
import schemas
from archive.state import ArchiveState
from testbed.replay import ReplayServer

from .conftest import FIXTURES, SITE_A, SITE_A2, requires_fixtures
from .test_e2e import fast, run_cli

pytestmark = requires_fixtures

START_A = "http://bbs.example.test/forum.php"
SITE_F = FIXTURES / "discuz-x35-utf8-f"
START_F = "http://bbs.sample.test/forum.php"
# Tables whose rows make up an archive's content (search indexes and page bodies aside), and their row-id columns.
CONTENT_TABLES = ("site", "crawls") + research.EXPORTED_TABLES + ("post_absences", "thread_changes")


def crawl(server, db, url, *extra, code: int = 0):
    result = run_cli(*fast("crawl", url, "--db", str(db), *extra), proxy=server.url)
    assert result.returncode == code, result.stderr
    return result


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """``a``: A then A-state2 (incremental, then --full); ``f``: capture F; ``a_once``: A crawled once."""
    folder = tmp_path_factory.mktemp("sites")
    a, a_once, f = folder / "a.db", folder / "a_once.db", folder / "f.db"
    with ReplayServer(SITE_A) as server:
        crawl(server, a, START_A)
        crawl(server, a_once, START_A)
        server.set_capture(SITE_A2)
        crawl(server, a, START_A)
        crawl(server, a, START_A, "--full")
    with ReplayServer(SITE_F) as server:
        crawl(server, f, START_F)
    for path in (a, f):
        done = run_cli("export", "--db", str(path), "-o", str(path.with_suffix(".jsonl")))
        assert done.returncode == 0, done.stderr
    return {"a": a, "f": f, "a_once": a_once, "a_jsonl": a.with_suffix(".jsonl"), "f_jsonl": f.with_suffix(".jsonl")}


def changes_json(db) -> list[dict]:
    result = run_cli("changes", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def contents(db) -> dict[str, list]:
    """Every content table's rows, sorted (row ids included: nothing may move)."""
    conn = sqlite3.connect(db)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in CONTENT_TABLES}
    finally:
        conn.close()


def records(path) -> list[dict]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.decode("utf-8").split("\n")[:-1]]


def import_cli(source, db):
    return run_cli("import-jsonl", str(source), "--db", str(db))


def one_line(result, code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# == what an export starts with =====================================================================
def test_an_export_starts_with_its_site_its_crawls_and_the_history(archives):
    lines = records(archives["a_jsonl"])
    conn = sqlite3.connect(archives["a"])
    assert lines[0] == {"export": {"format": "dzarchive", "version": 2, "site": dict(zip(
        ("host", "url", "first_seen"), conn.execute("SELECT host, url, first_seen FROM site").fetchone()))}}
    assert lines[0]["export"]["site"]["host"] == "bbs.example.test"
    crawls = [line["crawl"] for line in lines if "crawl" in line]
    assert [(c["id"], c["status"], c["start_url"]) for c in crawls] == [
        (i, "finished", START_A) for i in (1, 2, 3)]
    assert crawls[0]["started_at"] == conn.execute("SELECT started_at FROM crawls WHERE id = 1").fetchone()[0]
    users = {line["user"]["uid"]: line["user"] for line in lines if "user" in line and "pid" not in line}
    # every figure ever seen, per user, oldest first, with the crawl that saw it
    assert {uid: [(f["seen_at"], f["source"], f["crawl_id"]) for f in user["figures"]] for uid, user in users.items()} \
        == {uid: [tuple(r) for r in conn.execute("SELECT seen_at, source, crawl_id FROM user_stats WHERE uid = ?"
                                                 " ORDER BY id", [uid])]
            for (uid,) in conn.execute("SELECT DISTINCT uid FROM user_stats")}
    assert [line["post_absence"]["pid"] for line in lines if "post_absence" in line] == [80]
    # the records come first, then the threads
    kinds = [next(iter(line)) for line in lines]
    assert kinds.index("tid") == len(kinds) - kinds.count("tid") and kinds.count("tid") == 27


def test_every_line_of_an_export_validates_against_the_schema(archives):
    import jsonschema

    schema = json.loads(research.EXPORT_SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema == research.export_schema()  # the file is what the code generates
    validator = jsonschema.Draft202012Validator(schema)
    for line in records(archives["a_jsonl"]):
        assert [e.message for e in validator.iter_errors(line)] == [], str(line)[:200]
    # a record with a key it should not have, or a header of another format, is rejected
    assert not validator.is_valid({"crawl": {"id": 1}, "extra": 1})
    assert not validator.is_valid({"export": {"format": "other", "version": 2, "site": None}})


# == the imported copy ==============================================================================
def test_changes_of_an_imported_copy_equal_the_originals(archives, tmp_path):
    copy = tmp_path / "copy.db"
    done = import_cli(archives["a_jsonl"], copy)
    assert done.returncode == 0, done.stderr
    original = changes_json(archives["a"])
    # the history is there to compare: new posts and a thread, a post gone, an edit, users' figures
    assert {c["kind"] for c in original} == {"new", "gone", "edited", "figures"}
    assert changes_json(copy) == original
    table = run_cli("changes", "--db", str(copy)).stdout
    assert table == run_cli("changes", "--db", str(archives["a"])).stdout
    # and its export is the same bytes, records included
    again = tmp_path / "again.jsonl"
    assert run_cli("export", "--db", str(copy), "-o", str(again)).returncode == 0
    assert again.read_bytes() == archives["a_jsonl"].read_bytes()


def test_the_copy_holds_the_site_and_refuses_a_crawl_of_another_forum(archives, tmp_path):
    copy = tmp_path / "copy.db"
    assert import_cli(archives["a_jsonl"], copy).returncode == 0
    assert sqlite3.connect(copy).execute("SELECT host, url, first_seen FROM site").fetchall() == \
        sqlite3.connect(archives["a"]).execute("SELECT host, url, first_seen FROM site").fetchall()
    before = contents(copy)
    with ReplayServer(SITE_F) as server:
        refused = crawl(server, copy, START_F, code=4)
    line = one_line(refused, 4)
    assert "holds the site bbs.example.test, not bbs.sample.test" in line and "one archive holds one site" in line
    assert contents(copy) == before


def test_importing_the_same_file_twice_adds_nothing(archives, tmp_path):
    copy = tmp_path / "copy.db"
    first = import_cli(archives["a_jsonl"], copy)
    assert first.returncode == 0 and "139 posts" in first.stderr and "3 crawls" in first.stderr
    before = contents(copy)
    second = import_cli(archives["a_jsonl"], copy)
    assert second.returncode == 0, second.stderr
    assert second.stderr.strip() == f"imported into {copy}: nothing new (it held every row already)"
    assert contents(copy) == before
    assert changes_json(copy) == changes_json(archives["a"])
    assert not copy.with_name("copy.db.lock").exists()  # the import's lock is gone with it


def test_an_import_waits_for_no_crawl_it_would_merge_into(archives, tmp_path):
    """An import writes as a crawl does: while a crawl holds the archive, it is refused (exit 3), nothing written."""
    from archive import ArchiveLock

    copy = tmp_path / "copy.db"
    assert import_cli(archives["a_jsonl"], copy).returncode == 0
    before = contents(copy)
    with ArchiveLock(copy):
        refused = import_cli(archives["f_jsonl"], copy)
    assert refused.returncode == 3, refused.stderr
    assert refused.stderr.startswith(f"dzarchive: another crawl is writing to {copy}") and len(refused.stderr.splitlines()) == 1
    assert contents(copy) == before



# == another site, several sites ===================================================================
def test_an_export_of_another_site_is_refused_and_nothing_written(archives, tmp_path):
    copy = tmp_path / "a.db"
    shutil.copy(archives["a"], copy)
    before = contents(copy)
    line = one_line(import_cli(archives["f_jsonl"], copy), 4)
    assert line == (f"dzarchive: {copy} holds the site bbs.example.test, not bbs.sample.test: one archive holds one "
                    "site (import it into its own, e.g. --db data/bbs.sample.test.db); nothing was imported")
    assert contents(copy) == before


@pytest.mark.parametrize("how", ["concatenated", "several archives", "old lines of another site"])
def test_a_file_of_several_sites_is_refused_whole(archives, tmp_path, how):
    mixed = tmp_path / "mixed.jsonl"
    if how == "concatenated":
        mixed.write_bytes(archives["a_jsonl"].read_bytes() + archives["f_jsonl"].read_bytes())
    elif how == "several archives":
        done = run_cli("export", "--db", str(archives["a"]), "--db", str(archives["f"]), "-o", str(mixed))
        assert done.returncode == 0, done.stderr
    else:  # thread lines without records (as exports made before them), of A and then of F
        lines = [line for path in ("a_jsonl", "f_jsonl") for line in archives[path].read_bytes().splitlines(True)
                 if line.startswith(b'{"tid"')]
        mixed.write_bytes(b"".join(lines))
    target = tmp_path / "new.db"
    line = one_line(import_cli(mixed, target), 4)
    assert "several sites (bbs.example.test, bbs.sample.test)" in line and "nothing was imported" in line
    assert not target.exists()  # the archive it would have created is not left behind, empty
    # into an archive of one of them: refused too, the archive unchanged
    copy = tmp_path / "a.db"
    shutil.copy(archives["a"], copy)
    before = contents(copy)
    assert one_line(import_cli(mixed, copy), 4)
    assert contents(copy) == before


def test_an_export_without_records_goes_only_into_the_site_of_its_urls(archives, tmp_path):
    """A file without the records (export --no-records, or an export made before them): its site is its URLs' host."""
    bare = tmp_path / "f.jsonl"
    done = run_cli("export", "--db", str(archives["f"]), "--no-records", "-o", str(bare))
    assert done.returncode == 0, done.stderr
    assert all("posts" in line for line in records(bare))
    copy = tmp_path / "a.db"
    shutil.copy(archives["a"], copy)
    assert "holds the site bbs.example.test, not bbs.sample.test" in one_line(import_cli(bare, copy), 4)
    fresh = tmp_path / "f_copy.db"
    assert import_cli(bare, fresh).returncode == 0
    # the site is recorded (its host; the start URL and time no record gave are unknown)...
    assert sqlite3.connect(fresh).execute("SELECT host, url, first_seen FROM site").fetchall() == [
        ("bbs.sample.test", None, None)]
    assert ArchiveState(fresh).site_host() == "bbs.sample.test"
    # ... so a crawl of another site into it is refused
    with ReplayServer(SITE_A) as server:
        assert "holds the site bbs.sample.test, not bbs.example.test" in one_line(
            crawl(server, fresh, START_A, code=4), 4)
    # lines that name no site at all cannot be checked: refused
    anonymous = tmp_path / "anonymous.jsonl"
    anonymous.write_text('{"tid": 1, "posts": [{"pid": 1, "tid": 1}]}\n', encoding="utf-8")
    line = one_line(import_cli(anonymous, copy), 1)
    assert "no export record and no thread or post URL says which site" in line


def test_a_newer_format_and_a_bad_line_import_nothing(archives, tmp_path):
    lines = archives["a_jsonl"].read_text(encoding="utf-8").splitlines(True)
    newer = tmp_path / "newer.jsonl"
    newer.write_text(lines[0].replace('"version":2', '"version":3') + "".join(lines[1:]), encoding="utf-8")
    target = tmp_path / "b.db"
    assert "made by a newer dzarchive" in one_line(import_cli(newer, target), 1)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(lines[:-1]) + '{"hello": "world"}\n', encoding="utf-8")
    assert one_line(import_cli(broken, target), 1).startswith(f"Error: {broken}: line {len(lines)}:")
    assert not target.exists()
    copy = tmp_path / "a.db"
    shutil.copy(archives["a_once"], copy)
    before = contents(copy)
    one_line(import_cli(broken, copy), 1)
    assert contents(copy) == before  # all or nothing: the lines before the bad one are not kept either


def test_merging_into_an_archive_with_crawls_of_its_own_renumbers_the_files(archives, tmp_path):
    """A_once crawled the site once (its crawl 1): the file's crawls 1-3 are other runs, so they become 2-4 and
    every crawl id the file's lines carry follows."""
    copy = tmp_path / "a_once.db"
    shutil.copy(archives["a_once"], copy)
    done = import_cli(archives["a_jsonl"], copy)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(copy)
    original = sqlite3.connect(archives["a"])
    assert conn.execute("SELECT id, started_at FROM crawls ORDER BY id").fetchall() == [
        (1, sqlite3.connect(archives["a_once"]).execute("SELECT started_at FROM crawls").fetchone()[0])] + [
        (i + 1, started) for i, started in original.execute("SELECT id, started_at FROM crawls ORDER BY id")]
    assert conn.execute("SELECT pid, crawl_id, last_crawl FROM post_absences").fetchall() == [
        (pid, crawl + 1, last + 1) for pid, crawl, last in original.execute(
            "SELECT pid, crawl_id, last_crawl FROM post_absences")]
    assert conn.execute("SELECT pid, crawl_id FROM post_revisions").fetchall() == [
        (pid, crawl + 1) for pid, crawl in original.execute("SELECT pid, crawl_id FROM post_revisions")]
    assert conn.execute("SELECT pid, first_crawl FROM posts WHERE pid > 136 ORDER BY pid").fetchall() == [
        (pid, crawl + 1) for pid, crawl in original.execute("SELECT pid, first_crawl FROM posts WHERE pid > 136"
                                                            " ORDER BY pid")]
    # every crawl id in the archive names one of its crawls
    ids = {i for (i,) in conn.execute("SELECT id FROM crawls")}
    for table, column in (("posts", "first_crawl"), ("posts", "last_crawl"), ("user_stats", "crawl_id"),
                          ("post_revisions", "crawl_id"), ("post_absences", "crawl_id")):
        assert {v for (v,) in conn.execute(f"SELECT DISTINCT [{column}] FROM [{table}]")} <= ids | {None}, table
    before = contents(copy)
    assert import_cli(archives["a_jsonl"], copy).returncode == 0
    assert contents(copy) == before  # the same crawls are found again: nothing added


# == filtered exports ===============================================================================
def test_a_filtered_export_carries_the_site_the_crawls_and_its_own_history(archives, tmp_path):
    out = tmp_path / "t4.jsonl"
    assert run_cli("export", "--db", str(archives["a"]), "--tid", "4", "-o", str(out)).returncode == 0
    lines = records(out)
    assert lines[0]["export"]["site"]["host"] == "bbs.example.test"
    assert [line["crawl"]["id"] for line in lines if "crawl" in line] == [1, 2, 3]
    assert [line["post_absence"]["pid"] for line in lines if "post_absence" in line] == [80]
    conn = sqlite3.connect(archives["a"])
    authors = {uid for (uid,) in conn.execute("SELECT author_uid FROM posts WHERE tid = 4 AND author_uid IN"
                                              " (SELECT uid FROM user_stats)")}
    assert {line["user"]["uid"] for line in lines if "user" in line} == authors
    copy = tmp_path / "t4.db"
    assert import_cli(out, copy).returncode == 0
    # the copy's changes are the original's of thread 4 and of its posters' figures
    assert changes_json(copy) == [c for c in changes_json(archives["a"])
                                  if c["tid"] == 4 or (c["kind"] == "figures" and c["uid"] in authors)]
    # a thread without a gone post carries no absence
    other = tmp_path / "t2.jsonl"
    assert run_cli("export", "--db", str(archives["a"]), "--tid", "2", "-o", str(other)).returncode == 0
    assert not [line for line in records(other) if "post_absence" in line]


# == --author / --uid ===============================================================================
def posts_of(lines: list[dict]) -> list[tuple[int, int, str]]:
    return [(p["tid"], p["pid"], p["author"]) for line in lines if "posts" in line for p in line["posts"]]


def test_export_by_author_or_uid_gives_their_threads_with_only_their_posts(archives, tmp_path):
    conn = sqlite3.connect(archives["a"])
    truth = conn.execute("SELECT tid, pid, author FROM posts WHERE author_uid = 3 ORDER BY tid, floor, pid").fetchall()
    assert len({tid for tid, _, _ in truth}) > 3 and {a for _, _, a in truth} == {"老盐工"}
    by_name, by_uid = tmp_path / "name.jsonl", tmp_path / "uid.jsonl"
    assert run_cli("export", "--db", str(archives["a"]), "--author", "老盐工", "-o", str(by_name)).returncode == 0
    assert run_cli("export", "--db", str(archives["a"]), "--uid", "3", "-o", str(by_uid)).returncode == 0
    assert posts_of(records(by_name)) == truth
    assert records(by_uid) == records(by_name)
    # a thread line keeps its own fields (the thread's author, replies...), only its posts are selected
    thread1 = next(line for line in records(by_name) if line.get("tid") == 1)
    assert thread1["author"] == conn.execute("SELECT author FROM threads WHERE tid = 1").fetchone()[0] != "老盐工"
    # --flat: one post per line; repeated and mixed: posts by any of them
    flat = run_cli("export", "--db", str(archives["a"]), "--flat", "--no-records", "--author", "老盐工", "--uid", "5")
    assert [(p["tid"], p["pid"]) for p in map(json.loads, flat.stdout.splitlines())] == conn.execute(
        "SELECT tid, pid FROM posts WHERE author = '老盐工' OR author_uid = 5 ORDER BY tid, floor, pid").fetchall()
    # with the other filters
    both = run_cli("export", "--db", str(archives["a"]), "--no-records", "--uid", "3", "--tid", "1", "--tid", "2")
    assert posts_of(map(json.loads, both.stdout.splitlines())) == [p for p in truth if p[0] in (1, 2)]
    # the user records are the poster's only
    assert {line["user"]["uid"] for line in records(by_uid) if "user" in line and "pid" not in line} == {3}


@pytest.mark.parametrize("args, says", [
    (["--uid", "abc"], "'--uid': 'abc' is not a valid integer"),
    (["--uid", "0"], "'--uid': 0 is not in the range x>=1"),
    (["--author", " "], "--author: an empty name"),
    (["--tid", "x"], "'--tid': 'x' is not a valid integer"),
])
def test_bad_author_and_uid_values_are_one_line_errors(archives, args, says):
    result = run_cli("export", "--db", str(archives["a"]), *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr and not result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and says in errors[0], result.stderr


def test_an_author_with_no_posts_selects_nothing(archives, tmp_path):
    out = tmp_path / "nobody.jsonl"
    line = one_line(run_cli("export", "--db", str(archives["a"]), "--author", "无此人", "-o", str(out)), 1)
    assert "nothing matched the selection" in line and not out.exists()


def test_exported_columns_now_carry_the_crawl_ids(archives):
    """Revisions, figures and user figures carry the crawl that saw them (the crawls come with the export)."""
    for table in ("post_revisions", "user_stats", "figure_history"):
        assert "crawl_id" in research.exported_columns(table)
        assert "id" not in research.exported_columns(table)
    assert schemas.columns("crawls")  # the crawl record is the crawls row, whole
