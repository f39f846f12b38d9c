"""What real forums put in front of their pages, on loopback: Discuz!'s CC defence and firewall challenges.

:class:`CCDefenceServer` replays a capture behind Discuz!'s own CC defence (``$_config['security']['attackevasive']``),
emulated from its source (``source/include/misc/misc_security.php``; reference section 4.12) for every PHP page (what
the capture serves but robots.txt and static files, rewritten URLs included):

- every answer sets ``{cookiepre}lastrequest`` to the request's time in whole seconds, sealed with a key that
  includes ``{cookiepre}saltkey`` (set when the request carries none), so the two cookies only work together;
- ``1``: a request whose cookie time is less than a second old gets 频繁刷新限制; on PHP 8 a request without a
  (decodable) cookie gets Discuz!'s 503 "Discuz! System Error" (``Retry-After: 3600``), the cookies already set;
- ``2``: a request with proxy headers (``Via``, ``X-Forwarded-For``, ``Proxy-Connection`` …) gets 代理服务器访问限制;
- ``4``: a request without the cookie, or with one older than 300 s, gets 页面重载开启;
- ``8``: the arithmetic question form before any page (nothing here ever answers it).

The pages are :func:`security_page`'s bytes, echo for echo as ``securitymessage()`` prints them (X3.5's, or 7.x's
with entity-encoded texts, or the ``inajax`` XML). ``answers`` counts what was served: ``page``, ``static`` and each
refusal (``"1"``, ``"2"``, ``"4"``, ``"8"``, ``"503"``), ``log`` each answer with its time; ``refused`` is the sum
of the refusals.

:class:`ChallengeReplayServer` replays a capture and answers with a firewall's challenge or block page
(:data:`FIREWALL_CHALLENGES`, written from what those products serve) from its ``after``-th request on.

Command line: ``python -m testbed.cc_defence FOLDER --attackevasive '1|4' [--php 7]``.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import secrets
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import quote, unquote

from .replay import _PRINTABLE_ASCII, NOT_FOUND_TEMPLATE, ReplayServer, _ReplayHandler, _split_target, serve_until_interrupted

__all__ = ["CCDefenceServer", "ChallengeReplayServer", "FIREWALL_CHALLENGES", "security_page", "system_error_page",
           "CC_TEXTS", "main"]

# lang_security.php (X2–X3.5) and security.inc.php's own table (7.x, HTML numeric entities).
CC_TEXTS = {
    1: ("频繁刷新限制", "您访问本站速度过快或者刷新间隔时间小于两秒！请等待页面自动跳转 ..."),
    2: ("代理服务器访问限制", "本站现在限制使用代理服务器访问，请去除您的代理设置，直接访问本站。"),
    4: ("页面重载开启", "欢迎光临本站，页面正在重新载入，请稍候 ..."),
}
# What misc_security.php checks for a proxy ($_SERVER['HTTP_*']).
PROXY_HEADERS = ("X-Forwarded-For", "Via", "Proxy-Connection", "User-Agent-Via", "Cache-Info")
# Not PHP: served without the check (the web server answers them itself).
STATIC_SUFFIXES = (".txt", ".css", ".js", ".png", ".gif", ".jpg", ".jpeg", ".ico", ".webp", ".svg", ".xml")
COOKIE_LIFE = 816400  # dsetcookie('lastrequest', …, TIMESTAMP + 816400, …)
SALTKEY_LIFE = 86400 * 30
RELOAD_AFTER = 300  # 4: a cookie older than this reloads the page again


def _entities(text: str) -> str:
    """7.x's spelling of a text: every character as a hexadecimal numeric entity (``&#x9891;``)."""
    return "".join(f"&#x{ord(ch):x};" for ch in text)


