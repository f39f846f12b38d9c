"""The activity box (活动) -> page.activities.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

Where the box is (always in the opening post, so only on page 1):

* X2.5–X3.5 (``forum/viewthread_activity.htm``): ``div.act > div.spi`` holds ``dl`` lists of ``dt`` label /
  ``dd`` value: 活动类型 (``dd/strong``), 开始时间 (``FROM`` or ``FROM 至 TO 商定``; a past start may be a
  relative ``span[title]``), 活动地点, 性别, 每人花销 (only when the activity costs something), 已报名人数
  (``em``: approved + pending, ``$allapplynum``), 剩余名额 (only when places are limited: places − approved),
  报名截止 (only when set). Under the message, ``div#applylist_TID`` ``h2`` 已通过 (N 人) (N = approved) and a
  second block 暂未通过 (M 人) list applicants in ``table.dt`` rows: profile link, 留言, 每人花销, 申请时间
  (``span[title]`` exact).
* 7.x (``viewthread_activity_info.htm`` + ``viewthread_activity.htm``): ``div.activity_info`` table rows
  ``th``/``td``: the class as ``th/strong``, 开始时间, 活动地点, 每人花销 (always), 性别, 征集截止日期; after the
  message a ``table.formtable`` with 已报名人数 (approved only) and 剩余名额 in ``td.actnum``; then ``h4.avt_title``
  最新参加会员 (approved; 最新报名会员, pending, only for the thread's author) over ``ul.avt_list`` whose ``li``
  link the applicants and whose hover box ``#aplayuidUID_menu`` holds 留言, payment and the time.
"""
from __future__ import annotations

import re

from lxml import etree

from ..digits import as_int
from ..items import BOX_PARTIAL, SPECIAL_ACTIVITY, Activity, ActivityApplicant, ParsedPage
from ..urls import uid_from_href
from .common import by_id, class_holds, has_class
from .content import image_url, text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .extras import ThreadContext
from .labels import label_re, simplified
from .numbers import parse_int

# The box, searched for inside the opening post's container only, in one walk (the cheap substring test
# first): X div.act with a div.spi, 7.x div.activity_info.
_BOX = etree.XPath("descendant::div[contains(@class, 'act')]"
                   f"[{has_class('act')}"
                   f" and div[{has_class('spi')}]"
                   f" or {has_class('activity_info')}]")
_X_CLASS = re.compile(r"(?:^|\s)act(?:\s|$)")
# X: the dt/dd pairs of every dl of div.spi; 7.x: the th/td rows of its tables.
_X_TERMS = etree.XPath(f"div[{has_class('spi')}]/dl/dt")
_X_PICTURE = etree.XPath(f"div[{has_class('spvimg')}]/descendant::img")
_ROWS = etree.XPath("descendant::tr[th]")
# X applicant lists: a block with an h2 over a table.dt, next to the activity box (same div.pcbs).
_X_LISTS = etree.XPath(f"../div[h2][table[{has_class('dt')}]]")
_X_LIST_ROWS = etree.XPath("table/tr[td]")
_X_LIST_HEADS = etree.XPath("table/tr[th][1]/th")
# 7.x: the counts table and the applicant lists follow the box inside the post's message block.
_7X_COUNT_ROWS = etree.XPath(f"../descendant::table[{has_class('formtable')}]"
                             f"/descendant::tr[th][td[{has_class('actnum')}]]")
_7X_LIST_HEADS = etree.XPath(f"../descendant::h4[{has_class('avt_title')}]")
_7X_LIST_ITEMS = etree.XPath("following-sibling::ul[1]/li")
_PROFILE_LINKS = etree.XPath("descendant::a[@href]")
_TITLED = etree.XPath("descendant-or-self::span[@title]")
_STRONG = etree.XPath("descendant::strong")
_PARAGRAPHS = etree.XPath("descendant::p")

