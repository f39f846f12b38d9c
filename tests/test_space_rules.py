"""An admin's own rule for member spaces (issue 20): a post's author uid and profile link read from whatever the
page states, and the space rule learned like the thread and forum rules.

Discuz writes a member's space link through the ``home_space`` rewrite rule (``space-{user}-{value}.html`` by
default), which an admin may change to ``u-UID.html``, ``/people/UID/`` or ``m-UID.htm``: spellings no default rule
reads. The post still states its author's uid where no rule reaches (the avatar, the hover card's and stats
block's dynamic links, 只看该作者), so every author and every profile is kept; the links of quotes, 点评,
the rate log, debaters and applicants name other members and are never read as the author.
"""
from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import urlsplit

import lxml.html
import pytest
from scrapy.http import Request

from scraper.items import KIND_INDEX, KIND_PROFILE, ParsedPage
from scraper.parsers import parse_page
from scraper.urls import SiteUrls, Target, member_uid_in_href, uid_from_avatar
from testbed import variants
from testbed.replay import ReplayServer

from .conftest import FIXTURES, guest_checker_line, captured_pages, requires_fixtures
from .test_e2e import assert_archive_is_the_site, fast, run_cli
from .test_spider import respond, spider_for

SITE_F = FIXTURES / "discuz-x35-utf8-f"
SITE_G = FIXTURES / "discuz-x35-utf8-g"
SITE_K = FIXTURES / "discuz-70-utf8-k"
# Each capture moved into /bbs/ (start page, posters with a profile the guest may see).
STARTS = {SITE_F: "http://bbs.sample.test/bbs/forum.php", SITE_G: "http://bbs.zigong.test/bbs/forum.php",
          SITE_K: "http://bbs.k7.test/bbs/index.php"}


# --- URLs that state a uid whatever the rules ---------------------------------------------------------------

@pytest.mark.parametrize("src, uid", [
    ("http://bbs.sample.test/uc_server/avatar.php?uid=4&size=middle", 4),
    ("uc_server/avatar.php?uid=5&amp;size=small&amp;type=real&amp;ts=1", 5),
    ("http://bbs.k7.test/uc_server/avatar.php?uid=15&size=middle", 15),  # 7.x discuz_uc_avatar()
    ("uc_server/data/avatar/000/00/00/04_avatar_middle.jpg", 4),  # avatarmethod: the file itself
    ("http://img.example.com/data/avatar/000/12/34/56_real_avatar_big.jpg?ts=1700000000", 123456),
    ("uc_server/avatar.php?uid=0&size=middle", None),  # a guest
    ("uc_server/images/noavatar_middle.gif", None),
    ("static/image/common/online_member.gif", None),
])
def test_an_avatar_url_states_the_uid(src, uid):
    assert uid_from_avatar(src) == uid


@pytest.mark.parametrize("href, uid", [
    ("home.php?mod=space&uid=4&do=profile", 4),
    ("home.php?mod=space&amp;uid=6&amp;do=thread&amp;type=reply&amp;view=me&amp;from=space", 6),
    ("home.php?mod=spacecp&amp;ac=pm&amp;op=showmsg&amp;handlekey=showmsg_9&amp;touid=9&amp;pmid=0", 9),
    ("home.php?mod=spacecp&ac=follow&op=add&hash=x&fuid=12", 12),
    ("forum.php?mod=viewthread&amp;tid=8&amp;page=1&amp;authorid=14", 14),
    ("viewthread.php?tid=2&amp;page=1&amp;authorid=5", 5),
    ("pm.php?action=new&amp;uid=5", 5),
    ("my.php?item=buddylist&amp;newbuddyid=7&amp;buddysubmit=yes", 7),
    ("space.php?uid=3&action=viewpro", 3),
    ("home.php?mod=spacecp&amp;ac=usergroup&amp;gid=15", None),
    ("forum.php?mod=redirect&goto=findpost&ptid=8&pid=306", None),
    ("people/4/", None),
])
def test_a_member_link_states_the_uid_whatever_the_rules(href, uid):
    assert member_uid_in_href(href) == uid


def test_a_number_too_long_for_a_uid_states_none_and_breaks_nothing():
    endless = "9" * 5000  # past what int() reads
    assert member_uid_in_href(f"home.php?mod=space&uid={endless}") is None
    assert uid_from_avatar(f"uc_server/avatar.php?uid={endless}&size=middle") is None
    urls = SiteUrls()
    urls.learn(KIND_PROFILE, 4, 1, "http://bbs.sample.test/bbs/people/4/")
    assert urls.identify(f"http://bbs.sample.test/bbs/people/{endless}/").kind != KIND_PROFILE


