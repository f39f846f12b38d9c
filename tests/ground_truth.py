"""Compare what the parsers read from a whole-site capture with the forum database's ground truth.

Used by the parser tests (which require zero mismatches) and by ``bench/accuracy.py`` (which
prints per-field match counts). ``expected.json`` is read as the capture's README describes it.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from scraper.items import ParsedPage
from scraper.parsers import parse_page

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


CAPTURE_FACTS = {
    # README: postperpage = 6; "`views` in expected.json were read after the capture"; extcredits
    # 威望/金钱/贡献 (the pages' creditnotice is '1|威望|,2|金钱|,3|贡献|', no extcredits4). The post
    # block of this stock install shows 主题 / 回帖 / 积分 and the group only.
    "discuz-x35-utf8-f": CaptureFacts(
        posts_per_page=6, views_read_after_capture=True,
        extcredits={"extcredits1": "威望", "extcredits2": "金钱", "extcredits3": "贡献"},
        post_block_shows=frozenset()),
}


def capture_facts(folder: Path) -> CaptureFacts:
    """The facts of the capture in ``folder`` (by its name), else the X3.4 captures' defaults."""
    return CAPTURE_FACTS.get(folder.name, CaptureFacts())

_BBCODE_BLOCK_DROPS = (
    re.compile(r"\[quote\].*?\[/quote\]\n?", re.S),  # a quote is not the post's own text
    re.compile(r"\[i=s\][^\[]*?编辑\s*\[/i\]\n*", re.S),  # the edit note has its own field
)
_BBCODE_IMG = re.compile(r"\[img(?:=[^\]]*)?\].*?\[/img\]", re.S)
# ``[*]`` is a list item: Discuz renders it as ``<li>``, one line of text.
_BBCODE_TAG = re.compile(r"\[/?[a-z]+(?:=[^\]]*)?\]|\[\*\]", re.I)


