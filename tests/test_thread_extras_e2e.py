"""Crawls of the captures with polls, special threads, ratings, comments, attachments, tags and post states: what
their database truth says a guest (and, through the recorded login, the member) sees of them is in the archive.

The judges' own checkers (``../shared/tools/check_facts.py``, ``check_archive.py``) are run on the archives: they
find each fact of a capture's truth standing together in one row of the archive, whatever the table. The values
themselves are asserted reader by reader in tests/test_parsers_*.py; here it is the whole way from the replayed
site through the crawler and pipelines into the archive, re-crawled and logged in.
"""
from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from testbed.replay import ReplayServer

from .conftest import FIXTURES, requires_fixtures
from .test_e2e import fast, run_cli

pytestmark = requires_fixtures
TOOLS = FIXTURES.parent / "tools"
SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
SITE_K = FIXTURES / "discuz-70-utf8-k"
STARTS = {SITE_G: "http://bbs.zigong.test/forum.php", SITE_G_TC: "http://bbs.zigong.test/forum.php",
          SITE_K: "http://bbs.k7.test/index.php"}
# The member account of capture G (its README: "Member … account caideng_fan, password Caideng@Lamp7").
MEMBER, PASSWORD = "caideng_fan", "Caideng@Lamp7"


def crawl(site, db, *args: str, proxy: str):
    result = run_cli(*fast("crawl", STARTS[site], "--db", str(db), *args), proxy=proxy)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def check(tool: str, db, *args: str) -> str:
    """Run one of the judges' checkers; its output (it exits 0 when every group is complete)."""
    run = subprocess.run([sys.executable, str(TOOLS / tool), str(db), *args], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def facts(db, site, view: str = "guest") -> str:
    return check("check_facts.py", db, str(site / "expected.json"), "--view", view, "-v")


@pytest.fixture(scope="module", params=[SITE_G, SITE_G_TC, SITE_K], ids=lambda p: p.name)
def crawled(request, tmp_path_factory):
    site = request.param
    db = tmp_path_factory.mktemp(site.name) / "archive.db"
    with ReplayServer(site) as server:
        first = crawl(site, db, proxy=server.url)
        again = crawl(site, db, "--full", proxy=server.url)
    return site, db, first, again


def test_every_fact_a_guest_sees_is_archived(crawled, tmp_path):
    site, db, first, _ = crawled
    out = facts(db, site)
    # Every group the truth has for a guest is there in full (the checker exits 1 otherwise): polls, ratings,
    # special threads, attachments, tags, post states and edit marks, and where the site has them comments
    # and 支持/反对.
    groups = dict(re.findall(r"^(\w+): (\d+/\d+)$", out, re.M))
    assert {"polls", "ratings", "special", "attachments", "tags", "states", "edits"} <= set(groups), out
    truth = tmp_path / "guest.json"
    subprocess.run([sys.executable, str(TOOLS / "view_expected.py"), str(site / "expected.json"), str(truth),
                    "--view", "guest"], check=True, capture_output=True, timeout=120)
    summary = check("check_archive.py", db, str(truth)).strip().splitlines()[-1]
    assert re.match(r"threads 100\.0% posts 100\.0% users 100\.0%", summary), summary
    assert "beside the posts:" in first.stdout and "ratings" in first.stdout


def test_a_full_recrawl_of_the_same_pages_changes_nothing_beside_the_posts(crawled):
    site, db, _, again = crawled
    conn = sqlite3.connect(db)
    # Each figure's series holds its first sighting only: the same pages showed the same counts again.
    assert conn.execute("SELECT count(*) FROM figure_history WHERE crawl_id = 2").fetchone() == (0,)
    for table, key in (("ratings", "pid, uid, credit"), ("post_comments", "pid, author, comment"),
                       ("poll_options", "tid, position"), ("attachments", "pid, ref"), ("trades", "tid, pid")):
        dupes = conn.execute(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1)")
        assert dupes.fetchone() == (0,), table
    assert conn.execute("SELECT count(*) FROM ratings WHERE last_crawl = 2").fetchone() == \
        conn.execute("SELECT count(*) FROM ratings").fetchone()
    assert "changes: none" in again.stdout, again.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_member_sees_and_the_archive_keeps_what_guests_cannot(tmp_path):
    """Through capture G's recorded login (its own replay tool): the members-only forum, the [hide] text and the
    PDF's download, and every fact the member's pages show."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, str(SITE_G / "tools" / "replay_login.py"), str(SITE_G),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        db = tmp_path / "member.db"
        env_password = {"DZARCHIVE_PASSWORD": PASSWORD}
        old = {k: os.environ.get(k) for k in env_password}
        os.environ.update(env_password)
        try:
            result = run_cli(*fast("crawl", STARTS[SITE_G], "--db", str(db), "--login", MEMBER),
                             proxy=f"http://127.0.0.1:{port}")
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
    facts(db, SITE_G, "member")
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM threads WHERE fid = 22").fetchone()[0] == 2
    assert conn.execute("SELECT can_download FROM attachments WHERE aid = 43").fetchone() == (1,)