# --- the space rule learned -----------------------------------------------------------------------------------

def test_the_space_rule_is_learned_from_an_author_link_and_reads_every_member():
    urls = SiteUrls()
    urls.learn(KIND_PROFILE, 4, 1, "http://bbs.sample.test/bbs/people/4/")
    assert urls.known(KIND_PROFILE) == ["/bbs/people/{id}/"]
    assert urls.identify("http://bbs.sample.test/bbs/people/16/") == Target(KIND_PROFILE, uid=16)
    # The folder of the install is still the index; the rule ends in a folder, the index does not match it.
    assert urls.identify("http://bbs.sample.test/bbs/").kind == KIND_INDEX
    assert urls.urls_for(KIND_PROFILE, 9, 0, "http://bbs.sample.test/bbs/forum.php") == [
        "http://bbs.sample.test/bbs/people/9/"]
    urls.learn(KIND_PROFILE, 7, 1, "http://bbs.sample.test/bbs/m-7.htm")
    assert urls.identify("http://bbs.sample.test/bbs/m-123.htm") == Target(KIND_PROFILE, uid=123)


@pytest.mark.parametrize("uid, url", [
    (4, "http://bbs.sample.test/bbs/space-uid-4.html"),  # a default spelling: classify() reads it
    (4, "http://bbs.sample.test/bbs/home.php?mod=space&uid=4"),
    (12, "http://bbs.sample.test/bbs/u-user12.html"),  # the number is part of a name
    (4, "http://bbs.sample.test/bbs4/u-4.html"),  # the number twice: which one is the uid?
    (8, "http://bbs.sample.test/bbs/space-username-%E7%8E%8B8.html"),
    (5, "http://bbs.sample.test/bbs/space-username-abc.html"),  # no number at all
])
def test_a_space_spelling_that_does_not_show_the_uid_alone_teaches_nothing(uid, url):
    urls = SiteUrls()
    urls.learn(KIND_PROFILE, uid, 1, url)
    assert urls.known(KIND_PROFILE) == []


# --- thread pages: the author's uid from what the page states -------------------------------------------------

def _letters(uid: str | int) -> str:
    """A uid spelled without digits (4 -> e, 39 -> dj): a space URL that states nothing of it."""
    return "".join(chr(ord("a") + int(d)) for d in str(uid))


def _page(site, url: str):
    return next(p for p in captured_pages(site) if p.url == url)


def _authors(page: ParsedPage) -> list[tuple[int, str | None, int | None]]:
    return [(p.pid, p.author, p.author_uid) for p in page.posts]


def _only_avatars(text: str) -> str:
    """The page with every space link spelled by a rule that states no uid and every other uid link gone:
    only the avatars state who wrote what."""
    text = re.sub(r"space-uid-(\d+)\.html|space\.php\?uid=(\d+)(?=\")",
                  lambda m: f"people/{_letters(m[1] or m[2])}/", text)
    return re.sub(r'href="[^"]*(?:uid|authorid|newbuddyid)=\d+[^"]*"', 'href="#"', text)


@requires_fixtures
def test_an_x_page_whose_avatars_alone_state_the_uids_keeps_every_author():
    captured = _page(SITE_F, "http://bbs.sample.test/thread-8-1-1.html")
    want = _authors(parse_page(captured.url, captured.body))
    assert len(want) == 6 and all(uid for _, _, uid in want)
    text = _only_avatars(captured.body.decode("utf-8"))
    assert not re.search(r'href="[^"]*(?:uid|authorid)=\d', text) and "space-uid-" not in text
    page = parse_page(captured.url, text.encode("utf-8"))
    assert _authors(page) == want
    assert {u.uid for u in page.users} == {uid for _, _, uid in want}
    # The avatar file itself (avatarmethod on), whose URL spells the uid as 000/00/00/04.
    files = re.sub(r"uc_server/avatar\.php\?uid=(\d+)&size=middle",
                   lambda m: "uc_server/data/avatar/{}/{}/{}/{}_avatar_middle.jpg".format(
                       *re.findall(r"(\d{3})(\d{2})(\d{2})(\d{2})", f"{int(m[1]):09d}")[0]), text)
    assert "avatar.php" not in files
    assert _authors(parse_page(captured.url, files.encode("utf-8"))) == want
    # Without the avatars nothing states a uid: the names stay, no uid is made up.
    bare = re.sub(r'<img src="[^"]*avatar[^"]*"[^>]*>', "", text)
    assert [(pid, name, None) for pid, name, _ in want] == _authors(parse_page(captured.url, bare.encode("utf-8")))


