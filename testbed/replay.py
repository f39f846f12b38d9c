"""Replay a captured Discuz! site over loopback HTTP.

A *capture* is a folder holding ``manifest.json`` (a JSON list of entries such as
``{"url": ..., "file": "pages/0017.html", "status": 200, "content_type": ...,
"headers": {"Date": ...}}``) and the response bodies it points to.
:class:`ReplayServer` serves each body byte for byte with the recorded status,
Content-Type and headers, so crawler tests see exactly what the real forum sent.

Routing follows what Discuz itself does (see the capture READMEs):

* the host is ignored, only path + query are matched;
* query parameters match regardless of order;
* ``extra=``, ``fromuid=`` and ``highlight=`` are dropped, and so is any ``#fragment``;
* the third number of a static thread URL is ignored
  (``thread-10-1-2.html`` is ``thread-10-1-1.html``);
* ``&amp;`` (HTML-escaped ampersands) in a requested URL is read as ``&``;
* a URL that is not listed but differs from a listed one only by ``page=1``
  being present or absent serves that entry (listed URLs always win);
* a static URL not listed serves the dynamic page it stands for under Discuz's default rewrite rules.

The last two are *aliases*, spellings the capture never showed. ``ReplayServer(..., exact=True)``
turns them off, so that a crawler that builds URLs of its own instead of following the site's links
gets 404s, as it would on a live site with custom rules or ``Disallow: /*?*``.

Anything else gets a small HTML 404. The server also works as a plain HTTP proxy
(``http_proxy=http://127.0.0.1:PORT``): absolute request URIs such as
``GET http://bbs.example.test/forum.php HTTP/1.1`` are routed by their path + query.

Command line: ``python -m testbed.replay FOLDER [--port N]``.
"""

from __future__ import annotations

import argparse
import email.utils
import html
import json
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import quote, unquote_to_bytes, urlsplit

__all__ = ["Capture", "Entry", "ReplayServer", "main", "serve_until_interrupted"]

MANIFEST_NAME = "manifest.json"

# Discuz ignores these; its own links carry them, so they must not split one page into many.
IGNORED_PARAMS = frozenset({b"extra", b"fromuid", b"highlight"})

# Only entities that can stand for "&" are decoded: html.unescape() would also turn the
# legacy semicolon-less "&para" / "&copy" inside "&page=" / "&copy=" into ¶ / ©.
AMP_ENTITY_RE = re.compile(r"&(?:amp;|#0*38;|#[xX]0*26;)+")
ABSOLUTE_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
STATIC_THREAD_RE = re.compile(rb"^(.*/thread-\d+-\d+-)\d+(\.html?)$")

# Framing is computed here from the real body; replaying recorded values could corrupt it.
FRAMING_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding", "connection", "keep-alive"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# serve_forever() only notices shutdown() between polls; the stdlib's 0.5 s makes every
# stop() in a test suite cost half a second.
POLL_INTERVAL = 0.05

# Every byte of a request target that is not printable ASCII gets percent-encoded, so raw
# UTF-8/GBK bytes and their %XX spelling end up as the same key.
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))

NOT_FOUND_TEMPLATE = (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>404 Not Found</title></head>\n"
    "<body><h1>404 Not Found</h1><p>Not in this capture: <code>{}</code></p></body></html>\n"
)

RouteKey = tuple[bytes, tuple[tuple[bytes, bytes], ...]]


@dataclass(frozen=True, eq=False)
class Entry:
    """One manifest entry: a recorded response and where its body lives.

    ``meta`` keeps any manifest keys beyond the standard ones (e.g. ``logged_in``).
    """

    url: str
    file: str
    path: Path
    status: int = 200
    content_type: str = "application/octet-stream"
    headers: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> bytes:
        """Return the recorded body bytes, read fresh from disk."""
        return self.path.read_bytes()


def _split_target(url_or_path: str) -> tuple[str, str, str]:
    """Split a URL, a path+query or a bare relative path into (host, path, query)."""
    text = AMP_ENTITY_RE.sub("&", url_or_path.strip())
    if ABSOLUTE_URL_RE.match(text) or text.startswith("//"):
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        path, query = parts.path, parts.query
    else:
        host = ""
        path, _, query = text.partition("#")[0].partition("?")
    if not path.startswith("/"):
        path = "/" + path
    return host, path, query