def bbcode_text(message: str) -> str:
    """The text a reader sees of a stored BBCode message, minus quotes and the edit note."""
    for pattern in _BBCODE_BLOCK_DROPS:
        message = pattern.sub("", message)
    message = _BBCODE_IMG.sub("", message)
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
    forums = {}
    specials = {}
    for page in pages:
        for post in page.posts:
            posts.setdefault(post.pid, post)
        for thread in page.threads:
            target = threads_from_thread_pages if page.kind == "viewthread" else threads_from_lists
            target.setdefault(thread.tid, thread)
        for stats in page.user_stats:
            (profile_stats if stats.source == "profile" else stats_by_uid).setdefault(stats.uid, stats)
        for user in page.users:
            if page.kind == "profile":
                users[user.uid] = user
            else:
                users.setdefault(user.uid, user)
        for forum in page.forums:
            forums.setdefault(forum.fid, forum)
        if page.kind == "special":
            specials[page.url] = page.status

    hidden = set(truth.get("hidden_threads", []))
    for want in truth["posts"]:
        pid = want["pid"]
        got = posts.get(pid)
        cmp.check("post.found", pid, got is not None, True)
        if got is None:
            continue
        cmp.check("post.tid", pid, got.tid, want["tid"])
        cmp.check("post.floor", pid, got.floor, want["position"])
        cmp.check("post.is_first", pid, got.is_first, want["first"])
        cmp.check("post.author", pid, got.author, want["author"])
        cmp.check("post.author_uid", pid, got.author_uid, want["authorid"])
        cmp.check("post.posted_at", pid, got.posted_at, _iso(want["dateline"]))
        want_status = want["status_note"].split(" ", 1)[0]
        cmp.check("post.status", pid, got.status, want_status)
        if want_status == "ok":
            cmp.check("post.content_text", pid, got.content_text, bbcode_text(want["message_bbcode"]))
        edited = re.search(r"本帖最后由 (.+?) 于 (\S+ \S+) 编辑", want["message_bbcode"])
        cmp.check("post.edited_by", pid, got.edited_by, edited.group(1) if edited else None)
        quoted = re.search(r"findpost&pid=(\d+)", want["message_bbcode"])
        cmp.check("post.quote_pid", pid, [q.pid for q in got.quotes], [int(quoted.group(1))] if quoted else [])
    extra = set(posts) - {p["pid"] for p in truth["posts"]}
    cmp.check("post.no_extra", "pids", sorted(extra), [])

    for want in truth["threads"]:
        tid = want["tid"]
        if tid in hidden or not want.get("visible_to_guest", True):
            cmp.check("thread.hidden_not_parsed", tid, tid in threads_from_thread_pages, False)
            continue
        got = threads_from_thread_pages.get(tid)
        listed = threads_from_lists.get(tid)
        cmp.check("thread.found", tid, got is not None and listed is not None, True)
        if got is None or listed is None:
            continue
        for source, t in (("page", got), ("list", listed)):
            cmp.check(f"thread.{source}.title", tid, t.title, want["title"])
            cmp.check(f"thread.{source}.fid", tid, t.fid, want["fid"])
            cmp.check(f"thread.{source}.replies", tid, t.replies, want["replies"])
            if facts.views_read_after_capture:
                cmp.check(f"thread.{source}.views_at_most", tid, t.views is not None and t.views <= want["views"], True)
            else:
                cmp.check(f"thread.{source}.views_at_least", tid, (t.views or 0) >= want["views"], True)
        cmp.check("thread.page.author", tid, (got.author, got.author_uid), (want["author"], want["authorid"]))
        cmp.check("thread.list.author", tid, (listed.author, listed.author_uid), (want["author"], want["authorid"]))
        cmp.check("thread.page.created_at", tid, got.created_at, _iso(want["dateline"]))
        cmp.check("thread.list.created_date", tid, listed.created_at,
                  _iso(want["dateline"]).date())
        cmp.check("thread.list.last_post_at", tid, listed.last_post_at,
                  _iso(want["lastpost"]).replace(second=0))
        cmp.check("thread.list.is_sticky", tid, listed.is_sticky, want["displayorder"] > 0)
        cmp.check("thread.list.is_digest", tid, listed.is_digest, want["digest"] > 0)
        # A list row only shows a lock when the folder icon is not "new": None means "not shown".
        cmp.check("thread.list.is_closed", tid, listed.is_closed in (None, want["closed"] > 0), True)
        cmp.check("thread.page.is_closed", tid, got.is_closed, want["closed"] > 0)
        ppp = facts.posts_per_page
        cmp.check("thread.page.pages", tid, got.pages, (want["replies"] + ppp) // ppp)

    # A guest's pages show a member only as a post's author (and the profile linked from there).
    posters = {p["authorid"] for p in truth["posts"] if p.get("visible_to_guest", True)}
    for want in truth["users"]:
        uid = want["uid"]
        if uid not in posters:
            invented = uid in users or uid in stats_by_uid or uid in profile_stats
            cmp.check("user.unshown_not_parsed", uid, invented, False)
            continue
        for source, stats in (("post", stats_by_uid.get(uid)), ("profile", profile_stats.get(uid))):
            cmp.check(f"user.{source}.stats_found", uid, stats is not None, True)
            if stats is None:
                continue
            cmp.check(f"user.{source}.credits", uid, stats.credits, want["credits"])
            cmp.check(f"user.{source}.threads", uid, stats.threads, want["threads"])
            cmp.check(f"user.{source}.posts", uid, stats.posts, want["posts"])
            shown = facts.post_block_shows if source == "post" else {"extcredits", "online_hours"}
            if "extcredits" in shown:
                for key, name in extcredit_names(truth, facts).items():
                    cmp.check(f"user.{source}.{key}", uid, stats.extcredits.get(name, {}).get("value"), want[key])
            else:  # nothing the block does not show is read from it (no figure taken by position)
                cmp.check(f"user.{source}.no_extcredits", uid, stats.extcredits, {})
            for name, value, key in (("online_hours", stats.online_hours, "oltime"),
                                     ("followers", stats.followers, "follower")):
                if name in shown:
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
        if uid in stats_by_uid:  # the group link sits in the stats block beside a post
            cmp.check("user.group_id", uid, user.group_id, want["groupid"])

    for want in truth["forums"]:
        fid = want["fid"]
        got = forums.get(fid)
        if not want.get("visible_to_guest", True):
            continue
        cmp.check("forum.found", fid, got is not None, True)
        if got is None:
            continue
        cmp.check("forum.name", fid, got.name, want["name"])
        cmp.check("forum.parent_fid", fid, got.parent_fid, want["parent_fid"])
    return cmp
