"""A crawl that fails says why in one line, in the user's terms, with error counts the progress line and the summary
agree on; a bad option value is one line and exit 2."""
from __future__ import annotations

import io
import json
import re
import socket

import pytest

from archive.records import FetchError, PageRecord
from scraper.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED
from scraper.failures import network_failure, page_failure
from scraper.items import ParsedPage
from scraper.progress import Progress, errors_of
from testbed.replay import ReplayServer

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli

SITE = "http://bbs.example.test/"
SUMMARY_ERRORS = re.compile(r"^  fetched \d+ pages, wrote \d+ rows, (\d+) errors", re.MULTILINE)
PROGRESS_ERRORS = re.compile(r"^progress: .*, (\d+) errors, [^,]+$", re.MULTILINE)
# A log line of Scrapy's format at ERROR ("2026-01-01 00:00:00 [scrapy.downloadermiddlewares.retry] ERROR: ...").
ERROR_LOG_LINE = re.compile(r"^\S+ \S+ \[[\w.]+\] ERROR: ", re.MULTILINE)


def failed_crawl(result, headline: str) -> None:
    """The crawl failed (exit 1) and said ``headline`` as its summary's first line; stderr holds no traceback and no
    ERROR log line; the progress line and the summary count the same errors; no "first crawl" line."""
    assert result.returncode == EXIT_FAILED, (result.returncode, result.stdout, result.stderr)
    assert result.stdout.splitlines()[0] == headline, result.stdout
    assert "Traceback" not in result.stderr and not ERROR_LOG_LINE.search(result.stderr), result.stderr
    assert "first crawl" not in result.stdout
    summary = SUMMARY_ERRORS.search(result.stdout)
    shown = PROGRESS_ERRORS.findall(result.stderr)
    assert summary, result.stdout
    # No progress line at all when no page was fetched nor failed (nothing to count: the summary says 0).
    assert (shown[-1] if shown else "0") == summary.group(1), (result.stdout, result.stderr)


