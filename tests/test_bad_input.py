"""Bad input to the commands: a clear one-line error, a non-zero exit, and nothing changed."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest

from testbed.replay import ReplayServer

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli


def one_line_error(result, code: int) -> str:
    """The command failed with ``code`` and said why in one line, without a traceback; returns that line."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("url, says", [
    ("", "no start URL"),
    ("http://[::1", "is not a URL (Invalid IPv6 URL)"),
    ("not a url", "is not a URL with a host name"),
    ("htp://bbs.example.test/forum.php", "the scheme must be http or https, not 'htp'"),
])
def test_a_bad_start_url_is_refused_before_anything_is_written(tmp_path, url, says):
    line = one_line_error(run_cli("crawl", url, "--db", str(tmp_path / "a.db")), 2)
    assert says in line
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_time_zone_is_refused(tmp_path):
    line = one_line_error(run_cli("crawl", "http://bbs.example.test/", "--tz", "Mars/Olympus",
                                  "--db", str(tmp_path / "a.db")), 2)
    assert line == ("Error: Invalid value for '--tz': 'Mars/Olympus' is not a UTC offset between -12:00 and +14:00"
                    " (e.g. +08:00) or a time zone name (e.g. Asia/Shanghai)")
    assert list(tmp_path.iterdir()) == []


def test_a_cookies_file_not_in_netscape_format_is_refused(tmp_path):
    (tmp_path / "cookies.json").write_text('[{"name": "auth", "value": "x"}]', encoding="utf-8")
    line = one_line_error(run_cli("crawl", "http://bbs.example.test/", "--cookies", str(tmp_path / "cookies.json"),
                                  "--db", str(tmp_path / "a.db")), 2)
    assert "is not a cookies.txt in Netscape format" in line and "Crawler.stats" not in line
    assert not (tmp_path / "a.db").exists()


def test_another_programs_sqlite_file_is_refused_and_left_untouched(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO posts (body) VALUES ('mine')")
    conn.commit()
    conn.close()
    before = digest(other)
    line = one_line_error(run_cli("crawl", "http://bbs.example.test/", "--db", str(other)), 2)
    assert "another program's SQLite database (tables posts), not a dzarchive archive" in line
    assert digest(other) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]
    for command in (["stats"], ["search", "龙井"], ["export"]):
        assert "not a dzarchive archive" in one_line_error(run_cli(*command, "--db", str(other)), 1)
    assert digest(other) == before


@pytest.mark.parametrize("content", [b"not a database at all\n" * 100, b"SQLite format 3\x00" + b"\xff" * 8000])
@pytest.mark.parametrize("command", [["stats"], ["search", "龙井"], ["export"], ["query", "SELECT 1"]])
def test_garbage_and_damaged_files_give_one_line_errors(tmp_path, content, command):
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    line = one_line_error(run_cli(*command, "--db", str(bad)), 1)
    assert "not a dzarchive archive" in line or "damaged or not a SQLite database" in line
    assert bad.read_bytes() == content


@requires_fixtures
def test_an_archive_with_a_damaged_page_sqlite_can_open_around_is_refused_by_a_crawl(tmp_path):
    from archive import Archive

    from .test_research import write_capture

    db = tmp_path / "a.db"
    archive = Archive(db)
    write_capture(archive, SITE_A)
    archive.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # the WAL folded in: the file is the whole archive
    conn.close()
    data = bytearray(db.read_bytes())
    for page in (10, 20, 30):  # b-tree pages past the schema: SQLite still opens the file and lists its tables
        data[page * 4096 + 8:page * 4096 + 208] = b"\xff" * 200
    db.write_bytes(bytes(data))
    line = one_line_error(run_cli("crawl", "http://bbs.example.test/", "--db", str(db)), 2)
    assert f"{db} is damaged (On tree page" in line and line.endswith("nothing was changed")
    assert db.read_bytes() == bytes(data)


def test_a_read_only_archive_is_refused_instead_of_a_false_finished(tmp_path):
    from archive import Archive

    db = tmp_path / "a.db"
    Archive(db).close()
    db.chmod(0o444)
    line = one_line_error(run_cli("crawl", "http://bbs.example.test/", "--db", str(db)), 2)
    assert line == f"dzarchive: {db} is read-only: a crawl could write nothing into it"


