"""Discuz! mobile API answers (``api/mobile/index.php?module=…``, JSON) -> the same items as the HTML parsers.

Modules read (``../shared/docs/discuz-reference.md`` §3): ``viewthread`` (thread, posts with their
exact ``dbdateline``, attachments), ``forumdisplay`` (forum, sub-forums, thread rows with
``dbdateline``/``dblastpost``), ``forumindex`` (categories, forums, sub-forums), ``profile`` (user and
figures, extcredits named by the answer's own ``extcredits`` table) and ``check`` (version). An
answer with a ``Message`` is a special page whose state comes from ``messageval``
(``thread_nonexistence`` -> ``not_found``, ``viewperm_login_nopermission`` -> ``login_required``…);
``{"error": "to_login"}`` means the site wants a login; ``{"testcookie": null}`` alone means the
mobile plugin is off.

Values arrive as strings (``"12"``), sometimes null or an empty list where an object is expected,
and HTML-escaped (``&amp;``); every read is defensive. The API has no per-post user stats.
"""
from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime, tzinfo
from urllib.parse import parse_qsl, urlsplit

from ..digits import as_int
from ..items import (
    KIND_FORUMDISPLAY, KIND_INDEX, KIND_PROFILE, KIND_SPECIAL, KIND_VIEWTHREAD, POST_BANNED_AUTHOR, POST_BANNED_SINGLE,
    POST_HIDDEN_REPLY, POST_OK, POST_PAID, STATUS_LOGIN_REQUIRED, STATUS_NO_PERMISSION, STATUS_NOT_FOUND, STATUS_OK,
    STATUS_PASSWORD, STATUS_UNKNOWN, STATUS_CLOSED_SITE, Attachment, Forum, ParsedPage, Post, Thread, User, UserStats,
)
from ..urls import join_url
from .common import classify_message, decode_body
from .content import clean_message, fragment, tidy_text
from .dates import DEFAULT_TZ, clean_time_text
from .numbers import parse_figure
from .thread import add_media

_JSON_START = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*\{")
_API_PATH = re.compile(r"(?P<root>.*/)api/mobile/(?:index\.php)?$")
# messageval (after "mobile:" and "//N" are stripped) -> page state, most specific first.
_MESSAGE_KEYS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"nonexistence|not_exist|nonexist"), STATUS_NOT_FOUND),
    (re.compile(r"login|logging"), STATUS_LOGIN_REQUIRED),
    (re.compile(r"passwd|password"), STATUS_PASSWORD),
    (re.compile(r"closed"), STATUS_CLOSED_SITE),
    (re.compile(r"nopermission|noperm|banned|group_"), STATUS_NO_PERMISSION),
)
# The server's message substitutions (api/4/viewthread.php), as the text a reader gets instead of the post.
_SUBSTITUTIONS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^提示:\s*作者被禁止或删除\s*内容自动屏蔽$"), POST_BANNED_AUTHOR),
    (re.compile(r"^提示:\s*该帖被管理员或版主屏蔽$"), POST_BANNED_SINGLE),
    (re.compile(r"^此帖仅作者可见$"), POST_HIDDEN_REPLY),
)


def looks_like_api(body: bytes | str) -> bool:
    """Whether ``body`` is a JSON object: the API never sends HTML, and no HTML page starts with ``{``."""
    head = body[:64] if isinstance(body, bytes) else body[:64].encode("utf-8", "ignore")
    return bool(_JSON_START.match(head))


