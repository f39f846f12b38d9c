"""The poll reader (scraper/parsers/polls.py): real captures against database truth, and markup written from
the templates for what the captures lack.

Truth: ``polls`` in expected.json of discuz-x35-utf8-g (tids 137, 151), its Traditional-Chinese twin
discuz-x35-utf8-g-tc, and discuz-70-utf8-k (tids 7, 8); G's recorded member login shows the vote inputs, and
with them each option's polloptionid. The unit markup follows X3.5 ``template/default/forum/viewthread_poll.htm``
(text and image polls), its touch twin, and 7.0 ``templates/default/viewthread_poll.htm``.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from scraper.items import KIND_VIEWTHREAD, ParsedPage, Post, Thread
from scraper.parsers import parse_page
from scraper.parsers.dates import parse_http_date
from scraper.parsers.extras import FAMILY_7X, FAMILY_X, ThreadContext, post_containers
from scraper.parsers.polls import read_polls

from .conftest import FIXTURES, captured_pages, expected

G = FIXTURES / "discuz-x35-utf8-g"
G_TC = FIXTURES / "discuz-x35-utf8-g-tc"
K = FIXTURES / "discuz-70-utf8-k"
G_MEMBER = G / "member"
needs_g = pytest.mark.skipif(not (G / "expected.json").exists(), reason="fixture discuz-x35-utf8-g missing")
needs_k = pytest.mark.skipif(not (K / "expected.json").exists(), reason="fixture discuz-70-utf8-k missing")

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 3, 55, 10, tzinfo=timezone.utc)  # 11:55:10 in UTC+8
POLL_SITES = [pytest.param(G, id="G"), pytest.param(G_TC, id="G-tc"), pytest.param(K, id="K")]


# --- real captures -----------------------------------------------------------------------------------

def parsed(folder, url_test):
    """Every captured page of ``folder`` whose URL passes ``url_test``, parsed, with its capture time."""
    out = []
    for p in captured_pages(folder):
        if p.content_type.startswith("text/html") and url_test(p.url):
            page = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
            out.append((page, parse_http_date(p.date)))
    return out


def thread_first_page(folder, tid):
    """The poll thread's first page as the crawl met it (``thread-TID-1-1.html``), with its capture time."""
    pages = parsed(folder, lambda url: url.endswith(f"/thread-{tid}-1-1.html"))
    assert len(pages) == 1, f"{folder.name}: thread-{tid}-1-1.html captured {len(pages)} times"
    return pages[0]


def truth_polls(folder):
    return [pytest.param(folder, poll, id=f"{folder.name}-tid{poll['tid']}") for poll in expected(folder)["polls"]]


def every_truth_poll():
    out = []
    for folder in (G, G_TC, K):
        if (folder / "expected.json").exists():
            out += truth_polls(folder)
    return out


@pytest.mark.parametrize("folder, truth", every_truth_poll())
def test_poll_box_holds_every_option_with_its_votes_as_the_database_has_them(folder, truth):
    page, _ = thread_first_page(folder, truth["tid"])
    assert len(page.polls) == 1
    poll = page.polls[0]
    assert poll.tid == truth["tid"]
    assert poll.status == "ok" and poll.missing == []
    assert [(o.position, o.text, o.votes) for o in poll.options] == [
        (i, o["text"], o["votes"]) for i, o in enumerate(truth["options"], 1)]
    assert poll.voters == truth["voters"]
    # The shares Discuz printed: each option's votes over the sum of all votes, two decimals.
    total = sum(o["votes"] for o in truth["options"])
    assert [o.percent for o in poll.options] == [round(o["votes"] * 100 / total, 2) for o in truth["options"]]
    assert poll.is_image is False


