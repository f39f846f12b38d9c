"""What stands between a crawler and the forum: Discuz!'s own CC defence and the firewalls and CDNs in front of it.

Pure recognition: an answer's HTTP status, headers and bytes in, a :class:`Barrier` (or ``None``) out. Nothing here
fetches, waits or solves anything; ``scraper/barriers.py`` decides what a crawl does about each one, and
:func:`scraper.parsers.parse_page` reads these answers as special pages (never as unreadable ones).

**Discuz!'s CC defence** (``$_config['security']['attackevasive']``, X2–X3.5 ``source/include/misc/misc_security.php``;
7.x ``include/security.inc.php``; reference section 4.12) answers with ``securitymessage()``: a bare page with no
Discuz! skeleton, ``<body bgcolor="#FFFFFF">`` and the message in a ``bgcolor="#EBEBEB"`` cell under a
``<b style="font-size: 16px">`` subject (7.x writes the texts as HTML numeric entities; ``inajax=1`` gets the same
texts in ``<div id="attackevasive_1">`` inside XML). Its shape alone says which check answered:

- a page that reloads itself (``setTimeout("reload()", 1001)``): ``1`` (频繁刷新限制, two requests less than a second
  apart) or ``4`` (页面重载开启, the first request without the ``lastrequest`` cookie); the text tells them apart;
- a form with ``secqsubmit``: ``8``, a question to answer (X3's arithmetic, 7.x's 验证问答) before any page;
- neither: ``2``, 代理服务器访问限制 (requests carrying proxy headers).

On PHP 8 the ``1`` check of a request without a (decodable) ``lastrequest`` cookie subtracts ``''`` from a number:
Discuz!'s 503 "Discuz! System Error" answers (``Retry-After: 3600``), having set the cookie already. Only that
``Set-Cookie`` tells it from any other system error, so it is recognised with the headers only.

**Firewalls and CDNs** answer with a challenge or a block page instead of the forum, recognised by their own
markup, cookies and headers (as WAF fingerprinting tools such as wafw00f name them): 知道创宇 加速乐 (HTTP 521 and a
script that sets ``__jsl_clearance``, ``__jsluid`` cookies), Cloudflare ("Just a moment...", ``_cf_chl_opt``,
``/cdn-cgi/challenge-platform/``, ``cf-mitigated: challenge``), 安全狗 (``404.safedog.cn`` images), 云锁
(``yunsuologo``, ``yunsuo_session``), 宝塔's website firewall ("网站防火墙 … 已被网站管理员设置拦截", its
``renji_``/``huadong_`` verification scripts) and 360 网站卫士 (``/wzws-waf-cgi/``, HTTP 493). A page that carries the
Discuz! skeleton is the forum's own, whatever it quotes, and never one of these.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..digits import as_int
from ..items import STATUS_BARRIER, STATUS_FLOOD
from .common import decode_body
from .labels import label_pattern

CC_FLOOD = "cc_flood"  # attackevasive 1: 频繁刷新限制 (requests less than a second apart)
CC_FIRST = "cc_first"  # attackevasive 1 on PHP 8: 503 "Discuz! System Error" for a request without the cookie
CC_RELOAD = "cc_reload"  # attackevasive 4: 页面重载开启 (no lastrequest cookie yet, or one older than 300 s)
CC_PROXY = "cc_proxy"  # attackevasive 2: 代理服务器访问限制
CC_QUESTION = "cc_question"  # attackevasive 8: a question before any page
JIASULE = "jiasule"
CLOUDFLARE = "cloudflare"
SAFEDOG = "safedog"
YUNSUO = "yunsuo"
BTWAF = "btwaf"
WZWS = "wzws"
# The CC answers a browser passes by itself (cookies kept, a reload, a page a second): the crawl does too.
PASSABLE = frozenset({CC_FLOOD, CC_FIRST, CC_RELOAD})

# Barrier pages are small; a page larger than this is never read for one (Discuz! pages are tens of KB: they are
# told apart by their skeleton, below, long before this matters). Headers are read whatever the size.
MAX_BARRIER_BYTES = 65536
MAX_PAGE_BARRIER_BYTES = 32768  # ... and for one served as a page (2xx): the CC pages are 1–5 KB
DISCUZ_HEAD_BYTES = 8192
_TEXTUAL = re.compile(r"html|xml|text|script", re.I)  # Content-Types a challenge or block page is served as
RELOAD_DELAY = 1.001  # securitymessage()'s setTimeout("reload()", 1001), for the forms that state none (inajax)

# -- Discuz!'s CC defence ----------------------------------------------------------------------------------------
# securitymessage(): the cell the message sits in, its subject, and the inajax form's div.
_CC_CELL = re.compile(rb'bgcolor=["\']?#EBEBEB')
_CC_SUBJECT_TAG = re.compile(rb'<b style="font-size:\s*16px">', re.I)
_CC_AJAX = re.compile(rb'<div id="attackevasive_1"')
_RELOAD_TIMER = re.compile(rb'setTimeout\(\s*["\']reload\(\)["\']\s*,\s*(\d+)\s*\)')
_QUESTION_FORM = re.compile(rb'name=["\']?secqsubmit', re.I)
_SUBJECT = re.compile(r'<b style="font-size:\s*16px">(.*?)</b>', re.S | re.I)
_TAGS = re.compile(r"<[^>]*>")
# lang_security.php (X) and security.inc.php's entities (7.x), both scripts.
_FLOOD_TEXT = label_pattern(r"频繁刷新限制|刷新间隔时间|访问本站速度过快")
_RELOAD_TEXT = label_pattern(r"页面重载开启|页面正在重新载入")
_PROXY_TEXT = label_pattern(r"代理(?:服务器|伺服器)访问限制|限制使用代理")
# discuz_error::show_error(): "<h1>Discuz! System Error</h1>" (Database / General with other settings).
_SYSTEM_ERROR = re.compile(rb"<h1>Discuz! \w+ Error</h1>")
_LASTREQUEST_COOKIE = re.compile(rb"^\s*[^=;]*lastrequest=", re.I)

# -- firewalls and CDNs ------------------------------------------------------------------------------------------
# The forum's own page (its generator, footer or scripts): never a barrier page, whatever it quotes.
_DISCUZ_PAGE = re.compile(rb"Discuz!|discuz_uid|<div id=\"wp\"")
# Markup only their challenge and block pages carry (URLs, class names, script variables), at any status.
_FIREWALL_MARKUP = (
    (JIASULE, re.compile(rb"__jsl_clearance|\('_'\)\+\('_'\)\+\('j'\)\+\('s'\)\+\('l'\)|static\.jiasule\.com"
                         rb"|notice-jiasule|/ks[-_]waf[-_]error\.png|365cyd\.(?:com|net)")),
    (CLOUDFLARE, re.compile(rb"_cf_chl_opt|/cdn-cgi/challenge-platform/|cf-browser-verification|cf_chl_"
                            rb"|<title>Just a moment\.\.\.</title>|<title>Attention Required! \| Cloudflare</title>")),
    (SAFEDOG, re.compile(rb"404\.safedog\.cn|safedogsite/")),
    (YUNSUO, re.compile(rb"class=[\"']?yunsuologo")),
    (BTWAF, re.compile(rb"(?:renji|huadong)_[0-9a-f]{8}_[0-9a-f]{32}\.js|_fingerprint2daasdsaaa\.js|btwaf_")),
    (WZWS, re.compile(rb"/wzws-waf-cgi/|wzwschallenge|wangzhan\.360\.cn")),
)
# Their own words, read on a refusal (status >= 400 but 404 and 410): the block pages state the product.
_FIREWALL_TEXT = (
    (SAFEDOG, label_pattern(r"安全狗")),
    (YUNSUO, label_pattern(r"云锁")),
    (BTWAF, label_pattern(r"宝塔|网站防火墙[\s\S]*已被网站管理员设置拦截")),
    (WZWS, label_pattern(r"网站卫士")),
    (JIASULE, label_pattern(r"加速乐|创宇盾")),
)
# Their cookies and headers (as fingerprinting tools list them), believed only with the status their challenge or
# block is served with: a normal page through the same product carries the same cookie.
_FIREWALL_HEADERS = (
    (JIASULE, (521, 468), re.compile(r"set-cookie: __jsluid|^server: jiasule|^x-via-jsl:", re.I | re.M)),
    (WZWS, (493,), re.compile(r"^wzws-ray:|^x-powered-by-360wzb:|set-cookie: wzws_cid=|^server: qianxin-waf",
                              re.I | re.M)),
    (SAFEDOG, (403,), re.compile(r"^server: safedog|set-cookie: safedog-flow-item=|^x-powered-by: waf/2\.0",
                                 re.I | re.M)),
    (YUNSUO, (403,), re.compile(r"set-cookie: yunsuo_session", re.I | re.M)),
)
# 加速乐's first answer is a 521 whose whole body is one script setting its cookie and reloading.
_JIASULE_521 = re.compile(rb"<script>[\s\S]*document\.cookie\s*=[\s\S]*location\.href\s*=\s*location\.pathname")

# -- what each one is and what to do -----------------------------------------------------------------------------
_AFTER_A_BROWSER = ("dzarchive runs no challenge meant for a browser: open the forum in a browser that passes it,"
                    " export that browser's cookies and crawl with them (--cookies cookies.txt) at a slower --delay"
                    " (e.g. --delay 3), or ask the forum's admins to let the archiver through")
_NAMES = {
    CC_FLOOD: "Discuz!'s CC defence (attackevasive 1, 频繁刷新限制: requests less than a second apart)",
    CC_FIRST: "Discuz!'s CC defence (attackevasive 1 on PHP 8: 503 \"Discuz! System Error\" for a first request)",
    CC_RELOAD: "Discuz!'s CC defence (attackevasive 4, 页面重载开启: a page that reloads itself with a cookie)",
    CC_PROXY: "Discuz!'s CC defence (attackevasive 2, 代理服务器访问限制): the forum refuses requests that come"
              " through a proxy (Via, X-Forwarded-For, Proxy-Connection headers)",
    CC_QUESTION: "Discuz!'s CC defence (attackevasive 8) asks every new visitor a question before any page",
    JIASULE: "知道创宇 加速乐 (Jiasule) answers with a JavaScript challenge (HTTP 521, a script that sets the"
             " __jsl_clearance cookie)",
    CLOUDFLARE: "Cloudflare answers with its browser check (\"Just a moment...\", HTTP 403/503)",
    SAFEDOG: "安全狗 (SafeDog) website firewall blocks the crawl",
    YUNSUO: "云锁 (Yunsuo) website firewall blocks the crawl",
    BTWAF: "宝塔 (BT panel) website firewall blocks the crawl",
    WZWS: "360 网站卫士 (WZWS) answers with its challenge",
}
_REMEDIES = {
    CC_FLOOD: "the page is fetched again, one request a second from then on (as a browser shows a page a second)",
    CC_FIRST: "the page is fetched again a second later, with the cookie the answer set",
    CC_RELOAD: "the page is fetched again after its delay, with the cookie it set (as a browser reloads it)",
    CC_PROXY: "crawl without a proxy (unset http_proxy / https_proxy, or use one that adds no such headers)",
    CC_QUESTION: "dzarchive answers no question meant for a person: answer it in a browser, then crawl with that"
                 " browser's cookies (--cookies cookies.txt)",
}


@dataclass(frozen=True)
class Barrier:
    """One answer that stands in the way: ``kind`` (the constants above), ``detail`` (what the page itself says, e.g.
    the question asked) and ``delay`` (seconds the page waits before reloading itself; 0 when it does not)."""

    kind: str
    detail: str = ""
    delay: float = 0.0

    @property
    def passable(self) -> bool:
        """Whether a browser passes it by itself (cookies kept, one reload, a page a second), and so a crawl."""
        return self.kind in PASSABLE

    @property
    def status(self) -> str:
        """The page state it is read as: flood control (fetched again) or a barrier (the crawl stops)."""
        return STATUS_FLOOD if self.passable else STATUS_BARRIER

    @property
    def name(self) -> str:
        """What it is, in one phrase."""
        name = _NAMES[self.kind]
        return f"{name} ({self.detail})" if self.detail else name

    @property
    def remedy(self) -> str:
        """What the person running the crawl can do about it."""
        return _REMEDIES.get(self.kind, _AFTER_A_BROWSER)

    def line(self) -> str:
        """One line: which barrier, and what to do."""
        return f"{self.name}: {self.remedy}"


def recognise(status: int | None, body: bytes | str | None, headers: Mapping | None = None,
              content_type: str | None = None) -> Barrier | None:
    """The barrier an answer is, or ``None`` for anything else (the forum's own pages, errors, files).

    In: the HTTP status (``None`` when unknown), the body as received (decompressed), the response headers when
    known (a Scrapy ``Headers`` or any mapping; without them, only what the bytes show is recognised: not the
    PHP 8 first-request 503, not a challenge known by its headers alone) and the Content-Type (read from
    ``headers`` when not given). Out: a :class:`Barrier`. Cheap for the forum's pages: a large body is not read,
    and a small one is given up at its Discuz! skeleton.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    header_text = _header_text(headers) if headers else ""
    if "cf-mitigated: challenge" in header_text.lower():
        return Barrier(CLOUDFLARE)
    if len(raw) > (MAX_BARRIER_BYTES if status and status >= 400 else MAX_PAGE_BARRIER_BYTES):
        return None
    if content_type is None and headers:
        content_type = _header(headers, "Content-Type")
    if content_type and not _TEXTUAL.search(content_type):
        return None  # a picture, an attachment
    # The forum's own page, known in its first lines (generator, discuz_uid), else anywhere (a theme's own head);
    # securitymessage() names no Discuz!.
    if _DISCUZ_PAGE.search(raw, 0, DISCUZ_HEAD_BYTES) or _DISCUZ_PAGE.search(raw, DISCUZ_HEAD_BYTES - 32):
        if status == 503 and _SYSTEM_ERROR.search(raw) and _sets_lastrequest(headers):
            return Barrier(CC_FIRST, delay=1.0)
        return None
    if _CC_CELL.search(raw) and _CC_SUBJECT_TAG.search(raw) or _CC_AJAX.search(raw):
        return _cc_page(raw, content_type)
    for kind, markup in _FIREWALL_MARKUP:
        if markup.search(raw):
            return Barrier(kind)
    if status == 521 and _JIASULE_521.search(raw):
        return Barrier(JIASULE)
    if status is None or status < 400:
        return None
    for kind, statuses, pattern in _FIREWALL_HEADERS:
        if status in statuses and pattern.search(header_text):
            return Barrier(kind)
    if raw and status not in (404, 410):  # a web server's own "no such site/page" may name its panel: no block
        text = decode_body(raw, content_type)[0]
        for kind, words in _FIREWALL_TEXT:
            if words.search(text):
                return Barrier(kind)
    return None


def _cc_page(raw: bytes, content_type: str | None) -> Barrier:
    """Which of securitymessage()'s pages ``raw`` is (see the module docstring)."""
    text = html.unescape(decode_body(raw, content_type)[0])  # 7.x writes its texts as &#x...; entities
    subject = _SUBJECT.search(text)
    subject_text = " ".join(_TAGS.sub(" ", subject.group(1)).split()) if subject else ""
    if _QUESTION_FORM.search(raw):
        return Barrier(CC_QUESTION, detail=subject_text[:80])
    timer = _RELOAD_TIMER.search(raw)
    milliseconds = as_int(timer.group(1).decode("ascii")) if timer else None  # none for 5000 digits
    delay = milliseconds / 1000 if milliseconds is not None else RELOAD_DELAY
    if _FLOOD_TEXT.search(text):
        return Barrier(CC_FLOOD, delay=delay)
    if _RELOAD_TEXT.search(text):
        return Barrier(CC_RELOAD, delay=delay)
    if _PROXY_TEXT.search(text) or not (timer or _CC_AJAX.search(raw)):
        # Only 2's page neither reloads nor asks (securitymessage(..., FALSE)), whatever its language pack says.
        return Barrier(CC_PROXY)
    # A reloading page in words this table does not know: do as a browser does, reload it after its delay.
    return Barrier(CC_RELOAD, detail=subject_text[:80], delay=delay)


def _sets_lastrequest(headers: Mapping | None) -> bool:
    """Whether the answer sets Discuz!'s ``{cookiepre}lastrequest`` cookie (the CC defence set it before failing)."""
    return any(_LASTREQUEST_COOKIE.match(value) for value in _header_values(headers, "Set-Cookie"))


def _header_values(headers: Mapping | None, name: str) -> list[bytes]:
    """Every value of header ``name`` as bytes, from a Scrapy ``Headers`` or a plain mapping (any case)."""
    if not headers:
        return []
    if hasattr(headers, "getlist"):
        return [v if isinstance(v, bytes) else str(v).encode("latin-1") for v in headers.getlist(name)]
    out = []
    for key, value in headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key.lower() == name.lower():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                out.append(item if isinstance(item, bytes) else str(item).encode("latin-1"))
    return out


def _header(headers: Mapping, name: str) -> str | None:
    values = _header_values(headers, name)
    return values[0].decode("latin-1") if values else None


def _header_text(headers: Mapping) -> str:
    """The headers as ``name: value`` lines, names lower case (one line per value)."""
    lines = []
    for key, value in headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            item = item.decode("latin-1") if isinstance(item, bytes) else str(item)
            lines.append(f"{key.lower()}: {item}")
    return "\n".join(lines)


__all__ = ["Barrier", "recognise", "PASSABLE", "CC_FLOOD", "CC_FIRST", "CC_RELOAD", "CC_PROXY", "CC_QUESTION",
           "JIASULE", "CLOUDFLARE", "SAFEDOG", "YUNSUO", "BTWAF", "WZWS", "MAX_BARRIER_BYTES"]
