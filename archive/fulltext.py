"""The archive's full-text indexes and views: the trigram FTS5 indexes on ``posts.content_text`` and
``threads.title`` with their sync triggers, and the researchers' views (:func:`ensure_search`,
:func:`rebuild_search`, :func:`search_ready`). Searching them is :mod:`research.search`'s job.

The triggers keep the indexes in step with any writer. The archive's own batches of pages feed the indexes
themselves, one statement per index per batch (archive/writes.py): while a batch is written, a row in
:data:`PAUSE_TABLE` tells the insert and update triggers to stand aside. The row is added and removed inside
the batch's transaction, so no other connection ever sees it and a failed batch leaves none behind.

Search folds Traditional and Simplified Chinese (:func:`fold`: OpenCC's ``t2s`` tables), so a query in
either script finds text in both. The indexes are contentless FTS5 tables holding each text as
:func:`index_text` makes it: the text itself, and when folding changes it, the folded text after it. The
text as archived is never changed; the index keeps it too, so a query in the text's own script (Datasette's
search) still finds it. The triggers call :data:`INDEX_TEXT_FUNCTION`, which :func:`register_functions` adds
to a connection: every connection that writes posts, threads or 点评 comments needs it (the archive's own
connections have it; another program gets ``no such function: dzarchive_index_text``, and writes nothing)."""
from __future__ import annotations

import functools
import sqlite3

import opencc
import sqlite_utils

# The trigram tokenizer indexes every run of 3 characters: shorter terms cannot be looked up in it.
TRIGRAM_MIN_CHARS = 3
TRIGRAM_SQLITE = (3, 34, 0)
# (FTS table, content table, its integer key = rowid, indexed column)
FTS_INDEXES = (
    ("posts_fts", "posts", "pid", "content_text"),
    ("threads_fts", "threads", "tid", "title"),
    ("post_comments_fts", "post_comments", "id", "comment"),
)
# The indexes a batch of pages feeds itself (archive/writes.py), its triggers standing aside meanwhile; the others
# (点评 comments: few, their text never changes under their key, their row ids made by the insert) are kept by
# their triggers alone.
BATCH_INDEXED = ("posts_fts", "threads_fts")
# While it holds a row, the insert and update triggers leave the indexes to the writer (see above).
PAUSE_TABLE = "search_pause"

# -- Traditional/Simplified folding ---------------------------------------------------------------
FOLD_CONFIG = "t2s"  # OpenCC's Traditional -> Simplified conversion (characters and phrases)
# What the index was folded with, written into its triggers: another OpenCC (other tables) makes the triggers
# differ from the wanted ones, and the index is rebuilt (a contentless index can only take a text out with the
# exact text it indexed).
FOLD_VERSION = f"opencc {opencc.__version__} {FOLD_CONFIG}"
INDEX_TEXT_FUNCTION = "dzarchive_index_text"  # SQL: text -> what the index holds (index_text)
FOLD_FUNCTION = "dzarchive_fold"  # SQL: text -> folded text (fold), for the scans of short terms
# Between a text and its folded copy in the index: no query holds it, so no match spans the two.
FOLD_SEPARATOR = "\x1f"

# -- views ----------------------------------------------------------------------------------------
# The crawl whose rows are the archive's starting point: the first finished one (else the latest, while
# the first is still running or was stopped). Rows first archived after it are new.
# What stands beside the posts (ratings, comments) has its own starting point: the first finished crawl that read
# it. An archive made by an earlier dzarchive holds none of it, and its next crawl's ratings are not new ones.
EXTRAS_BASELINE_SQL = ("SELECT coalesce((SELECT min(id) FROM crawls WHERE status = 'finished' AND reads_extras = 1),"
                       " (SELECT max(id) FROM crawls), 0) AS crawl")
BASELINE_SQL = ("SELECT coalesce((SELECT min(id) FROM crawls WHERE status = 'finished'),"
                " (SELECT max(id) FROM crawls), 0) AS crawl")
# A stored time with its offset -> the same moment in UTC, written as the crawl times are.
_UTC = "strftime('%Y-%m-%dT%H:%M:%S+00:00', {})"
# figure_history figures that are votes (a poll's, a debate's, 支持/反对): their movements are the change kind
# ``votes``; the others (applicants, places left, downloads, goods in stock) are ``counts``.
VOTE_FIGURES = ("votes", "voters", "affirm_votes", "nega_votes", "affirm_debaters", "nega_debaters", "recommend_add",
                "recommend_sub")