@pytest.mark.parametrize("folder, truth", every_truth_poll())
def test_poll_choice_expiry_visibility_and_overt_follow_the_database(folder, truth):
    page, captured_at = thread_first_page(folder, truth["tid"])
    poll = page.polls[0]
    assert poll.multiple is truth["multiple"]
    # maxchoices conventions differ (X stores 0 for a single-choice poll, 7.0 stores 1): the reader says what
    # the poll allows, 1 for single choice, N of 最多可选 N 项 for multiple.
    assert poll.max_choices == (truth["maxchoices"] if truth["multiple"] else 1)
    ended = truth["expiration"] is not None and datetime.fromisoformat(truth["expiration"]) < captured_at
    assert poll.is_expired is ended
    # An ended poll shows 投票已经结束 and no end time; one without an end shows neither.
    assert poll.expires_at is None and poll.expires_at_text is None
    assert poll.results_visible is (truth["visible"] or ended)
    assert poll.voters_public is truth["overt"]
    assert all(o.polloptionid is None for o in poll.options)  # a guest gets no vote inputs: the ids are not shown


@pytest.mark.parametrize("folder", POLL_SITES)
def test_only_the_poll_threads_first_pages_yield_a_poll_and_mark_the_thread_special(folder):
    if not (folder / "expected.json").exists():
        pytest.skip(f"fixture {folder.name} missing")
    poll_tids = {p["tid"] for p in expected(folder)["polls"]}
    seen = set()
    for page, _ in parsed(folder, lambda url: True):
        if page.kind != KIND_VIEWTHREAD:
            assert page.polls == []
            continue
        thread = next((t for t in page.threads if t.tid == page.tid), None)
        if page.polls:
            assert page.tid in poll_tids and page.page == 1, page.url
            assert [p.tid for p in page.polls] == [page.tid]
            assert thread is not None and thread.special == "poll"
            seen.add(page.tid)
        else:
            assert "poll" not in page.missing, page.url
            if thread is not None:
                assert thread.special != "poll", page.url
    assert seen == poll_tids


@needs_g
def test_member_view_reads_each_options_polloptionid_from_its_vote_input():
    truth = next(p for p in expected(G)["polls"] if p["tid"] == 151)
    pages = parsed(G_MEMBER, lambda url: url.endswith("/thread-151-1-1.html"))
    poll = pages[0][0].polls[0]
    assert [(o.polloptionid, o.text, o.votes) for o in poll.options] == [
        (o["polloptionid"], o["text"], o["votes"]) for o in truth["options"]]
    assert poll.multiple is True and poll.max_choices == 2
    # The member may still vote and sees the counts: the results are visible, the voters not public.
    assert poll.results_visible is True and poll.voters_public is False


@needs_g
def test_traditional_pack_labels_read_like_the_simplified_ones():
    simplified = {p.tid: p for page, _ in parsed(G, lambda u: "thread-" in u) for p in page.polls}
    traditional = {p.tid: p for page, _ in parsed(G_TC, lambda u: "thread-" in u) for p in page.polls}
    assert set(simplified) == set(traditional) == {137, 151}
    for tid, poll in simplified.items():
        tc = traditional[tid]
        for name in ("multiple", "max_choices", "voters", "is_expired", "results_visible", "voters_public"):
            assert getattr(tc, name) == getattr(poll, name), (tid, name)
        assert [o.votes for o in tc.options] == [o.votes for o in poll.options]
        assert [o.text for o in tc.options] != [o.text for o in poll.options]  # the options are in TC


# --- markup from the templates -----------------------------------------------------------------------

BASE = "http://bbs.test/forum.php?mod=viewthread&tid=7"


def read_box(box_html: str, *, family: str = FAMILY_X, now: datetime | None = NOW,
             before: str = "") -> ParsedPage:
    """Run the poll reader on a first post (pid 70) whose message is followed by ``box_html``."""
    html = f"""<html><head><meta charset="utf-8"></head><body><div id="postlist">
<div id="post_70"><table id="pid70"><tr><td class="plc"><div class="pct"><div class="pcb"><div class="pcbs">
<table cellspacing="0" cellpadding="0"><tr><td class="t_f" id="postmessage_70">大家来投票</td></tr></table>
{before}{box_html}</div></div></div></td></tr></table></div>
<div id="post_71"><table id="pid71"><tr><td class="t_f" id="postmessage_71">第二楼</td></tr></table></div>
</div></body></html>"""
    root = etree.HTML(html.encode("utf-8"))
    page = ParsedPage(url=BASE, kind=KIND_VIEWTHREAD, tid=7, page=1, threads=[Thread(tid=7)],
                      posts=[Post(pid=70, tid=7, floor=1, is_first=True), Post(pid=71, tid=7, floor=2)])
    ctx = ThreadContext(url=BASE, tid=7, family=family, now=now, tz=CST, posts=post_containers(root))
    read_polls(page, root, ctx)
    return page


