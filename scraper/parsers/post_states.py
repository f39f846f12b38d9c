"""Warned (警告) and anonymous (匿名) posts -> Post.is_warned / is_anonymous.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

Both states are printed for every viewer, so where the post's frame is the stock one a post without the mark is
``False``; where the frame is not recognised (themes, 5.5/6.x) the absence says nothing (``None``), a mark found
is still ``True``.

**Warned** (``forum_post.status & 2``):

* X2.5–X3.5 ``viewthread_node.htm``, in ``td.plc > div.pi``:
  ``<a href="forum.php?mod=misc&action=viewwarning&tid=T&uid=U" title="受到警告" class="y warnicon">``;
* 7.x ``viewthread_node.htm``, in ``div.postmessage``:
  ``<span class="postratings"><a href="misc.php?action=viewwarning&tid=T&uid=U" title="受到警告"><img
  src="…/warning.gif"></a></span>``. 7.x decides it with ``substr(sprintf('%b', $status), -2, 1)``, which for a post
  banned and not warned (status 1, binary ``1``) is ``'1'`` too: on 7.x the icon beside a banned post (提示: 该帖被管理员或
  版主屏蔽) does not tell a warning from the ban (``None``); elsewhere it does.

**Anonymous** (posted with 匿名发帖: ``forum_post.anonymous``, the author hidden from everyone but moderators). The
left column says it, by structure (the text is the site's ``anonymoustext`` setting in X, 匿名 by default):

* X ``div#favatarPID > div.pi`` without ``div.authi``: ``匿名`` as bare text (a moderator sees it as a
  ``home.php?mod=space&uid=U`` link) is an anonymous member; ``<a href="javascript:;">匿名 <em>IP</em></a>`` is a
  **guest** (no account: ``authorid`` 0; sites often delete the ``em``, the ``javascript:;`` link stays), and
  ``NAME <em>该用户已被删除</em>`` a deleted member: neither is anonymous. The right column prints
  ``匿名&nbsp;<em id="authorpostonPID">`` for guests and anonymous posts alike, so without the left column
  (``close_leftinfo``) an unlinked author is ``None``;
* 7.x ``td.postauthor > div.avatar`` (outside ``div#userinfoPID_a``): ``匿名`` (or a moderator's ``space.php?uid``
  link) is anonymous; ``<a href="javascript:;">游客 <em>IP</em></a>`` a guest, ``NAME <em>该用户已被删除</em>`` a
  deleted member.

What the post parsers make of an anonymous author: ``author_uid`` stays ``None`` and ``author`` is the text shown
in the author's place (``匿名``, X: the site's ``anonymoustext``), in X and 7.x alike. A moderator's view links the
real uid; no parser reads it as the author, and this reader does not either (the post is anonymous to the site's
readers).
"""
from __future__ import annotations

from lxml import etree

from ..items import POST_BANNED_SINGLE, ParsedPage, Post
from .common import by_id_within, has_class
from .extras import FAMILY_7X, ThreadContext


# The post's cells: div#post_PID > table > tr > td (or the table itself; a browser's saved copy puts a tbody in
# every table). The stock frame is X td.plc / td.pls, 7.x td.postcontent / td.postauthor.
_ROW_CELLS = tuple(etree.XPath(path) for path in ("./table/tr/td", "./tr/td", "./table/tbody/tr/td", "./tbody/tr/td"))
# The warn icon where the templates print it: X td.plc > div.pi > a.warnicon, 7.x td.postcontent > div.defaultpost >
# div.postmessage > span.postratings > a; anywhere outside the message in frames not recognised (themes).
# The same paths, stepped down in Python (_cells).
_ROW_PATHS = (("table", "tr", "td"), ("tr", "td"), ("table", "tbody", "tr", "td"), ("tbody", "tr", "td"))
_CONTENT_CLASSES = frozenset(("plc", "postcontent"))
# The class of each cell the first of _ROW_CELLS finds (cells without one left out), as strings.
_FIRST_PATH_CLASSES = etree.XPath("./table/tr/td/@class", smart_strings=False)
_WARN_IN_CELL = etree.XPath("div/a[contains(@href, 'viewwarning')] | div/div/span/a[contains(@href, 'viewwarning')]")
_WARN_ANYWHERE = etree.XPath(
    "descendant::a[contains(@href, 'action=viewwarning')][not(ancestor::*[starts-with(@id, 'postmessage_')])]")
