"""What a thread page carries besides its posts (reference section 4.11), read by one reader per kind of box.

:func:`read_extras` runs after a thread page's posts are read (any family: X2.5–X3.5, 7.x, 5.5/6.x and unknown
themes), on the whole page, and adds to the :class:`~scraper.items.ParsedPage`:

=================  =====================================  ==============================================
reader             module                                 fills
=================  =====================================  ==============================================
poll               :mod:`.polls`                          ``page.polls`` (options in order, votes, voters…)
reward             :mod:`.rewards`                        ``page.rewards``
debate             :mod:`.debates`                        ``page.debates``, ``page.debate_posts``
activity           :mod:`.activities`                     ``page.activities`` (applicants where listed)
trade              :mod:`.trades`                         ``page.trades`` (every goods box)
rating             :mod:`.ratings`                        ``page.ratings``, ``Post.rate_count/rate_totals``
comment            :mod:`.comments`                       ``page.post_comments``, ``Post.comments_shown/more``
attachment         :mod:`.attachments`                    facts of ``page.attachments`` (size, downloads…)
tag                :mod:`.tags`                           ``page.thread_tags``
recommend          :mod:`.recommend`                      ``Thread.recommend_add/sub``
post state         :mod:`.post_states`                    ``Post.is_warned/is_anonymous``
=================  =====================================  ==============================================

Every reader is a pure function ``read(page, root, ctx) -> None`` over the page's lxml tree (``root``) and a
:class:`ThreadContext`; it finds its box by the ids and classes its templates give it, in every family that
has the markup, and reads labels through :mod:`.labels` (simplified and traditional). A box it finds but cannot
read whole is kept with ``status = "partial"`` and ``missing`` naming what was not read; a reader that raises
costs the page nothing but that box: the page is then marked with the box's name in ``page.missing`` and the
reason in ``page.message`` (and so kept for re-parsing), its posts unaffected.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from lxml import etree

from ..digits import as_int
from ..items import KIND_VIEWTHREAD, ParsedPage, Post, Thread
from .common import class_holds, ids_indexed
from .links import ALL_HREFS

# Post containers of every family: X and 7.x div#post_PID > table#pidPID, 5.5/6.x and themes table#pidPID.
_POST_TABLES = etree.XPath("/descendant::table[starts-with(@id, 'pid')]")
_BY_ID = etree.XPath("id($id)")
_ID_WITHIN = etree.XPath("descendant-or-self::*[@id=$id]")
_PID = re.compile(r"^pid(\d+)$")
_POST_DIV = re.compile(r"^post_(\d+)$")

# The ids of a post's boxes the readers look up by id (ratings: X dl#ratelog_PID, div#post_rate_div_PID, 7.x
# div#post_rate_PID; comments: div#comment_PID; a debate reply's a#voterdebate_PID) and the page's (the poll's
# form#poll, 支持/反对's four): what one id() call for the whole page finds (ThreadContext.by_id: each asked of the
# tree's id index alone where lxml shows it, else that one call).
_POST_IDS = ("ratelog_", "post_rate_div_", "post_rate_", "comment_", "voterdebate_")
_PAGE_IDS = ("poll", "recommendv_add", "recommend_add", "recommendv_subtract", "recommend_subtract")

# What PostFacts walks a post for: every post's stand marks, links and pictures; an opening post's divs, cells and
# forms too (the boxes of special threads, tags). The tags lxml stops at in C; the rest of the post is skipped.
_REPLY_TAGS = ("a", "span", "img", "label")
_OPENING_TAGS = ("div", "a", "td", "span", "img", "label", "form")
# What an opening post is walked for when the page-wide gates answer for its links and ids (PostBoxes).
_BOX_TAGS = ("div", "td", "form")

FAMILY_X = "x"
FAMILY_7X = "7.x"

class PostFacts:
    """What the readers' gates need to know of one post, from one walk of its container (:meth:`ThreadContext.facts`):
    each reader whose box cannot be in a post without such a value returns at once instead of walking the post.

    - ``hrefs``: the ``href`` of every ``a`` in the post (``\n``-joined): attachment links (``attach``), the warn
      icon (``viewwarning``), 5.5/6.x rate logs (``viewratings``), tag links, debate stand links (``stand=``);
    - ``attachment_ids``: whether an ``a`` has an id starting ``aid`` or an ``img`` one starting ``aimg_``;
    - ``marks``: the debate stand marks (``label`` whose class holds ``pdbts``, ``span.debatevote``), in order, the
      container itself excepted (what :data:`.debates._STAND_MARKS` finds);
    - ``classes`` (opening posts only, else ``None``): the class of every ``div`` and ``td``, the container's own
      included (``\n``-joined): where the special threads' boxes and the tag box are found by class;
    - ``forms`` (opening posts only, else ``None``): every attribute value of the post's forms (the poll form).
    """

    __slots__ = ("hrefs", "attachment_ids", "marks", "classes", "forms")

    def __init__(self, container: etree._Element, opening: bool):
        hrefs: list[str] = []
        marks: list[etree._Element] = []
        classes: list[str] = []
        forms: list[str] = []
        aids = False
        for el in container.iter(*(_OPENING_TAGS if opening else _REPLY_TAGS)):
            tag = el.tag
            if tag == "div" or tag == "td":
                cls = el.get("class")
                if cls is not None:
                    classes.append(cls)
            elif tag == "a":
                href = el.get("href")
                if href is not None:
                    hrefs.append(href)
                if not aids:
                    ident = el.get("id")
                    aids = ident is not None and ident.startswith("aid")
            elif tag == "span":
                cls = el.get("class")
                if cls is not None and "debatevote" in cls and el is not container and class_holds(el, "debatevote"):
                    marks.append(el)
            elif tag == "img":
                if not aids:
                    ident = el.get("id")
                    aids = ident is not None and ident.startswith("aimg_")
            elif tag == "label":
                if "pdbts" in el.get("class", "") and el is not container:
                    marks.append(el)
            else:  # form
                forms += el.values()
        self.hrefs = "\n".join(hrefs)
        self.attachment_ids = aids
        self.marks = marks
        self.classes = "\n".join(classes) if opening else None
        self.forms = "\n".join(forms) if opening else None


class PostBoxes:
    """An opening post's ``classes`` and ``forms`` as :class:`PostFacts` reads them (the same strings), from a walk
    that stops only at divs, cells and forms: what the special threads' and the tag box's gates ask of the opening
    post when the page-wide gates (:meth:`ThreadContext.hrefs_hold`, :meth:`ThreadContext.ids_hold`) already
    answer for its links and ids."""

    __slots__ = ("classes", "forms")

    def __init__(self, container: etree._Element):
        classes: list[str] = []
        forms: list[str] = []
        for el in container.iter(*_BOX_TAGS):
            if el.tag == "form":
                forms += el.values()
            else:
                cls = el.get("class")
                if cls is not None:
                    classes.append(cls)
        self.classes = "\n".join(classes)
        self.forms = "\n".join(forms)


@dataclass
class ThreadContext:
    """What every reader of a thread page gets besides the tree.

    ``family`` is ``"x"`` (X2.5–X3.5 templates) or ``"7.x"`` (7.x, 5.5/6.x); readers may try both markups
    anyway (themes mix them). ``posts`` maps each pid on the page to its container element (``div#post_PID``
    where there is one, else ``table#pidPID``). ``now`` anchors relative times (the response's Date).
    ``hrefs``: every ``a``'s href on the page (:data:`ALL_HREFS`, which the page's links are read from too), when
    the caller has it; else read on the first ask.

    Page-wide gates: a word no href of the page holds is in no post's hrefs (:meth:`hrefs_hold`), an id prefix no
    id of the page's index starts with is on no element of a post (:meth:`ids_hold`); a reader asks these before
    walking any post, and walks the posts (:meth:`facts`) only where they cannot say no.
    """

    url: str
    tid: int | None
    family: str = FAMILY_X
    now: datetime | None = None
    tz: tzinfo | None = None
    posts: dict[int, etree._Element] = field(default_factory=dict)
    _indexed: bool | None = field(default=None, repr=False)
    _post_items: dict[int, Post] | None = field(default=None, repr=False)
    _by_id: dict[str, etree._Element] | None = field(default=None, repr=False)
    _facts: dict[int, PostFacts] = field(default_factory=dict, repr=False)
    _opening: frozenset[int] | None = field(default=None, repr=False)
    _asked: set[str] = field(default_factory=set, repr=False)
    hrefs: list[str] | None = field(default=None, repr=False)
    _hrefs_text: str | None = field(default=None, repr=False)
    _page_words: dict[str, bool] = field(default_factory=dict, repr=False)
    _boxes: dict[int, PostBoxes] = field(default_factory=dict, repr=False)
    _index: object = field(default=None, repr=False)
    _id_text: str | None = field(default=None, repr=False)
    _attached: bool | None = field(default=None, repr=False)

    def facts(self, page: ParsedPage, pid: int) -> PostFacts | None:
        """The :class:`PostFacts` of post ``pid`` (``None`` when the page shows no container for it), read in one walk
        on the first ask and shared by every reader. The opening posts (:meth:`opening_posts`) are walked for their
        classes and forms too."""
        facts = self._facts.get(pid)
        if facts is None:
            container = self.posts.get(pid)
            if container is None:
                return None
            if self._opening is None:
                self._opening = frozenset(pid for pid, _ in self.opening_posts(page))
            facts = self._facts[pid] = PostFacts(container, pid in self._opening)
        return facts

    def boxes(self, page: ParsedPage, pid: int) -> PostBoxes | PostFacts | None:
        """What the gates of the boxes an opening post may hold ask of post ``pid``: its ``classes`` and ``forms``
        (as :class:`PostFacts` reads them; its facts where they were read already, else a walk of its divs,
        cells and forms only). ``None`` when the page shows no container for it."""
        facts = self._facts.get(pid)
        if facts is not None and facts.classes is not None:
            return facts
        boxes = self._boxes.get(pid)
        if boxes is None:
            container = self.posts.get(pid)
            if container is None:
                return None
            boxes = self._boxes[pid] = PostBoxes(container)
        return boxes

    def hrefs_hold(self, page: ParsedPage, root: etree._Element, pid: int, word: str) -> bool:
        """Whether an ``a`` of post ``pid`` has an href holding ``word`` (``word in ctx.facts(page, pid).hrefs``):
        no when no href of the whole page holds it (every post container is in the page's tree), else from the
        post's own walk."""
        if not self.page_hrefs_hold(root, word):
            return False
        facts = self.facts(page, pid)
        return facts is not None and word in facts.hrefs

    def page_hrefs_hold(self, root: etree._Element, word: str) -> bool:
        """Whether any post may have an href holding ``word``: False only when no href of the page holds it and
        every post container is in the page's tree. Each word's answer is kept for the page (a reader asks it of
        every post; the page's hrefs run to tens of kB)."""
        held = self._page_words.get(word)
        if held is None:
            held = self._page_words[word] = self._page_hrefs(root) is None or word in self._hrefs_text
        return held

    def _page_hrefs(self, root: etree._Element) -> str | None:
        """The page's hrefs, ``\n``-joined, when they answer for every post's (every container under the page's
        root element); else ``None``. A word without a line break is in the joined text only if one href holds it."""
        if self._hrefs_text is None:
            if not self._in_page(root):
                return None
            if self.hrefs is None:
                self.hrefs = ALL_HREFS(root)
            self._hrefs_text = "\n".join(self.hrefs)
        return self._hrefs_text

    def _in_page(self, root: etree._Element) -> bool:
        """Whether every post container hangs under the document element of ``root``'s tree (what the page-wide
        reads cover), checked once."""
        if self._attached is None:
            top = root.getroottree().getroot()
            attached = top is not None
            for container in self.posts.values():
                if not attached:
                    break
                last = container
                for last in container.iterancestors():
                    pass
                attached = last is top
            self._attached = attached
        return self._attached

    def ids_hold(self, root: etree._Element, *prefixes: str) -> bool:
        """Whether any element of any post may have an id starting with one of ``prefixes``: False only when the
        tree's index of ids (which libxml2's HTML parser fills with every element's id as it reads the page) has
        no such id and is known to hold the posts' (every container is attached, and the index holds its id)."""
        text = self._index_text(root)
        return text is None or any(f"\n{prefix}" in text for prefix in prefixes)

    def ids_starting(self, root: etree._Element, *prefixes: str) -> list[str] | None:
        """Every id of the page's index that starts with one of ``prefixes`` (an id holding a line break: up to
        it), when the index answers for the posts (see :meth:`ids_hold`); else ``None``."""
        text = self._index_text(root)
        if text is None:
            return None
        found = []
        for prefix in prefixes:
            at = text.find(f"\n{prefix}")
            while at >= 0:
                end = text.find("\n", at + 1)
                found.append(text[at + 1:end] if end >= 0 else text[at + 1:])
                at = text.find(f"\n{prefix}", at + 1)
        return found

    def _index_text(self, root: etree._Element) -> str | None:
        """Every id of the tree's index, each after a line break, when the index answers for the posts; else
        ``None``."""
        if self._id_text is None:
            index = self._read_index(root) if self._in_page(root) else None
            trusted = index is not None and all(c.get("id") in index for c in self.posts.values())
            self._id_text = "\n" + "\n".join(index.keys()) if trusted else ""
        return self._id_text or None

    def _read_index(self, root: etree._Element):
        """lxml's view of the tree's index of ids (libxml2's table, the one ``id()`` looks ids up in), or ``None``
        where there is none (a tree no HTML parse built: no id at all, or no such class)."""
        if self._index is None:
            try:
                self._index = etree._IDDict(root)
            except (AttributeError, ValueError, TypeError):
                self._index = False
        return None if self._index is False else self._index  # (its truth would list every id)

    def by_id(self, root: etree._Element, element_id: str) -> etree._Element | None:
        """The element the tree's id index holds for ``element_id``, one of the ids every page is asked for
        (:data:`_POST_IDS` of its posts, :data:`_PAGE_IDS`): what one ``id()`` call for all of them finds, asked
        of the index one id at a time (:meth:`_lookup`). Where two elements share an id, the first (the one the
        index holds)."""
        return self._lookup(root, element_id, True)

    def _lookup(self, root: etree._Element, element_id: str, asked_only: bool) -> etree._Element | None:
        """What the page's one ``id()`` call (:meth:`_look_up_ids`) holds for ``element_id`` (``asked_only``), or
        else what ``id(element_id)`` finds: the index's element for it, where that element carries the id; a miss
        in the index finds nothing. Where the index's element does not carry the id (in HTML an ``a``'s name is
        an id too), the one call answers, as it did for every id before."""
        if self._by_id is None:
            index = self._read_index(root)
            if index is not None and (not asked_only or self._wanted(element_id)):
                if element_id not in index:
                    return None
                try:
                    found = index[element_id]
                except KeyError:
                    found = None
                if found is not None and found.get("id") == element_id:
                    return found
            self._look_up_ids(root)
        if asked_only or element_id in self._asked:
            return self._by_id.get(element_id)
        return _first(_BY_ID(root, id=element_id))

    def _wanted(self, element_id: str) -> bool:
        """Whether ``element_id`` is one :meth:`_look_up_ids` asks for (without listing them all)."""
        if element_id in _PAGE_IDS or element_id == self._own_id():
            return True
        for prefix in _POST_IDS:
            if element_id.startswith(prefix):
                rest = element_id[len(prefix):]
                if rest.isdigit() and rest.isascii() and int(rest) in self.posts and str(int(rest)) == rest:
                    return True
        return False

    def _own_id(self) -> str | None:
        """The first container's own id, when it is one word: whether the tree has an index is told by it."""
        first = next(iter(self.posts.values()), None)
        own = first.get("id") if first is not None else None
        return own if own is not None and own.split() == [own] else None

    def _look_up_ids(self, root: etree._Element) -> None:
        wanted = [f"{prefix}{pid}" for pid in self.posts for prefix in _POST_IDS]
        wanted += _PAGE_IDS
        # Whether the tree has an index of ids (see element): the first container's own id, when it is one word.
        own = self._own_id()
        if own is not None:
            wanted.append(own)
        asked = wanted
        found = None
        keys = self._read_index(root)
        if keys is not None:
            # What id() finds is the index's element for each id it holds (the ids it does not hold find nothing),
            # keyed by the element's own id: each looked up alone, where that id is the one looked up (else the
            # one call, as ever).
            wanted = [name for name in wanted if name in keys]
            found = {}
            try:
                for name in wanted:
                    el = keys[name]
                    if el.get("id") != name:
                        found = None
                        break
                    found[name] = el
            except KeyError:
                found = None
        if found is None:
            found = ids_indexed(root, wanted) if wanted else {}
        if own is not None:
            self._indexed = own in found
        self._by_id = found
        self._asked = set(asked)

    def element(self, root: etree._Element, container: etree._Element, element_id: str,
                tag: str | None = None) -> etree._Element | None:
        """The element with ``element_id`` (of ``tag``, if given) in a post: from the tree's id index, which an
        HTML parse builds (a miss there is then final: no post is walked for a box it does not have); in a tree
        without one, by walking the post ``container``.

        The ids every reader asks for in every post (:data:`_POST_IDS`) are what one ``id()`` call for the whole
        page finds (:meth:`_lookup`: the index asked for each alone where lxml shows it, else that one call)."""
        found = self._lookup(root, element_id, False)
        if found is not None and found.get("id") == element_id and (tag is None or found.tag == tag):
            return found
        if self._indexed is None and self._by_id is None and self._own_id() is not None:
            # What the one id() call would have said of the first container's own id.
            own = self._lookup(root, self._own_id(), True)
            if self._indexed is None:
                self._indexed = own is not None
        if self._indexed is None:
            self._indexed = any(bool(_BY_ID(root, id=c.get("id"))) for c in list(self.posts.values())[:1]
                                if c.get("id"))
        if self._indexed:
            return None
        found = [el for el in _ID_WITHIN(container, id=element_id) if tag is None or el.tag == tag]
        return found[0] if found else None

    def opening_posts(self, page: ParsedPage) -> list[tuple[int, etree._Element]]:
        """(pid, container) of the opening post when the page says which it is; none on a later page (every post
        shows its floor, none the first: the templates print a special thread's box in the opening post only);
        else of every post on the page (a theme that hides the floors): where a special thread's box can be."""
        first = self.first_pid(page)
        if first is not None:
            return [(first, self.posts[first])] if first in self.posts else []
        if page.posts and all(post.floor is not None for post in page.posts):
            return []
        return list(self.posts.items())

    def post(self, page: ParsedPage, pid: int) -> Post | None:
        """The :class:`Post` item of ``pid`` on ``page``, if the page has it."""
        if self._post_items is None:
            self._post_items = {post.pid: post for post in page.posts}
        return self._post_items.get(pid)

    def first_pid(self, page: ParsedPage) -> int | None:
        """The opening post's pid, when this page shows it (page 1)."""
        for post in page.posts:
            if post.is_first:
                return post.pid
        return None

    def thread(self, page: ParsedPage) -> Thread | None:
        """The page's own thread item."""
        for thread in page.threads:
            if thread.tid == page.tid:
                return thread
        return page.threads[0] if page.threads else None


def _first(found: list) -> etree._Element | None:
    return found[0] if found else None


def post_containers(root: etree._Element, pids: list[int] | None = None) -> dict[int, etree._Element]:
    """pid -> the post's container: ``div#post_PID`` around ``table#pidPID``, else the table itself.

    ``pids`` (the posts the page's parser read) are looked up in the tree's id index, one step each; without
    them, or where the index does not hold them, the page is walked for every ``table#pidN``."""
    out: dict[int, etree._Element] = {}
    if pids:
        # Every pid in one id() call (the index answers each id as one call does; the call costs more).
        tables = ids_indexed(root, [f"pid{pid}" for pid in pids])
        for pid in pids:
            table = tables.get(f"pid{pid}")
            if table is not None and table.tag == "table":
                parent = table.getparent()
                out[pid] = parent if parent is not None and parent.get("id") == f"post_{pid}" else table
    if pids and len(out) == len(pids):
        return out
    for table in _POST_TABLES(root):
        m = _PID.match(table.get("id", ""))
        pid = as_int(m.group(1)) if m else None
        if pid is None:
            continue
        parent = table.getparent()
        container = parent if parent is not None and _POST_DIV.match(parent.get("id", "")) else table
        out.setdefault(pid, container)
    return out


def _readers() -> tuple[tuple[str, Callable[[ParsedPage, etree._Element, ThreadContext], None]], ...]:
    # Imported here: the readers import items and helpers that import this package.
    from . import activities, attachments, comments, debates, polls, post_states, ratings, recommend, rewards, tags
    from . import trades
    return (
        ("poll", polls.read_polls),
        ("reward", rewards.read_rewards),
        ("debate", debates.read_debates),
        ("activity", activities.read_activities),
        ("trade", trades.read_trades),
        ("rating", ratings.read_ratings),
        ("comment", comments.read_comments),
        ("attachment", attachments.read_attachment_facts),
        ("tag", tags.read_tags),
        ("recommend", recommend.read_recommend),
        ("post_state", post_states.read_post_states),
    )


def read_extras(page: ParsedPage, root: etree._Element, *, url: str, family: str, now: datetime | None,
                tz: tzinfo | None, hrefs: list[str] | None = None) -> None:
    """Run every reader on a thread page (``page.kind == "viewthread"``); other pages are left alone. ``hrefs``:
    :data:`ALL_HREFS` of ``root``, where the caller reads them for the page's links anyway."""
    if page.kind != KIND_VIEWTHREAD:
        return
    ctx = ThreadContext(url=url, tid=page.tid, family=family, now=now, tz=tz,
                        posts=post_containers(root, [post.pid for post in page.posts]), hrefs=hrefs)
    for name, reader in _readers():
        try:
            reader(page, root, ctx)
        except (RecursionError, ValueError, TypeError, AttributeError, IndexError, KeyError,
                etree.LxmlError) as exc:
            # A box this reader could not read must not cost the page its posts: say which, keep the page.
            if name not in page.missing:
                page.missing.append(name)
            note = f"{name} box unreadable: {type(exc).__name__}: {str(exc)[:120]}"
            page.message = f"{page.message}; {note}" if page.message else note


__all__ = ["ThreadContext", "read_extras", "post_containers", "ALL_HREFS", "FAMILY_X", "FAMILY_7X"]