def x3_form(info: str, rows: str, *, timer: str = "", footer: str = "您所在的用户组没有投票权限",
            selector: bool = False) -> str:
    """X3.5 viewthread_poll.htm around the given info line, countdown and option rows."""
    return f"""<form id="poll" name="poll" method="post" autocomplete="off"
 action="forum.php?mod=misc&amp;action=votepoll&amp;fid=3&amp;tid=7&amp;pollsubmit=yes&amp;quickforward=yes">
<input type="hidden" name="formhash" value="0a1b2c3d" />
<div class="pinf">{info}</div>
{timer}
<div class="pcht"><table summary="poll panel" cellspacing="0" cellpadding="0" width="100%">
{rows}
<tr>{'<td class="selector">&nbsp;</td>' if selector else ''}<td colspan="2">{footer}</td></tr>
</table></div></form>"""


def x3_text_row(key: int, text: str, *, counts: tuple[str, int] | None, polloptionid: int | None = None,
                kind: str = "radio") -> str:
    """One option of a text poll: its label row, then (results shown) its counts row."""
    vote = (f'<td class="pslt"><input class="pr" type="{kind}" id="option_{key}" name="pollanswers[]" '
            f'value="{polloptionid}" onclick="$(\'pollsubmit\').disabled = false" /></td>') if polloptionid else ""
    row_class = "" if counts else ' class="ptl"'  # the template's {if $visiblepoll} class="ptl"
    head = (f'<tr{row_class}>{vote}<td class="pvt"><label for="option_{key}">{key}. '
            f'&nbsp;{text}</label></td><td class="pvts"></td></tr>')
    if counts is None:
        return head
    pad = "<td>&nbsp;</td>" if polloptionid else ""
    return head + (f'<tr>{pad}<td><div class="pbg"><div class="pbr" style="width: 8px; background-color:#E92725">'
                   f'</div></div></td><td>{counts[0]}% <em style="color:#E92725">({counts[1]})</em></td></tr>')


def image_cell(polloptionid: int, key: int, text: str, *, aid: int | None, counts: tuple[int, str] | None) -> str:
    """One option cell of an X3 image poll (the member may vote: the input is there)."""
    if aid:
        picture = (f'<a href="javascript:;" title="p{aid}.jpg"><img id="aimg_{aid}" aid="{aid}" '
                   f'src="data/attachment/forum/202611/20/p{aid}.jpg.thumb.jpg" width="130px" '
                   f'onclick="zoom(this, this.getAttribute(\'zoomfile\'), 0, 0, \'0\')" '
                   f'zoomfile="data/attachment/forum/202611/20/p{aid}.jpg" alt="p{aid}.jpg" title="p{aid}.jpg" '
                   f'w="800" /></a>')
    else:
        picture = '<a href="javascript:;" title=""><div class="nophoto"></div></a>'
    shown = (f'<div class="imgf imgf2"><span class="jdt" style="width: 40%; background-color:#E92725">&nbsp;</span>'
             f'<p class="imgfc"><span class="z">{counts[0]}票</span><span class="y">{counts[1]}% </span></p></div>'
             ) if counts else ""
    return (f'<td valign="bottom" id="polloption_{polloptionid}" width="25%"><div class="polltd cl">{picture}'
            f'<p class="mtn mbn xi2"><label><input class="pr" type="radio" id="option_{key}" name="pollanswers[]" '
            f'value="{polloptionid}" onclick="$(\'pollsubmit\').disabled = false" /></label>\n{text}\n</p>'
            f'{shown}</div></td>')


