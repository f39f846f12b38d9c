"""Generate a small sample Discuz! X3.4 forum as a capture folder.

`dzarchive demo` serves this folder on loopback and archives it, so a newcomer
can watch the whole crawl -> parse -> SQLite path work offline in seconds.

The output has the same layout as the real captures under the shared fixtures
(``manifest.json``, ``pages/``, ``expected.json``) and the pages mirror the
markup of a real X3.4 (简体中文 UTF-8) install seen by a guest: same ids,
classes and nesting, so parsers written against real pages work unchanged.
All forum content (names, titles, post text) is invented for the demo.

Everything is deterministic except the timestamps derived from ``now``: the
newest three posts are placed 3 days, 1 day and 21 minutes before ``now`` so
the pages carry Discuz's relative dates (``3&nbsp;天前``, ``昨天&nbsp;11:43``,
``21&nbsp;分钟前``), which are relative to the manifest ``Date`` header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

__all__ = ["build_demo_site", "DEFAULT_HOST"]

DEFAULT_HOST = "demo.dzarchive.test"
SITE_NAME = "清风茶社"
CATEGORY_GID = 1
CATEGORY_NAME = "茶友社区"
TZ = timezone(timedelta(hours=8))
TZ_LABEL = "+08:00"
POSTS_PER_PAGE = 10
THREADS_PER_PAGE = 20
VERHASH = "dz4"
# Guests are treated as having last visited this long ago (newpost anchor).
GUEST_LASTVISIT = timedelta(hours=1)
COOKIEPRE = "qF3d_2132_"

HTML_CT = "text/html; charset=utf-8"
TEXT_CT = "text/plain; charset=UTF-8"

# The fixed part of the content ends here; `now` must come later so that the
# relative-time posts stay the newest ones of their thread.
CONTENT_END = datetime(2025, 7, 1, tzinfo=TZ)

# extcredits 1-4 as (name, unit); also announced in the page script
# (`creditnotice`) exactly like a real install does.
EXTCREDITS = (("威望", "点"), ("金钱", "枚"), ("贡献", "分"), ("茶票", "张"))

# groupid -> (title, stars, credits upper bound or None for admin groups,
# which Discuz shows without the "next level" tooltip).
GROUPS = {
    1: ("管理员", 9, None),
    10: ("新手上路", 1, 50),
    11: ("注册会员", 2, 200),
    13: ("高级会员", 4, 1000),
    14: ("金牌会员", 6, 3000),
    15: ("论坛元老", 8, 9999999),
}

# uid, username, groupid, credits, extcredits1-4, posts, threads, oltime (h),
# regdate, follower, custom title shown under the group in the post column.
USERS = (
    (1, "茶馆掌柜", 1, 128456, (3210, 86540, 1520, 66), 52345, 10800, 15320,
     "2009-03-15 09:30:00", 128, ""),
    (2, "老茶客", 15, 45210, (120, 30210, 88, 12), 18730, 260, 9876,
     "2011-08-20 20:15:00", 37, ""),
    (3, "云雾山人", 14, 2380, (15, 1620, 9, 3), 1520, 86, 1203,
     "2016-04-02 14:00:00", 9, "山中半日闲"),
    (4, "紫砂壶痴", 13, 760, (5, 480, 2, 0), 430, 52, 310,
     "2018-11-11 11:11:00", 5, ""),
    (5, "山间采茶人", 11, 120, (0, 96, 1, 0), 64, 7, 40,
     "2022-05-20 08:30:00", 1, ""),
    (6, "普洱小白", 10, 12, (0, 12, 0, 0), 5, 1, 2,
     "2025-02-20 10:00:00", 0, ""),
)

FID_CHAT, FID_TEA, FID_WARE, FID_MEMBERS = 2, 3, 4, 5
# fid, name, parent fid (the category gid for top-level forums), is_sub,
# description, readable by guests.
FORUMS = (
    (FID_CHAT, "茶馆闲聊", CATEGORY_GID, False, "", True),
    (FID_TEA, "名茶品鉴", CATEGORY_GID, False, "六大茶类的品饮心得", True),
    (FID_WARE, "紫砂茶器", FID_TEA, True, "壶、杯、盖碗与茶席", True),
    (FID_MEMBERS, "会员茶室", CATEGORY_GID, False, "茶会活动，仅限会员", False),
)

STICKY_TID, LONG_TID, CLOSED_TID = 1, 2, 3
HIDDEN_TID = 31
MISSING_TID = 9999
MISSING_FID = 999

# Opening post of the sticky thread.
STICKY_THREAD = ("【版规】茶馆闲聊发帖须知", 1,
                 "欢迎来到清风茶社！\n1. 友善交流，禁止广告\n2. 发帖请选对版块\n3. 转载请注明出处")

CLOSED_THREAD = ("春茶团购接龙（已截止）", 2, (
    (2, "今年第一批春茶团购，需要的跟帖报数量。"),
    (5, "我要半斤。"),
    (6, "加我一份，一两就行。"),
    (1, "已截止，下次再组织，本帖关闭。"),
))

LONG_TITLE = "今年的明前龙井大家入手了吗？"
LONG_OPENING = "今年明前龙井价格又涨了，大家都在哪里买的？\n\n[b]我的标准[/b]：\n1. 核心产区\n2. 手工炒制"
# Marker bodies replaced by the special cases when the thread is built.
QUOTE, EDITED, CODE, IMAGE = "<quote>", "<edited>", "<code>", "<image>"
# (author uid, body, status) for floors 2..25 of the long thread.
LONG_REPLIES = (
    (3, "我今年在梅家坞订了半斤，豆香很足。", 0),
    (4, "价格确实贵，我改喝雨前了。", 0),
    (5, QUOTE, 0),
    (6, "新手请教，明前和雨前喝起来差别大吗？", 0),
    (2, "差别在鲜爽度，明前更嫩。", 0),
    (3, EDITED, 0),
    (1, "楼上几位都是行家，收藏了。", 0),
    (4, CODE, 0),
    (5, "照着参数泡了一壶，果然不苦。", 0),
    (6, "请问玻璃杯泡的话也是这个水温吗？", 0),
    (3, IMAGE, 0),
    (2, "色泽糙米黄，是老龙井的样子。", 0),
    (4, "看着就香。", 0),
    # Masked by a moderator: status 1, guests see only the 屏蔽 notice.
    (5, "加微信看低价龙井，包邮到家", 1),
    (6, "版主辛苦了。", 0),
    (3, "记得带上秤，别被缺斤短两。", 0),
    (2, "哈哈，经验之谈。", 0),
    (4, "我家还剩一点去年的，已经不鲜了。", 0),
    (2, "密封冷藏，半年内喝完。", 0),
    (5, "绿茶还是要喝新鲜的。", 0),
    (1, "这帖加精了，欢迎继续分享购茶心得。", 0),
    (6, "今年的新茶到了，泡了一杯，满屋清香。", 0),
    (3, "羡慕，我的还在路上。", 0),
    (4, "明年组团去茶园吧！", 0),
)
EDIT_NOTE_TIME = "2025-3-7 10:15"
CODE_BODY = "冲泡参数整理如下：\n[code]水温 85℃\n投茶 3 克\n出汤 45 秒[/code]"
IMAGE_PATH = "static/image/common/logo.png"

# title, author uid, opening post; replies are drawn from REPLY_POOL.
CHAT_THREADS = (
    ("新手求问：绿茶用多少度的水泡？", 6, "刚买了一罐碧螺春，开水一冲就发黄，是不是水太烫了？"),
    ("办公室泡茶用什么杯子方便", 5, "上班没时间慢慢泡，想找个省事又不难看的杯子。"),
    ("周末去茶山徒步，有人同行吗", 3, "打算周六走九溪十八涧，顺路喝杯茶。"),
    ("白茶是不是越陈越好", 6, "总听人说一年茶三年药七年宝，真的吗？"),
    ("茶叶受潮了还能喝吗", 5, "柜子里翻出半包去年的铁观音，有点软了。"),
    ("晒晒今天的下午茶", 4, "一壶单丛配两块绿豆糕，惬意。"),
    ("冷泡茶怎么做才不苦", 3, "夏天想做冷泡，上次泡出来又苦又涩。"),
    ("大家一天喝几杯茶", 2, "我早上绿茶下午红茶，晚上就不敢喝了。"),
    ("求推荐入门级岩茶", 6, "预算两百以内，想先试试肉桂和水仙。"),
    ("茶叶罐用锡罐还是铁罐", 4, "想给新茶换个好点的罐子，各位怎么选？"),
    ("喝茶睡不着怎么办", 5, "下午四点喝了杯浓茶，结果一夜没睡好。"),
    ("凤凰单丛哪个香型好", 2, "蜜兰香、芝兰香、杏仁香，各位最喜欢哪种？"),
    ("茶渣可以拿来做什么", 1, "泡过的茶叶别急着倒，说说你们的妙用。"),
    ("第一次做茶席，求指点", 4, "周末家里来客人，想摆个简单的茶席。"),
    ("老家的野茶，认不出是什么品种", 3, "叶片很大，炒出来有股板栗香。"),
    ("煮茶器值得买吗", 5, "看到很多人用电陶炉煮老白茶，心动了。"),
    ("红茶加奶的比例", 6, "想在家做奶茶，红茶和牛奶怎么配？"),
    ("茉莉花茶的窨制次数", 2, "七窨一提和三窨的差别大吗？"),
    ("出差带什么茶方便", 3, "经常出差，想带点不占地方的好茶。"),
    ("茶友聚会地点投票", 1, "下个月的线下茶会，大家投票选个地方。"),
    ("安吉白茶其实是绿茶？", 6, "名字叫白茶，做法却是绿茶，有点糊涂。"),
    ("推荐几本讲茶的书", 4, "想系统学学茶的知识，求书单。"),
)
TEA_THREADS = (
    ("今年的太平猴魁试饮报告", 2, "两刀一枪，兰香明显，第三泡依然有味。"),
    ("九十年代的老六堡开汤", 1, "槟榔香出来了，汤色红浓，朋友压箱底的货。"),
    ("正山小种与金骏眉的区别", 3, "一个烟熏一个不熏？求懂行的科普。"),
)
WARE_THREADS = (
    ("新入一把朱泥西施壶", 4, "出水很顺，就是不知道怎么开壶。"),
    ("盖碗烫手有什么窍门", 6, "每次出汤都烫得手指发红。"),
)
HIDDEN_THREAD = ("秋季茶会报名（会员专享）", 1, (
    (1, "十月第二个周末，地点在老茶客的茶室，跟帖报名。"),
    (2, "报名，带一泡老六堡。"),
))
REPLY_POOL = (
    "同问，坐等高手解答。",
    "我一般用玻璃杯，方便看茶叶舒展。",
    "学习了，谢谢分享！",
    "建议先买小样试试。",
    "顶一下，好帖。",
    "水温真的很关键。",
    "收藏了，周末试试。",
    "各人口味不同，多试几款就知道了。",
)

FLOOR_NAMES = {1: "楼主", 2: "沙发", 3: "板凳", 4: "地板"}
MASKED_NOTE = "该帖被管理员或版主屏蔽"
NO_PERMISSION = "抱歉，您尚未登录，没有权限访问该版块"
NO_THREAD = "抱歉，指定的主题不存在或已被删除或正在被审核"
NO_FORUM = "抱歉，指定的版块不存在"

ROBOTS_TXT = """#
# robots.txt for the dzarchive demo forum (Discuz! X3.4 layout)
#

