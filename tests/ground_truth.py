"""Compare what the parsers read from a whole-site capture with the forum database's ground truth.

Used by the parser tests (which require zero mismatches) and by ``bench/accuracy.py`` (which
prints per-field match counts). ``expected.json`` is read as the capture's README describes it.
"""
from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from scraper.items import ParsedPage
from scraper.parsers import parse_page
from scraper.parsers.labels import label_pattern, spellings

from .conftest import captured_pages, expected

# The real captures' extcredits1-4 are shown under these names (README of discuz-x34-utf8-a);
# a capture whose expected.json carries an "extcredits" map (the demo site) names its own.
EXTCREDIT_NAMES = {"extcredits1": "威望", "extcredits2": "铜板", "extcredits3": "西秦金币", "extcredits4": "鲜花"}


def extcredit_names(truth: dict, facts: CaptureFacts | None = None) -> dict[str, str]:
    """extcreditsN -> the name the site shows it under (only the extcredits the site has enabled)."""
    if "extcredits" in truth:
        return {key: spec[0] for key, spec in truth["extcredits"].items()}
    return (facts or CaptureFacts()).extcredits


@dataclass(frozen=True)
class CaptureFacts:
    """What a capture's README says about its site and about how its expected.json was read.

    The defaults are those of the X3.4 captures (discuz-x34-utf8-a README) and the demo site.
    """

    posts_per_page: int = 10
    # Views is a live counter. Read before the capture, the pages show at least the database's
    # figure (every fetch adds one); read after it, at most.
    views_read_after_capture: bool = False
    extcredits: dict[str, str] = field(default_factory=lambda: dict(EXTCREDIT_NAMES))
    # Which of these figures the stats block beside a post shows (``pre_forum_threadprofile``):
    # the others must then not be read from it at all.
    post_block_shows: frozenset[str] = frozenset({"extcredits", "online_hours", "followers"})
    # Which of the counts (credits, threads, posts) the block beside a post shows; the others must be None.
    post_block_counts: frozenset[str] = frozenset({"credits", "threads", "posts"})
    # What the profile page shows of the same (online_hours: of ``members.oltime``, the truth's ``oltime``).
    profile_shows: frozenset[str] = frozenset({"extcredits", "online_hours"})
    profile_counts: frozenset[str] = frozenset({"credits", "threads", "posts"})
    # Whether the pages link the member's group (``gid=N``) beside a post.
    group_id_shown: bool = True
    # Whether post times are shown with seconds (X ``Y-n-j H:i:s``; 7.x ``timeformat`` ``H:i`` has none).
    post_times_with_seconds: bool = True
    # Whether the thread page shows views (X: the 查看 figure; 7.0 prints neither views nor replies).
    thread_page_shows_views: bool = True
    # Whether the thread page says a thread is not closed (X: the lock icon or its absence; 7.x says "closed"
    # only in the last moderation line, 本主题由 X 于 T 关闭, and nothing of an open thread).
    thread_page_shows_open: bool = True


# X3.5 capture G (and its Traditional copy G-TC): postperpage 8; views read after the guest capture; extcredits
# 威望/金钱/贡献 (extcredits4 unused); the post block shows 主题 / 回帖 / 积分 and the group link only.
_G_FACTS = dict(posts_per_page=8, views_read_after_capture=True, post_block_shows=frozenset())