def test_image_poll_options_carry_their_picture_aid_and_counts():
    cells = (image_cell(31, 1, "恐龙灯", aid=501, counts=(6, "66.67"))
             + image_cell(32, 2, "盐神灯", aid=502, counts=(3, "33.33"))
             + image_cell(33, 3, "没有图的选项", aid=None, counts=(0, "0")) + '<td width="25%"></td>')
    page = read_box(x3_form("<strong>单选投票</strong>, 共有 9 人参与投票",
                            f"<tr>{cells}</tr>", selector=True, footer='<button class="pn" type="submit" '
                            'disabled="disabled" name="pollsubmit" id="pollsubmit" value="true"><span>提交</span>'
                            '</button>'))
    poll = page.polls[0]
    assert poll.is_image is True and poll.status == "ok"
    assert [(o.position, o.polloptionid, o.text, o.votes, o.percent, o.image_aid) for o in poll.options] == [
        (1, 31, "恐龙灯", 6, 66.67, 501), (2, 32, "盐神灯", 3, 33.33, 502), (3, 33, "没有图的选项", 0, 0.0, None)]
    # The full picture (zoomfile), not the thumbnail.
    assert poll.options[0].image_url == "http://bbs.test/data/attachment/forum/202611/20/p501.jpg"
    assert poll.options[2].image_url is None
    assert poll.multiple is False and poll.max_choices == 1 and poll.voters == 9
    assert poll.results_visible is True
    assert poll.voters_public is False  # counts shown, no 查看投票参与人, no overt note
    assert page.threads[0].special == "poll"


def test_image_poll_with_hidden_results_has_no_counts():
    cells = (image_cell(41, 1, "甲", aid=601, counts=None) + image_cell(42, 2, "乙", aid=602, counts=None))
    poll = read_box(x3_form("<strong>单选投票</strong> , 投票后结果可见, 共有 4 人参与投票",
                            f"<tr>{cells}</tr>", selector=True, footer="提交")).polls[0]
    assert [(o.polloptionid, o.text, o.votes, o.percent) for o in poll.options] == [
        (41, "甲", None, None), (42, "乙", None, None)]
    assert poll.results_visible is False and poll.status == "ok"


def test_hidden_results_leave_votes_unknown_not_zero():
    rows = "".join(x3_text_row(k, t, counts=None, polloptionid=i)
                   for k, t, i in ((1, "赞成", 81), (2, "反对", 82), (3, "无所谓 3.5%", 83)))
    page = read_box(x3_form("<strong>单选投票</strong> , 投票后结果可见, 共有 3 人参与投票", rows, selector=True,
                            footer='<button class="pn" type="submit" name="pollsubmit" id="pollsubmit" value="true">'
                                   '<span>提交</span></button> (此为公开投票，其他人可看到您的投票项目)'))
    poll = page.polls[0]
    assert [(o.polloptionid, o.text, o.votes, o.percent) for o in poll.options] == [
        (81, "赞成", None, None), (82, "反对", None, None), (83, "无所谓 3.5%", None, None)]
    assert poll.results_visible is False
    assert poll.voters == 3 and poll.multiple is False
    assert poll.voters_public is True  # 此为公开投票 beside the vote button
    assert poll.status == "ok" and poll.missing == []


def test_running_poll_resolves_its_end_from_the_countdown_and_the_capture_time():
    rows = x3_text_row(1, "去", counts=("100.00", 2)) + x3_text_row(2, "不去", counts=("0.00", 0))
    timer = ('<p class="ptmr">距结束还有:\n<strong>\n2 天\n3 小时\n15 分钟\n</strong></p>')
    poll = read_box(x3_form("<strong>多选投票</strong>: ( 最多可选 2 项 ), 共有 2 人参与投票", rows,
                            timer=timer)).polls[0]
    assert poll.is_expired is False
    assert poll.expires_at_text == "2 天 3 小时 15 分钟"
    assert poll.expires_at == NOW + timedelta(days=2, hours=3, minutes=15)
    assert poll.expires_at.utcoffset() == timedelta(hours=8)  # in the site's zone
    assert poll.multiple is True and poll.max_choices == 2
    assert [(o.text, o.votes, o.percent) for o in poll.options] == [("去", 2, 100.0), ("不去", 0, 0.0)]


def test_countdown_without_a_capture_time_is_kept_as_text_and_marked_partial():
    rows = x3_text_row(1, "去", counts=("100.00", 2))
    poll = read_box(x3_form("<strong>单选投票</strong>, 共有 2 人参与投票", rows,
                            timer='<p class="ptmr">距结束还有: <strong>45 分钟</strong></p>'), now=None).polls[0]
    assert poll.expires_at is None and poll.expires_at_text == "45 分钟" and poll.is_expired is False
    assert poll.status == "partial" and poll.missing == ["expires_at"]


