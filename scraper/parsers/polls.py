"""The poll box (X2.5–X3.5 and touch ``viewthread_poll.htm``, 7.x ``viewthread_poll.htm``) -> ``page.polls``.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

The box Discuz renders above the first post's message of a poll thread (``forum_thread.special`` 1), on the
first page only::

    X3   form#poll > div.pinf (<strong>单选投票</strong> / <strong>多选投票</strong>: ( 最多可选 N 项 ),
                                [投票后结果可见,] 共有 N 人参与投票 [<a …action=viewvote>查看投票参与人</a>])
                   > p.ptmr (距结束还有: <strong>N 天 N 小时 N 分钟</strong> | <strong>投票已经结束</strong>)
                   > div.pcht table: per option a row [td.pslt input[value=polloptionid]] td.pvt label
                     "KEY. &nbsp;TEXT", then (results shown) a row "26.92% <em>(7)</em>";
                     image polls: one td#polloption_ID per option (img#aimg_AID[zoomfile], p "TEXT",
                     div.imgf "N票" "P%")
    7.x  form#poll > div.pollinfo, p.polltimer, div.pollchart (same rows, td.polloption, key printed 1-based;
                     results hidden: the second row holds an <hr> instead of the counts)
    touch          form#poll > div.poll_txt …, div.poll_box > p (input, label "KEY.TEXT", em "P% (N票)")

What comes out, per box: a :class:`~scraper.items.Poll` with its options in page order. Conventions:

* ``max_choices``: ``N`` of 最多可选 N 项; a single-choice poll is 1 (what it allows: Discuz stores 0 (X) or
  1 (7.x) in ``forum_poll.maxchoices`` for it); a multiple-choice poll without the label (no limit stored)
  falls back to the ``var max_obj = N`` the template prints before the form, else ``None``.
* ``results_visible``: whether this viewer saw the counts. When not (X ``visible`` off and the viewer has not
  voted: ``$visiblepoll``), every option's ``votes`` and ``percent`` are ``None``, never 0.
* expiry: 距结束还有 N 天 N 小时 N 分钟 gives ``expires_at = ctx.now + remaining`` (Discuz drops the seconds,
  so the real end is up to a minute later) and ``is_expired`` False; 投票已经结束 gives ``is_expired`` True
  (the end time is not shown); an explicit 结束时间 (themes) is parsed as is; a stock box with neither has no
  end (``forum_poll.expiration`` 0): ``is_expired`` False.
* ``voters_public``: True when the page links the voter list (查看投票参与人, ``action=viewvote``) or says
  此为公开投票; False where either would have shown (results shown, or the vote buttons shown) but does not;
  else ``None``. (Discuz also shows the link to admins and the poll's author: a member crawl as either may read
  True for a poll that is not overt.)
"""
from __future__ import annotations

import re
from datetime import timedelta

from lxml import etree

from ..digits import as_int
from ..items import BOX_PARTIAL, SPECIAL_POLL, ParsedPage, Poll, PollOption
from .common import has_class
from .content import image_url, text_of, tidy_text
from .dates import parse_discuz_time
from .extras import ThreadContext
from .labels import chars, label_re

# The box: form#poll through the id index (no walk of the page); themes that drop the id keep the form's
# name or its votepoll action, or the stock info/chart blocks, all inside the first post's container.
_POLL_BOX_IN_POST = etree.XPath(
    "(descendant::form[@name='poll' or contains(@action, 'action=votepoll')]"
    " | descendant::div[" + " or ".join(has_class(c) for c in ("pinf", "pcht", "pollinfo", "pollchart",
                                                                      "poll_box")) + "])[1]")
# The parts of the box that are not the options: info line, countdown, touch's poll_txt blocks.
_INFO_BLOCKS = etree.XPath(
    "descendant::*[" + " or ".join(has_class(c) for c in ("pinf", "pollinfo", "poll_txt", "ptmr",
                                                                    "polltimer")) + "]")
# Options: image polls' td#polloption_ID cells; else each option's label[for=option_KEY]; else the text cells
# (td.pvt X3, td.polloption 7.x) of a theme that dropped the labels.
_IMAGE_OPTIONS = etree.XPath("descendant::td[starts-with(@id, 'polloption_')]")
_OPTION_LABELS = etree.XPath("descendant::label[starts-with(@for, 'option_')]")
_OPTION_CELLS = etree.XPath("descendant::td[" + has_class("pvt") + " or "
                            + has_class("polloption") + "]")
