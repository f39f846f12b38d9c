"""The debate box (辩论, ``forum_thread.special`` 5) and each reply's stand -> ``page.debates``, ``page.debate_posts``.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

The box sits in the opening post (page 1 only); every reply on every page carries its stand (正方 / 反方 / 中立)
and, for 正方 and 反方, its 支持 count. Discuz stores ``forum_debate`` (points, votes, debaters, umpire, end,
winner 1 正方 / 2 反方 / 3 平局, best debater, umpire point) and ``forum_debatepost.stand`` (0 中立, 1 正方, 2 反方).

X2.5–X3.5 (``forum/viewthread_debate.htm``, stands in ``viewthread_node.htm``)::

    div#umpirepoint (once the umpire gave a verdict): p.dbresult > label.winner_1|winner_2|winner_0 (正方获胜 /
        反方获胜 / 平局), em 评判时间: T; p.umpirepoint 裁判观点: …; p.bestdebater 最佳辩手: NAME
    p.dtm  结束时间: T 裁判: NAME
    div.ds   td.si_1 div.point > strong 正方观点 (N) + p POINT … td.si_2 (反方观点)
    div.dr   td.sr_1 h5 辩手:N + ul li a(home.php?mod=space&uid=U) NAME … td.sr_2   (not on archived threads)
    reply:   label.pdbts.pdbts_STAND > a.v(…&stand=STAND) 正方 + a.b#voterdebate_PID 支持 N   (中立: no 支持)

7.x (``viewthread_debate_umpire.htm`` + ``viewthread_debate.htm``, stands in ``viewthread_node.htm``)::

    p 结束时间: <strong>T</strong>, 裁判: <strong>NAME</strong>; div#umpirepoint as in X
    div.debatesquare  td.stand_1 div.point_chart label N … td.piont_info p POINT … td.stand_2 …
    div.debater       td.stand_1 h5 我要做正方辩手 辩手: N + div.debateuser a(space.php?uid=U)   (avatars only,
                      the last five replies' authors: names are taken from this page's posts where they are)
    reply:   span.debatevote.poststand_STAND > label a(…&stand=STAND) 正方 + span a#voterdebate_PID 支持我 N

Neither family prints the start time: Discuz sets ``forum_debate.starttime`` to the moment the thread is posted,
so ``starts_at`` is the opening post's time. ``is_ended`` is true once a verdict is shown, else the end time
against the page's time. ``winner`` is ``None`` while no verdict is shown (``forum_debate.winner`` 0).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from lxml import etree

from ..digits import as_int
from ..items import BOX_PARTIAL, SPECIAL_DEBATE, Debate, DebatePost, ParsedPage
from ..urls import uid_from_href
from .common import by_id_within, class_holds, has_class
from .content import text_of, tidy_text, to_text
from .dates import parse_discuz_time
from .extras import ThreadContext
from .labels import chars, label_re
from .numbers import parse_int

AFFIRM, NEGA, NEUTRAL, DRAW = "affirm", "nega", "neutral", "draw"
_STANDS = {"0": NEUTRAL, "1": AFFIRM, "2": NEGA}
# label.winner_N: 1 正方获胜, 2 反方获胜, anything else (3 in the database) 平局.
_WINNERS = {"1": AFFIRM, "2": NEGA, "0": DRAW, "3": DRAW}


_OUTSIDE_MESSAGE = "not(ancestor::td[starts-with(@id, 'postmessage_')])"
# The box, rooted at the opening post's container: X div.ds (the points table), 7.x div.debatesquare.
_X_POINTS = etree.XPath(f"descendant::div[{has_class('ds')}][descendant::td[{has_class('si_1')}]][1]")
_7X_POINTS = etree.XPath(f"descendant::div[{has_class('debatesquare')}][1]")
_X_DEBATERS = etree.XPath(f"descendant::div[{has_class('dr')}][1]")
_7X_DEBATERS = etree.XPath(f"descendant::div[{has_class('debater')}][1]")
# A td of one side by its class ($cls: si_1 / si_2, sr_1 / sr_2, stand_1 / stand_2).
_SIDE_TD = etree.XPath("descendant::td[contains(concat(' ', normalize-space(@class), ' '), concat(' ', $cls, ' '))][1]")
_X_POINT_DIV = etree.XPath(f"descendant::div[{has_class('point')}][1]")
_X_CHART_TITLE = etree.XPath(f"descendant::div[{has_class('chart')}]/@title")
_7X_VOTES = etree.XPath(f"descendant::div[{has_class('point_chart')}]/label[1]")
_7X_POINT = etree.XPath(f"following-sibling::td[1][{has_class('piont_info')}]/p[1]")
_HEADING = etree.XPath("descendant::h5[1]")
_X_DEBATER_ITEMS = etree.XPath("descendant::ul/li")
_LINKS = etree.XPath("descendant::a[@href]")
_7X_DEBATER_LINKS = etree.XPath(f"descendant::div[{has_class('debateuser')}]/descendant::a[@href]")
# The end / umpire line: X p.dtm, 7.x a bare p with strong; never inside the message, the verdict or a button row.
_END_LINES = etree.XPath(
    f"descendant::p[{_OUTSIDE_MESSAGE}][not(ancestor::*[@id='umpirepoint'])][not(descendant::button)]"
    f"[not(ancestor::td[{has_class('pls')} or {has_class('postauthor')}])]"
    f"[not(ancestor::div[{has_class('sign')} or {has_class('signatures')}])]"
    f"[contains(., ':') or contains(., '：')]")
_WINNER_LABELS = etree.XPath("descendant::label[starts-with(@class, 'winner_') or contains(@class, ' winner_')]")
_RESULT_LINE = etree.XPath(f"descendant::p[{has_class('dbresult')}][1]")
_UMPIRE_POINT = etree.XPath(f"descendant::p[{has_class('umpirepoint')}][1]")
_BEST_DEBATER = etree.XPath(f"descendant::p[{has_class('bestdebater')}][1]")
# A reply's stand: X label.pdbts (also used, without a stand link, for a rush reply's 抢楼 mark), 7.x span.debatevote.
_STAND_MARKS = etree.XPath(
    f"descendant::label[contains(@class, 'pdbts')] | descendant::span[{has_class('debatevote')}]")
# Where a theme drops those classes: the stand link itself (only looked for on a page known to be a debate's).
_STAND_LINKS = etree.XPath(f"descendant::a[contains(@href, 'stand=')][not(contains(@href, 'action=reply'))]"
                           f"[{_OUTSIDE_MESSAGE}]")
_VOTE_LINKS = etree.XPath("descendant::a[contains(@href, 'debatevote')]")

_END_TIME = re.compile(chars("结束时间") + r"\s*[:：]\s*(?P<time>.+?)\s*(?:[,，]|" + chars("裁判") + r"\s*[:：]|$)")
_UMPIRE = re.compile(chars("裁判") + r"\s*[:：]\s*(?P<name>.+?)\s*$")
_DEBATERS = re.compile(chars("辩手") + r"\s*[:：]\s*(\d+)")
_VOTES_IN_PARENS = re.compile(r"[(（]\s*(\d+)\s*[)）]")
_STAND_CLASS = re.compile(r"\b(?:pdbts|poststand)_(\d)\b")
_STAND_PARAM = re.compile(r"[?&;]stand=(\d)")
_WINNER_CLASS = re.compile(r"\bwinner_(\d)\b")
_LEADING_COLON = re.compile(r"^[\s:：]+")
_AFTER_COLON = re.compile(r"[:：]\s*(.+)$")
_AFFIRM_LABEL = label_re("正方")
_NEGA_LABEL = label_re("反方")
_NEUTRAL_LABEL = label_re("中立")
_DRAW_LABEL = label_re("平局")


def read_debates(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Read the debate box (opening post, page 1) into ``page.debates`` and every reply's stand on the page
    into ``page.debate_posts``; set the thread item's ``special`` to ``"debate"`` when either is there."""
    tid = page.tid if page.tid is not None else ctx.tid
    if tid is None:
        return
    first_pid = ctx.first_pid(page)
    container = ctx.posts.get(first_pid) if first_pid is not None else None
    # The box's classes (X td.si_1, 7.x div.debatesquare): a first post without them has no box to walk for.
    debate = _read_box(container, page, ctx, tid) if container is not None and any(
        word in ctx.boxes(page, first_pid).classes for word in ("si_1", "debatesquare")) else None
    thread = ctx.thread(page)

    def known() -> bool:
        # Only asked where no post has a stand mark by class: is this page a debate's all the same?
        # Every post's voterdebate_PID in one lookup of the page's index of ids.
        return debate is not None or (thread is not None and thread.special == SPECIAL_DEBATE) or any(
            ctx.by_id(root, f"voterdebate_{pid}") is not None for pid in ctx.posts)

    stands = _read_stands(page, root, ctx, tid, first_pid, known)
    if debate is not None:
        page.debates.append(debate)
    page.debate_posts.extend(stands)
    if (debate is not None or stands) and thread is not None:
        thread.special = SPECIAL_DEBATE