CAPTURE_FACTS = {
    # README: postperpage = 6; "`views` in expected.json were read after the capture"; extcredits
    # 威望/金钱/贡献 (the pages' creditnotice is '1|威望|,2|金钱|,3|贡献|', no extcredits4). The post
    # block of this stock install shows 主题 / 回帖 / 积分 and the group only.
    "discuz-x35-utf8-f": CaptureFacts(
        posts_per_page=6, views_read_after_capture=True,
        extcredits={"extcredits1": "威望", "extcredits2": "金钱", "extcredits3": "贡献"},
        post_block_shows=frozenset()),
    "discuz-x35-utf8-g": CaptureFacts(
        **_G_FACTS, extcredits={"extcredits1": "威望", "extcredits2": "金钱", "extcredits3": "贡献"}),
    # The same site through OpenCC s2t: the credits are named 威望/金錢/貢獻 (README of G-TC).
    "discuz-x35-utf8-g-tc": CaptureFacts(
        **_G_FACTS, extcredits={"extcredits1": "威望", "extcredits2": "金錢", "extcredits3": "貢獻"}),
    # Discuz 7.0 capture K: postperpage 15; views after the capture; extcredits 威望 (点) and 金钱 (枚) only;
    # dateformat Y-m-d + timeformat H:i (no seconds). The post block (viewthread_node.htm) shows 帖子, 精华,
    # 积分, 在线时间 and the group title without a link; the profile (viewpro_classic.htm) shows 帖子, 积分 and the
    # extcredits but no thread count, and its 在线时间 comes from cdb_onlinetime (space.php), not from
    # members.oltime (the truth's oltime): not compared. 7.0's thread page prints neither views nor replies.
    "discuz-70-utf8-k": CaptureFacts(
        posts_per_page=15, views_read_after_capture=True,
        extcredits={"extcredits1": "威望", "extcredits2": "金钱"},
        post_block_shows=frozenset({"online_hours"}), post_block_counts=frozenset({"credits", "posts"}),
        profile_shows=frozenset({"extcredits"}), profile_counts=frozenset({"credits", "posts"}),
        group_id_shown=False, post_times_with_seconds=False, thread_page_shows_views=False,
        thread_page_shows_open=False),
}

# The truth's ``status_note`` -> the post state the archive keeps. Warned and anonymous posts are shown whole
# (their state is ``Post.is_warned`` / ``Post.is_anonymous``); ``invisible`` posts are shown to nobody.
STATUS_NOTES = {"ok": "ok", "author_banned": "banned_author", "banned": "banned_single",
                "hidden_content": "hide_partial", "warned": "ok", "anonymous": "ok"}
# What a page shows for an anonymous author (匿名, lang anonymous), in either script.
ANONYMOUS_NAMES = spellings("匿名")


def capture_facts(folder: Path) -> CaptureFacts:
    """The facts of the capture in ``folder`` (by its name), else the X3.4 captures' defaults."""
    return CAPTURE_FACTS.get(folder.name, CaptureFacts())

_BBCODE_BLOCK_DROPS = (
    re.compile(r"\[quote\].*?\[/quote\]\n?", re.S),  # a quote is not the post's own text
    label_pattern(r"\[i=s\][^\[]*?编辑\s*\[/i\]\n*", re.S),  # the edit note has its own field (编辑 / 編輯)
)
_BBCODE_IMG = re.compile(r"\[img(?:=[^\]]*)?\].*?\[/img\]", re.S)
# An attachment placed in the text: an image (or a link box) where it stands, no text of the post's own.
_BBCODE_ATTACH = re.compile(r"\[attach\]\d+\[/attach\]")
# ``[*]`` is a list item: Discuz renders it as ``<li>``, one line of text.
_BBCODE_TAG = re.compile(r"\[/?[a-z]+(?:=[^\]]*)?\]|\[\*\]", re.I)
# The edit mark of the stored message, either script (本帖最后由 X 于 T 编辑 / 本帖最後由 X 於 T 編輯).
_EDIT_MARK = label_pattern(r"本帖最后由 (.+?) 于 (\S+ \S+) 编辑")