def _route_key(url_or_path: str) -> RouteKey:
    """Reduce a URL to the key Discuz effectively routes on (see the module docstring)."""
    _, path, query = _split_target(url_or_path)
    raw_path = unquote_to_bytes(path)
    static = STATIC_THREAD_RE.match(raw_path)
    if static:
        raw_path = static.group(1) + b"1" + static.group(2)
    params = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        # "+" means space in a query string; unify it with %20 before decoding.
        name_b = unquote_to_bytes(name.replace("+", "%20"))
        if name_b in IGNORED_PARAMS:
            continue
        params.append((name_b, unquote_to_bytes(value.replace("+", "%20"))))
    return raw_path, tuple(sorted(params))


# Discuz!'s default rewrite rules (function_admincp.php): static name -> script and query.
_REWRITE_RULES = (
    (re.compile(rb"^(.*/)?thread-(\d+)-(\d+)-\d+\.html$"), b"forum.php",
     lambda m: ((b"mod", b"viewthread"), (b"page", m.group(3)), (b"tid", m.group(2)))),
    (re.compile(rb"^(.*/)?forum-(\w+)-(\d+)\.html$"), b"forum.php",
     lambda m: ((b"fid", m.group(2)), (b"mod", b"forumdisplay"), (b"page", m.group(3)))),
    (re.compile(rb"^(.*/)?space-uid-(\d+)\.html$"), b"home.php",
     lambda m: ((b"mod", b"space"), (b"uid", m.group(2)))),
)


def _rewrite_static(key: RouteKey) -> RouteKey | None:
    """The dynamic route a static (rewritten) Discuz URL stands for, or None."""
    path, params = key
    for pattern, script, query in _REWRITE_RULES:
        m = pattern.match(path)
        if m:
            return (m.group(1) or b"/") + script, tuple(sorted(query(m) + params))
    return None


def _page_one_variant(key: RouteKey) -> RouteKey | None:
    """Return the key with ``page=1`` toggled, or None when another page is asked for."""
    path, params = key
    pages = [value for name, value in params if name == b"page"]
    if not pages:
        return path, tuple(sorted(params + ((b"page", b"1"),)))
    if all(value == b"1" for value in pages):
        return path, tuple(p for p in params if p[0] != b"page")
    return None


class Capture:
    """A captured site: its manifest entries and the routing table built from them.

    Build one with :meth:`Capture.load`. Attributes: ``folder`` (Path), ``entries``
    (list of :class:`Entry` in manifest order), ``site`` (base URL such as
    ``"http://bbs.example.test/"``, from the first entry) and ``hosts`` (host names
    seen in the manifest, lower case, without port).
    """

    def __init__(self, folder: Path, entries: list[Entry], *, exact: bool = False):
        if not entries:
            raise ValueError(f"capture {folder} has an empty manifest")
        self.folder = folder
        self.entries = entries
        self.exact = exact  # serve only what the manifest lists (no page=1 or rewrite aliases)
        first = urlsplit(entries[0].url)
        self.site = f"{first.scheme or 'http'}://{first.netloc}/"
        self.hosts = frozenset(h for h in (urlsplit(e.url).hostname for e in entries) if h)
        self._routes: dict[RouteKey, Entry] = {}
        for entry in entries:
            # A URL listed twice (or two spellings of one page) keeps its first entry.
            self._routes.setdefault(_route_key(entry.url), entry)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> "Capture":
        """Load the capture in ``folder`` (or the folder of a given ``manifest.json``).

        Raises FileNotFoundError when the manifest or any body file it names is
        missing (all missing files are listed), ValueError when it is malformed.
        """
        folder = Path(folder)
        manifest = folder / MANIFEST_NAME
        if folder.is_file():
            manifest, folder = folder, folder.parent
        if not manifest.is_file():
            raise FileNotFoundError(f"no {MANIFEST_NAME} in capture folder {folder}")
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(raw, list):
            raise ValueError(f"{manifest}: expected a JSON list of entries, got {type(raw).__name__}")
        entries, missing = [], []
        for index, item in enumerate(raw):
            if not isinstance(item, dict) or not item.get("url") or not item.get("file"):
                raise ValueError(f"{manifest}: entry {index} needs 'url' and 'file': {item!r}")
            path = folder / item["file"]
            if not path.is_file():
                missing.append(f"{item['file']} (for {item['url']})")
                continue
            entries.append(
                Entry(
                    url=item["url"],
                    file=item["file"],
                    path=path,
                    status=int(item.get("status", 200)),
                    content_type=item.get("content_type") or "application/octet-stream",
                    headers=dict(item.get("headers") or {}),
                    meta={k: v for k, v in item.items()
                          if k not in {"url", "file", "status", "content_type", "headers"}},
                )
            )
        if missing:
            raise FileNotFoundError(
                f"capture {folder}: {len(missing)} manifest file(s) missing: " + ", ".join(missing)
            )
        return cls(folder, entries)

    def lookup(self, url_or_path: str, *, exact: bool | None = None) -> Entry | None:
        """Return the entry that serves ``url_or_path`` under the routing rules, or None.

        Accepts an absolute URL, a path+query (``/forum.php?...``) or a relative one
        (``forum.php?...``); the host is ignored.
        """
        key = _route_key(url_or_path)
        if self.exact if exact is None else exact:
            return self._routes.get(key)
        entry = self._find(key)
        if entry is None:
            # Discuz's URL-rewrite rules (.htaccess / nginx) map static URLs onto the dynamic ones.
            rewritten = _rewrite_static(key)
            if rewritten is not None:
                entry = self._find(rewritten)
        return entry

    def _find(self, key: RouteKey) -> Entry | None:
        entry = self._routes.get(key)
        if entry is None:
            variant = _page_one_variant(key)
            if variant is not None:
                entry = self._routes.get(variant)
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __repr__(self) -> str:
        return f"Capture({str(self.folder)!r}, {len(self.entries)} entries, site={self.site!r})"


