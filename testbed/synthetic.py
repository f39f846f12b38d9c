"""A synthetic Discuz! X3.4 forum of any size, generated on the fly from capture A's real markup.

One forum (``fid=2``) with ``threads`` threads, newest first, ``THREADS_PER_PAGE`` to a list page;
every ``multi_page_every``-th thread has ``pages_per_long_thread`` pages of ``POSTS_PER_PAGE``
posts, the others one page. Pages are capture A's list page (``forumdisplay&fid=2``) and thread
page (``viewthread&tid=2``) with their rows and posts cloned: ids (tid, pid, uid, floor), titles,
authors, texts, times, reply counts and the pagers are rewritten, everything else is the real
markup. Posts are by ``posters`` distinct members (thread ``tid`` opened by member ``tid % posters + 1``;
``posters=threads`` gives every thread a poster of its own, as a large forum's archive holds many users).
Nothing is written to disk: :class:`SyntheticForum` answers URLs as a capture does, so
:class:`testbed.replay.ReplayServer` serves it (as an HTTP proxy for ``bbs.example.test``).

    from testbed.synthetic import SyntheticForum
    from testbed.replay import ReplayServer
    with ReplayServer(SyntheticForum(SITE_A, threads=10_000)) as server: ...

The forum is deterministic: the same size gives the same pages (``expected()`` says what they hold).
"""
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from .replay import Capture, Entry

HOST = "bbs.example.test"
FID = 2
THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 10
LIST_TEMPLATE = "http://bbs.example.test/forum.php?mod=forumdisplay&fid=2"
THREAD_TEMPLATE = "http://bbs.example.test/forum.php?mod=viewthread&tid=2"
TZ = timezone(timedelta(hours=8))
# The newest post; older ones are spaced back from it, so that list order (last post first) is tid order.
NEWEST = datetime(2026, 11, 25, 11, 0, tzinfo=TZ)
DATE_HEADER = email.utils.format_datetime(datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc), usegmt=True)
_FLOOR_NAMES = {1: "楼主", 2: "沙发", 3: "板凳", 4: "地板"}
_ROW = re.compile(r'<tbody id="(?:normal|stick)thread_\d+">.*?</tbody>\s*', re.S)
_SEPARATOR = re.compile(r'<tbody id="separatorline">.*?</tbody>\s*', re.S)
_PAGER = re.compile(r'<div class="pg">.*?</div>', re.S)
# The "下一页 »" button under a thread's posts: the pager's next link, again.
_NEXT_BUTTON = re.compile(r'<div class="pgbtn">.*?</div>', re.S)
_POST_START = re.compile(r'<div id="post_(\d+)"')
_POST_IDS = ("post_", "pid", "favatar", "userinfo", "postnum", "authorposton", "postmessage_", "comment_",
             "g_up", "authicon", "pid=", "ratelog_", "postnum", "threadsortswait")


@dataclass(frozen=True)
class _Page:
    status: int
    content_type: str
    headers: dict
    data: bytes

    def body(self) -> bytes:
        return self.data


