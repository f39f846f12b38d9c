"""What a thread page carries besides posts, in the archive: polls, special threads, ratings, comments, tags,
attachment facts and the figures that change over time, merged in place by re-crawls, their history kept."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from archive import Archive
from archive.changes import page_shows_posts_in_full
from pipelines.normalise import normalise_page
from pipelines.validate import validate_record
from scraper.items import (Activity, ActivityApplicant, Attachment, Debate, DebatePost, ParsedPage, Poll, PollOption,
                           Post, PostComment, Rating, Reward, Thread, ThreadTag, Trade)

CST = timezone(timedelta(hours=8))
DATE = "Sat, 05 Dec 2026 19:11:00 GMT"


def thread_page(*, votes=(7, 5), add=22, downloads=3, token="t1", comment="我也记得这个地方", date=DATE,
                partial=False) -> ParsedPage:
    """Page 1 of a poll thread with every kind of box, as the readers would give it."""
    url = "http://bbs.example.test/thread-7-1-1.html"
    page = ParsedPage(url=url, kind="viewthread", tid=7, fid=2, page=1, pages=1, date_header=date,
                      fetched_at=datetime(2026, 12, 5, 19, 11, tzinfo=timezone.utc), http_status=200)
    page.threads = [Thread(tid=7, fid=2, title="去哪耍", special="poll", recommend_add=add, recommend_sub=3, url=url)]
    page.posts = [
        Post(pid=70, tid=7, floor=1, is_first=True, author_uid=36, author="盐都张哥", content_text="投票", url=url,
             posted_at=datetime(2026, 11, 1, 9, 0, tzinfo=CST), rate_count=2, rate_totals={"威望": 2, "金钱": 10},
             comments_shown=1, comments_more=False, is_warned=False, is_anonymous=False),
        Post(pid=71, tid=7, floor=2, author=None, content_text="匿名回复", url=url, is_anonymous=True, is_warned=True),
    ]
    poll = Poll(tid=7, multiple=False, voters=sum(votes), is_expired=True, results_visible=True, voters_public=True,
                expires_at=datetime(2026, 11, 24, tzinfo=CST), expires_at_text="2026-11-24 00:00")
    poll.options = [PollOption(tid=7, position=n, text=text, votes=v, percent=round(100 * v / sum(votes), 2))
                    for n, (text, v) in enumerate(zip(("自贡恐龙博物馆", "中华彩灯大世界"), votes), 1)]
    if partial:
        poll.status, poll.missing = "partial", ["options"]
    page.polls = [poll]
    page.rewards = [Reward(tid=7, price=30, credit="金钱", is_resolved=False)]
    page.debates = [Debate(tid=7, affirm_point="支持改造", nega_point="反对改造", affirm_votes=11, nega_votes=8,
                           affirm_debater_list=[{"uid": 36, "username": "盐都张哥"}], umpire="盐都张哥")]
    page.debate_posts = [DebatePost(pid=71, tid=7, stand="affirm", stand_text="正方", voters=2)]
    page.activities = [Activity(tid=7, class_name="公益活动", place="釜溪河", cost=15, number=20, applicants=6,
                                starts_at=datetime(2026, 12, 13, 9, 0, tzinfo=CST),
                                applicant_list=[ActivityApplicant(tid=7, uid=41, username="恐龙迷小刘"),
                                                ActivityApplicant(tid=7, uid=None, username="没有链接")])]
    page.trades = [Trade(tid=7, pid=75, item="冷吃兔礼盒", price=88.0, cost_price=108.0, amount=20, aid=49,
                         url="http://bbs.example.test/forum.php?mod=viewthread&do=tradeinfo&tid=7&pid=75")]
    page.ratings = [Rating(pid=70, tid=7, uid=36, username="盐都张哥", credit="威望", score=2, reason="珍贵回忆"),
                    Rating(pid=70, tid=7, uid=38, username="釜溪河畔", credit="金钱", score=10)]
    page.post_comments = [PostComment(pid=70, tid=7, author_uid=53, author="自流井人", comment=comment,
                                      posted_at=datetime(2025, 2, 1, 11, 40, tzinfo=CST), posted_at_text="2025-2-1 11:40")]
    page.thread_tags = [ThreadTag(tid=7, tagname="自贡旅游", tagid=25)]
    page.attachments = [
        Attachment(pid=70, url=f"http://bbs.example.test/forum.php?mod=attachment&aid=NDN8{token}", name="年表.pdf",
                   kind="file", aid=43, size=922, size_text="922 Bytes", downloads=downloads, can_download=False,
                   uploaded_at=datetime(2025, 3, 9, 15, 0, tzinfo=CST), uploaded_at_text="2025-3-9 15:00"),
        Attachment(pid=70, url="http://img.example.org/a.jpg", kind="image"),
    ]
    return page


def store(archive: Archive, page: ParsedPage, crawl: int | None = None) -> None:
    record = validate_record(normalise_page(page))
    assert not [e for e in record.errors if e[0] == "validation"], record.errors
    archive.write(record, crawl)


def rows(archive: Archive, sql: str, params=()) -> list[tuple]:
    return archive.db.execute(sql, params).fetchall()


def test_every_box_is_archived_in_its_own_table_tied_to_thread_and_post(tmp_path):
    archive = Archive(tmp_path / "a.db")
    store(archive, thread_page())
    assert rows(archive, "SELECT special, recommend_add, recommend_sub FROM threads") == [("poll", 22, 3)]
    assert rows(archive, "SELECT tid, multiple, voters, is_expired, results_visible, voters_public, expires_at,"
                         " status FROM polls") == [(7, 0, 12, 1, 1, 1, "2026-11-24T00:00:00+08:00", "ok")]
    assert rows(archive, "SELECT position, text, votes, percent FROM poll_options ORDER BY position") == [
        (1, "自贡恐龙博物馆", 7, 58.33), (2, "中华彩灯大世界", 5, 41.67)]
    assert rows(archive, "SELECT price, credit, is_resolved, best_pid FROM rewards") == [(30, "金钱", 0, None)]
    assert rows(archive, "SELECT affirm_votes, nega_votes, affirm_debater_list FROM debates") == [
        (11, 8, '[{"uid": 36, "username": "盐都张哥"}]')]
    assert rows(archive, "SELECT pid, stand, stand_text, voters FROM debate_posts") == [(71, "affirm", "正方", 2)]
    assert rows(archive, "SELECT class_name, place, cost, number, applicants, starts_at FROM activities") == [
        ("公益活动", "釜溪河", 15, 20, 6, "2026-12-13T09:00:00+08:00")]
    # An applicant the page names without a uid has no key: not archived as a row of its own.
    assert rows(archive, "SELECT tid, uid, username FROM activity_applicants") == [(7, 41, "恐龙迷小刘")]
    assert rows(archive, "SELECT pid, item, price, cost_price, amount, aid FROM trades") == [
        (75, "冷吃兔礼盒", 88.0, 108.0, 20, 49)]
    assert rows(archive, "SELECT pid, uid, username, credit, score, reason FROM ratings ORDER BY uid") == [
        (70, 36, "盐都张哥", "威望", 2, "珍贵回忆"), (70, 38, "釜溪河畔", "金钱", 10, None)]
    assert rows(archive, "SELECT pid, author_uid, author, comment, posted_at FROM post_comments") == [
        (70, 53, "自流井人", "我也记得这个地方", "2025-02-01T11:40:00+08:00")]
    assert rows(archive, "SELECT tid, tagname, tagid FROM thread_tags") == [(7, "自贡旅游", 25)]
    assert rows(archive, "SELECT pid, rate_count, rate_totals, comments_shown, comments_more, is_warned, is_anonymous"
                         " FROM posts ORDER BY pid") == [
        (70, 2, '{"威望": 2, "金钱": 10}', 1, 0, 0, 0), (71, None, None, None, None, 1, 1)]
    assert rows(archive, "SELECT ref, aid, name, size, downloads, can_download, uploaded_at FROM attachments"
                         " WHERE aid IS NOT NULL") == [
        ("aid:43", 43, "年表.pdf", 922, 3, 0, "2025-03-09T15:00:00+08:00")]


def test_a_recrawl_updates_in_place_and_keeps_each_changed_figure_as_history(tmp_path):
    archive = Archive(tmp_path / "a.db")
    store(archive, thread_page(), 1)
    store(archive, thread_page(), 2)  # unchanged: nothing new anywhere
    later = "Sun, 06 Dec 2026 19:11:00 GMT"
    store(archive, thread_page(votes=(8, 5), add=23, downloads=4, token="t2", date=later), 3)
    for table, count in (("polls", 1), ("poll_options", 2), ("ratings", 2), ("post_comments", 1), ("trades", 1),
                         ("thread_tags", 1), ("debate_posts", 1), ("activity_applicants", 1)):
        assert rows(archive, f"SELECT count(*) FROM {table}") == [(count,)], table
    # The download link carries a per-view token: the attachment is the same one (its aid), its URL the latest.
    assert rows(archive, "SELECT count(*), max(url), max(downloads) FROM attachments WHERE aid = 43") == [
        (1, "http://bbs.example.test/forum.php?mod=attachment&aid=NDN8t2", 4)]
    assert rows(archive, "SELECT votes FROM poll_options ORDER BY position") == [(8,), (5,)]
    history = rows(archive, "SELECT subject, ref, figure, value, seen_at, crawl_id FROM figure_history"
                            " WHERE figure IN ('votes', 'recommend_add', 'downloads') ORDER BY subject, ref, id")
    assert history == [
        ("attachment", "aid:43", "downloads", 3, "2026-12-06T03:11:00+08:00", 1),
        ("attachment", "aid:43", "downloads", 4, "2026-12-07T03:11:00+08:00", 3),
        ("poll_option", "1", "votes", 7, "2026-12-06T03:11:00+08:00", 1),
        ("poll_option", "1", "votes", 8, "2026-12-07T03:11:00+08:00", 3),
        ("poll_option", "2", "votes", 5, "2026-12-06T03:11:00+08:00", 1),
        ("thread", None, "recommend_add", 22, "2026-12-06T03:11:00+08:00", 1),
        ("thread", None, "recommend_add", 23, "2026-12-07T03:11:00+08:00", 3),
    ]
    # Rows keep the crawl that first saw them.
    assert rows(archive, "SELECT first_crawl, last_crawl FROM ratings GROUP BY first_crawl, last_crawl") == [(1, 3)]


def test_hidden_poll_results_never_erase_the_counts_archived(tmp_path):
    archive = Archive(tmp_path / "a.db")
    store(archive, thread_page())
    hidden = thread_page()
    for option in hidden.polls[0].options:
        option.votes, option.percent = None, None
    hidden.polls[0].results_visible = False
    store(archive, hidden)
    assert rows(archive, "SELECT votes FROM poll_options ORDER BY position") == [(7,), (5,)]
    assert rows(archive, "SELECT results_visible FROM polls") == [(0,)]


def test_comments_are_searchable_and_one_comment_is_one_row(tmp_path):
    archive = Archive(tmp_path / "a.db")
    store(archive, thread_page())
    store(archive, thread_page(comment="做好了记得发图"))
    assert rows(archive, "SELECT count(*) FROM post_comments") == [(2,)]
    found = rows(archive, "SELECT c.pid, c.comment FROM post_comments_fts f JOIN post_comments c ON c.id = f.rowid"
                          " WHERE post_comments_fts MATCH ?", ["记得发"])
    assert found == [(70, "做好了记得发图")]


def test_a_box_read_in_part_is_kept_said_and_does_not_stop_the_gone_post_rule(tmp_path):
    record = validate_record(normalise_page(thread_page(partial=True)))
    assert record.rows["polls"][0]["status"] == "partial"
    assert record.rows["polls"][0]["missing"] == '["options"]'
    assert ("box", "poll box of thread 7 read in part: options not read") in record.errors
    assert record.keep_body
    assert page_shows_posts_in_full(record)


def test_a_reader_that_failed_leaves_the_page_kept_for_reparse(tmp_path):
    page = thread_page()
    page.missing, page.message = ["rating"], "rating box unreadable: ValueError: bad"
    record = normalise_page(page)
    assert ("box", "rating box unreadable: ValueError: bad") in record.errors and record.keep_body


def test_an_archive_that_keyed_attachments_by_url_is_upgraded_to_one_row_per_attachment(tmp_path):
    db = tmp_path / "old.db"
    Archive(db).close()
    conn = sqlite3.connect(db)
    # The attachments table as dzarchive made it before (keyed by URL), with the same attachment under two
    # per-view download links, and a picture without an aid; user_version 0, as archives of before had.
    conn.executescript("""
        DROP TABLE attachments;
        CREATE TABLE attachments (pid INTEGER, url TEXT, name TEXT, kind TEXT, aid INTEGER, PRIMARY KEY (pid, url));
        INSERT INTO attachments VALUES (70, 'http://x/forum.php?mod=attachment&aid=A1', 'a.pdf', 'file', 43);
        INSERT INTO attachments VALUES (70, 'http://x/forum.php?mod=attachment&aid=A2', 'a.pdf', 'file', 43);
        INSERT INTO attachments VALUES (70, 'http://x/p.jpg', NULL, 'image', NULL);
        PRAGMA user_version = 0;
    """)
    conn.commit()
    conn.close()
    archive = Archive(db)
    assert archive.db["attachments"].pks == ["pid", "ref"]
    assert rows(archive, "SELECT pid, ref, url, aid FROM attachments ORDER BY ref") == [
        (70, "aid:43", "http://x/forum.php?mod=attachment&aid=A2", 43), (70, "http://x/p.jpg", "http://x/p.jpg", None)]
    store(archive, thread_page())  # and crawls merge into it
    assert rows(archive, "SELECT count(*) FROM attachments WHERE aid = 43") == [(1,)]


def test_ratings_an_upgraded_archive_reads_for_the_first_time_are_not_new(tmp_path):
    """An archive crawled by a dzarchive that did not read ratings: its next crawl is their starting point."""
    archive = Archive(tmp_path / "a.db")
    old = archive.start_crawl("http://bbs.example.test/forum.php")
    archive.finish_crawl(old, "finished", pages=1, items=1)
    archive.db.execute("UPDATE crawls SET reads_extras = NULL WHERE id = ?", [old])  # as an earlier dzarchive left it
    archive.db.conn.commit()
    for n, comment in enumerate(("我也记得这个地方", "做好了记得发图"), 2):
        crawl = archive.start_crawl("http://bbs.example.test/forum.php")
        assert crawl == n
        page = thread_page(comment=comment)
        if n == 3:
            page.ratings.append(Rating(pid=70, tid=7, uid=41, username="恐龙迷小刘", credit="威望", score=1))
        store(archive, page, crawl)
        archive.finish_crawl(crawl, "finished", pages=1, items=1)
    assert rows(archive, "SELECT crawl_id, username, score FROM rating_changes") == [(3, "恐龙迷小刘", 1)]
    assert rows(archive, "SELECT crawl_id, comment FROM comment_changes") == [(3, "做好了记得发图")]


def test_a_series_latest_figure_is_one_index_step_however_long_its_history(tmp_path):
    """The batch reads each figure series' latest value only: down an index, no history read and sorted."""
    archive = Archive(tmp_path / "a.db")
    for n in range(5):
        store(archive, thread_page(votes=(7 + n, 5), add=22 + n), n + 1)
    statements = []
    archive.db.conn.set_trace_callback(statements.append)
    store(archive, thread_page(votes=(20, 5), add=30), 6)
    archive.db.conn.set_trace_callback(None)
    reads = [sql for sql in statements if sql.lstrip().startswith("SELECT") and "FROM figure_history" in sql]
    assert reads
    for sql in reads:
        plan = [detail for *_, detail in archive.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert not any("TEMP B-TREE" in d or d.startswith("SCAN figure_history") for d in plan), plan
    assert rows(archive, "SELECT value FROM figure_history WHERE ref = '1' ORDER BY id") == [(v,) for v in
                                                                                         (7, 8, 9, 10, 11, 20)]