_VOTE_INPUT = etree.XPath("descendant::input[@name='pollanswers[]']")
_VOTE_INPUT_BY_ID = etree.XPath("descendant::input[@id=$id]")
_ROW_COUNTS = etree.XPath("descendant::em | descendant::span[not(ancestor::label)]")
_IMAGE_TEXT = etree.XPath("descendant::p[not(ancestor::div[" + has_class("imgf") + "])]")
_IMAGE_COUNTS = etree.XPath("descendant::div[" + has_class("imgf") + "]")
_IMAGE = etree.XPath("descendant::img")
_VOTERS_LINK = etree.XPath("descendant::a[contains(@href, 'action=viewvote')]")
_SCRIPT_TEXT = etree.XPath("string()")

_POLLOPTION_ID = re.compile(r"^polloption_(\d+)$")
_AIMG_ID = re.compile(r"^aimg_(\d+)$")
_KEY_PREFIX = re.compile(r"^\s*(\d+)\s*\.\s*")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_VOTES_IN_PARENS = re.compile(r"\(\s*(\d+)")
_VOTES_WITH_UNIT = re.compile(r"(\d+)\s*" + chars("票"))
_FIRST_NUMBER = re.compile(r"\d+")
_MAX_OBJ = re.compile(r"\bmax_obj\s*=\s*(\d+)")

_MULTIPLE = label_re("多选")
_SINGLE = label_re("单选")
_MAX_CHOICES = re.compile(chars("最多可选") + r"\s*(\d+)\s*" + chars("项"))
# 共有 N 人参与投票: only 共有 N 人 is read, so that a pack's wording of 参与投票 (or a converter's 人蔘與) does not
# matter.
_VOTERS = re.compile(chars("共有") + r"\s*(\d[\d,]*)\s*" + chars("人"))
_AFTER_RESULT = label_re("投票后结果可见")
_ENDED = label_re("投票已经结束")
_VIEW_VOTERS = label_re("查看投票参与人")
_OVERT_NOTE = label_re("此为公开投票")  # poll_msg_overt, beside the vote button
_COUNTDOWN = re.compile(
    chars("距结束还有") + r"\s*[:：]?\s*(?P<text>(?:(?P<days>\d+)\s*" + chars("天") + r")?\s*(?:(?P<hours>\d+)\s*"
    + chars("小时") + r")?\s*(?:(?P<minutes>\d+)\s*" + chars("分钟") + r")?)")
_END_TIME = re.compile(r"(?:" + chars("结束时间") + "|" + chars("截止时间") + r")\s*[:：]?\s*(?P<text>\d{4}[^\n,，;；)）]*)")


