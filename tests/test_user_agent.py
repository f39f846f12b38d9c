"""The User-Agent names dzarchive and its version, and the contact the user set."""
from __future__ import annotations

import os
import subprocess
import sys

from scrapy.utils.test import get_crawler

from dzarchive.config import load_config
from scraper.settings import USER_AGENT, VERSION
from scraper.spiders.site import SiteSpider
from scraper.useragent import ContactUserAgentMiddleware, user_agent
from testbed.replay import ReplayServer

from .conftest import SITE_A, requires_fixtures


def test_user_agent_names_dzarchive_its_version_and_no_made_up_page():
    assert USER_AGENT == f"dzarchive/{VERSION} (Discuz! forum archiver)"
    assert VERSION != "0.0.0" and "http" not in USER_AGENT
    assert user_agent(USER_AGENT, "me@example.org") == f"dzarchive/{VERSION} (Discuz! forum archiver; contact: me@example.org)"
    assert user_agent(USER_AGENT, "  ") == USER_AGENT


def test_the_middleware_adds_the_contact_setting():
    crawler = get_crawler(SiteSpider, {"USER_AGENT": USER_AGENT, "DZ_CONTACT": "https://example.org/me"})
    assert ContactUserAgentMiddleware.from_crawler(crawler).user_agent.endswith("; contact: https://example.org/me)")


def test_the_config_file_passes_its_contact_to_each_crawl(tmp_path):
    config = tmp_path / "dzarchive.toml"
    config.write_text('contact = "me@example.org"\n[[site]]\nurl = "http://a.example/forum.php"\n'
                      '[[site]]\nurl = "http://b.example/forum.php"\ncontact = "other@example.org"\n', encoding="utf-8")
    first, second = load_config(config)
    assert first.crawl_args()[-2:] == ["--contact", "me@example.org"]
    assert second.crawl_args()[-2:] == ["--contact", "other@example.org"]


@requires_fixtures
def test_every_request_of_a_crawl_carries_the_contact(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    with ReplayServer(SITE_A) as server:
        env.update(http_proxy=server.url, no_proxy="127.0.0.1,localhost")
        done = subprocess.run([sys.executable, "-m", "dzarchive", "crawl", "http://bbs.example.test/thread-2-1-1.html",
                               "--db", str(tmp_path / "a.db"), "--no-profiles", "--contact", "me@example.org",
                               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "/robots.txt" in server.requests and len(server.requests) > 3
        assert server.user_agents == {f"dzarchive/{VERSION} (Discuz! forum archiver; contact: me@example.org)"}