VIEWS = {
    "user_latest_stats": """SELECT s.* FROM user_stats s
WHERE s.id = (SELECT s2.id FROM user_stats s2 WHERE s2.uid = s.uid ORDER BY s2.seen_at DESC, s2.id DESC LIMIT 1)""",
    "thread_summary": """SELECT t.tid, t.fid, f.name AS forum, t.type_prefix, t.title, t.author_uid, t.author,
       t.created_at, t.views, t.replies, t.status,
       count(p.pid) AS posts, (SELECT count(*) FROM post_comments c WHERE c.tid = t.tid) AS comments,
       count(DISTINCT p.author_uid) AS posters,
       min(p.posted_at) AS first_post_at, max(p.posted_at) AS last_post_at, t.url
FROM threads t
LEFT JOIN forums f ON f.fid = t.fid
LEFT JOIN posts p ON p.tid = t.tid
GROUP BY t.tid""",
    "user_activity": """SELECT u.uid, u.username, u.group_title, u.registered_at,
       count(p.pid) AS posts, coalesce(sum(p.is_first), 0) AS threads_started,
       count(DISTINCT p.tid) AS threads, count(DISTINCT t.fid) AS forums,
       min(p.posted_at) AS first_post_at, max(p.posted_at) AS last_post_at,
       s.credits, s.posts AS posts_shown, s.seen_at AS figures_seen_at
FROM users u
LEFT JOIN posts p ON p.author_uid = u.uid
LEFT JOIN threads t ON t.tid = p.tid
LEFT JOIN user_latest_stats s ON s.uid = u.uid
GROUP BY u.uid""",
    "posts_per_month": """SELECT substr(p.posted_at, 1, 7) AS month, t.fid, f.name AS forum, count(*) AS posts,
       count(DISTINCT p.tid) AS threads, count(DISTINCT p.author_uid) AS posters
FROM posts p
LEFT JOIN threads t ON t.tid = p.tid
LEFT JOIN forums f ON f.fid = t.fid
WHERE p.posted_at IS NOT NULL
GROUP BY month, t.fid""",
    # What changed between crawls. Rows first archived by the archive's first finished crawl (or by the
    # interrupted runs before it) are its starting point, not changes: BASELINE_SQL is that crawl's id.
    "post_changes": f"""WITH baseline AS ({BASELINE_SQL})
SELECT 'new' AS kind, p.first_crawl AS crawl_id, p.first_seen AS at, t.fid, f.name AS forum, p.tid, t.title,
       p.pid, p.floor, p.author_uid, p.author, p.status, NULL AS text_before,
       coalesce((SELECT r.content_text FROM post_revisions r WHERE r.pid = p.pid ORDER BY r.id LIMIT 1),
                p.content_text) AS text_after,
       NULL AS last_crawl, p.url, NULL AS reason
FROM posts p JOIN baseline b ON p.first_crawl > b.crawl
LEFT JOIN threads t ON t.tid = p.tid LEFT JOIN forums f ON f.fid = t.fid
UNION ALL
SELECT 'edited', r.crawl_id, r.replaced_at, t.fid, f.name, p.tid, t.title,
       p.pid, p.floor, p.author_uid, p.author, p.status, r.content_text,
       coalesce((SELECT n.content_text FROM post_revisions n WHERE n.pid = r.pid AND n.id > r.id ORDER BY n.id LIMIT 1),
                p.content_text),
       NULL, p.url, NULL
FROM post_revisions r JOIN posts p ON p.pid = r.pid
LEFT JOIN threads t ON t.tid = p.tid LEFT JOIN forums f ON f.fid = t.fid
UNION ALL
SELECT 'gone', a.crawl_id, a.at, t.fid, f.name, p.tid, t.title,
       p.pid, p.floor, p.author_uid, p.author, a.status, p.content_text, NULL,
       a.last_crawl, a.url, a.reason
FROM post_absences a JOIN posts p ON p.pid = a.pid
LEFT JOIN threads t ON t.tid = p.tid LEFT JOIN forums f ON f.fid = t.fid""",
    "thread_state_changes": f"""WITH baseline AS ({BASELINE_SQL})
SELECT 'new' AS kind, t.first_crawl AS crawl_id, t.first_seen AS at, t.fid, f.name AS forum, t.tid, t.title,
       t.author_uid, t.author, 'status' AS field, NULL AS before, coalesce(t.status, 'ok') AS after, t.url
FROM threads t JOIN baseline b ON t.first_crawl > b.crawl
LEFT JOIN forums f ON f.fid = t.fid
UNION ALL
SELECT 'state', c.crawl_id, c.at, t.fid, f.name, c.tid, t.title, t.author_uid, t.author, c.field, c.before, c.after,
       c.url
FROM thread_changes c LEFT JOIN threads t ON t.tid = c.tid LEFT JOIN forums f ON f.fid = t.fid""",
    # New ratings and 点评 comments: first archived after the baseline crawl, as new posts are. uid and username
    # are who rated or commented; author_uid and author the rated or commented post's author.
    "rating_changes": f"""WITH baseline AS ({EXTRAS_BASELINE_SQL})
SELECT 'rating' AS kind, r.first_crawl AS crawl_id, r.first_seen AS at, t.fid, f.name AS forum,
       coalesce(r.tid, p.tid) AS tid, t.title, r.pid, p.floor, p.author_uid, p.author, r.uid, r.username,
       r.credit, r.score, r.reason, r.rated_at, p.url
FROM ratings r JOIN baseline b ON r.first_crawl > b.crawl
LEFT JOIN posts p ON p.pid = r.pid LEFT JOIN threads t ON t.tid = coalesce(r.tid, p.tid)
LEFT JOIN forums f ON f.fid = t.fid""",
    "comment_changes": f"""WITH baseline AS ({EXTRAS_BASELINE_SQL})
SELECT 'comment' AS kind, c.first_crawl AS crawl_id, c.first_seen AS at, t.fid, f.name AS forum,
       coalesce(c.tid, p.tid) AS tid, t.title, c.pid, p.floor, p.author_uid, p.author, c.author_uid AS uid,
       c.author AS username, c.comment, c.posted_at, p.url, c.id AS comment_id
FROM post_comments c JOIN baseline b ON c.first_crawl > b.crawl
LEFT JOIN posts p ON p.pid = c.pid LEFT JOIN threads t ON t.tid = coalesce(c.tid, p.tid)
LEFT JOIN forums f ON f.fid = t.fid""",
    # A figure's movement: a figure_history row after an earlier one of the same series (the first sighting is
    # where the series starts, not a change).
    "figure_changes": f"""SELECT CASE WHEN h.figure IN ({', '.join(f"'{f}'" for f in VOTE_FIGURES)}) THEN 'votes'
            ELSE 'counts' END AS kind,
       h.crawl_id, {_UTC.format("h.seen_at")} AS at, t.fid, f.name AS forum, h.tid, t.title, h.pid,
       h.subject, h.ref, h.figure,
       CASE WHEN h.subject = 'thread' THEN h.figure
            ELSE h.subject || coalesce(' ' || h.ref, '') || ' ' || h.figure END AS field,
       CASE h.subject
            WHEN 'poll_option' THEN (SELECT o.text FROM poll_options o WHERE o.tid = h.tid AND o.position = h.ref)
            WHEN 'attachment' THEN (SELECT a.name FROM attachments a WHERE a.pid = h.pid AND a.ref = h.ref)
            WHEN 'trade' THEN (SELECT d.item FROM trades d WHERE d.tid = h.tid AND d.pid = h.pid)
       END AS label,
       h.previous AS before, h.value AS after, {_UTC.format("h.previous_seen_at")} AS before_seen_at,
       h.seen_at, h.id AS history_id
FROM (SELECT *, lag(value) OVER w AS previous, lag(seen_at) OVER w AS previous_seen_at FROM figure_history
      WINDOW w AS (PARTITION BY subject, tid, pid, ref, figure ORDER BY seen_at, id)) h
LEFT JOIN threads t ON t.tid = h.tid LEFT JOIN forums f ON f.fid = t.fid
WHERE h.previous IS NOT NULL AND h.previous IS NOT h.value""",
    "user_figure_changes": f"""SELECT s.crawl_id, {_UTC.format("s.seen_at")} AS at, s.seen_at, s.uid, u.username, s.source,
       json_object('threads', p.threads, 'posts', p.posts, 'replies', p.replies, 'credits', p.credits,
                   'digests', p.digests, 'followers', p.followers, 'online_hours', p.online_hours,
                   'extcredits', json(p.extcredits), 'approx', json(p.approx)) AS before,
       json_object('threads', s.threads, 'posts', s.posts, 'replies', s.replies, 'credits', s.credits,
                   'digests', s.digests, 'followers', s.followers, 'online_hours', s.online_hours,
                   'extcredits', json(s.extcredits), 'approx', json(s.approx)) AS after,
       {_UTC.format("p.seen_at")} AS before_seen_at, s.id AS stats_id
FROM (SELECT *, lag(id) OVER (PARTITION BY uid, source ORDER BY seen_at, id) AS previous FROM user_stats) s
JOIN user_stats p ON p.id = s.previous
LEFT JOIN users u ON u.uid = s.uid""",
}
VIEW_DESCRIPTIONS = {
    "user_latest_stats": ("Each user's latest user_stats row: their figures as last seen.", {}),
    "thread_summary": ("One row per thread with its forum name and what the archive holds of it.", {
        "forum": "Forum name", "posts": "Posts archived (replies is the count the forum showed)",
        "comments": "点评 comments archived under its posts (X3.5 counts them into the replies it shows: replies "
                    "minus comments is the replies proper)",
        "posters": "Distinct authors among the archived posts", "first_post_at": "Earliest archived post",
        "last_post_at": "Latest archived post"}),
    "user_activity": ("One row per user: archived posts, threads and forums, active period, latest figures.", {
        "posts": "Posts archived", "threads_started": "Opening posts archived", "threads": "Threads posted in",
        "forums": "Forums posted in", "first_post_at": "Earliest archived post",
        "last_post_at": "Latest archived post", "credits": "Credits (积分) as last seen",
        "posts_shown": "Posts figure shown beside their posts, as last seen",
        "figures_seen_at": "When those figures were seen"}),
    "posts_per_month": ("Posts per month (of posted_at) and forum.", {
        "month": "YYYY-MM", "forum": "Forum name", "posts": "Posts archived", "threads": "Threads posted in",
        "posters": "Distinct authors"}),
    "post_changes": ("One row per change of a post between crawls: new (first archived after the archive's first "
                     "finished crawl), edited (one row per replaced version) or gone (found missing: see "
                     "post_absences).", {
        "kind": "new | edited | gone", "crawl_id": "Crawl that saw the change (for gone: the first that did not "
                                                   "see the post)",
        "at": "When that crawl saw it (ISO 8601, UTC)", "forum": "Forum name", "title": "Thread title",
        "status": "For gone: deleted or hidden; otherwise the post's status",
        "text_before": "Text before the change (edited: the replaced version; gone: the last text seen)",
        "text_after": "Text after the change (new: the first version; edited: the next version)",
        "last_crawl": "For gone: the last crawl that saw the post",
        "url": "For gone: the page that showed its absence; otherwise the post's page",
        "reason": "For gone: what that page showed"}),
    "thread_state_changes": ("One row per thread that appeared (new) or whose state changed (status, is_closed, "
                             "fid = moved) between crawls.", {
        "kind": "new | state", "crawl_id": "Crawl that saw it", "at": "When (ISO 8601, UTC)",
        "forum": "Forum name (as now)", "field": "status | is_closed | fid",
        "before": "The value before (NULL for a new thread)", "after": "The value after",
        "url": "The page that showed it"}),
    "rating_changes": ("One row per rating (评分) first archived after the first finished crawl that read ratings "
                       "(crawls.reads_extras): a new rating of a post.", {
        "kind": "rating", "crawl_id": "Crawl that first saw it", "at": "When (ISO 8601, UTC)", "forum": "Forum name",
        "title": "Thread title", "pid": "The rated post", "floor": "Its floor",
        "author_uid": "The rated post's author", "author": "The rated post's author",
        "uid": "Who rated", "username": "Who rated", "credit": "The credit (威望)", "score": "Score given (+5, -1)",
        "reason": "Reason given", "rated_at": "When rated, where the page shows it", "url": "The post's page"}),
    "comment_changes": ("One row per 点评 comment first archived after the first finished crawl that read comments "
                        "(crawls.reads_extras).", {
        "kind": "comment", "crawl_id": "Crawl that first saw it", "at": "When (ISO 8601, UTC)",
        "forum": "Forum name", "title": "Thread title", "pid": "The post commented on", "floor": "Its floor",
        "author_uid": "That post's author", "author": "That post's author", "uid": "Who commented",
        "username": "Who commented", "comment": "The comment", "posted_at": "When it was posted, as the page says",
        "url": "The post's page", "comment_id": "The post_comments row"}),
    "figure_changes": ("One row per movement of a figure the thread pages show (a figure_history row after an "
                       "earlier one of the same series): votes (poll votes and voters, debate votes and debaters, "
                       "支持/反对) and counts (activity applicants and places left, downloads, goods in stock).", {
        "kind": "votes | counts", "crawl_id": "Crawl that saw the new value",
        "at": "When it was seen (the page's Date, in UTC)", "forum": "Forum name", "title": "Thread title",
        "pid": "The post, for a debate reply's votes, an attachment's downloads, a trade's stock",
        "subject": "thread | poll | poll_option | debate | debate_post | activity | attachment | trade",
        "ref": "A poll option's position, an attachment's ref", "figure": "Which figure (votes, recommend_add...)",
        "field": "Subject, ref and figure in one: poll_option 2 votes", "label": "The poll option's text, the "
        "attachment's name or the goods' name", "before": "The value before", "after": "The new value",
        "before_seen_at": "When the value before was seen (UTC)", "seen_at": "When the new value was seen, as "
        "figure_history holds it (the forum's time)", "history_id": "The figure_history row of the new value"}),
    "user_figure_changes": ("One row per change of a user's figures (a user_stats row after an earlier one of "
                            "the same source).", {
        "crawl_id": "Crawl that saw the new figures", "at": "When they were seen (the page's Date, in UTC)",
        "seen_at": "The same, as user_stats holds it (the forum's time)",
        "before": "The earlier figures (JSON)", "after": "The new figures (JSON)",
        "before_seen_at": "When the earlier figures were seen (UTC)", "stats_id": "The user_stats row of the new figures"}),
}


