"""Discuz!'s CC defence in front of capture F (issue 20): the emulation (testbed/cc_defence.py) answers as
misc_security.php does, and `dzarchive crawl` passes it as a browser does.

With ``1|4`` on PHP 8 and on PHP 7, ``1`` alone and ``4`` alone, at the crawler's default politeness (and ``1`` with
no delay): the archive equals F's database truth (the judges' check_archive.py, 100%), exit 0, the defence's answers
stay under 5% of the requests, and after ``1`` refused a request the host is asked one request at a time, at least a
second apart. The crawls run at once (each waits on the defence, not on the machine): about a minute in all.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from testbed.cc_defence import CCDefenceServer

from .conftest import FIXTURES, requires_fixtures

pytestmark = requires_fixtures
SITE_F = FIXTURES / "discuz-x35-utf8-f"
START_F = "http://bbs.sample.test/forum.php"
TOOLS = FIXTURES.parent / "tools"
PRE = "Rk2c_2132_"  # capture F's cookie prefix


# -- the emulation ---------------------------------------------------------------------------------------------------
class Visitor:
    """A browser's cookie handling, by hand: what each answer sets is sent with the next request."""

    def __init__(self, server, **headers):
        self.server, self.headers, self.cookies = server, headers, {}

    def get(self, path: str = "/forum.php"):
        headers = dict(self.headers, Host="bbs.sample.test")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            response = urlopen(Request(self.server.url.rstrip("/") + path, headers=headers), timeout=10)
        except HTTPError as error:
            response = error
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            self.cookies.update({name: morsel.coded_value for name, morsel in jar.items()})
        return response.status, dict(response.headers), response.read().decode("utf-8")


def _early_in_a_second() -> None:
    """Wait until a second has just begun, so that two requests at once fall in the same whole second."""
    while time.time() % 1 > 0.3:
        time.sleep(0.05)


def _next_second(after: float) -> None:
    while int(time.time()) <= int(after):
        time.sleep(0.05)


def test_4_reloads_a_first_visit_and_lets_the_cookie_through():
    with CCDefenceServer(SITE_F, attackevasive=4) as server:
        visitor = Visitor(server)
        status, headers, body = visitor.get()
        assert status == 200 and "页面重载开启" in body and 'setTimeout("reload()", 1001);' in body
        assert {PRE + "saltkey", PRE + "lastrequest"} <= set(visitor.cookies)
        assert "HttpOnly" in headers["Set-Cookie"] and "path=/" in headers["Set-Cookie"]
        status, _, body = visitor.get()
        assert status == 200 and "川北生活网" in body
        assert visitor.get("/robots.txt")[0] == 200  # no PHP: no check
    assert server.answers == {"4": 1, "page": 1, "static": 1}


def test_1_refuses_a_second_request_in_the_same_whole_second():
    with CCDefenceServer(SITE_F, attackevasive=1, php=7) as server:
        visitor = Visitor(server)
        _early_in_a_second()
        first = time.time()
        assert "川北生活网" in visitor.get()[2]  # PHP 7: TIMESTAMP - '' passes
        status, _, body = visitor.get("/forum-36-1.html")
        assert status == 200 and "频繁刷新限制" in body and "小于两秒" in body
        _next_second(first)
        assert "旅游出行" in visitor.get("/forum-36-1.html")[2]
    assert server.answers == {"page": 2, "1": 1}


def test_1_on_php8_answers_a_first_request_with_the_503_having_set_the_cookies():
    with CCDefenceServer(SITE_F, attackevasive="1|4", php=8) as server:
        visitor = Visitor(server)
        status, headers, body = visitor.get()
        assert status == 503 and headers["Retry-After"] == "3600"
        assert "<h1>Discuz! System Error</h1>" in body and "misc_security.php" in body
        assert {PRE + "saltkey", PRE + "lastrequest"} <= set(visitor.cookies)
        time.sleep(1.01)
        assert "川北生活网" in visitor.get()[2]
        # A lastrequest sealed with another visitor's saltkey is no cookie at all.
        stranger = Visitor(server)
        stranger.cookies = {PRE + "saltkey": "ffffffff", PRE + "lastrequest": visitor.cookies[PRE + "lastrequest"]}
        assert stranger.get()[0] == 503
    assert server.answers == {"503": 2, "page": 1}


def test_2_refuses_requests_through_a_proxy_and_8_asks_a_question():
    with CCDefenceServer(SITE_F, attackevasive=2) as server:
        assert "代理服务器访问限制" in Visitor(server, Via="1.1 squid").get()[2]
        assert "川北生活网" in Visitor(server).get()[2]
    with CCDefenceServer(SITE_F, attackevasive=8) as server:
        body = Visitor(server).get()[2]
        assert re.search(r"<title>\d+( \+ \d+)+ = \?</title>", body) and 'name="secqsubmit"' in body


# -- crawls through it -----------------------------------------------------------------------------------------------
# (attackevasive, PHP, crawl options): the default politeness, and one request at a time with no delay (so that the
# second request certainly comes within the first one's second: at the default pace it may, or may not).
ONE_AT_ONCE = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
SETUPS = {"1|4 PHP 8": ("1|4", 8, ()), "1|4 PHP 7": ("1|4", 7, ()), "1 PHP 7": ("1", 7, ()),
          "1 PHP 7 no delay": ("1", 7, ONE_AT_ONCE), "4 PHP 8": ("4", 8, ())}