# ---- the box ---------------------------------------------------------------------------------------------

def _read_box(container: etree._Element, page: ParsedPage, ctx: ThreadContext, tid: int) -> Debate | None:
    """The :class:`Debate` in the opening post's ``container``, or ``None`` when it has no debate box."""
    x_points = _X_POINTS(container)
    points_7x = [] if x_points else _7X_POINTS(container)
    if not x_points and not points_7x:
        return None
    debate = Debate(tid=tid)
    missing = debate.missing
    if x_points:
        _read_x_points(x_points[0], debate)
        debaters = _X_DEBATERS(container)
        if debaters:
            _read_x_debaters(debaters[0], debate, missing)
    else:
        _read_7x_points(points_7x[0], debate)
        debaters = _7X_DEBATERS(container)
        if debaters:
            _read_7x_debaters(debaters[0], debate, page, missing)
    for name in ("affirm_point", "nega_point", "affirm_votes", "nega_votes"):
        if getattr(debate, name) is None:
            missing.append(name)

    tz_kwargs = {"tz": ctx.tz} if ctx.tz is not None else {}
    _read_end_line(container, debate, ctx, tz_kwargs)
    verdict = by_id_within(container, "umpirepoint")
    if verdict:
        _read_verdict(verdict[0], debate, ctx, tz_kwargs)
    if debate.umpire is not None and debate.umpire_uid is None:
        debate.umpire_uid = _uid_of_name(page, debate, debate.umpire)

    first = next((post for post in page.posts if post.is_first), None)
    if first is not None and isinstance(first.posted_at, datetime):
        # forum_debate.starttime is the posting time of the thread (newthread), which no template prints.
        debate.starts_at, debate.starts_at_text = first.posted_at, first.posted_at_text
    if debate.is_ended is None and debate.ends_at is not None and ctx.now is not None:
        debate.is_ended = debate.ends_at <= ctx.now
    if missing:
        debate.status = BOX_PARTIAL
    return debate


