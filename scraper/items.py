"""Typed items that flow from the parsers through the pipelines into the archive.

Field names are Discuz's own terms and match the archive columns (see ``schemas/archive.json``),
so the same name means the same thing from parser to column to JSONL key.

Parsers fill these with Python values (``datetime`` with tzinfo, ``int``, ``str``); the normalise
pipeline turns them into the archive's storage forms (ISO 8601 strings, JSON).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Page kinds a parser can recognise.
KIND_INDEX = "index"
KIND_FORUMDISPLAY = "forumdisplay"
KIND_VIEWTHREAD = "viewthread"
KIND_PROFILE = "profile"
KIND_SPECIAL = "special"  # a showmessage() page, anti-theft challenge, or anything unreadable

# Page / thread states (issue 3 lists the full set; these are the ones Discuz renders to guests).
STATUS_OK = "ok"
STATUS_NOT_FOUND = "not_found"
STATUS_NO_PERMISSION = "no_permission"
STATUS_LOGIN_REQUIRED = "login_required"
STATUS_PASSWORD = "password"
STATUS_ANTITHEFT = "antitheft"
STATUS_CLOSED_SITE = "closed_site"
STATUS_FLOOD = "flood"  # 请求过快 / 刷新过于频繁
STATUS_SYSTEM_ERROR = "system_error"  # discuz_error: "Discuz! System Error" / "Discuz! Database Error"
STATUS_UNKNOWN = "unknown"
# A page read from its sturdy signals only: its items are kept, ``ParsedPage.missing`` names what
# could not be read (``posted_at``, ``floor``…).
STATUS_PARTIAL = "partial"

# Post states stored in posts.status.
POST_OK = "ok"
POST_BANNED_AUTHOR = "banned_author"
POST_BANNED_SINGLE = "banned_single"
POST_HIDDEN_REPLY = "hidden_reply"
POST_HIDE_PARTIAL = "hide_partial"
POST_PAID = "paid"
POST_PASSWORD = "password"
POST_DELETED_FLOOR = "deleted_floor"


@dataclass
class Forum:
    fid: int
    name: str | None = None
    parent_fid: int | None = None
    type: str | None = None  # "group" (a category), "forum" or "sub"
    description: str | None = None
    url: str | None = None
    # What the index (or the parent's sub-forum list) shows: threads / posts, sub-forums included,
    # and the forum's own last post.
    threads: int | None = None
    posts: int | None = None
    last_post_at: datetime | None = None


@dataclass
class Thread:
    tid: int
    fid: int | None = None
    title: str | None = None
    type_prefix: str | None = None  # thread type / sort shown before the title, e.g. "[盐都杂谈]"
    author_uid: int | None = None
    author: str | None = None
    created_at: datetime | date | None = None  # a date when the page shows only the date
    created_at_text: str | None = None
    views: int | None = None
    replies: int | None = None
    pages: int | None = None
    is_sticky: bool | None = None  # None = the page does not say
    is_digest: bool | None = None
    is_closed: bool | None = None
    last_post_at: datetime | None = None
    last_post_at_text: str | None = None
    last_poster: str | None = None
    forum_name: str | None = None
    status: str | None = None  # thread state when the thread page itself was fetched
    url: str | None = None


@dataclass
class Quote:
    """A quoted post inside a reply: who was quoted, when, and which pid (from the findpost link)."""

    pid: int | None = None
    author: str | None = None
    time_text: str | None = None
    text: str = ""


@dataclass
class Attachment:
    pid: int
    url: str
    name: str | None = None
    kind: str = "image"  # "image" or "file"
    aid: int | None = None


@dataclass
class Post:
    pid: int
    tid: int
    floor: int | None = None
    is_first: bool = False
    author_uid: int | None = None
    author: str | None = None
    posted_at: datetime | None = None
    posted_at_text: str | None = None
    content_text: str = ""
    content_html: str = ""
    edited_note: str | None = None  # "本帖最后由 X 于 T 编辑" as shown
    edited_by: str | None = None
    edited_at: datetime | None = None
    device: str | None = None  # "来自手机" and the like
    location: str | None = None  # "IP属地" notes some themes add
    status: str = POST_OK
    quotes: list[Quote] = field(default_factory=list)
    page: int | None = None
    url: str | None = None


@dataclass
class User:
    uid: int
    username: str | None = None
    group_title: str | None = None
    group_id: int | None = None
    custom_title: str | None = None
    registered_at: datetime | None = None
    registered_at_text: str | None = None
    last_login_text: str | None = None
    url: str | None = None  # the link to their profile the page shows (a profile link beats the space's front page)


@dataclass
class UserStats:
    """A user's figures as one page showed them.

    ``raw`` keeps every ``label -> shown text`` pair of the stats block; the typed fields are the
    normalised values of the labels we know. ``approx`` names the fields that were only shown
    rounded ("5万" with no exact figure in a ``span[title]``).
    """

    uid: int
    seen_at: datetime | None = None
    threads: int | None = None
    posts: int | None = None
    replies: int | None = None
    credits: int | None = None
    digests: int | None = None
    followers: int | None = None
    following: int | None = None
    friends: int | None = None
    online_hours: float | None = None
    extcredits: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    approx: list[str] = field(default_factory=list)
    source: str | None = None  # "post" (the block beside a post) or "profile"


@dataclass
class Link:
    """A link the page shows to another Discuz page, with what the page's markup says it leads to.

    ``url`` is absolute and spelled as the site spells it. ``id`` is the fid, tid or uid the link
    leads to, and ``page`` the page number; ``id`` is ``None`` when only the link's place in the
    markup says what it is (a forum row's title link under a rewrite rule nothing here knows yet).
    ``rank`` orders spellings of the same page: lower is the better source (a profile link with
    ``do=profile`` beats the space's front page, which may show a feed instead).
    """

    kind: str  # forumdisplay | viewthread | profile
    url: str
    id: int | None = None
    page: int = 1
    rank: int = 0


@dataclass
class ParsedPage:
    """Everything one page yielded. Exactly one of these comes out of every fetched page."""

    url: str
    kind: str
    status: str = STATUS_OK
    message: str | None = None  # the text of a showmessage() page, or why parsing failed
    fetched_at: datetime | None = None
    http_status: int | None = None
    page: int | None = None
    pages: int | None = None
    fid: int | None = None
    tid: int | None = None
    uid: int | None = None
    version: str | None = None  # "X3.4", "7.2"… from the generator meta / footer
    charset: str | None = None
    forums: list[Forum] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    user_stats: list[UserStats] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)  # where the page leads (forums, threads, pages, profiles)
    content_type: str | None = None
    date_header: str | None = None
    # On a ``partial`` page: the item fields the page did not let us read, e.g. ["post.posted_at"].
    missing: list[str] = field(default_factory=list)
    # Set by the crawler, not the parsers: the bytes as served (so unreadable pages can be kept), and
    # for a thread page reached from a forum list, what the list row said (replies, last_post_at).
    raw_body: bytes | None = field(default=None, repr=False)
    listed: dict | None = None


def to_dict(obj: Any) -> Any:
    """Turn an item (or list of items) into plain JSON-ready data; datetimes become ISO 8601."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name != "raw_body"}
    if isinstance(obj, (list, tuple)):
        return [to_dict(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    return obj
