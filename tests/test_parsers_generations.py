"""Every Discuz! generation and theme: 5.5/6.x thread pages, and graceful reading of unknown skeletons.

The 5.5/6.x pages are the twelve real 1984bbs.com pages (GBK) with their per-post truth in
``real/1984bbs.com/expected.json``. The unknown-skeleton pages are real fixture pages with the
family hooks taken away (``div#postlist``, ``em#authorpostonPID``, ``table#pidPID``), the way themes
move them; the posts must still come out, and the page must say what it could not read.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.normalise import normalise_page
from scraper.items import STATUS_OK, STATUS_PARTIAL
from scraper.parsers import parse_page

from .conftest import REAL
from .test_parsers_units import parse, post_node, thread_page

CST = timezone(timedelta(hours=8))
BBS1984 = REAL / "1984bbs.com"
TALKOP = REAL / "bbs.talkop.com" / "viewthread-1.html"
TALKOP_URL = "http://bbs.talkop.com/thread-108869-1-1.html"

requires_1984 = pytest.mark.skipif(not (BBS1984 / "expected.json").exists(), reason="1984bbs fixtures absent")
requires_talkop = pytest.mark.skipif(not TALKOP.exists(), reason="talkop fixture absent")


def _truth() -> dict:
    return json.loads((BBS1984 / "expected.json").read_text(encoding="utf-8"))["pages"] if BBS1984.exists() else {}


# --- Discuz! 5.5/6.x -----------------------------------------------------------------------------

@requires_1984
@pytest.mark.parametrize("name", sorted(_truth()))
def test_6x_thread_page_gives_every_post_as_its_truth(name):
    want = _truth()[name]
    page = parse_page(want["url"], (BBS1984 / name).read_bytes())
    assert page.kind == "viewthread" and page.status == STATUS_OK, page.message
    assert page.tid == want["tid"]
    got = [(p.pid, p.author_uid, p.author, p.floor, p.posted_at_text) for p in page.posts]
    assert got == [(w["pid"], w["uid"], w["author"], w["floor"], w["time"]) for w in want["posts"]]
    assert [p.posted_at for p in page.posts] == [
        datetime.strptime(w["time"], "%Y-%m-%d %H:%M").replace(tzinfo=CST) for w in want["posts"]]


@requires_1984
def test_6x_page_states_no_version_so_the_family_is_recorded():
    want = _truth()["viewthread-01.html"]
    page = parse_page(want["url"], (BBS1984 / "viewthread-01.html").read_bytes())
    assert page.version == "6.x"
    assert page.fid == 35  # var fid = parseInt('35')
    thread = page.threads[0]
    assert (thread.tid, thread.title, thread.forum_name) == (36567, "对某杭州组员聚会召集人的看法", "罗马假日公寓")
    assert (thread.author, thread.author_uid, thread.created_at) == ("墨回", 6370, datetime(2010, 2, 1, 11, 37, tzinfo=CST))
    assert page.posts[0].is_first and not page.posts[1].is_first
    assert page.posts[1].content_text == "为什么你不把当时自己说了些什么话写在这里呢？歪曲事实！我不想解释！"
    assert {u.uid: u.username for u in page.users}[10633] == "diyzh"


@requires_1984
def test_6x_quote_headers_and_reply_titles_stay_out_of_the_time():
    # Replies quote "X 发表于 T" inside the message; the post's own time is the one in div.postinfo.
    for name, want in _truth().items():
        page = parse_page(want["url"], (BBS1984 / name).read_bytes())
        for post in page.posts:
            for quote in post.quotes:
                assert quote.time_text != post.posted_at_text or quote.pid != post.pid


# --- graceful recognition --------------------------------------------------------------------------

def _talkop_text() -> str:
    return TALKOP.read_bytes().decode("utf-8")


@requires_talkop
def test_theme_page_without_time_elements_keeps_its_posts_marked_partial():
    full = parse_page(TALKOP_URL, TALKOP.read_bytes())
    html = re.sub(r'<em id="authorposton\d+">.*?</em>', "", _talkop_text(), flags=re.S)
    html = html.replace('id="postlist"', 'id="theme-posts"')
    page = parse_page(TALKOP_URL, html.encode("utf-8"))
    assert page.kind == "viewthread" and page.status == STATUS_PARTIAL
    assert page.missing == ["post.posted_at"]
    assert "post.posted_at (10 of 10 posts)" in page.message
    assert [(p.pid, p.floor, p.author, p.author_uid, p.content_text) for p in page.posts] == \
        [(p.pid, p.floor, p.author, p.author_uid, p.content_text) for p in full.posts]
    assert all(p.posted_at is None for p in page.posts)
    assert page.tid == 108869 and page.fid == 49


@requires_talkop
def test_partial_page_posts_are_still_archived_rows():
    html = re.sub(r'<em id="authorposton\d+">.*?</em>', "", _talkop_text(), flags=re.S)
    record = normalise_page(parse_page(TALKOP_URL, html.encode("utf-8")))
    assert record.status == STATUS_PARTIAL
    assert [row["pid"] for row in record.rows["posts"]][:3] == [608948, 608949, 608950]
    assert record.keep_body  # kept for re-parsing once the theme is known
    assert record.thread_view["pids"][:1] == [608948]


@requires_talkop
def test_theme_without_pid_tables_is_read_from_the_message_ids():
    full = parse_page(TALKOP_URL, TALKOP.read_bytes())
    html = re.sub(r'id="(pid|post_)(\d+)"', r'id="theme\1\2"', _talkop_text()).replace('id="postlist"', 'id="x"')
    page = parse_page(TALKOP_URL, html.encode("utf-8"))
    assert page.status == STATUS_OK, page.message
    assert [(p.pid, p.floor, p.author_uid, p.posted_at) for p in page.posts] == \
        [(p.pid, p.floor, p.author_uid, p.posted_at) for p in full.posts]


@requires_talkop
def test_time_as_bare_text_is_read_when_the_em_loses_its_id():
    full = parse_page(TALKOP_URL, TALKOP.read_bytes())
    html = re.sub(r'<em id="authorposton\d+">', "<em>", _talkop_text())
    page = parse_page(TALKOP_URL, html.encode("utf-8"))
    assert page.status == STATUS_OK
    assert [p.posted_at for p in page.posts] == [p.posted_at for p in full.posts]


def test_page_with_no_post_signal_is_still_a_page():
    page = parse_page("http://bbs.test/viewthread.php?tid=9", "<html><body><p>主题</p></body></html>".encode())
    assert page.kind == "special" and page.status == "unknown" and page.tid == 9


# --- X dateformat / timeformat variants ------------------------------------------------------------

@pytest.mark.parametrize("time_html, want", [
    ("发表于 2024-01-05 15:20", datetime(2024, 1, 5, 15, 20, tzinfo=CST)),  # Y-m-d
    ("发表于 2024/01/05 15:20", datetime(2024, 1, 5, 15, 20, tzinfo=CST)),  # Y/m/d
    ("发表于 2024-1-5 03:20 PM", datetime(2024, 1, 5, 15, 20, tzinfo=CST)),  # h:i A
    ("发表于 2024-1-5 12:05 AM", datetime(2024, 1, 5, 0, 5, tzinfo=CST)),
    ("发表于 2024-1-5 下午 3:20", datetime(2024, 1, 5, 15, 20, tzinfo=CST)),
    ("发表于 01-05 03:20 PM", datetime(2026, 1, 5, 15, 20, tzinfo=CST)),  # m-d, 12-hour
    ("发表于 11-20 下午 8:06", datetime(2026, 11, 20, 20, 6, tzinfo=CST)),
])
def test_dateformat_and_12_hour_variants(time_html, want):
    post = parse(thread_page(post_node(11, "楼主", "x", time_html=time_html))).posts[0]
    assert post.posted_at == want


@pytest.mark.parametrize("time_html, want", [
    ("发表于 2024/01/05 03:20 PM", datetime(2024, 1, 5, 15, 20, tzinfo=CST)),
    ("发表于 01-05 15:20", datetime(2026, 1, 5, 15, 20, tzinfo=CST)),
])
def test_bare_time_text_in_any_dateformat(time_html, want):
    node = post_node(11, "楼主", "x", time_html=time_html).replace('<em id="authorposton11">', "<em>")
    post = parse(thread_page(node)).posts[0]
    assert (post.posted_at_text, post.posted_at) == (time_html.split(" ", 1)[1], want)


# --- the accuracy bench's corpus mode --------------------------------------------------------------

@requires_1984
def test_corpus_mode_reports_page_and_field_rates_from_the_truth_file():
    from bench.accuracy import CORPUS_FIELDS, corpus_report

    report = corpus_report(BBS1984)
    total = sum(len(p["posts"]) for p in _truth().values())
    assert (report["pages"], report["recognised"], report["unrecognised"]) == (12, 12, [])
    assert report["fields"] == {field: [total, total] for field in CORPUS_FIELDS}


@requires_talkop
def test_corpus_mode_counts_unrecognised_and_partial_pages(tmp_path):
    from bench.accuracy import corpus_report

    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "blank.html").write_bytes("<html><body>维护中</body></html>".encode())
    html = re.sub(r'<em id="authorposton\d+">.*?</em>', "", _talkop_text(), flags=re.S)
    (tmp_path / "host" / "theme.html").write_bytes(html.encode())
    report = corpus_report(tmp_path)
    assert (report["pages"], report["recognised"], report["partial"]) == (2, 1, 1)
    assert report["unrecognised"] == ["host/blank.html"]
