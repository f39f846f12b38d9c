"""A replay server that fails: a flaky, overloaded Discuz! forum on loopback, reproducibly.

:class:`FlakyReplayServer` serves a capture as :class:`~testbed.replay.ReplayServer` does, except that a share
(``rate``) of responses fail, chosen at random from ``seed`` and each URL's attempt number (so a run is
reproducible), and each URL fails at most ``max_failures`` times. The faults (:data:`FAULTS`) are what
a real forum under load sends:

- ``500``, ``502``, ``503``: an error status; ``429``: with ``Retry-After: 1``;
- ``reset``: the connection is closed (RST) before any response; ``truncated``: half the body, then closed;
- ``timeout``: no answer for ``stall`` seconds (give the crawl a shorter ``DOWNLOAD_TIMEOUT``);
- ``not_found``, ``closed_site``, ``flood``: Discuz's own error pages ("主题不存在", "站点已关闭", "刷新过于频繁")
  served with status 200.

``robots.txt`` never fails. ``faults`` counts the faults served, by kind; ``requests`` lists every request.

``bench/flaky.py`` measures what a crawl of it archives.
"""
from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import quote

from .replay import (
    _PRINTABLE_ASCII, NOT_FOUND_TEMPLATE, ReplayServer, _page_one_variant, _ReplayHandler, _route_key, _split_target,
)

FAULTS = ("500", "502", "503", "429", "reset", "truncated", "timeout", "not_found", "closed_site", "flood")

# Discuz X's showmessage() page, as the fixture site renders it, with the message in its place.
SOFT_PAGE = """<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>提示信息 -  示例论坛 -  Powered by Discuz!</title>
<meta name="generator" content="Discuz! X3.4" />
</head><body id="nv_forum" class="pg_{mod}">
<div id="wp" class="wp"><div id="ct" class="wp cl w"><div class="nfl"><div class="f_c altw">
<div id="messagetext" class="alert_error"><p>{message}</p></div>
</div></div></div></div></body></html>
"""
SOFT_MESSAGES = {
    "not_found": {"viewthread": "抱歉，指定的主题不存在或已被删除或正在被审核", "": "抱歉，指定的版块不存在"},
    "closed_site": {"": "站点已关闭，请稍后访问"},
    "flood": {"": "刷新过于频繁，请 3 秒后再试"},
}


class _FlakyHandler(_ReplayHandler):
    def _serve(self, send_body: bool) -> None:
        replay: FlakyReplayServer = self.server.replay  # type: ignore[attr-defined]
        target = quote(self.path.encode("latin-1"), safe=_PRINTABLE_ASCII)
        _, path, query = _split_target(target)
        fault = replay._fault(path + ("?" + query if query else ""))
        if fault is None:
            return super()._serve(send_body)
        replay._log_request(path + ("?" + query if query else ""), self.headers.get("User-Agent"))
        if fault in ("500", "502", "503", "429"):
            body = NOT_FOUND_TEMPLATE.replace("404 Not Found", f"{fault} Server Error").format("").encode()
            headers = {"Retry-After": "1"} if fault == "429" else {}
            return self._respond(int(fault), "text/html; charset=utf-8", headers, body, send_body)
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return None
        if fault == "timeout":
            time.sleep(replay.stall)
            self.close_connection = True
            return None
        if fault == "truncated":
            entry = replay.capture.lookup(path + ("?" + query if query else ""))
            body = entry.body() if entry is not None else b"<html>" + b" " * 2000 + b"</html>"
            self.send_response_only(200)
            self.send_header("Content-Type", entry.content_type if entry is not None else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        mod = "viewthread" if "viewthread" in query or "thread-" in path else "forumdisplay"
        messages = SOFT_MESSAGES[fault]
        page = SOFT_PAGE.format(mod=mod, message=messages.get(mod, messages[""]))
        return self._respond(200, "text/html; charset=utf-8", {}, page.encode("utf-8"), send_body)


class FlakyReplayServer(ReplayServer):
    """A :class:`ReplayServer` that fails ``rate`` of its responses (at most ``max_failures`` times per URL).

    ``seed`` makes the faults reproducible; ``faults`` limits them to some of :data:`FAULTS`; ``stall`` is how long a
    ``timeout`` keeps the client waiting. ``script`` maps a page's URL to faults served first for it, in order
    (``{"forum.php?mod=viewthread&tid=2&page=2": ["not_found"] * 2}``). ``faults_served`` counts them, by fault.
    """

    handler_class = _FlakyHandler

    def __init__(self, capture, *, rate: float = 0.21, seed: int = 0, max_failures: int = 2,
                 faults: tuple[str, ...] = FAULTS, stall: float = 3.0, script: dict[str, list[str]] | None = None,
                 **kwargs: Any):
        super().__init__(capture, **kwargs)
        # Faults to serve first, in order, for one page (a URL of it: any spelling Discuz routes to it).
        self.script = {_route_key(url): list(faults) for url, faults in (script or {}).items()}
        self.rate, self.seed, self.max_failures, self.stall = rate, seed, max_failures, stall
        self.kinds = tuple(faults)
        self.faults_served: Counter = Counter()
        self.answers: Counter = Counter()  # every answer to a page request, faulty or not
        self._attempts: Counter = Counter()
        self._failed: Counter = Counter()
        self._faults_lock = threading.Lock()

    def _fault(self, path_query: str) -> str | None:
        """The fault to serve for this request of ``path_query``, or ``None`` to serve the page."""
        if path_query.startswith("/robots.txt"):
            return None
        route = _route_key(path_query)
        key = repr(route)
        with self._faults_lock:
            scripted = self.script.get(route) or self.script.get(_page_one_variant(route))
            if scripted:
                self.answers["all"] += 1
                self.faults_served[scripted[0]] += 1
                return scripted.pop(0)
            attempt = self._attempts[key]
            self._attempts[key] += 1
            self.answers["all"] += 1
            rng = random.Random(f"{self.seed}:{key}:{attempt}")
            if self._failed[key] >= self.max_failures or rng.random() >= self.rate:
                return None
            self._failed[key] += 1
            fault = rng.choice(self.kinds)
            self.faults_served[fault] += 1
            return fault

    @property
    def fault_rate(self) -> float:
        """The share of page answers that were faults."""
        return sum(self.faults_served.values()) / max(1, self.answers["all"])


# What must come out of a crawl the same whatever failed on the way: each row's identity and its content.
SHARE_COLUMNS = {
    "forums": ("fid", "name", "parent_fid", "status"),
    "threads": ("tid", "fid", "title", "status", "replies"),
    "posts": ("pid", "tid", "floor", "author_uid", "status", "content_text"),
    "users": ("uid", "username"),
    "user_stats": ("uid", "source", "posts", "credits"),
}


def archive_share(clean_db, db) -> float:
    """The share of a clean crawl's rows (:data:`SHARE_COLUMNS`) that ``db`` holds with the same values (0..1)."""
    import sqlite3

    def rows(path):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {(table, row) for table, cols in SHARE_COLUMNS.items()
                    for row in conn.execute(f"SELECT DISTINCT {', '.join(cols)} FROM {table}")}
        except sqlite3.OperationalError:  # no archive at all
            return set()
        finally:
            conn.close()

    clean = rows(clean_db)
    return len(clean & rows(db)) / max(1, len(clean))