def parse_mobile_api(url: str, body: bytes | str, *, content_type: str | None = None, now: datetime | None = None,
                     tz: tzinfo = DEFAULT_TZ, fetched_at: datetime | None = None) -> ParsedPage | None:
    """Parse one mobile-API answer; ``None`` when ``body`` is not JSON from the API."""
    text, _ = decode_body(body, content_type)
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    variables = data.get("Variables") if isinstance(data.get("Variables"), dict) else {}
    message = data.get("Message") if isinstance(data.get("Message"), dict) else None
    module = query.get("module") or _guess_module(data, variables)
    page = ParsedPage(url=url, kind=KIND_SPECIAL, fetched_at=fetched_at)
    page.tid, page.fid, page.uid = _int(query.get("tid")), _int(query.get("fid")), _int(query.get("uid"))
    page.page = _int(query.get("page")) or 1
    if message:
        page.status, page.message = _message_state(message)
        return page
    if data.get("error"):
        page.status = STATUS_LOGIN_REQUIRED if "login" in str(data["error"]) else STATUS_UNKNOWN
        page.message = f"mobile API error: {data['error']}"
        return page
    root = _site_root(url)
    if module == "viewthread" and isinstance(variables.get("postlist"), list):
        return _viewthread(page, variables, url, root, tz)
    if module == "forumdisplay" and isinstance(variables.get("forum"), dict):
        return _forumdisplay(page, variables, tz)
    if module == "forumindex" and isinstance(variables.get("catlist"), list):
        return _forumindex(page, variables)
    if module == "profile" and isinstance(variables.get("space"), dict):
        return _profile(page, variables, now)
    if "discuzversion" in data:
        page.status = STATUS_OK
        page.version = str(data["discuzversion"])
        page.message = f"mobile API check: Discuz! {data['discuzversion']} ({data.get('charset')})"
        return page
    page.status = STATUS_UNKNOWN
    page.message = "mobile API answer without data (is the mobile plugin off?)" if set(data) <= {"testcookie"} \
        else f"mobile API module {module!r} not read"
    return page


def _guess_module(data: dict, variables: dict) -> str | None:
    for key, module in (("postlist", "viewthread"), ("forum_threadlist", "forumdisplay"), ("catlist", "forumindex"),
                        ("space", "profile")):
        if key in variables:
            return module
    return "check" if "discuzversion" in data else None


def _message_state(message: dict) -> tuple[str, str]:
    key = str(message.get("messageval") or "").split("//")[0].removeprefix("mobile:")
    text = str(message.get("messagestr") or "")
    # A live forum sends the Chinese text; some installs send the language key instead.
    shown = html.unescape(text) if text and not text.startswith("mobile:") else key
    for pattern, state in _MESSAGE_KEYS:
        if pattern.search(key):
            return state, shown
    return classify_message(shown), shown


def _viewthread(page: ParsedPage, v: dict, url: str, root: str, tz: tzinfo) -> ParsedPage:
    raw = v.get("thread") if isinstance(v.get("thread"), dict) else {}
    page.kind, page.status = KIND_VIEWTHREAD, STATUS_OK
    tid = _int(raw.get("tid")) or page.tid
    thread = Thread(tid=tid, fid=_int(raw.get("fid")) or _int(v.get("fid")), title=_text(raw.get("subject")),
                    author=_text(raw.get("author")), author_uid=_int(raw.get("authorid")) or None,
                    views=_int(raw.get("views")), replies=_int(raw.get("replies")),
                    is_sticky=_flag(raw.get("displayorder")), is_digest=_flag(raw.get("digest")),
                    is_closed=_int(raw.get("closed")) == 1 if raw.get("closed") is not None else None,
                    url=url, status=STATUS_OK)
    ppp = _int(v.get("ppp"))
    if ppp and thread.replies is not None:
        thread.pages = max(1, math.ceil((thread.replies + 1) / ppp))
    page.tid, page.fid, page.pages = thread.tid, thread.fid, thread.pages
    paid = bool(v.get("forum_threadpay"))
    users: dict[int, User] = {}
    for item in v.get("postlist") or []:
        if not isinstance(item, dict) or not _int(item.get("pid")):
            continue
        post = Post(pid=_int(item["pid"]), tid=_int(item.get("tid")) or tid, url=url, page=page.page)
        post.floor = _int(item.get("number")) or _int(item.get("position"))
        post.is_first = str(item.get("first")) == "1"
        post.author_uid = _int(item.get("authorid")) or None
        post.author = _text(item.get("author")) or _text(item.get("username"))
        post.posted_at = _epoch(item.get("dbdateline"), tz)
        post.posted_at_text = clean_time_text(html.unescape(re.sub(r"<[^>]+>", "", str(item.get("dateline") or "")))) or None
        message = item.get("message")
        if isinstance(message, str) and message.strip():
            msg = clean_message(fragment(message), url)
            post.content_text, post.content_html = msg.text, msg.html
            post.edited_note, post.edited_by = msg.edited_note, msg.edited_by
            post.quotes = msg.quotes
            add_media(page.attachments, post.pid, msg)
            for pattern, state in _SUBSTITUTIONS:
                if pattern.match(msg.text):
                    post.status = state
        if paid and post.is_first and post.status == POST_OK:
            post.status = POST_PAID
        _attachments(page, post.pid, item.get("attachments"), root)
        page.posts.append(post)
        if post.is_first:
            thread.created_at, thread.created_at_text = post.posted_at, post.posted_at_text
        if post.author_uid:
            users.setdefault(post.author_uid, User(uid=post.author_uid, username=post.author))
    page.users = list(users.values())
    page.threads = [thread]
    return page