def _read_x_points(box: etree._Element, debate: Debate) -> None:
    """X ``div.ds``: each side's ``div.point`` (``strong`` 正方观点 (N), ``p`` the point), or the chart's title."""
    for side, cls in ((AFFIRM, "si_1"), (NEGA, "si_2")):
        tds = _SIDE_TD(box, cls=cls)
        if not tds:
            continue
        points = _X_POINT_DIV(tds[0])
        votes = point = None
        if points:
            strong = points[0].find("strong")
            if strong is not None:
                m = _VOTES_IN_PARENS.search(text_of(strong))
                votes = as_int(m.group(1)) if m else None
            paragraphs = points[0].findall("p")
            point = "\n".join(filter(None, (to_text(p) for p in paragraphs))) or None
        if votes is None:  # the chart beside it: title="正方 (11)"
            chart = _SIDE_TD(box, cls="sc_" + cls[-1])
            for title in _X_CHART_TITLE(chart[0]) if chart else ():
                m = _VOTES_IN_PARENS.search(title)
                if m:
                    votes = as_int(m.group(1))
        setattr(debate, f"{side}_votes", votes)
        setattr(debate, f"{side}_point", point)


def _read_7x_points(box: etree._Element, debate: Debate) -> None:
    """7.x ``div.debatesquare``: ``td.stand_N`` holds the votes (``div.point_chart > label``), the next
    ``td.piont_info`` the point."""
    for side, cls in ((AFFIRM, "stand_1"), (NEGA, "stand_2")):
        tds = _SIDE_TD(box, cls=cls)
        if not tds:
            continue
        labels = _7X_VOTES(tds[0])
        setattr(debate, f"{side}_votes", parse_int(text_of(labels[0])) if labels else None)
        points = _7X_POINT(tds[0])
        setattr(debate, f"{side}_point", (to_text(points[0]) or None) if points else None)


def _debater_sides(box: etree._Element, classes: tuple[str, str], debate: Debate, missing: list[str]):
    """Each side's cell of a debaters box (``td`` of class ``classes[0]`` for the affirmative, ``classes[1]`` for
    the negative), its ``h5`` 辩手: N read into ``debate``: yields ``(side, cell)``."""
    for side, cls in zip((AFFIRM, NEGA), classes):
        tds = _SIDE_TD(box, cls=cls)
        if not tds:
            continue
        count = _debater_count(tds[0])
        setattr(debate, f"{side}_debaters", count)
        if count is None:
            missing.append(f"{side}_debaters")
        yield side, tds[0]


