"""`dzarchive crawl --login USER`: Discuz's own login form, against a loopback server that implements it."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys


from testbed.login_site import FORMHASH, LoginReplayServer

from .conftest import SITE_A, SITE_A2, SITE_MEMBER, requires_fixtures

pytestmark = requires_fixtures
MEMBERS_ONLY = "http://bbs.example.test/forum.php?mod=forumdisplay&fid=43"
PASSWORD = "pa55-w0rd-91c4e"
# What a crawl must never ask for: logging out, posting, replying, rating, the user's control panel, or any link
# that carries the form hash (Discuz's token for actions).
ACTION_URL = re.compile(r"action=logout|mod=post|action=reply|action=rate|mod=spacecp|formhash=|"
                        r"mod=misc&action=|mod=topicadmin")


def crawl(server, tmp_path, *args, password: str | None = PASSWORD, start: str = MEMBERS_ONLY):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "DZARCHIVE_PASSWORD"}
    env.update(http_proxy=server.url, no_proxy="127.0.0.1,localhost")
    if password is not None:
        env["DZARCHIVE_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "dzarchive", "crawl", start, "--db", str(tmp_path / "a.db"),
                           "--no-profiles", "--delay", "0.01", "-s", "AUTOTHROTTLE_ENABLED=False", *args],
                          env=env, capture_output=True, text=True, timeout=300, input="")


def archived_thread(tmp_path):
    conn = sqlite3.connect(tmp_path / "a.db")
    try:
        return conn.execute("SELECT tid, fid, title FROM threads").fetchall()
    finally:
        conn.close()


def test_login_through_the_x_form_archives_what_members_see(tmp_path):
    with LoginReplayServer(SITE_A2, SITE_MEMBER, users={"admin": PASSWORD}) as server:
        result = crawl(server, tmp_path, "--login", "admin", "--warc", str(tmp_path / "warc"),
                       "--log-file", str(tmp_path / "crawl.log"), "-vv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.logins == 1
    assert server.posts[0]["formhash"] == FORMHASH and server.posts[0]["username"] == "admin"
    assert archived_thread(tmp_path) == [(27, 43, "站务：会员守则")]
    # The password and the session are in no file the crawl wrote: database, WAL, log, job state, WARC.
    assert any((tmp_path / "warc").iterdir())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                import gzip

                data = gzip.decompress(data)
            for secret in [PASSWORD, *server.issued]:
                assert secret.encode() not in data, path
    assert not [r for r in server.requests if ACTION_URL.search(r.replace("POST ", ""))
                and not r.startswith("POST /member.php?mod=logging&action=login&loginsubmit=yes")]


def test_a_refused_login_is_said_and_the_crawl_fails(tmp_path):
    with LoginReplayServer(SITE_A2, SITE_MEMBER, users={"admin": PASSWORD}) as server:
        result = crawl(server, tmp_path, "--login", "admin", password="wrong")
    assert result.returncode == 1
    assert "login as admin failed: 登录失败，您还可以尝试 4 次" in result.stdout
    assert server.refused == 1 and server.logins == 0
    assert [r for r in server.requests if "fid=43" in r] == []  # nothing crawled as a guest instead


def test_login_through_the_7x_form(tmp_path):
    with LoginReplayServer(SITE_A2, SITE_MEMBER, users={"admin": PASSWORD}, legacy=True) as server:
        result = crawl(server, tmp_path, "--login", "admin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.logins == 1
    assert server.posts[0] == {"formhash": FORMHASH, "referer": "index.php", "loginfield": "username",
                               "username": "admin", "questionid": "0", "answer": "", "loginsubmit": "true"}
    assert archived_thread(tmp_path) == [(27, 43, "站务：会员守则")]


def test_a_session_that_expires_mid_crawl_is_renewed(tmp_path):
    # The session ends after the first member page (the list): the thread page then says "login required" (as
    # state 1's guest capture has it).
    with LoginReplayServer(SITE_A, SITE_MEMBER, users={"admin": PASSWORD}, expire_after=1) as server:
        result = crawl(server, tmp_path, "--login", "admin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.logins >= 2
    assert archived_thread(tmp_path) == [(27, 43, "站务：会员守则")]
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT floor, author FROM posts").fetchall() == [(1, "admin")]
    assert conn.execute("SELECT status FROM threads").fetchall() == [("ok",)]


def test_a_logged_in_crawl_of_the_whole_site_never_requests_an_action_url(tmp_path):
    with LoginReplayServer(SITE_A2, SITE_MEMBER, users={"admin": PASSWORD}) as server:
        result = crawl(server, tmp_path, "--login", "admin", start="http://bbs.example.test/forum.php")
    assert result.returncode in (0, 5), result.stdout + result.stderr
    assert len(server.requests) > 20
    # The member pages link logout (with the formhash), posting, replying and the control panel.
    member_index = SITE_MEMBER / "pages"
    assert any("action=logout" in p.read_text(encoding="utf-8", errors="replace") for p in member_index.iterdir())
    asked = [r for r in server.requests if not r.startswith("POST /member.php?mod=logging&action=login&loginsubmit")]
    assert [r for r in asked if ACTION_URL.search(r)] == []


def test_the_password_is_asked_for_when_no_environment_variable_gives_it(tmp_path):
    with LoginReplayServer(SITE_A2, SITE_MEMBER, users={"admin": PASSWORD}) as server:
        result = crawl(server, tmp_path, "--login", "admin", password=None)
    # No terminal to type it on: click's prompt reads stdin, which is empty.
    assert result.returncode != 0
    assert "password for admin" in result.stderr
    assert server.logins == 0