class SyntheticForum(Capture):
    """A forum of ``threads`` threads served from templates (see the module docstring)."""

    def __init__(self, capture: str | Path, threads: int = 1000, *, multi_page_every: int = 10,
                 pages_per_long_thread: int = 3, posters: int = 50):
        real = Capture.load(capture)
        self.threads = threads
        self.multi_page_every = multi_page_every
        self.pages_per_long_thread = pages_per_long_thread
        self.posters = max(1, posters)
        self._list = _ListTemplate(real.lookup(LIST_TEMPLATE).body().decode("utf-8"))
        self._thread = _ThreadTemplate(real.lookup(THREAD_TEMPLATE).body().decode("utf-8"))
        robots = Entry(url=f"http://{HOST}/robots.txt", file="robots.txt", path=Path("robots.txt"))
        super().__init__(Path(str(capture)), [robots])
        self.hosts = frozenset({HOST})

    # -- the forum's shape -----------------------------------------------------------------
    @property
    def list_pages(self) -> int:
        return max(1, -(-self.threads // THREADS_PER_PAGE))

    def thread_pages(self, tid: int) -> int:
        """How many pages thread ``tid`` has."""
        return self.pages_per_long_thread if self.multi_page_every and tid % self.multi_page_every == 0 else 1

    def replies(self, tid: int) -> int:
        pages = self.thread_pages(tid)
        return (pages - 1) * POSTS_PER_PAGE + (tid % POSTS_PER_PAGE if pages == 1 else 3)

    def posts_on(self, tid: int, page: int) -> int:
        total = self.replies(tid) + 1
        return max(0, min(POSTS_PER_PAGE, total - (page - 1) * POSTS_PER_PAGE))

    def pid(self, tid: int, floor: int) -> int:
        """Post ids are unique: 100 per thread leaves room for every floor of a long thread."""
        return tid * 100 + floor

    def poster(self, tid: int, floor: int) -> int:
        """The uid of the member who wrote floor ``floor`` of thread ``tid``."""
        return (tid if floor == 1 else tid + floor) % self.posters + 1

    def last_post_at(self, tid: int) -> datetime:
        return NEWEST - timedelta(minutes=2 * (self.threads - tid))

    def total_pages(self) -> int:
        """Every page a full crawl fetches: the list pages and every page of every thread."""
        return self.list_pages + sum(self.thread_pages(t) for t in range(1, self.threads + 1))

    def expected(self) -> dict:
        """What the forum holds: thread, post, poster and page counts a crawl must archive."""
        posts = sum(self.replies(t) + 1 for t in range(1, self.threads + 1))
        users = {self.poster(t, floor) for t in range(1, self.threads + 1) for floor in range(1, self.replies(t) + 2)}
        return {"threads": self.threads, "posts": posts, "users": len(users), "list_pages": self.list_pages,
                "thread_pages": self.total_pages() - self.list_pages}

    # -- serving (the Capture interface ReplayServer uses) ----------------------------------
    def lookup(self, url_or_path: str, *, exact: bool | None = None):  # every URL is one it links
        parts = urlsplit(url_or_path.replace("&amp;", "&"))
        query = {k: v for k, v in parse_qsl(parts.query)}
        name = parts.path.rsplit("/", 1)[-1]
        if name == "robots.txt":
            return _Page(200, "text/plain", {"Date": DATE_HEADER}, b"User-agent: *\nDisallow:\n")
        if name != "forum.php":
            return None
        page = int(query.get("page", "1")) if query.get("page", "1").isdigit() else 0
        html = None
        if query.get("mod") == "forumdisplay" and query.get("fid") == str(FID):
            html = self.list_page(page)
        elif query.get("mod") == "viewthread" and query.get("tid", "").isdigit():
            html = self.thread_page(int(query["tid"]), page)
        if html is None:
            return None
        return _Page(200, "text/html; charset=utf-8", {"Date": DATE_HEADER}, html.encode("utf-8"))

    def __len__(self) -> int:
        return self.total_pages()

    def list_page(self, page: int) -> str | None:
        """List page ``page`` of the forum, or ``None`` past its last page."""
        if not 1 <= page <= self.list_pages:
            return None
        newest = self.threads - (page - 1) * THREADS_PER_PAGE
        tids = range(newest, max(0, newest - THREADS_PER_PAGE), -1)
        return self._list.render(self, page, tids)

    def thread_page(self, tid: int, page: int) -> str | None:
        """Page ``page`` of thread ``tid``, or ``None`` when there is no such page."""
        if not 1 <= tid <= self.threads or not 1 <= page <= self.thread_pages(tid):
            return None
        return self._thread.render(self, tid, page)


def title(tid: int) -> str:
    return f"合成主题 {tid} 号：盐帮菜第 {tid % 97} 家"


def author(uid: int) -> tuple[int, str]:
    return uid, f"合成用户{uid}"


def post_text(tid: int, floor: int) -> str:
    return f"第 {tid} 帖第 {floor} 楼的内容。<br />\n盐帮菜 {tid * 31 % 1000} 号店，价格实在。"


def _time(dt: datetime) -> str:
    return f"{dt.year}-{dt.month}-{dt.day} {dt.hour:02d}:{dt.minute:02d}"


def pager(base: str, page: int, pages: int) -> str:
    """A Discuz X ``div.pg`` for page ``page`` of ``pages`` (empty on a one-page list, as Discuz does)."""
    if pages <= 1:
        return ""
    first, last = max(1, page - 4), min(pages, max(page - 4, 1) + 9)
    out = ['<div class="pg">']
    if page > 1:
        out.append(f'<a href="{base}&amp;page={page - 1}" class="prev">&nbsp;&nbsp;</a>')
    if first > 1:
        out.append(f'<a href="{base}&amp;page=1" class="first">1 ...</a>')
    for n in range(first, last + 1):
        out.append(f"<strong>{n}</strong>" if n == page else f'<a href="{base}&amp;page={n}">{n}</a>')
    if last < pages:
        out.append(f'<a href="{base}&amp;page={pages}" class="last">... {pages}</a>')
    out.append(f'<label><input type="text" name="custompage" class="px" size="2" value="{page}" />'
               f'<span title="共 {pages} 页"> / {pages} 页</span></label>')
    if page < pages:
        out.append(f'<a href="{base}&amp;page={page + 1}" class="nxt">下一页</a>')
    out.append("</div>")
    return "".join(out)


class _ListTemplate:
    def __init__(self, html: str):
        html = _SEPARATOR.sub("", html)
        rows = list(_ROW.finditer(html))
        self.head, self.tail = html[:rows[0].start()], html[rows[-1].end():]
        row = next(m.group(0) for m in rows if 'id="normalthread_2"' in m.group(0))
        row = re.sub(r'<img src="static/image/common/digest_1\.gif"[^>]*/>', "", row)
        row = re.sub(r'<span class="tps">.*?</span>', "{tps}", row, flags=re.S)
        row = re.sub(r"(?<=[^\w])(tid=|normalthread_|content_)2(?!\d)", r"\g<1>{tid}", row)
        row = row.replace("CONTENT_TID='2'", "CONTENT_TID='{tid}'")
        row = row.replace(">盐帮菜哪家最正宗？<", ">{title}<")
        row = re.sub(r"uid=3\b", "uid={uid}", row).replace(">老盐工<", ">{author}<")
        row = row.replace("<span>2024-10-1</span>", "<span>{created}</span>")
        row = row.replace('class="xi2">64</a><em>3022</em>', 'class="xi2">{replies}</a><em>{views}</em>')
        row = re.sub(r'<span title="[^"]*">21&nbsp;分钟前</span>', '<span title="{last}">{last}</span>', row)
        self.row = row.replace("{", "\x01").replace("}", "\x02")
        for name in ("tps", "tid", "title", "uid", "author", "created", "replies", "views", "last"):
            self.row = self.row.replace(f"\x01{name}\x02", "{" + name + "}")
        self.row = self.row.replace("\x01", "{{").replace("\x02", "}}")

    def render(self, forum: SyntheticForum, page: int, tids) -> str:
        rows = []
        for tid in tids:
            pages = forum.thread_pages(tid)
            tps = ""
            if pages > 1:
                links = "".join(f'<a href="forum.php?mod=viewthread&tid={tid}&amp;extra=page%3D{page}&amp;page={n}"'
                                f' onclick="atarget(this)">{n}</a>' for n in range(2, pages + 1))
                tps = f'<span class="tps">&nbsp;...{links}</span>'
            uid, name = author(forum.poster(tid, 1))
            rows.append(self.row.format(
                tps=tps, tid=tid, title=title(tid), uid=uid, author=name,
                created=_time(forum.last_post_at(tid) - timedelta(days=1)).split(" ")[0],
                replies=forum.replies(tid), views=forum.replies(tid) * 10 + 7, last=_time(forum.last_post_at(tid))))
        html = self.head + "".join(rows) + self.tail
        return _PAGER.sub(lambda _: pager(f"forum.php?mod=forumdisplay&fid={FID}", page, forum.list_pages), html)


class _ThreadTemplate:
    def __init__(self, html: str):
        starts = list(_POST_START.finditer(html))
        first_pid = starts[0].group(1)
        # The post list ends where the last post's block does: the div after it that is no post.
        end = html.index('<div id="postlistreply"') if '<div id="postlistreply"' in html else \
            html.index("</div>", starts[-1].start())
        self.head, self.tail = html[:starts[0].start()], html[end:]
        post = html[starts[0].start():starts[1].start()]
        ids = "|".join(sorted({re.escape(p) for p in _POST_IDS}, key=len, reverse=True))
        post = re.sub(rf"({ids}){first_pid}(?!\d)", "\\g<1>\x01pid\x02", post)
        post = re.sub(r"(?<=[^\w])(tid=|ptid=)2(?!\d)", "\\g<1>\x01tid\x02", post)
        post = re.sub(r"uid=3\b", "uid=\x01uid\x02", post).replace(">老盐工<", ">\x01author\x02<")
        post = re.sub(r"(id=\"postnum\x01pid\x02\"[^>]*>)\s*楼主</a>", "\\1\x01floor\x02</a>", post)
        post = post.replace("发表于 2024-10-1 09:00:00", "发表于 \x01time\x02")
        post = re.sub(r'(id="postmessage_\x01pid\x02">).*?(</td>)', "\\1\x01text\x02\\2", post, flags=re.S)
        self.post = post
        head = re.sub(r"(?<=[^\w])(tid=|ptid=)2(?!\d)", "\\g<1>\x01tid\x02", self.head)
        head = re.sub(r"tid\s*=\s*parseInt\('2'\)", "tid = parseInt('\x01tid\x02')", head)
        head = re.sub(r'(<span id="thread_subject">).*?(</span>)', "\\1\x01title\x02\\2", head, flags=re.S)
        head = re.sub(r'(<span class="xi1">)3022(</span>)', "\\1\x01views\x02\\2", head)
        head = re.sub(r'(<span class="xi1">)64(</span>)', "\\1\x01replies\x02\\2", head)
        self.head_template = head
        self.tail_template = re.sub(r"(?<=[^\w])(tid=|ptid=)2(?!\d)", "\\g<1>\x01tid\x02", self.tail)

    @staticmethod
    def _fill(text: str, values: dict) -> str:
        return re.sub("\x01(\\w+)\x02", lambda m: str(values[m.group(1)]), text)

    def render(self, forum: SyntheticForum, tid: int, page: int) -> str:
        values = {"tid": tid, "title": title(tid), "views": forum.replies(tid) * 10 + 7,
                  "replies": forum.replies(tid)}
        posts = []
        newest = forum.last_post_at(tid)
        last_floor = forum.replies(tid) + 1
        for i in range(forum.posts_on(tid, page)):
            floor = (page - 1) * POSTS_PER_PAGE + i + 1
            uid, name = author(forum.poster(tid, floor))
            shown = _FLOOR_NAMES.get(floor, f"<em>{floor}</em><sup>#</sup>")
            at = newest - timedelta(minutes=last_floor - floor)
            posts.append(self._fill(self.post, dict(values, pid=forum.pid(tid, floor), uid=uid, author=name,
                                                    floor=shown, time=f"{_time(at)}:00",
                                                    text=post_text(tid, floor))))
        html = self._fill(self.head_template, values) + "".join(posts) + self._fill(self.tail_template, values)
        base = f"forum.php?mod=viewthread&tid={tid}&amp;extra="
        pages = forum.thread_pages(tid)
        button = (f'<div class="pgbtn"><a href="{base}&amp;page={page + 1}" hidefocus="true" class="bm_h">'
                  "下一页 &raquo;</a></div>") if page < pages else ""
        html = _NEXT_BUTTON.sub(lambda _: button, html)
        return _PAGER.sub(lambda _: pager(base, page, pages), html)


__all__ = ["SyntheticForum", "pager", "THREADS_PER_PAGE", "POSTS_PER_PAGE", "FID"]