_LABEL_END = re.compile(r"[\s:：]+$")
_HEADING_COUNT = re.compile(r"[(（]\s*(\d+)")
# The start time: "FROM" or "FROM 至 TO 商定" (activity_start_between).
_RANGE_SEPARATOR = label_re("至")
_AGREED = label_re("商定")
_UID_IN_ID = re.compile(r"^aplayuid(\d+)$")
_PAYMENT = re.compile(r"^(?:\d+\s*\S{0,2}|" + label_re("自付").pattern + r")$")
_TIME_LIKE = re.compile(r"\d{1,4}[-/年]\d{1,2}|\d{1,2}:\d{2}|前|刚|剛")

# Labels, in simplified characters (labels are looked up after :func:`simplified`), -> what they give.
_FIELDS = {
    "活动类型": "class", "开始时间": "time", "活动时间": "time", "活动地点": "place", "性别": "gender",
    "每人花销": "cost", "活动花销": "cost", "已报名人数": "applied", "已参加人数": "applied",
    "剩余名额": "remaining", "报名截止": "expires", "征集截止日期": "expires",
}
# The applicant lists' headings: approved (X 已通过, 7.x 最新参加会员) or awaiting approval (X 暂未通过, 7.x 最新报名会员).
_APPROVED = ("已通过", "最新参加会员")
_PENDING = ("暂未通过", "最新报名会员")


def _box(container: etree._Element) -> list:
    """What :data:`_BOX` finds, by a walk that stops only at divs, their class tested in Python (the XPath tests
    every div of the post, its message included)."""
    boxes = []
    for div in container.iter("div"):
        if div is not container and "act" in div.get("class", "") and (
                class_holds(div, "act") and any(class_holds(child, "spi") for child in div.iterchildren("div"))
                or class_holds(div, "activity_info")):
            boxes.append(div)
    return boxes


