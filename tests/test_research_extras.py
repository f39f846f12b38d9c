"""The researchers' side of what a thread page shows besides posts (issue 19): the JSONL export nests polls, rewards,
debates, activities, trades, tags, figures, ratings, 点评 comments and debate stands under their thread and post, the
round trip through import-jsonl gives the same bytes back, search finds comments, `changes` reports new ratings,
comments and figure movements, and the views, stats and Datasette metadata describe the new tables.

The archive is built from hand-made pages (``ParsedPage`` items carrying every new item) through the pipelines'
``normalise_page`` and ``Archive.write``, in two crawls: state 1, then state 2 where votes, applicants, downloads
and stock moved and a rating and two comments were added. A last test does the same with every page of capture G
as the parsers read it today.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

import research
import schemas
from archive import Archive
from archive.fulltext import register_functions
from archive.changes import crawl_changes
from pipelines.normalise import normalise_page
from pipelines.validate import validate_record
from research import text_search
from scraper.items import (KIND_VIEWTHREAD, Activity, ActivityApplicant, Attachment, Debate, DebatePost, ParsedPage,
                           Poll, PollOption, Post, PostComment, Rating, Reward, Thread, ThreadTag, Trade, User)
from scraper.crawl import CrawlResult
from scraper.parsers import parse_page

from .conftest import FIXTURES, captured_pages
from .test_research import cli, datasette_search, export_lines, export_measured, rows, table_contents

START = "http://bbs.example.test/forum.php"
BASE = "http://bbs.example.test/"
SITE_G = FIXTURES / "discuz-x35-utf8-g"
# The two crawls: when their pages were fetched (UTC) and the Date header they carried.
WHEN = {1: datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc), 2: datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)}
NEW_TABLES = ("polls", "poll_options", "rewards", "debates", "debate_posts", "activities", "activity_applicants",
              "trades", "ratings", "post_comments", "thread_tags", "figure_history")


# -- the pages ---------------------------------------------------------------------------------------
def _page(tid: int, fid: int, state: int, title: str, posts: list[Post], **items) -> ParsedPage:
    return ParsedPage(
        url=f"{START}?mod=viewthread&tid={tid}", kind=KIND_VIEWTHREAD, tid=tid, fid=fid, page=1, pages=1,
        fetched_at=WHEN[state], date_header=WHEN[state].strftime("%a, %d %b %Y %H:%M:%S GMT"),
        threads=[Thread(tid=tid, fid=fid, title=title, author_uid=posts[0].author_uid, author=posts[0].author,
                        created_at=posts[0].posted_at, replies=len(posts) - 1, views=100 * state,
                        url=f"{START}?mod=viewthread&tid={tid}", special=items.pop("special", None),
                        recommend_add=items.pop("recommend_add", None), recommend_sub=items.pop("recommend_sub", None))],
        posts=posts, users=[User(uid=p.author_uid, username=p.author) for p in posts if p.author_uid], **items)


def _post(pid: int, tid: int, floor: int, uid: int | None, author: str, text: str, day: int = 28, **fields) -> Post:
    return Post(pid=pid, tid=tid, floor=floor, is_first=floor == 1, author_uid=uid, author=author,
                posted_at=datetime.fromisoformat(f"2026-11-{day:02d}T09:{floor:02d}:00+08:00"), content_text=text,
                content_html=f"<p>{text}</p>", page=1, url=f"{START}?mod=viewthread&tid={tid}", **fields)


def pages(state: int) -> list[ParsedPage]:
    """The five special threads as state 1 or state 2 shows them."""
    later = state == 2
    comments = [PostComment(pid=70, tid=7, author_uid=3, author="老盐工", comment="说得对，水煮牛肉最正宗",
                            posted_at=datetime.fromisoformat("2026-11-30T20:00:00+08:00"), posted_at_text="2026-11-30 20:00")]
    ratings = [Rating(pid=70, tid=7, uid=3, username="老盐工", credit="威望", score=2, reason="好帖",
                      rated_at=datetime.fromisoformat("2026-11-29T10:00:00+08:00"), rated_at_text="2026-11-29 10:00"),
               Rating(pid=70, tid=7, uid=4, username="盐帮弟子", credit="金钱", score=10)]
    if later:
        comments.append(PostComment(pid=71, tid=7, author_uid=4, author="盐帮弟子", comment="盐帮菜yyds",
                                    posted_at=datetime.fromisoformat("2026-12-02T09:00:00+08:00")))
        ratings.append(Rating(pid=72, tid=7, uid=5, username="新来的小王", credit="威望", score=-1, reason="灌水"))
    poll_thread = _page(
        7, 2, state, "自贡最好吃的菜投票", [
            _post(70, 7, 1, 2, "西秦小编", "大家来投票：自贡哪道菜最好吃", rate_count=len(ratings) - later,
                  rate_totals={"威望": 2, "金钱": 10}, comments_shown=1, comments_more=False, is_warned=False),
            _post(71, 7, 2, None, "匿名", "我投冷吃兔", is_anonymous=True, comments_shown=1 if later else None),
            _post(72, 7, 3, 3, "老盐工", "都好吃", is_warned=True, rate_count=1 if later else None,
                  rate_totals={"威望": -1} if later else {})],
        special="poll", recommend_add=5 if later else 3, recommend_sub=1,
        polls=[Poll(tid=7, multiple=True, max_choices=2, voters=27 if later else 26,
                    expires_at=datetime.fromisoformat("2026-12-31T00:00:00+08:00"), expires_at_text="2026-12-31 00:00",
                    is_expired=False, results_visible=True, voters_public=True, options=[
                        PollOption(tid=7, position=1, text="水煮牛肉", polloptionid=31, votes=13 if later else 12,
                                   percent=48.15 if later else 46.15),
                        PollOption(tid=7, position=2, text="冷吃兔", polloptionid=32, votes=14,
                                   percent=51.85 if later else 53.85),
                        PollOption(tid=7, position=3, text="火边子牛肉", polloptionid=33, votes=0, percent=0.0,
                                   image_url=f"{BASE}data/attachment/forum/poll/3.jpg", image_aid=44)])],
        ratings=ratings, post_comments=comments,
        thread_tags=[ThreadTag(tid=7, tagname="美食", tagid=12), ThreadTag(tid=7, tagname="自贡", tagid=13)],
        attachments=[Attachment(pid=70, url=f"{BASE}data/attachment/forum/202611/shuizhu.jpg", name="shuizhu.jpg",
                                aid=5, size=37632, size_text="36.75 KB", downloads=12 if later else 10, width=800,
                                height=600, uploaded_at=datetime.fromisoformat("2026-11-28T09:00:00+08:00"),
                                uploaded_at_text="2026-11-28 09:00", can_view=True, can_download=True)])
    reward_thread = _page(
        8, 2, state, "求推荐自贡的盐帮菜馆", [_post(80, 8, 1, 3, "老盐工", "悬赏：哪家盐帮菜馆最地道"),
                                     _post(81, 8, 2, 4, "盐帮弟子", "沿滩那家最地道")],
        special="reward", rewards=[Reward(tid=8, price=20, credit="金钱", is_resolved=True, best_pid=81,
                                          best_author="盐帮弟子", best_author_uid=4)])
    debate_thread = _page(
        9, 2, state, "辩论：冷吃兔该不该放糖", [_post(90, 9, 1, 2, "西秦小编", "冷吃兔该不该放糖？"),
                                       _post(91, 9, 2, 3, "老盐工", "放糖才正宗"),
                                       _post(92, 9, 3, 4, "盐帮弟子", "不放糖")],
        special="debate",
        debates=[Debate(tid=9, affirm_point="该放糖", nega_point="不该放糖", affirm_votes=6 if later else 5,
                        nega_votes=3, affirm_debaters=1, nega_debaters=1,
                        affirm_debater_list=[{"uid": 3, "username": "老盐工"}],
                        nega_debater_list=[{"uid": 4, "username": "盐帮弟子"}], umpire="西秦小编", umpire_uid=2,
                        ends_at=datetime.fromisoformat("2026-12-20T00:00:00+08:00"), ends_at_text="2026-12-20",
                        is_ended=False)],
        debate_posts=[DebatePost(pid=91, tid=9, stand="affirm", stand_text="正方", voters=2),
                      DebatePost(pid=92, tid=9, stand="nega", stand_text="反方", voters=2 if later else 1)])
    applicants = [ActivityApplicant(tid=10, uid=3, username="老盐工", verified=True, message="带两个人",
                                    applied_at=datetime.fromisoformat("2026-11-29T12:00:00+08:00"),
                                    applied_at_text="2026-11-29 12:00"),
                  ActivityApplicant(tid=10, uid=4, username="盐帮弟子", verified=False)]
    if later:
        applicants.append(ActivityApplicant(tid=10, uid=5, username="新来的小王"))
    activity_thread = _page(
        10, 3, state, "周末釜溪河聚会", [_post(100, 10, 1, 2, "西秦小编", "周末聚会，报名从速")],
        special="activity",
        activities=[Activity(tid=10, class_name="聚会", time_text="2026-12-12 10:00 - 2026-12-12 18:00",
                             starts_at=datetime.fromisoformat("2026-12-12T10:00:00+08:00"),
                             ends_at=datetime.fromisoformat("2026-12-12T18:00:00+08:00"), place="釜溪河边", cost=50,
                             gender="不限", number=10, applicants=len(applicants), remaining=10 - len(applicants),
                             pending=1, applicant_list=applicants)],
        post_comments=[PostComment(pid=100, tid=10, author_uid=3, author="老盐工", comment="聚会带上盐帮菜")])
    trade_thread = _page(
        11, 3, state, "出售自贡井盐", [_post(110, 11, 1, 2, "西秦小编", "自家井盐，欢迎选购")],
        special="trade",
        trades=[Trade(tid=11, pid=1101, item="自贡井盐", price=12.5, cost_price=20.0, amount=98 if later else 100, sold=2,
                      locus="自贡", quality="全新", seller="西秦小编", seller_uid=2,
                      image_url=f"{BASE}data/attachment/forum/salt.jpg", aid=30,
                      url=f"{START}?mod=viewthread&do=tradeinfo&tid=11&pid=1101", content_text="井盐500克装"),
                Trade(tid=11, pid=1102, item="冷吃兔礼盒", price=88.0, amount=5, seller="西秦小编", seller_uid=2)],
        # the goods post's picture: its pid is the goods post, which is not a floor of the thread
        attachments=[Attachment(pid=1101, url=f"{BASE}data/attachment/forum/salt.jpg", name="salt.jpg", aid=30,
                                kind="image")])
    return [poll_thread, reward_thread, debate_thread, activity_thread, trade_thread]


def build(path) -> None:
    """Two crawls of the five threads: state 1 (the archive's first crawl), then state 2."""
    archive = Archive(path)
    for state in (1, 2):
        crawl = archive.start_crawl(START, "+08:00")
        for page in pages(state):
            archive.write(validate_record(normalise_page(page, "+08:00")), crawl)
        archive.finish_crawl(crawl, "finished", pages=5, items=0)
    archive.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("extras") / "archive.db"
    build(path)
    return path


@pytest.fixture()
def db(built):
    database = research.open_archive(built, readonly=True)
    yield database
    database.conn.close()


@pytest.fixture(scope="module")
def validate():
    import jsonschema

    schema = json.loads(research.EXPORT_SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return lambda obj: [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(obj)]


def lines_by_tid(source, selection=None) -> dict[int, dict]:
    return {line["tid"]: line for line in map(json.loads, export_lines(source, selection))}


def test_the_pages_wrote_every_new_table(built):
    """The archive the other tests read holds rows in every new table (else they would prove nothing)."""
    for table in NEW_TABLES:
        assert rows(built, f"SELECT count(*) FROM {table}")[0][0] > 0, table
    assert rows(built, "SELECT count(*) FROM crawls WHERE status = 'finished'") == [(2,)]


# == export =========================================================================================
def test_a_thread_line_nests_its_boxes_tags_and_figures(db):
    threads = lines_by_tid(db)
    poll = threads[7]
    assert list(poll)[-9:] == ["forum", "poll", "reward", "debate", "activity", "trades", "tags", "figure_history",
                               "posts"]
    assert (poll["special"], poll["recommend_add"], poll["recommend_sub"]) == ("poll", 5, 1)
    assert (poll["poll"]["multiple"], poll["poll"]["max_choices"], poll["poll"]["voters"]) == (1, 2, 27)
    assert poll["poll"]["expires_at"] == "2026-12-31T00:00:00+08:00" and "tid" not in poll["poll"]
    assert [(o["position"], o["text"], o["votes"], o["percent"]) for o in poll["poll"]["options"]] == [
        (1, "水煮牛肉", 13, 48.15), (2, "冷吃兔", 14, 51.85), (3, "火边子牛肉", 0, 0.0)]
    assert poll["poll"]["options"][2]["image_url"].endswith("poll/3.jpg")
    assert [(t["tagname"], t["tagid"]) for t in poll["tags"]] == [("美食", 12), ("自贡", 13)]
    assert (poll["reward"], poll["debate"], poll["activity"], poll["trades"]) == (None, None, None, [])
    # each value each crawl saw that differed from the one before, oldest first, the first sightings included
    series = {}
    for row in poll["figure_history"]:
        series.setdefault((row["subject"], row["pid"], row["ref"], row["figure"]), []).append(row["value"])
    assert series[("thread", None, None, "recommend_add")] == [3, 5]
    assert series[("thread", None, None, "recommend_sub")] == [1]
    assert series[("poll", None, None, "voters")] == [26, 27]
    assert series[("poll_option", None, "1", "votes")] == [12, 13]
    assert series[("poll_option", None, "2", "votes")] == [14]
    assert series[("attachment", 70, "aid:5", "downloads")] == [10, 12]
    assert {r["seen_at"] for r in poll["figure_history"]} == {"2026-12-01T10:00:00+08:00", "2026-12-02T10:00:00+08:00"}

    reward = threads[8]["reward"]
    assert (reward["price"], reward["credit"], reward["is_resolved"], reward["best_pid"], reward["best_author"]) == (
        20, "金钱", 1, 81, "盐帮弟子")
    debate = threads[9]["debate"]
    assert (debate["affirm_votes"], debate["nega_votes"], debate["umpire_uid"]) == (6, 3, 2)
    assert debate["affirm_debater_list"] == [{"uid": 3, "username": "老盐工"}]
    activity = threads[10]["activity"]
    assert (activity["class_name"], activity["place"], activity["applicants"], activity["remaining"]) == (
        "聚会", "釜溪河边", 3, 7)
    assert [(a["uid"], a["username"], a["verified"]) for a in activity["applicant_list"]] == [
        (3, "老盐工", 1), (4, "盐帮弟子", 0), (5, "新来的小王", None)]
    assert activity["applicant_list"][0]["applied_at"] == "2026-11-29T12:00:00+08:00" and activity["pending"] == 1
    trades = threads[11]["trades"]
    assert [(t["pid"], t["item"], t["price"], t["amount"]) for t in trades] == [
        (1101, "自贡井盐", 12.5, 98), (1102, "冷吃兔礼盒", 88.0, 5)]
    # the goods post is no floor of the thread: its picture comes with its goods
    assert [(a["ref"], a["name"]) for a in trades[0]["attachments"]] == [("aid:30", "salt.jpg")]
    assert trades[1]["attachments"] == [] and 1101 not in {p["pid"] for p in threads[11]["posts"]}
    assert [(r["subject"], r["pid"], r["value"]) for r in threads[11]["figure_history"]
            if r["figure"] == "amount"] == [("trade", 1101, 100), ("trade", 1102, 5), ("trade", 1101, 98)]


def test_each_post_carries_its_ratings_comments_and_debate_stand(db):
    threads = lines_by_tid(db)
    first, anonymous, warned = threads[7]["posts"]
    assert [(r["uid"], r["username"], r["credit"], r["score"], r["reason"]) for r in first["ratings"]] == [
        (3, "老盐工", "威望", 2, "好帖"), (4, "盐帮弟子", "金钱", 10, None)]
    assert first["ratings"][0]["rated_at"] == "2026-11-29T10:00:00+08:00" and "pid" not in first["ratings"][0]
    assert (first["rate_count"], first["rate_totals"], first["comments_shown"], first["comments_more"]) == (
        2, {"威望": 2, "金钱": 10}, 1, 0)
    assert [(c["author_uid"], c["author"], c["comment"], c["posted_at"]) for c in first["comments"]] == [
        (3, "老盐工", "说得对，水煮牛肉最正宗", "2026-11-30T20:00:00+08:00")]
    assert (anonymous["is_anonymous"], anonymous["author_uid"], [c["comment"] for c in anonymous["comments"]]) == (
        1, None, ["盐帮菜yyds"])
    assert (warned["is_warned"], [(r["username"], r["score"]) for r in warned["ratings"]]) == (1, [("新来的小王", -1)])
    assert first["debate_post"] is None and first["attachments"][0]["downloads"] == 12
    stands = {p["pid"]: p["debate_post"] for p in threads[9]["posts"]}
    assert stands[90] is None
    assert (stands[91]["stand"], stands[91]["stand_text"], stands[92]["stand"], stands[92]["voters"]) == (
        "affirm", "正方", "nega", 2)
    assert list(first)[-6:] == ["attachments", "revisions", "ratings", "comments", "debate_post", "user"]


def test_flat_lines_carry_the_post_level_extras(db):
    posts = {p["pid"]: p for p in map(json.loads, export_lines(db, flat=True))}
    assert [r["score"] for r in posts[70]["ratings"]] == [2, 10]
    assert [c["comment"] for c in posts[100]["comments"]] == ["聚会带上盐帮菜"]
    assert posts[92]["debate_post"]["stand"] == "nega" and posts[92]["fid"] == 2
    assert "poll" not in posts[70] and "figure_history" not in posts[70]


def test_every_line_validates_and_the_schema_rejects_bad_extras(db, validate):
    for flat in (False, True):
        for line in export_lines(db, flat=flat):
            assert validate(json.loads(line)) == [], line[:200]
    thread = lines_by_tid(db)[7]
    assert validate(thread) == []
    bad_option = json.loads(json.dumps(thread))
    bad_option["poll"]["options"][0]["votes"] = "many"
    assert validate(bad_option) != []
    no_options = json.loads(json.dumps(thread))
    del no_options["poll"]["options"]
    assert validate(no_options) != []
    bad_flag = json.loads(json.dumps(thread))
    bad_flag["posts"][0]["ratings"][0]["surprise"] = 1
    assert validate(bad_flag) != []
    assert validate(dict(thread, figure_history=[dict(thread["figure_history"][0], seen_at="yesterday")])) != []
    assert validate({k: v for k, v in thread.items() if k != "tags"}) != []


def test_streamed_lines_equal_the_python_api(db):
    assert export_lines(db) == [research._ENCODE(t) for t in research.iter_threads(db)]
    assert export_lines(db, flat=True) == [research._ENCODE(p) for p in research.iter_posts(db)]
    media = research.Selection(tid=(7, 11))
    assert export_lines(db, media, media=True) == [research._ENCODE(t) for t in research.iter_threads(db, media,
                                                                                                       media=True)]
    (trade,) = [t for t in research.iter_threads(db, research.Selection(tid=(11,)), media=True)]
    assert trade["trades"][0]["attachments"][0]["media"] is None  # nothing downloaded: null, as on posts


@pytest.mark.parametrize("selection", [
    research.Selection(forum=(3,)), research.Selection(tid=(9, 11)), research.Selection(since="2026-11-28T09:02"),
    research.Selection(search="盐帮"), research.Selection(search="最好吃")])
def test_a_selection_keeps_each_threads_extras_with_it(db, selection):
    """Threads left out (by forum, tid, or for want of a selected post) take their boxes and figures with them."""
    whole = lines_by_tid(db)
    picked = lines_by_tid(db, selection)
    assert picked and set(picked) < set(whole)
    keys = [key for key, _, _ in research.THREAD_EXTRAS]
    for tid, line in picked.items():
        assert {k: line[k] for k in keys} == {k: whole[tid][k] for k in keys}, tid
        for post in line["posts"]:
            assert post == next(p for p in whole[tid]["posts"] if p["pid"] == post["pid"])


def test_an_archive_without_the_new_tables_still_exports(built, tmp_path):
    """An archive last written by an older dzarchive, read without upgrading it: no extras, every key there."""
    path = tmp_path / "old.db"
    shutil.copy(built, path)
    conn = sqlite3.connect(path)
    with conn:
        for view in ("thread_summary", "rating_changes", "comment_changes", "figure_changes"):
            conn.execute(f"DROP VIEW [{view}]")
        conn.execute("DROP TABLE post_comments_fts")
        for table in NEW_TABLES:
            conn.execute(f"DROP TABLE [{table}]")
    conn.close()
    db = research.open_archive(path, readonly=True)
    (thread,) = [json.loads(line) for line in export_lines(db, research.Selection(tid=(7,)))]
    assert (thread["poll"], thread["tags"], thread["posts"][0]["ratings"], thread["posts"][0]["comments"]) == (
        None, [], [], [])
    assert [(h["match"], h["pid"]) for h in research.search(db, "最好吃")] == [("post", 70)]
    assert research.stats(db)["extras"]["ratings"] == 0
    db.conn.close()


def test_export_of_many_rated_and_commented_posts_streams_in_flat_memory(built, tmp_path):
    """20,000 posts in one thread, each rated and commented: the side streams hold one post's rows at a time."""
    path = tmp_path / "big.db"
    shutil.copy(built, path)
    conn = sqlite3.connect(path)
    register_functions(conn)  # what the search triggers index with
    post_cols = [r[1] for r in conn.execute("PRAGMA table_info(posts)")]
    with conn:
        conn.execute("DROP TRIGGER post_comments_fts_ai")  # indexing 20k comments is not what is measured
        conn.execute(f"INSERT INTO posts ({', '.join(post_cols)}) SELECT "
                     + ", ".join({"pid": "pid + k * 1000", "floor": "floor + k * 10"}.get(c, c) for c in post_cols)
                     + " FROM posts, (WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 6700)"
                     " SELECT k FROM n) WHERE tid = 7")
        conn.execute("INSERT INTO ratings (pid, tid, uid, username, credit, score, reason)"
                     " SELECT pid, tid, 3, '老盐工', '威望', 1, '好' FROM posts WHERE tid = 7 AND pid > 1000")
        conn.execute("INSERT INTO post_comments (pid, tid, author_uid, author, comment)"
                     " SELECT pid, tid, 4, '盐帮弟子', '顶一个' || pid FROM posts WHERE tid = 7 AND pid > 1000")
    conn.close()

    result, written, peak = export_measured(path)
    assert result.posts > 20_000 and written > 10 * 2**20
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB for {written / 2**20:.0f} MiB written"


# == import and the round trip ======================================================================
def test_round_trip_is_byte_identical_and_rebuilds_every_new_table(built, tmp_path):
    exported = tmp_path / "a.jsonl"
    with open(exported, "wb") as out:
        research.export_jsonl(built, out)
    counts = research.import_jsonl(tmp_path / "b.db", exported)
    assert all(counts[table] > 0 for table in NEW_TABLES), counts
    again = tmp_path / "b.jsonl"
    with open(again, "wb") as out:
        research.export_jsonl(tmp_path / "b.db", out)
    assert again.read_bytes() == exported.read_bytes()
    for table in NEW_TABLES + ("threads", "posts", "attachments", "users"):
        assert table_contents(tmp_path / "b.db", table) == table_contents(built, table), table
    # each post's comments, and each thread's figures, in the order they were first seen
    for sql in ("SELECT pid, comment FROM post_comments ORDER BY pid, id",
                "SELECT subject, pid, ref, figure, value FROM figure_history WHERE tid = 7 ORDER BY id"):
        assert rows(tmp_path / "b.db", sql) == rows(built, sql)
    # importing again changes nothing
    before = {t: table_contents(tmp_path / "b.db", t) for t in research.EXPORTED_TABLES}
    research.import_jsonl(tmp_path / "b.db", exported)
    assert {t: table_contents(tmp_path / "b.db", t) for t in research.EXPORTED_TABLES} == before
    assert rows(tmp_path / "b.db", "SELECT count(*) FROM post_comments") == rows(
        built, "SELECT count(*) FROM post_comments")
    # and the comments are searchable in the rebuilt archive
    assert [(h["match"], h["pid"]) for h in research.search(tmp_path / "b.db", "最正宗")] == [("comment", 70)]


def test_round_trip_keeps_the_crawl_history_changes_reads(built, tmp_path):
    """A third crawl moves thread 8 to forum 3 (a thread state change): the copy's changes (new ratings and comments,
    votes and counts that moved, users' figures, the move) are the original's, and its history tables are the same.
    --flat lines carry no thread boxes (polls, figures over time...) nor the thread's author: their copy has every
    change of posts and users, and the move."""
    original = tmp_path / "a.db"
    shutil.copy(built, original)
    archive = Archive(original)
    crawl = archive.start_crawl(START, "+08:00")
    moved = pages(2)[1]
    moved.fid = moved.threads[0].fid = 3
    archive.write(validate_record(normalise_page(moved, "+08:00")), crawl)
    archive.finish_crawl(crawl, "finished", pages=1, items=0)
    archive.close()
    expected = research.changes(original)
    assert {c["kind"] for c in expected} >= {"rating", "comment", "votes", "counts", "state"}
    assert [(c["tid"], c["field"], c["before"], c["after"]) for c in expected if c["kind"] == "state"] == [
        (8, "fid", "2", "3")]
    for flat in (False, True):
        exported = tmp_path / f"a{flat}.jsonl"
        with open(exported, "wb") as out:
            research.export_jsonl(original, out, flat=flat)
        copy = tmp_path / f"copy{flat}.db"
        research.import_jsonl(copy, exported)
        found = research.changes(copy)
        if flat:  # what a thread line would carry (the thread's author, its boxes' figures) is not on post lines
            assert [c for c in found if c["item"] != "thread"] == [c for c in expected if c["item"] != "thread"]
            threads = [c for c in found if c["item"] == "thread"]
            assert [(c["kind"], c["tid"], c["field"], c["before"], c["after"]) for c in threads] == [
                ("state", 8, "fid", "2", "3")]
        else:
            assert found == expected
        for table in ("crawls", "site", "thread_changes", "user_stats", "ratings", "post_comments"):
            assert table_contents(copy, table) == table_contents(original, table), table
        if not flat:
            assert table_contents(copy, "figure_history") == table_contents(original, "figure_history")
        again = tmp_path / f"again{flat}.jsonl"
        with open(again, "wb") as out:
            research.export_jsonl(copy, out, flat=flat)
        assert again.read_bytes() == exported.read_bytes()


def test_flat_round_trip_keeps_ratings_comments_and_stands(built, tmp_path):
    exported = tmp_path / "a.jsonl.gz"
    with open(exported, "wb") as out:
        research.export_jsonl(built, out, flat=True, compress=True)
    research.import_jsonl(tmp_path / "b.db", exported)
    assert export_lines(tmp_path / "b.db", flat=True) == export_lines(built, flat=True)
    for table in ("ratings", "post_comments", "debate_posts"):
        assert table_contents(tmp_path / "b.db", table) == table_contents(built, table), table


def test_import_gives_attachments_of_older_exports_their_ref(built, tmp_path):
    (line,) = export_lines(built, research.Selection(tid=(7,)))
    thread = json.loads(line)
    for attachment in thread["posts"][0]["attachments"]:
        del attachment["ref"]  # as an export made before attachments were keyed by ref
    thread["posts"][0]["attachments"].append({"url": f"{BASE}static/image/smiley/1.gif", "kind": "image"})
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(thread, ensure_ascii=False) + "\n", encoding="utf-8")
    research.import_jsonl(tmp_path / "b.db", old)
    assert rows(tmp_path / "b.db", "SELECT ref, aid FROM attachments WHERE pid = 70 ORDER BY rowid") == [
        ("aid:5", 5), (f"{BASE}static/image/smiley/1.gif", None)]


# == search =========================================================================================
def test_search_finds_comments_with_the_post_they_comment_on(db):
    hits = research.search(db, "水煮牛肉", limit=None)
    assert [(h["match"], h["tid"], h["pid"], h["floor"], h["author"], h["author_uid"]) for h in hits] == [
        ("comment", 7, 70, 1, "老盐工", 3)]
    assert hits[0]["posted_at"] == "2026-11-30T20:00:00+08:00" and hits[0]["fid"] == 2
    assert hits[0]["snippet"] == "说得对，«水煮牛肉»最正宗"
    # posts and comments together, newest first (a comment without a time last); thread 8's title matches too,
    # but its opening post does: one row for that floor
    both = research.search(db, "盐帮", limit=None)
    assert [(h["match"], h["pid"]) for h in both] == [("comment", 71), ("post", 80), ("comment", 100)]


def test_comment_search_uses_the_index_for_long_terms_and_like_for_short(db, monkeypatch):
    seen = []
    original = text_search._text_match

    def spy(conn, terms, fts, key_sql, text_sql):
        sql, params = original(conn, terms, fts, key_sql, text_sql)
        seen.append((fts, sql))
        return sql, params

    monkeypatch.setattr(text_search, "_text_match", spy)
    assert {h["pid"] for h in research.search(db, "最正宗") if h["match"] == "comment"} == {70}
    assert [s for f, s in seen if f == "post_comments_fts"] and all(
        "MATCH" in s and "LIKE" not in s for f, s in seen if f == "post_comments_fts")
    seen.clear()
    assert {h["pid"] for h in research.search(db, "yyds") if h["match"] == "comment"} == {71}
    seen.clear()
    assert {h["pid"] for h in research.search(db, "盐帮", limit=None) if h["match"] == "comment"} == {71, 100}
    assert all("LIKE" in s and "MATCH" not in s for f, s in seen if f == "post_comments_fts")


def test_comment_search_takes_the_same_filters_and_syntax(db, monkeypatch):
    def comments(query, **options):
        return [h["pid"] for h in research.search(db, query, limit=None, **options) if h["match"] == "comment"]

    assert comments("盐帮", forum=[2]) == [71] and comments("盐帮", forum=[3]) == [100]
    assert comments("盐帮", since="2026-12-01") == [71]
    assert comments("水煮牛肉", until="2026-11-30") == [70] and comments("水煮牛肉", until="2026-11-29") == []
    assert comments("盐帮 -yyds") == [100] and comments("盐帮 -聚会") == [71]
    assert comments("最正宗 OR yyds") == [71, 70]
    assert comments('"水煮牛肉最正宗"') == [70] and comments("水煮牛肉 最正宗 老盐工") == []
    assert comments("盐帮", order="oldest") == [100, 71]
    monkeypatch.setattr(text_search, "has_trigram", lambda: False)  # SQLite without trigram: the same answers
    assert comments("最正宗 OR yyds") == [71, 70] and comments("盐帮 -聚会") == [71]


def test_search_command_shows_what_matched(built):
    runner = CliRunner()
    table = runner.invoke(cli(), ["search", "最正宗", "--db", str(built)])
    assert table.exit_code == 0, table.output
    header, _, row = table.output.splitlines()[:3]
    assert header.split()[:4] == ["posted_at", "tid", "floor", "match"]
    assert "comment" in row and "老盐工" in row and "«最正宗»" in row
    hits = [json.loads(line) for line in runner.invoke(
        cli(), ["search", "盐帮", "--db", str(built), "--json", "--forum", "3", "--limit", "0"]).output.splitlines()]
    assert [(h["match"], h["tid"], h["pid"], h["author"]) for h in hits] == [("comment", 10, 100, "老盐工")]


# == changes ========================================================================================
def test_changes_report_new_ratings_comments_and_figure_movements(db):
    found = research.changes(db)
    assert {c["crawl_id"] for c in found} == {2}  # the first crawl is the baseline: nothing in it is new
    ratings = research.changes(db, kinds=("rating",))
    assert [(c["item"], c["tid"], c["pid"], c["floor"], c["uid"], c["author"], c["field"], c["after"], c["reason"])
            for c in ratings] == [("post", 7, 72, 3, 5, "新来的小王", "威望", -1, "灌水")]
    assert ratings[0]["diff"] == "威望 -1 by 新来的小王: 灌水" and ratings[0]["at"].startswith("2026-12-02T02:00:00")
    comments = research.changes(db, kinds=("comment",))
    assert [(c["pid"], c["floor"], c["author"], c["after"]) for c in comments] == [(71, 2, "盐帮弟子", "盐帮菜yyds")]
    votes = research.changes(db, kinds=("votes",))
    assert [(c["tid"], c["pid"], c["field"], c["before"], c["after"]) for c in votes] == [
        (7, None, "poll voters", 26, 27), (7, None, "poll_option 1 votes", 12, 13), (7, None, "recommend_add", 3, 5),
        (9, None, "debate affirm_votes", 5, 6), (9, 92, "debate_post voters", 1, 2)]
    option = next(c for c in votes if c["field"] == "poll_option 1 votes")
    assert option["diff"] == "poll_option 1 votes (水煮牛肉) 12 -> 13" and option["fid"] == 2
    assert option["at"] == "2026-12-02T02:00:00+00:00" and option["crawl_id"] == 2
    counts = research.changes(db, kinds=("counts",))
    assert [(c["tid"], c["pid"], c["field"], c["before"], c["after"]) for c in counts] == [
        (7, 70, "attachment aid:5 downloads", 10, 12), (10, None, "activity applicants", 2, 3),
        (10, None, "activity remaining", 8, 7), (11, 1101, "trade amount", 100, 98)]
    assert next(c for c in counts if c["field"] == "trade amount")["diff"] == "trade amount (自贡井盐) 100 -> 98"
    # --forum: forum 3 holds the activity and the trade
    assert {c["tid"] for c in research.changes(db, forum=(3,))} == {10, 11}
    assert research.changes(db, kinds=("rating", "comment"), crawl=1) == []


def test_the_crawl_summary_counts_them(built):
    conn = sqlite3.connect(built)
    groups = crawl_changes(conn, 2)
    assert {heading: len(found) for heading, found in groups.items() if found} == {
        "new ratings": 1, "new comments": 1, "votes moved": 5, "counts moved": 4}
    assert not any(crawl_changes(conn, 1).values())
    conn.close()
    # as a re-crawl prints it, with -v
    summary = CrawlResult(db=str(built), crawl={"id": 2, "status": "finished", "start_url": START},
                          changes=groups).summary(verbose=True)
    assert "new ratings 1, new comments 1, votes moved 5, counts moved 4" in summary
    assert "new ratings: pid 72 (tid 7 floor 3)" in summary and "new comments: pid 71 (tid 7 floor 2)" in summary
    assert "votes moved: tid 7 poll voters 26 -> 27; tid 7 poll_option 1 votes 12 -> 13;" in summary
    assert "counts moved: tid 7 attachment aid:5 downloads 10 -> 12;" in summary


def test_changes_command_lists_the_new_kinds(built):
    runner = CliRunner()
    out = runner.invoke(cli(), ["changes", "--db", str(built), "--kind", "votes", "--kind", "rating", "--json"])
    assert out.exit_code == 0, out.output
    found = [json.loads(line) for line in out.output.splitlines()]
    assert sorted(c["kind"] for c in found) == ["rating"] + ["votes"] * 5
    table = runner.invoke(cli(), ["changes", "--db", str(built), "--kind", "comment"])
    assert "盐帮弟子: 盐帮菜yyds" in table.output


def test_the_views_of_changes_and_thread_summary(built, tmp_path):
    conn = sqlite3.connect(built)
    summary = dict(conn.execute("SELECT tid, comments FROM thread_summary").fetchall())
    assert summary == {7: 2, 8: 0, 9: 0, 10: 1, 11: 0}
    for view in ("rating_changes", "comment_changes", "figure_changes"):
        described = set(research.VIEW_DESCRIPTIONS[view][1])
        columns = [d[0] for d in conn.execute(f"SELECT * FROM [{view}] LIMIT 0").description]
        assert described <= set(columns) and research.VIEW_DESCRIPTIONS[view][0], view
    conn.close()
    # An older page read later (a re-parse) puts a sighting before the first: the same value twice in a row is no
    # movement, and the first sighting stays the start of the series.
    path = tmp_path / "reparsed.db"
    shutil.copy(built, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO figure_history (subject, tid, figure, value, seen_at, crawl_id)"
                     " VALUES ('poll', 7, 'voters', 26, '2026-11-30T10:00:00+08:00', 3)")
    assert conn.execute("SELECT before, after, crawl_id FROM figure_changes WHERE field = 'poll voters'").fetchall() == [
        (26, 27, 2)]
    conn.close()


# == stats and Datasette ============================================================================
def test_stats_count_what_the_pages_show_besides_posts(built, db):
    report = research.stats(db)
    assert report["extras"] == {table: rows(built, f"SELECT count(*) FROM [{table}]")[0][0]
                                for table in research.EXTRA_STATS}
    assert (report["extras"]["polls"], report["extras"]["ratings"], report["extras"]["post_comments"]) == (1, 3, 3)
    text = CliRunner().invoke(cli(), ["stats", "--db", str(built)]).output
    assert "beside the posts: polls 1, poll options 3, rewards 1, debates 1, debate stands 2" in text
    assert "ratings 3, comments 3, tags 2" in text


def test_datasette_metadata_describes_links_and_searches_the_new_tables(built):
    metadata = research.datasette_metadata("archive")
    database = metadata["databases"]["archive"]
    tables = database["tables"]
    for table in NEW_TABLES:
        spec = schemas.tables()[table]
        assert tables[table]["description"] == spec["description"]
        assert tables[table]["columns"] == {c: s[1] for c, s in spec["columns"].items()}
        # Datasette links ids through the archive's foreign keys: each one archive.json declares is there
        live = {row[3]: f"{row[2]}.{row[4]}" for row in sqlite3.connect(built).execute(
            f"PRAGMA foreign_key_list([{table}])")}
        assert live == spec.get("foreign_keys", {}) and live, table
    for table in ("posts", "threads", "attachments"):
        for column, (_, description, *_) in schemas.tables()[table]["columns"].items():
            assert tables[table]["columns"][column] == description
    assert {("ratings", "uid"): "users.uid", ("post_comments", "pid"): "posts.pid",
            ("activity_applicants", "uid"): "users.uid", ("trades", "seller_uid"): "users.uid",
            ("polls", "tid"): "threads.tid"}.items() <= {
        (t, c): target for t in NEW_TABLES for c, target in schemas.tables()[t].get("foreign_keys", {}).items()}.items()
    assert (tables["post_comments"]["fts_table"], tables["post_comments"]["fts_pk"]) == ("post_comments_fts", "id")
    assert datasette_search(built, "post_comments", "水煮牛肉") == [
        i for (i,) in rows(built, "SELECT id FROM post_comments WHERE instr(comment, '水煮牛肉') ORDER BY id")] != []
    assert "comments_containing" in tables["post_comments"]["description_html"]
    queries = database["queries"]
    assert rows(built, queries["poll_results"]["sql"], {"tid": 7}) == [
        (7, "自贡最好吃的菜投票", 1, "水煮牛肉", 13, 48.15, 27, 1, 2, "2026-12-31T00:00:00+08:00", 0, 1),
        (7, "自贡最好吃的菜投票", 2, "冷吃兔", 14, 51.85, 27, 1, 2, "2026-12-31T00:00:00+08:00", 0, 1),
        (7, "自贡最好吃的菜投票", 3, "火边子牛肉", 0, 0.0, 27, 1, 2, "2026-12-31T00:00:00+08:00", 0, 1)]
    given = {(r[0], r[2]): r[3:] for r in rows(built, queries["ratings_given"]["sql"])}
    assert given == {(3, "威望"): (1, 2, 1, 0, 1), (4, "金钱"): (1, 10, 1, 0, 1), (5, "威望"): (1, -1, 0, 1, 1)}
    received = {(r[0], r[2]): r[3:] for r in rows(built, queries["ratings_received"]["sql"])}
    assert received == {(2, "威望"): (1, 2, 1, 0, 1), (2, "金钱"): (1, 10, 1, 0, 1), (3, "威望"): (1, -1, 0, 1, 1)}
    assert [r[1:3] for r in rows(built, queries["comments_containing"]["sql"], {"word": "盐帮"})] == [(71, 7), (100, 10)]
    figures = rows(built, queries["thread_figures_over_time"]["sql"], {"tid": 9})
    assert ("debate", None, None, "affirm_votes", 5) in [r[:5] for r in figures]
    assert ("debate_post", None, 92, "voters", 2) in [r[:5] for r in figures]


# == on capture G, as the parsers read it today =====================================================
@pytest.mark.skipif(not SITE_G.exists(), reason="capture G is not beside the project")
def test_capture_g_round_trips_and_validates(tmp_path, validate):
    """Every page of X3.5 capture G, parsed and written as a crawl would: whatever the readers find of polls,
    ratings, comments and the rest exports to lines the schema accepts, and comes back byte for byte."""
    archive = Archive(tmp_path / "g.db")
    crawl = archive.start_crawl("http://bbs.zigong.test/forum.php", "+08:00")
    for p in captured_pages(SITE_G):
        page = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
        archive.write(validate_record(normalise_page(page, "+08:00")), crawl)
    archive.finish_crawl(crawl, "finished", pages=1, items=1)
    archive.close()
    exported = tmp_path / "g.jsonl"
    with open(exported, "wb") as out:
        research.export_jsonl(tmp_path / "g.db", out)
    for line in exported.read_text(encoding="utf-8").splitlines():
        assert validate(json.loads(line)) == [], line[:300]
    research.import_jsonl(tmp_path / "copy.db", exported)
    again = tmp_path / "copy.jsonl"
    with open(again, "wb") as out:
        research.export_jsonl(tmp_path / "copy.db", out)
    assert again.read_bytes() == exported.read_bytes()
    for table in NEW_TABLES:
        assert table_contents(tmp_path / "copy.db", table) == table_contents(tmp_path / "g.db", table), table