User-agent: *
Disallow: /api/
Disallow: /data/
Disallow: /uc_server/
Disallow: /admin.php
Disallow: /search.php
Disallow: /member.php
Disallow: /forum.php?mod=redirect*
Disallow: /forum.php?mod=post*
Disallow: /home.php?mod=spacecp*
"""


# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------

@dataclass
class _User:
    uid: int
    username: str
    groupid: int
    credits: int
    ext: tuple[int, int, int, int]
    posts: int
    threads: int
    oltime: int
    regdate: datetime
    follower: int
    customstatus: str


@dataclass
class _Post:
    pid: int
    tid: int
    fid: int
    position: int
    authorid: int
    dateline: datetime
    bbcode: str
    status: int = 0


@dataclass
class _Thread:
    tid: int
    fid: int
    title: str
    authorid: int
    views: int
    displayorder: int = 0
    digest: int = 0
    closed: int = 0
    posts: list[_Post] = field(default_factory=list)

    @property
    def replies(self) -> int:
        return len(self.posts) - 1

    @property
    def dateline(self) -> datetime:
        return self.posts[0].dateline

    @property
    def last(self) -> _Post:
        return self.posts[-1]


@dataclass
class _Forum:
    fid: int
    name: str
    parent: int
    is_sub: bool
    description: str
    guest_visible: bool
    threads: list[_Thread] = field(default_factory=list)


@dataclass
class _Site:
    host: str
    now: datetime
    users: dict[int, _User]
    forums: dict[int, _Forum]
    threads: dict[int, _Thread]

    @property
    def base(self) -> str:
        return f"http://{self.host}/"


def _at(text: str) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM[:SS]' as forum-local (+08:00) time."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=TZ)


def _relative_times(now: datetime) -> tuple[datetime, datetime, datetime]:
    """Datelines that Discuz renders as '3 天前', '昨天 HH:MM' and 'N 分钟前'."""
    local = now.astimezone(TZ)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    three_days = today - timedelta(days=3) + timedelta(hours=10, minutes=53, seconds=53)
    yesterday = today - timedelta(days=1) + timedelta(hours=11, minutes=43, seconds=53)
    recent = local - timedelta(minutes=21, seconds=17)
    return three_days, yesterday, recent


def _build_model(host: str, now: datetime) -> _Site:
    users = {}
    for uid, name, gid, credits, ext, posts, threads, oltime, reg, follower, custom in USERS:
        users[uid] = _User(uid, name, gid, credits, ext, posts, threads, oltime,
                           _at(reg), follower, custom)
    forums = {fid: _Forum(fid, name, parent, is_sub, desc, visible)
              for fid, name, parent, is_sub, desc, visible in FORUMS}
    threads: dict[int, _Thread] = {}
    next_pid = 1

    def add_thread(tid, fid, title, authorid, views, bodies, start, step, **flags):
        nonlocal next_pid
        thread = _Thread(tid, fid, title, authorid, views, **flags)
        for pos, (uid, bbcode, status, when) in enumerate(bodies, start=1):
            dateline = when if when is not None else start + step * (pos - 1)
            thread.posts.append(_Post(next_pid, tid, fid, pos, uid, dateline, bbcode, status))
            next_pid += 1
        threads[tid] = thread
        forums[fid].threads.append(thread)
        return thread

    title, uid, body = STICKY_THREAD
    add_thread(STICKY_TID, FID_CHAT, title, uid, 2045, [(uid, body, 0, None)],
               _at("2025-03-01 10:00"), timedelta(0), displayorder=1)

    # The long digest thread: 25 posts over 3 pages with every special case.
    start = _at("2025-03-05 09:00")
    step = timedelta(hours=5)
    first_pid = next_pid
    author = users[2]
    rel = _relative_times(now)
    bodies = [(2, LONG_OPENING, 0, None)]
    for floor, (ruid, text, status) in enumerate(LONG_REPLIES, start=2):
        if text == QUOTE:
            quoted = LONG_OPENING.split("\n", 1)[0]
            text = (f"[quote][size=2][url=forum.php?mod=redirect&goto=findpost&pid={first_pid}"
                    f"&ptid={LONG_TID}][color=#999999]{author.username} 发表于 "
                    f"{_ymd_hm(start)}[/color][/url][/size]\n{quoted}[/quote]\n"
                    "我都是清明前直接去茶农家里拿。")
        elif text == EDITED:
            text = (f"[i=s] 本帖最后由 {users[ruid].username} 于 {EDIT_NOTE_TIME} 编辑 [/i]\n\n"
                    "更正一下：我说的是龙井村，不是梅家坞。")
        elif text == CODE:
            text = CODE_BODY
        elif text == IMAGE:
            text = f"晒一下今年的干茶：\n[img]http://{host}/{IMAGE_PATH}[/img]"
        tail = len(LONG_REPLIES) + 2 - floor  # 3, 2, 1 for the last three floors
        when = rel[3 - tail] if tail <= 3 else None
        bodies.append((ruid, text, status, when))
    add_thread(LONG_TID, FID_CHAT, LONG_TITLE, 2, 1288, bodies, start, step, digest=1)

    title, uid, posts = CLOSED_THREAD
    add_thread(CLOSED_TID, FID_CHAT, title, uid, 156,
               [(p_uid, text, 0, None) for p_uid, text in posts],
               _at("2025-03-08 20:00"), timedelta(hours=1), closed=1)

    tid = CLOSED_TID + 1
    # Varying reply counts give the list pages rows with 0, 1 and 2 replies.
    groups = ((FID_CHAT, CHAT_THREADS, _at("2025-03-10 08:00"), timedelta(days=3), (0, 1, 2)),
              (FID_TEA, TEA_THREADS, _at("2025-05-20 20:00"), timedelta(days=4), (1,)),
              (FID_WARE, WARE_THREADS, _at("2025-06-02 19:30"), timedelta(days=5), (1,)))
    for fid, specs, first_day, gap, reply_counts in groups:
        for i, (title, uid, opening) in enumerate(specs):
            n_replies = reply_counts[i % len(reply_counts)]
            bodies = [(uid, opening, 0, None)]
            for j in range(1, n_replies + 1):
                ruid = (tid + j) % len(USERS) + 1
                bodies.append((ruid, REPLY_POOL[(tid + j) % len(REPLY_POOL)], 0, None))
            add_thread(tid, fid, title, uid, 40 + 11 * tid, bodies,
                       first_day + gap * i, timedelta(minutes=30))
            tid += 1
    assert tid == HIDDEN_TID, "thread ids must stay contiguous up to the hidden thread"

    title, uid, posts = HIDDEN_THREAD
    add_thread(HIDDEN_TID, FID_MEMBERS, title, uid, 23,
               [(p_uid, text, 0, None) for p_uid, text in posts],
               _at("2025-06-15 10:00"), timedelta(hours=2))
    return _Site(host, now, users, forums, threads)


# --------------------------------------------------------------------------
# Formatting helpers (PHP date formats as Discuz uses them)
# --------------------------------------------------------------------------

def _ymd(dt: datetime) -> str:
    d = dt.astimezone(TZ)
    return f"{d.year}-{d.month}-{d.day}"


def _ymd_hm(dt: datetime) -> str:
    return f"{_ymd(dt)} {dt.astimezone(TZ):%H:%M}"


def _ymd_hms(dt: datetime) -> str:
    return f"{_ymd(dt)} {dt.astimezone(TZ):%H:%M:%S}"


def _dgmdate_u(ts: datetime, now: datetime, fmt=_ymd_hm) -> str:
    """Discuz's dgmdate(..., 'u'): relative wording for the last week, with the
    exact time kept in span[title]; older dates are printed plainly."""
    exact = fmt(ts)
    local_ts = ts.astimezone(TZ)
    today = now.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    diff = int((now - ts).total_seconds())
    if local_ts >= today:
        if diff > 3600:
            label = f"{diff // 3600}&nbsp;小时前"
        elif diff > 1800:
            label = "半小时前"
        elif diff > 60:
            label = f"{diff // 60}&nbsp;分钟前"
        elif diff > 0:
            label = f"{diff}&nbsp;秒前"
        elif diff == 0:
            label = "刚刚"
        else:
            return exact
        return f'<span title="{exact}">{label}</span>'
    days = int((today - local_ts).total_seconds() // 86400)
    if 0 <= days < 7:
        if days == 0:
            label = f"昨天&nbsp;{local_ts:%H:%M}"
        elif days == 1:
            label = f"前天&nbsp;{local_ts:%H:%M}"
        else:
            label = f"{days + 1}&nbsp;天前"
        return f'<span title="{exact}">{label}</span>'
    return exact


def _esc(text: str) -> str:
    """dhtmlspecialchars: what Discuz applies to user text before BBCode."""
    return (text.replace("&", "&amp;").replace('"', "&quot;")
            .replace("<", "&lt;").replace(">", "&gt;"))


def _dnumber(n: int) -> str:
    """Numbercard figures: above 10000 Discuz shows whole 万 with the exact
    value in span[title] (truncated, not rounded)."""
    return f'<span title="{n}">{n // 10000}万</span>' if abs(n) > 10000 else str(n)


def _token(seed: str, length: int) -> str:
    """Stable stand-in for Discuz's random element ids (code_Xyz, aimg_AbCdE)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha1(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _formhash(host: str) -> str:
    return hashlib.md5(f"formhash:{host}".encode()).hexdigest()[:8]