def security_page(subject: str, message: str, *, reload: bool = True, form: bool = False, inajax: bool = False,
                  version: str = "X3.5", charset: str = "", php_self: str = "/forum.php") -> bytes:
    """The bytes ``securitymessage()`` prints (UTF-8), echo for echo.

    ``version`` ``"X3.5"`` (X2–X3.5's page, with X3.5's meta lines and ``<meta charset="">``: the page is printed
    before the charset is known) or ``"7"`` (7.x's: no meta, the texts as entities); ``inajax`` the XML answer.
    """
    if version.startswith("7"):
        subject, message = (_entities(t) if t in {s for pair in CC_TEXTS.values() for s in pair} else t
                            for t in (subject, message))
    if inajax:
        return (f'<?xml version="1.0" encoding="{charset or "utf-8"}"?>\n<root><![CDATA['
                f'<div id="attackevasive_1" class="popupmenu_option"><b style="font-size: 16px">{subject}</b>'
                f'<br /><br />{message}</div>]]></root>').encode("utf-8")
    out = ["<html>", "<head>"]
    if not version.startswith("7"):
        out += [f'<meta charset="{charset}" />', '<meta name="renderer" content="webkit" />',
                '<meta http-equiv="X-UA-Compatible" content="IE=edge" />']
    out += [f"<title>{subject}</title>", "</head>", '<body bgcolor="#FFFFFF">']
    if reload:
        out += ['<script language="JavaScript">', "function reload() {", "\tdocument.location.reload();", "}",
                'setTimeout("reload()", 1001);', "</script>"]
    if form:
        out.append(f'<form action="{php_self}" method="POST">' if version.startswith("7")
                   else f'<form action="{php_self}" method="post" autocomplete="off">')
    out += ['<table cellpadding="0" cellspacing="0" border="0" width="700" align="center" height="85%">',
            '  <tr align="center" valign="middle">', "    <td>",
            '    <table cellpadding="10" cellspacing="0" border="0" width="80%" align="center" style="font-family:'
            ' Verdana, Tahoma; color: #666666; font-size: 11px">',
            "    <tr>", '      <td valign="middle" align="center" bgcolor="#EBEBEB">',
            f'     \t<br /><br /> <b style="font-size: 16px">{subject}</b> <br /><br />', message,
            "        <br /><br />", "      </td>", "    </tr>", "    </table>", "    </td>", "  </tr>", "</table>"]
    if form:
        out.append("</form>")
    out += ["</body>", "</html>"]
    return "".join(out).encode("utf-8")


def question_form(version: str = "X3.5") -> tuple[str, str]:
    """8's question and form as misc_security.php makes them: a sum of 2–4 numbers from 1 to 20 (``3 + 12 = ?``)."""
    import random

    numbers = [random.randint(1, 20) for _ in range(random.randint(2, 4))]
    button = ('<input class="button" type="submit" name="secqsubmit" value=" Submit " />' if version.startswith("7")
              else '<input type="submit" name="secqsubmit" class="button" value=" Submit " />')
    answer = '<input type="text" name="answer" size="8" maxlength="150" />'
    return " + ".join(map(str, numbers)) + " = ?", answer + button


