"""The rate log under each post (评分) -> page.ratings, Post.rate_count / rate_totals.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

What the templates print, and where this reader finds it (lookups in the page's id index, then narrow
XPaths within the box found):

* **X2–X3.5, rate log table** (``viewthread_node_body.htm``, ``ratelogon`` on): ``dl#ratelog_PID.rate`` >
  ``table.ratl``. Header row: ``参与人数 N`` (X2.0: ``有 N 人评分``), one ``th`` per credit with its total
  (``威望 <i><span>+3</span></i>``; X2.0 prints the name only and the totals in ``p.ratc`` below, ``总评分: 威望 + 3``),
  then the 理由 column. One ``tr#rate_PID_UID`` per rater: name (uid link), one cell per credit (`` + 15``,
  ``-8`` or empty), the reason.
* **X, hover list** (``ratelogon`` off): ``dl#ratelog_PID`` > ``dt strong`` (the raters' count) and ``li`` >
  ``p#rate_PID_UID[tip]``, the tip holding ``<strong>reason</strong> <em>威望 + 3 点</em><span>金钱 -8 枚</span>``.
* **7.x** (``viewthread_node.htm``): ``dl.newrate`` around ``div#post_rate_PID``: ``dt strong`` = 评分次数, one ``li``
  per rater with a hidden box ``div#rate_PID_UID_menu > p.cornerlayger`` (``reason &nbsp;&nbsp; <em>威望 + 5 点</em>``;
  7.0 prints a negative score as bare text, 7.2 in a ``span``); 7.2 with ``ratelogon`` lists
  ``li#rate_PID_UID.ratelistavatar``: avatar, ``name:``, reason, then the scores.
* **5.5/6.x** (``viewthread.htm``): ``fieldset`` whose ``legend`` links ``action=viewratings``: one ``li`` per
  forum_ratelog row, ``<cite>name</cite> 威望 <strong>+5</strong> <em>reason</em> 2008-5-1 10:00``: the only
  generation that shows when a rating was given.

Discuz shows only the last ``ratelogrecord`` raters (X sums each rater's scores per credit and keeps their latest
reason); what is shown is kept, and ``Post.rate_count`` says how many raters there are. One :class:`Rating` comes
out per rater and credit with a score shown. ``Post.rate_totals`` holds the per-credit totals only where the page
prints them (X); 7.x and the hover list print none, and a sum of the rows shown would miss the raters not listed.
"""
from __future__ import annotations

import re

from lxml import etree, html as lxml_html

from ..digits import as_int
from ..items import ParsedPage, Post, Rating
from ..urls import uid_from_href
from .content import text_of, tidy_text
from .dates import DEFAULT_TZ, parse_discuz_time
from .extras import ThreadContext
from .labels import label_re
from .numbers import parse_int

# X: the table of ratelogon, or the hover list (dt + li); 7.x: dl.newrate around div#post_rate_PID.
_RATE_TABLE = etree.XPath("descendant::table[contains(concat(' ', normalize-space(@class), ' '), ' ratl ')]")
_TABLE_ROWS = etree.XPath("./tr | ./tbody/tr | ./thead/tr")
_HEADER_CELLS = etree.XPath("./th")
_ROW_CELLS = etree.XPath("./td")
_TOTALS_LINE = etree.XPath("descendant::p[contains(concat(' ', normalize-space(@class), ' '), ' ratc ')]")
_TOTALS_ITEMS = etree.XPath("./span")
_COUNT = etree.XPath("descendant::dt[1]/descendant::strong[1]")
_RATER_ITEMS = etree.XPath("descendant::li")
_NAMED_LINKS = etree.XPath("descendant::a[normalize-space(.) != '']")
_ENCLOSING_DL = etree.XPath("ancestor::dl[1]")
_TIP = etree.XPath("descendant::*[@tip][1]")
_HOVER_BOX = etree.XPath("descendant::div[contains(@id, '_menu') or contains(@class, 'attach_popup')]"
                         "/p[not(contains(@class, 'minicorner'))][1]")
