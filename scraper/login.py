"""``--login USER``: log in through Discuz!'s own login form, as a member's browser does.

The form is the site's: ``member.php?mod=logging&action=login`` (Discuz! X) or ``logging.php?action=login`` (7.x),
whose hidden fields (``formhash``, ``referer``, ``loginhash`` in the action) are sent back with the user name and
password. A login has worked when the site answers with its session cookie (``{cookiepre}auth``) or its welcome
message; otherwise the site's own message says why not (:class:`LoginFailed`).

The password is kept in memory only: the login requests are downloaded directly (``engine.download_async``), never
through the scheduler, so they never reach the job state (``JOBDIR``), and they are marked :data:`SECRET_META` so
that no WARC records them. The session lands in the cookie jar (scraper/cookies.py). robots.txt is not asked about
these two requests: Discuz's default robots.txt disallows ``/member.php``, and the login is one form the operator
asked for, not crawling. Nothing else the login page links (logout, posting, rating) is ever requested.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

import scrapy
from form2request import form2request

SECRET_META = "dz_secret"  # a request carrying a secret: kept out of WARC records
LOGIN_PAGES = ("member.php?mod=logging&action=login", "logging.php?action=login")  # Discuz! X, then 7.x
LOGIN_FORM = '//form[@name="login" or contains(@action, "loginsubmit")][.//input[@name="password"]]'
_WELCOME = re.compile(r"欢迎您回来|欢迎您回來|登录成功|登錄成功")
_AUTH_COOKIE = re.compile(rb"^[\w-]*auth=(?!deleted|;)", re.IGNORECASE)
_MESSAGE = re.compile(r'<div id="messagetext"[^>]*>\s*<p>(.*?)</p>|<div class="alert_error">\s*(?:<p>)?(.*?)</',
                      re.S)
_CDATA_MESSAGE = re.compile(r"<!\[CDATA\[(.*?)(?:<script|\]\]>)", re.S)
_TAGS = re.compile(r"<[^>]+>")


class LoginFailed(RuntimeError):
    """The site did not accept the login (wrong password, no such user, too many attempts) or shows no login form."""


class DiscuzLogin:
    """Logs the crawl in as ``user`` through the site's login form.

    Settings: ``DZ_LOGIN_USER``, ``DZ_LOGIN_PASSWORD`` (set by ``dzarchive crawl --login``; the password never
    leaves memory), ``DZ_LOGIN_RETRIES`` (how often a session that expired mid-crawl is renewed; default 3).
    """

    def __init__(self, user: str | None = None, password: str | None = None, retries: int = 3):
        self.user, self._password, self.retries = user, password, retries
        self.logins = 0
        self.form_url: str | None = None

    @classmethod
    def from_crawler(cls, crawler) -> "DiscuzLogin":
        s = crawler.settings
        return cls(s.get("DZ_LOGIN_USER"), s.get("DZ_LOGIN_PASSWORD"), s.getint("DZ_LOGIN_RETRIES", 3))

    @property
    def enabled(self) -> bool:
        return bool(self.user)

    def __repr__(self) -> str:  # never the password
        return f"DiscuzLogin(user={self.user!r})"

    async def log_in(self, engine, start_url: str) -> str:
        """Fetch the login form of the site of ``start_url``, submit it, and return the site's welcome message.

        Raises :class:`LoginFailed` when no login form is found or the site refuses the login.
        """
        form = None
        for path in LOGIN_PAGES:
            response = await engine.download_async(scrapy.Request(
                urljoin(start_url, path), dont_filter=True,
                meta={"dont_obey_robotstxt": True, SECRET_META: True, "handle_httpstatus_all": True}))
            if response.status == 200 and hasattr(response, "xpath") and response.xpath(LOGIN_FORM):
                form = response
                break
        if form is None:
            raise LoginFailed(f"no Discuz! login form at {urljoin(start_url, LOGIN_PAGES[0])} or"
                              f" {urljoin(start_url, LOGIN_PAGES[1])}")
        self.form_url = form.url
        return await self.submit(engine, form)

    def form_request(self, callback) -> scrapy.Request:
        """A request for the login form found by :meth:`log_in` (to log in again when the session expired)."""
        return scrapy.Request(self.form_url, callback=callback, dont_filter=True, priority=1000,
                              meta={"dont_obey_robotstxt": True, SECRET_META: True, "handle_httpstatus_all": True})

    async def submit(self, engine, form) -> str:
        """Submit the login ``form`` (a response showing it); returns the welcome message or raises LoginFailed."""
        if not (form.status == 200 and hasattr(form, "xpath") and form.xpath(LOGIN_FORM)):
            raise LoginFailed(f"login as {self.user} failed: no login form at {form.url} (HTTP {form.status})")
        # The form as a browser submits it: its hidden fields, selects and first submit button, with ours filled in.
        data = form2request(form.xpath(LOGIN_FORM)[0], {"username": self.user, "password": self._password or ""})
        request = data.to_scrapy(callback=None, dont_filter=True,
                                 meta={"dont_obey_robotstxt": True, SECRET_META: True, "handle_httpstatus_all": True})
        answer = await engine.download_async(request)
        self.logins += 1
        text = answer.text if hasattr(answer, "text") else ""
        cookies = answer.headers.getlist("Set-Cookie")
        message = site_message(text)
        if _WELCOME.search(text) or any(_AUTH_COOKIE.match(c) for c in cookies):
            return message or "logged in"
        raise LoginFailed(f"login as {self.user} failed: {message or f'HTTP {answer.status}, no session cookie'}")


def site_message(html: str) -> str:
    """The message a Discuz! showmessage() page (or its AJAX form of it) shows, as plain text."""
    found = _MESSAGE.search(html) or _CDATA_MESSAGE.search(html)
    if not found:
        return ""
    text = next(g for g in found.groups() if g is not None) if found.groups() else found.group(0)
    return re.sub(r"\s+", " ", _TAGS.sub("", text)).strip()