def _attachments(page: ParsedPage, pid: int, raw, root: str) -> None:
    """``attachments{aid: {url, attachment, isimage, filename…}}`` (a list on some installs)."""
    items = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    seen = {a.url for a in page.attachments}
    for att in sorted((a for a in items if isinstance(a, dict)), key=lambda a: _int(a.get("aid")) or 0):
        path = str(att.get("attachment") or "")
        if not path:
            continue
        base = join_url(root, str(att.get("url") or "")) or root
        media_url = join_url(base if base.endswith("/") else base + "/", path)
        if media_url is None or media_url in seen:
            continue
        seen.add(media_url)
        image = str(att.get("isimage") or "0") not in ("0", "")
        page.attachments.append(Attachment(pid=pid, url=media_url, name=_text(att.get("filename")),
                                           kind="image" if image else "file", aid=_int(att.get("aid"))))


def _forumdisplay(page: ParsedPage, v: dict, tz: tzinfo) -> ParsedPage:
    raw = v["forum"]
    page.kind, page.status = KIND_FORUMDISPLAY, STATUS_OK
    fid = _int(raw.get("fid")) or page.fid
    page.fid = fid
    page.page = _int(v.get("page")) or page.page
    parent = _int(raw.get("fup")) or None
    page.forums.append(Forum(fid=fid, name=_text(raw.get("name")), parent_fid=parent,
                             description=_text(raw.get("description"))))
    tpp = _int(v.get("tpp"))
    count = _int(raw.get("threadcount")) or _int(raw.get("threads"))
    if tpp and count is not None:
        page.pages = max(1, math.ceil(count / tpp))
    for sub in v.get("sublist") if isinstance(v.get("sublist"), list) else []:
        if isinstance(sub, dict) and _int(sub.get("fid")):
            page.forums.append(Forum(fid=_int(sub["fid"]), name=_text(sub.get("name")), parent_fid=fid, type="sub"))
    seen: set[int] = set()
    for row in v.get("forum_threadlist") or []:
        tid = _int(row.get("tid")) if isinstance(row, dict) else None
        if not tid or tid in seen:
            continue
        seen.add(tid)
        order = _int(row.get("displayorder")) or 0
        thread = Thread(tid=tid, title=_text(row.get("subject")), author=_text(row.get("author")),
                        author_uid=_int(row.get("authorid")) or None, replies=_int(row.get("replies")),
                        views=_int(row.get("views")), last_poster=_text(row.get("lastposter")),
                        is_sticky=order > 0, is_digest=_flag(row.get("digest")))
        thread.created_at = _epoch(row.get("dbdateline"), tz)
        thread.created_at_text = clean_time_text(html.unescape(str(row.get("dateline") or ""))) or None
        thread.last_post_at = _epoch(row.get("dblastpost"), tz)
        thread.last_post_at_text = clean_time_text(html.unescape(str(row.get("lastpost") or ""))) or None
        # Category and global stickies (2, 3) belong to other forums, as in the HTML list.
        thread.fid = fid if order in (0, 1) else None
        page.threads.append(thread)
    return page