_SCORE_ELEMENTS = etree.XPath("./em | ./span")
_IDS = etree.XPath("descendant-or-self::*[starts-with(@id, 'rate_')]/@id")
# 5.5/6.x: <fieldset><legend><a href="misc.php?action=viewratings&tid=T&pid=P">本帖最近评分记录</a></legend><ul><li>…
_LEGACY_FIELDSET = etree.XPath("descendant::fieldset[legend/a[contains(@href, 'viewratings')]]")
_LEGACY_ROWS = etree.XPath("descendant::li")

_RATER_ID = re.compile(r"^rate_(\d+)_(\d+)")
_SIGNED_NUMBER = re.compile(r"([+-])?\s*(\d+)")
# One shown score: the whole cell (`` + 15``, ``-8``, ``0``), nothing else in it.
_SCORE_CELL = re.compile(r"^([+-])?\s*(\d+)$")
# A header cell: the credit's name, then its total (``威望 +3``; X2.0: the name alone).
_CREDIT_HEADER = re.compile(r"^(?P<name>.*?)\s*(?:(?P<sign>[+-])?\s*(?P<num>\d+))?$")
_REASON_LABEL = label_re("理由")
_SPACES = re.compile(r"[\s\u00a0\u3000]+")
# 7.x: "reason &nbsp;&nbsp; <scores>"; the two no-break spaces part the reason from the scores.
_REASON_SEPARATOR = "\u00a0\u00a0"
# Units credits are usually counted in (extcredits' unit), to part "点金钱" into unit and name.
_UNITS = frozenset("点點枚个個元分颗顆张張块塊两兩朵根片克斤条條粒")
# What _rate_box answers for a post with neither X's nor 7.x's marks.
_NO_IDS = etree.Element("none")