@requires_fixtures
def test_an_x_page_links_each_author_s_space_in_the_site_s_spelling():
    captured = _page(SITE_F, "http://bbs.sample.test/thread-8-1-1.html")
    text = captured.body.decode("utf-8").replace("space-uid-4.html", "people/4/").replace("space-uid-6.html", "m-6.htm")
    page = parse_page(captured.url, text.encode("utf-8"))
    spaces = {(link.url, link.id, link.rank) for link in page.links if link.kind == KIND_PROFILE and link.rank}
    assert ("http://bbs.sample.test/people/4/", 4, 1) in spaces
    assert ("http://bbs.sample.test/m-6.htm", 6, 1) in spaces
    # The hover card's profile link is still the better spelling of each profile.
    assert ("http://bbs.sample.test/home.php?mod=space&uid=4&do=profile", 4, 0) in {
        (link.url, link.id, link.rank) for link in page.links if link.kind == KIND_PROFILE}


@requires_fixtures
def test_a_7x_page_whose_avatars_and_uid_rows_state_the_uids_keeps_every_author():
    captured = _page(SITE_K, "http://bbs.k7.test/thread-2-1-1.html")
    want = _authors(parse_page(captured.url, captured.body))
    assert want and all(uid for _, _, uid in want)
    text = _only_avatars(captured.body.decode("utf-8"))
    assert not re.search(r'href="[^"]*(?:uid|authorid)=\d', text) and "space-uid-" not in text
    page = parse_page(captured.url, text.encode("utf-8"))
    assert _authors(page) == want
    # The avatar alone, and the UID row alone.
    no_rows = re.sub(r"<dt>UID</dt><dd>\d+&nbsp;</dd>", "", text)
    assert no_rows != text
    assert _authors(parse_page(captured.url, no_rows.encode("utf-8"))) == want
    no_avatars = re.sub(r'<img src="[^"]*avatar\.php[^"]*"[^>]*>', "", text)
    assert no_avatars != text
    assert _authors(parse_page(captured.url, no_avatars.encode("utf-8"))) == want
    # Each author's space link in the site's spelling leads to their profile.
    spaces = {(link.url, link.id) for link in page.links if link.kind == KIND_PROFILE}
    assert {(f"http://bbs.k7.test/people/{_letters(uid)}/", uid) for _, _, uid in want} <= spaces


# --- other members' links on a post are not its author --------------------------------------------------------

def _strip_author_areas(body: bytes, *, keep_avatars: bool) -> bytes:
    """Every uid statement of the posts' author areas (column, header) spelled away; the rest of the page as it was."""
    root = lxml.html.fromstring(body)
    for area in root.xpath("//div[@id='postlist']//td[contains(concat(' ', @class, ' '), ' pls ')]"
                           " | //div[@id='postlist']//div[contains(concat(' ', @class, ' '), ' authi ')]"):
        for a in area.iter("a"):
            uid = member_uid_in_href(a.get("href"))
            if uid:
                a.set("href", f"people/{_letters(uid)}/")
        for img in list(area.iter("img")):
            if uid_from_avatar(img.get("src")) and not keep_avatars:
                img.getparent().remove(img)
    return lxml.html.tostring(root, encoding="utf-8")


@requires_fixtures
@pytest.mark.parametrize("url, others", [
    ("http://bbs.zigong.test/thread-138-1-1.html", ("ratelog_", "comment_", "blockquote")),  # raters, 点评, quotes
    ("http://bbs.zigong.test/thread-147-1-1.html", ("ratelog_", "comment_", "blockquote")),
    ("http://bbs.zigong.test/thread-141-1-1.html", ("debate",)),  # debaters
    ("http://bbs.zigong.test/thread-153-1-1.html", ('class="act ', "avatar.php?uid=53&size=small")),  # applicants
])
def test_quoted_rating_commenting_debating_and_applying_members_are_not_the_author(url, others):
    captured = _page(SITE_G, url)
    want = _authors(parse_page(captured.url, captured.body))
    text = captured.body.decode("utf-8")
    assert all(other in text for other in others)
    stripped = _strip_author_areas(captured.body, keep_avatars=False)
    # Other members' links (and the applicants' avatars) stay on the page, in the spelling every rule reads.
    others_linked = {member_uid_in_href(h) for h in lxml.html.fromstring(stripped).xpath("//a/@href")} - {None}
    authors = {uid for _, _, uid in want}
    assert others_linked and len(others_linked | authors) > 1
    # Nothing in the author areas states a uid: no post takes another member's uid for its author's.
    page = parse_page(captured.url, stripped)
    assert _authors(page) == [(pid, name, None) for pid, name, _ in want]
    # The site's learned rule reads the author's own link (the crawler's SiteUrls.identify).
    spelled = {f"/people/{_letters(uid)}/": uid for uid in authors if uid}

    def identify(absolute: str) -> Target:
        path = urlsplit(absolute).path
        return Target(KIND_PROFILE, uid=spelled[path]) if path in spelled else Target("other")

    assert _authors(parse_page(captured.url, stripped, identify=identify)) == want
    # The avatars alone state each author.
    assert _authors(parse_page(captured.url, _strip_author_areas(captured.body, keep_avatars=True))) == want


