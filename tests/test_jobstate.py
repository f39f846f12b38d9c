"""The job state (scraper/jobstate.py): the queue waits in memory while the crawl runs and is written to JOBDIR
only when the crawl stops before finishing; the next run takes the requests back in the order they would have
left, and a finished crawl writes nothing."""
from __future__ import annotations

import json
from pathlib import Path

from scrapy import Spider
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from scraper.jobstate import CheckpointScheduler, StoppedSpiderState


class _Spider(Spider):
    name = "jobstate"


def _scheduler(jobdir: Path) -> CheckpointScheduler:
    crawler = get_crawler(_Spider, {"JOBDIR": str(jobdir), "SCHEDULER": "scraper.jobstate.CheckpointScheduler"})
    crawler.spider = crawler._create_spider()
    crawler.engine = crawler._create_engine()  # the crawl's priority queue asks the downloader which host is free
    scheduler = CheckpointScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def _requests() -> list[Request]:
    # Two priorities, several requests each: the order out is by priority, then last in first out.
    return [Request(f"http://bbs.example.test/forum.php?mod=viewthread&tid={n}", priority=20 if n % 3 else 10)
            for n in range(1, 13)]


def _drain(scheduler) -> list[str]:
    out = []
    while (request := scheduler.next_request()) is not None:
        out.append(request.url)
    return out


def _queue_files(jobdir: Path) -> list[Path]:
    return [p for p in (jobdir / "requests.queue").iterdir() if p.name != "active.json"]


def test_requests_wait_in_memory_and_a_stop_saves_them_for_the_next_run_in_the_same_order(tmp_path):
    reference = _scheduler(tmp_path / "reference")
    for request in _requests():
        reference.enqueue_request(request)
    expected = _drain(reference)
    assert len(expected) == 12 and expected[0].endswith("tid=11") and expected[-1].endswith("tid=3")

    jobdir = tmp_path / "job"
    scheduler = _scheduler(jobdir)
    for request in _requests():
        assert scheduler.enqueue_request(request)
    assert _queue_files(jobdir) == []  # nothing pickled to disk while running
    assert len(scheduler) == 12
    first = scheduler.next_request().url
    scheduler.close("shutdown")
    assert _queue_files(jobdir) and json.loads((jobdir / "requests.queue" / "active.json").read_text())

    resumed = _scheduler(jobdir)
    assert len(resumed) == 11
    assert [first, *_drain(resumed)] == expected
    # Requests seen before the stop are still refused after it (the dupefilter's requests.seen).
    assert not resumed.enqueue_request(Request(expected[3]))
    resumed.close("finished")
    assert _queue_files(jobdir) == []


def test_a_finished_crawl_writes_neither_the_queue_nor_the_spiders_state(tmp_path):
    jobdir = tmp_path / "job"
    scheduler = _scheduler(jobdir)
    scheduler.enqueue_request(Request("http://bbs.example.test/forum.php?mod=viewthread&tid=1"))
    scheduler.close("finished")
    assert _queue_files(jobdir) == []

    crawler = get_crawler(_Spider, {"JOBDIR": str(jobdir)})
    state = StoppedSpiderState.from_crawler(crawler)
    spider = crawler._create_spider()
    state.spider_opened(spider)
    spider.state["requested"] = {("viewthread", 1, 1): ["http://bbs.example.test/forum.php?mod=viewthread&tid=1"]}
    state._spider_closed(spider, "finished")
    assert not (jobdir / "spider.state").exists()
    state._spider_closed(spider, "shutdown")
    assert (jobdir / "spider.state").exists()
    again = crawler._create_spider()
    state.spider_opened(again)
    assert again.state == spider.state
