"""A crawl's start-up and throughput: what it does before its first request, and what it waits for."""
from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

import scraper.crawl

from testbed.multisite import MultiSiteProxy
from testbed.replay import ReplayServer

from .conftest import SITE_A, requires_fixtures
from .test_e2e import fast, run_cli

START = "http://bbs.example.test/forum.php"
ONE_PAGE = "http://bbs.example.test/forum.php?mod=viewthread&tid=3"


def proxy_env(proxy_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=proxy_url, no_proxy="127.0.0.1,localhost")
    return env


@requires_fixtures
def test_a_zero_download_delay_keeps_the_per_host_cap_at_the_server(tmp_path):
    # Scrapy's own downloader lets 7 requests in flight against a cap of 2 here (scraper/downloader.py).
    with MultiSiteProxy([SITE_A], latency=0.05) as proxy:
        result = run_cli("crawl", START, "--db", str(tmp_path / "a.db"), "-s", "DOWNLOAD_DELAY=0",
                         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", proxy=proxy.url)
    assert result.returncode == 0, result.stderr
    assert "DOWNLOAD_DELAY" not in result.stderr  # taken as given, not raised to a made-up delay
    assert proxy.requests["bbs.example.test"] == 54
    assert proxy.peak["bbs.example.test"] == 2


def test_a_scrapy_without_the_downloader_internals_keeps_the_cap_with_a_delay(monkeypatch):
    from scraper import downloader
    from scraper.crawl import crawl_settings

    assert downloader.SUPPORTED  # the Scrapy this project installs
    settings = crawl_settings("unused.db", overrides={"DOWNLOAD_DELAY": "0"})
    assert settings.get("DOWNLOADER") == "scraper.downloader.CappedDownloader"
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    monkeypatch.setattr(downloader, "SUPPORTED", False)  # another Scrapy version's internals
    settings = crawl_settings("unused.db", overrides={"DOWNLOAD_DELAY": "0"})
    assert settings.get("DOWNLOADER") == "scrapy.core.downloader.Downloader"
    assert settings.getfloat("DOWNLOAD_DELAY") == downloader.FALLBACK_DELAY
    assert crawl_settings("unused.db", overrides={"DOWNLOAD_DELAY": "1.5"}).getfloat("DOWNLOAD_DELAY") == 1.5


def test_scrapys_consoles_are_left_out_and_its_other_extensions_kept():
    from scraper.crawl import crawl_settings

    extensions = crawl_settings("unused.db").get_component_priority_dict_with_base("EXTENSIONS")
    assert "scrapy.extensions.remote_control.RemoteControl" not in extensions
    assert "scrapy.extensions.telnet.TelnetConsole" not in extensions
    # Scrapy's SpiderState is replaced by one that writes the spider's state only when a crawl stops unfinished.
    assert "scrapy.extensions.spiderstate.SpiderState" not in extensions
    for kept in ("scrapy.extensions.corestats.CoreStats", "scrapy.extensions.throttle.AutoThrottle",
                 "scraper.jobstate.StoppedSpiderState", "scrapy.extensions.closespider.CloseSpider",
                 "scraper.progress.Progress"):
        assert kept in extensions


def crawl_imports(tmp_path) -> set[str]:
    """The modules a one-page crawl of capture A imports (``python -X importtime``)."""
    with ReplayServer(SITE_A) as server:
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "dzarchive", "crawl", ONE_PAGE, "--db",
                                 str(tmp_path / "a.db"), "--no-profiles", *fast()], env=proxy_env(server.url),
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


@requires_fixtures
def test_a_crawl_does_not_import_the_consoles(tmp_path):
    # Scrapy imports every class a component dict names, even set to None: the remote control brings aiohttp.
    imported = crawl_imports(tmp_path)
    assert "scrapy.core.engine" in imported  # the list is the crawl's
    assert not {"aiohttp", "scrapy.extensions.remote_control", "scrapy.extensions.telnet"} & imported


@requires_fixtures
def test_a_crawl_does_not_import_the_researchers_or_the_queues_commands(tmp_path):
    imported = crawl_imports(tmp_path)
    assert "scraper.crawl" in imported
    assert not {"research", "dzarchive.research_commands", "dzarchive.queue_commands", "dzarchive.queue"} & imported


def test_every_command_is_still_listed_and_found():
    listed = run_cli("--help")
    assert listed.returncode == 0, listed.stderr
    for command in ("crawl", "reparse", "export", "search", "query", "stats", "changes", "enqueue", "worker",
                    "queue-status"):
        assert f"  {command} " in listed.stdout
    for command in ("export", "worker", "crawl"):
        shown = run_cli(command, "--help")
        assert shown.returncode == 0 and f"Usage: dzarchive {command} [OPTIONS]" in shown.stdout, shown.stderr
    unknown = run_cli("exprot")
    assert unknown.returncode == 2 and "No such command 'exprot'" in unknown.stderr