def has_trigram() -> bool:
    """Whether this SQLite has FTS5's trigram tokenizer (3.34+)."""
    return sqlite3.sqlite_version_info >= TRIGRAM_SQLITE


# =================================================================================================
# Traditional/Simplified folding
# =================================================================================================
@functools.lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC(FOLD_CONFIG)


def fold(text: str | None) -> str | None:
    """``text`` with Traditional Chinese written as Simplified (OpenCC ``t2s``: 討論區 -> 讨论区); ``None`` stays."""
    if not text or text.isascii():  # most of a forum's short fields; OpenCC would return them unchanged
        return text
    return _converter().convert(text)


def index_text(text: str | None) -> str | None:
    """What the search index holds for ``text``: the text, and when :func:`fold` changes it, the folded text after
    :data:`FOLD_SEPARATOR` (so a query in either script, folded or not, finds it)."""
    folded = fold(text)
    return text if folded == text else f"{text}{FOLD_SEPARATOR}{folded}"


def register_functions(conn: sqlite3.Connection) -> None:
    """Add :data:`INDEX_TEXT_FUNCTION` (the triggers') and :data:`FOLD_FUNCTION` to a connection; idempotent."""
    conn.create_function(INDEX_TEXT_FUNCTION, 1, index_text, deterministic=True)
    conn.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