def _stars(rank: int) -> str:
    # showstars() with the default threshold 2: each level-3 star is worth 4.
    alt = f'alt="Rank: {rank}"'
    parts = []
    for level, weight in ((3, 4), (2, 2), (1, 1)):
        count, rank_left = divmod(rank, weight)
        parts += [f'<img src="static/image/common/star_level{level}.gif" {alt} />'] * count
        rank = rank_left
    return "".join(parts)


def _plain(bbcode: str) -> str:
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", bbcode).replace("\n", "")


_CODE_RE = re.compile(r"\n?\[code\](.*?)\[/code\]\n?", re.S)


def _bbcode_html(bbcode: str, pid: int, site_url: str) -> str:
    """Render the handful of BBCode tags the demo uses the way X3.4 does
    (relative [url] targets get the site URL prefixed, as Discuz does)."""
    blocks: list[str] = []

    def stash(match: re.Match) -> str:
        ident = f"code_{_token(f'code{pid}{len(blocks)}', 3)}"
        lines = "".join(f"<li>{_esc(line)}" for line in match.group(1).split("\n"))
        blocks.append(f'<div class="blockcode"><div id="{ident}"><ol>{lines}</ol></div>'
                      f"<em onclick=\"copycode($('{ident}'));\">复制代码</em></div>")
        return f"\x00{len(blocks) - 1}\x00"

    text = _esc(_CODE_RE.sub(stash, bbcode))
    text = re.sub(r"\[quote\](.*?)\[/quote\]\n?",
                  r'<div class="quote"><blockquote>\1</blockquote></div>', text, flags=re.S)
    text = re.sub(r"\[size=(\d+)\]", r'<font size="\1">', text).replace("[/size]", "</font>")
    text = re.sub(r"\[color=(#?\w+)\]", r'<font color="\1">', text).replace("[/color]", "</font>")

    def link(match: re.Match) -> str:
        href = match.group(1)
        return f'<a href="{href if href.startswith("http") else site_url + href}" target="_blank">'

    text = re.sub(r"\[url=([^\]]+)\]", link, text).replace("[/url]", "</a>")
    text = text.replace("[b]", "<strong>").replace("[/b]", "</strong>")
    text = text.replace("[i=s]", '<i class="pstatus">').replace("[/i]", "</i>")
    text = re.sub(
        r"\[img\]([^\[]+)\[/img\]",
        lambda m: (f'<img id="aimg_{_token(f"img{pid}{m.group(1)}", 5)}" '
                   'onclick="zoom(this, this.src, 0, 0, 0)" class="zoom" '
                   f'src="{m.group(1)}" onmouseover="img_onmouseoverfunc(this)" '
                   'onload="thumbImg(this)" border="0" alt="" />'),
        text)
    text = text.replace("\n", "<br />\n")
    return re.sub("\x00(\\d+)\x00", lambda m: blocks[int(m.group(1))], text)


# --------------------------------------------------------------------------
# Page chrome
# --------------------------------------------------------------------------

def _page(site: _Site, url: str, *, title: str, keywords: str, description: str,
          body_id: str, body_class: str, css: str, content: str,
          canonical: str = "", scrolltop: str = "", scrolltop_after: str = "",
          srhfid: str = "") -> str:
    host, base = site.host, site.base
    report = base64.b64encode(url.encode()).decode()
    credit_notice = ",".join(f"{i}|{n}|{u}" for i, (n, u) in enumerate(EXTCREDITS, 1))
    formhash = _formhash(host)
    canonical_link = f'<link href="{canonical}" rel="canonical" />' if canonical else ""
    page_js = "home" if body_id == "nv_home" else "forum"
    now_local = _ymd_hm(site.now)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{title} -  Powered by Discuz!</title>
{canonical_link}
<meta name="keywords" content="{keywords}" />
<meta name="description" content="{description}" />
<meta name="generator" content="Discuz! X3.4" />
<meta name="author" content="Discuz! Team and Comsenz UI Team" />
<meta name="copyright" content="Discuz!" />
<base href="{base}" /><link rel="stylesheet" type="text/css" href="data/cache/style_1_common.css?{VERHASH}" /><link rel="stylesheet" type="text/css" href="data/cache/style_1_{css}.css?{VERHASH}" /><script type="text/javascript">var STYLEID = '1', STATICURL = 'static/', IMGDIR = 'static/image/common', VERHASH = '{VERHASH}', charset = 'utf-8', discuz_uid = '0', cookiepre = '{COOKIEPRE}', cookiedomain = '', cookiepath = '/', showusercard = '1', attackevasive = '0', disallowfloat = 'newthread', creditnotice = '{credit_notice}', defaultstyle = '', REPORTURL = '{report}', SITEURL = '{base}', JSPATH = 'static/js/', CSSPATH = 'data/cache/style_', DYNAMICURL = '';</script>
<script src="static/js/common.js?{VERHASH}" type="text/javascript"></script>
<meta name="application-name" content="{SITE_NAME}" />
<link rel="archives" title="{SITE_NAME}" href="{base}archiver/" />
<script src="static/js/{page_js}.js?{VERHASH}" type="text/javascript"></script>
</head>

<body id="{body_id}" class="{body_class}" onkeydown="if(event.keyCode==27) return false;">
<div id="append_parent"></div><div id="ajaxwaitid"></div>
<div id="toptb" class="cl">
<div class="wp">
<div class="z"><a href="javascript:;"  onclick="setHomepage('{base}');">设为首页</a><a href="{base}"  onclick="addFavorite(this.href, '{SITE_NAME}');return false;">收藏本站</a></div>
</div>
</div>
<div id="hd">
<div class="wp">
<div class="hdc cl"><h2><a href="./" title="{SITE_NAME}"><img src="static/image/common/logo.png" alt="{SITE_NAME}" border="0" /></a></h2>
<form method="post" autocomplete="off" id="lsform" action="member.php?mod=logging&amp;action=login&amp;loginsubmit=yes&amp;infloat=yes&amp;lssubmit=yes" onsubmit="return lsSubmit();">
<div class="fastlg cl">
<div class="y pns">
<input type="text" name="username" id="ls_username" autocomplete="off" class="px vm" tabindex="901" />
<input type="password" name="password" id="ls_password" class="px vm" autocomplete="off" tabindex="902" />
<button type="submit" class="pn vm" tabindex="904" style="width: 75px;"><em>登录</em></button>
<a href="member.php?mod=register" class="xi2 xw1">立即注册</a>
<input type="hidden" name="formhash" value="{formhash}" />
<input type="hidden" name="quickforward" value="yes" />
<input type="hidden" name="handlekey" value="ls" />
</div>
</div>
</form>
</div>
<div id="nv">
<ul><li class="a" id="mn_forum" ><a href="forum.php" hidefocus="true" title="BBS"  >论坛<span>BBS</span></a></li></ul>
</div>
<div id="scbar" class="cl">
<form id="scbar_form" method="post" autocomplete="off" action="search.php?searchsubmit=yes" target="_blank">
<input type="hidden" name="mod" id="scbar_mod" value="search" />
<input type="hidden" name="formhash" value="{formhash}" />
<input type="hidden" name="srhfid" value="{srhfid}" />
<input type="text" name="srchtxt" id="scbar_txt" value="请输入搜索内容" autocomplete="off" />
<button type="submit" name="searchsubmit" id="scbar_btn" sc="1" class="pn pnc" value="true"><strong class="xi2">搜索</strong></button>
</form>
</div>
</div>
</div>

<div id="wp" class="wp">
{content}	</div>
<div id="ft" class="wp cl">
<div id="flk" class="y">
<p>
<a href="archiver/" >Archiver</a><span class="pipe">|</span><a href="forum.php?mobile=yes" >手机版</a><span class="pipe">|</span><a href="forum.php?mod=misc&action=showdarkroom" >小黑屋</a>
</p>
<p class="xs0">
GMT+8, {now_local}<span id="debuginfo">
, Processed in 0.008 second(s), 12 queries
.
</span>
</p>
</div>
<div id="frt">
<p>Powered by <strong><a href="https://www.discuz.vip/" target="_blank">Discuz!</a></strong> <em>X3.4</em></p>
<p class="xs0">&copy; 2001-2023 <a href="https://code.dismall.com/" target="_blank">Discuz! Team</a>.</p>
</div></div>

