"""Capture A served on loopback the way real Discuz forums send pages, with pictures and attachments in a thread.

:class:`WireSite` is an HTTP proxy-style server (reach it with ``http_proxy``) that answers from the
capture but writes every response itself, byte by byte, and remembers the bytes it sent:

- the forum index gzip-encoded, thread pages chunked (even tids also gzip-encoded), forum list
  pages transcoded to GBK (header and ``<meta>`` say so), profiles and robots.txt as they are;
- two ``Set-Cookie`` headers on every response (Discuz's ``saltkey`` and ``lastvisit``), and an
  ``auth`` cookie value when the request carries the member's cookie;
- the first post of thread 23 shows two photos with the same bytes under two URLs, a smilie, an
  offsite image, a robots-disallowed image, a missing one, a PDF attachment that needs login (the
  Discuz message page, HTTP 200), a ZIP attachment served as a file and a PDF one redirected to the
  file; the second post shows the first photo again.
"""
from __future__ import annotations

import gzip
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from testbed.replay import Capture

DATE = b"Wed, 25 Nov 2026 03:55:10 GMT"
SALT_SECRET = "saltSECRETv4lu3"
SERVER_AUTH_SECRET = "authFromServerSECRET9c1d"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
ZIP = b"PK\x03\x04" + b"dzarchive attachment test " * 50
OFFSITE_PNG = b"\x89PNG\r\n\x1a\n" + b"offsite picture " * 30
PHOTO_A = "/data/attachment/forum/202611/25/photo-a.jpg"
PHOTO_B = "/data/attachment/forum/202611/25/photo-b.jpg"
PRIVATE = "/data/attachment/forum/private/secret.jpg"
GONE = "/data/attachment/forum/202611/25/gone.jpg"
PDF_LOGIN = "/forum.php?mod=attachment&aid=MTA1fGFiY2RlZnwxNzY0NTUwMDAwfDB8MjM%3D"
ZIP_OK = "/forum.php?mod=attachment&aid=MTA2fGFiY2RlZnwxNzY0NTUwMDAwfDB8MjM%3D"
REDIRECTED = "/forum.php?mod=attachment&aid=MTA3fGFiY2RlZnwxNzY0NTUwMDAwfDB8MjM%3D"
REPORT = "/data/attachment/forum/202611/25/report.pdf"
PDF = b"%PDF-1.4\n" + b"dzarchive report " * 60 + b"\n%%EOF\n"
OFFSITE = "http://img.other.test/pic.png"
SMILIE = "/static/image/smiley/default/smile.gif"

ROBOTS = b"""User-agent: *
Allow: /data/attachment/
Disallow: /data/attachment/forum/private/
Disallow: /api/
Disallow: /forum.php?mod=redirect*
Disallow: /forum.php?mod=post*
Disallow: /home.php?mod=spacecp*
"""

FIRST_POST_MEDIA = f"""<br />
<img id="aimg_101" aid="101" src="static/image/common/none.gif" zoomfile="{PHOTO_A[1:]}" file="{PHOTO_A[1:]}" class="zoom" alt="photo-a.jpg" />
<img id="aimg_102" aid="102" src="static/image/common/none.gif" zoomfile="{PHOTO_B[1:]}" file="{PHOTO_B[1:]}" class="zoom" alt="photo-b.jpg" />
<img src="{SMILIE[1:]}" smilieid="1" border="0" alt=":)" />
<img src="{OFFSITE}" class="zoom" id="aimg_Xq3" />
<img id="aimg_103" aid="103" src="static/image/common/none.gif" file="{PRIVATE[1:]}" class="zoom" alt="secret.jpg" />
<img id="aimg_104" aid="104" src="static/image/common/none.gif" file="{GONE[1:]}" class="zoom" alt="gone.jpg" />
<a href="{PDF_LOGIN[1:].replace('&', '&amp;')}" target="_blank">manual.pdf</a>
<a href="{ZIP_OK[1:].replace('&', '&amp;')}" target="_blank">data.zip</a>
<a href="{REDIRECTED[1:].replace('&', '&amp;')}" target="_blank">report.pdf</a>
"""
SECOND_POST_MEDIA = f"""<br /><img id="aimg_101" aid="101" src="static/image/common/none.gif" file="{PHOTO_A[1:]}" class="zoom" />"""


def dechunk(body: bytes) -> bytes:
    """The payload of a chunked body."""
    out, rest = b"", body
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out, rest = out + rest[:size], rest[size + 2:]


def as_received(sent: bytes) -> bytes:
    """What a client that removes the chunked framing keeps of a response: no Transfer-Encoding, the payload."""
    head, body = sent.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if any(line.lower() == b"transfer-encoding: chunked" for line in lines):
        lines = [line for line in lines if not line.lower().startswith(b"transfer-encoding:")]
        body = dechunk(body)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        site: WireSite = self.server.site
        target = self.path
        host = ""
        match = re.match(r"^https?://([^/]+)(/.*)?$", target)
        if match:
            host, target = match.group(1), match.group(2) or "/"
        cookies = self.headers.get("Cookie", "")
        with site.lock:
            site.requests.append((host, target, cookies))
        status, reason, headers, body, chunked = site.respond(host, target, cookies)
        head = [f"HTTP/1.1 {status} {reason}".encode()]
        if not chunked:
            head.append(b"Content-Length: " + str(len(body)).encode())
        else:
            head.append(b"Transfer-Encoding: chunked")
        head += [name + b": " + value for name, value in headers]
        raw_head = b"\r\n".join(head) + b"\r\n\r\n"
        raw_body = body
        if chunked:
            pieces = [body[i:i + 1500] for i in range(0, len(body), 1500)]
            raw_body = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
        with site.lock:
            site.sent[(host, target)] = raw_head + raw_body
        self.wfile.write(raw_head + raw_body)