def bbcode_text(message: str) -> str:
    """The text a reader sees of a stored BBCode message, minus quotes and the edit note."""
    for pattern in _BBCODE_BLOCK_DROPS:
        message = pattern.sub("", message)
    message = _BBCODE_IMG.sub("", message)
    message = _BBCODE_ATTACH.sub("", message)
    message = _BBCODE_TAG.sub("", message)
    lines = [line.strip() for line in message.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_capture(folder: Path) -> list[ParsedPage]:
    """Parse every page of a capture as the crawler would (URL, bytes, content type, Date header)."""
    return [
        parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
        for p in captured_pages(folder)
    ]


@dataclass
class Comparison:
    """Per-field tallies: ``matches[field]`` and ``mismatches[field]`` (a list of what differed)."""

    matches: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    mismatches: dict[str, list] = field(default_factory=lambda: defaultdict(list))

    def check(self, name: str, key, got, want) -> None:
        if got == want:
            self.matches[name] += 1
        else:
            self.mismatches[name].append((key, got, want))

    def report(self) -> list[tuple[str, int, int]]:
        names = sorted(set(self.matches) | set(self.mismatches))
        return [(n, self.matches.get(n, 0), self.matches.get(n, 0) + len(self.mismatches.get(n, []))) for n in names]


def _iso(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _merge_thread(threads: dict, thread) -> None:
    """Keep one thread per tid across its pages: the first page read gives each field, and a field it does not
    show (None) is taken from a later page that does (7.0 shows replies on a thread's last page only)."""
    kept = threads.get(thread.tid)
    if kept is None:
        threads[thread.tid] = dataclasses.replace(thread)
        return
    for name, value in vars(thread).items():
        if value is not None and getattr(kept, name) is None:
            setattr(kept, name, value)


def compare_capture(folder: Path, pages: list[ParsedPage] | None = None,
                    facts: CaptureFacts | None = None) -> Comparison:
    """Parse ``folder`` (or use ``pages``) and compare threads, posts, users and forums with expected.json.

    ``facts`` (default :func:`capture_facts`) says how the capture's pages relate to its database.
    """
    truth = expected(folder)
    facts = facts or capture_facts(folder)
    pages = pages if pages is not None else parse_capture(folder)
    cmp = Comparison()

    posts = {}
    threads_from_thread_pages = {}
    threads_from_lists = {}
    stats_by_uid = {}
    profile_stats = {}
    users = {}
    users_off_profiles = set()  # uids a page other than a profile names
    forums = {}
    specials = {}
    for page in pages:
        for post in page.posts:
            posts.setdefault(post.pid, post)
        for thread in page.threads:
            if page.kind == "viewthread":
                _merge_thread(threads_from_thread_pages, thread)
            else:
                threads_from_lists.setdefault(thread.tid, thread)
        for stats in page.user_stats:
            (profile_stats if stats.source == "profile" else stats_by_uid).setdefault(stats.uid, stats)
        for user in page.users:
            if page.kind == "profile":
                users[user.uid] = user
            else:
                users.setdefault(user.uid, user)
                users_off_profiles.add(user.uid)
        for forum in page.forums:
            forums.setdefault(forum.fid, forum)
        if page.kind == "special":
            specials[page.url] = page.status

    def shown(item: dict) -> bool:
        return item.get("visible_to_guest", item.get("guest_visible", True))

    def minute(value: datetime | None) -> datetime | None:
        return value if value is None or facts.post_times_with_seconds else value.replace(second=0)

    # Post states beside the status (警告, 匿名): compared once the page's reader fills them in.
    states_read = any(getattr(p, "is_warned", None) is not None or getattr(p, "is_anonymous", None) is not None
                      for p in posts.values())
    hidden = set(truth.get("hidden_threads", []))
    for want in truth["posts"]:
        pid = want["pid"]
        got = posts.get(pid)
        if not shown(want):
            # Members-only forums' posts and posts awaiting moderation (invisible −2): no guest page shows them.
            cmp.check("post.unshown_not_parsed", pid, got is None, True)
            continue
        cmp.check("post.found", pid, got is not None, True)
        if got is None:
            continue
        cmp.check("post.tid", pid, got.tid, want["tid"])
        cmp.check("post.floor", pid, got.floor, want["position"])
        cmp.check("post.is_first", pid, got.is_first, want["first"])
        if want.get("anonymous"):
            # The truth keeps the anonymous poster out (author "", authorid 0); the page shows 匿名 and no uid.
            cmp.check("post.author", pid, got.author in ANONYMOUS_NAMES, True)
            cmp.check("post.author_uid", pid, got.author_uid, None)
        else:
            cmp.check("post.author", pid, got.author, want["author"])
            cmp.check("post.author_uid", pid, got.author_uid, want["authorid"])
        cmp.check("post.posted_at", pid, got.posted_at, minute(_iso(want["dateline"])))
        note = want["status_note"].split(" ", 1)[0]
        want_status = STATUS_NOTES.get(note, note)
        cmp.check("post.status", pid, got.status, want_status)
        if states_read:
            if got.is_warned is None and want_status != "ok":
                # A post whose body the page replaced by a notice: 7.x prints its warn icon from the status bits
                # in a way that a ban alone also lights (post_states.py), so the page does not say.
                cmp.check("post.is_warned_unsaid", pid, True, True)
            else:
                cmp.check("post.is_warned", pid, got.is_warned, bool(want.get("warned")))
            cmp.check("post.is_anonymous", pid, got.is_anonymous, bool(want.get("anonymous")))
        if want_status == "ok":
            cmp.check("post.content_text", pid, got.content_text, bbcode_text(want["message_bbcode"]))
        edited = _EDIT_MARK.search(want["message_bbcode"])
        cmp.check("post.edited_by", pid, got.edited_by, edited.group(1) if edited else None)
        quoted = re.search(r"findpost&pid=(\d+)", want["message_bbcode"])
        cmp.check("post.quote_pid", pid, [q.pid for q in got.quotes], [int(quoted.group(1))] if quoted else [])
    extra = set(posts) - {p["pid"] for p in truth["posts"]}
    cmp.check("post.no_extra", "pids", sorted(extra), [])

    for want in truth["threads"]:
        tid = want["tid"]
        if tid in hidden or not shown(want):
            cmp.check("thread.hidden_not_parsed", tid, tid in threads_from_thread_pages, False)
            continue
        got = threads_from_thread_pages.get(tid)
        listed = threads_from_lists.get(tid)
        cmp.check("thread.found", tid, got is not None and listed is not None, True)
        if got is None or listed is None:
            continue
        # What 回复 shows: X3.5 adds the 点评 count to replies (README of G: `replies_shown`).
        replies = want.get("replies_shown", want["replies"])
        for source, t in (("page", got), ("list", listed)):
            cmp.check(f"thread.{source}.title", tid, t.title, want["title"])
            cmp.check(f"thread.{source}.replies", tid, t.replies, replies)
            if source == "page" and not facts.thread_page_shows_views:
                cmp.check("thread.page.no_views", tid, t.views, None)
            elif facts.views_read_after_capture:
                cmp.check(f"thread.{source}.views_at_most", tid, t.views is not None and t.views <= want["views"], True)
            else:
                cmp.check(f"thread.{source}.views_at_least", tid, (t.views or 0) >= want["views"], True)
        cmp.check("thread.page.fid", tid, got.fid, want["fid"])
        # A global or category sticky (displayorder 2, 3) is listed on other forums' lists too, and a closed
        # sticky's row shows the lock, not its level (forumdisplay templates): such a row does not tell the
        # thread's forum, and the list leaves it to the thread page.
        tells_forum = want["displayorder"] <= 0 or (want["displayorder"] == 1 and not want["closed"])
        cmp.check("thread.list.fid", tid, listed.fid, want["fid"] if tells_forum else None)
        if want["author"] == "":  # started anonymously: shown as 匿名, the poster's uid nowhere
            for source, t in (("page", got), ("list", listed)):
                cmp.check(f"thread.{source}.author", tid, (t.author in ANONYMOUS_NAMES, t.author_uid), (True, None))
        else:
            cmp.check("thread.page.author", tid, (got.author, got.author_uid), (want["author"], want["authorid"]))
            cmp.check("thread.list.author", tid, (listed.author, listed.author_uid), (want["author"], want["authorid"]))
        cmp.check("thread.page.created_at", tid, got.created_at, minute(_iso(want["dateline"])))
        cmp.check("thread.list.created_date", tid, listed.created_at,
                  _iso(want["dateline"]).date())
        cmp.check("thread.list.last_post_at", tid, listed.last_post_at,
                  _iso(want["lastpost"]).replace(second=0))
        cmp.check("thread.list.is_sticky", tid, listed.is_sticky, want["displayorder"] > 0)
        cmp.check("thread.list.is_digest", tid, listed.is_digest, want["digest"] > 0)
        # A list row only shows a lock when the folder icon is not "new": None means "not shown".
        cmp.check("thread.list.is_closed", tid, listed.is_closed in (None, want["closed"] > 0), True)
        if facts.thread_page_shows_open:
            cmp.check("thread.page.is_closed", tid, got.is_closed, want["closed"] > 0)
        else:
            cmp.check("thread.page.is_closed_if_shown", tid, got.is_closed in (None, want["closed"] > 0), True)
        ppp = facts.posts_per_page
        cmp.check("thread.page.pages", tid, got.pages, (want["replies"] + ppp) // ppp)

    # A guest's pages show a member as a post's author; members who only vote, apply, debate or moderate
    # are shown by name in those boxes, and their profiles (linked from there) may be in the capture.
    posters = {p["authorid"] for p in truth["posts"] if shown(p)}
    for want in truth["users"]:
        uid = want["uid"]
        if uid not in posters:
            invented = uid in users_off_profiles or uid in stats_by_uid
            cmp.check("user.unshown_not_parsed", uid, invented, False)
            if uid not in profile_stats:
                continue
        sources = [("post", stats_by_uid.get(uid))] if uid in posters else []
        for source, stats in sources + [("profile", profile_stats.get(uid))]:
            cmp.check(f"user.{source}.stats_found", uid, stats is not None, True)
            if stats is None:
                continue
            counts = facts.post_block_counts if source == "post" else facts.profile_counts
            for name in ("credits", "threads", "posts"):
                if name in counts:
                    cmp.check(f"user.{source}.{name}", uid, getattr(stats, name), want[name])
                else:  # not shown: not read from anything else either
                    cmp.check(f"user.{source}.no_{name}", uid, getattr(stats, name), None)
            figures = facts.post_block_shows if source == "post" else facts.profile_shows
            if "extcredits" in figures:
                for key, name in extcredit_names(truth, facts).items():
                    cmp.check(f"user.{source}.{key}", uid, stats.extcredits.get(name, {}).get("value"), want[key])
            else:  # nothing the block does not show is read from it (no figure taken by position)
                cmp.check(f"user.{source}.no_extcredits", uid, stats.extcredits, {})
            for name, value, key in (("online_hours", stats.online_hours, "oltime"),
                                     ("followers", stats.followers, "follower")):
                if name in figures:
                    cmp.check(f"user.{source}.{name}", uid, value, want[key])
                elif source == "post":
                    cmp.check(f"user.post.no_{name}", uid, value, None)
        user = users.get(uid)
        cmp.check("user.found", uid, user is not None, True)
        if user is None:
            continue
        cmp.check("user.username", uid, user.username, want["username"])
        reg = datetime.fromisoformat(want["regdate"].replace(" ", "T"))
        got_reg = user.registered_at
        if isinstance(got_reg, datetime):
            cmp.check("user.registered_at", uid, got_reg, reg.replace(second=0))
        else:
            cmp.check("user.registered_date", uid, got_reg, reg.date() if isinstance(got_reg, date) else reg)
        if uid in stats_by_uid and facts.group_id_shown:  # the group link sits in the stats block beside a post
            cmp.check("user.group_id", uid, user.group_id, want["groupid"])

    for want in truth["forums"]:
        fid = want["fid"]
        got = forums.get(fid)
        if not shown(want):
            continue
        cmp.check("forum.found", fid, got is not None, True)
        if got is None:
            continue
        cmp.check("forum.name", fid, got.name, want["name"])
        cmp.check("forum.parent_fid", fid, got.parent_fid, want["parent_fid"])
    return cmp