# --- the spider learns the rule -------------------------------------------------------------------------------

@requires_fixtures
def test_the_spider_learns_the_space_rule_and_reads_every_member_link_by_it(tmp_path):
    site = variants.space_rule(SITE_F, tmp_path / "site", "people/{uid}/")
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    bodies = {e["url"]: (site / e["file"]).read_bytes() for e in manifest}
    spider = spider_for(STARTS[SITE_F], tmp_path)
    thread = "http://bbs.sample.test/bbs/thread-8-1-1.html"
    requests = [r for r in spider.parse(respond(thread, bodies[thread])) if isinstance(r, Request)]
    assert spider.urls.known(KIND_PROFILE) == ["/bbs/people/{id}/"]
    # Each poster's profile, in the spelling the site links it by.
    assert sorted(r.url for r in requests if "uid=" in r.url) == sorted(
        f"http://bbs.sample.test/bbs/home.php?mod=space&uid={uid}&do=profile" for uid in (2, 4, 6, 9, 10))
    # A list page's author links, in the learned spelling, are profile links now.
    listing = "http://bbs.sample.test/bbs/forum-36-1.html"
    page = next(p for p in spider.parse(respond(listing, bodies[listing])) if isinstance(p, ParsedPage))
    linked = {(link.url, link.id) for link in page.links if link.kind == KIND_PROFILE}
    assert ("http://bbs.sample.test/bbs/people/4/", 4) in linked


# --- whole crawls -----------------------------------------------------------------------------------------------

def _crawl(site, start: str, db, *extra: str):
    with ReplayServer(site, exact=True) as server:
        result = run_cli(*fast("crawl", start, "--db", str(db), *extra), proxy=server.url)
        return result, list(server.requests)



def _posters(capture) -> set[int]:
    truth = json.loads((capture / "expected.json").read_text(encoding="utf-8"))
    return {p["authorid"] for p in truth["posts"] if p.get("visible_to_guest", True) and p["authorid"]}


@requires_fixtures
@pytest.mark.parametrize("capture, rule", [(SITE_F, "people/{uid}/"), (SITE_F, "m-{uid}.htm"),
                                           (SITE_G, "m-{uid}.htm"), (SITE_K, "u-{uid}.html")],
                         ids=["F-people", "F-m", "G-m", "K-u"])
def test_a_space_rule_that_says_nothing_of_uid_keeps_every_author_and_profile(capture, rule, tmp_path):
    site = variants.space_rule(capture, tmp_path / "site", rule)
    db = tmp_path / "archive.db"
    result, requested = _crawl(site, STARTS[capture], db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.match(r"threads 100\.0% posts 100\.0% users 100\.0%", guest_checker_line(db, capture, tmp_path))
    if capture is SITE_F:
        assert_archive_is_the_site(db, SITE_F)
    # Every poster's profile was read from a page the site linked.
    conn = sqlite3.connect(db)
    profiled = {uid for uid, in conn.execute("SELECT DISTINCT uid FROM user_stats WHERE source = 'profile'")}
    assert profiled >= _posters(capture)
    assert "robots.txt kept" not in result.stdout
    listed = {e["url"].split("/", 3)[3] for e in json.loads((site / "manifest.json").read_text(encoding="utf-8"))}
    assert {path.lstrip("/") for path in requested} <= listed


@requires_fixtures
def test_profiles_are_fetched_in_the_learned_spelling_when_robots_txt_forbids_the_dynamic_one(tmp_path):
    site = variants.robots(variants.space_rule(SITE_F, tmp_path / "moved", "m-{uid}.htm"), tmp_path / "site",
                           "User-agent: *\nDisallow: /bbs/*?*\n")
    db = tmp_path / "archive.db"
    result, requested = _crawl(site, STARTS[SITE_F], db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [path for path in requested if "?" in path]
    assert {path for path in requested if path.startswith("/bbs/m-")} == {
        f"/bbs/m-{uid}.htm" for uid in _posters(SITE_F)}
    assert_archive_is_the_site(db, SITE_F)
    assert "robots.txt kept" not in result.stdout