def test_the_command_line_leaves_its_last_objects_to_the_exit_not_to_the_collector():
    from dzarchive.cli import main

    gc.unfreeze()
    try:
        with pytest.raises(SystemExit) as exited:
            main(["--version"])
        assert exited.value.code == 0
        assert gc.get_freeze_count() > 1000  # the interpreter's final collection has nothing left to walk
    finally:
        gc.unfreeze()


# A crawl run through the command line, reporting how many objects the collector no longer walks when it begins.
FROZEN_AT_START = """
import atexit, gc, runpy, sys
import scrapy.crawler, scraper.crawl
start, check = scrapy.crawler.CrawlerProcess.start, scraper.crawl.check_crawl_input
def reporting(self, *args, **kwargs):
    sys.stderr.write(f"frozen at start: {gc.get_freeze_count()}, collecting: {gc.isenabled()}\\n")
    sys.stderr.write(f"thresholds in the crawl: {gc.get_threshold()}\\n")
    atexit.register(lambda: sys.stderr.write(f"thresholds after it: {gc.get_threshold()}\\n"))
    return start(self, *args, **kwargs)
def checking(*args, **kwargs):
    sys.stderr.write(f"collecting during start-up: {gc.isenabled()}\\n")
    return check(*args, **kwargs)
scrapy.crawler.CrawlerProcess.start, scraper.crawl.check_crawl_input = reporting, checking
sys.argv = ["dzarchive", *sys.argv[1:]]
runpy.run_module("dzarchive", run_name="__main__")
"""