<div id="scrolltop">
{scrolltop}<span hidefocus="true"><a title="返回顶部" onclick="window.scrollTo('0','0')" class="scrolltopa" ><b>返回顶部</b></a></span>
{scrolltop_after}</div>
<script type="text/javascript">_attachEvent(window, 'scroll', function () {{ showTopLink(); }});checkBlind();</script>
</body>
</html>
"""


def _pager(base: str, page: int, pages: int) -> str:
    """Discuz multi(): the div.pg pager, or nothing for a single page."""
    if pages <= 1:
        return ""
    parts = []
    if page > 1:
        parts.append(f'<a href="{base}page={page - 1}" class="prev">&nbsp;&nbsp;</a>')
    for p in range(1, pages + 1):
        parts.append(f"<strong>{p}</strong>" if p == page else f'<a href="{base}page={p}">{p}</a>')
    parts.append(
        f'<label><input type="text" name="custompage" class="px" size="2" '
        f'title="输入页码，按回车快速跳转" value="{page}" onkeydown="if(event.keyCode==13) '
        f"{{window.location='{base}page='+this.value;; doane(event);}}\" />"
        f'<span title="共 {pages} 页"> / {pages} 页</span></label>')
    if page < pages:
        parts.append(f'<a href="{base}page={page + 1}" class="nxt">下一页</a>')
    return f'<div class="pg">{"".join(parts)}</div>'


def _breadcrumb_root() -> str:
    return (f'<a href="./" class="nvhm" title="首页">{SITE_NAME}</a><em>&raquo;</em>'
            '<a href="forum.php">论坛</a>')


def _space_by_name(name: str) -> str:
    return f"home.php?mod=space&username={quote(name)}"


def _message_page(site: _Site, url: str, *, text: str, css: str, body_class: str,
                  login: bool, canonical: str = "", scrolltop: str = "") -> str:
    """The 提示信息 page Discuz shows for errors and missing permissions."""
    if login:
        inner = f"""<div class="nfl" id="main_succeed" style="display: none">
<div class="f_c altw">
<div class="alert_right">
<p id="succeedmessage"></p>
<p id="succeedlocation" class="alert_btnleft"></p>
<p class="alert_btnleft"><a id="succeedmessage_href">如果您的浏览器没有自动跳转，请点击此链接</a></p>
</div>
</div>
</div>
<div class="nfl" id="main_message">
<div class="f_c altw">
<div id="messagetext" class="alert_info">
<p>{text}</p>
</div>
<div id="messagelogin"></div>
<script type="text/javascript">ajaxget('member.php?mod=logging&action=login&infloat=yes&frommessage', 'messagelogin');</script>
</div>
</div>"""
    else:
        inner = f"""<div class="nfl">
<div class="f_c altw">
<div id="messagetext" class="alert_error">
<p>{text}</p>
<script type="text/javascript">
if(history.length > (BROWSER.ie ? 0 : 1)) {{
document.write('<p class="alert_btnleft"><a href="javascript:history.back()">[ 点击这里返回上一页 ]</a></p>');
}} else {{
document.write('<p class="alert_btnleft"><a href="./">[ {SITE_NAME} 首页 ]</a></p>');
}}
</script>
</div>
</div>
</div>"""
    content = f'<div id="ct" class="wp cl w">\n{inner}\n</div>'
    return _page(site, url, title=f"提示信息 -  {SITE_NAME}", keywords="提示信息",
                 description=f"提示信息 ,{SITE_NAME}", body_id="nv_forum",
                 body_class=body_class, css=css, content=content, canonical=canonical,
                 scrolltop=scrolltop)


# --------------------------------------------------------------------------
# Forum index and forum lists
# --------------------------------------------------------------------------

def _today_start(now: datetime) -> datetime:
    return now.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)


def _forum_tree(site: _Site, forum: _Forum) -> list[_Forum]:
    subs = [f for f in site.forums.values() if f.is_sub and f.parent == forum.fid]
    return [forum, *subs]


def _forum_row(site: _Site, forum: _Forum, *, in_subforum_block: bool) -> str:
    tree = [forum] if in_subforum_block else _forum_tree(site, forum)
    threads = [t for f in tree for t in f.threads]
    n_posts = sum(len(t.posts) for t in threads)
    today = _today_start(site.now)
    today_posts = sum(1 for t in threads for p in t.posts if p.dateline >= today)
    icon = "forum_new.gif" if today_posts else "forum.gif"
    today_em = f'<em class="xw0 xi1" title="今日"> ({today_posts})</em>' if today_posts else ""
    desc = f'\n<p class="xg2">{forum.description}</p>' if forum.description else "\n"
    style = '  style=""' if in_subforum_block else ""
    if not forum.guest_visible:
        # hideprivate is off on this install: the forum is listed, details are not.
        last = "私密版块"
    elif threads:
        latest = max(threads, key=lambda t: t.last.dateline)
        poster = site.users[latest.last.authorid].username
        last = (f'<a href="forum.php?mod=redirect&amp;tid={latest.tid}&amp;goto=lastpost#lastpost" '
                f'class="xi2">{latest.title}</a> <cite>{_dgmdate_u(latest.last.dateline, site.now)} '
                f'<a href="{_space_by_name(poster)}">{poster}</a></cite>')
    else:
        last = "从未"
    return f"""<td class="fl_icn" >
<a href="forum.php?mod=forumdisplay&fid={forum.fid}"><img src="static/image/common/{icon}" alt="{forum.name}" /></a>
</td>
<td>
<h2><a href="forum.php?mod=forumdisplay&fid={forum.fid}"{style}>{forum.name}</a>{today_em}</h2>{desc}</td>
<td class="fl_i">
<span class="xi2">{len(threads)}</span><span class="xg1"> / {n_posts}</span></td>
<td class="fl_by">
<div>
{last}
</div>
</td>
</tr>"""


def _forum_table(rows: list[str]) -> str:
    # X3.4 opens the first row with a bare <tr> and every later one with
    # <tr class="fl_row">, leaving an empty fl_row at the end.
    body = "<tr>" + "\n<tr class=\"fl_row\">\n".join(rows)
    return f'<table cellspacing="0" cellpadding="0" class="fl_tb">\n{body}\n<tr class="fl_row">\n</tr>\n</table>'


def _index_page(site: _Site, url: str) -> str:
    top = [f for f in site.forums.values() if not f.is_sub]
    rows = [_forum_row(site, f, in_subforum_block=False) for f in top]
    all_posts = [p for t in site.threads.values() for p in t.posts]
    today = _today_start(site.now)
    yesterday = today - timedelta(days=1)
    n_today = sum(1 for p in all_posts if p.dateline >= today)
    n_yday = sum(1 for p in all_posts if yesterday <= p.dateline < today)
    newest = site.users[max(site.users)]
    content = f"""<div id="pt" class="bm cl">
<div class="z">
{_breadcrumb_root()}</div>
<div class="z"></div>
</div>
<div id="ct" class="wp cl">
<div id="chart" class="bm bw0 cl">
<p class="chart z">今日: <em>{n_today}</em><span class="pipe">|</span>昨日: <em>{n_yday}</em><span class="pipe">|</span>帖子: <em>{len(all_posts)}</em><span class="pipe">|</span>会员: <em>{len(site.users)}</em><span class="pipe">|</span>欢迎新会员: <em><a href="home.php?mod=space&amp;username={quote(newest.username)}" target="_blank" class="xi2">{newest.username}</a></em></p>
<div class="y">
<a href="forum.php?mod=guide&amp;view=new" title="最新回复" class="xi2">最新回复</a></div>
</div>
<div class="mn">
<div class="fl bm">
<div class="bm bmw  cl">
<div class="bm_h cl">
<span class="o">
<img id="category_{CATEGORY_GID}_img" src="static/image/common/collapsed_no.gif" title="收起/展开" alt="收起/展开" onclick="toggle_collapse('category_{CATEGORY_GID}');" />
</span>
<h2><a href="forum.php?gid={CATEGORY_GID}" style="">{CATEGORY_NAME}</a></h2>
</div>
<div id="category_{CATEGORY_GID}" class="bm_c" style="">
{_forum_table(rows)}
</div>
</div>
</div>
<div id="online" class="bm oll">
<div class="bm_h">
<h3>
<strong><a href="home.php?mod=space&amp;do=friend&amp;view=online&amp;type=member">在线会员</a></strong>
<span class="xs1">- <strong>1</strong> 人在线
- <strong>0</strong> 会员(<strong>0</strong> 隐身),
<strong>1</strong> 位游客
- 最高记录是 <strong>6</strong> 于 <strong>2025-6-1</strong>.</span>
</h3>
</div>
</div>
</div>
</div>
"""
    return _page(site, url, title="论坛", keywords="论坛", description="论坛 ",
                 body_id="nv_forum", body_class="pg_index", css="forum_index", content=content)


def _list_order(forum: _Forum) -> tuple[list[_Thread], list[_Thread]]:
    sticky = sorted((t for t in forum.threads if t.displayorder > 0),
                    key=lambda t: (-t.displayorder, -t.last.dateline.timestamp()))
    normal = sorted((t for t in forum.threads if t.displayorder == 0),
                    key=lambda t: -t.last.dateline.timestamp())
    return sticky, normal


def _list_pages(forum: _Forum) -> list[list[_Thread]]:
    """Threads per list page: stickies open page 1 and count toward its 20."""
    sticky, normal = _list_order(forum)
    total_pages = max(1, math.ceil(len(forum.threads) / THREADS_PER_PAGE))
    pages = [sticky + normal[:THREADS_PER_PAGE - len(sticky)]]
    rest = normal[THREADS_PER_PAGE - len(sticky):]
    for i in range(total_pages - 1):
        pages.append(rest[i * THREADS_PER_PAGE:(i + 1) * THREADS_PER_PAGE])
    return pages


def _thread_pages(thread: _Thread) -> int:
    return max(1, math.ceil(len(thread.posts) / POSTS_PER_PAGE))


def _thread_row(site: _Site, thread: _Thread, page: int) -> str:
    tid = thread.tid
    kind = "stickthread" if thread.displayorder else "normalthread"
    link = f"forum.php?mod=viewthread&amp;tid={tid}&amp;extra=page%3D{page}"
    author = site.users[thread.authorid]
    last_poster = site.users[thread.last.authorid].username
    today = _today_start(site.now)
    if thread.displayorder:
        icon = (f'<a href="{link}" title="本版置顶主题 - 新窗口打开" target="_blank">\n'
                f'<img src="static/image/common/pin_{thread.displayorder}.gif" alt="本版置顶" />\n</a>')
        th_class = "common"
        hide = (f"\n<a href=\"javascript:void(0);\" onclick=\"hideStickThread('{tid}')\" "
                'class="closeprev y" title="隐藏置顶帖">隐藏置顶帖</a>')
    else:
        icon = (f'<a href="{link}" title="有新回复 - 新窗口打开" target="_blank">\n'
                '<img src="static/image/common/folder_new.gif" />\n</a>')
        th_class = "new"
        hide = ""
    extras = ""
    if thread.digest:
        extras += (f'\n<img src="static/image/common/digest_{thread.digest}.gif" align="absmiddle" '
                   f'alt="digest" title="精华 {thread.digest}" />')
    pages = _thread_pages(thread)
    if pages > 1:
        # Discuz lists pages 2..6 and jumps to the last one after "..".
        shown = list(range(2, min(pages, 6) + 1))
        links = "".join(
            f'<a href="forum.php?mod=viewthread&tid={tid}&amp;extra=page%3D{page}&amp;page={p}" '
            f'onclick="atarget(this)">{p}</a>' for p in shown)
        if pages > 6:
            links += (f'..<a href="forum.php?mod=viewthread&tid={tid}&amp;extra=page%3D{page}'
                      f'&amp;page={pages}" onclick="atarget(this)">{pages}</a>')
        extras += f'\n<span class="tps">&nbsp;...{links}</span>'
    new_class = ' class="xi1"' if thread.dateline >= today else ""
    started = _dgmdate_u(thread.dateline, site.now, _ymd)
    return f"""<tbody id="{kind}_{tid}">