# The Unicode blocks of Chinese characters (unified ideographs, extension A, compatibility, extensions B-F):
# what :func:`_spellings` runs through OpenCC.
_HAN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


@functools.lru_cache(maxsize=1)
def _spellings() -> dict[str, frozenset[str]]:
    """Folded character -> every character OpenCC folds to it, itself included, for the characters folding
    changes (about 3,600): OpenCC run once over every Chinese character (some 10 ms)."""
    chars = [chr(c) for low, high in _HAN_BLOCKS for c in range(low, high + 1)]
    folded = _converter().convert("\n".join(chars)).split("\n")
    table: dict[str, set[str]] = {}
    if len(folded) == len(chars):  # one character each, as OpenCC's character tables map them
        for char, to in zip(chars, folded):
            if char != to and len(to) == 1:
                table.setdefault(to, {to}).add(char)
    return {to: frozenset(chars) for to, chars in table.items()}


def spellings(term: str, most: int = 16) -> list[str] | None:
    """Every way of writing ``term`` that folds to what it folds to, character by character (讨论 -> 讨论, 討论,
    讨論, 討論), the folded term first; ``None`` when there are more than ``most``."""
    ways = [""]
    for char in fold(term):
        ways = [w + c for w in ways for c in sorted(_spellings().get(char, (char,)), key=lambda c: c != char)]
        if len(ways) > most:
            return None
    return ways