@requires_fixtures
def test_a_crawl_begins_with_its_set_up_out_of_the_collectors_reach(tmp_path):
    with ReplayServer(SITE_A) as server:
        result = subprocess.run([sys.executable, "-c", FROZEN_AT_START, "crawl", ONE_PAGE, "--db", str(tmp_path / "a.db"),
                                 "--no-profiles", *fast()], env=proxy_env(server.url), capture_output=True, text=True,
                                timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    frozen = int(result.stderr.split("frozen at start: ")[1].split(",")[0])
    assert frozen > 50_000  # modules, classes and Scrapy's components (about 90,000 objects)
    assert "collecting during start-up: False" in result.stderr
    assert f"frozen at start: {frozen}, collecting: True" in result.stderr  # the crawl itself is collected
    # ... less often than Python's default (700): a page's parse holds thousands of short-lived objects at once.
    assert f"thresholds in the crawl: {scraper.crawl.CRAWL_GC_THRESHOLDS}" in result.stderr
    assert scraper.crawl.CRAWL_GC_THRESHOLDS[0] > 700
    assert "thresholds after it: (700, 10, 10)" in result.stderr  # a caller that goes on gets its own back


# Any other command: the collector is back on when its work begins.
COLLECTING_IN_STATS = """
import gc, runpy, sys
import research
stats = research.stats
def reporting(*args, **kwargs):
    sys.stderr.write(f"collecting in stats: {gc.isenabled()}\\n")
    return stats(*args, **kwargs)
research.stats = reporting
sys.argv = ["dzarchive", *sys.argv[1:]]
runpy.run_module("dzarchive", run_name="__main__")
"""


def test_other_commands_run_with_the_collector_on(tmp_path):
    from archive import Archive

    Archive(tmp_path / "a.db").close()
    result = subprocess.run([sys.executable, "-c", COLLECTING_IN_STATS, "stats", "--db", str(tmp_path / "a.db")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "collecting in stats: True" in result.stderr


def test_the_spiders_callbacks_return_no_value_which_scrapy_is_told_not_to_check_per_response():
    from scrapy.utils.misc import is_generator_with_return_value

    from scraper.crawl import crawl_settings
    from scraper.spiders.site import SiteSpider

    assert crawl_settings("unused.db").getbool("WARN_ON_GENERATOR_RETURN_VALUE") is False
    spider = SiteSpider(start_url="http://bbs.example.test/forum.php")
    callbacks = [getattr(spider, name) for name in ("parse", "parse_media", "media_failed", "on_error",
                                                    "_logged_in_again")]
    assert not any(is_generator_with_return_value(callback) for callback in callbacks)


# -- opening an archive: the schema check --------------------------------------------------------

def test_an_archive_whose_schema_is_current_is_opened_without_checking_it_again(tmp_path):
    import sqlite3

    from archive import Archive
    from archive.db import schema_fingerprint

    Archive(tmp_path / "a.db").close()
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_fingerprint() > 0
    conn.execute("DROP INDEX idx_posts_posted_at")  # not looked for while the fingerprint says the schema is current
    conn.commit()
    conn.close()
    Archive(tmp_path / "a.db").close()
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'idx_posts_posted_at'").fetchone() is None
    conn.close()
    Archive(tmp_path / "a.db").ensure_schema()  # called directly, it checks everything
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'idx_posts_posted_at'").fetchone() is not None


def test_an_archive_of_another_schema_is_upgraded_when_opened(tmp_path):
    import sqlite3

    import schemas
    from archive import Archive
    from archive.db import schema_fingerprint

    for version in (0, schema_fingerprint() ^ 1):  # before the fingerprint, or another dzarchive's schema
        path = tmp_path / f"old-{version}.db"
        archive = Archive(path)
        archive.db.execute("INSERT INTO threads (tid, fid, title) VALUES (7, 2, '龙井')")
        archive.db.execute("INSERT INTO posts (pid, tid, floor, content_text) VALUES (1, 7, 1, '龙井虾仁的做法')")
        archive.db.conn.commit()
        archive.close()
        # What an earlier schema lacked: a column, an index, a view, the search index and its triggers.
        conn = sqlite3.connect(path)
        for sql in ("DROP VIEW thread_summary", "DROP INDEX idx_posts_posted_at", "DROP TRIGGER posts_fts_ai",
                    "DROP TRIGGER posts_fts_ad", "DROP TRIGGER posts_fts_au", "DROP TABLE posts_fts",
                    "ALTER TABLE threads DROP COLUMN last_poster", f"PRAGMA user_version = {version}",
                    # an index the schema has since replaced, and one somebody made for their own queries
                    "DROP INDEX idx_user_stats_uid_source_seen_at",
                    "CREATE INDEX idx_user_stats_uid_seen_at ON user_stats (uid, seen_at)",
                    "CREATE INDEX by_credits ON user_stats (credits)"):
            conn.execute(sql)
        conn.commit()
        conn.close()
        Archive(path).close()
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_fingerprint()
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        assert {"thread_summary", "idx_posts_posted_at", "posts_fts", "posts_fts_ai", "posts_fts_au"} <= names
        assert "idx_user_stats_uid_source_seen_at" in names and "by_credits" in names
        assert "idx_user_stats_uid_seen_at" not in names
        assert "last_poster" in [row[1] for row in conn.execute("PRAGMA table_info(threads)")]
        assert conn.execute("SELECT pid, tid, content_text FROM posts").fetchall() == [(1, 7, "龙井虾仁的做法")]
        assert conn.execute("SELECT rowid FROM posts_fts WHERE posts_fts MATCH '虾仁的'").fetchall() == [(1,)]
        assert set(schemas.tables()) <= names
        conn.close()


def test_a_crawl_still_refuses_another_programs_sqlite_file_whatever_its_user_version(tmp_path):
    import sqlite3

    from archive.db import schema_fingerprint

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute(f"PRAGMA user_version = {schema_fingerprint()}")  # by chance, or on purpose: not ours anyway
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = run_cli("crawl", START, "--db", str(other))
    assert result.returncode == 2
    assert "another program's SQLite database (tables posts), not a dzarchive archive" in result.stderr
    assert other.read_bytes() == before


def test_a_crawl_reads_the_whole_archive_file_once_not_at_each_opening(tmp_path, monkeypatch):
    import archive.access
    import archive.db
    import pipelines.store
    from archive import Archive
    from scraper.crawl import check_crawl_input

    path = tmp_path / "a.db"
    Archive(path).close()
    reads = []
    real = archive.access.check_archive

    def recording(p, whole_file=True):
        reads.append(whole_file)
        real(p, whole_file=whole_file)

    monkeypatch.setattr(archive.access, "check_archive", recording)
    monkeypatch.setattr(archive.db, "check_archive", recording)
    check_crawl_input(START, path, "+08:00", {})  # run_crawl's first step
    store = pipelines.store.StorePipeline(str(path), lock_held=True)  # as run_crawl runs it
    store.open_spider()
    store.spider_closed(None, "finished")
    assert reads == [True, False]  # the store's opening reads the header and the table list only
    Archive(path).close()  # any other opening reads it all, as before
    assert reads == [True, False, True]


def test_the_quick_opening_still_refuses_garbage_and_other_programs_files(tmp_path):
    import sqlite3

    from archive.access import NotAnArchive, check_archive

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    for path, says in ((garbage, "damaged or not a SQLite database"), (other, "another program's SQLite database")):
        for whole_file in (True, False):
            with pytest.raises(NotAnArchive, match=says):
                check_archive(path, whole_file=whole_file)