<tr>
<td class="icn">
{icon}
</td>
<th class="{th_class}">
<a href="javascript:;" id="content_{tid}" class="showcontent y" title="更多操作" onclick="CONTENT_TID='{tid}';CONTENT_ID='{kind}_{tid}';showMenu({{'ctrlid':this.id,'menuid':'content_menu'}})"></a>{hide}
 <a href="{link}" onclick="atarget(this)" class="s xst">{thread.title}</a>{extras}
</th>
<td class="by">
<cite>
<a href="home.php?mod=space&amp;uid={author.uid}" c="1">{author.username}</a></cite>
<em><span{new_class}>{started}</span></em>
</td>
<td class="num"><a href="{link}" class="xi2">{thread.replies}</a><em>{thread.views}</em></td>
<td class="by">
<cite><a href="{_space_by_name(last_poster)}" c="1">{last_poster}</a></cite>
<em><a href="forum.php?mod=redirect&tid={tid}&goto=lastpost#lastpost">{_dgmdate_u(thread.last.dateline, site.now)}</a></em>
</td>
</tr>
</tbody>"""


def _forum_breadcrumb(site: _Site, forum: _Forum) -> str:
    crumbs = f'{_breadcrumb_root()} <em>&rsaquo;</em> <a href="forum.php?gid={CATEGORY_GID}">{CATEGORY_NAME}</a>'
    if forum.is_sub:
        parent = site.forums[forum.parent]
        # Sub-forums end the trail with plain text, top-level forums with a link.
        return (f'{crumbs}<em>&rsaquo;</em> <a href="forum.php?mod=forumdisplay&fid={parent.fid}">'
                f'{parent.name}</a><em>&rsaquo;</em> {forum.name}')
    return f'{crumbs}<em>&rsaquo;</em> <a href="forum.php?mod=forumdisplay&fid={forum.fid}">{forum.name}</a>'


def _forumdisplay_page(site: _Site, url: str, forum: _Forum, page: int) -> str:
    fid = forum.fid
    pages = _list_pages(forum)
    rows = pages[page - 1]
    total = len(pages)
    pager = _pager(f"forum.php?mod=forumdisplay&fid={fid}&amp;", page, total)
    today = _today_start(site.now)
    today_posts = sum(1 for t in forum.threads for p in t.posts if p.dateline >= today)
    sticky = [t for t in rows if t.displayorder]
    normal = [t for t in rows if not t.displayorder]
    body = [_thread_row(site, t, page) for t in sticky]
    if sticky:
        body.append(f"""<tbody id="separatorline">
<tr class="ts">
<td>&nbsp;</td>
<th><a href="javascript:;" onclick="checkForumnew_btn('{fid}')" title="查看更新" class="forumrefresh">版块主题</a></th><td>&nbsp;</td><td>&nbsp;</td><td>&nbsp;</td>
</tr>
</tbody>
<script type="text/javascript">hideStickThread();</script>""")
        refresh = ""
    else:
        body.append('<tbody id="separatorline" class="emptb"><tr><td class="icn"></td><th></th>'
                    '<td class="by"></td><td class="num"></td><td class="by"></td></tr></tbody>')
        refresh = (f"\n<a href=\"javascript:;\" onclick=\"checkForumnew_btn('{fid}')\" "
                   'title="查看更新" class="forumrefresh"></a>')
    body += [_thread_row(site, t, page) for t in normal]
    subs = [f for f in site.forums.values() if f.is_sub and f.parent == fid]
    sub_block = ""
    if subs:
        sub_rows = [_forum_row(site, f, in_subforum_block=True) for f in subs]
        sub_block = f"""<div class="bm bmw fl">
<div class="bm_h cl">
<span class="o"><img id="subforum_{fid}_img" src="static/image/common/collapsed_no.gif" title="收起/展开" alt="收起/展开" onclick="toggle_collapse('subforum_{fid}');" /></span>
<h2>子版块</h2>
</div>
<div id="subforum_{fid}" class="bm_c" style="">
{_forum_table(sub_rows)}
</div>
</div>
"""
    autopbn = ""
    if total > 1:
        # X3.4 wraps the "next page" target back to page 1 on the last page.
        nxt = page + 1 if page < total else 1
        autopbn = (f'<a class="bm_h" href="javascript:;" rel="forum.php?mod=forumdisplay&fid={fid}'
                   f'&page={nxt}" curpage="{page}" id="autopbn" totalpage="{total}" picstyle="0" '
                   'forumdefstyle="">下一页 &raquo;</a>\n')
    newthread = (f'<a href="javascript:;" id="newspecial" onclick="showWindow(\'newthread\', '
                 f"'forum.php?mod=post&action=newthread&fid={fid}')\" title=\"发新帖\">"
                 '<img src="static/image/common/pn_post.png" alt="发新帖" /></a>')
    rows_html = "\n".join(body)
    content = f"""<div id="pt" class="bm cl">
<div class="z">
{_forum_breadcrumb(site, forum)}</div>
</div>
<div class="boardnav">
<div id="ct" class="wp cl">
<div class="mn">
<div class="bm bml pbn">
<div class="bm_h cl">
<h1 class="xs2">
<a href="forum.php?mod=forumdisplay&amp;fid={fid}">{forum.name}</a>
<span class="xs1 xw0 i">今日: <strong class="xi1">{today_posts}</strong><span class="pipe">|</span>主题: <strong class="xi1">{len(forum.threads)}</strong></span></h1>
</div>
</div>
{sub_block}<div id="pgt" class="bm bw0 pgs cl">
<span id="fd_page_top">{pager}</span>
<span class="pgb y"  ><a href="forum.php">返&nbsp;回</a></span>
{newthread}</div>
<div id="threadlist" class="tl bm bmw">
<div class="th">
<table cellspacing="0" cellpadding="0">
<tr>
<th colspan="2">
<div class="tf">
<a id="filter_special" href="javascript:;" class="showmenu xi2" onclick="showMenu(this.id)">全部主题</a>&nbsp;
<a href="forum.php?mod=forumdisplay&amp;fid={fid}&amp;filter=lastpost&amp;orderby=lastpost" class="xi2">最新</a>&nbsp;
<a href="forum.php?mod=forumdisplay&amp;fid={fid}&amp;filter=digest&amp;digest=1" class="xi2">精华</a>&nbsp;{refresh}
</div>
</th>
<td class="by">作者</td>
<td class="num">回复/查看</td>
<td class="by">最后发表</td>
</tr>
</table>
</div>
<div class="bm_c">
<form method="post" autocomplete="off" name="moderate" id="moderate" action="forum.php?mod=topicadmin&amp;action=moderate&amp;fid={fid}&amp;infloat=yes&amp;nopost=yes">
<input type="hidden" name="formhash" value="{_formhash(site.host)}" />
<input type="hidden" name="listextra" value="page%3D{page}" />
<table summary="forum_{fid}" cellspacing="0" cellpadding="0" id="threadlisttableid">
{rows_html}
</table><!-- end of table "forum_G[fid]" branch 1/3 -->
</form>
</div>
</div>
{autopbn}<div class="bm bw0 pgs cl">
<span id="fd_page_bottom">{pager}</span>
<span  class="pgb y"><a href="forum.php">返&nbsp;回</a></span>
</div>
</div>
</div>
</div>
"""
    back = ('<span>\n<a href="forum.php" hidefocus="true" class="returnboard" title="返回版块">'
            '<b>返回版块</b></a>\n</span>\n')
    return _page(site, url, title=f"{forum.name} -  {SITE_NAME}", keywords=forum.name,
                 description=f"{forum.name} ,{SITE_NAME}", body_id="nv_forum",
                 body_class="pg_forumdisplay", css="forum_forumdisplay", content=content,
                 scrolltop_after=back, srhfid=str(fid))


# --------------------------------------------------------------------------
# Thread pages
# --------------------------------------------------------------------------

def _author_column(site: _Site, post: _Post) -> str:
    user = site.users[post.authorid]
    uid, pid = user.uid, post.pid
    title, rank, upper = GROUPS[user.groupid]
    custom = f'\n<p class="xg1">{user.customstatus}</p>' if user.customstatus else ""
    if upper is None:
        stars = f"<p><span>{_stars(rank)}</span></p>"
    else:
        stars = (f"<p><span id=\"g_up{pid}\" onmouseover=\"showMenu({{'ctrlid':this.id, 'pos':'12!'}});\">"
                 f"{_stars(rank)}</span></p>\n"
                 f'<div id="g_up{pid}_menu" class="tip tip_4" style="display: none;"><div class="tip_horn"></div>'
                 f'<div class="tip_c">{title}, 积分 {user.credits}, 距离下一级还需 '
                 f'{upper - user.credits} 积分</div></div>')
    credits = "\n".join(f"\t<dt>{name}</dt><dd>{value} {unit}</dd>"
                        for (name, unit), value in zip(EXTCREDITS, user.ext))
    profile = f"home.php?mod=space&uid={uid}&do=profile"
    return f"""<div id="favatar{pid}" class="pls cl favatar">
