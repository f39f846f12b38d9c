"""What the archive already holds, read-only: the one place the spider's incremental decisions come from.

Everything here is derived from rows the store commits page by page, so it is also how a crawl
resumes after a kill: a page that was fetched but not committed simply is not there, and is
fetched again.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ThreadState:
    """A thread as the archive holds it."""

    synced_replies: int | None  # reply count when the thread's last page was last archived
    synced_last_post_at: str | None  # latest post time (to the minute) on that last page
    resume_page: int  # first page to fetch to bring the thread up to date
    complete: bool  # pages 1..last archived page are all there (no page lost to a kill)
    resume_url: str | None = None  # the URL that page was archived from (the site's own link), if archived

    def unchanged(self, replies: int | None, last_post_at: str | None) -> bool:
        """Whether a list row's reply count and last-post time equal what the archive synced."""
        if not self.complete or self.synced_replies is None or replies is None:
            return False
        return self.synced_replies == replies and _minute(self.synced_last_post_at) == _minute(last_post_at)


def site_host(url: str) -> str:
    """The site a URL belongs to, as an archive records it: its host, lower case, without ``www.``.

    ``http://www.bbs.example`` and ``https://bbs.example/`` are one site (forums redirect between them).
    """
    host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _minute(iso: str | None) -> str | None:
    """``2026-11-25T11:33:53+08:00`` -> ``2026-11-25T11:33`` (list pages show minutes only)."""
    return iso[:16] if iso else None