# =================================================================================================
# Search indexes and views
# =================================================================================================
def _fts_sql(fts: str, table: str, key: str, column: str) -> dict[str, tuple[str, str]]:
    """name -> (type, CREATE statement) for one contentless trigram index (of :func:`index_text`) and its
    triggers, which name the folding (:data:`FOLD_VERSION`) they index with."""
    text = f"{INDEX_TEXT_FUNCTION}(new.[{column}])"
    insert = f"INSERT INTO [{fts}] (rowid, [{column}]) VALUES (new.[{key}], {text});"
    # A contentless index takes a row out only given the very text it indexed.
    delete = (f"INSERT INTO [{fts}] ([{fts}], rowid, [{column}])"
              f" VALUES ('delete', old.[{key}], {INDEX_TEXT_FUNCTION}(old.[{column}]));")
    unpaused = f"NOT EXISTS (SELECT 1 FROM [{PAUSE_TABLE}])" if fts in BATCH_INDEXED else "1"
    folding = f"-- folding: {FOLD_VERSION}"
    return {
        fts: ("table", f"CREATE VIRTUAL TABLE [{fts}] USING FTS5 ([{column}], tokenize='trigram', content='')"),
        f"{fts}_ai": ("trigger", f"CREATE TRIGGER [{fts}_ai] AFTER INSERT ON [{table}] WHEN {unpaused}"
                                 f" BEGIN\n  {folding}\n  {insert}\nEND"),
        f"{fts}_ad": ("trigger", f"CREATE TRIGGER [{fts}_ad] AFTER DELETE ON [{table}]"
                                 f" BEGIN\n  {folding}\n  {delete}\nEND"),
        # Re-crawls update every row they see (last_seen): re-index only when the text changed.
        f"{fts}_au": ("trigger", f"CREATE TRIGGER [{fts}_au] AFTER UPDATE ON [{table}]"
                                 f" WHEN old.[{column}] IS NOT new.[{column}] AND {unpaused}"
                                 f" BEGIN\n  {folding}\n  {delete}\n  {insert}\nEND"),
    }


