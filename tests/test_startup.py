"""A crawl's start-up and throughput: what it does before its first request, and what it waits for."""
from __future__ import annotations

from testbed.multisite import MultiSiteProxy

from .conftest import SITE_A, requires_fixtures
from .test_e2e import run_cli

START = "http://bbs.example.test/forum.php"


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