<div class="pi">
<div class="authi"><a href="home.php?mod=space&amp;uid={uid}" target="_blank" class="xw1">{user.username}</a>
</div>
</div>
<div class="p_pop blk bui card_gender_0" id="userinfo{pid}" style="display: none; margin-top: -11px;">
<div class="m z">
<div id="userinfo{pid}_ma"></div>
</div>
<div class="i y">
<div>
<strong><a href="home.php?mod=space&amp;uid={uid}" target="_blank" class="xi2">{user.username}</a></strong>
<em>当前离线</em>
</div><dl class="cl">
<dt>积分</dt><dd><a href="{profile}" target="_blank" class="xi2">{user.credits}</a></dd>
</dl><div class="imicn">
<a href="home.php?mod=space&amp;uid={uid}&amp;do=profile" target="_blank" title="查看详细资料"><img src="static/image/common/userinfo.gif" alt="查看详细资料" /></a>
</div>
<div id="avatarfeed"><span id="threadsortswait"></span></div>
</div>
</div>
<div>
<div class="avatar" onmouseover="showauthor(this, 'userinfo{pid}')"><a href="home.php?mod=space&amp;uid={uid}" class="avtm" target="_blank"><img src="http://{site.host}/uc_server/avatar.php?uid={uid}&size=middle" /></a></div>
</div>
<div class="tns xg2"><table cellspacing="0" cellpadding="0"><th><p><a href="home.php?mod=space&uid={uid}&do=thread&type=thread&view=me&from=space" class="xi2">{_dnumber(user.threads)}</a></p>主题</th><th><p><a href="home.php?mod=space&uid={uid}&do=thread&type=reply&view=me&from=space" class="xi2">{_dnumber(user.posts - user.threads)}</a></p>回帖</th><td><p><a href="home.php?mod=follow&do=follower&uid={uid}" class="xi2">{_dnumber(user.follower)}</a></p>听众</td></table></div>
<p><em><a href="home.php?mod=spacecp&amp;ac=usergroup&amp;gid={user.groupid}" target="_blank">{title}</a></em></p>{custom}
{stars}
<dl class="pil cl">
\t<dt>积分</dt><dd><a href="{profile}" target="_blank" class="xi2">{user.credits}</a></dd>
{credits}
\t<dt>在线时间</dt><dd>{user.oltime} 小时</dd>
\t<dt>注册时间</dt><dd>{_ymd(user.regdate)}</dd>
</dl>
<ul class="xl xl2 o cl">
<li class="pm2"><a href="home.php?mod=spacecp&amp;ac=pm&amp;op=showmsg&amp;handlekey=showmsg_{uid}&amp;touid={uid}&amp;pmid=0&amp;daterange=2&amp;pid={pid}&amp;tid={post.tid}" onclick="showWindow('sendpm', this.href);" title="发消息" class="xi2">发消息</a></li>
</ul>
</div>"""


def _post_block(site: _Site, thread: _Thread, post: _Post, page: int,
                first_new: _Post | None) -> str:
    pid, tid, fid = post.pid, thread.tid, thread.fid
    first = post.position == 1
    if first:
        postnum_href = f"forum.php?mod=viewthread&tid={tid}"
        floor = "楼主"
    else:
        postnum_href = f"forum.php?mod=redirect&goto=findpost&ptid={tid}&pid={pid}"
        floor = FLOOR_NAMES.get(post.position, f"<em>{post.position}</em><sup>#</sup>")
    elevator = ""
    first_links = ""
    first_style = ""
    first_buttons = ""
    if first:
        elevator = f"""<div id="fj" class="y">
<label class="z">电梯直达</label>
<input type="text" class="px p_fre z" size="2" onkeyup="$('fj_btn').href='forum.php?mod=redirect&ptid={tid}&authorid=0&postno='+this.value" onkeydown="if(event.keyCode==13) {{window.location=$('fj_btn').href;return false;}}" title="跳转到指定楼层" />
<a href="javascript:;" id="fj_btn" class="z" title="跳转到指定楼层"><img src="static/image/common/fj_btn.png" alt="跳转到指定楼层" class="vm" /></a>
</div>
"""
        first_links = f"""
<span class="none"><img src="static/image/common/arw_r.gif" class="vm" alt="回帖奖励" /></span>
<span class="pipe show">|</span><a href="forum.php?mod=viewthread&amp;tid={tid}&amp;extra=&amp;ordertype=1"  class="show">倒序浏览</a>
<span class="pipe show">|</span><a href="javascript:;" onclick="readmode($('thread_subject').innerHTML, {pid});" class="show">阅读模式</a>"""
        first_style = '<style type="text/css">.pcb{margin-right:0}</style>'
        first_buttons = f"""<div id="p_btn" class="mtw mbm hm cl">
<a href="home.php?mod=spacecp&amp;ac=favorite&amp;type=thread&amp;id={tid}&amp;formhash={_formhash(site.host)}" id="k_favorite" onclick="showWindow(this.id, this.href, 'get', 0);" title="收藏本帖"><i><img src="static/image/common/fav.gif" alt="收藏" />收藏<span id="favoritenumber" style="display:none">0</span></i></a>
</div>
"""
    if post.status & 1:
        body = f'<div class="locked">提示: <em>{MASKED_NOTE}</em></div>'
    else:
        body = f"""<div class="t_fsz">
<table cellspacing="0" cellpadding="0"><tr><td class="t_f" id="postmessage_{pid}">
{_bbcode_html(post.bbcode, pid, site.base)}</td></tr></table>
</div>
<div id="comment_{pid}" class="cm">
</div>
<div id="post_rate_div_{pid}"></div>"""
    reply_key = "reppost" if first else "repquote"
    posted = _dgmdate_u(post.dateline, site.now, _ymd_hms)
    # Jump anchors: the thread's last post, and the first post a guest has not
    # "seen" yet (guests count as having visited an hour ago).
    newpost = '<a name="newpost"></a>' if post is first_new else ""
    lastpost = '<a name="lastpost"></a>' if post is thread.last else ""
    return f"""<div id="post_{pid}" ><table id="pid{pid}" class="plhin" summary="pid{pid}" cellspacing="0" cellpadding="0">
<tr>
{newpost} {lastpost}<td class="pls" rowspan="2">
{_author_column(site, post)}
</td>
<td class="plc">
<div class="pi">
{elevator}<strong>
<a href="{postnum_href}"   id="postnum{pid}" onclick="setCopy(this.href, '帖子地址复制成功');return false;">
{floor}</a>
</strong>
<div class="pti">
<div class="pdbt">
</div>
<div class="authi">
<img class="authicn vm" id="authicon{pid}" src="static/image/common/online_member.gif" />
<em id="authorposton{pid}">发表于 {posted}</em>
<span class="pipe">|</span>
<a href="forum.php?mod=viewthread&amp;tid={tid}&amp;page={page}&amp;authorid={post.authorid}" rel="nofollow">只看该作者</a>{first_links}
</div>
</div>
</div><div class="pct">{first_style}<div class="pcb">
{body}
</div>
</div>
</td></tr>
<tr><td class="plc plm">
{first_buttons}</td>
</tr>
<tr id="_postposition{pid}"></tr>
<tr>
<td class="pls"></td>
<td class="plc" style="overflow:visible;">
<div class="po hin">
<div class="pob cl">
<em>
<a class="fastre" href="forum.php?mod=post&amp;action=reply&amp;fid={fid}&amp;tid={tid}&amp;{reply_key}={pid}&amp;extra=&amp;page={page}" onclick="showWindow('reply', this.href)">回复</a>
</em>
<p>
<a href="javascript:;" id="mgc_post_{pid}" onmouseover="showMenu(this.id)" class="showmenu">使用道具</a>
<a href="javascript:;" onclick="showWindow('miscreport{pid}', 'misc.php?mod=report&rtype=post&rid={pid}&tid={tid}&fid={fid}', 'get', -1);return false;">举报</a>
</p>
<ul id="mgc_post_{pid}_menu" class="p_pop mgcmn" style="display: none;">
</ul>
<script type="text/javascript" reload="1">checkmgcmn('post_{pid}')</script>
</div>
</div>
</td>
</tr>
<tr class="ad">
<td class="pls">
</td>
<td class="plc">
</td>
</tr>
</table>
</div>"""


def _thread_breadcrumb(site: _Site, thread: _Thread) -> str:
    forum = site.forums[thread.fid]
    crumbs = f'{_breadcrumb_root()} <em>&rsaquo;</em> <a href="forum.php?gid={CATEGORY_GID}">{CATEGORY_NAME}</a>'
    if forum.is_sub:
        parent = site.forums[forum.parent]
        crumbs += (f' <em>&rsaquo;</em> <a href="forum.php?mod=forumdisplay&fid={parent.fid}">{parent.name}</a>'
                   f' <em>&rsaquo;</em> <a href="forum.php?mod=forumdisplay&amp;fid={forum.fid}">{forum.name}</a>')
    else:
        crumbs += f' <em>&rsaquo;</em> <a href="forum.php?mod=forumdisplay&amp;fid={forum.fid}">{forum.name}</a>'
    return f'{crumbs} <em>&rsaquo;</em> <a href="forum.php?mod=viewthread&amp;tid={thread.tid}">{thread.title}</a>'


def _viewthread_page(site: _Site, url: str, thread: _Thread, page: int) -> str:
    tid, fid = thread.tid, thread.fid
    forum = site.forums[fid]
    pages = _thread_pages(thread)
    posts = thread.posts[(page - 1) * POSTS_PER_PAGE:page * POSTS_PER_PAGE]
    pager = _pager(f"forum.php?mod=viewthread&tid={tid}&amp;extra=&amp;", page, pages)
    locked = ('&nbsp;<img src="static/image/common/locked.gif" alt="关闭" title="关闭" class="vm" />\n'
              if thread.closed else "")
    newthread = ("onmouseover=\"$('newspecial').id = 'newspecialtmp';this.id = 'newspecial';"
                 "showMenu({'ctrlid':this.id})\" onclick=\"showWindow('newthread', "
                 f"'forum.php?mod=post&action=newthread&fid={fid}')\" href=\"javascript:;\" title=\"发新帖\">"
                 '<img src="static/image/common/pn_post.png" alt="发新帖" /></a>')
    back = f'<span class="pgb y"><a href="forum.php?mod=forumdisplay&amp;fid={fid}">返回列表</a></span>'
    first_new = next((p for p in posts if p.dateline > site.now - GUEST_LASTVISIT), None)
    post_html = "".join(_post_block(site, thread, p, page, first_new) for p in posts)
    pid_list = ",".join(str(p.pid) for p in posts)
    content = f"""<script type="text/javascript">var fid = parseInt('{fid}'), tid = parseInt('{tid}');</script>