def read_polls(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Find the poll box on a thread page and append its :class:`Poll` to ``page.polls``; mark the page's
    thread ``special = "poll"``. Pages without the box (later pages, other threads) are left alone."""
    box = _find_box(root, page, ctx)
    tid = page.tid if page.tid is not None else ctx.tid
    if box is None or tid is None:
        return
    poll = read_poll_box(box, tid, ctx)
    page.polls.append(poll)
    thread = ctx.thread(page)
    if thread is not None:
        thread.special = SPECIAL_POLL


def _find_box(root: etree._Element, page: ParsedPage, ctx: ThreadContext) -> etree._Element | None:
    """The poll form (or, in a theme without it, the element holding the info and chart blocks)."""
    el = ctx.by_id(root, "poll")  # form#poll, looked up with the page's other ids
    if el is not None and el.get("id") == "poll" and el.tag in ("form", "div"):
        return el
    first = ctx.first_pid(page)
    container = ctx.posts.get(first) if first is not None else None
    if container is None:
        return None
    # The form's name (poll) or action (votepoll), the blocks' div classes (pollinfo, pinf…): a post without such
    # a value has no box to walk for.
    facts = ctx.boxes(page, first)
    if not ("poll" in facts.forms or any(word in facts.classes for word in ("poll", "pinf", "pcht"))):
        return None
    for el in _POLL_BOX_IN_POST(container):
        if el.tag == "form":
            return el
        return el.getparent() if el.getparent() is not None else el
    return None


def read_poll_box(box: etree._Element, tid: int, ctx: ThreadContext) -> Poll:
    """Read one poll box (``form#poll`` or what stands for it) into a :class:`Poll`; never raises on odd markup:
    what it cannot read is listed in ``missing`` (``status = "partial"``)."""
    poll = Poll(tid=tid)
    image_cells = _IMAGE_OPTIONS(box)
    if image_cells:
        poll.is_image = True
        poll.options = [_image_option(cell, tid, position, ctx.url) for position, cell in enumerate(image_cells, 1)]
    else:
        poll.options = _text_options(box, tid)

    info_blocks = _INFO_BLOCKS(box)
    if info_blocks:
        frame = "\n".join(text_of(el) for el in info_blocks)
    else:
        # A theme without the stock blocks: the box's text with the options' own texts taken out.
        frame = text_of(box)
        for option in poll.options:
            if option.text:
                frame = frame.replace(option.text, " ")
    inputs = _VOTE_INPUT(box)
    _read_choice(poll, box, frame, inputs)
    m = _VOTERS.search(frame)
    poll.voters = as_int(m.group(1).replace(",", "")) if m else None
    _read_expiry(poll, frame, ctx, stock=bool(info_blocks))

    shown = [o for o in poll.options if o.votes is not None]
    if shown:
        poll.results_visible = True
    elif poll.options or _AFTER_RESULT.search(frame):
        poll.results_visible = False

    if _VOTERS_LINK(box) or _VIEW_VOTERS.search(frame) or _OVERT_NOTE.search(text_of(box)):
        poll.voters_public = True
    elif poll.results_visible or inputs:
        # The link shows whenever the counts do (and the overt note beside the vote button): neither here.
        poll.voters_public = False

    missing = poll.missing
    if not poll.options:
        missing.append("options")
    else:
        if any(not o.text for o in poll.options) and not poll.is_image:
            missing.append("options.text")
        if poll.results_visible and len(shown) < len(poll.options):
            missing.append("options.votes")
    if poll.multiple is None:
        missing.append("multiple")
    if poll.voters is None:
        missing.append("voters")
    if poll.expires_at_text and poll.expires_at is None:
        missing.append("expires_at")
    if missing:
        poll.status = BOX_PARTIAL
    return poll


def _text_options(box: etree._Element, tid: int) -> list[PollOption]:
    """Options of a text poll, in page order: one per ``label[for=option_KEY]`` (or text cell)."""
    labels = _OPTION_LABELS(box)
    cells = labels or _OPTION_CELLS(box)
    options = []
    for position, cell in enumerate(cells, 1):
        option = PollOption(tid=tid, position=position)
        option.text = _option_text(text_of(cell), position)
        row = _row_of(cell)
        if row is None:
            options.append(option)
            continue
        # The vote input of this option: in the option's own row (X3/7.x td.pslt / td.selector, touch p).
        for inp in _VOTE_INPUT(row):
            option.polloptionid = _int(inp.get("value"))
            break
        if option.polloptionid is None and cell.tag == "label" and cell.get("for"):
            for inp in _VOTE_INPUT_BY_ID(box, id=cell.get("for")):
                option.polloptionid = _int(inp.get("value"))
                break
        if row.tag == "tr":
            # Themes (and the reference's td.pvts) may print the counts beside the text, in the same row.
            own = cell if cell.tag == "td" else next(cell.iterancestors("td"), None)
            for td in row.iterchildren("td"):
                if td is not own and option.percent is None:
                    _read_counts(option, text_of(td))
            # The stock templates print them in the next row (26.92% <em>(7)</em>), unless results are hidden:
            # then the next row is an <hr> (7.x) or already the next option's (X3).
            counts = _next_row(row)
            if option.percent is None and counts is not None and not _OPTION_LABELS(counts):
                _read_counts(option, text_of(counts))
        else:
            # Touch and themes: the counts stand beside the label (<em>26.92% (7票)</em>).
            _read_counts(option, " ".join(text_of(el) for el in _ROW_COUNTS(row)))
        options.append(option)
    return options


def _image_option(cell: etree._Element, tid: int, position: int, base_url: str) -> PollOption:
    """An image poll's option cell (``td#polloption_ID``): picture, text, and counts when shown."""
    option = PollOption(tid=tid, position=position)
    m = _POLLOPTION_ID.match(cell.get("id", ""))
    option.polloptionid = as_int(m.group(1)) if m else None
    for img in _IMAGE(cell):
        option.image_url = image_url(img, base_url)
        aid = img.get("aid") or ""
        am = _AIMG_ID.match(img.get("id", ""))
        option.image_aid = as_int(aid) if aid.isdecimal() else (as_int(am.group(1)) if am else None)
        break
    for p in _IMAGE_TEXT(cell):
        option.text = _option_text(text_of(p), None)
        break
    if option.polloptionid is None:
        for inp in _VOTE_INPUT(cell):
            option.polloptionid = _int(inp.get("value"))
            break
    for counts in _IMAGE_COUNTS(cell):
        _read_counts(option, text_of(counts))
        break
    return option


def _option_text(text: str, position: int | None) -> str | None:
    """An option's text without the ``KEY. `` the template prints before it (its 1-based place)."""
    text = tidy_text(text)
    m = _KEY_PREFIX.match(text)
    if m and (position is None or as_int(m.group(1)) == position):
        text = text[m.end():].strip()
    return text or None


def _read_counts(option: PollOption, text: str) -> None:
    """``26.92% (7)`` / ``7票 26.92%`` -> votes and percent (left ``None`` when not shown).

    Every template prints the share beside the count (``0%`` / ``0.00%`` for none): text without a share is
    not a counts line (the vote button's row, a note), so nothing is read from it."""
    text = text.replace("\xa0", " ")
    pm = _PERCENT.search(text)
    if not pm:
        return
    option.percent = float(pm.group(1))
    text = text[:pm.start()] + " " + text[pm.end():]
    vm = _VOTES_IN_PARENS.search(text) or _VOTES_WITH_UNIT.search(text)
    if vm:
        option.votes = as_int(vm.group(1))
    else:
        first = _FIRST_NUMBER.search(text)
        option.votes = as_int(first.group(0)) if first else None


def _read_choice(poll: Poll, box: etree._Element, frame: str, inputs: list) -> None:
    """单选/多选 and 最多可选 N 项 (falling back to the vote inputs' type and the template's ``max_obj``)."""
    if _MULTIPLE.search(frame):
        poll.multiple = True
    elif _SINGLE.search(frame):
        poll.multiple = False
    elif inputs:
        poll.multiple = inputs[0].get("type", "").lower() == "checkbox"
    m = _MAX_CHOICES.search(frame)
    if m:
        poll.max_choices = as_int(m.group(1))
        poll.multiple = True if poll.multiple is None else poll.multiple
    elif poll.multiple is False:
        poll.max_choices = 1
    else:
        max_obj = _max_obj(box)
        if max_obj:
            poll.max_choices = max_obj
            if poll.multiple is None:
                poll.multiple = True


def _max_obj(box: etree._Element) -> int | None:
    """``var max_obj = N`` of the script the template prints just before the form (multiple choice only)."""
    sibling = box.getprevious()
    for _ in range(3):
        if sibling is None:
            return None
        if sibling.tag == "script":
            m = _MAX_OBJ.search(_SCRIPT_TEXT(sibling))
            if m:
                return as_int(m.group(1))
        sibling = sibling.getprevious()
    return None


def _read_expiry(poll: Poll, frame: str, ctx: ThreadContext, *, stock: bool) -> None:
    """距结束还有 … (relative to ``ctx.now``), an explicit 结束时间, or 投票已经结束."""
    m = _COUNTDOWN.search(frame)
    if m and any(m.group(k) for k in ("days", "hours", "minutes")):
        poll.expires_at_text = " ".join(m.group("text").split())
        poll.is_expired = False
        if ctx.now is not None:
            try:
                end = ctx.now + timedelta(days=as_int(m.group("days")) or 0, hours=as_int(m.group("hours")) or 0,
                                          minutes=as_int(m.group("minutes")) or 0)
            except OverflowError:  # a countdown past the calendar's end (a damaged page): no end time
                end = None
            if end is not None:
                poll.expires_at = (end.astimezone(ctx.tz) if ctx.tz is not None else end).replace(microsecond=0)
        return
    m = _END_TIME.search(frame)
    if m:
        poll.expires_at_text = " ".join(m.group("text").split())
        kwargs = {"tz": ctx.tz} if ctx.tz is not None else {}
        poll.expires_at = parse_discuz_time(poll.expires_at_text, now=ctx.now, **kwargs)
    if _ENDED.search(frame):
        poll.is_expired = True
    elif poll.expires_at is not None and ctx.now is not None:
        poll.is_expired = poll.expires_at <= ctx.now
    elif stock and not poll.expires_at_text:
        # The stock box shows one of the two whenever the poll has an end: none shown, none set.
        poll.is_expired = False


def _row_of(cell: etree._Element) -> etree._Element | None:
    """The row an option's label or cell stands in: its ``tr`` (X3, 7.x), else its ``p``/``li``/``div`` (touch)."""
    for ancestor in cell.iterancestors("tr", "p", "li", "div"):
        return ancestor
    return None


def _next_row(row: etree._Element) -> etree._Element | None:
    sibling = row.getnext()
    while sibling is not None and sibling.tag != "tr":
        sibling = sibling.getnext()
    return sibling


def _int(value: str | None) -> int | None:
    return as_int((value or "").strip())


__all__ = ["read_polls", "read_poll_box"]
