"""The reward box (悬赏, ``forum_thread.special`` 3) -> ``page.rewards``.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

The box sits in the opening post, so only page 1 carries it (a later page of a reward thread shows nothing
of it: no :class:`~scraper.items.Reward` is made there). The price is ``abs(forum_thread.price)``: positive
while unresolved, negative once a best answer was chosen.

X2.5–X3.5 (``forum/viewthread_reward.htm``)::

    div.rwd > div.rusld|rsld          (rusld: price > 0, unresolved; rsld: price < 0, resolved)
                  [悬赏] <cite>30</cite> 金钱 [<em>未解决|已解决</em>]   (X3.3+ add the label and the em)
            > div.rwdn > td.t_f#postmessage_PID, [button 我来回答 while unresolved]
    div.rwdbst (the best answer, page 1 once resolved): a home.php?mod=space&uid=U link with the author's name,
            the pid in a findpost link (``…goto=findpost&ptid=T&pid=P``, X2: also ``#pidP``)

7.x (``viewthread_reward_price.htm`` + ``viewthread_reward.htm``)::

    cite.re_unsolved|re_solved (未解决 / 已解决) in div.postmessage.firstpost
    div.special_reward > p.reward_price: 悬赏金额: <strong>15 枚金钱</strong>   (price, credit unit, credit title)
            … td.t_msgfont#postmessage_PID … [p.reward_button while unresolved]
    div.reward_bestpost > table#bestpost: thead 最佳答案 + space.php?username=NAME link,
            tbody space.php?uid=U avatar link, the answer's text; the answer's pid is not printed (it is read
            only where the answer's images call ``attachimgshow(PID)``)

The 7.x price line prints the credit's unit and title run together (``枚金钱``); the page's ``creditnotice``
script variable (``'1|威望|点,2|金钱|枚'``, id|title|unit) tells them apart when the site has it on.
"""
from __future__ import annotations

import re

from lxml import etree

from ..digits import as_int
from ..items import BOX_PARTIAL, SPECIAL_REWARD, ParsedPage, Reward
from ..urls import uid_from_href
from .common import has_class
from .content import text_of, tidy_text
from .extras import ThreadContext
from .labels import label_re
from .numbers import parse_int


# The box, rooted at the opening post's container: X div.rwd, 7.x div.special_reward.
_REWARD_BOXES = etree.XPath(f"descendant::div[{has_class('rwd')} or {has_class('special_reward')}]")
# X: the price line (div.rusld / div.rsld, or the first div of div.rwd where a theme drops the class).
_X_PRICE_LINE = etree.XPath(f"div[{has_class('rusld')} or {has_class('rsld')}] | div[1]")
_X_PRICE = etree.XPath("descendant::cite[1]")
_X_STATE = etree.XPath("descendant::em[1]")
_ANSWER_BUTTON = etree.XPath(f"descendant::button[@name='answer'] | descendant::p[{has_class('reward_button')}]")
# 7.x: the price line and the resolved mark beside the thread title.
_7X_PRICE = etree.XPath(f"descendant::p[{has_class('reward_price')}][1]")
_7X_STATE = etree.XPath(f"descendant::cite[{has_class('re_unsolved')} or {has_class('re_solved')}][1]")
# The best answer box (X div.rwdbst, 7.x div.reward_bestpost / table#bestpost), in the opening post.
_BEST_BOXES = etree.XPath(f"descendant::div[{has_class('rwdbst')} or {has_class('reward_bestpost')}]")
_LINKS = etree.XPath("descendant::a")
_ONCLICKS_AND_SCRIPTS = etree.XPath("descendant::a/@onclick | descendant::a/@href | descendant::script/text()")
_7X_BEST_NAME = etree.XPath("descendant::thead/descendant::a[1]")
_HEAD_SCRIPTS = etree.XPath("/html/head/script[contains(., 'creditnotice')]/text()")

# findpost&pid=P (X3), #pidP / $('pidP') (X2), aimgcount[P] / attachimgshow(P) (7.x image scripts).
_BEST_PID = re.compile(r"(?:\bpid=?|aimgcount\[|attachimgshow\()(\d+)")
_PRICE_AND_CREDIT = re.compile(r"(?P<price>[-+]?\d[\d,]*)\s*(?P<credit>.*)$", re.S)
_CREDIT_NOTICE = re.compile(r"creditnotice\s*=\s*'([^']*)'")
_SOLVED = label_re("已解决")
_UNSOLVED = label_re("未解决")
# Units admins give credits in 7.x (extcredits[n][unit]), printed before the title when creditnotice is off.
_COMMON_UNITS = frozenset("点點枚个個元分块塊颗顆张張朵两兩贯貫文")


