"""Scheduled runs: the config file, `dzarchive run`, logs, exit codes, and crawling with a member's cookies."""
from __future__ import annotations

import sqlite3
import textwrap

import pytest
from scrapy.utils.test import get_crawler

from dzarchive.config import ConfigError, load_config
from testbed.replay import ReplayServer
from scraper.items import Link
from scraper.spiders.site import SiteSpider

from .conftest import SITE_A, requires_fixtures
from .test_e2e import run_cli


def write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_config_resolves_defaults_overrides_and_relative_paths(tmp_path):
    config = write(tmp_path / "dzarchive.toml", """
        database = "archives/{host}.db"
        delay = 2.0
        log_file = "logs/run.log"

        [[site]]
        url = "http://bbs.one.test/forum.php"

        [[site]]
        url = "http://bbs.two.test/forum-2-1.html"
        database = "/srv/two.db"
        full = true
        profiles = false
    """)
    one, two = load_config(config)
    assert (one.url, one.database, one.delay, one.full) == (
        "http://bbs.one.test/forum.php", str(tmp_path / "archives" / "bbs.one.test.db"), 2.0, False)
    assert one.crawl_args() == ["crawl", "http://bbs.one.test/forum.php", "--db", str(tmp_path / "archives/bbs.one.test.db"),
                                "--tz", "+08:00", "--keep-pages", "failed", "--delay", "2.0",
                                "--log-file", str(tmp_path / "logs/run.log")]
    assert (two.database, two.full, two.profiles) == ("/srv/two.db", True, False)
    assert "--full" in two.crawl_args() and "--no-profiles" in two.crawl_args()


def test_each_site_gets_its_own_archive_by_default(tmp_path):
    one, two = load_config(write(tmp_path / "dzarchive.toml", """
        [[site]]
        url = "http://www.bbs.one.test/forum.php"

        [[site]]
        url = "https://bbs.two.test/bbs/forum-2-1.html"
    """))
    assert (one.database, two.database) == (str(tmp_path / "data" / "bbs.one.test.db"),
                                            str(tmp_path / "data" / "bbs.two.test.db"))


def test_a_config_putting_two_sites_in_one_archive_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="bbs.one.test and bbs.two.test would share the archive"):
        load_config(write(tmp_path / "dzarchive.toml", """
            database = "data/all.db"
            [[site]]
            url = "http://bbs.one.test/forum.php"
            [[site]]
            url = "http://bbs.two.test/forum.php"
        """))


@pytest.mark.parametrize("text, message", [
    ('database = "a.db"\n', "no [[site]]"),
    ('[[site]]\nurl = "http://x.test/"\nspeed = 3\n', "unknown settings ['speed']"),
    ('[[site]]\ndatabase = "a.db"\n', "site 1 has no url"),
    ('[[site\n', "Expected"),
])
def test_config_errors_are_clear(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path / "dzarchive.toml", text))


@requires_fixtures
def test_run_archives_every_site_logs_to_a_file_and_fails_when_one_fails(tmp_path):
    write(tmp_path / "dzarchive.toml", """
        log_file = "dzarchive.log"
        delay = 0

        [[site]]
        url = "http://bbs.example.test/forum.php?mod=viewthread&tid=2"
        database = "example.db"

        [[site]]
        url = "http://127.0.0.1:9/forum.php"
        database = "down.db"
    """)
    with ReplayServer(SITE_A) as server:
        result = run_cli("run", "--config", str(tmp_path / "dzarchive.toml"), proxy=server.url, cwd=tmp_path)
    assert result.returncode == 1
    assert "1 of 2 site(s) failed" in result.stderr
    conn = sqlite3.connect(tmp_path / "example.db")
    assert conn.execute("SELECT count(*) FROM posts WHERE tid = 2").fetchone() == (65,)
    assert sqlite3.connect(tmp_path / "down.db").execute("SELECT status FROM crawls").fetchone() == ("failed",)
    log = (tmp_path / "dzarchive.log").read_text(encoding="utf-8")
    assert "Spider opened" in log and "Connection refused" in log