# Where 1 certainly refuses a request: PHP 8's first request, and a request right after another.
CERTAIN_REFUSAL = ("1|4 PHP 8", "1 PHP 7 no delay")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """F crawled through each setup at once, at the default politeness: ``{setup: (server, result, db)}``."""
    folder = tmp_path_factory.mktemp("cc")
    runs = {}
    for name, (attackevasive, php, options) in SETUPS.items():
        server = CCDefenceServer(SITE_F, attackevasive=attackevasive, php=php, exact=True).start()
        db = folder / f"{name.replace(' ', '_').replace('|', '_')}.db"
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["http_proxy"] = server.url
        process = subprocess.Popen([sys.executable, "-m", "dzarchive", "crawl", START_F, "--db", str(db), *options],
                                   env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs[name] = (server, process, db)
    out = {}
    try:
        for name, (server, process, db) in runs.items():
            stdout, stderr = process.communicate(timeout=300)
            out[name] = (server, subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), db)
    finally:
        for server, process, _ in runs.values():
            if process.poll() is None:
                process.kill()
            server.stop()
    truth = folder / "truth.json"
    subprocess.run([sys.executable, str(TOOLS / "view_expected.py"), str(SITE_F / "expected.json"), str(truth),
                    "--view", "guest"], check=True, capture_output=True, timeout=120)
    return out, truth


@pytest.mark.parametrize("setup", list(SETUPS))
def test_the_archive_equals_the_forum_through_its_cc_defence(crawled, setup):
    runs, truth = crawled
    server, result, db = runs[setup]
    assert result.returncode == 0, result.stdout + result.stderr
    check = subprocess.run([sys.executable, str(TOOLS / "check_archive.py"), str(db), str(truth)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout
    assert re.search(r"threads 100\.0% posts 100\.0% users 100\.0%", check.stdout.splitlines()[-1]), check.stdout
    conn = sqlite3.connect(db)
    # The refused answers were fetched again, never archived as the pages: no error, no soft page kept.
    assert conn.execute("SELECT count(*) FROM errors").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM post_absences").fetchone() == (0,)
    # Counted as neither a page nor an error (nor is robots.txt, a static answer, a page).
    pages = conn.execute("SELECT pages, errors FROM crawls").fetchone()
    assert pages == (server.answers["page"], 0), (pages, server.answers)
    assert 0 < server.refused < 0.05 * len(server.requests), server.answers


@pytest.mark.parametrize("setup", CERTAIN_REFUSAL)
def test_after_1_refuses_the_host_gets_one_request_a_second_and_the_user_is_told(crawled, setup):
    runs, _ = crawled
    server, result, _ = runs[setup]
    first_refusal = next(i for i, (_, kind, _) in enumerate(server.log) if kind in ("1", "503"))
    arrivals = [at for at, _, _ in server.log[first_refusal:]]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert first_refusal <= 3 and len(gaps) > 40 and min(gaps) >= 1.0, (first_refusal, min(gaps))
    assert "bbs.sample.test was crawled one request at a time, 1.1 s apart" in result.stdout, result.stdout
    assert "is crawled one request at a time" in result.stderr  # the log, as it happened


@pytest.mark.parametrize("setup", [name for name in SETUPS if name.startswith("1")])
def test_whenever_1_refused_one_request_the_pace_holds_from_then_on(crawled, setup):
    """At the default pace 1 refuses a request when one comes within the second of the answer whose cookie it
    carries, early or late in the crawl, or never: from the first refusal on, requests are a second apart."""
    server, result, _ = crawled[0][setup]
    refusals = [i for i, (_, kind, _) in enumerate(server.log) if kind in ("1", "503")]
    arrivals = [at for at, _, _ in server.log[refusals[0]:]] if refusals else []
    assert all(b - a >= 1.0 for a, b in zip(arrivals, arrivals[1:]))
    assert bool(refusals) == ("one request at a time" in result.stdout)


def test_php8s_503_is_fetched_again_after_about_a_second(crawled):
    server = crawled[0]["1|4 PHP 8"][0]
    (at, _, url), *after = [entry for entry in server.log if entry[2] == "/forum.php"]
    assert server.answers["503"] == 1 and after[0][1] == "page"
    assert 0.9 <= after[0][0] - at <= 3.0  # not at once, not in the hour Retry-After says


def test_4_reloads_once_after_the_pages_own_delay_and_costs_no_pace(crawled):
    for setup in ("1|4 PHP 7", "4 PHP 8"):
        server, result, _ = crawled[0][setup]
        php = [entry for entry in server.log if entry[1] != "static"]
        (at, kind, url), (again, next_kind, next_url) = php[:2]
        assert (kind, url, next_url) == ("4", "/forum.php", "/forum.php") and next_kind != "4"
        assert again - at >= 1.0
        assert server.answers["4"] == 1 and "asked for 1 reload(s)" in result.stdout
    server, result, _ = crawled[0]["4 PHP 8"]
    assert "one request at a time" not in result.stdout + result.stderr  # 4 alone leaves the pace as it was
    php = [entry for entry in server.log if entry[1] != "static"]
    gaps = [b[0] - a[0] for a, b in zip(php[1:], php[2:])]
    assert sorted(gaps)[len(gaps) // 2] < 1.0
