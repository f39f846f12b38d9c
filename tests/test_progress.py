"""The progress line a terminal user sees during a crawl."""
from __future__ import annotations

import io

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from archive.records import PageRecord
from scraper.progress import Progress
from scraper.spiders.site import SiteSpider


def test_progress_counts_archived_pages_and_rows():
    out = io.StringIO()
    progress = Progress(None, stream=out, interval=0)
    record = PageRecord(url="u", kind="viewthread", status="ok", fetched_at="t",
                        rows={"threads": [{"tid": 1}], "posts": [{"pid": 1}, {"pid": 2}], "users": [{"uid": 5}]})
    progress.item_scraped(record)
    progress.item_scraped(record)
    progress.spider_closed()
    last = out.getvalue().split("\r")[-1]
    assert last.startswith("2 pages archived, 4 posts read, 0 errors")
    assert last.endswith("\n")


def test_progress_is_off_unless_asked_for():
    with pytest.raises(NotConfigured):
        Progress.from_crawler(get_crawler(SiteSpider, {"DZ_PROGRESS": False}))