def system_error_page(host: str, message: str, trace: list[tuple[str, int, str]], *, client_ip: str = "127.0.0.1",
                      charset: str = "utf-8") -> bytes:
    """``discuz_error::show_error('system', …)`` as X3.5 prints it (``showerror`` 1: the message and the trace)."""
    rows = "".join(f'<tr class="bg1"><td>{n}</td><td>{file}</td><td>{line}</td><td>{function}</td></tr>'
                   for n, (file, line, function) in enumerate(trace, 1))
    backtrace = hashlib.md5(message.encode()).hexdigest()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S +0800", time.gmtime(time.time() + 8 * 3600))
    parts = [f"<p>Time: {stamp} IP: {client_ip} BackTraceID: {backtrace}</p>",
             f'<div class="info">{message}</div>',
             '<div class="info"><p><strong>PHP Debug</strong></p><table cellpadding="5" cellspacing="1" width="100%"'
             ' class="table"><tr class="bg2"><td>No.</td><td>File</td><td>Line</td><td>Code</td></tr>'
             f"{rows}</table></div>",
             # lang_error.php: suggestion_user, suggestion, error_end_message
             '<div class="help">如果您是用户，建议您尝试刷新页面、关闭所有浏览器窗口重新进行操作。如果无法解决，建议您完整截图'
             "本页面并保存，随后向站点管理员反馈此问题</div>",
             '<div class="help">如果您是站点管理员，建议您尝试在管理中心 <a href="admin.php?action=tools&operation='
             'updatecache&frames=yes" target="_blank">更新缓存</a> ，或凭完整截图通过 <a href="https://www.dismall.com/"'
             ' target="_blank">官方论坛</a> 寻求帮助。如果您确定是程序自身Bug，您也可直接 <a href="https://gitee.com/'
             'discuz/DiscuzX/issues" target="_blank">提交Issue</a> 给我们</div>',
             f'<div class="help"><a href="http://{host}">{host}</a> 已经将此出错信息详细记录, 由此给您带来的访问不便我们'
             "深感歉意</div>"]
    return f"""<!DOCTYPE html>
<html>
<head>
	<title>{host} - System Error</title>
	<meta charset="{charset}" />
	<meta name="renderer" content="webkit" />
	<meta http-equiv="X-UA-Compatible" content="IE=edge" />
	<meta name="ROBOTS" content="NOINDEX,NOFOLLOW,NOARCHIVE" />
	<meta name="viewport" content="width=device-width, initial-scale=1.0">
	<style type="text/css">
	<!--
	body {{ background-color: white; color: black; font: 9pt/11pt verdana, arial, sans-serif;}}
	#container {{ max-width: 1024px; margin: auto; }}
	h1 {{ color: #FF0000; font: 18pt "Verdana"; margin-bottom: 0.5em;}}
	-->
	</style>
</head>
<body>
<div id="container">
<h1>Discuz! System Error</h1>
{"".join(parts)}
</div>
</body>
</html>""".encode(charset)


def _set_cookie(name: str, value: str, life: int, now: int) -> str:
    """A ``Set-Cookie`` value as PHP's ``setcookie()`` writes it (value URL-encoded, expires and Max-Age)."""
    expires = formatdate(now + life, usegmt=True)
    expires = f"{expires[:7]}-{expires[8:11]}-{expires[12:]}"  # PHP: "Thu, 31-Dec-2026 20:12:34 GMT"
    return f"{name}={quote(value, safe='')}; expires={expires}; Max-Age={life}; path=/; HttpOnly"


class _DefenceHandler(_ReplayHandler):
    def _serve(self, send_body: bool) -> None:
        replay: CCDefenceServer = self.server.replay  # type: ignore[attr-defined]
        target = quote(self.path.encode("latin-1"), safe=_PRINTABLE_ASCII)
        _, path, query = _split_target(target)
        path_query = path + ("?" + query if query else "")
        if path.lower().endswith(STATIC_SUFFIXES):
            replay._count("static", path_query)
            return super()._serve(send_body)
        replay._log_request(path_query, self.headers.get("User-Agent"))
        refusal, cookies = replay._check(self.headers, inajax="inajax=1" in query)
        if refusal is not None:
            kind, status, extra, body = refusal
            replay._count(kind, path_query)
            headers = {**extra, "Set-Cookie": cookies}
            return self._respond(status, "text/html; charset=utf-8" if b"<?xml" not in body[:10] else
                                 "application/xml; charset=utf-8", headers, body, send_body)
        replay._count("page", path_query)
        entry = replay.capture.lookup(path_query, exact=replay.exact or None)
        if entry is None:
            body = NOT_FOUND_TEMPLATE.format(path_query).encode("utf-8")
            return self._respond(404, "text/html; charset=utf-8", {"Set-Cookie": cookies}, body, send_body)
        return self._respond(entry.status, entry.content_type, {**entry.headers, "Set-Cookie": cookies}, entry.body(),
                             send_body)