<script src="static/js/forum_viewthread.js?{VERHASH}" type="text/javascript"></script>
<script type="text/javascript">zoomstatus = parseInt(1);var imagemaxwidth = '600';var aimgcount = new Array();</script>
<div id="pt" class="bm cl">
<div class="z">
{_thread_breadcrumb(site, thread)}
</div>
</div>
<div id="ct" class="wp cl">
<div id="pgt" class="pgs mbm cl ">
<div class="pgt">{pager}</div>
<span class="y pgb"><a href="forum.php?mod=forumdisplay&amp;fid={fid}">返回列表</a></span>
<a id="newspecial" {newthread}</div>
<div id="postlist" class="pl bm">
<table cellspacing="0" cellpadding="0">
<tr>
<td class="pls ptn pbn">
<div class="hm ptn">
<span class="xg1">查看:</span> <span class="xi1">{thread.views}</span><span class="pipe">|</span><span class="xg1">回复:</span> <span class="xi1">{thread.replies}</span>
</div>
</td>
<td class="plc ptm pbn vwthd">
<div class="y">
<a href="forum.php?mod=viewthread&amp;action=printable&amp;tid={tid}" title="打印" target="_blank"><img src="static/image/common/print.png" alt="打印" class="vm" /></a>
<a href="forum.php?mod=redirect&amp;goto=nextoldset&amp;tid={tid}" title="上一主题"><img src="static/image/common/thread-prev.png" alt="上一主题" class="vm" /></a>
<a href="forum.php?mod=redirect&amp;goto=nextnewset&amp;tid={tid}" title="下一主题"><img src="static/image/common/thread-next.png" alt="下一主题" class="vm" /></a>
</div>
<h1 class="ts">
<span id="thread_subject">{thread.title}</span>
</h1>
<span class="xg1">
{locked}<a href="forum.php?mod=viewthread&amp;tid={tid}" onclick="return copyThreadUrl(this, '{SITE_NAME}')" >[复制链接]</a>
</span>
</td>
</tr>
</table>
<table cellspacing="0" cellpadding="0" class="ad">
<tr>
<td class="pls">
</td>
<td class="plc">
</td>
</tr>
</table>{post_html}<div id="postlistreply" class="pl"><div id="post_new" class="viewthread_table" style="display: none"></div></div>
</div>
<form method="post" autocomplete="off" name="modactions" id="modactions">
<input type="hidden" name="formhash" value="{_formhash(site.host)}" />
<input type="hidden" name="optgroup" />
<input type="hidden" name="operation" />
<input type="hidden" name="listextra" value="" />
<input type="hidden" name="page" value="{page}" />
</form>
<div class="pgs mtm mbm cl">
{pager}{back}
<a id="newspecialtmp" {newthread}
</div>
<div id="f_pst" class="pl bm bmw">
<div class="pt hm">
您需要登录后才可以回帖 <a href="member.php?mod=logging&amp;action=login" onclick="showWindow('login', this.href)" class="xi2">登录</a> | <a href="member.php?mod=register" class="xi2">立即注册</a>
</div>
</div>
<script type="text/javascript">document.onkeyup = function(e){{keyPageScroll(e, {int(page > 1)}, {int(page < pages)}, 'forum.php?mod=viewthread&tid={tid}&amp;extra=', {page});}}</script>
</div>
<script type="text/javascript">
fixed_avatar([{pid_list}], 1);
</script>"""
    first_post = thread.posts[0]
    summary = _plain(first_post.bbcode)
    if len(summary) > 100:
        summary = summary[:100] + " ..."
    scrolltop = (f'<span><a href="forum.php?mod=post&amp;action=reply&amp;fid={fid}&amp;tid={tid}&amp;extra=&amp;page={page}" '
                 'onclick="showWindow(\'reply\', this.href)" class="replyfast" title="快速回复"><b>快速回复</b></a></span>\n')
    scrolltop_after = (f'<span>\n<a href="forum.php?mod=forumdisplay&amp;fid={fid}" hidefocus="true" '
                       'class="returnlist" title="返回列表"><b>返回列表</b></a>\n</span>\n')
    return _page(site, url, title=f"{thread.title} - {forum.name} -  {SITE_NAME}", keywords=thread.title,
                 description=f"{_esc(summary)} {thread.title} ,{SITE_NAME}", body_id="nv_forum",
                 body_class="pg_viewthread", css="forum_viewthread", content=content,
                 canonical=f"{site.base}forum.php?mod=viewthread&tid={tid}", scrolltop=scrolltop,
                 scrolltop_after=scrolltop_after, srhfid=str(fid))


# --------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------

def _last_post_time(site: _Site, uid: int) -> datetime:
    times = [p.dateline for t in site.threads.values() for p in t.posts if p.authorid == uid]
    return max(times) if times else site.users[uid].regdate


def _profile_page(site: _Site, url: str, user: _User) -> str:
    uid = user.uid
    title = GROUPS[user.groupid][0]
    last = _ymd_hm(_last_post_time(site, uid))
    credits = "\n".join(f"<li><em>{name}</em>{value} {unit}</li>"
                        for (name, unit), value in zip(EXTCREDITS, user.ext))
    content = f"""<div id="pt" class="bm cl">
<div class="z">
<a href="./" class="nvhm" title="首页">{SITE_NAME}</a> <em>&rsaquo;</em>
<a href="home.php?mod=space&amp;uid={uid}">{user.username}</a> <em>&rsaquo;</em>
个人资料
</div>
</div>
<div id="uhd">
<div class="mn">
<ul>
<li class="addf">
<a href="home.php?mod=spacecp&amp;ac=friend&amp;op=add&amp;uid={uid}&amp;handlekey=addfriendhk_{uid}" id="a_friend_li_{uid}" onclick="showWindow(this.id, this.href, 'get', 0);" class="xi2">加为好友</a>
</li>
<li class="pm2">
<a href="home.php?mod=spacecp&amp;ac=pm&amp;op=showmsg&amp;handlekey=showmsg_{uid}&amp;touid={uid}&amp;pmid=0&amp;daterange=2" id="a_sendpm_{uid}" onclick="showWindow('showMsgBox', this.href, 'get', 0)" title="发送消息">发送消息</a>
</li>
</ul>
</div>
<div class="h cl">
<div class="icn avt"><a href="home.php?mod=space&amp;uid={uid}"><img src="http://{site.host}/uc_server/avatar.php?uid={uid}&size=small" /></a></div>
<h2 class="mt">
{user.username}</h2>
<p>
<a href="{site.base}?{uid}" class="xg1">{site.base}?{uid}</a>
</p>
</div>
<ul class="tb cl" style="padding-left: 75px;">
<li><a href="home.php?mod=space&amp;uid={uid}&amp;do=thread&amp;view=me&amp;from=space">主题</a></li>
<li class="a"><a href="home.php?mod=space&amp;uid={uid}&amp;do=profile&amp;from=space">个人资料</a></li>
</ul>
</div>
<div id="ct" class="ct1 wp cl">
<div class="mn">
<div class="bm bw0">
<div class="bm_c">
<div class="bm_c u_profile">