@requires_fixtures
def test_run_tells_a_site_that_finished_with_errors_from_a_failed_one(tmp_path):
    from testbed.flaky import FlakyReplayServer

    write(tmp_path / "dzarchive.toml", """
        delay = 0

        [[site]]
        url = "http://bbs.example.test/forum.php?mod=viewthread&tid=2"
        database = "example.db"
    """)
    # Page 2 of the thread answers "too fast" every time: the crawl archives the rest and says so.
    script = {"forum.php?mod=viewthread&tid=2&page=2": ["flood"] * 50}
    with FlakyReplayServer(SITE_A, rate=0, script=script) as server:
        result = run_cli("run", "--config", str(tmp_path / "dzarchive.toml"), proxy=server.url, cwd=tmp_path)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "1 of 1 site(s) finished with errors" in result.stderr and "site(s) failed" not in result.stderr
    conn = sqlite3.connect(tmp_path / "example.db")
    assert conn.execute("SELECT count(*) FROM posts WHERE tid = 2").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM errors WHERE kind = 'soft'").fetchone() == (1,)


def test_cookies_file_logs_the_crawl_in_as_a_member(tmp_path):
    from scrapy import Request

    from scraper.cookies import ArchiveCookiesMiddleware

    cookies = write(tmp_path / "cookies.txt", """\
        # Netscape HTTP Cookie File
        .bbs.example.test\tTRUE\t/\tFALSE\t0\txY3z_2132_auth\tsecret-auth
        bbs.example.test\tFALSE\t/\tFALSE\t0\txY3z_2132_saltkey\tsalt
        other.test\tFALSE\t/\tFALSE\t0\tunrelated\tnope
    """)
    crawler = get_crawler(SiteSpider, {"DZ_COOKIES": str(cookies), "DZ_DB": str(tmp_path / "none.db")})
    spider = SiteSpider.from_crawler(crawler, start_url="http://bbs.example.test/forum.php")
    middleware = ArchiveCookiesMiddleware.from_crawler(crawler)
    middleware.spider_opened(spider)
    # The member's cookies are in the jar and sent from there; no request carries them (job state pickles requests).
    start = next(iter(spider.start_requests()))
    forum = spider._request(Link("forumdisplay", "http://bbs.example.test/forum.php?mod=forumdisplay&fid=43", 43), 10)
    assert start.cookies == {} and forum.cookies == {}
    middleware.process_request(forum)
    assert sorted(forum.headers.get("Cookie").decode().split("; ")) == ["xY3z_2132_auth=secret-auth",
                                                                         "xY3z_2132_saltkey=salt"]
    elsewhere = Request("http://other.test/")
    middleware.process_request(elsewhere)
    assert elsewhere.headers.get("Cookie") is None


@requires_fixtures
def test_members_only_forum_is_archived_with_a_members_cookies(tmp_path):
    from .conftest import SITE_A2, SITE_MEMBER

    cookies = write(tmp_path / "cookies.txt", """\
        # Netscape HTTP Cookie File
        bbs.example.test\tFALSE\t/\tFALSE\t0\txY3z_2132_auth\tadmin-session
    """)
    start = "http://bbs.example.test/forum.php?mod=forumdisplay&fid=43"
    with ReplayServer(SITE_A2, member_capture=SITE_MEMBER, member_cookie="xY3z_2132_auth") as server:
        guest = run_cli("crawl", start, "--db", str(tmp_path / "guest.db"), "--no-profiles", "--delay", "0",
                        proxy=server.url)
        member = run_cli("crawl", start, "--db", str(tmp_path / "member.db"), "--no-profiles", "--delay", "0",
                         "--cookies", str(cookies), proxy=server.url)
    assert guest.returncode == 1  # nothing a guest may read there
    conn = sqlite3.connect(tmp_path / "guest.db")
    assert conn.execute("SELECT fid, status FROM forums").fetchall() == [(43, "login_required")]
    assert conn.execute("SELECT count(*) FROM posts").fetchone() == (0,)
    assert member.returncode == 0, member.stderr
    conn = sqlite3.connect(tmp_path / "member.db")
    assert conn.execute("SELECT tid, fid, title FROM threads").fetchall() == [(27, 43, "站务：会员守则")]
    assert conn.execute("SELECT floor, author, posted_at FROM posts").fetchall() == [
        (1, "admin", "2024-01-01T10:00:00+08:00")]


def test_the_readme_config_example_is_valid(tmp_path):
    import re

    from .conftest import ROOT

    example = re.search(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    jobs = load_config(write(tmp_path / "dzarchive.toml", example))
    assert [job.url for job in jobs] == ["http://bbs.example.com/forum.php", "http://bbs.other.example/forum-2-1.html"]
    assert jobs[1].database == str(tmp_path / "data" / "other.db")
