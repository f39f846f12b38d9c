"""The benchmark harness (bench/run.py) measures what it says it measures."""
from __future__ import annotations

import os
import sys

import pytest


def test_the_bench_measures_a_process_by_its_own_peak_rss_not_the_bench_processes():
    # A process started by vfork and exec begins with its parent's peak RSS (Linux keeps the old address space's
    # high-water mark at exec): the bench's measured processes are started by a small process of their own.
    from types import SimpleNamespace

    from bench import run

    ballast = bytearray(300 * 1024 * 1024)  # this process well past 300 MB at its peak
    ballast[::4096] = b"x" * len(ballast[::4096])
    server = SimpleNamespace(requests=[], first_request_at=None)
    small = run._timed_run([sys.executable, "-c", "import sys; sys.exit(1)"], dict(os.environ), server)
    assert small["peak_rss_mb"] < 60 and 0 < small["cpu_s"] < 5
    big = run._timed_run([sys.executable, "-c", "b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
                         dict(os.environ), server)
    assert 150 < big["peak_rss_mb"] < 250
    with pytest.raises(RuntimeError, match="exited 3"):
        run._timed_run([sys.executable, "-c", "import sys; sys.exit(3)"], dict(os.environ), server)
    del ballast


def test_the_parse_profile_times_every_part_it_names_on_the_captures_thread_pages_and_puts_each_back():
    # bench/parse_parts.py wraps the functions that do each part of a page's parse: a part whose function is
    # renamed or no longer looked up through its module would time nothing (and the profile would say so here).
    import scraper.parsers as parsers
    from bench import parse_parts
    from bench.parse_ratio import thread_pages
    from scraper.parsers import thread

    originals = {(module, name): getattr(module, name) for _, module, name, _ in parse_parts.PARTS}
    pages = thread_pages()
    assert len(pages) > 100
    result = parse_parts.measure(rounds=1, pages=pages)
    assert all(getattr(module, name) is function for (module, name), function in originals.items())
    assert parsers.read_document is originals[(parsers, "read_document")]
    assert thread._parse_post_frame is originals[(thread, "_parse_post_frame")]
    assert result["pages"] == len(pages)
    for label, _, _, _ in parse_parts.PARTS:
        assert result["calls_per_page"][label] > 0, label
        assert result["parts_us"][label] > 0, label
    # A part's time includes the parts it calls; the top-level parts are within the whole parse.
    parts = result["parts_us"]
    assert sum(parts[label] for label, _, _, parent in parse_parts.PARTS if parent == "thread parser") \
        < parts["thread parser"]
    assert result["rest_us"] > 0 and result["parse_us"] > parts["document"] + parts["thread parser"]
    # The page's tree is freed after the parse, outside every part (and outside the document's time).
    assert 0 < result["freed_us"] < parts["document"]
    # Every HTML thread page is read as a document once (the mobile API's answers are JSON: none).
    assert 0.8 < result["calls_per_page"]["document"] <= 1.0
    assert result["ratio"] == pytest.approx(result["parse_us"] / result["lxml_us"])
    assert result["budget_us"] == pytest.approx(2.5 * result["lxml_us"])
    line = parse_parts.summary(result)
    assert line.startswith(f"a page's parse, µs: {result['parse_us']:.0f} = document ")
    assert "thread parser" in line and "the rest" in line and "post frames" not in line
