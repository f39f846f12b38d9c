"""The thread's tags (div.ptg) -> page.thread_tags.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

Tags are printed under the opening post only, so only the page that shows it (page 1) carries them.

X2.5–X3.5 (``forum/viewthread_node_body.htm``)::

    div.ptg  <a title="NAME" href="misc.php?mod=tag&id=N">NAME</a>, <a …>…</a>  [<span>related keywords</span>]

7.x (``viewthread_node.htm``, in ``div#threadtitle`` of the first post)::

    div.threadtags  <a href="tag.php?name=URLENCODED">NAME</a>, …  [<span class="postkeywords">…</span>]

Rewritten sites spell the links ``tag-NAME.html`` (7.x ``.htaccess``) or, with a plugin or theme, ``tag-N.html`` /
``tag/N``; the name is the link's text either way. The related keywords beside them are not tags.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

from lxml import etree

from ..digits import as_int
from ..items import ParsedPage, ThreadTag
from .common import has_class
from .content import text_of, tidy_text
from .extras import ThreadContext


# The tag box of the opening post (X div.ptg, 7.x div.threadtags), and its links (not the keywords' span).
_TAG_BOXES = etree.XPath(f"descendant::div[{has_class('ptg')} or {has_class('threadtags')}]")
_BOX_LINKS = etree.XPath("descendant::a[@href][not(ancestor::span)]")
# Themes that drop the box's class still link the tag pages; never from inside the message or a quote.
_TAG_LINKS = etree.XPath(
    "descendant::a[contains(@href, 'mod=tag') or contains(@href, 'tag.php?name=')]"
    "[not(ancestor::*[starts-with(@id, 'postmessage_')])][not(ancestor::blockquote)]")
# A tag page: X misc.php?mod=tag&id=N, 7.x tag.php?name=X, rewritten tag-X.html / tag/N.
_TAG_HREF = re.compile(r"mod=tag\b|tag\.php\?|(?:^|/)tag[-/]", re.I)
_TAG_ID = re.compile(r"mod=tag(?:&amp;|&)(?:.*?&)?id=(\d+)|(?:^|/)tag[-/](\d+)(?:\.html?)?(?:$|[?#])", re.I)
_TAG_NAME_PARAM = re.compile(r"tag\.php\?(?:.*?&)?name=([^&#]+)|(?:^|/)tag-([^/?#]+?)\.html?", re.I)


def read_tags(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Append the opening post's tags (in the order shown) to ``page.thread_tags`` as :class:`ThreadTag` items."""
    first_pid = ctx.first_pid(page)
    container = ctx.posts.get(first_pid) if first_pid is not None else None
    if container is None or page.tid is None:
        return
    # The box's classes, the links' hrefs: a first post without them has no tags to walk for.
    classes = ctx.boxes(page, first_pid).classes  # the divs' classes
    boxes = _TAG_BOXES(container) if "ptg" in classes or "threadtags" in classes else []
    links = [a for box in boxes for a in _BOX_LINKS(box) if _TAG_HREF.search(a.get("href"))]
    if not links and (ctx.hrefs_hold(page, root, first_pid, "mod=tag")
                      or ctx.hrefs_hold(page, root, first_pid, "tag.php?name=")):
        links = _TAG_LINKS(container)
    seen = {tag.tagname for tag in page.thread_tags if tag.tid == page.tid}
    for link in links:
        href = link.get("href") or ""
        name = tidy_text(text_of(link)) or (link.get("title") or "").strip() or _name_in_href(href)
        if not name or name in seen:
            continue
        seen.add(name)
        m = _TAG_ID.search(href)
        tagid = as_int(m.group(1) or m.group(2)) if m else None
        page.thread_tags.append(ThreadTag(tid=page.tid, tagname=name, tagid=tagid))


def _name_in_href(href: str) -> str | None:
    """The tag name a 7.x link spells (``tag.php?name=%E5%9C%B0%E9%93%81``), for a link without text."""
    m = _TAG_NAME_PARAM.search(href)
    if not m:
        return None
    raw = (m.group(1) or m.group(2)).replace("+", " ")
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:  # 7.x urlencodes in the page's charset: a GBK site's name is not UTF-8
        return None
    return name.strip() or None