def _forumindex(page: ParsedPage, v: dict) -> ParsedPage:
    page.kind, page.status = KIND_INDEX, STATUS_OK
    parent_of: dict[int, int] = {}
    for cat in v["catlist"]:
        if isinstance(cat, dict) and _int(cat.get("fid")):
            page.forums.append(Forum(fid=_int(cat["fid"]), name=_text(cat.get("name")), type="group"))
            for fid in cat.get("forums") or []:
                if _int(fid):
                    parent_of[_int(fid)] = _int(cat["fid"])
    for forum in v.get("forumlist") or []:
        if not isinstance(forum, dict) or not _int(forum.get("fid")):
            continue
        fid = _int(forum["fid"])
        page.forums.append(Forum(fid=fid, name=_text(forum.get("name")), parent_fid=parent_of.get(fid), type="forum",
                                 description=_text(forum.get("description"))))
        for sub in forum.get("sublist") or []:
            if isinstance(sub, dict) and _int(sub.get("fid")):
                page.forums.append(Forum(fid=_int(sub["fid"]), name=_text(sub.get("name")), parent_fid=fid, type="sub"))
    return page


_PROFILE_COUNTS = {"threads": "threads", "posts": "posts", "credits": "credits", "digestposts": "digests",
                   "follower": "followers", "following": "following", "friends": "friends"}


def _profile(page: ParsedPage, v: dict, now: datetime | None) -> ParsedPage:
    space = v["space"]
    uid = _int(space.get("uid"))
    if not uid:
        page.status, page.message = STATUS_NOT_FOUND, "mobile API profile without a uid"
        return page
    page.kind, page.status, page.uid = KIND_PROFILE, STATUS_OK, uid
    group = space.get("group") if isinstance(space.get("group"), dict) else {}
    user = User(uid=uid, username=_text(space.get("username")), group_id=_int(space.get("groupid")),
                group_title=_text(group.get("grouptitle")), registered_at_text=_text(space.get("regdate")),
                last_login_text=_text(space.get("lastvisit")))
    stats = UserStats(uid=uid, seen_at=now, source="profile")
    for key, field in _PROFILE_COUNTS.items():
        if space.get(key) not in (None, ""):
            stats.raw[key] = str(space[key])
            setattr(stats, field, _int(space[key]))
    if space.get("oltime") not in (None, ""):
        stats.raw["oltime"] = str(space["oltime"])
        stats.online_hours = parse_figure(str(space["oltime"])).value
    names = v.get("extcredits") if isinstance(v.get("extcredits"), dict) else {}
    for n, spec in sorted(names.items()):
        value = space.get(f"extcredits{n}")
        if isinstance(spec, dict) and spec.get("title") and value not in (None, ""):
            stats.raw[f"extcredits{n}"] = str(value)
            stats.extcredits[html.unescape(str(spec["title"]))] = {"value": parse_figure(str(value)).value,
                                                                   "unit": _text(spec.get("unit"))}
    page.users.append(user)
    page.user_stats.append(stats)
    return page


def _site_root(url: str) -> str:
    """The forum root for relative attachment paths: the folder holding ``api/mobile/``."""
    parts = urlsplit(url)
    m = _API_PATH.match(parts.path)
    folder = m.group("root") if m else parts.path.rsplit("/", 1)[0] + "/"
    return f"{parts.scheme}://{parts.netloc}{folder}"


def _int(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(-?)(\d+)", text)
    number = as_int(m.group(2)) if m else None
    return -number if number is not None and m.group(1) else number


def _flag(value) -> bool | None:
    number = _int(value)
    return None if number is None else number > 0


def _text(value) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return tidy_text(html.unescape(str(value))) or None


def _epoch(value, tz: tzinfo) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, tz) if seconds and seconds > 0 else None


__all__ = ["looks_like_api", "parse_mobile_api"]
