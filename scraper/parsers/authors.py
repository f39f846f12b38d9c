"""A post's author uid as the post's own author areas state it, whatever the site's rule for member spaces.

The author's name links to their space through the site's rewrite rule, which an admin may change
(``u-5.html``, ``/people/5/``, ``m-5.htm``: a spelling no default rule reads, that may say nothing of
"uid"). The same areas state the uid in URLs no rule rewrites:

- the avatar: ``uc_server/avatar.php?uid=5&size=middle`` (X and 7.x) or the file,
  ``data/avatar/000/00/00/05_avatar_middle.jpg``;
- the hover card's and the stats block's links (``home.php?mod=space&uid=5&do=profile``,
  ``…&do=thread&type=reply``), 发消息 (``touid=5``), 关注 (``fuid=5``), 7.x ``pm.php?action=new&uid=5`` and
  加为好友 (``newbuddyid=5``), the 只看该作者 link in the post's header (``authorid=5``);
- 7.x's ``<dt>UID</dt><dd>5</dd>`` in the author column.

Only the author areas are read (X ``div#favatarPID`` / ``td.pls`` and the header's ``div.authi``; 7.x
``td.postauthor`` and ``div.authorinfo``), never the message, its quotes, the 点评 comments, the rate log or
a special thread's boxes, whose links name other members (quoted authors, commenters, raters, debaters,
applicants). The uid stated most often wins, the first stated on a tie.
"""
from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from ..digits import as_int
from ..items import KIND_PROFILE
from ..urls import member_uid_in_href, uid_from_avatar, uid_from_href
from .content import text_of

# Inside an author area: links, avatar images (lazy-loading themes keep the URL in data-*), and 7.x's UID row.
_STATEMENTS = ("./descendant-or-self::a/@href"
               " | ./descendant-or-self::img/@*[name()='src' or name()='data-original' or name()='data-src']"
               " | ./descendant::dt[normalize-space(.)='UID']/following-sibling::dd[1]")
# Boxes a theme may nest in an author area that name other members: their statements are left out (checked once per
# area, so that the usual area, which holds none, is read without a test per link).
_ELSEWHERE = "ancestor::*[starts-with(@id, 'postmessage_') or starts-with(@id, 'comment_') or starts-with(@id, 'ratelog_')" \
             " or self::blockquote]"
_X_STATEMENTS = etree.XPath(_STATEMENTS)
_X_HOLDS_ELSEWHERE = etree.XPath("boolean(./descendant::*[starts-with(@id, 'postmessage_') or starts-with(@id, 'comment_')"
                                 " or starts-with(@id, 'ratelog_') or self::blockquote])")
_X_STATEMENTS_OUTSIDE = etree.XPath(
    f"./descendant-or-self::a[not({_ELSEWHERE})]/@href"
    f" | ./descendant-or-self::img[not({_ELSEWHERE})]/@*[name()='src' or name()='data-original' or name()='data-src']"
    f" | ./descendant::dt[normalize-space(.)='UID'][not({_ELSEWHERE})]/following-sibling::dd[1]")
_UID_TEXT = re.compile(r"[0-9]{1,10}")


def author_uid(href: str | None, areas, resolve=None) -> int | None:
    """The uid of a post whose author's name links to ``href``: read from the link by Discuz's default
    spellings, else stated by the post's author ``areas`` (lxml elements, :func:`stated_uid`), else read from
    the link by the site's learned space rule (``resolve``: href -> :class:`~scraper.urls.Target`), else ``None``."""
    uid = uid_from_href(href) or stated_uid(areas)
    if uid is None and resolve is not None and href:
        target = resolve(href)
        uid = target.uid if target.kind == KIND_PROFILE else None
    return uid


def is_member_link(a) -> bool:
    """Whether an author link (lxml element) may name a member: it shows a name and leads somewhere
    (anonymous posts and 点评 shown as posts link ``javascript:;``)."""
    href = (a.get("href") or "").strip().lower()
    return bool(href) and not href.startswith(("javascript:", "#")) and bool(text_of(a).strip())


def stated_uid(areas) -> int | None:
    """The uid the author ``areas`` (lxml elements) state most often; ``None`` when they state none."""
    counts: Counter[int] = Counter()
    for area in areas:
        for value in (_X_STATEMENTS_OUTSIDE if _X_HOLDS_ELSEWHERE(area) else _X_STATEMENTS)(area):
            uid = _read(value)
            if uid:
                counts[uid] += 1
    return max(counts, key=counts.__getitem__) if counts else None  # max() keeps the first of equals


def _read(value) -> int | None:
    if isinstance(value, str):  # an attribute: the link's href or the image's URL
        return member_uid_in_href(value) if value.attrname == "href" else uid_from_avatar(value)
    text = text_of(value).replace("\xa0", " ").strip()
    return (as_int(text) or None) if _UID_TEXT.fullmatch(text) else None


__all__ = ["author_uid", "is_member_link", "stated_uid"]
