"""Tests for the generated demo forum (testbed.demo_site).

The capture must look like the real X3.4 captures: a valid manifest, pages
whose content agrees with expected.json, relative dates that resolve against
the Date header, and byte-identical output for the same `now`.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from parsel import Selector, SelectorList

from testbed.demo_site import DEFAULT_HOST, EXTCREDITS, build_demo_site

from .conftest import SITE_A

NOW = datetime(2026, 11, 25, 3, 55, 10, tzinfo=timezone.utc)
TZ8 = timezone(timedelta(hours=8))
BASE = f"http://{DEFAULT_HOST}/"
POSTS_PER_PAGE = 10
THREADS_PER_PAGE = 20
FLOOR_NAMES = {"楼主": 1, "沙发": 2, "板凳": 3, "地板": 4}
NO_PERMISSION = "抱歉，您尚未登录，没有权限访问该版块"
NO_THREAD = "抱歉，指定的主题不存在或已被删除或正在被审核"
# Real capture used only to check that the same selectors match both sites.
REAL_CAPTURE = SITE_A

POST_FIELDS = {"pid", "tid", "fid", "position", "first", "author", "authorid", "dateline",
               "status", "visible_to_guest", "invisible", "status_note", "message_bbcode"}
THREAD_FIELDS = {"tid", "fid", "title", "author", "authorid", "views", "replies", "dateline",
                 "lastpost", "displayorder", "digest", "closed", "visible_to_guest"}
USER_FIELDS = {"uid", "username", "groupid", "credits", "extcredits1", "extcredits2",
               "extcredits3", "extcredits4", "posts", "threads", "oltime", "regdate", "follower"}


def _load(root: Path) -> SimpleNamespace:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    expected = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    by_url = {e["url"]: e for e in manifest}
    return SimpleNamespace(root=root, manifest=manifest, expected=expected, by_url=by_url)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    start = time.perf_counter()
    returned = build_demo_site(out, now=NOW)
    site = _load(out)
    site.returned = returned
    site.elapsed = time.perf_counter() - start
    return site


def _entry(demo, query: str) -> dict:
    return demo.by_url[BASE + query]


def _text(demo, query: str) -> str:
    return (demo.root / _entry(demo, query)["file"]).read_text(encoding="utf-8")


def _sel(demo, query: str) -> Selector:
    return Selector(text=_text(demo, query))


def _ymd(dt: datetime) -> str:
    d = dt.astimezone(TZ8)
    return f"{d.year}-{d.month}-{d.day}"


def _parse_title(title: str) -> datetime:
    """span[title] holds 'Y-n-j H:i[:s]' in forum-local time."""
    fmt = "%Y-%m-%d %H:%M:%S" if title.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(title, fmt).replace(tzinfo=TZ8)


def _threads(demo) -> list[dict]:
    return demo.expected["threads"]


def _posts_of(demo, tid: int) -> list[dict]:
    return sorted((p for p in demo.expected["posts"] if p["tid"] == tid), key=lambda p: p["position"])


def _users(demo) -> dict[int, dict]:
    return {u["uid"]: u for u in demo.expected["users"]}


# ---------------------------------------------------------------- manifest

def test_returns_out_dir_quickly(demo):
    assert Path(demo.returned) == demo.root
    assert demo.elapsed < 1.0


def test_manifest_entries_are_valid(demo):
    date_header = format_datetime(NOW, usegmt=True)
    files = set()
    for entry in demo.manifest:
        assert set(entry) == {"url", "file", "status", "content_type", "headers"}
        assert entry["url"].startswith(BASE)
        path = demo.root / entry["file"]
        assert path.is_file() and entry["file"].startswith("pages/")
        assert entry["status"] in (200, 404)
        if entry["file"].endswith(".txt"):
            assert entry["content_type"] == "text/plain; charset=UTF-8"
        else:
            assert entry["content_type"] == "text/html; charset=utf-8"
        assert entry["headers"] == {"Date": date_header}
        assert parsedate_to_datetime(entry["headers"]["Date"]) == NOW
        path.read_text(encoding="utf-8")  # every body is valid UTF-8
        files.add(entry["file"])
    assert len(demo.by_url) == len(demo.manifest), "duplicate URLs"
    assert len(files) == len(demo.manifest), "two entries share a file"
    on_disk = {f"pages/{p.name}" for p in (demo.root / "pages").iterdir()}
    assert on_disk == files, "pages/ holds files the manifest does not list"
    assert _entry(demo, "robots.txt")["status"] == 200
    assert "User-agent: *" in _text(demo, "robots.txt")


def test_html_pages_carry_x34_chrome(demo):
    for entry in demo.manifest:
        if not entry["file"].endswith(".html"):
            continue
        html = (demo.root / entry["file"]).read_text(encoding="utf-8")
        assert '<meta name="generator" content="Discuz! X3.4" />' in html
        assert "Powered by <strong>" in html and "<em>X3.4</em>" in html
        assert "discuz_uid = '0'" in html, "pages must be the guest view"
        assert f'<base href="{BASE}" />' in html


# ---------------------------------------------------------------- expected.json

def test_expected_layout_and_internal_consistency(demo):
    exp = demo.expected
    assert list(exp) == ["site", "timezone", "forums", "threads", "hidden_threads", "posts", "users", "extcredits"]
    assert exp["site"] == BASE and exp["timezone"] == "+08:00"
    users = _users(demo)
    assert 5 <= len(users) <= 8
    assert 25 <= len(exp["threads"]) <= 35
    assert 70 <= len(exp["posts"]) <= 100
    assert all(set(u) == USER_FIELDS for u in users.values())
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00", u["regdate"]) for u in users.values())
    assert len({p["pid"] for p in exp["posts"]}) == len(exp["posts"])
    for thread in exp["threads"]:
        assert set(thread) == THREAD_FIELDS
        posts = _posts_of(demo, thread["tid"])
        assert [p["position"] for p in posts] == list(range(1, len(posts) + 1))
        assert thread["replies"] == len(posts) - 1
        assert thread["dateline"] == posts[0]["dateline"] and thread["lastpost"] == posts[-1]["dateline"]
        assert (thread["author"], thread["authorid"]) == (posts[0]["author"], posts[0]["authorid"])
        for post in posts:
            assert set(post) == POST_FIELDS
            assert post["first"] == (post["position"] == 1) and post["fid"] == thread["fid"]
            assert users[post["authorid"]]["username"] == post["author"]
            assert post["dateline"].endswith("+08:00")
            datetime.fromisoformat(post["dateline"])
    assert sum(t["displayorder"] > 0 for t in exp["threads"]) == 1
    assert sum(t["digest"] > 0 for t in exp["threads"]) == 1
    assert sum(t["closed"] > 0 for t in exp["threads"]) == 1
    assert [p["status"] for p in exp["posts"]].count(1) == 1
    hidden_fids = {f["fid"] for f in exp["forums"] if f.get("visible_to_guest") is False}
    assert len(hidden_fids) == 1
    assert exp["hidden_threads"] and not set(exp["hidden_threads"]) & {t["tid"] for t in exp["threads"]}
    assert not set(exp["hidden_threads"]) & {p["tid"] for p in exp["posts"]}


# ---------------------------------------------------------------- thread pages

def _page_posts(sel: Selector) -> list[dict]:
    rows = []
    for block in sel.xpath('//div[@id="postlist"]/div[starts-with(@id, "post_")]'):
        pid = int(block.attrib["id"].removeprefix("post_"))
        assert block.xpath(f'./table[@id="pid{pid}"]')
        floor_node = block.css(f"a#postnum{pid}")
        floor_text = "".join(floor_node.xpath("./text()").getall()).strip()
        floor = FLOOR_NAMES.get(floor_text) or int(floor_node.css("em::text").get())
        author = block.css(f"div#favatar{pid} div.authi a.xw1")
        uid = int(re.search(r"uid=(\d+)", author.attrib["href"]).group(1))
        posted = block.css(f"em#authorposton{pid}")
        title = posted.css("span::attr(title)").get()
        stamp = title or posted.css("::text").get().removeprefix("发表于 ").strip()
        rows.append({"pid": pid, "position": floor, "author": author.css("::text").get(),
                     "authorid": uid, "dateline": _parse_title(stamp).isoformat(), "block": block})
    return rows


def test_thread_pages_match_expected_posts(demo):
    for thread in _threads(demo):
        tid = thread["tid"]
        expected = _posts_of(demo, tid)
        pages = math.ceil(len(expected) / POSTS_PER_PAGE)
        seen = []
        for page in range(1, pages + 1):
            sel = _sel(demo, f"forum.php?mod=viewthread&tid={tid}&page={page}")
            rows = _page_posts(sel)
            assert 0 < len(rows) <= POSTS_PER_PAGE
            assert len(re.findall(r'id="post_\d+"', sel.get())) == len(rows)
            seen += rows
            assert sel.css("span#thread_subject::text").get() == thread["title"]
            views, replies = sel.css("td.pls.ptn span.xi1::text").getall()
            assert (int(views), int(replies)) == (thread["views"], thread["replies"])
        assert f"forum.php?mod=viewthread&tid={tid}&page={pages + 1}" not in {
            u.removeprefix(BASE) for u in demo.by_url}
        want = [{k: p[k] for k in ("pid", "position", "author", "authorid", "dateline")} for p in expected]
        got = [{k: r[k] for k in ("pid", "position", "author", "authorid", "dateline")} for r in seen]
        assert got == want, f"tid {tid}"
        for row, post in zip(seen, expected):
            message = row["block"].css(f"td.t_f#postmessage_{post['pid']}")
            if post["status"] & 1:
                assert not message
                assert row["block"].css("div.locked em::text").get() == "该帖被管理员或版主屏蔽"
            else:
                assert message, f"pid {post['pid']} has no message cell"
        # The bare tid URL serves page 1.
        bare = _page_posts(_sel(demo, f"forum.php?mod=viewthread&tid={tid}"))
        assert [r["pid"] for r in bare] == [p["pid"] for p in expected[:POSTS_PER_PAGE]]


def test_pager_only_on_multipage_threads(demo):
    multi = 0
    for thread in _threads(demo):
        pages = math.ceil((thread["replies"] + 1) / POSTS_PER_PAGE)
        for page in range(1, pages + 1):
            sel = _sel(demo, f"forum.php?mod=viewthread&tid={thread['tid']}&page={page}")
            totals = sel.css('div.pg span[title^="共"]::attr(title)').getall()
            if pages == 1:
                assert not sel.css("div.pg"), f"tid {thread['tid']} has a pager"
            else:
                assert totals == [f"共 {pages} 页"] * 2  # top and bottom pager
                assert sel.css("div#pgt div.pg strong::text").get() == str(page)
        multi += pages > 1
    assert multi == 1, "exactly one thread spans several pages"
    long_thread = max(_threads(demo), key=lambda t: t["replies"])
    assert math.ceil((long_thread["replies"] + 1) / POSTS_PER_PAGE) == 3


def test_numbercard_and_profile_column_match_users(demo):
    users = _users(demo)
    seen_big = False
    for thread in _threads(demo):
        sel = _sel(demo, f"forum.php?mod=viewthread&tid={thread['tid']}&page=1")
        for row in _page_posts(sel):
            user = users[row["authorid"]]
            col = row["block"].css(f"div#favatar{row['pid']}")
            cells = col.css("div.tns th, div.tns td")
            labels = [c.xpath("./text()").get() for c in cells]
            assert labels == ["主题", "回帖", "听众"]
            for cell, want in zip(cells, (user["threads"], user["posts"] - user["threads"], user["follower"])):
                big = cell.css("span::attr(title)").get()
                shown = cell.css("a ::text").get()
                if want > 10000:
                    seen_big = True
                    assert int(big) == want and shown == f"{want // 10000}万"
                else:
                    assert big is None and int(shown) == want
            assert col.css('p em a[href*="ac=usergroup"]::attr(href)').get().endswith(f"gid={user['groupid']}")
            pil = dict(zip(col.css("dl.pil dt::text").getall(),
                           [dd.xpath("string()").get() for dd in col.css("dl.pil dd")]))
            assert int(pil["积分"]) == user["credits"]
            numbers = [int(v.split()[0]) for k, v in pil.items() if k not in ("积分", "在线时间", "注册时间")]
            assert numbers == [user[f"extcredits{i}"] for i in range(1, 5)]
            assert pil["在线时间"] == f"{user['oltime']} 小时"
            assert pil["注册时间"] == _ymd(datetime.fromisoformat(user["regdate"].replace(" ", "T")))
    assert seen_big, "no numbercard figure above 10000 rendered as 万"


def test_special_posts_render_like_x34(demo):
    long_thread = max(_threads(demo), key=lambda t: t["replies"])
    tid = long_thread["tid"]
    pages = math.ceil((long_thread["replies"] + 1) / POSTS_PER_PAGE)
    texts = [_text(demo, f"forum.php?mod=viewthread&tid={tid}&page={p}") for p in range(1, pages + 1)]
    html = "".join(texts)
    # One selector per page (a parser stops at the first </html>), queried as one.
    sel = SelectorList(Selector(text=t) for t in texts)
    first_pid = _posts_of(demo, tid)[0]["pid"]
    quote = sel.css("td.t_f div.quote blockquote")
    assert len(quote) == 1
    assert f"goto=findpost&pid={first_pid}&ptid={tid}" in quote.css("a::attr(href)").get()
    assert "本帖最后由" in sel.css("td.t_f i.pstatus::text").get()
    assert re.search(r'<i class="pstatus"> 本帖最后由 \S+ 于 \d{4}-\d+-\d+ \d\d:\d\d 编辑 </i>', html)
    assert len(sel.css("td.t_f div.blockcode ol li")) >= 2
    assert sel.css('td.t_f img.zoom[id^="aimg_"]::attr(src)').get().startswith("http://")
    assert len(sel.css("div.locked")) == 1
    assert sel.css("a#postnum" + str(first_pid) + "::text").get().strip() == "楼主"
    closed = next(t for t in _threads(demo) if t["closed"])
    assert 'src="static/image/common/locked.gif"' in _text(demo, f"forum.php?mod=viewthread&tid={closed['tid']}&page=1")


# ---------------------------------------------------------------- list pages

def test_list_pages_match_expected_threads(demo):
    users = _users(demo)
    forums = [f for f in demo.expected["forums"] if f.get("visible_to_guest", True)]
    multi_page = []
    for forum in forums:
        fid = forum["fid"]
        expected = {t["tid"]: t for t in _threads(demo) if t["fid"] == fid}
        pages = max(1, math.ceil(len(expected) / THREADS_PER_PAGE))
        rows = {}
        for page in range(1, pages + 1):
            sel = _sel(demo, f"forum.php?mod=forumdisplay&fid={fid}&page={page}")
            bodies = sel.xpath('//table[@id="threadlisttableid"]/tbody[starts-with(@id, "normalthread_") '
                               'or starts-with(@id, "stickthread_")]')
            assert 0 < len(bodies) <= THREADS_PER_PAGE
            for body in bodies:
                kind, tid = body.attrib["id"].split("_")
                rows[int(tid)] = (kind, body)
            totals = sel.css('div.pg span[title^="共"]::attr(title)').getall()
            assert totals == ([f"共 {pages} 页"] * 2 if pages > 1 else [])
        if pages > 1:
            multi_page.append(fid)
        assert f"forum.php?mod=forumdisplay&fid={fid}&page={pages + 1}" not in {
            u.removeprefix(BASE) for u in demo.by_url}
        assert set(rows) == set(expected), f"fid {fid}"
        for tid, (kind, body) in rows.items():
            thread = expected[tid]
            assert (kind == "stickthread") == (thread["displayorder"] > 0)
            assert body.css("th a.s.xst::text").get() == thread["title"]
            author = body.css("td.by")[0].css("cite a")
            assert author.css("::text").get() == thread["author"]
            assert author.attrib["href"] == f"home.php?mod=space&uid={thread['authorid']}"
            assert body.css("td.by")[0].css("em span").get() is not None
            assert int(body.css("td.num a.xi2::text").get()) == thread["replies"]
            assert int(body.css("td.num em::text").get()) == thread["views"]
            assert bool(body.css('img[alt="digest"]')) == bool(thread["digest"])
            last_author = _posts_of(demo, tid)[-1]["authorid"]
            assert body.css("td.by")[1].css("cite a::text").get() == users[last_author]["username"]
        bare = _sel(demo, f"forum.php?mod=forumdisplay&fid={fid}")
        first = _sel(demo, f"forum.php?mod=forumdisplay&fid={fid}&page=1")
        assert bare.css("tbody::attr(id)").getall() == first.css("tbody::attr(id)").getall()
    assert multi_page == [2]


def test_index_and_subforum_links(demo):
    forums = demo.expected["forums"]
    top = [f for f in forums if f["parent_fid"] == 1]
    subs = [f for f in forums if f["parent_fid"] != 1]
    index = _sel(demo, "forum.php")
    listed = index.css("div#category_1 table.fl_tb td h2 a::attr(href)").getall()
    assert listed == [f"forum.php?mod=forumdisplay&fid={f['fid']}" for f in top]
    assert subs, "the demo needs a sub-forum"
    for sub in subs:
        parent = _sel(demo, f"forum.php?mod=forumdisplay&fid={sub['parent_fid']}")
        links = parent.css(f"div#subforum_{sub['parent_fid']} td h2 a")
        assert links.css("::attr(href)").get() == f"forum.php?mod=forumdisplay&fid={sub['fid']}"
        assert links.css("::text").get() == sub["name"]


# ---------------------------------------------------------------- dates

_RELATIVE = re.compile(r"^(?:(\d+)\xa0(秒|分钟|小时|天)前|半小时前|(昨天|前天)\xa0(\d\d):(\d\d))$")


def _check_relative_spans(root: Path, manifest: list[dict], now: datetime) -> set[str]:
    """Resolve every relative date label against `now`; return the kinds seen."""
    now_local = now.astimezone(TZ8)
    kinds = set()
    for entry in manifest:
        if not entry["file"].endswith(".html"):
            continue
        sel = Selector(text=(root / entry["file"]).read_text(encoding="utf-8"))
        for span in sel.css("span[title]"):
            label = span.css("::text").get() or ""
            match = _RELATIVE.match(label)
            if not match:
                continue
            when = _parse_title(span.attrib["title"])
            age = (now - when).total_seconds()
            slack = 0 if span.attrib["title"].count(":") == 2 else 60  # minute-precision titles
            amount, unit, day_word, hh, mm = match.groups()
            if unit == "分钟":
                assert int(amount) * 60 - slack <= age < (int(amount) + 1) * 60 + slack, label
            elif unit == "小时":
                assert int(amount) * 3600 - slack <= age < (int(amount) + 1) * 3600 + slack, label
            elif unit == "秒":
                assert 0 < age <= 60 + slack, label
            elif unit == "天":
                assert when.date() == now_local.date() - timedelta(days=int(amount)), label
            elif day_word:
                back = 1 if day_word == "昨天" else 2
                assert when.date() == now_local.date() - timedelta(days=back), label
                assert (when.hour, when.minute) == (int(hh), int(mm)), label
            else:  # 半小时前
                assert 1800 - slack < age <= 3600 + slack, label
            kinds.add(unit or day_word or "半小时")
    return kinds


def test_relative_time_spans_resolve(demo):
    kinds = _check_relative_spans(demo.root, demo.manifest, NOW)
    assert {"分钟", "昨天", "天"} <= kinds


@pytest.mark.parametrize("now", [
    datetime(2026, 11, 24, 16, 10, tzinfo=timezone.utc),  # 00:10 local: the newest post lands on 昨天
    datetime(2026, 11, 25, 15, 59, 59, tzinfo=timezone.utc),  # 23:59:59 local
    datetime(2025, 6, 30, 16, 0, tzinfo=timezone.utc),  # the earliest accepted `now`
])
def test_relative_times_hold_for_any_now(tmp_path, now):
    site = _load(build_demo_site(tmp_path, now=now))
    assert _check_relative_spans(site.root, site.manifest, now)
    for thread in site.expected["threads"]:
        stamps = [datetime.fromisoformat(p["dateline"]) for p in _posts_of(site, thread["tid"])]
        assert stamps == sorted(stamps) and stamps[-1] < now, f"tid {thread['tid']}"


def test_absolute_dates_match_expected(demo):
    """Older posts print the exact local time; the newest ones keep it in the title."""
    long_thread = max(_threads(demo), key=lambda t: t["replies"])
    posts = _posts_of(demo, long_thread["tid"])
    last_page = math.ceil(len(posts) / POSTS_PER_PAGE)
    sel = _sel(demo, f"forum.php?mod=viewthread&tid={long_thread['tid']}&page={last_page}")
    titles = [sel.css(f"em#authorposton{p['pid']} span::attr(title)").get() for p in posts[-3:]]
    assert [_parse_title(t).isoformat() for t in titles] == [p["dateline"] for p in posts[-3:]]
    labels = [sel.css(f"em#authorposton{p['pid']} span::text").get() for p in posts[-3:]]
    assert labels == ["3\xa0天前", "昨天\xa011:43", "21\xa0分钟前"]


# ---------------------------------------------------------------- profiles and errors

def test_profile_pages(demo):
    for user in demo.expected["users"]:
        uid = user["uid"]
        for query in (f"home.php?mod=space&uid={uid}&do=profile", f"home.php?mod=space&uid={uid}"):
            sel = _sel(demo, query)
            assert f"(UID: {uid})" in sel.css("div.u_profile h2.mbn span.xw0::text").get()
            pbbs = {li.css("em::text").get(): li.xpath("./text()").get() for li in sel.css("ul#pbbs li")}
            assert pbbs["在线时间"] == f"{user['oltime']} 小时"
            regdate = datetime.fromisoformat(user["regdate"].replace(" ", "T"))
            assert pbbs["注册时间"] == f"{_ymd(regdate)} {regdate:%H:%M}"
            psts = {li.css("em::text").get(): li.xpath("./text()").get().strip()
                    for li in sel.css("div#psts li")}
            assert int(psts["积分"]) == user["credits"]
            ext = [int(v.split()[0]) for k, v in psts.items() if k not in ("已用空间", "积分")]
            assert ext == [user[f"extcredits{i}"] for i in range(1, 5)]
            group = sel.css('a[href*="ac=usergroup"]::attr(href)').get()
            assert group.endswith(f"gid={user['groupid']}")


def test_members_only_and_missing_pages(demo):
    hidden_fid = next(f["fid"] for f in demo.expected["forums"] if f.get("visible_to_guest") is False)
    queries = [f"forum.php?mod=forumdisplay&fid={hidden_fid}&page=1",
               f"forum.php?mod=forumdisplay&fid={hidden_fid}"]
    for tid in demo.expected["hidden_threads"]:
        queries += [f"forum.php?mod=viewthread&tid={tid}&page=1", f"forum.php?mod=viewthread&tid={tid}"]
    for query in queries:
        assert _entry(demo, query)["status"] == 200
        sel = _sel(demo, query)
        assert sel.css("div#messagetext p::text").get() == NO_PERMISSION
        assert not sel.css("div#postlist, table#threadlisttableid")
    missing = [e for e in demo.manifest if e["status"] == 404]
    assert len(missing) == 1 and "mod=viewthread" in missing[0]["url"]
    body = Selector(text=(demo.root / missing[0]["file"]).read_text(encoding="utf-8"))
    assert body.css("div#messagetext.alert_error p::text").get() == NO_THREAD


# ---------------------------------------------------------------- build options

def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_now_gives_identical_bytes(tmp_path):
    first = _snapshot(build_demo_site(tmp_path / "a", now=NOW))
    second = _snapshot(build_demo_site(tmp_path / "b", now=NOW))
    assert first == second
    # A naive `now` is read as UTC.
    naive = _snapshot(build_demo_site(tmp_path / "c", now=NOW.replace(tzinfo=None)))
    assert naive == first


def test_custom_host_and_default_now(tmp_path):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    site = _load(build_demo_site(tmp_path, host="127.0.0.1:8765"))
    after = datetime.now(timezone.utc)
    assert site.expected["site"] == "http://127.0.0.1:8765/"
    assert all(e["url"].startswith("http://127.0.0.1:8765/") for e in site.manifest)
    stamp = parsedate_to_datetime(site.manifest[0]["headers"]["Date"])
    assert before <= stamp <= after


def test_rejects_now_before_the_fixed_content(tmp_path):
    with pytest.raises(ValueError):
        build_demo_site(tmp_path, now=datetime(2024, 1, 1, tzinfo=timezone.utc))


# ---------------------------------------------------------------- the project's own parsers

def test_project_parsers_read_the_demo_like_its_database(demo):
    """The parsers written for the real X3.4 capture agree with the demo's expected.json."""
    ground_truth = pytest.importorskip("tests.ground_truth")
    assert demo.expected["extcredits"]["extcredits2"] == list(EXTCREDITS[1])
    result = ground_truth.compare_capture(demo.root)
    failures = {name: mismatches[:3] for name, mismatches in result.mismatches.items() if mismatches}
    assert failures == {}
    assert result.matches["post.floor"] == len(demo.expected["posts"])
    assert result.matches["thread.page.title"] == len(demo.expected["threads"])
    assert result.matches["user.profile.credits"] == len(demo.expected["users"])