class ArchiveState:
    """Read-only view of an archive for the spider. Missing file = empty archive."""

    def __init__(self, path: str | Path | None):
        self.conn: sqlite3.Connection | None = None
        self._complete: dict[int, bool] = {}  # forum_complete's answers, as of the first question
        if path and Path(path).exists():
            self.conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False)
            if not self._has_table("thread_pages"):
                self.conn.close()
                self.conn = None

    @classmethod
    def of_connection(cls, conn: sqlite3.Connection) -> "ArchiveState":
        """The same reads over a connection the caller already has open (and keeps: do not close it)."""
        state = cls(None)
        state.conn = conn
        return state

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", [name]).fetchone() is not None

    @property
    def empty(self) -> bool:
        """True when the archive holds no thread page yet (a first crawl)."""
        if self.conn is None:
            return True
        return self.conn.execute("SELECT 1 FROM thread_pages LIMIT 1").fetchone() is None

    def thread(self, tid: int) -> ThreadState | None:
        """The archived state of thread ``tid``, or ``None`` when none of its pages is archived."""
        return self.threads([tid]).get(tid)

    def threads(self, tids) -> dict[int, ThreadState]:
        """The archived state of each of ``tids`` that has a page archived: one query over the primary
        keys of ``thread_pages`` and ``threads`` (a list page asks for its rows at once)."""
        tids = list(dict.fromkeys(tids))
        if self.conn is None or not tids:
            return {}
        found: dict[int, list] = {}
        for start in range(0, len(tids), 500):  # SQLite's bound-parameter limit
            chunk = tids[start:start + 500]
            for tid, page, url, replies, last in self.conn.execute(
                    "SELECT p.tid, p.page, p.url, t.synced_replies, t.synced_last_post_at FROM thread_pages p"
                    " LEFT JOIN threads t ON t.tid = p.tid"
                    f" WHERE p.tid IN ({', '.join('?' for _ in chunk)}) ORDER BY p.tid, p.page", chunk):
                found.setdefault(tid, [replies, last, []])[2].append((page, url))
        states = {}
        for tid, (replies, last, rows) in found.items():
            # The first gap (a page lost to a kill) or else the last page, which may have grown.
            gap = next((n for n, (page, _) in enumerate(rows, 1) if page != n), None)
            resume = gap if gap is not None else rows[-1][0]
            url = None if gap is not None else rows[-1][1]
            states[tid] = ThreadState(replies, last, resume, gap is None, url)
        return states

    def thread_unchanged(self, tid: int, replies: int | None, last_post_at: str | None) -> bool:
        """Whether a list row's reply count and last-post time equal what the archive synced."""
        state = self.thread(tid)
        return state is not None and state.unchanged(replies, last_post_at)

    def forum_unchanged(self, fid: int, threads: int | None, posts: int | None, last_post_at: str | None) -> bool:
        """Whether the index's figures for a forum equal what the archive holds of it.

        Discuz counts a forum's threads and posts with its sub-forums; the archive holds that many
        threads, all synced, with as many posts, and the same last post: nothing to fetch there.
        A forum with threads we cannot see (members only) never matches, and is walked as usual.
        """
        if self.conn is None or threads is None or posts is None:
            return False
        count, total, synced, gaps = self.conn.execute(
            "WITH RECURSIVE tree(fid) AS (SELECT ? UNION SELECT f.fid FROM forums f JOIN tree ON f.parent_fid = tree.fid),"
            " listed AS (SELECT tid, synced_replies FROM threads WHERE fid IN tree AND coalesce(status, 'ok') = 'ok'),"
            # A thread missing a page below its last archived one (a crawl killed mid-thread) is not done.
            " gapped AS (SELECT tid FROM thread_pages WHERE tid IN (SELECT tid FROM listed)"
            "            GROUP BY tid HAVING max(page) != count(*))"
            " SELECT count(*), sum(synced_replies + 1), count(synced_replies), (SELECT count(*) FROM gapped)"
            " FROM listed", [fid]).fetchone()
        if (count, total, synced, gaps) != (threads, posts, threads, 0):
            return False
        if last_post_at is None:
            return True
        latest = self.conn.execute("SELECT max(synced_last_post_at) FROM threads WHERE fid = ?", [fid]).fetchone()[0]
        return _minute(latest) == _minute(last_post_at)

    def forum_complete(self, fid: int) -> bool:
        """Whether the archive holds all of forum ``fid`` as of its last crawl.

        Every list page was archived once, and every readable thread listed there is synced with
        no page missing. Only then does "a list page of unchanged threads" mean the rest is
        unchanged too; after a stopped crawl the whole list is walked again.

        The answer is the archive's as it was when this state was first asked about the forum
        (the crawl's start): a crawl asks for every list page it reads, and the pages it writes
        meanwhile must neither change its walk half-way nor cost a scan of the forum each time.
        """
        if fid not in self._complete:
            self._complete[fid] = self._forum_complete(fid)
        return self._complete[fid]

    def _forum_complete(self, fid: int) -> bool:
        if not self.forum_walked(fid):
            return False
        # Stops at the first unfinished thread (idx_threads_fid, then thread_pages' primary key).
        unfinished = self.conn.execute(
            "SELECT 1 FROM threads t WHERE t.fid = ? AND coalesce(t.status, 'ok') = 'ok' AND ("
            " t.synced_replies IS NULL OR"
            " (SELECT max(page) != count(*) FROM thread_pages p WHERE p.tid = t.tid)) LIMIT 1", [fid]).fetchone()
        return unfinished is None

    def forum_walked(self, fid: int) -> bool:
        """Whether every list page of forum ``fid`` (as many as it last had) has been archived once."""
        if self.conn is None:
            return False
        row = self.conn.execute("SELECT pages FROM forums WHERE fid = ?", [fid]).fetchone()
        if not row or not row[0]:
            return False
        seen = self.conn.execute("SELECT count(DISTINCT page) FROM forum_pages WHERE fid = ? AND page <= ?",
                                 [fid, row[0]]).fetchone()[0]
        return seen >= row[0]

    def has_profile(self, uid: int) -> bool:
        """Whether the user's profile page was archived before (figures also come with every post)."""
        if self.conn is None:
            return False
        return self.conn.execute("SELECT 1 FROM user_stats WHERE uid = ? AND source = 'profile' LIMIT 1",
                                 [uid]).fetchone() is not None

    def users_without_profile(self) -> list[tuple[int, str]]:
        """(uid, profile URL) of archived users whose profile page was never archived (a crawl stopped first)."""
        if self.conn is None:
            return []
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT uid, url FROM users WHERE url IS NOT NULL"
            " AND uid NOT IN (SELECT uid FROM user_stats WHERE source = 'profile') ORDER BY uid")]

    def page_urls(self, limit: int = 20) -> list[tuple[str, int, int, str]]:
        """(kind, id, page, URL) of a few archived pages past the first: the site's own spellings, to learn from.

        The pages archived last (by rowid, read from the table's end: no sort of the whole table, which
        ``fetched_at`` has no index for)."""
        if self.conn is None:
            return []
        threads = self.conn.execute("SELECT 'viewthread', tid, page, url FROM thread_pages"
                                    " WHERE page > 1 AND url IS NOT NULL ORDER BY rowid DESC LIMIT ?", [limit])
        forums = self.conn.execute("SELECT 'forumdisplay', fid, page, url FROM forum_pages"
                                   " WHERE page > 1 AND url IS NOT NULL ORDER BY rowid DESC LIMIT ?", [limit])
        return [tuple(r) for r in threads.fetchall() + forums.fetchall()]

    def failed_urls(self) -> list[str]:
        """URLs the crawls since the last one that finished without errors could not fetch or read, and no later
        crawl archived: what ``dzarchive crawl --retry-errors`` fetches."""
        if self.conn is None or not self._has_table("errors"):
            return []
        return [url for (url,) in self.conn.execute(
            "WITH clean AS (SELECT coalesce(max(id), 0) AS id FROM crawls WHERE status = 'finished' AND errors = 0),"
            " failed AS (SELECT url, max(at) AS at FROM errors WHERE kind != 'special'"
            "            AND crawl_id > (SELECT id FROM clean) GROUP BY url)"
            " SELECT url FROM failed f WHERE NOT EXISTS (SELECT 1 FROM thread_pages t WHERE t.url = f.url"
            " AND t.fetched_at > f.at) AND NOT EXISTS (SELECT 1 FROM forum_pages p WHERE p.url = f.url"
            " AND p.fetched_at > f.at) ORDER BY url")]

    def site_host(self) -> str | None:
        """The host of the site this archive holds (``site`` table; older archives: their first crawl)."""
        if self.conn is None:
            return None
        if self._has_table("site"):
            row = self.conn.execute("SELECT host FROM site LIMIT 1").fetchone()
            if row:
                return row[0]
        row = self.conn.execute("SELECT start_url FROM crawls ORDER BY id LIMIT 1").fetchone() \
            if self._has_table("crawls") else None
        return site_host(row[0]) if row and row[0] else None

    def settled_media(self, max_attempts: int = 3) -> set[str]:
        """URLs of media not to fetch again: stored, refused for good (login, permission, robots, gone), or tried
        ``max_attempts`` times."""
        if self.conn is None or not self._has_table("media"):
            return set()
        return {url for (url,) in self.conn.execute(
            "SELECT url FROM media WHERE status != 'failed' OR attempts >= ?", [max_attempts])}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
