"""The goods boxes of a trade thread (商品) -> page.trades, and the goods page (do=tradeinfo) -> a ``tradeinfo`` page.

Reader contract: see :mod:`scraper.parsers.extras` (pure, both families, labels through :mod:`.labels`).

A trade thread's goods are posts of their own (one ``forum_trade`` row and one post per item), which Discuz does
not show as floors: the opening post shows one box per item, and each item has its goods page
(``forum.php?mod=viewthread&do=tradeinfo&tid=T&pid=P``, 7.x ``viewthread.php?do=tradeinfo&tid=T&pid=P``) with the
rest of its facts and the goods post's own text (the seller's description).

The boxes on the thread page:

* X2.5–X3.5 (``forum/viewthread_trade.htm``): ``div.trdb > div.trdl#tradePID``: the picture (``div.tt img``, the
  full picture in its ``zoom()``), the name and goods-page link (``h4 a``), ``dl`` 商品类型 (全新/二手 + 商品) and
  剩余时间 (``N天M小时``, 成交结束, or blank for none), then ``div.mtn``: ``strong`` 现价 followed by 元, the credit
  price as ``[附加] strong unit+credit``, and 原价 as ``del``.
* 7.x (``viewthread_trade.htm``): ``div.treadbox > dl#tradePID``: ``dt.thumblist img`` (``trade_nophoto.gif`` when
  none), ``h2.tradename``, then ``p`` lines: the time left, 原价 ``del``, 现价 ``strong.price``. The goods page is
  only named in the ``ajaxget('viewthread.php?do=tradeinfo&tid=T&pid=P', …)`` of its ``onclick``.

The seller is the thread's author: only the author adds goods to a trade thread (post_newreply.php,
newreply.inc.php: ``addtrade`` needs ``$thread['authorid'] == uid``), so it is read off the opening post.

The goods page (:func:`parse_tradeinfo_page`; ``forum/trade_info.htm``, 7.x ``trade_info.htm``) shows the seller
(X only: ``div.ih``), the name, the picture, ``dt``/``dd`` pairs 商品类型, 运费, 剩余时间, 商品数量, 地点, 累计售出,
现价, 原价, and the goods post's message (X ``div.mtw > div.c``, 7.x ``div.postmessage``). It becomes a page of its
own kind (:data:`~scraper.items.KIND_TRADEINFO`) carrying that one :class:`~scraper.items.Trade` and no post: the
goods post is not a floor, and the page proves nothing about which posts the thread holds.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, tzinfo
from urllib.parse import parse_qsl

from lxml import etree

from ..digits import as_int
from ..items import BOX_PARTIAL, KIND_TRADEINFO, SPECIAL_TRADE, STATUS_PARTIAL, ParsedPage, Trade
from ..urls import TID_IN_HREF, join_url, split_url, uid_from_href
from .common import has_class
from .content import clean_message, drop, image_url, text_of, tidy_text
from .extras import ThreadContext
from .labels import chars, label_re, simplified
from .numbers import parse_int

# A cheap first test, a walk of the opening post's divs by a class substring: X div.trdb/trdl/trdc, 7.x
# div.tradectrl/tradethumblist. Only where it finds one are the boxes looked for.
_TRADE_BLOCKS = etree.XPath("descendant::div[contains(@class, 'trd') or contains(@class, 'trade')]")
# The goods boxes (X div.trdl#tradePID, 7.x dl#tradePID) and the counter line a trade thread shows even when
# its goods are hidden (X div.trdc, 7.x div.tradectrl).
_BOXES = etree.XPath("descendant::*[self::div or self::dl][starts-with(@id, 'trade')"
                     " or self::div[contains(@class, 'trdc') or contains(@class, 'tradectrl')]]")
_BOX_ID = re.compile(r"^trade(\d+)$")
_COUNTER_CLASS = re.compile(r"(?:^|\s)(?:trdc|tradectrl)(?:\s|$)")
_X_NAME_LINK = etree.XPath("descendant::h4/a[@href]")
_7X_NAME = etree.XPath(f"descendant::h2[{has_class('tradename')}]")
_PICTURE = etree.XPath(f"descendant::div[{has_class('tt')}]/descendant::img"
                       f" | descendant::dt[{has_class('thumblist')}]"
                       "/descendant::img")
_TERMS = etree.XPath("descendant::dt")
_X_PRICES = etree.XPath(f"descendant::div[{has_class('mtn')}]")
_7X_LINES = etree.XPath("dd/p")
_STRONG_OR_EM = etree.XPath("descendant::strong | descendant::em")
_STRONG = etree.XPath("descendant::strong")
_DEL = etree.XPath("descendant::del")
_ONCLICKS = etree.XPath("descendant-or-self::*[@onclick]/@onclick")
_BASE = etree.XPath("/descendant::base/@href")
# The goods page: X div.act (with a div.spi) after h1.ph; 7.x div.tradeinfo with div.tradeattribute.
_PAGE_X_BOX = etree.XPath(f"/descendant::div[{has_class('act')}]"
                          f"[descendant::div[{has_class('spi')}]]")
_PAGE_7X_BOX = etree.XPath(f"/descendant::div[{has_class('tradeinfo')}]"
                           f"[div[{has_class('tradeattribute')}]]")
_PAGE_X_TITLE = etree.XPath(f"/descendant::h1[{has_class('ph')}]")
_PAGE_X_SELLER = etree.XPath(f"/descendant::div[{has_class('ih')}]")
_PAGE_X_SPI = etree.XPath(f"descendant::div[{has_class('spi')}]")
_PAGE_X_SPVIMG = etree.XPath(f"descendant::div[{has_class('spvimg')}]"
                             "/descendant::img")
_PAGE_X_MESSAGE = etree.XPath(f"div[{has_class('mtw')}]"
                              f"/div[{has_class('c')}]")
_PAGE_7X_ATTRIBUTES = etree.XPath(f"div[{has_class('tradeattribute')}]")
_PAGE_7X_NAME = etree.XPath("h4")
_PAGE_7X_PICTURE = etree.XPath(f"div[{has_class('tradethumb')}]"
                               "/descendant::img")
_PAGE_7X_MESSAGE = etree.XPath(f"div[{has_class('postmessage')}]")
# Inside the 7.x goods message: the thread-type table and the attachment notes are not the seller's text.
_7X_NOT_MESSAGE = etree.XPath(f"div[{has_class('typeoption')}"
                              f" or {has_class('postattachlist')}"
                              f" or {has_class('postattach')}]")
_PAGE_THREAD_LINKS = etree.XPath("/descendant::div[@id='pt' or @id='nav']/descendant::a[@href]"
                                 f" | /descendant::div[{has_class('ih')}]"
                                 "/descendant::dd/a[@href]")
_X_SELLER_NAME = etree.XPath("descendant::dt/text()")
_X_SELLER_LINK = etree.XPath("descendant::a[@href][not(ancestor::span)]")

_AJAX_URL = re.compile(r"ajaxget\(\s*['\"](?P<url>[^'\"]*do=tradeinfo[^'\"]*)['\"]")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_LABEL_END = re.compile(r"[\s:：]+$")
_PAYMENT_UNIT = label_re("元")
_ADDITIONAL = label_re("附加")
_NEW, _USED = label_re("全新"), label_re("二手")
_CLOSED = label_re("成交结束")
_TIME_LEFT = re.compile(rf"^(?:(?P<days>\d+)\s*{chars('天')})?\s*(?:(?P<hours>\d*)\s*{chars('小时')})?$")
_NO_PHOTO = ("trade_nophoto",)

# Labels, in simplified characters, -> what they give.
_FIELDS = {
    "商品类型": "quality", "运费": "transport", "物流方式": "transport", "剩余时间": "expiry", "商品数量": "amount",
    "地点": "locus", "所在地点": "locus", "累计售出": "sold", "现价": "price", "原价": "cost",
}


def read_trades(page: ParsedPage, root: etree._Element, ctx: ThreadContext) -> None:
    """Append one :class:`Trade` per goods box of the opening post to ``page.trades`` and mark the thread
    ``special = "trade"``. Pages without goods boxes are left alone."""
    for pid, container in ctx.opening_posts(page):
        classes = ctx.boxes(page, pid).classes  # of the post's divs and tds: _TRADE_BLOCKS finds divs
        found = _BOXES(container) if ("trd" in classes or "trade" in classes) and _TRADE_BLOCKS(container) else []
        if not found:
            continue
        boxes = [(as_int(m.group(1)), box) for box in found
                 if (m := _BOX_ID.match(box.get("id", ""))) and as_int(m.group(1)) is not None]
        if not boxes and not any(_COUNTER_CLASS.search(el.get("class", "")) for el in found):
            continue
        seller = ctx.post(page, pid)
        base = join_url(ctx.url, (_BASE(root) or [""])[0]) or ctx.url
        for goods_pid, box in boxes:
            trade = _read_box(box, goods_pid, base, ctx)
            if seller is not None:
                trade.seller, trade.seller_uid = seller.author, seller.author_uid
            _check(trade, ("item", "price"))
            page.trades.append(trade)
        thread = ctx.thread(page)
        if thread is not None:
            thread.special = SPECIAL_TRADE
        return


def _read_box(box: etree._Element, pid: int, base: str, ctx: ThreadContext) -> Trade:
    """One goods box of the thread page (X ``div.trdl``, 7.x ``dl``)."""
    trade = Trade(tid=ctx.tid or 0, pid=pid)
    name_link = _X_NAME_LINK(box)
    if name_link:
        trade.item = tidy_text(text_of(name_link[0])) or None
        trade.url = join_url(base, name_link[0].get("href"))
    else:
        name = _7X_NAME(box)
        trade.item = tidy_text(text_of(name[0])) or None if name else None
    if trade.url is None:
        # 7.x links its goods page only in the box's onclick (ajaxget), X in it too.
        for onclick in _ONCLICKS(box):
            m = _AJAX_URL.search(onclick)
            if m:
                trade.url = join_url(base, m.group("url").replace("&amp;", "&"))
                break
    _picture(trade, _PICTURE(box), base)
    values = _pairs(box)
    _fill(trade, values, ctx)
    prices = _X_PRICES(box)
    if prices:
        trade.price, trade.credit_price = _money(prices[0])
        trade.cost_price = _cost(prices[0])
    else:
        # 7.x: p lines "原价 <del>X</del> 元", "现价 <strong>Y</strong> 元", and the time left (no strong, no del).
        for line in _7X_LINES(box):
            if _DEL(line):
                trade.cost_price = _cost(line)
            elif _STRONG(line):
                trade.price, trade.credit_price = _money(line)
            elif "expiry" not in values:
                _expiry(trade, line, ctx)
    return trade


def is_tradeinfo_url(url: str) -> bool:
    """Whether ``url`` asks for a goods page (``do=tradeinfo``, in X's or 7.x's spelling)."""
    query = split_url(url).query
    return "tradeinfo" in query and any(k.lower() == "do" and v == "tradeinfo" for k, v in parse_qsl(query))


def parse_tradeinfo_page(root: etree._Element, url: str, *, now: datetime | None, tz: tzinfo | None,
                         fetched_at: datetime | None) -> ParsedPage | None:
    """A goods page (``do=tradeinfo``) -> a ``tradeinfo`` :class:`ParsedPage` with its one :class:`Trade`
    (``content_text``/``content_html`` the goods post's message); ``None`` when the page shows no goods
    (an error page, say: the caller reads it as any other page)."""
    query = {k.lower(): v for k, v in parse_qsl(split_url(url).query)}
    tid = as_int(query.get("tid"))
    pid = as_int(query.get("pid"))
    base = join_url(url, (_BASE(root) or [""])[0]) or url
    ctx = ThreadContext(url=url, tid=tid, now=now, tz=tz)
    box = _PAGE_X_BOX(root)
    if box:
        trade, message = _read_x_page(root, box[0], pid, base, ctx)
        if trade is None:
            return None
    else:
        box = _PAGE_7X_BOX(root)
        if not box:
            return None
        trade, message = _read_7x_page(box[0], pid, base, ctx)
    if tid is None:
        for a in _PAGE_THREAD_LINKS(root):
            m = TID_IN_HREF.search(a.get("href", ""))
            if m:
                trade.tid = tid = as_int(m.group(1))
                break
    trade.url = url  # as the thread page's box links it (the page's own h1 spells it with another order)
    if message is not None:
        body = clean_message(message, base)
        trade.content_text, trade.content_html = body.text, body.html
    _check(trade, ("item", "price", "content_text"))
    page = ParsedPage(url=url, kind=KIND_TRADEINFO, fetched_at=fetched_at, tid=tid, trades=[trade])
    if trade.missing:
        page.status = STATUS_PARTIAL
        page.missing = [f"trade.{name}" for name in trade.missing]
    return page


def _read_x_page(root: etree._Element, box: etree._Element, pid: int | None, base: str,
                 ctx: ThreadContext) -> tuple[Trade | None, etree._Element | None]:
    trade = Trade(tid=ctx.tid or 0, pid=pid)
    title = _PAGE_X_TITLE(root)
    if title:
        trade.item = tidy_text(text_of(title[0])) or None
    seller = _PAGE_X_SELLER(root)
    if seller:
        name = "".join(_X_SELLER_NAME(seller[0]))
        trade.seller = tidy_text(name) or None
        for a in _X_SELLER_LINK(seller[0]):
            uid = uid_from_href(a.get("href"))
            if uid is not None:
                trade.seller_uid = uid
                break
    _picture(trade, _PAGE_X_SPVIMG(box), base)
    spi = _PAGE_X_SPI(box)
    values = _pairs(spi[0] if spi else box)
    if "price" not in values and "quality" not in values:
        return None, None  # a div.act that is no goods box (an activity thread asked for do=tradeinfo)
    _fill(trade, values, ctx)
    message = _PAGE_X_MESSAGE(box)
    return trade, message[0] if message else None


def _read_7x_page(box: etree._Element, pid: int | None, base: str,
                  ctx: ThreadContext) -> tuple[Trade, etree._Element | None]:
    trade = Trade(tid=ctx.tid or 0, pid=pid)
    attributes = _PAGE_7X_ATTRIBUTES(box)
    scope = attributes[0] if attributes else box
    name = _PAGE_7X_NAME(scope)
    trade.item = tidy_text(text_of(name[0])) or None if name else None
    _picture(trade, _PAGE_7X_PICTURE(box), base)
    _fill(trade, _pairs(scope), ctx)
    found = _PAGE_7X_MESSAGE(box)
    if not found:
        return trade, None
    message = copy.deepcopy(found[0])
    for aside in _7X_NOT_MESSAGE(message):
        drop(aside)
    return trade, message


# -- both ---------------------------------------------------------------------------------------------
def _pairs(scope: etree._Element) -> dict[str, etree._Element]:
    """``dt`` label -> its ``dd``, by the field the label names (first of each)."""
    values: dict[str, etree._Element] = {}
    for dt in _TERMS(scope):
        dd = dt.getnext()
        name = _FIELDS.get(_LABEL_END.sub("", simplified(tidy_text(text_of(dt)))))
        if name and dd is not None and dd.tag == "dd":
            values.setdefault(name, dd)
    return values


def _fill(trade: Trade, values: dict[str, etree._Element], ctx: ThreadContext) -> None:
    if "quality" in values:
        shown = tidy_text(text_of(values["quality"]))
        # 全新 / 二手, followed in X by the kind of goods (商品); what else a theme shows is kept as shown.
        trade.quality = "全新" if _NEW.search(shown) else "二手" if _USED.search(shown) else (shown or None)
    if "transport" in values:
        trade.transport = tidy_text(text_of(values["transport"])) or None
    if "expiry" in values:
        _expiry(trade, values["expiry"], ctx)
    if "amount" in values:
        trade.amount = parse_int(text_of(values["amount"]))
    if "locus" in values:
        trade.locus = tidy_text(text_of(values["locus"])) or None
    if "sold" in values:
        trade.sold = parse_int(text_of(values["sold"]))
    if "price" in values:
        trade.price, trade.credit_price = _money(values["price"])
    if "cost" in values:
        trade.cost_price = _cost(values["cost"])


def _money(el: etree._Element) -> tuple[float | None, int | None]:
    """(现价 in money, price in credits) from the ``strong``/``em`` figures of ``el``: a figure followed by 元 is
    money; one after 附加, or followed by a credit's unit and name, is credits (trade_additional)."""
    price = credit = None
    for figure in _STRONG_OR_EM(el):
        m = _NUMBER.search(text_of(figure))
        if not m:
            continue
        before = figure.getprevious().tail if figure.getprevious() is not None else figure.getparent().text
        after = tidy_text(figure.tail or "")
        if _ADDITIONAL.search(before or "") or (after and not _PAYMENT_UNIT.match(after)):
            credit = credit if credit is not None else parse_int(m.group(0))
        elif price is None:
            price = float(m.group(0).replace(",", ""))
    if price is None and credit is None:
        m = _NUMBER.search(text_of(el))
        price = float(m.group(0).replace(",", "")) if m else None
    return price, credit


def _cost(el: etree._Element) -> float | None:
    """原价 in money: the ``del`` not marked 附加 (that one is the original credit price)."""
    for struck in _DEL(el):
        text = text_of(struck)
        m = _NUMBER.search(text)
        if m and not _ADDITIONAL.search(text):
            return float(m.group(0).replace(",", ""))
    return None


def _expiry(trade: Trade, el: etree._Element, ctx: ThreadContext) -> None:
    """剩余时间: ``N天M小时`` (resolved against the page's time), 成交结束 (kept as shown), or blank/`` 小时`` for
    goods that never expire."""
    shown = tidy_text(text_of(el))
    if not shown:
        return
    if _CLOSED.search(shown):
        trade.expires_at_text = shown
        return
    m = _TIME_LEFT.match(shown)
    if m is None:
        trade.expires_at_text = shown
        return
    days, hours = m.group("days"), m.group("hours")
    if not days and not hours:
        return  # " 小时": the template's empty hour count, for goods without an expiry
    trade.expires_at_text = shown
    if ctx.now is not None:
        try:
            trade.expires_at = (ctx.now.astimezone(ctx.tz) if ctx.tz else ctx.now) + timedelta(
                days=as_int(days) or 0, hours=as_int(hours) or 0)
        except OverflowError:  # a time left past the calendar's end (a damaged page): no end time
            trade.expires_at = None


def _picture(trade: Trade, images: list, base: str) -> None:
    for img in images:
        src = img.get("src") or ""
        if any(marker in src for marker in _NO_PHOTO):
            continue
        url = image_url(img, base)
        if url:
            trade.image_url = url
            aid = img.get("aid")
            trade.aid = as_int(aid)
            return


def _check(trade: Trade, required: tuple[str, ...]) -> None:
    missing = []
    for name in required:
        if name == "price":
            if trade.price is None and trade.credit_price is None:
                missing.append("price")
        elif getattr(trade, name) in (None, ""):
            missing.append(name)
    if missing:
        trade.status = BOX_PARTIAL
        trade.missing = missing


__all__ = ["read_trades", "parse_tradeinfo_page", "is_tradeinfo_url"]