<div class="pbm mbm bbda cl">
<h2 class="mbn">
{user.username}<span class="xw0">(UID: {uid})</span>
</h2>
<ul class="pf_l cl pbm mbm">
<li><em>邮箱状态</em>未验证</li>
</ul>
<ul>
</ul>
<ul class="cl bbda pbm mbm">
<li>
<em class="xg2">统计信息</em>
<a href="home.php?mod=space&amp;uid={uid}&amp;do=friend&amp;view=me&amp;from=space" target="_blank">好友数 0</a>
<span class="pipe">|</span><a href="home.php?mod=space&uid={uid}&do=thread&view=me&type=reply&from=space" target="_blank">回帖数 {user.posts - user.threads}</a>
<span class="pipe">|</span>
<a href="home.php?mod=space&uid={uid}&do=thread&view=me&type=thread&from=space" target="_blank">主题数 {user.threads}</a>
</li>
</ul>
<ul class="pf_l cl"></ul>
</div>
<div class="pbm mbm bbda cl">
<h2 class="mbn">活跃概况</h2>
<ul>
<li><em class="xg1">用户组&nbsp;&nbsp;</em><span style="color:"><a href="home.php?mod=spacecp&amp;ac=usergroup&amp;gid={user.groupid}" target="_blank">{title}</a></span>  </li>
</ul>
<ul id="pbbs" class="pf_l">
<li><em>在线时间</em>{user.oltime} 小时</li><li><em>注册时间</em>{_ymd_hm(user.regdate)}</li>
<li><em>最后访问</em>{last}</li>
<li><em>上次活动时间</em>{last}</li><li><em>上次发表时间</em>{last}</li><li><em>所在时区</em>使用系统默认</li>
</ul>
</div>
<div id="psts" class="cl">
<h2 class="mbn">统计信息</h2>
<ul class="pf_l">
<li><em>已用空间</em>   0 B </li>
<li><em>积分</em>{user.credits}</li>{credits}
</ul>
</div>
</div></div>
</div>
</div>
</div>
"""
    return _page(site, url, title=f"{user.username}的个人资料 -  {SITE_NAME}",
                 keywords=f"{user.username}的个人资料",
                 description=f"{user.username}的个人资料 ,{SITE_NAME}", body_id="nv_home",
                 body_class="pg_space", css="home_space", content=content)


# --------------------------------------------------------------------------
# expected.json
# --------------------------------------------------------------------------

def _iso(dt: datetime) -> str:
    return dt.astimezone(TZ).isoformat()


def _expected(site: _Site) -> dict:
    forums = []
    for f in site.forums.values():
        entry = {"fid": f.fid, "name": f.name, "parent_fid": f.parent}
        if not f.guest_visible:
            entry["visible_to_guest"] = False
        forums.append(entry)
    visible = [t for t in site.threads.values() if site.forums[t.fid].guest_visible]
    hidden = [t.tid for t in site.threads.values() if not site.forums[t.fid].guest_visible]
    threads, posts = [], []
    for t in visible:
        threads.append({
            "tid": t.tid, "fid": t.fid, "title": t.title,
            "author": site.users[t.authorid].username, "authorid": t.authorid,
            "views": t.views, "replies": t.replies,
            "dateline": _iso(t.dateline), "lastpost": _iso(t.last.dateline),
            "displayorder": t.displayorder, "digest": t.digest, "closed": t.closed,
            "visible_to_guest": True,
        })
        for p in t.posts:
            posts.append({
                "pid": p.pid, "tid": p.tid, "fid": p.fid, "position": p.position,
                "first": p.position == 1, "author": site.users[p.authorid].username,
                "authorid": p.authorid, "dateline": _iso(p.dateline), "status": p.status,
                "visible_to_guest": True, "invisible": False,
                "status_note": f"banned_single ({MASKED_NOTE})" if p.status & 1 else "ok",
                "message_bbcode": p.bbcode,
            })
    users = []
    for u in site.users.values():
        entry = {"uid": u.uid, "username": u.username, "groupid": u.groupid, "credits": u.credits}
        entry.update({f"extcredits{i}": v for i, v in enumerate(u.ext, 1)})
        entry.update({
            "posts": u.posts, "threads": u.threads, "oltime": u.oltime,
            "regdate": u.regdate.strftime("%Y-%m-%d %H:%M:%S") + TZ_LABEL,
            "follower": u.follower,
        })
        users.append(entry)
    return {"site": site.base, "timezone": TZ_LABEL, "forums": forums, "threads": threads,
            "hidden_threads": hidden, "posts": posts, "users": users,
            # Not in a database dump: the site's credit names and units, so checks can map extcreditsN.
            "extcredits": {f"extcredits{i}": [name, unit] for i, (name, unit) in enumerate(EXTCREDITS, 1)}}


README = """# dzarchive demo capture (generated)

A small invented Discuz! X3.4 forum written by `testbed.demo_site.build_demo_site`, in the same layout as the
real captures: `manifest.json` (url, file, status, content type, `Date` header), `pages/` and `expected.json`.
Relative dates on the pages (`3&nbsp;天前`, `昨天&nbsp;…`, `21&nbsp;分钟前`) are relative to the `Date` header.

Content: forum {chat} (2 list pages, sticky tid {sticky}, digest tid {long} over 3 pages with a quote, an edit
note, a code block, an image, a moderator-masked post and the three newest posts; closed tid {closed}), forum
{tea} with sub-forum {ware}, members-only forum {members} (tid {hidden} is in `hidden_threads`), a missing thread
tid {missing} (HTTP 404), a missing forum fid {missing_fid}, profile pages for every user, and `robots.txt`.
"""


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------

def _normalize_now(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)  # naive datetimes are taken as UTC
    now = now.astimezone(timezone.utc).replace(microsecond=0)
    if now < CONTENT_END:
        raise ValueError(f"now must be after {CONTENT_END.isoformat()} (the demo's fixed content)")
    return now


def build_demo_site(out_dir: str | Path, *, host: str = DEFAULT_HOST,
                    now: datetime | None = None) -> Path:
    """Write a sample Discuz! X3.4-style site capture to out_dir; return out_dir.

    The folder gets ``manifest.json``, ``pages/NNNN.(html|txt)``, ``expected.json``
    and a short ``README.md``. ``now`` (default: the current time; naive values
    are read as UTC) becomes every response's ``Date`` header and anchors the
    relative post times; everything else is fixed, so two builds with the same
    ``now`` and ``host`` are byte-identical. Raises ValueError if ``now`` is
    earlier than the demo's fixed content (mid 2025).
    """
    out = Path(out_dir)
    now = _normalize_now(now)
    site = _build_model(host, now)
    date_header = format_datetime(now, usegmt=True)
    pages_dir = out / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []

    def emit(path_query: str, render, *, status: int = 200, ext: str = "html") -> None:
        url = site.base + path_query
        name = f"pages/{len(manifest) + 1:04d}.{ext}"
        (out / name).write_text(render(url), encoding="utf-8", newline="\n")
        manifest.append({"url": url, "file": name, "status": status,
                         "content_type": TEXT_CT if ext == "txt" else HTML_CT,
                         "headers": {"Date": date_header}})

    emit("robots.txt", lambda url: ROBOTS_TXT, ext="txt")
    emit("forum.php", lambda url: _index_page(site, url))

    for forum in site.forums.values():
        base = f"forum.php?mod=forumdisplay&fid={forum.fid}"
        if not forum.guest_visible:
            def denied(url):
                return _message_page(site, url, text=NO_PERMISSION, css="forum_forumdisplay",
                                     body_class="pg_forumdisplay", login=True)
            emit(f"{base}&page=1", denied)
            emit(base, denied)
            continue
        for page in range(1, len(_list_pages(forum)) + 1):
            render = (lambda f, p: lambda url: _forumdisplay_page(site, url, f, p))(forum, page)
            emit(f"{base}&page={page}", render)
            if page == 1:
                emit(base, render)
    emit(f"forum.php?mod=forumdisplay&fid={MISSING_FID}&page=1",
         lambda url: _message_page(site, url, text=NO_FORUM, css="forum_forumdisplay",
                                   body_class="pg_forumdisplay", login=False))

    for thread in site.threads.values():
        base = f"forum.php?mod=viewthread&tid={thread.tid}"
        if not site.forums[thread.fid].guest_visible:
            def denied(url, t=thread):
                return _message_page(
                    site, url, text=NO_PERMISSION, css="forum_viewthread", body_class="pg_viewthread",
                    login=True, canonical=f"{site.base}forum.php?mod=viewthread&tid={t.tid}",
                    scrolltop=(f'<span><a href="forum.php?mod=post&amp;action=reply&amp;fid={t.fid}'
                               f'&amp;tid={t.tid}&amp;extra=&amp;page=" onclick="showWindow(\'reply\', '
                               'this.href)" class="replyfast" title="快速回复"><b>快速回复</b></a></span>\n'))
            emit(f"{base}&page=1", denied)
            emit(base, denied)
            continue
        for page in range(1, _thread_pages(thread) + 1):
            render = (lambda t, p: lambda url: _viewthread_page(site, url, t, p))(thread, page)
            emit(f"{base}&page={page}", render)
            if page == 1:
                emit(base, render)
    emit(f"forum.php?mod=viewthread&tid={MISSING_TID}&page=1",
         lambda url: _message_page(site, url, text=NO_THREAD, css="forum_viewthread",
                                   body_class="pg_viewthread", login=False),
         status=404)

    for user in site.users.values():
        render = (lambda u: lambda url: _profile_page(site, url, u))(user)
        emit(f"home.php?mod=space&uid={user.uid}&do=profile", render)
        emit(f"home.php?mod=space&uid={user.uid}", render)

    dump = {"ensure_ascii": False, "indent": 1}
    (out / "manifest.json").write_text(json.dumps(manifest, **dump), encoding="utf-8")
    (out / "expected.json").write_text(json.dumps(_expected(site), **dump), encoding="utf-8")
    (out / "README.md").write_text(README.format(
        chat=FID_CHAT, sticky=STICKY_TID, long=LONG_TID, closed=CLOSED_TID, tea=FID_TEA,
        ware=FID_WARE, members=FID_MEMBERS, hidden=HIDDEN_TID, missing=MISSING_TID,
        missing_fid=MISSING_FID), encoding="utf-8")
    return out
