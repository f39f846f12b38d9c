"""The 点评 comments under each post -> page.post_comments, Post.comments_shown / comments_more.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

X2–X3.5 (``viewthread_node_body.htm``) render ``div#comment_PID.cm`` under every post: empty when the post has no
comment, else the 点评 heading, an optional ``div.pstl`` of star scores (``totalcomment``, no author), then up to
``commentnumber`` (default 5) comments, newest first, each a ``div.pstl``:

* X3.x: ``div.psta`` (avatar, then the author's uid link ``a.xw1``, or 游客 for a guest), ``div.psti``: the text
  (``[b]``/``[color]`` only, as ``b``/``font``), ``&nbsp;``, 详情/回复 links when the comment came from a reply
  (``rpid``), and ``span.xg1``: 发表于 TIME (``dgmdate(…, 'u')``: relative times in a ``span[title]``), IP and
  删除 for moderators;
* X2.0: the author link sits at the head of ``div.psti``, before the text, and the time is absolute.

More than ``commentnumber`` comments add a pager (``div.pgs a.nxt``, 下一页) that loads
``mod=misc&action=commentmore``. 7.x and older have no 点评: their posts carry no ``comment_PID`` block.
"""
from __future__ import annotations

import re

from lxml import etree

from ..items import ParsedPage, PostComment
from ..urls import uid_from_href
from .authors import is_member_link, stated_uid
from .common import has_class
from .content import tidy_text
from .dates import DEFAULT_TZ, clean_time_text, parse_discuz_time, posted_time_text
from .extras import ThreadContext

# A comment: a div.pstl with its text in div.psti (the star-score div.pstl has none).
_COMMENTS = etree.XPath(f"./div[{has_class('pstl')}][div[{has_class('psti')}]]")
_TEXT_BOX = etree.XPath(f"./div[{has_class('psti')}][1]")
_AUTHOR_BOX = etree.XPath(f"./div[{has_class('psta')}][1]")
# The author: the named uid link (X3 in div.psta, X2.0 at the head of div.psti).
_NAMED_LINKS = etree.XPath("descendant::a[normalize-space(.) != '']")
_TIME_BOX = etree.XPath(f"./span[{has_class('xg1')}][last()]")
_TIME_TITLE = etree.XPath("descendant::span[@title][1]/@title")
_TIME_SPAN = etree.XPath("descendant::span[@title][1]")
_IP = re.compile(r"\s*IP\s*[:：].*$")
_MORE = etree.XPath("descendant::a[contains(@onclick, 'commentmore') or contains(@href, 'commentmore')]")
_SPACES = re.compile(r"[\s\u00a0\u3000]+")


def read_comments(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Read the 点评 under every post on ``page`` into ``page.post_comments`` and each post's counts.

    In: the parsed page, its tree, the context (``ctx.posts``). Out: nothing; ``page.post_comments`` gains one
    :class:`PostComment` per comment shown (page order); a post with a ``comment_PID`` block gets
    ``comments_shown`` (0 for an empty block) and, when the block shows comments, ``comments_more`` (whether the
    commentmore pager is there). Posts without the block (7.x) keep ``None``.
    """
    tz = ctx.tz or DEFAULT_TZ
    for pid, container in ctx.posts.items():
        block = ctx.element(root, container, f"comment_{pid}", "div")
        if block is None:
            continue
        post = ctx.post(page, pid)
        tid = post.tid if post is not None else ctx.tid
        shown = 0
        for pstl in _COMMENTS(block) if len(block) else ():  # (X prints an empty block under every post)
            comment = _read_one(pstl, pid, tid, ctx, tz)
            if comment.author is None and comment.author_uid is None and "comment.author" not in page.missing:
                page.missing.append("comment.author")
            page.post_comments.append(comment)
            shown += 1
        if post is not None:
            post.comments_shown = shown
            post.comments_more = bool(_MORE(block)) if shown else None


def _read_one(pstl: etree._Element, pid: int, tid: int | None, ctx: ThreadContext, tz) -> PostComment:
    """One ``div.pstl``: author (uid link, or the guest label), text, time."""
    text_box = _TEXT_BOX(pstl)[0]
    author_link, author_uid = None, None
    for link in _NAMED_LINKS(pstl):
        author_uid = uid_from_href(link.get("href"))
        if author_uid is not None:
            author_link = link
            break
    box = _AUTHOR_BOX(pstl)
    if author_link is None and box:
        # A site's own rule for member spaces (u-5.html, /people/5/): the commenter's avatar still states the uid.
        author_uid = stated_uid(box)
        named = [link for link in _NAMED_LINKS(box[0]) if is_member_link(link)] if author_uid is not None else []
        author_link = named[0] if named else None
    if author_link is not None:
        author = _clean("".join(author_link.itertext())) or None
    else:  # a guest's comment: 游客, as text in div.psta
        author = _clean("".join(box[0].itertext())) or None if box else None
    time_box = _TIME_BOX(text_box)
    posted_at_text = posted_at = None
    if time_box:
        posted_at_text = _time_text(time_box[0])
        title = _TIME_TITLE(time_box[0])
        posted_at = parse_discuz_time(posted_at_text, title[0] if title else None, now=ctx.now, tz=tz)
    return PostComment(pid=pid, tid=tid, author_uid=author_uid, author=author,
                       comment=_comment_text(text_box, time_box[0] if time_box else None) or None,
                       posted_at=posted_at, posted_at_text=posted_at_text)


def _time_text(time_box: etree._Element) -> str | None:
    """The time in ``span.xg1``: the relative time's own ``span`` (its title is read apart), else the line
    without 发表于, the IP a moderator sees and the 删除 link."""
    relative = _TIME_SPAN(time_box)
    if relative:
        return _clean("".join(relative[0].itertext())) or None
    parts = [time_box.text or ""]
    for child in time_box:
        if isinstance(child.tag, str) and child.tag != "a":
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    shown = _IP.sub("", _clean("".join(parts)))
    return posted_time_text(shown) or clean_time_text(shown) or None


def _comment_text(text_box: etree._Element, time_box: etree._Element | None) -> str:
    """The comment's own text: ``div.psti`` without the time, the links (详情/回复, X2.0's author) and ``&nbsp;``.

    Comments hold only ``[b]`` and ``[color]`` (rendered ``b``/``font``), never links, so every ``a`` is chrome."""
    parts: list[str] = [text_box.text or ""]
    for child in text_box:
        if not isinstance(child.tag, str):  # comments, processing instructions
            parts.append(child.tail or "")
            continue
        if child is not time_box and child.tag != "a":
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return _clean("".join(parts))


def _clean(text: str) -> str:
    return tidy_text(_SPACES.sub(" ", text))


__all__ = ["read_comments"]