def test_traditional_labels_in_an_x3_box():
    rows = x3_text_row(1, "選項一", counts=("60.00", 3)) + x3_text_row(2, "選項二", counts=("40.00", 2))
    timer = '<p class="ptmr">距結束還有: <strong>1 天 2 小時 3 分鐘</strong></p>'
    poll = read_box(x3_form("<strong>多選投票</strong>: ( 最多可選 3 項 ), 共有 4 人參與投票\n"
                            '<a href="forum.php?mod=misc&amp;action=viewvote&amp;tid=7">查看投票參與人</a>',
                            rows, timer=timer)).polls[0]
    assert poll.multiple is True and poll.max_choices == 3 and poll.voters == 4
    assert poll.expires_at == NOW + timedelta(days=1, hours=2, minutes=3) and poll.is_expired is False
    assert poll.voters_public is True
    assert [(o.text, o.votes) for o in poll.options] == [("選項一", 3), ("選項二", 2)]


def x7_form(info: str, rows: str, *, timer: str = "", footer: str = "您所在的用户组没有投票权限",
            selector: bool = False) -> str:
    """7.0 viewthread_poll.htm around the given info line, countdown and option rows."""
    return f"""<form id="poll" name="poll" method="post"
 action="misc.php?action=votepoll&amp;fid=3&amp;tid=7&amp;pollsubmit=yes&amp;quickforward=yes">
<input type="hidden" name="formhash" value="9296a852" />
<div class="pollinfo">{info}</div>
{timer}
<div class="pollchart"><table summary="poll panel" cellspacing="0" cellpadding="0" width="100%">{rows}<tr>
{'<td class="selector">&nbsp;</td>' if selector else ''}<td colspan="2">{footer}</td></tr></table></div></form>"""


def x7_row(key: int, text: str, *, counts: tuple[str, int] | None, polloptionid: int | None = None,
           kind: str = "checkbox") -> str:
    """One 7.0 option: its label row (key printed 1-based), then its counts row or, results hidden, an <hr>."""
    vote = (f'<td class="selector"><input class="checkbox" type="{kind}" id="option_{key}" name="pollanswers[]" '
            f'value="{polloptionid}" onclick="checkbox(this)" /></td>') if polloptionid else ""
    head = (f'<tr>{vote}<td class="polloption vote"><label for="option_{key}">{key + 1}. &nbsp;{text}</label></td>'
            '<td class="optionvotes"></td></tr>')
    if counts is None:
        return head + f'<tr><td colspan="{3 if polloptionid else 2}"><hr class="solidline" /></td></tr>'
    pad = "<td>&nbsp;</td>" if polloptionid else ""
    return head + (f'<tr>{pad}<td class="optionvessel"><div class="optionbg"><div class="polloptionbar pollcolor3" '
                   f'style="width: 302px;"></div></div></td><td>{counts[0]}% <em class="pollvote3">({counts[1]})</em>'
                   '</td></tr>')


def test_7x_hidden_results_multiple_choice_with_countdown():
    rows = "".join(x7_row(k, t, counts=None, polloptionid=i) for k, t, i in ((0, "王城公园", 6), (1, "国花园", 7)))
    timer = '<p class="polltimer">距结束还有:\n<strong>\n1 天\n\n5 分钟\n</strong>\n</p>'
    poll = read_box(x7_form("<strong>多选投票</strong>: ( 最多可选 2 项 ) , 投票后结果可见, 共有 4 人参与投票", rows,
                            timer=timer, selector=True, footer='<button class="submit" type="submit" '
                            'disabled="disabled" name="pollsubmit" id="pollsubmit" value="true">提交</button>'),
                    family=FAMILY_7X).polls[0]
    assert [(o.position, o.polloptionid, o.text, o.votes, o.percent) for o in poll.options] == [
        (1, 6, "王城公园", None, None), (2, 7, "国花园", None, None)]
    assert poll.results_visible is False
    assert poll.multiple is True and poll.max_choices == 2 and poll.voters == 4
    assert poll.expires_at == NOW + timedelta(days=1, minutes=5) and poll.is_expired is False
    assert poll.voters_public is False  # the vote button shows without 此为公开投票
    assert poll.status == "ok"