def free_port() -> int:
    """A loopback port nobody listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def capture(folder, pages: dict[str, tuple[int, str | bytes]]) -> str:
    """A capture in ``folder`` serving ``{url: (status, body or a capture A file)}``; returns the folder."""
    entries = []
    for n, (url, (status, body)) in enumerate(pages.items()):
        if isinstance(body, str) and body.startswith("pages/"):
            file = str(SITE_A / body)  # A's own file, read where it is
        else:
            file = f"page{n}.html"
            (folder / file).write_bytes(body if isinstance(body, bytes) else body.encode())
        entries.append({"url": url, "file": file, "status": status,
                        "content_type": "text/plain" if url.endswith(".txt") else "text/html; charset=utf-8"})
    (folder / "manifest.json").write_text(json.dumps(entries), encoding="utf-8")
    return str(folder)


@requires_fixtures
def test_a_404_start_page_is_said_as_http_404_at_the_start_url(tmp_path):
    start = SITE + "nothing.php"
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db")), proxy=server.url)
    failed_crawl(result, f"crawl 1 failed: HTTP 404 at the start URL {start}")


def test_a_refused_connection_is_one_line_and_one_error(tmp_path):
    port = free_port()
    start = f"http://127.0.0.1:{port}/forum.php"
    # Retried three times (Scrapy's default here): still one page that could not be fetched, one error.
    result = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db")))
    failed_crawl(result, f"crawl 1 failed: connection refused: 127.0.0.1:{port}")
    assert SUMMARY_ERRORS.search(result.stdout).group(1) == "1"
    assert "Gave up retrying" not in result.stderr and "Connection was refused" not in result.stderr


def test_with_v_the_download_errors_are_in_the_log_and_a_log_file_keeps_them_at_error(tmp_path):
    start = f"http://127.0.0.1:{free_port()}/forum.php"
    shown = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db"), "-s", "RETRY_TIMES=1", "-v"))
    assert shown.returncode == EXIT_FAILED
    assert re.search(r"\[scrapy.downloadermiddlewares.retry\] INFO: Gave up retrying <GET " + re.escape(start),
                     shown.stderr), shown.stderr
    log = tmp_path / "crawl.log"
    logged = run_cli(*fast("crawl", start, "--db", str(tmp_path / "b.db"), "-s", "RETRY_TIMES=1",
                           "--log-file", str(log)))
    assert logged.returncode == EXIT_FAILED and "Gave up retrying" not in logged.stderr
    assert re.search(r"\[scrapy.downloadermiddlewares.retry\] ERROR: Gave up retrying <GET " + re.escape(start),
                     log.read_text(encoding="utf-8"))


@requires_fixtures
def test_a_start_url_robots_txt_forbids_says_so(tmp_path):
    start = SITE + "search.php"  # capture A's robots.txt: Disallow: /search.php
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db")), proxy=server.url)
    failed_crawl(result, f"crawl 1 failed: robots.txt of bbs.example.test forbids the start URL {start}")
    assert start not in server.requests and "/search.php" not in server.requests


@requires_fixtures
def test_a_forum_that_does_not_exist_is_said_in_the_sites_own_words(tmp_path):
    start = SITE + "forum.php?mod=forumdisplay&fid=999"  # capture A: Discuz's 抱歉，指定的版块不存在 page
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db"), "-s", "DZ_CONFIRM_BACKOFF=0"),
                         proxy=server.url)
    failed_crawl(result, f"crawl 1 failed: the site says: 抱歉，指定的版块不存在 ({start})")


@requires_fixtures
def test_a_thread_the_site_answers_404_with_its_message_for_is_said_in_its_words(tmp_path):
    start = SITE + "forum.php?mod=viewthread&tid=9999"  # capture A: HTTP 404 with Discuz's showmessage page
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db"), "-s", "DZ_CONFIRM_BACKOFF=0"),
                         proxy=server.url)
    failed_crawl(result, f"crawl 1 failed: the site says: 抱歉，指定的主题不存在或已被删除或正在被审核 ({start})")


@requires_fixtures
def test_a_page_that_is_no_discuz_page_says_not_a_discuz_site(tmp_path):
    start = SITE + "index.html"
    (tmp_path / "site").mkdir()
    folder = capture(tmp_path / "site", {
        SITE + "robots.txt": (200, "pages/0001.txt"),
        start: (200, "<!DOCTYPE html><html><head><title>My blog</title></head><body><h1>Hello</h1>"
                     "<p>Nothing but a blog here.</p></body></html>"),
    })
    with ReplayServer(folder) as server:
        result = run_cli(*fast("crawl", start, "--db", str(tmp_path / "a.db")), proxy=server.url)
    failed_crawl(result, f"crawl 1 failed: not a Discuz! site: {start} shows no Discuz markup")


@requires_fixtures
def test_a_start_page_that_leads_nowhere_readable_names_the_first_page_that_failed(tmp_path):
    (tmp_path / "site").mkdir()
    folder = capture(tmp_path / "site", {SITE + "robots.txt": (200, "pages/0001.txt"),
                                         SITE + "forum.php": (200, "pages/0002.html")})  # the index; nothing else
    with ReplayServer(folder) as server:
        result = run_cli(*fast("crawl", SITE + "forum.php", "--db", str(tmp_path / "a.db")), proxy=server.url)
    assert re.fullmatch(r"crawl 1 failed: nothing past the start page could be archived; the first: HTTP 404 at "
                        r"http://bbs\.example\.test/forum\.php\?mod=forumdisplay&fid=\d+",
                        result.stdout.splitlines()[0]), result.stdout
    failed_crawl(result, result.stdout.splitlines()[0])
    assert int(SUMMARY_ERRORS.search(result.stdout).group(1)) >= 2  # each forum's list page, counted alike


@requires_fixtures
def test_https_to_a_server_that_speaks_plain_http_is_a_tls_failure(tmp_path):
    with ReplayServer(SITE_A) as server:
        port = int(server.url.rstrip("/").rsplit(":", 1)[1])
        result = run_cli(*fast("crawl", f"https://127.0.0.1:{port}/forum.php", "--db", str(tmp_path / "a.db"),
                               "-s", "RETRY_TIMES=0"))
    headline = result.stdout.splitlines()[0]
    assert headline.startswith(f"crawl 1 failed: TLS handshake with 127.0.0.1:{port} failed"), result.stdout
    failed_crawl(result, headline)


@requires_fixtures
def test_a_crawl_that_finishes_still_says_it_is_the_first(tmp_path):
    with ReplayServer(SITE_A) as server:
        result = run_cli(*fast("crawl", SITE + "forum.php?mod=viewthread&tid=7", "--db", str(tmp_path / "a.db")),
                         proxy=server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == f"crawl 1 finished: {SITE}forum.php?mod=viewthread&tid=7"
    assert "  first crawl of this archive: what it archived is what later crawls are compared with" in result.stdout


# -- bad option values: one line, exit 2, nothing written ------------------------------------------------------
NOT_A_ZONE = "is not a UTC offset between -12:00 and +14:00 (e.g. +08:00) or a time zone name (e.g. Asia/Shanghai)"


@pytest.mark.parametrize("args, line", [
    (("crawl", SITE, "--tz", "+25:00"), f"Error: Invalid value for '--tz': +25:00 {NOT_A_ZONE}"),
    (("crawl", SITE, "--tz", "-13"), f"Error: Invalid value for '--tz': -13 {NOT_A_ZONE}"),
    (("crawl", SITE, "--tz", "Mars/Olympus"), f"Error: Invalid value for '--tz': 'Mars/Olympus' {NOT_A_ZONE}"),
    (("crawl", SITE, "--delay", "-1"), "Error: Invalid value for '--delay': -1.0 is not in the range x>=0."),
    (("crawl", SITE, "--delay", "nan"), "Error: Invalid value for '--delay': nan is not a number of seconds"),
    (("crawl", SITE, "-s", "DOWNLOAD_DELAY"),
     "Error: Invalid value for '-s' / '--set': 'DOWNLOAD_DELAY' is not NAME=VALUE (e.g. -s DOWNLOAD_DELAY=1)"),
    (("crawl", SITE, "-s", "DOWNLOAD_DELAY=soon"),
     "Error: Invalid value for '-s' / '--set': DOWNLOAD_DELAY=soon: DOWNLOAD_DELAY takes a number"),
    (("crawl", SITE, "-s", "RETRY_TIMES=3.5"),
     "Error: Invalid value for '-s' / '--set': RETRY_TIMES=3.5: RETRY_TIMES takes a whole number"),
    (("crawl", SITE, "-s", "ROBOTSTXT_OBEY=maybe"),
     "Error: Invalid value for '-s' / '--set': ROBOTSTXT_OBEY=maybe: ROBOTSTXT_OBEY takes a switch (1, 0, True or False)"),
    (("crawl", SITE, "-s", "download_delay=1"),
     "Error: Invalid value for '-s' / '--set': 'download_delay' is not a setting name: they are upper-case,"
     " e.g. DOWNLOAD_DELAY"),
    (("crawl", "forum.php"), "Error: Invalid value for 'URL': 'forum.php' names a page but no site: give the page's"
                             " whole address, e.g. http://bbs.example.com/forum.php"),
    (("crawl", "ftp://bbs.example.test/"), "Error: Invalid value for 'URL': 'ftp://bbs.example.test/' is not a web"
                                           " address: the scheme must be http or https, not 'ftp'"),
    (("crawl", SITE, "--keep-pages", "some"), "Error: Invalid value for '--keep-pages': 'some' is not one of"
                                              " 'failed', 'all'."),
    (("reparse", "--tz", "+25:00"), f"Error: Invalid value for '--tz': +25:00 {NOT_A_ZONE}"),
    (("parse", "-", "--url", SITE + "forum.php", "--tz", "+14:30"), f"Error: Invalid value for '--tz': +14:30 {NOT_A_ZONE}"),
    (("parse", "-", "--url", "thread-7-1-1.html"), "Error: Invalid value for '--url': 'thread-7-1-1.html' names a page"
                                                   " but no site: give the page's whole address, e.g."
                                                   " http://bbs.example.com/thread-7-1-1.html"),
    (("parse", "-", "--url", SITE, "--date", "yesterday"),
     "Error: Invalid value for '--date': 'yesterday' is not an HTTP date (e.g. 'Tue, 03 Dec 2024 08:00:00 GMT')"),
])
def test_a_bad_option_value_is_one_line_and_exit_2(tmp_path, args, line):
    result = run_cli(*args, "--db", str(tmp_path / "a.db")) if args[0] != "parse" else run_cli(*args)
    assert result.returncode == EXIT_BAD_INPUT, (result.stdout, result.stderr)
    assert result.stderr.splitlines() == [line]
    assert list(tmp_path.iterdir()) == []


def test_offsets_within_the_earths_range_and_zone_names_are_taken(tmp_path):
    for tz in ("+14:00", "-12:00", "+05:45", "8", "Asia/Taipei"):
        result = run_cli("reparse", "--tz", tz, "--db", str(tmp_path / "missing.db"))
        assert result.stderr.strip() == f"Error: no archive at {tmp_path / 'missing.db'}", (tz, result.stderr)


# -- the words, without a crawl -------------------------------------------------------------------------------
def test_network_failures_in_plain_words():
    from scrapy.exceptions import CannotResolveHostError, DownloadFailedError, DownloadTimeoutError

    url = "https://bbs.example.test/forum.php"
    assert network_failure(CannotResolveHostError("no such host"), url) == \
        "host not found: bbs.example.test (DNS lookup failed)"
    assert network_failure(DownloadTimeoutError("took longer than 60.0 seconds"), url) == \
        "timed out: bbs.example.test:443 did not answer in time"
    assert network_failure(DownloadFailedError("[<twisted.python.failure.Failure twisted.internet.error."
                                               "ConnectionLost: Connection to the other side was lost>]"), url) == \
        "the connection to bbs.example.test:443 closed before an answer"
    tls = DownloadFailedError("[<twisted.python.failure.Failure OpenSSL.SSL.Error: [('SSL routines', '',"
                              " 'certificate verify failed')]>]")
    assert network_failure(tls, url) == "TLS handshake with bbs.example.test:443 failed: certificate verify failed"


def test_a_start_page_no_reader_knows_that_links_to_forums_is_no_failure():
    from scraper.items import Link

    portal = ParsedPage(url=SITE + "portal.php", kind="special", status="unknown", message="no Discuz! markup")
    assert page_failure(portal, portal.url, 200, start=True) == \
        f"not a Discuz! site: {SITE}portal.php shows no Discuz markup"
    portal.links = [Link("forumdisplay", SITE + "forum-2-1.html", 2, 1)]
    assert page_failure(portal, portal.url, 200, start=True) is None


def test_progress_counts_errors_as_the_summary_does():
    deleted = PageRecord(url="u", kind="special", status="not_found", fetched_at="t",
                         errors=[("special", "not_found: 抱歉，指定的主题不存在")])
    unread = PageRecord(url="v", kind="special", status="unknown", fetched_at="t",
                        errors=[("unparsed", "no Discuz! viewthread markup recognised on this page")])
    refused = FetchError(url="w", kind="fetch", message="refused")
    assert [errors_of(item) for item in (deleted, unread, refused)] == [0, 1, 1]
    progress = Progress(None, stream=io.StringIO(), interval=3600)
    for item in (deleted, unread, refused):
        progress.item_scraped(item)
    assert progress.snapshot().errors == 2 and progress.snapshot().done == 3
