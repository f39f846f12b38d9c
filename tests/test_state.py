"""What the spider learns from the archive (scraper/state.py): watermarks, gaps, forum figures."""
from __future__ import annotations

from archive import Archive
from archive.state import ArchiveState


def archive_with(tmp_path, *, pages=(1, 2, 3), replies=25, last="2026-11-25T11:33:00+08:00"):
    db = tmp_path / "a.db"
    archive = Archive(db)
    with archive.db.conn:
        archive.db["forums"].insert({"fid": 2, "name": "版块", "parent_fid": 1})
        archive.db["forums"].insert({"fid": 3, "name": "子版块", "parent_fid": 2})
        archive.db["threads"].insert({"tid": 7, "fid": 2, "synced_replies": replies, "synced_last_post_at": last})
        archive.db["threads"].insert({"tid": 8, "fid": 3, "synced_replies": 0,
                                      "synced_last_post_at": "2025-01-01T08:00:00+08:00"})
        for page in pages:
            archive.db["thread_pages"].insert({"tid": 7, "page": page})
        archive.db["thread_pages"].insert({"tid": 8, "page": 1})
    archive.close()
    return ArchiveState(db)


def test_missing_archive_is_an_empty_one(tmp_path):
    state = ArchiveState(tmp_path / "none.db")
    assert state.empty and state.thread(7) is None and not state.forum_unchanged(2, 1, 1, None)


def test_thread_watermark_and_resume_page(tmp_path):
    state = archive_with(tmp_path)
    assert not state.empty
    assert state.thread(7).resume_page == 3  # the last page may have grown
    assert state.thread_unchanged(7, 25, "2026-11-25T11:33:59+08:00")  # lists show minutes
    assert not state.thread_unchanged(7, 26, "2026-11-25T11:33:00+08:00")
    assert not state.thread_unchanged(7, 25, "2026-11-25T11:40:00+08:00")


def test_a_page_lost_to_a_kill_is_where_the_thread_resumes(tmp_path):
    state = archive_with(tmp_path, pages=(1, 3))
    assert (state.thread(7).resume_page, state.thread(7).complete) == (2, False)
    # Even with the watermark equal, a thread with a gap is not unchanged...
    assert not state.thread_unchanged(7, 25, "2026-11-25T11:33:00+08:00")
    # ...nor is its forum, whatever the index's figures say.
    assert not state.forum_unchanged(2, 2, 27, "2026-11-25T11:33:00+08:00")


def test_forum_figures_count_sub_forums(tmp_path):
    state = archive_with(tmp_path)
    # Discuz counts a forum's threads and posts with its sub-forums': 2 threads, 26 + 1 posts.
    assert state.forum_unchanged(2, 2, 27, "2026-11-25T11:33:00+08:00")
    assert not state.forum_unchanged(2, 2, 28, "2026-11-25T11:33:00+08:00")
    assert not state.forum_unchanged(2, 3, 28, "2026-11-25T11:33:00+08:00")
    assert not state.forum_unchanged(2, 2, 27, "2026-11-25T12:00:00+08:00")
    assert state.forum_unchanged(3, 1, 1, None)


def test_forum_is_complete_only_when_walked_and_every_thread_synced(tmp_path):
    state = archive_with(tmp_path)
    assert not state.forum_complete(2)  # its list pages were never archived
    archive = Archive(tmp_path / "a.db")
    with archive.db.conn:
        archive.db["forums"].update(2, {"pages": 2})
        archive.db["forum_pages"].insert_all([{"fid": 2, "page": 1}, {"fid": 2, "page": 2}])
    state = ArchiveState(tmp_path / "a.db")
    assert state.forum_complete(2)
    with archive.db.conn:  # a listed thread that a stopped crawl never fetched
        archive.db["threads"].insert({"tid": 9, "fid": 2})
    state = ArchiveState(tmp_path / "a.db")
    assert not state.forum_complete(2)
    with archive.db.conn:  # one that can never be fetched does not hold the forum back
        archive.db["threads"].update(9, {"status": "login_required"})
    assert ArchiveState(tmp_path / "a.db").forum_complete(2)
    with archive.db.conn:  # a page lost in the middle of a thread does
        archive.db["thread_pages"].delete((7, 2))
    assert not ArchiveState(tmp_path / "a.db").forum_complete(2)


def _count_queries(state: ArchiveState) -> list[str]:
    seen: list[str] = []
    state.conn.set_trace_callback(seen.append)
    return seen


def test_a_list_pages_thread_states_come_from_one_query(tmp_path):
    state = archive_with(tmp_path, pages=(1, 3))
    queries = _count_queries(state)
    states = state.threads([7, 8, 99, 7])
    assert len(queries) == 1
    assert set(states) == {7, 8}  # 99 has no page archived
    assert (states[7].resume_page, states[7].complete, states[7].synced_replies) == (2, False, 25)
    assert (states[8].resume_page, states[8].complete) == (1, True)
    assert states[7] == state.thread(7)


def test_forum_complete_is_asked_of_the_archive_once_per_crawl(tmp_path):
    archive_with(tmp_path)
    archive = Archive(tmp_path / "a.db")
    with archive.db.conn:
        archive.db["forums"].update(2, {"pages": 1})
        archive.db["forum_pages"].insert({"fid": 2, "page": 1})
    state = ArchiveState(tmp_path / "a.db")
    queries = _count_queries(state)
    assert state.forum_complete(2)
    first = len(queries)
    # The crawl writes as it goes: a thread it listed but has not fetched yet does not turn the walk
    # of the forum's list pages around half-way; a new crawl sees it.
    with archive.db.conn:
        archive.db["threads"].insert({"tid": 9, "fid": 2})
    assert all(state.forum_complete(2) for _ in range(1000))
    assert len(queries) == first
    assert not ArchiveState(tmp_path / "a.db").forum_complete(2)