def _read_x_debaters(box: etree._Element, debate: Debate, missing: list[str]) -> None:
    """X ``div.dr``: ``h5`` 辩手:N and the list of debaters (uid and name) of each side."""
    for side, cell in _debater_sides(box, ("sr_1", "sr_2"), debate, missing):
        people: dict[int, dict] = {}
        for item in _X_DEBATER_ITEMS(cell):
            for link in _LINKS(item):
                uid = uid_from_href(link.get("href"))
                if uid is None:
                    continue
                name = tidy_text(text_of(link)) or tidy_text(link.get("title") or "")
                person = people.setdefault(uid, {"uid": uid, "username": None})
                if name and not person["username"]:
                    person["username"] = name
        setattr(debate, f"{side}_debater_list", list(people.values()))


def _read_7x_debaters(box: etree._Element, debate: Debate, page: ParsedPage, missing: list[str]) -> None:
    """7.x ``div.debater``: ``h5`` 辩手: N and the avatars (uids) of the side's latest repliers; names from the
    page's posts by the same uid, where there are any."""
    names = {post.author_uid: post.author for post in page.posts if post.author_uid and post.author}
    for side, cell in _debater_sides(box, ("stand_1", "stand_2"), debate, missing):
        people: dict[int, dict] = {}
        for link in _7X_DEBATER_LINKS(cell):
            uid = uid_from_href(link.get("href"))
            if uid is not None and uid not in people:  # 7.x lists the last five replies: a debater may repeat
                people[uid] = {"uid": uid, "username": names.get(uid)}
        setattr(debate, f"{side}_debater_list", list(people.values()))


def _debater_count(td: etree._Element) -> int | None:
    headings = _HEADING(td)
    m = _DEBATERS.search(text_of(headings[0]) if headings else "")
    return as_int(m.group(1)) if m else None


def _read_end_line(container: etree._Element, debate: Debate, ctx: ThreadContext, tz_kwargs: dict) -> None:
    """结束时间: T [,] 裁判: NAME (X ``p.dtm``, 7.x a ``p`` with two ``strong``)."""
    for line in _END_LINES(container):
        text = tidy_text(text_of(line))
        end = _END_TIME.search(text)
        umpire = _UMPIRE.search(text)
        if not end and not umpire:
            continue
        if end:
            debate.ends_at_text = end.group("time")
            debate.ends_at = parse_discuz_time(debate.ends_at_text, now=ctx.now, **tz_kwargs)
            if debate.ends_at is None:
                debate.missing.append("ends_at")
        if umpire:
            debate.umpire = umpire.group("name")
        return


def _read_verdict(box: etree._Element, debate: Debate, ctx: ThreadContext, tz_kwargs: dict) -> None:
    """``div#umpirepoint``: the winner, the verdict's time (the end Discuz then records), the umpire's point and
    the best debater. Its presence means the debate is over."""
    debate.is_ended = True
    labels = _WINNER_LABELS(box)
    if labels:
        m = _WINNER_CLASS.search(labels[0].get("class") or "")
        winner = _WINNERS.get(m.group(1)) if m else None
        if winner is None:
            text = text_of(labels[0])
            winner = (DRAW if _DRAW_LABEL.search(text) else NEGA if _NEGA_LABEL.search(text)
                      else AFFIRM if _AFFIRM_LABEL.search(text) else None)
        debate.winner = winner
        if winner is None:
            debate.missing.append("winner")
    results = _RESULT_LINE(box)
    if results and debate.ends_at is None:
        em = results[0].find("em")
        m = _AFTER_COLON.search(tidy_text(text_of(em))) if em is not None else None
        if m:  # 评判时间: T
            debate.ends_at_text = m.group(1)
            debate.ends_at = parse_discuz_time(debate.ends_at_text, now=ctx.now, **tz_kwargs)
    debate.umpire_point = _after_label(_UMPIRE_POINT(box))
    debate.best_debater = _after_label(_BEST_DEBATER(box))


def _after_label(found: list) -> str | None:
    """The text of ``<p><strong>LABEL</strong>: TEXT</p>`` after the label."""
    if not found:
        return None
    p = found[0]
    strong = p.find("strong")
    text = to_text(p)
    if strong is not None:
        label = tidy_text(text_of(strong))
        if label and text.startswith(label):
            text = text[len(label):]
    return _LEADING_COLON.sub("", text).strip() or None