def test_7x_traditional_expired_single_choice_with_voter_list():
    rows = x7_row(0, "牡丹燕菜", counts=("75.00", 3)) + x7_row(1, "連湯肉片", counts=("25.00", 1))
    poll = read_box(x7_form('<strong>單選投票</strong>, 共有 4 人參與投票\n<a href="misc.php?action=viewvote&amp;tid=7" '
                            'onclick="floatwin(\'open_viewvote\', this.href, 600, 310);doane(event);">查看投票參與人</a>',
                            rows, timer='<p class="polltimer"><strong>投票已經結束</strong></p>',
                            footer="該投票已經關閉或者過期，不能投票"), family=FAMILY_7X).polls[0]
    assert [(o.text, o.votes, o.percent) for o in poll.options] == [("牡丹燕菜", 3, 75.0), ("連湯肉片", 1, 25.0)]
    assert poll.multiple is False and poll.max_choices == 1 and poll.voters == 4
    assert poll.is_expired is True and poll.expires_at is None
    assert poll.results_visible is True and poll.voters_public is True


def test_7x_multiple_choice_without_the_limit_label_takes_max_obj_from_the_script():
    rows = x7_row(0, "甲", counts=("50.00", 1), polloptionid=3) + x7_row(1, "乙", counts=("50.00", 1), polloptionid=4)
    script = '<script type="text/javascript">\nvar max_obj = 3;\nvar p = 0;\n</script>\n'
    poll = read_box(x7_form("<strong>多选投票</strong>, 共有 2 人参与投票", rows, selector=True, footer="提交"),
                    family=FAMILY_7X, before=script).polls[0]
    assert poll.multiple is True and poll.max_choices == 3
    assert [o.polloptionid for o in poll.options] == [3, 4]


def test_touch_poll_box_reads_counts_beside_each_label():
    box = """<div class="poll cl"><form id="poll" name="poll" method="post"
 action="forum.php?mod=misc&amp;action=votepoll&amp;fid=3&amp;tid=7&amp;pollsubmit=yes&amp;mobile=2">
<div class="poll_txt">单选投票, 共有 5 人参与投票</div>
<div class="poll_txt">投票已经结束</div>
<div class="poll_box">
<p><label for="option_1">1.北街燃面</label><em style="color:#E92725" class="y">80.00% (4票)</em></p><hr class="l">
<p><label for="option_2">2.冷吃兔</label><em style="color:#F27B21" class="y">20.00% (1票)</em></p><hr class="l">
<span class="xi1">该投票已经关闭或者过期，不能投票</span></div></form></div>"""
    poll = read_box(box).polls[0]
    assert [(o.text, o.votes, o.percent) for o in poll.options] == [("北街燃面", 4, 80.0), ("冷吃兔", 1, 20.0)]
    assert poll.voters == 5 and poll.multiple is False and poll.is_expired is True


def test_box_without_its_info_line_is_kept_partial():
    rows = x3_text_row(1, "甲", counts=("50.00", 1)) + x3_text_row(2, "乙", counts=("50.00", 1))
    box = f"""<form id="poll" name="poll"><div class="pcht"><table>{rows}</table></div></form>"""
    page = read_box(box)
    poll = page.polls[0]
    assert [(o.text, o.votes) for o in poll.options] == [("甲", 1), ("乙", 1)]
    assert poll.status == "partial" and poll.missing == ["multiple", "voters"]
    assert page.threads[0].special == "poll"


def test_box_whose_options_cannot_be_read_is_kept_partial_not_dropped():
    poll = read_box(x3_form("<strong>单选投票</strong>, 共有 2 人参与投票", "<tr><td>??</td></tr>")).polls[0]
    assert poll.options == [] and poll.voters == 2
    assert poll.status == "partial" and poll.missing == ["options"]