def read_activities(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Find the activity box in the opening post of a thread page; append an :class:`Activity` to
    ``page.activities`` and mark the thread ``special = "activity"``. Pages without the box are left alone."""
    for pid, container in ctx.opening_posts(page):
        # The box is div.act holding div.spi, or div.activity_info: a post whose classes name neither has none.
        classes = ctx.boxes(page, pid).classes  # of the post's divs and tds
        box = _box(container) if "spi" in classes or "activity_info" in classes else []
        if not box:
            continue
        if _X_CLASS.search(box[0].get("class", "")):
            activity = _read_x(box[0], ctx)
        else:
            activity = _read_7x(box[0], root, ctx)
        page.activities.append(activity)
        thread = ctx.thread(page)
        if thread is not None:
            thread.special = SPECIAL_ACTIVITY
        return


# -- X -----------------------------------------------------------------------------------------------
def _read_x(box: etree._Element, ctx: ThreadContext) -> Activity:
    activity = Activity(tid=ctx.tid or 0)
    values: dict[str, etree._Element] = {}
    for dt in _X_TERMS(box):
        dd = dt.getnext()
        name = _FIELDS.get(_label(dt))
        if name and dd is not None and dd.tag == "dd":
            values.setdefault(name, dd)
    _fill(activity, values, ctx)
    pictures = _X_PICTURE(box)
    if pictures:
        activity.image_url = image_url(pictures[0], ctx.url)
    # Stock X prints 每人花销 only when the activity costs something and 剩余名额 only when places are limited.
    if "cost" not in values:
        activity.cost = 0
    if "remaining" not in values and "applied" in values:
        activity.number = 0
    approved = pending = None
    for block in _X_LISTS(box):
        heading = simplified(tidy_text(text_of(block.find("h2"))))
        verified = True if heading.startswith(_APPROVED) else False if heading.startswith(_PENDING) else None
        if verified is None:
            continue
        count = _HEADING_COUNT.search(heading)
        if count:
            if verified:
                approved = as_int(count.group(1))
            else:
                pending = as_int(count.group(1))
        activity.applicant_list += _x_applicants(block, verified, activity.tid, ctx)
    # 已报名人数 counts approved and pending applicants alike (thread_activity.php: $allapplynum); each list's
    # heading counts its own, and a list is shown whenever it has anyone in it.
    applied = activity.applicants
    activity.pending = pending if pending is not None else (0 if applied is not None else None)
    if approved is not None:
        activity.applicants = approved
    elif applied is not None:
        activity.applicants = applied - (pending or 0)
    _places(activity)
    _check(activity)
    return activity


def _x_applicants(block: etree._Element, verified: bool, tid: int, ctx: ThreadContext) -> list[ActivityApplicant]:
    """One applicant per ``table.dt`` row: profile link, 留言, (每人花销), 申请时间 (columns found by their heads)."""
    heads = [simplified(tidy_text(text_of(th))) for th in _X_LIST_HEADS(block)]
    message_col = next((i for i, head in enumerate(heads) if head.startswith("留言")), 1)
    time_col = next((i for i, head in enumerate(heads) if head.startswith("申请时间")), len(heads) - 1 if heads else 3)
    out = []
    for row in _X_LIST_ROWS(block):
        cells = row.findall("td")
        if not cells:
            continue
        applicant = _applicant_from_links(cells[0], tid)
        if applicant is None:
            continue
        applicant.verified = verified
        if message_col < len(cells):
            applicant.message = tidy_text(text_of(cells[message_col])) or None
        if 0 < time_col < len(cells):
            _applied_at(applicant, cells[time_col], ctx)
        out.append(applicant)
    return out


# -- 7.x ---------------------------------------------------------------------------------------------
def _read_7x(box: etree._Element, root: etree._Element, ctx: ThreadContext) -> Activity:
    activity = Activity(tid=ctx.tid or 0)
    values: dict[str, etree._Element] = {}
    for row in _ROWS(box):
        th, td = row.find("th"), row.find("td")
        strong = _STRONG(th)
        if strong and not values.get("class") and not _FIELDS.get(_label(th)):
            values["class"] = th  # the first row: the class itself, bold, in place of a label
            continue
        name = _FIELDS.get(_label(th))
        if name and td is not None:
            values.setdefault(name, td)
    for row in _7X_COUNT_ROWS(box):
        name = _FIELDS.get(_label(row.find("th")))
        if name:
            values.setdefault(name, row.find("td"))
    _fill(activity, values, ctx)
    if "remaining" not in values and "applied" in values:
        activity.number = 0  # 剩余名额 is shown only when places are limited
    for heading in _7X_LIST_HEADS(box):
        label = simplified(tidy_text(text_of(heading)))
        verified = True if label.startswith(_APPROVED) else False if label.startswith(_PENDING) else None
        if verified is None:
            continue
        for li in _7X_LIST_ITEMS(heading):
            applicant = _applicant_from_links(li, activity.tid)
            if applicant is None:
                continue
            applicant.verified = verified
            _7x_hover_box(applicant, li, root, ctx)
            activity.applicant_list.append(applicant)
    _places(activity)
    _check(activity)
    return activity


def _7x_hover_box(applicant: ActivityApplicant, li: etree._Element, root: etree._Element,
                  ctx: ThreadContext) -> None:
    """留言 and 申请时间 from the applicant's hover box (``div#aplayuidUID_menu``: [联系方式,] 留言, payment, time)."""
    m = _UID_IN_ID.match(li.get("id") or "")
    menus = by_id(root, f"aplayuid{m.group(1)}_menu") if m else []
    if not menus:
        return
    lines = [p for p in _PARAGRAPHS(menus[0]) if not p.findall("a")]
    texts = [tidy_text(text_of(p)) for p in lines]
    paid = next((i for i, text in enumerate(texts) if _PAYMENT.match(text)), None)
    if paid is None:
        return
    if paid >= 1:
        applicant.message = texts[paid - 1] or None
    if paid + 1 < len(lines) and _TIME_LIKE.search(texts[paid + 1]):
        _applied_at(applicant, lines[paid + 1], ctx)


# -- both --------------------------------------------------------------------------------------------
def _fill(activity: Activity, values: dict[str, etree._Element], ctx: ThreadContext) -> None:
    """The box's values, by the field their labels name."""
    if "class" in values:
        strong = _STRONG(values["class"])
        activity.class_name = tidy_text(text_of(strong[0] if strong else values["class"])) or None
    if "time" in values:
        _times(activity, values["time"], ctx)
    if "place" in values:
        activity.place = tidy_text(text_of(values["place"])) or None
    if "gender" in values:
        activity.gender = tidy_text(text_of(values["gender"])) or None
    if "cost" in values:
        activity.cost = parse_int(text_of(values["cost"]))
    if "applied" in values:
        activity.applicants = parse_int(text_of(values["applied"]))
    if "remaining" in values:
        activity.remaining = parse_int(text_of(values["remaining"]))
    if "expires" in values:
        shown, exact = _shown_and_exact(values["expires"])
        activity.expires_at_text = shown or None
        activity.expires_at = parse_discuz_time(shown, exact if exact != shown else None, now=ctx.now,
                                                tz=ctx.tz or DEFAULT_TZ) if shown else None


def _times(activity: Activity, cell: etree._Element, ctx: ThreadContext) -> None:
    """开始时间: ``FROM`` alone, or ``FROM 至 TO 商定``; each may be relative with its exact time in a title."""
    shown, exact = _shown_and_exact(cell)
    activity.time_text = shown or None
    shown_parts = _RANGE_SEPARATOR.split(_AGREED.sub("", shown), maxsplit=1)
    exact_parts = _RANGE_SEPARATOR.split(_AGREED.sub("", exact), maxsplit=1)
    if len(exact_parts) != len(shown_parts):
        exact_parts = shown_parts
    stamps = []
    for text, title in zip(shown_parts, exact_parts):
        text, title = text.strip(), title.strip()
        stamps.append((text or None, parse_discuz_time(text, title if title != text else None, now=ctx.now,
                                                       tz=ctx.tz or DEFAULT_TZ) if text else None))
    activity.starts_at_text, activity.starts_at = stamps[0]
    if len(stamps) > 1:
        activity.ends_at_text, activity.ends_at = stamps[1]


def _places(activity: Activity) -> None:
    """Places: 剩余名额 is places − approved (0 when full: then the number of places is not known)."""
    if activity.remaining and activity.applicants is not None:
        activity.number = activity.remaining + activity.applicants


def _check(activity: Activity) -> None:
    missing = [name for name, value in (("class_name", activity.class_name), ("starts_at", activity.starts_at),
                                        ("place", activity.place), ("applicants", activity.applicants))
               if value is None]
    if missing:
        activity.status = BOX_PARTIAL
        activity.missing = missing


def _label(el: etree._Element | None) -> str:
    """A ``dt``/``th`` label in simplified characters, without its colon."""
    if el is None:
        return ""
    return _LABEL_END.sub("", simplified(tidy_text(text_of(el))))


def _shown_and_exact(el: etree._Element) -> tuple[str, str]:
    """The text ``el`` shows, and the same text with each relative time replaced by its ``span[title]``."""
    shown = tidy_text(text_of(el))
    exact = shown
    for span in _TITLED(el):
        relative, title = tidy_text(text_of(span)), (span.get("title") or "").strip()
        if relative and title and relative in exact:
            exact = exact.replace(relative, title, 1)
    return shown, exact


def _applicant_from_links(cell: etree._Element, tid: int) -> ActivityApplicant | None:
    """The applicant a row or ``li`` links to: the first profile link with a name (the other is the avatar)."""
    uid = name = None
    for a in _PROFILE_LINKS(cell):
        found = uid_from_href(a.get("href"))
        if found is None:
            continue
        uid = uid or found
        text = tidy_text(text_of(a))
        if text:
            name = text
            break
    return ActivityApplicant(tid=tid, uid=uid, username=name) if uid is not None or name else None


def _applied_at(applicant: ActivityApplicant, cell: etree._Element, ctx: ThreadContext) -> None:
    shown, exact = _shown_and_exact(cell)
    if shown:
        applicant.applied_at_text = shown
        applicant.applied_at = parse_discuz_time(shown, exact if exact != shown else None, now=ctx.now,
                                                 tz=ctx.tz or DEFAULT_TZ)


__all__ = ["read_activities"]