def _refill(conn: sqlite3.Connection, fts: str, table: str, key: str, column: str) -> None:
    """Index every row of ``table`` again (in key order: FTS5 writes one segment), the index emptied first."""
    conn.execute(f"INSERT INTO [{fts}] ([{fts}]) VALUES ('delete-all')")
    conn.execute(f"INSERT INTO [{fts}] (rowid, [{column}]) SELECT [{key}], {INDEX_TEXT_FUNCTION}([{column}])"
                 f" FROM [{table}] ORDER BY [{key}]")


def reindex(conn: sqlite3.Connection, fts: str, column: str,
            before: dict[int, str | None], after: dict[int, str | None]) -> None:
    """Bring index ``fts`` in step with rows a batch wrote while the triggers stood aside (:data:`PAUSE_TABLE`).

    In: ``before``, the indexed text of the rows that were archived before the batch (key -> text); ``after``,
    the text of every row the batch wrote, as it now is in its table (the writer follows each row's merge).
    Out: nothing; a changed row's old text is taken out of the index (FTS5's ``'delete'``, which needs the text
    it indexed) and every new or changed row is indexed with its text (both as :func:`index_text` makes them), in
    ascending key order: FTS5 keeps a
    batch's terms in memory and writes them as one segment, which a key lower than one before it would cut.
    (Reading the texts back from the table with ``INSERT ... SELECT`` cost 1.5-2 times as much.)
    """
    changed = [(k, text) for k, text in before.items() if after.get(k, text) != text]
    if changed:
        conn.executemany(f"INSERT INTO [{fts}] ([{fts}], rowid, [{column}]) VALUES ('delete', ?, ?)",
                         [(k, index_text(text)) for k, text in changed])
    keys = sorted([k for k in after if k not in before] + [k for k, _ in changed])
    if keys:
        conn.executemany(f"INSERT INTO [{fts}] (rowid, [{column}]) VALUES (?, ?)",
                         [(k, index_text(after[k])) for k in keys])


