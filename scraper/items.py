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
# A trade thread's goods page (do=tradeinfo&tid=T&pid=P): one goods post's details and text. Not a thread page:
# it shows no floor, so it proves nothing about which posts a thread holds.
KIND_TRADEINFO = "tradeinfo"

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
# A firewall/CDN challenge or a CC-defence check meant for a person (scraper/parsers/barriers.py): the crawl stops.
STATUS_BARRIER = "barrier"
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
    # forum_thread.special as the thread page shows it: poll | trade | reward | activity | debate (None: plain
    # thread, or a list row that does not say).
    special: str | None = None
    # 支持 / 反对 (帖子推荐) counts at crawl time, where the page shows them (recommendthread on).
    recommend_add: int | None = None
    recommend_sub: int | None = None


@dataclass
class Quote:
    """A quoted post inside a reply: who was quoted, when, and which pid (from the findpost link)."""

    pid: int | None = None
    author: str | None = None
    time_text: str | None = None
    text: str = ""


@dataclass
class Attachment:
    """An image or file in (or listed under) a post, with the facts the page shows beside it.

    ``url`` is the real file URL (``zoomfile`` > ``file`` > … , never a ``none.gif`` placeholder) or the
    download link; ``aid`` is Discuz's attachment id where the page shows one (``aimg_AID``, ``aid="AID"``,
    ``attach_AID``, ``aidAID``), which is what identifies the attachment across crawls (X3 and 7.x download
    links carry per-view tokens). ``can_view`` / ``can_download`` say what this viewer could do: ``False``
    when the page showed a no-permission note instead of the file or link, ``None`` when it does not say.
    """

    pid: int
    url: str
    name: str | None = None
    kind: str = "image"  # "image" or "file"
    aid: int | None = None
    size: int | None = None  # bytes, from the size shown ("36.75 KB" -> 37632)
    size_text: str | None = None  # the size as shown
    downloads: int | None = None  # 下载次数 at crawl time
    width: int | None = None
    height: int | None = None
    uploaded_at: datetime | None = None
    uploaded_at_text: str | None = None
    price: int | None = None  # 售价 (credits), for paid attachments
    can_view: bool | None = None
    can_download: bool | None = None


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
    # States that stand beside the post's status (a warned post is otherwise ``ok``): 警告 (status & 2)
    # and an anonymous author (匿名). ``None``: the page does not say.
    is_warned: bool | None = None
    is_anonymous: bool | None = None
    # The 评分 table's totals line: 参与人数 N (7.x: 评分次数) and the total per credit ({"威望": 2, "金钱": 10}).
    rate_count: int | None = None
    rate_totals: dict[str, int] = field(default_factory=dict)
    # 点评: how many the page shows under the post, and whether it links more (the pager of commentmore).
    comments_shown: int | None = None
    comments_more: bool | None = None


# ---- what a thread page carries besides posts (reference 4.11) ------------------------------------
# forum_thread.special -> the names used here (and in threads.special).
SPECIAL_POLL, SPECIAL_TRADE, SPECIAL_REWARD, SPECIAL_ACTIVITY, SPECIAL_DEBATE = (
    "poll", "trade", "reward", "activity", "debate")
# Box states: read whole, or present but not fully readable (``missing`` names what was not read).
BOX_OK = "ok"
BOX_PARTIAL = "partial"


@dataclass
class PollOption:
    tid: int
    position: int  # 1-based, in the order the page lists the options
    text: str | None = None
    polloptionid: int | None = None  # where the page shows it (vote inputs, td#polloption_ID)
    votes: int | None = None  # None when the results were not shown to this viewer
    percent: float | None = None  # the share shown (26.92), in percent
    image_url: str | None = None  # image polls: the option's picture
    image_aid: int | None = None


@dataclass
class Poll:
    """The poll box of a poll thread (special 1)."""

    tid: int
    multiple: bool | None = None  # 多选投票
    max_choices: int | None = None  # 最多可选 N 项
    voters: int | None = None  # 共有 N 人参与投票
    expires_at: datetime | None = None  # the end, where shown (exact or resolved from 距结束还有 …)
    expires_at_text: str | None = None
    is_expired: bool | None = None  # 投票已经结束
    results_visible: bool | None = None  # whether this viewer saw the counts (visiblepoll, or after voting)
    voters_public: bool | None = None  # 查看投票参与人 (overt)
    is_image: bool = False  # an image poll
    options: list[PollOption] = field(default_factory=list)
    status: str = BOX_OK
    missing: list[str] = field(default_factory=list)


@dataclass
class Reward:
    """The reward box of a 悬赏 thread (special 3)."""

    tid: int
    price: int | None = None  # 悬赏 N
    credit: str | None = None  # the credit it is paid in (金钱)
    is_resolved: bool | None = None  # 已解决
    best_pid: int | None = None  # the best answer (最佳答案), once resolved
    best_author: str | None = None
    best_author_uid: int | None = None
    status: str = BOX_OK
    missing: list[str] = field(default_factory=list)