def _as_capture(capture: Capture | str | os.PathLike[str]) -> Capture:
    return capture if isinstance(capture, Capture) else Capture.load(capture)


class _ReplayHandler(BaseHTTPRequestHandler):
    """Serves one connection; the owning ReplayServer is ``self.server.replay``."""

    # HTTP/1.1 keep-alive like a real forum; every response carries Content-Length.
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections would otherwise pin a thread forever.
    timeout = 60

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        replay: ReplayServer = self.server.replay  # type: ignore[attr-defined]
        # http.server decoded the request line as latin-1, so this recovers the raw bytes.
        target = quote(self.path.encode("latin-1"), safe=_PRINTABLE_ASCII)
        uri_host, path, query = _split_target(target)
        path_query = path + ("?" + query if query else "")
        replay._log_request(path_query, self.headers.get("User-Agent"))

        capture = replay.capture  # read once: set_capture() may swap it mid-request
        entry = None
        if not replay.strict_host or self._host_allowed(uri_host, capture):
            if replay.member_capture is not None and self._is_member(replay.member_cookie):
                entry = replay.member_capture.lookup(path_query, exact=replay.exact or None)
                if entry is not None and not entry.meta.get("logged_in", True):
                    entry = None  # a guest page of the member capture (its login form)
            entry = entry or capture.lookup(path_query, exact=replay.exact or None)
        if entry is None:
            body = NOT_FOUND_TEMPLATE.format(html.escape(path_query)).encode("utf-8")
            self._respond(404, "text/html; charset=utf-8", {}, body, send_body)
        else:
            self._respond(entry.status, entry.content_type, entry.headers, entry.body(), send_body)

    def _is_member(self, cookie_name: str | None) -> bool:
        """Whether the request carries the member's session cookie (any value)."""
        if not cookie_name:
            return False
        cookies = SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie", ""))
        except CookieError:
            return False
        return cookie_name in cookies

    def _host_allowed(self, uri_host: str, capture: Capture) -> bool:
        host = uri_host
        if not host:
            header = self.headers.get("Host", "")
            host = (urlsplit("//" + header).hostname or "") if header else ""
        if not host:
            return True  # HTTP/1.0 clients may send no Host at all
        bound = self.server.server_address[0]
        return host in capture.hosts or host in LOCAL_HOSTS or host == bound

    def _respond(self, status: int, content_type: str, headers: Mapping[str, Any],
                 body: bytes, send_body: bool) -> None:
        # send_response() would add a Server header and the *current* Date; the recorded
        # Date must win because the pages' relative times are anchored to it.
        self.log_request(status)
        self.send_response_only(status)
        has_date = False
        for name, value in headers.items():
            if name.lower() in FRAMING_HEADERS:
                continue
            has_date = has_date or name.lower() == "date"
            for item in value if isinstance(value, list) else [value]:
                self.send_header(name, str(item))
        if not has_date:
            self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.replay.verbose:  # type: ignore[attr-defined]
            super().log_message(format, *args)