# X left column: div#favatarPID > div.pi (the author line); 7.x: td.postauthor > div.avatar / div.postinfo.
_PI = etree.XPath(f"div[{has_class('pi')}]")
_AUTHI = etree.XPath(f"descendant::div[{has_class('authi')}]")
_7X_NON_MEMBER = etree.XPath(f"div[{has_class('avatar')}]")
_7X_MEMBER = etree.XPath(f"div[{has_class('postinfo')}] | div[starts-with(@id, 'userinfo')]")
_EMS = etree.XPath("descendant::em")
_LINKS = etree.XPath("descendant::a[@href]")


def read_post_states(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Set ``is_warned`` and ``is_anonymous`` on each post of ``page`` whose container the page shows."""
    for post in page.posts:
        container = ctx.posts.get(post.pid)
        if container is None:
            continue
        # Both warn-icon paths end at an a whose href holds viewwarning: a post without one is not warned.
        holds_warning = ctx.hrefs_hold(page, root, post.pid, "viewwarning")
        if not holds_warning and post.author_uid is not None:
            # Not warned, a named member (never anonymous): all that is left to know is whether the frame shows its
            # content cell, from the classes of the first row path's cells (where it finds any with a class).
            classes = _FIRST_PATH_CLASSES(container)
            if classes:
                if any(_is_content(cls) for cls in classes):
                    post.is_warned = False
                post.is_anonymous = False
                continue
        cells = _cells(container)
        content = [cell for cell in cells if _is_content(cell.get("class"))]
        warned = holds_warning and (
            any(_WARN_IN_CELL(cell) for cell in content) if content else bool(_WARN_ANYWHERE(container)))
        if warned:
            post.is_warned = None if ctx.family == FAMILY_7X and post.status == POST_BANNED_SINGLE else True
        elif content:
            post.is_warned = False
        anonymous = _anonymous(post, container, cells)
        if anonymous is not None:
            post.is_anonymous = anonymous


def _cells(container: etree._Element) -> list:
    """What the first of :data:`_ROW_CELLS` that finds any finds, by stepping down the children (the tags tested
    in C, in document order as the XPath's node-set is)."""
    for path in _ROW_PATHS:
        level = [container]
        for tag in path:
            level = [child for el in level for child in el.iterchildren(tag)]
            if not level:
                break
        else:
            return level
    return []


def _is_content(cls: str | None) -> bool:
    """Whether a cell's class holds the word plc or postcontent (the substring test first: most cells have neither)."""
    return cls is not None and ("plc" in cls or "postcontent" in cls) and \
        not _CONTENT_CLASSES.isdisjoint(cls.split())


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _anonymous(post: Post, container: etree._Element, cells: list) -> bool | None:
    """True for a member posting anonymously, False for a named member, a guest or a deleted member, None when
    the page does not say which (see the module's notes)."""
    if post.author_uid is not None:
        return False
    for favatar in by_id_within(container, f"favatar{post.pid}", ("div",)):
        for pi in _PI(favatar):
            if _AUTHI(pi):
                return False  # a name line (authoronleft, or a 点评-reply's author)
            return _non_member_is_anonymous(pi)
    for cell in cells:
        classes = _classes(cell)
        if "postauthor" in classes:
            if _7X_MEMBER(cell):
                return False
            for avatar in _7X_NON_MEMBER(cell):
                return _non_member_is_anonymous(avatar)
        elif "pls" in classes and post.author:
            return False  # a name shown without a uid link (themes that link by username)
    return None


def _non_member_is_anonymous(holder: etree._Element) -> bool:
    """The author line of a post without a member's name: a guest's ``<a href="javascript:;">`` (IP in an ``em``
    or not), a deleted member's ``NAME <em>…</em>``, or the anonymous text (bare, or a moderator's space link)."""
    for link in _LINKS(holder):
        if (link.get("href") or "").strip().lower().startswith("javascript"):
            return False
    return not _EMS(holder)