@dataclass
class Debate:
    """The debate box of a 辩论 thread (special 5)."""

    tid: int
    affirm_point: str | None = None  # 正方观点
    nega_point: str | None = None  # 反方观点
    affirm_votes: int | None = None
    nega_votes: int | None = None
    affirm_debaters: int | None = None  # how many, as shown
    nega_debaters: int | None = None
    affirm_debater_list: list[dict] = field(default_factory=list)  # [{"uid": 36, "username": "…"}] where shown
    nega_debater_list: list[dict] = field(default_factory=list)
    umpire: str | None = None  # 裁判
    umpire_uid: int | None = None
    starts_at: datetime | None = None
    starts_at_text: str | None = None
    ends_at: datetime | None = None  # 结束时间
    ends_at_text: str | None = None
    is_ended: bool | None = None
    winner: str | None = None  # affirm | nega | draw, once the umpire gave a verdict; None: none shown
    best_debater: str | None = None  # 最佳辩手
    umpire_point: str | None = None  # 裁判观点
    status: str = BOX_OK
    missing: list[str] = field(default_factory=list)


@dataclass
class DebatePost:
    """A reply's stand in a debate (正方 / 反方 / 中立) and its 支持 count where shown."""

    pid: int
    tid: int
    stand: str | None = None  # affirm | nega | neutral
    stand_text: str | None = None  # the label as shown
    voters: int | None = None


@dataclass
class ActivityApplicant:
    tid: int
    uid: int | None = None
    username: str | None = None
    verified: bool | None = None  # listed as approved (X3 已通过, 7.x 最新参加会员) or awaiting (暂未通过, 最新报名会员)
    message: str | None = None  # 留言, where shown
    applied_at: datetime | None = None  # 申请时间, where shown
    applied_at_text: str | None = None


@dataclass
class Activity:
    """The activity box of an 活动 thread (special 4)."""

    tid: int
    class_name: str | None = None  # 活动类型 (forum_activity.class)
    starts_at: datetime | None = None
    starts_at_text: str | None = None
    ends_at: datetime | None = None
    ends_at_text: str | None = None
    time_text: str | None = None  # the 活动时间 line as shown (a range, or 商定)
    place: str | None = None  # 活动地点
    cost: int | None = None  # 每人花销
    gender: str | None = None  # 性别 as shown (不限 / 男 / 女)
    number: int | None = None  # places (人数)
    applicants: int | None = None  # 已报名人数 (verified)
    remaining: int | None = None  # 剩余名额
    expires_at: datetime | None = None  # 报名截止
    expires_at_text: str | None = None
    pending: int | None = None  # applications awaiting approval, where shown (X3 暂未通过 N 人)
    image_url: str | None = None  # the activity's picture, where it has one
    applicant_list: list[ActivityApplicant] = field(default_factory=list)  # where the page lists them
    status: str = BOX_OK
    missing: list[str] = field(default_factory=list)


@dataclass
class Trade:
    """One goods box of a 商品 thread (special 2); ``pid`` is the goods post (not a floor)."""

    tid: int
    pid: int | None = None
    item: str | None = None  # the goods' name
    price: float | None = None  # 现价 (money)
    cost_price: float | None = None  # 原价
    credit_price: int | None = None  # price in credits, where the goods take them
    amount: int | None = None  # 商品数量 (in stock)
    sold: int | None = None  # 累计售出 (the goods page)
    locus: str | None = None  # 所在地
    quality: str | None = None  # 成色 as shown (全新 / 二手 …)
    transport: str | None = None  # 运费 / delivery as shown
    seller: str | None = None
    seller_uid: int | None = None
    expires_at: datetime | None = None  # 有效期
    expires_at_text: str | None = None
    image_url: str | None = None  # the goods picture
    aid: int | None = None
    url: str | None = None  # the goods page (do=tradeinfo&pid=)
    content_text: str | None = None  # the goods post's own text (from the goods page)
    content_html: str | None = None
    status: str = BOX_OK
    missing: list[str] = field(default_factory=list)


@dataclass
class Rating:
    """One 评分 given to a post: one row per rater and credit, as forum_ratelog stores them."""

    pid: int
    tid: int | None = None
    uid: int | None = None  # the rater
    username: str | None = None
    credit: str | None = None  # the credit's name as shown (威望)
    score: int | None = None  # +5, -1
    reason: str | None = None  # "" shown as None
    rated_at: datetime | None = None  # where the page shows it
    rated_at_text: str | None = None


@dataclass
class PostComment:
    """One 点评 under a post (forum_postcomment)."""

    pid: int
    tid: int | None = None
    author_uid: int | None = None
    author: str | None = None
    comment: str | None = None
    posted_at: datetime | None = None
    posted_at_text: str | None = None


@dataclass
class ThreadTag:
    tid: int
    tagname: str  # common_tag.tagname
    tagid: int | None = None  # misc.php?mod=tag&id=N


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

    kind: str  # forumdisplay | viewthread | profile | tradeinfo (a goods page: id is the goods pid)
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
    # What a thread page shows besides posts (scraper.parsers.extras).
    polls: list[Poll] = field(default_factory=list)
    rewards: list[Reward] = field(default_factory=list)
    debates: list[Debate] = field(default_factory=list)
    debate_posts: list[DebatePost] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    post_comments: list[PostComment] = field(default_factory=list)
    thread_tags: list[ThreadTag] = field(default_factory=list)
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
