"""A replayed Discuz! site with a working login form, for ``dzarchive crawl --login``.

:class:`LoginReplayServer` serves a guest capture and, to requests carrying a valid session cookie, the member
capture's pages (as :class:`~testbed.replay.ReplayServer` does with ``member_capture``). Unlike it, sessions are
real: the login form (the member capture's own ``member.php?mod=logging&action=login`` page, or a Discuz! 7.x
``logging.php?action=login`` form with ``legacy=True``) is posted back with its ``formhash``, a user name and a
password; a right password gets a new session cookie and Discuz's welcome message, a wrong one its
"登录失败" message. ``expire_after=N`` ends every session after N member pages, as a session timeout would.

Attributes: ``logins`` (accepted), ``issued`` (session values handed out), ``refused`` (wrong password or formhash), ``posts`` (the form fields of each
login POST, the password left out), plus ReplayServer's ``requests``.
"""
from __future__ import annotations

import secrets
import threading
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .replay import ReplayServer, _ReplayHandler

FORMHASH = "bf38274e"  # the member capture's login page shows this one
COOKIE = "RT9k_2132_auth"  # the capture's cookiepre + auth
X_FORM_PATH = "/member.php?mod=logging&action=login"
LEGACY_FORM_PATH = "/logging.php?action=login"

SHOWMESSAGE = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="generator" content="Discuz! {version}" /><title>提示信息</title></head>
<body><div id="messagetext" class="alert_{kind}"><p>{message}</p></div></body></html>"""

LEGACY_FORM = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="generator" content="Discuz! 7.2" /><title>会员登录 -  示例论坛</title></head><body>
<form method="post" name="login" id="loginform" class="s_clear" action="logging.php?action=login&amp;loginsubmit=true">
<input type="hidden" name="formhash" value="{formhash}" />
<input type="hidden" name="referer" value="index.php" />
<select name="loginfield"><option value="username" selected="selected">用户名</option><option value="uid">UID</option></select>
<input type="text" name="username" value="" /><input type="password" name="password" value="" />
<select name="questionid"><option value="0">安全提问</option></select><input type="text" name="answer" />
<button type="submit" name="loginsubmit" value="true">登录</button>
</form>
<a href="logging.php?action=logout&amp;formhash={formhash}">退出</a></body></html>"""


class _LoginHandler(_ReplayHandler):
    def _serve(self, send_body: bool) -> None:
        replay: LoginReplayServer = self.server.replay  # type: ignore[attr-defined]
        path = self._path_query()
        if path == X_FORM_PATH and not replay.legacy:
            entry = replay.member_capture.lookup(X_FORM_PATH)
            replay._log_request(path, self.headers.get("User-Agent"))
            return self._respond(200, entry.content_type, {}, entry.body(), send_body)
        if path == LEGACY_FORM_PATH and replay.legacy:
            replay._log_request(path, self.headers.get("User-Agent"))
            page = LEGACY_FORM.format(formhash=FORMHASH).encode("utf-8")
            return self._respond(200, "text/html; charset=utf-8", {}, page, send_body)
        if path in (X_FORM_PATH, LEGACY_FORM_PATH):
            replay._log_request(path, self.headers.get("User-Agent"))
            return self._respond(404, "text/html", {}, b"<html>404</html>", send_body)
        member = self._is_member(replay.member_cookie)
        super()._serve(send_body)
        if member:
            replay._member_page()  # the session may time out now, after the page it was good for

    def do_POST(self) -> None:
        replay: LoginReplayServer = self.server.replay  # type: ignore[attr-defined]
        path = self._path_query()
        length = int(self.headers.get("Content-Length") or 0)
        fields = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
        replay._log_request("POST " + path, self.headers.get("User-Agent"))
        with replay._lock:
            replay.posts.append({k: v for k, v in fields.items() if k != "password"})
        wanted = "/logging.php?action=login&loginsubmit=true" if replay.legacy else \
            "/member.php?mod=logging&action=login&loginsubmit=yes"
        version = "7.2" if replay.legacy else "X3.4"
        if not path.startswith(wanted):
            return self._respond(404, "text/html", {}, b"<html>404</html>", True)
        user, password = fields.get("username"), fields.get("password")
        if fields.get("formhash") != FORMHASH or replay.users.get(user) != password or password is None:
            with replay._lock:
                replay.refused += 1
            page = SHOWMESSAGE.format(version=version, kind="error", message="登录失败，您还可以尝试 4 次")
            return self._respond(200, "text/html; charset=utf-8", {}, page.encode("utf-8"), True)
        session = secrets.token_hex(8)
        with replay._lock:
            replay.sessions.add(session)
            replay.issued.append(session)
            replay.logins += 1
        page = SHOWMESSAGE.format(version=version, kind="right",
                                  message=f"欢迎您回来，{user}，现在将转入登录前页面")
        headers = {"Set-Cookie": f"{replay.member_cookie}={session}; path=/; httponly"}
        return self._respond(200, "text/html; charset=utf-8", headers, page.encode("utf-8"), True)

    def _path_query(self) -> str:
        parts = urlsplit(self.path)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _is_member(self, cookie_name: str | None) -> bool:
        replay: LoginReplayServer = self.server.replay  # type: ignore[attr-defined]
        cookies = SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie", ""))
        except CookieError:
            return False
        return cookie_name in cookies and cookies[cookie_name].value in replay.sessions


class LoginReplayServer(ReplayServer):
    """A guest ``capture`` and a ``member_capture`` behind a working login form (see the module docstring)."""

    handler_class = _LoginHandler

    def __init__(self, capture, member_capture, *, users: dict[str, str], legacy: bool = False,
                 expire_after: int | None = None, **kwargs: Any):
        super().__init__(capture, member_capture=member_capture, member_cookie=COOKIE, **kwargs)
        self.users, self.legacy, self.expire_after = dict(users), legacy, expire_after
        self.sessions: set[str] = set()
        self.issued: list[str] = []  # every session cookie value handed out
        self.logins = self.refused = 0
        self.posts: list[dict] = []
        self._member_pages = 0
        self._lock = threading.Lock()

    def _member_page(self) -> None:
        with self._lock:
            self._member_pages += 1
            if self.expire_after is not None and self._member_pages >= self.expire_after:
                self.sessions.clear()  # every session times out
                self._member_pages = 0