def test_export_output_paths_that_cannot_be_written_are_one_line_errors(tmp_path):
    from archive import Archive

    db = tmp_path / "a.db"
    Archive(db).close()
    line = one_line_error(run_cli("export", "--db", str(db), "-o", str(tmp_path)), 1)
    assert "is a folder: give a file name" in line
    line = one_line_error(run_cli("export", "--db", str(db), "-o", str(tmp_path / "missing" / "x.jsonl")), 1)
    assert line.endswith(f"the folder {tmp_path / 'missing'} does not exist")


def test_an_export_that_selects_nothing_leaves_the_previous_file_alone(tmp_path):
    from archive import Archive

    db = tmp_path / "a.db"
    Archive(db).close()
    previous = tmp_path / "threads.jsonl"
    previous.write_text('{"tid": 1}\n', encoding="utf-8")
    line = one_line_error(run_cli("export", "--db", str(db), "-o", str(previous), "--tid", "999"), 1)
    assert "nothing matched the selection" in line
    assert previous.read_text(encoding="utf-8") == '{"tid": 1}\n'
    assert not list(tmp_path.glob(".threads.jsonl.*"))  # no temporary file left behind


def test_ctrl_c_during_an_export_keeps_the_previous_file_and_exits_130(tmp_path, capsys):
    from dzarchive.output import atomic_output

    previous = tmp_path / "threads.jsonl"
    previous.write_bytes(b"the last export\n")
    with pytest.raises(SystemExit) as stopped:
        with atomic_output(previous) as out:
            out.write(b"half of a new one")
            raise KeyboardInterrupt
    assert stopped.value.code == 130
    assert previous.read_bytes() == b"the last export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["threads.jsonl"]
    assert capsys.readouterr().err == f"interrupted: {previous} left as it was\n"
    with atomic_output(previous) as out:
        out.write(b"a whole new one\n")
    assert previous.read_bytes() == b"a whole new one\n"


def test_an_unreachable_host_fails_without_a_traceback(tmp_path):
    result = run_cli("crawl", "http://127.0.0.1:9/forum.php", "--db", str(tmp_path / "a.db"), "-s", "RETRY_TIMES=0")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Connection was refused" not in result.stderr  # no Scrapy ERROR lines
    assert result.stdout.splitlines()[0] == "crawl 1 failed: connection refused: 127.0.0.1:9"


@requires_fixtures
def test_not_obeying_robots_txt_needs_an_explicit_flag_and_warns(tmp_path):
    line = one_line_error(run_cli("crawl", "http://bbs.example.test/forum.php", "--db", str(tmp_path / "a.db"),
                                  "-s", "ROBOTSTXT_OBEY=False"), 2)
    assert "needs --ignore-robots" in line
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", "http://bbs.example.test/forum.php", "--db", str(tmp_path / "a.db"),
                               "--ignore-robots"), proxy=server.url)
    assert result.returncode == 0, result.stderr
    assert "warning: --ignore-robots: the site's robots.txt is NOT obeyed" in result.stderr
    assert "/robots.txt" not in server.requests


def test_a_cookies_file_others_may_read_is_warned_about(tmp_path):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n.bbs.example.test\tTRUE\t/\tFALSE\t0\tauth\tx\n", encoding="utf-8")
    cookies.chmod(0o644)
    (tmp_path / "junk.db").write_bytes(b"junk")  # the crawl stops at the archive, checked after the cookies
    result = run_cli("crawl", "http://bbs.example.test/", "--cookies", str(cookies), "--db", str(tmp_path / "junk.db"))
    assert f"holds a login session and others may read it (mode 0644): chmod 600 {cookies}" in result.stderr
    cookies.chmod(0o600)
    result = run_cli("crawl", "http://bbs.example.test/", "--cookies", str(cookies), "--db", str(tmp_path / "junk.db"))
    assert result.returncode == 2 and "others may read" not in result.stderr