class CCDefenceServer(ReplayServer):
    """A :class:`~testbed.replay.ReplayServer` behind Discuz!'s CC defence (see the module docstring).

    ``attackevasive`` as ``config_global.php`` gives it (``"1|4"``, ``"1"``, ``2``…); ``php`` 7 or 8 (on 8, ``1``
    answers a request without the cookie with the 503); ``version`` ``"X3.5"`` or ``"7"`` (the pages' spelling);
    ``cookiepre`` the cookies' prefix (capture F's ``Rk2c_2132_`` by default); ``via_proxy`` makes every request
    carry a ``Via`` header, as one sent through a proxy does.
    """

    handler_class = _DefenceHandler

    def __init__(self, capture, *, attackevasive: str | int = "1|4", php: int = 8, version: str = "X3.5",
                 cookiepre: str = "Rk2c_2132_", via_proxy: bool = False, **kwargs: Any):
        super().__init__(capture, **kwargs)
        self.attackevasive = (sum(int(part or 0) for part in attackevasive.split("|"))
                              if isinstance(attackevasive, str) else int(attackevasive))
        self.php, self.version, self.cookiepre, self.via_proxy = php, version, cookiepre, via_proxy
        self.answers: Counter = Counter()
        self.log: list[tuple[float, str, str]] = []  # (time.monotonic(), kind, path + query) of every answer
        self._authkey = secrets.token_bytes(16)  # $_config['security']['authkey']
        self._count_lock = threading.Lock()

    @property
    def refused(self) -> int:
        """How many answers were the defence's instead of a page."""
        return sum(n for kind, n in self.answers.items() if kind not in ("page", "static"))

    @property
    def php_answers(self) -> int:
        """Every answer to a PHP page: the pages and the refusals."""
        return sum(n for kind, n in self.answers.items() if kind != "static")

    def _count(self, kind: str, path_query: str) -> None:
        with self._count_lock:
            self.answers[kind] += 1
            self.log.append((time.monotonic(), kind, path_query))

    # authcode($value, 'ENCODE'/'DECODE') with the key md5(authkey . saltkey): a stand-in that seals the same way.
    def _seal(self, value: str, saltkey: str) -> str:
        mac = hmac.new(self._authkey + saltkey.encode(), value.encode(), hashlib.sha1).hexdigest()[:16]
        return base64.b64encode(f"{mac}{value}".encode()).decode()

    def _unseal(self, token: str, saltkey: str) -> str:
        try:
            text = base64.b64decode(token.encode(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return ""
        mac, value = text[:16], text[16:]
        good = hmac.new(self._authkey + saltkey.encode(), value.encode(), hashlib.sha1).hexdigest()[:16]
        return value if hmac.compare_digest(mac, good) else ""

    def _check(self, headers, *, inajax: bool) -> tuple[tuple[str, int, dict, bytes] | None, list[str]]:
        """misc_security.php for one request: ``(refusal or None, Set-Cookie values)``; a refusal is ``(kind,
        status, headers, body)``."""
        now = int(time.time())  # TIMESTAMP: whole seconds
        jar = SimpleCookie()
        try:
            jar.load(headers.get("Cookie", ""))
        except CookieError:
            pass
        cookie = {name: unquote(morsel.value) for name, morsel in jar.items()}
        pre, ae, cookies = self.cookiepre, self.attackevasive, []
        saltkey = cookie.get(pre + "saltkey", "")
        if not saltkey:  # discuz_application::_init_input()
            saltkey = secrets.token_hex(4)
            cookies.append(_set_cookie(pre + "saltkey", saltkey, SALTKEY_LIFE, now))
        lastrequest = self._unseal(cookie.get(pre + "lastrequest", ""), saltkey)
        if ae & 1 or ae & 4:
            cookies.append(_set_cookie(pre + "lastrequest", self._seal(str(now), saltkey), now + COOKIE_LIFE, now))
        if ae & 1:
            if not lastrequest and self.php >= 8:
                # TIMESTAMP - '': PHP 8 throws TypeError, caught by Discuz!'s handler (discuz_error::exception_error).
                trace = [("forum.php", 57, "C::app()"), ("source/class/discuz/discuz_core.php", 29,
                          "discuz_application::instance()"),
                         ("source/class/discuz/discuz_application.php", 51, "discuz_application->__construct()"),
                         ("source/class/discuz/discuz_application.php", 61, "discuz_application->_init_output()"),
                         ("source/class/discuz/discuz_application.php", 333, "require_once(%s)"),
                         ("source/include/misc/misc_security.php", 34, "break")]
                body = system_error_page(headers.get("Host", "localhost").split(":")[0],
                                         "Unsupported operand types: int - string", trace)
                return ("503", 503, {"Retry-After": "3600"}, body), cookies
            if lastrequest and now - int(lastrequest) < 1:
                return self._message(1, inajax), cookies
        proxied = self.via_proxy or any(headers.get(name) for name in PROXY_HEADERS)
        if ae & 2 and proxied:
            return self._message(2, inajax, reload=False), cookies
        if ae & 4 and (not lastrequest or now - int(lastrequest) > RELOAD_AFTER):
            return self._message(4, inajax), cookies
        if ae & 8 and not self._unseal(cookie.get(pre + "visitcode", ""), saltkey).endswith("|1"):
            question, form = question_form(self.version)
            cookies.append(_set_cookie(pre + "visitcode", self._seal(f"{hash(question)}|0|{now}", saltkey),
                                       now + COOKIE_LIFE, now))
            return ("8", 200, {}, security_page(question, form, reload=False, form=True, inajax=inajax,
                                           version=self.version)), cookies
        return None, cookies

    def _message(self, check: int, inajax: bool, reload: bool = True) -> tuple[str, int, dict, bytes]:
        subject, message = CC_TEXTS[check]
        return str(check), 200, {}, security_page(subject, message, reload=reload, inajax=inajax, version=self.version)


# -- firewalls in front of a forum -------------------------------------------------------------------------------
# What each serves instead of the page, as their challenge and block pages are documented and fingerprinted (the
# scripts shortened; the markers kept): (status, headers, body).
FIREWALL_CHALLENGES: dict[str, tuple[int, dict, bytes]] = {
    # 知道创宇 加速乐: the first answer is a 521 whose body is one script that spells the cookie's name out and reloads.
    "jiasule": (521, {"Server": "jsl", "Set-Cookie": "__jsluid_h=0b9bb3e0d2a1c4f6f0a6e4d1ab9c7f31; max-age=31536000;"
                      " path=/; HttpOnly", "Content-Type": "text/html"},
                b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')+('a')+"
                b"('n')+('c')+('e')+('_')+('s')+('=')+(-~{}+'')+(7+'')+(3+'')+((1<<1)+'')+('.')+(-~[7]+'')+('|')+"
                b"('-')+(-~[]+'')+('|')+('e')+('X')+('s')+('w')+('%')+((2^1)+'')+('D')+(';')+(' ')+('M')+('a')+('x')"
                b"+('-')+('a')+('g')+('e')+('=')+(-~[2]+'')+(6+'')+(~~false+'')+((+[])+'')+(';')+(' ')+('P')+('a')+"
                b"('t')+('h')+('=')+('/');location.href=location.pathname+location.search</script>"),
    # 加速乐's second answer: the go({...}) challenge that computes __jsl_clearance_s.
    "jiasule-go": (521, {"Content-Type": "text/html"},
                   b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                   b'</head><body><script>var _0x1a=function(){};go({"bts":["1718590950.375|0|BNVMH","%3D"],'
                   b'"chars":"ABCabc","ct":"c0f2f5a8","ha":"sha1","is":true,"tn":"__jsl_clearance_s","vt":"3600",'
                   b'"wt":"1500"})</script></body></html>'),
    # Cloudflare's managed challenge (403, cf-mitigated: challenge).
    "cloudflare": (403, {"Server": "cloudflare", "CF-RAY": "8a1b2c3d4e5f6a7b-HKG", "cf-mitigated": "challenge",
                         "Content-Type": "text/html; charset=UTF-8"},
                   b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-'
                   b'Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow"><meta'
                   b' name="viewport" content="width=device-width,initial-scale=1"></head><body><div class="main-wrap'
                   b'per" role="main"><div class="main-content"><noscript><div class="h2"><span id="challenge-error-'
                   b'text">Enable JavaScript and cookies to continue</span></div></noscript></div></div><script>(fun'
                   b"ction(){window._cf_chl_opt={cvId: '3',cZone: \"bbs.sample.test\",cType: 'managed',cRay: '8a1b"
                   b"2c3d4e5f6a7b',cH: 'x',cUPMDTk: \"\\/forum.php?__cf_chl_tk=abc\"};var cpo = document.createElem"
                   b"ent('script');cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8a1b2c3d4e"
                   b"5f6a7b';document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>"),
    # Cloudflare's older "I'm Under Attack" check: 503, no cf-mitigated header.
    "cloudflare-503": (503, {"Server": "cloudflare", "CF-RAY": "6a1b2c3d4e5f6a7b-LAX",
                             "Content-Type": "text/html; charset=UTF-8"},
                       b'<!DOCTYPE HTML><html lang="en-US"><head><meta charset="UTF-8" /><title>Just a moment...'
                       b'</title></head><body><table width="100%" height="100%" cellpadding="20"><tr><td align="center"'
                       b' valign="middle"><div class="cf-browser-verification cf-im-under-attack"><noscript><h1>Please'
                       b' turn JavaScript on and reload the page.</h1></noscript><div id="cf-content"><h1>Checking your'
                       b' browser before accessing bbs.sample.test.</h1></div><form class="challenge-form"'
                       b' id="challenge-form" action="/forum.php?__cf_chl_jschl_tk__=abc" method="POST"></form>'
                       b'</div></td></tr></table></body></html>'),
    # 安全狗: its "网站防火墙" block page, with its logo from 404.safedog.cn.
    "safedog": (403, {"Server": "Safedog", "X-Powered-By": "WAF/2.0", "Content-Type": "text/html"},
                '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html;'
                ' charset=utf-8" /><title>网站防火墙</title></head><body style=" padding:0; margin:0; font:14px/1.5'
                ' Microsoft Yahei, 宋体,sans-serif; color:#555;"><div style="margin: 0 auto; width:1000px;'
                ' padding-top:70px; overflow:hidden;"><div style="width:300px; float:left; height:200px; background:'
                'url(http://404.safedog.cn/images/safedogsite/broswer_logo.jpg) no-repeat 100px 60px;"></div><div'
                ' style="width:600px; float:left;"><div style=" height:40px; line-height:40px; color:#fff;'
                ' font-size:16px; overflow:hidden; background:#6bb3f6; padding-left:20px;">网站防火墙 </div><div>'
                '<p><span style=" font-weight:600; color:#fc4f03;">您的请求带有不合法参数，已被网站管理员设置拦截！'
                '</span></p><p>可能原因：您提交的内容包含危险的攻击请求</p><p>如何解决：</p><ul><li>1）检查提交内容；'
                '</li><li>2）如网站托管，请联系空间提供商；</li><li>3）普通网站访客，请联系网站管理员；</li></ul></div>'
                '</div></div></body></html>'.encode("utf-8")),
    # 云锁: its block page (class yunsuologo) and session cookie.
    "yunsuo": (403, {"Set-Cookie": "yunsuo_session_verify=1a3375389647fba22b7902b9fb4ace23; path=/",
                     "Content-Type": "text/html; charset=utf-8"},
               '<html><head><meta charset="utf-8"><title>网站防火墙</title><style>.yunsuologo{margin:0 auto; display:'
               'block; margin-top:20px;}</style></head><body><img class="yunsuologo" src="/yunsuo_logo.png"/><div'
               ' class="content"><p>您的访问请求可能对网站造成安全威胁，请求已被云锁拦截。</p></div></body></html>'
               .encode("utf-8")),
    # 宝塔 website firewall (btwaf): the ngx_lua_waf block page it serves, with no product's logo.
    "btwaf": (403, {"Server": "nginx", "Content-Type": "text/html; charset=utf-8"},
              '<html><meta charset="utf-8" /><title>网站防火墙</title><div class="main"><div class="title">网站防火墙'
              '</div><div class="content"><p class="t1">您的请求带有不合法参数，已被网站管理员设置拦截！</p><p class="t2">'
              '可能原因：您提交的内容包含危险的攻击请求</p><p class="t1">如何解决：</p><ul><li>1）检查提交内容；</li>'
              '<li>2）如网站托管，请联系空间提供商；</li><li>3）普通网站访客，请联系网站管理员；</li></ul></div></div>'
              '</html>'.encode("utf-8")),
    # 宝塔's CC defence: a browser check that loads its renji_ script.
    "btwaf-cc": (200, {"Server": "nginx", "Content-Type": "text/html; charset=utf-8"},
                 b'<html><head><meta charset="utf-8"><title>Browser check</title></head><body><script type="text/'
                 b'javascript" src="/renji_296d626f_0cc175b9c0f1b6a831c399e269772661.js?id=1"></script></body>'
                 b'</html>'),
    # 360 网站卫士 (WZWS): its JavaScript challenge, and the 493 block.
    "wzws": (200, {"WZWS-Ray": "1234-1690000000.123-wzws", "Set-Cookie": "wzws_cid=0e8a3a4fc1ee26c938be62c387030be;"
                   " path=/", "Content-Type": "text/html"},
             b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
             b'<script type="text/javascript" src="/wzws-waf-cgi/json2.js"></script></head><body><script type="text/'
             b'javascript">var dynamicurl="/WZWSREL2ZvcnVtLnBocA==";var wzwsquestion="U@Z";var wzwsfactor="9350";'
             b'var wzwsmethod="post";var wzwsparams="";var wzwschallenge="-1";</script></body></html>'),
    "wzws-493": (493, {"Server": "qianxin-waf", "Content-Type": "text/html"},
                 '<html><head><title>493</title></head><body><img src="/wzws-waf-cgi/wzblogo.png" border="0"><p>'
                 '您的访问被拦截</p></body></html>'.encode("utf-8")),
}


class _ChallengeHandler(_ReplayHandler):
    def _serve(self, send_body: bool) -> None:
        replay: ChallengeReplayServer = self.server.replay  # type: ignore[attr-defined]
        with replay._seen_lock:
            replay.seen += 1
            challenged = replay.seen > replay.after
        if not challenged:
            return super()._serve(send_body)
        target = quote(self.path.encode("latin-1"), safe=_PRINTABLE_ASCII)
        _, path, query = _split_target(target)
        replay._log_request(path + ("?" + query if query else ""), self.headers.get("User-Agent"))
        replay.challenges += 1
        status, headers, body = replay.challenge
        headers = dict(headers)
        content_type = headers.pop("Content-Type", "text/html")
        return self._respond(status, content_type, headers, body, send_body)


class ChallengeReplayServer(ReplayServer):
    """A :class:`~testbed.replay.ReplayServer` behind a firewall: from its ``after``-th request on (0: from the
    first), every answer is ``challenge`` (a :data:`FIREWALL_CHALLENGES` value or its key). ``challenges`` counts
    them."""

    handler_class = _ChallengeHandler

    def __init__(self, capture, challenge: str | tuple[int, dict, bytes], *, after: int = 0, **kwargs: Any):
        super().__init__(capture, **kwargs)
        self.challenge = FIREWALL_CHALLENGES[challenge] if isinstance(challenge, str) else challenge
        self.after, self.seen, self.challenges = after, 0, 0
        self._seen_lock = threading.Lock()


def main(argv: list[str] | None = None) -> int:
    """Serve a capture behind the CC defence until Ctrl-C; prints the server URL on the first line."""
    parser = argparse.ArgumentParser(prog="python -m testbed.cc_defence", description=main.__doc__)
    parser.add_argument("folder", help="capture folder holding manifest.json")
    parser.add_argument("--attackevasive", default="1|4", help="as config_global.php gives it (default 1|4)")
    parser.add_argument("--php", type=int, default=8, choices=(7, 8))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = CCDefenceServer(args.folder, attackevasive=args.attackevasive, php=args.php, port=args.port)
    print(server.url, flush=True)
    try:
        serve_until_interrupted(server)
    finally:
        print(dict(server.answers), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