def search_paused(db: sqlite_utils.Database) -> bool:
    """Whether :data:`PAUSE_TABLE` holds a row outside a batch (one indexed read; ``False`` without the table)."""
    try:
        return db.conn.execute(f"SELECT 1 FROM [{PAUSE_TABLE}] LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # an archive made before the table
        return False


def ensure_search(db: sqlite_utils.Database) -> None:
    """Create (or repair) the trigram search indexes, their sync triggers and the views, idempotently.

    In: an archive whose tables exist. Out: nothing; the database has ``posts_fts``, ``threads_fts`` and
    ``post_comments_fts`` (filled from their tables when empty), triggers keeping them in sync, and the views
    ``thread_summary``, ``user_activity``, ``posts_per_month``, ``user_latest_stats`` and the changes between
    crawls (``post_changes``, ``thread_state_changes``, ``rating_changes``, ``comment_changes``,
    ``figure_changes``, ``user_figure_changes``). When everything is
    in place it costs one read of ``sqlite_master`` and three one-row reads. Without trigram support
    (SQLite < 3.34) only the views are made and search falls back to scanning.
    """
    conn = db.conn
    register_functions(conn)
    master = {name: (kind, sql) for kind, name, sql in
              conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view', 'trigger')")}
    with conn:
        # archive.json's table, made here too for an archive opened without its schema (Archive(create=False)).
        if PAUSE_TABLE not in master:
            conn.execute(f"CREATE TABLE [{PAUSE_TABLE}] (\n   [id] INTEGER PRIMARY KEY\n)")
        paused = conn.execute(f"SELECT 1 FROM [{PAUSE_TABLE}] LIMIT 1").fetchone() is not None
        if paused:  # never committed by the archive: a writer that skipped the triggers and did not index
            conn.execute(f"DELETE FROM [{PAUSE_TABLE}]")
        if has_trigram():
            for fts, table, key, column in FTS_INDEXES:
                if table not in master:
                    continue
                wanted = _fts_sql(fts, table, key, column)
                stale = [name for name, spec in wanted.items() if master.get(name) != spec]
                if stale:
                    # Drop and rebuild the lot: a half-made index cannot be trusted to match its table.
                    for name, (kind, _) in wanted.items():
                        if name in master:
                            conn.execute(f"DROP {'TABLE' if kind == 'table' else 'TRIGGER'} IF EXISTS [{name}]")
                    for _, sql in wanted.values():
                        conn.execute(sql)
                    _refill(conn, fts, table, key, column)
                elif paused or (conn.execute(f"SELECT 1 FROM [{table}] LIMIT 1").fetchone()
                                and not conn.execute(f"SELECT 1 FROM [{fts}_docsize] LIMIT 1").fetchone()):
                    _refill(conn, fts, table, key, column)
        if "posts" in master and "threads" in master:
            for name, body in VIEWS.items():
                sql = f"CREATE VIEW [{name}] AS {body}"
                if master.get(name) != ("view", sql):
                    conn.execute(f"DROP VIEW IF EXISTS [{name}]")
                    conn.execute(sql)


def rebuild_search(db: sqlite_utils.Database) -> None:
    """Re-fill every search index from its table (after a bulk load with triggers off, say)."""
    register_functions(db.conn)
    with db.conn:
        for index in FTS_INDEXES:
            _refill(db.conn, *index)


def _fts_ready(conn: sqlite3.Connection, fts: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [fts]).fetchone() is not None


def search_outdated(db: sqlite_utils.Database) -> bool:
    """Whether the archive has search indexes made otherwise than this dzarchive makes them (see
    :func:`search_ready`); ``False`` for an archive without them (its schema is made anew anyway)."""
    return has_trigram() and any(_fts_ready(db.conn, fts) for fts, *_ in FTS_INDEXES) and not search_ready(db)


def search_ready(db: sqlite_utils.Database) -> bool:
    """Whether the archive's search indexes and triggers are the ones this dzarchive makes: folded, by this
    OpenCC (one read of ``sqlite_master``; always False where SQLite lacks trigram). An archive whose indexes
    predate folding, or were folded by another OpenCC, is not: :func:`ensure_search` rebuilds them."""
    if not has_trigram():
        return False
    master = {name: (kind, sql) for kind, name, sql in db.conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    return all(master.get(name) == spec for fts, table, key, column in FTS_INDEXES if table in master
               for name, spec in _fts_sql(fts, table, key, column).items())