def read_rewards(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Find the reward box in the opening post of ``page`` (page 1 only) and append a :class:`Reward`.

    Sets the thread item's ``special`` to ``"reward"``. A box whose price, state or credit cannot be read is
    kept with ``status = "partial"`` and those fields named in ``missing``.
    """
    first_pid = ctx.first_pid(page)
    container = ctx.posts.get(first_pid) if first_pid is not None else None
    if container is None:
        return
    classes = ctx.boxes(page, first_pid).classes  # the box is a div.rwd / div.special_reward
    if "rwd" not in classes and "special_reward" not in classes:
        return
    boxes = _REWARD_BOXES(container)
    if not boxes:
        return
    box = boxes[0]
    tid = page.tid if page.tid is not None else ctx.tid
    if tid is None:
        return
    reward = Reward(tid=tid)
    if _has(box, "rwd"):
        _read_x_box(box, reward)
    else:
        _read_7x_box(box, container, root, reward)
    if reward.is_resolved is None:
        # Discuz shows the answer button only while unresolved (and not archived), the best answer only after.
        if _BEST_BOXES(container):
            reward.is_resolved = True
        elif _ANSWER_BUTTON(box):
            reward.is_resolved = False
    best_read = _read_best_answer(container, reward)
    if best_read and reward.is_resolved is None:
        reward.is_resolved = True

    for name, value in (("price", reward.price), ("is_resolved", reward.is_resolved), ("credit", reward.credit)):
        if value is None:
            reward.missing.append(name)
    if best_read and reward.best_author is None:
        reward.missing.append("best_author")
    if best_read and reward.best_pid is None and _has(box, "rwd"):
        # X prints the answer's pid in its findpost link; 7.x does not print it at all (not a reading failure).
        reward.missing.append("best_pid")
    if reward.missing:
        reward.status = BOX_PARTIAL
    page.rewards.append(reward)
    thread = ctx.thread(page)
    if thread is not None:
        thread.special = SPECIAL_REWARD


def _has(el: etree._Element, name: str) -> bool:
    return name in (el.get("class") or "").split()


def _read_x_box(box: etree._Element, reward: Reward) -> None:
    """X ``div.rwd``: price in the first ``cite``, the credit title after it, the state from the class or ``em``."""
    lines = _X_PRICE_LINE(box)
    if not lines:
        return
    line = lines[0]
    cites = _X_PRICE(line)
    if cites:
        reward.price = parse_int(text_of(cites[0]))
        credit = tidy_text(cites[0].tail or "")
        reward.credit = credit or None
    else:  # a theme without the cite: 悬赏 30 金钱 as text
        m = _PRICE_AND_CREDIT.search(tidy_text(_text_without_em(line)))
        if m:
            reward.price = parse_int(m.group("price"))
            reward.credit = _credit_title(m.group("credit"), None) or None
    if _has(line, "rsld"):
        reward.is_resolved = True
    elif _has(line, "rusld"):
        reward.is_resolved = False
    else:
        reward.is_resolved = _state_from_text("".join(text_of(em) for em in _X_STATE(line)))


def _read_7x_box(box: etree._Element, container: etree._Element, root: etree._Element, reward: Reward) -> None:
    """7.x ``div.special_reward``: ``悬赏金额: <strong>15 枚金钱</strong>``; state from ``cite.re_(un)solved``."""
    lines = _7X_PRICE(box)
    if lines:
        strongs = lines[0].findall("strong")
        shown = tidy_text(text_of(strongs[0]) if strongs else text_of(lines[0]).split(":", 1)[-1])
        m = _PRICE_AND_CREDIT.search(shown)
        if m:
            reward.price = parse_int(m.group("price"))
            reward.credit = _credit_title(m.group("credit"), _credit_notice(root)) or None
    marks = _7X_STATE(container)
    if marks:
        if _has(marks[0], "re_unsolved"):
            reward.is_resolved = False
        else:
            reward.is_resolved = _state_from_text(text_of(marks[0]))
            if reward.is_resolved is None:
                reward.is_resolved = True


def _text_without_em(el: etree._Element) -> str:
    """``el``'s text without its ``em`` (the 未解决 / 已解决 state)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag != "em":  # not the em, nor comments
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _state_from_text(text: str) -> bool | None:
    if _UNSOLVED.search(text):
        return False
    if _SOLVED.search(text):
        return True
    return None


def _credit_notice(root: etree._Element) -> list[tuple[str, str]]:
    """(title, unit) of every credit in the page's ``creditnotice`` script variable (empty when it is off)."""
    for script in _HEAD_SCRIPTS(root):
        m = _CREDIT_NOTICE.search(script)
        if m:
            out = []
            for entry in m.group(1).split(","):
                parts = entry.split("|")
                if len(parts) >= 3 and parts[1]:
                    out.append((parts[1], parts[2]))
            return out
    return []


def _credit_title(shown: str, credits: list[tuple[str, str]] | None) -> str:
    """The credit's title in ``shown`` (7.x prints ``{unit}{title}``: ``枚金钱`` -> ``金钱``)."""
    shown = tidy_text(shown)
    for title, unit in credits or ():
        if shown in (title, unit + title, f"{unit} {title}"):
            return title
    # Without creditnotice: a one-character unit before a title of two or more characters is taken as the unit.
    if len(shown) >= 3 and shown[0] in _COMMON_UNITS:
        return shown[1:].strip()
    return shown


def _read_best_answer(container: etree._Element, reward: Reward) -> bool:
    """Fill ``best_pid`` / ``best_author(_uid)`` from the best answer box; ``False`` when there is none."""
    boxes = _BEST_BOXES(container)
    if not boxes:
        return False
    box = boxes[0]
    for value in _ONCLICKS_AND_SCRIPTS(box):
        m = _BEST_PID.search(value)
        if m:
            reward.best_pid = as_int(m.group(1))
            break
    # The author's named link (X: the xw1 link after the avatar; 7.x: the username link in the thead, the uid
    # on the avatar link).
    for link in _LINKS(box):
        name = tidy_text(text_of(link))
        uid = uid_from_href(link.get("href"))
        if name and uid is not None and reward.best_author is None:
            reward.best_author, reward.best_author_uid = name, uid
        elif reward.best_author_uid is None and uid is not None and link.find("img") is not None:
            reward.best_author_uid = uid
    if reward.best_author is None:
        named = _7X_BEST_NAME(box)
        if named:
            reward.best_author = tidy_text(text_of(named[0])) or None
    return True


__all__ = ["read_rewards"]