def test_theme_without_the_form_id_is_found_in_the_first_post():
    rows = x3_text_row(1, "甲", counts=("100.00", 2))
    box = x3_form("<strong>单选投票</strong>, 共有 2 人参与投票", rows).replace('id="poll" name="poll"', "")
    poll = read_box(box).polls[0]
    assert [(o.text, o.votes) for o in poll.options] == [("甲", 2)] and poll.voters == 2


def test_thread_page_without_a_poll_yields_none():
    page = read_box("")
    assert page.polls == [] and page.threads[0].special is None


def test_poll_read_through_parse_page_on_an_x3_thread_page():
    rows = x3_text_row(1, "燃面", counts=("75.00", 3)) + x3_text_row(2, "冷吃兔", counts=("25.00", 1))
    box = x3_form("<strong>单选投票</strong>, 共有 4 人参与投票", rows,
                  timer='<p class="ptmr">距结束还有: <strong>3 小时 0 分钟</strong></p>')
    html = f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="generator" content="Discuz! X3.5" /></head><body>
<script type="text/javascript">var fid = parseInt('3'), tid = parseInt('7');</script>
<div id="pt"><a href="forum.php">论坛</a><a href="forum.php?mod=forumdisplay&amp;fid=3">测试版块</a></div>
<div id="postlist"><table><tr><td class="plc"><h1 class="ts"><span id="thread_subject">吃什么</span></h1></td></tr></table>
<div id="post_70"><table id="pid70" class="plhin" summary="pid70"><tr>
<td class="pls" rowspan="2"><div id="favatar70" class="pls favatar"><div class="pi"><div class="authi">
<a href="home.php?mod=space&amp;uid=5" class="xw1">作者甲</a></div></div></div></td>
<td class="plc"><div class="pi"><strong><a href="forum.php?mod=viewthread&amp;tid=7" id="postnum70">楼主</a></strong>
<div class="pti"><div class="authi"><em id="authorposton70">发表于 2026-11-20 09:00:00</em></div></div></div>
<div class="pct"><div class="pcb"><div class="pcbs"><table cellspacing="0" cellpadding="0"><tr>
<td class="t_f" id="postmessage_70">大家来投票</td></tr></table>
<script type="text/javascript">
</script>
{box}</div></div></div></td></tr></table></div></div></body></html>"""
    page = parse_page(BASE, html.encode("utf-8"), date_header="Wed, 25 Nov 2026 03:55:10 GMT")
    assert page.kind == KIND_VIEWTHREAD and "poll" not in page.missing
    [poll] = page.polls
    assert poll.tid == 7 and [(o.text, o.votes) for o in poll.options] == [("燃面", 3), ("冷吃兔", 1)]
    assert poll.expires_at == NOW + timedelta(hours=3)
    assert "投票" not in page.posts[0].content_text.replace("大家来投票", "")  # the box is not post text
    assert next(t for t in page.threads if t.tid == 7).special == "poll"


@pytest.mark.parametrize("shown, ended", [("2026-12-01 22:00", False), ("2026-11-24 00:00", True)])
def test_explicit_end_time_of_a_theme_is_parsed_and_compared_with_the_capture_time(shown, ended):
    rows = x3_text_row(1, "甲", counts=("100.00", 2))
    poll = read_box(x3_form("<strong>单选投票</strong>, 共有 2 人参与投票", rows,
                            timer=f'<p class="ptmr">结束时间: {shown}</p>')).polls[0]
    assert poll.expires_at_text == shown
    assert poll.expires_at == datetime.fromisoformat(shown).replace(tzinfo=CST)
    assert poll.is_expired is ended


def test_counts_printed_beside_the_option_text_in_the_same_row_are_read():
    rows = ('<tr><td class="pvt"><label for="option_1">1. &nbsp;甲</label></td><td class="pvts">60.00% <em>(3)</em>'
            '</td></tr><tr><td class="pvt"><label for="option_2">2. &nbsp;乙</label></td><td class="pvts">40.00% '
            '<em>(2)</em></td></tr>')
    poll = read_box(x3_form("<strong>单选投票</strong>, 共有 5 人参与投票", rows)).polls[0]
    assert [(o.text, o.votes, o.percent) for o in poll.options] == [("甲", 3, 60.0), ("乙", 2, 40.0)]
    assert poll.results_visible is True and poll.status == "ok"