class _ReplayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Clients holding keep-alive connections must not make stop() wait on their threads.
    block_on_close = False
    # socketserver listens with a backlog of 5: a crawl opening 16 connections at once had the rest dropped
    # by the kernel and retried a second later (TCP's first SYN retransmit), which the crawl measured as idle.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Crawlers routinely drop connections; only show tracebacks when asked to.
        if self.replay.verbose:  # type: ignore[attr-defined]
            super().handle_error(request, client_address)


class ReplayServer:
    """Loopback HTTP server replaying a :class:`Capture`.

    The socket is bound on construction (``port=0`` picks a free port), so ``url`` and
    ``port`` are known before :meth:`start`. Use as a context manager or call
    :meth:`start` / :meth:`stop`; a stopped server cannot be restarted.

    Attributes: ``url`` (``"http://127.0.0.1:PORT/"``), ``host``, ``port``,
    ``requests`` (path+query of every request received, in order), ``user_agents`` (the
    User-Agent headers received), ``verbose``
    (per-request logging to stderr) and ``strict_host`` (404 for hosts that are neither
    the capture's nor local ones).
    """

    handler_class: type[BaseHTTPRequestHandler] = _ReplayHandler  # testbed.flaky serves with its own

    def __init__(self, capture: Capture | str | os.PathLike[str], host: str = "127.0.0.1",
                 port: int = 0, *, verbose: bool = False, strict_host: bool = False,
                 member_capture: Capture | str | os.PathLike[str] | None = None,
                 member_cookie: str | None = None, exact: bool = False):
        self._capture = _as_capture(capture)
        self.exact = exact  # no aliases: only the spellings the manifest lists (see the module docstring)
        # A logged-in view of the same site: requests that carry the member_cookie are served
        # the member capture's logged-in pages first (the others as a guest sees them).
        self.member_capture = _as_capture(member_capture) if member_capture is not None else None
        self.member_cookie = member_cookie
        self.verbose = verbose
        self.strict_host = strict_host
        self.requests: list[str] = []
        self.user_agents: set[str | None] = set()  # every User-Agent header received
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._httpd = _ReplayHTTPServer((host, port), self.handler_class)
        self._httpd.replay = self  # type: ignore[attr-defined]
        self.host = host
        self.port: int = self._httpd.server_address[1]
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.url = f"http://{url_host}:{self.port}/"

    @property
    def capture(self) -> Capture:
        """The capture currently being served."""
        return self._capture

    def set_capture(self, capture: Capture | str | os.PathLike[str]) -> None:
        """Serve another capture (e.g. a later state of the site) from now on.

        Requests already in progress finish with the capture they started with.
        """
        self._capture = _as_capture(capture)

    def start(self) -> "ReplayServer":
        """Start serving in a daemon thread and return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(POLL_INTERVAL,),
                name=f"replay:{self.port}", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (safe to call twice)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def _log_request(self, path_query: str, user_agent: str | None = None) -> None:
        with self._lock:
            self.requests.append(path_query)
            self.user_agents.add(user_agent)

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ReplayServer({self.url!r}, {self._capture!r})"


def main(argv: list[str] | None = None) -> int:
    """Serve a capture folder until Ctrl-C: ``python -m testbed.replay FOLDER [--port N]``.

    Prints the server URL on the first line of stdout.
    """
    parser = argparse.ArgumentParser(prog="python -m testbed.replay", description=main.__doc__)
    parser.add_argument("folder", help="capture folder holding manifest.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--strict-host", action="store_true",
                        help="404 for hosts other than the capture's and local ones")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    server = ReplayServer(args.folder, args.host, args.port,
                          verbose=args.verbose, strict_host=args.strict_host)
    print(server.url, flush=True)
    print(f"replaying {server.capture.site} ({len(server.capture)} entries); "
          f"as a proxy: http_proxy={server.url.rstrip('/')}", file=sys.stderr, flush=True)
    serve_until_interrupted(server)
    return 0


def wait_for_interrupt(ready: Callable[[], None] | None = None) -> None:
    """Return on Ctrl-C or SIGTERM; ``ready`` (say, telling the user how to stop) is called once they are caught.

    The handlers are set here, not assumed: a crawl run before (``dzarchive demo --serve``) leaves Scrapy's and
    Twisted's in place, which only ask a reactor that no longer runs to stop, so the wait would never end."""
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        if ready is not None:
            ready()
        while not stop.wait(0.5):  # a timed wait: a signal handler runs between two of them
            pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def serve_until_interrupted(server: "ReplayServer") -> None:
    """Start ``server`` and serve until Ctrl-C or SIGTERM; it is stopped however the wait ends."""
    server.start()
    try:
        wait_for_interrupt()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
