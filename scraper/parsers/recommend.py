"""支持/反对 counts (#recommend_add / #recommend_subtract) -> Thread.recommend_add / recommend_sub.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

X2–X3.5 print the thread's 帖子推荐 counts under the opening post when ``recommendthread`` is on
(``forum/viewthread_node.htm``, ``viewthread_album.htm``)::

    <a id="recommend_add" href="forum.php?mod=misc&action=recommend&do=add&tid=T…"><i>…支持
        <span id="recommendv_add"[ style="display:none"]>22</span></i></a>
    <a id="recommend_subtract" …>…反对<span id="recommendv_subtract"[ style="display:none"]>3</span></a>

The span is hidden exactly when the count is 0 (``{if !$_G['forum_thread']['recommend_add']} style="display:none"``),
so a hidden span is a count of 0, not an absent one. The labels (支持/反对) are the site's ``addtext`` /
``subtracttext`` settings: only the ids are read. A side whose text is switched off has no link: its count stays
``None``, as on pages that do not show the box (later pages, recommendthread off, a viewer not allowed to
recommend).

7.x has no 帖子推荐 (its ``modrecommend`` is the moderators' list of recommended threads, which shows no count):
nothing is read there.
"""
from __future__ import annotations

import re

from lxml import etree

from ..digits import as_int
from ..items import ParsedPage
from .content import text_of
from .extras import ThreadContext

_IDS = "recommendv_add recommend_add recommendv_subtract recommend_subtract"
_DIGITS = re.compile(r"[-+]?\d[\d,]*")
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)


def read_recommend(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Set the page's thread item's ``recommend_add`` / ``recommend_sub`` from the counts the page shows."""
    thread = ctx.thread(page)
    if thread is None:
        return
    # The four ids, looked up with the page's other ids in one call (an XPath call costs more than its look-ups).
    found = {name: el for name in _IDS.split() if (el := ctx.by_id(root, name)) is not None}
    add = _count(found, "recommendv_add", "recommend_add")
    sub = _count(found, "recommendv_subtract", "recommend_subtract")
    if add is not None:
        thread.recommend_add = add
    if sub is not None:
        thread.recommend_sub = sub


def _count(found: dict[str, etree._Element], span_id: str, link_id: str) -> int | None:
    """The count in ``span#span_id`` (0 when hidden), else the figure in the text of ``a#link_id`` (themes that
    drop the span), else ``None``; ``found`` maps each id to the element the page's index holds for it."""
    span = found.get(span_id)
    if span is not None:
        if _HIDDEN.search(span.get("style") or ""):
            return 0
        m = _DIGITS.search(text_of(span))
        return as_int(m.group(0).replace(",", "")) if m else None
    link = found.get(link_id)
    if link is not None:
        m = _DIGITS.search(text_of(link))
        if m:
            return as_int(m.group(0).replace(",", ""))
    return None