class WireSite:
    """The server (see the module docstring). ``sent[(host, path_query)]`` = the last bytes sent for it;
    ``requests`` = ``(host, path_query, Cookie header)`` in arrival order."""

    def __init__(self, capture_folder: Path, *, member_cookie: str | None = None):
        self.capture = Capture.load(capture_folder)
        self.member_cookie = member_cookie
        self.sent: dict[tuple[str, str], bytes] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.site = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def paths(self, host: str = "bbs.example.test") -> list[str]:
        return [t for h, t, _ in self.requests if h == host]

    def respond(self, host: str, target: str, cookies: str):
        """(status, reason, headers, body, chunked) for one request."""
        headers = [(b"Content-Type", b"text/html; charset=utf-8")]
        cookie_headers = [
            (b"Set-Cookie", f"Xsd3_2132_saltkey={SALT_SECRET}; expires=Fri, 25-Dec-2026 03:55:10 GMT; "
                            f"Max-Age=2592000; path=/; httponly".encode()),
            (b"Set-Cookie", b"Xsd3_2132_lastvisit=1764039310; expires=Fri, 25-Dec-2026 03:55:10 GMT; path=/"),
        ]
        if self.member_cookie and self.member_cookie in cookies:
            cookie_headers.append((b"Set-Cookie", f"Xsd3_2132_auth={SERVER_AUTH_SECRET}; path=/; httponly".encode()))
        tail = cookie_headers + [(b"Date", DATE), (b"X-Powered-By", b"PHP/7.4.33")]
        if host == "img.other.test":
            if target == "/pic.png":
                return 200, "OK", [(b"Content-Type", b"image/png"), (b"Date", DATE)], OFFSITE_PNG, False
            return 404, "Not Found", [(b"Content-Type", b"text/plain"), (b"Date", DATE)], b"no such file", False
        if target == "/robots.txt":
            return 200, "OK", [(b"Content-Type", b"text/plain; charset=UTF-8"), (b"Date", DATE)], ROBOTS, False
        if target in (PHOTO_A, PHOTO_B):
            return 200, "OK", [(b"Content-Type", b"image/jpeg")] + tail, PHOTO, False
        if target == ZIP_OK:
            return 200, "OK", [(b"Content-Type", b"application/octet-stream"),
                               (b"Content-Disposition", b'attachment; filename="data.zip"')] + tail, ZIP, False
        if target == REDIRECTED:  # Discuz sends the browser on to the file itself
            return 302, "Found", [(b"Location", ("http://bbs.example.test" + REPORT).encode())] + tail, b"", False
        if target == REPORT:
            return 200, "OK", [(b"Content-Type", b"application/pdf")] + tail, PDF, False
        if target == PDF_LOGIN:
            login = self.capture.lookup("/forum.php?mod=viewthread&tid=27").body()
            return 200, "OK", headers + tail, login, False
        if target in (GONE, PRIVATE, SMILIE):
            # nginx's own wording, to show the reason phrase is kept as sent
            return 404, "File Not Found", [(b"Content-Type", b"text/html")] + tail, b"<h1>404</h1>", False
        entry = self.capture.lookup(target)
        if entry is None:
            return 404, "Not Found", headers + tail, b"<h1>404 Not Found</h1>", False
        body = entry.body()
        if "mod=viewthread" in target and re.search(r"tid=23(&|$)", target):
            body = body.replace(b'id="postmessage_128">', b'id="postmessage_128">' + FIRST_POST_MEDIA.encode(), 1)
            body = body.replace(b'id="postmessage_129">', b'id="postmessage_129">' + SECOND_POST_MEDIA.encode(), 1)
        if target == "/forum.php":
            gz = gzip.compress(body, mtime=0)
            return entry.status, "OK", headers + [(b"Content-Encoding", b"gzip"), (b"Vary", b"Accept-Encoding")] \
                + tail, gz, False
        if "mod=viewthread" in target:
            tid = int(re.search(r"tid=(\d+)", target).group(1))
            if tid % 2 == 0:
                return entry.status, "OK", headers + [(b"Content-Encoding", b"gzip")] + tail, \
                    gzip.compress(body, mtime=0), True
            return entry.status, "OK", headers + tail, body, True
        if "mod=forumdisplay" in target:
            text = body.decode("utf-8").replace('charset=utf-8"', 'charset=gbk"')
            text = text.replace("charset = 'utf-8'", "charset = 'gbk'")
            return entry.status, "OK", [(b"Content-Type", b"text/html; charset=GBK")] + tail, \
                text.encode("gbk", errors="xmlcharrefreplace"), False
        return entry.status, "OK", headers + tail, body, False