def _uid_of_name(page: ParsedPage, debate: Debate, name: str) -> int | None:
    """The uid of user ``name`` where this page links it: a post's author or a listed debater."""
    for post in page.posts:
        if post.author == name and post.author_uid:
            return post.author_uid
    for person in debate.affirm_debater_list + debate.nega_debater_list:
        if person.get("username") == name:
            return person["uid"]
    return None


# ---- every reply's stand -------------------------------------------------------------------------------

def _read_stands(page: ParsedPage, root: etree._Element, ctx: ThreadContext, tid: int, first_pid: int | None,
                 known: Callable[[], bool]) -> list[DebatePost]:
    """A :class:`DebatePost` for every reply on the page that shows a stand (the opening post has none).

    ``known()`` says whether the page is a debate's, for themes that drop the stand marks' classes."""
    out: list[DebatePost] = []
    is_debate: list[bool] = []  # known(), asked once
    # A stand link (_STAND_PARAM, _STAND_LINKS) is an a whose href holds stand=. Where no href of the page holds
    # it, no label mark has one, so only a span marked by its own class can be a reply's mark (_stand_of): the
    # replies' spans are all that is walked for.
    links = ctx.page_hrefs_hold(root, "stand=")
    for pid, container in ctx.posts.items():
        if pid == first_pid:
            continue
        facts = ctx.facts(page, pid) if links else None
        marks = facts.marks if facts is not None else _span_marks(container)
        stand = _stand_of(pid, container, tid, marks=marks) if marks else None
        if stand is None and facts is not None and "stand=" in facts.hrefs:  # _STAND_LINKS: an href with stand=
            if not is_debate:
                is_debate.append(known())
            if is_debate[0]:
                stand = _stand_of(pid, container, tid, by_link=True, marks=marks)
        if stand is not None:
            out.append(stand)
    return out


def _span_marks(container: etree._Element) -> list:
    """The spans among :func:`_stand_marks` of ``container`` (the container itself excepted), in order."""
    return [el for el in container.iter("span") if el is not container and "debatevote" in el.get("class", "")
            and class_holds(el, "debatevote")]


def _stand_marks(container: etree._Element) -> list:
    """What :data:`_STAND_MARKS` finds, by a walk that stops only at labels and spans (cheaper than the XPath's two
    walks testing their attributes)."""
    marks = []
    for el in container.iter("label", "span"):
        if el is not container and (class_holds(el, "debatevote") if el.tag == "span"
                                    else "pdbts" in el.get("class", "")):
            marks.append(el)
    return marks


def _stand_of(pid: int, container: etree._Element, tid: int, by_link: bool = False,
              marks: list | None = None) -> DebatePost | None:
    """The reply's stand; ``marks`` are :func:`_stand_marks` of ``container`` where the caller has them."""
    mark = link = None
    for candidate in _stand_marks(container) if marks is None else marks:
        links = [a for a in _LINKS(candidate) if _STAND_PARAM.search(a.get("href", ""))]
        if links or _STAND_CLASS.search(candidate.get("class") or "") and candidate.tag == "span":
            mark, link = candidate, (links[0] if links else None)
            break
    if mark is None and by_link:
        links = _STAND_LINKS(container)
        if links:
            mark, link = links[0].getparent(), links[0]
    if mark is None:
        return None
    stand = None
    m = _STAND_CLASS.search(mark.get("class") or "")
    if m:
        stand = _STANDS.get(m.group(1))
    if stand is None and link is not None:
        p = _STAND_PARAM.search(link.get("href", ""))
        stand = _STANDS.get(p.group(1)) if p else None
    shown = tidy_text(text_of(link)) if link is not None else None
    if stand is None:
        text = shown or text_of(mark)
        stand = (AFFIRM if _AFFIRM_LABEL.search(text) else NEGA if _NEGA_LABEL.search(text)
                 else NEUTRAL if _NEUTRAL_LABEL.search(text) else None)
    voters = None
    if stand in (AFFIRM, NEGA):
        # X "支持 5" inside the link, 7.x "支持我" in the link and the figure after it.
        votes = by_id_within(container, f"voterdebate_{pid}", ("a",)) or _VOTE_LINKS(mark)
        if votes:
            voters = parse_int(text_of(votes[0]) + (votes[0].tail or ""))
    return DebatePost(pid=pid, tid=tid, stand=stand, stand_text=shown or None, voters=voters)


__all__ = ["read_debates", "AFFIRM", "NEGA", "NEUTRAL", "DRAW"]