# ---------------------------------------------------------------- parity with a real capture

PARITY = {
    # page kind: (real capture query, demo query, selectors a real-page parser relies on)
    "viewthread": ("forum.php?mod=viewthread&tid=2&page=1", "forum.php?mod=viewthread&tid=2&page=1", [
        'div#postlist > div[id^="post_"] > table[id^="pid"].plhin',
        'td.pls div.favatar div.pi div.authi a.xw1[href*="uid="]',
        "div.tns.xg2 table th p a.xi2", "div.tns.xg2 table td p a.xi2", "div.tns.xg2 th p a span[title]",
        'td.pls p em a[href*="ac=usergroup&gid="]',
        "td.pls dl.pil.cl dt", "td.pls dl.pil.cl dd",
        'div.pi strong a[id^="postnum"]', 'div.pi strong a[id^="postnum"] em', 'div.pi strong a sup',
        'div.authi em[id^="authorposton"]', 'td.t_f[id^="postmessage_"]', "span#thread_subject",
        "td.pls.ptn div.hm span.xi1", 'div#pgt div.pgt div.pg span[title^="共"]',
        "td.t_f div.quote blockquote font a", "td.t_f i.pstatus", "td.t_f div.blockcode ol li",
        'meta[name="generator"]', "div#frt p em",
    ]),
    "viewthread_page2": ("forum.php?mod=viewthread&tid=2&page=2", "forum.php?mod=viewthread&tid=2&page=2", [
        'td.t_f img.zoom[id^="aimg_"]', "div.pcb > div.locked em", "div.pg a.prev", "div.pg a.nxt",
    ]),
    "forumdisplay": ("forum.php?mod=forumdisplay&fid=2&page=1", "forum.php?mod=forumdisplay&fid=2&page=1", [
        'table#threadlisttableid tbody[id^="stickthread_"] th a.s.xst',
        'table#threadlisttableid tbody[id^="normalthread_"] th a.s.xst',
        'tbody[id^="normalthread_"] td.by cite a[href*="uid="]', 'tbody[id^="normalthread_"] td.by em span',
        'tbody[id^="normalthread_"] td.num a.xi2', 'tbody[id^="normalthread_"] td.num em',
        'tbody[id^="normalthread_"] td.by em a[href*="goto=lastpost"]',
        'span#fd_page_top div.pg span[title^="共"]', 'img[alt="digest"]', "span.tps a",
        "div.bm_h h1.xs2 a",
    ]),
    "subforum": ("forum.php?mod=forumdisplay&fid=40", "forum.php?mod=forumdisplay&fid=3", [
        'div[id^="subforum_"] table.fl_tb td h2 a', 'div[id^="subforum_"] td.fl_i span.xi2',
    ]),
    "index": ("forum.php", "forum.php", [
        'div[id^="category_"] table.fl_tb td h2 a', "td.fl_i span.xi2", "td.fl_i span.xg1",
        "td.fl_by div a.xi2", "td.fl_by cite", "p.chart em",
    ]),
    "profile": ("home.php?mod=space&uid=2&do=profile", "home.php?mod=space&uid=2&do=profile", [
        "ul#pbbs li em", "div#psts ul.pf_l li em", "div.u_profile h2.mbn span.xw0",
        'ul li em.xg1 + span a[href*="ac=usergroup"]',
    ]),
}


@pytest.mark.skipif(not REAL_CAPTURE.is_dir(), reason="shared real capture not available")
@pytest.mark.parametrize("kind", sorted(PARITY))
def test_selectors_match_real_and_demo_pages(demo, kind):
    real_query, demo_query, selectors = PARITY[kind]
    manifest = json.loads((REAL_CAPTURE / "manifest.json").read_text(encoding="utf-8"))
    real_file = next(e["file"] for e in manifest if e["url"].endswith("/" + real_query))
    real = Selector(text=(REAL_CAPTURE / real_file).read_text(encoding="utf-8"))
    ours = _sel(demo, demo_query)
    for css in selectors:
        assert real.css(css), f"selector no longer matches the real page: {css}"
        assert ours.css(css), f"demo page lacks markup the real page has: {css}"