def read_ratings(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Read every post's rate log on ``page`` into ``page.ratings`` and the post's ``rate_count``/``rate_totals``.

    In: the parsed page (posts read), the page's tree, the context (``ctx.posts``: pid -> container). Out: nothing;
    ``page.ratings`` gains one :class:`Rating` per rater and credit shown, in page order. A rate log whose rows
    cannot all be read keeps what was read and names the rest in ``page.missing`` (``rating.score`` …).
    """
    for pid, container in ctx.posts.items():
        post = ctx.post(page, pid)
        tid = post.tid if post is not None else ctx.tid
        box = _rate_box(root, container, pid, ctx)
        if box is None or box is _NO_IDS:
            # 5.5/6.x print no ids around their rate log (X and 7.x mark a post without one: post_rate_div_PID).
            legacy = _LEGACY_FIELDSET(container) \
                if box is _NO_IDS and ctx.hrefs_hold(page, root, pid, "viewratings") else []
            if legacy:
                _read_legacy(page, legacy[0], pid, tid, ctx)
            continue
        table = _RATE_TABLE(box)
        if table:
            _read_table(page, box, table[0], pid, tid, post)
        else:
            _read_list(page, box, pid, tid, post)


def _rate_box(root: etree._Element, container: etree._Element, pid: int, ctx: ThreadContext):
    """The post's rate log: X ``dl#ratelog_PID``, else the ``dl`` around 7.x's ``div#post_rate_PID``; ``None``
    when the post has none (its ``div#post_rate_div_PID`` says so), :data:`_NO_IDS` when the page has neither
    mark (5.5/6.x)."""
    box = ctx.element(root, container, f"ratelog_{pid}")
    if box is not None:
        return box
    if ctx.element(root, container, f"post_rate_div_{pid}") is not None:
        return None
    marker = ctx.element(root, container, f"post_rate_{pid}")
    if marker is None:
        return _NO_IDS
    dl = _ENCLOSING_DL(marker)
    return dl[0] if dl else marker.getparent()  # a theme that drops the dl: the list around the marker


# ---- X: table.ratl -------------------------------------------------------------------------------------------
def _read_table(page: ParsedPage, box: etree._Element, table: etree._Element, pid: int, tid: int | None,
                post: Post | None) -> None:
    rows = _TABLE_ROWS(table)
    header = next((row for row in rows if _HEADER_CELLS(row)), None)
    if header is None:
        _missing(page, "rating.credit")
        return
    heads = _HEADER_CELLS(header)
    has_reason = len(heads) > 1 and bool(_REASON_LABEL.search(text_of(heads[-1])))
    credit_heads = heads[1:-1] if has_reason else heads[1:]
    credits: list[str | None] = []
    totals: dict[str, int] = {}
    for th in credit_heads:
        m = _CREDIT_HEADER.match(_clean(text_of(th)))
        name = m.group("name") if m and m.group("name") else None
        credits.append(name)
        if name and m.group("num") is not None:
            totals[name] = _signed(m.group("sign"), m.group("num"))
    if not totals:  # X2.0 prints the totals under the table: 总评分: 威望 + 3 金钱 + 10
        for line in _TOTALS_LINE(box):
            for span in _TOTALS_ITEMS(line):
                for name, score in _scores(_clean(text_of(span)))[1]:
                    totals[name] = score
    if post is not None:
        post.rate_count = parse_int(text_of(heads[0]))
        post.rate_totals = totals
    for row in rows:
        cells = _ROW_CELLS(row)
        if row is header or not cells:
            continue
        uid, username = _rater(row, pid, cells[0])
        if username is None:
            _missing(page, "rating.username")
        reason = _clean(text_of(cells[1 + len(credits)])) if has_reason and len(cells) > 1 + len(credits) else ""
        if len(cells) < 1 + len(credits):
            _missing(page, "rating.score")
        for credit, cell in zip(credits, cells[1:1 + len(credits)]):
            shown = _clean(text_of(cell))
            if not shown:
                continue  # this rater gave nothing in this credit
            m = _SCORE_CELL.match(shown)
            if m is None or credit is None:
                _missing(page, "rating.score" if m is None else "rating.credit")
                continue
            page.ratings.append(Rating(pid=pid, tid=tid, uid=uid, username=username, credit=credit,
                                       score=_signed(m.group(1), m.group(2)), reason=reason or None))


# ---- X hover list, 7.x ----------------------------------------------------------------------------------------
def _read_list(page: ParsedPage, box: etree._Element, pid: int, tid: int | None, post: Post | None) -> None:
    count = _COUNT(box)
    if post is not None:
        post.rate_count = parse_int(text_of(count[0])) if count else None
    for li in _RATER_ITEMS(box):
        uid, username = _rater(li, pid)
        reason, scores = _list_scores(li)
        if not scores and uid is None and username is None:
            continue  # not a rater (a theme's spacer)
        if username is None:
            _missing(page, "rating.username")
        if not scores:
            _missing(page, "rating.score")
        for credit, score in scores:
            page.ratings.append(Rating(pid=pid, tid=tid, uid=uid, username=username, credit=credit, score=score,
                                       reason=reason or None))


def _list_scores(li: etree._Element) -> tuple[str, list[tuple[str, int]]]:
    """A listed rater's reason and scores, from X's ``tip``, 7.x's hover box or 7.2's ratelist row."""
    tip = _TIP(li)
    if tip:
        box = lxml_html.fragment_fromstring(tip[0].get("tip", ""), create_parent="div")
        strong = box.find("strong")
        reason = _clean(text_of(strong)) if strong is not None else ""
        if strong is not None:
            strong.getparent().remove(strong)  # what is left is the scores (the strong's tail goes with it: &nbsp;)
        return reason, _scores(_clean(" ".join(box.itertext())))[1]
    hover = _HOVER_BOX(li)
    if hover:
        return _reason_then_scores(" ".join(hover[0].itertext()))
    if _RATER_ID.match(li.get("id", "")):
        # 7.2 ratelist: <a>avatar</a><a>name:</a> reason <em>威望 + 5 点</em> <span>金钱 -3 枚</span>
        links = _NAMED_LINKS(li)
        reason = _clean(links[-1].tail or "") if links else ""
        items = " ".join(text_of(el) + " " + (el.tail or "") for el in _SCORE_ELEMENTS(li))
        return reason, _scores(_clean(items))[1]
    return "", []


def _reason_then_scores(text: str) -> tuple[str, list[tuple[str, int]]]:
    """``reason &nbsp;&nbsp; 威望 + 5 点 金钱 -3 枚`` -> the reason and the scores."""
    if _REASON_SEPARATOR in text:
        reason, rest = text.split(_REASON_SEPARATOR, 1)
        return _clean(reason), _scores(_clean(rest))[1]
    lead, scores = _scores(_clean(text))
    return lead, scores


# ---- 5.5/6.x: one li per ratelog row, with its time -----------------------------------------------------------
def _read_legacy(page: ParsedPage, fieldset: etree._Element, pid: int, tid: int | None, ctx: ThreadContext) -> None:
    for li in _LEGACY_ROWS(fieldset):
        cite = li.find("cite")
        score_el = li.find("strong")
        m = _SCORE_CELL.match(_clean(text_of(score_el))) if score_el is not None else None
        if m is None:
            _missing(page, "rating.score")
            continue
        link = cite.find(".//a") if cite is not None else None
        username = _clean(text_of(cite)) if cite is not None else ""
        uid = uid_from_href(link.get("href")) if link is not None else None
        credit = _clean(cite.tail or "") if cite is not None else ""
        reason_el = li.find("em")
        reason = _clean(text_of(reason_el)) if reason_el is not None else ""
        when = _clean((reason_el if reason_el is not None else score_el).tail or "")
        if not credit:
            _missing(page, "rating.credit")
        if not username:
            _missing(page, "rating.username")
        page.ratings.append(Rating(
            pid=pid, tid=tid, uid=uid, username=username or None, credit=credit or None,
            score=_signed(m.group(1), m.group(2)), reason=reason or None,
            rated_at=parse_discuz_time(when, now=ctx.now, tz=ctx.tz or DEFAULT_TZ) if when else None,
            rated_at_text=when or None))


# ---- shared -----------------------------------------------------------------------------------------------------
def _rater(row: etree._Element, pid: int, names: etree._Element | None = None) -> tuple[int | None, str | None]:
    """The rater's uid (``rate_PID_UID`` id, else the space link) and name (the last named link in ``names``,
    default ``row``; 7.2's ``name:`` trimmed)."""
    uid = None
    for element_id in _IDS(row):
        m = _RATER_ID.match(element_id)
        if m and as_int(m.group(1)) == pid:
            uid = as_int(m.group(2))
            break
    links = _NAMED_LINKS(row if names is None else names)
    name = _clean(text_of(links[-1])).rstrip(":：").strip() if links else ""
    if uid is None and links:
        uid = uid_from_href(links[-1].get("href"))
    return uid, name or None


def _scores(text: str) -> tuple[str, list[tuple[str, int]]]:
    """``威望 + 5 点 金钱 -3 枚`` -> (the text before the first credit name, [(威望, 5), (金钱, -3)]).

    Each score is ``name sign number [unit]``. 7.0 prints a negative score as bare text right after the previous
    one's unit (``威望 -2 点金钱 -3 枚``): a token between two numbers is ``unit name``, parted at a space, else
    at its first character when that is a usual one-character unit (点, 枚, 元 …) and a name follows.
    """
    numbers = list(_SIGNED_NUMBER.finditer(text))
    numbers = [m for m in numbers if m.group(1) or _after_name(text, m)]
    if not numbers:
        return text, []
    out: list[tuple[str, int]] = []
    lead_tokens = text[:numbers[0].start()].split()
    if not lead_tokens:
        return text, []
    name = lead_tokens[-1]
    lead = " ".join(lead_tokens[:-1])
    for i, m in enumerate(numbers):
        out.append((name, _signed(m.group(1), m.group(2))))
        if i + 1 < len(numbers):
            between = text[m.end():numbers[i + 1].start()].split()
            if len(between) >= 2:
                name = between[-1]
            elif between:
                token = between[0]
                name = token[1:] if len(token) >= 3 and token[0] in _UNITS else token
            else:
                break
    return lead, out


def _after_name(text: str, m: re.Match) -> bool:
    """An unsigned number counts as a score only right after a name (``威望 5``), not inside one."""
    before = text[:m.start()]
    return bool(before) and before[-1] in " \u00a0" and bool(before.strip())


def _signed(sign: str | None, number: str) -> int | None:
    value = as_int(number)
    return -value if value is not None and sign == "-" else value


def _clean(text: str) -> str:
    return tidy_text(_SPACES.sub(" ", text))


def _missing(page: ParsedPage, name: str) -> None:
    if name not in page.missing:
        page.missing.append(name)


__all__ = ["read_ratings"]
