"""Several replayed Discuz! sites behind one loopback HTTP proxy, counting the requests in flight per host.

:class:`MultiSiteProxy` starts one :class:`~testbed.replay.ReplayServer` per capture and routes each proxied
request (``GET http://HOST/path``) to the capture of that host, after an optional ``latency``. It counts, per host,
the requests it is answering at the same moment and keeps the peak (``peak``): politeness measured at the server,
the way a forum's operator would see it. Use as a context manager; point crawlers at it with
``http_proxy=proxy.url``.
"""
from __future__ import annotations

import http.client
import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import urlsplit

from .replay import Capture, ReplayServer

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                        "upgrade", "proxy-authenticate", "proxy-authorization"})


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def do_GET(self) -> None:
        proxy: MultiSiteProxy = self.server.proxy  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        host = (parts.hostname or self.headers.get("Host", "").split(":")[0]).lower()
        with proxy._lock:
            proxy.hosts[host] += 1
        backend = proxy.backends.get(host)
        if backend is None:
            body = f"no capture for host {host!r}\n".encode()
            self.send_response(502)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        proxy._enter(host)
        try:
            if proxy.latency:
                time.sleep(proxy.latency)
            target = parts.path + (f"?{parts.query}" if parts.query else "") if parts.scheme else self.path
            conn = http.client.HTTPConnection(backend.host, backend.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        finally:
            proxy._leave(host)

    def do_CONNECT(self) -> None:
        """A tunnel (HTTPS through the proxy): recorded in ``connects`` and refused; no capture is HTTPS."""
        proxy: MultiSiteProxy = self.server.proxy  # type: ignore[attr-defined]
        with proxy._lock:
            proxy.connects.append(self.path)
            proxy.hosts[self.path.rsplit(":", 1)[0].lower()] += 1
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # crawlers drop connections


class MultiSiteProxy(ReplayServer):
    """A loopback HTTP proxy serving ``captures`` (folders or :class:`Capture`) by their host names.

    Attributes: ``url``, ``backends`` (host -> ReplayServer), ``in_flight`` and ``peak`` (host -> count),
    ``requests`` (host -> number answered), ``hosts`` (every host asked for) and ``connects`` (CONNECT targets).
    Starting and stopping are :class:`ReplayServer`'s.
    """

    def __init__(self, captures: Iterable[Capture | str | os.PathLike[str]], *, latency: float = 0.0):
        # Not ReplayServer.__init__: this server routes by host instead of serving one capture.
        self.latency = latency
        self.backends: dict[str, ReplayServer] = {}
        for capture in captures:
            server = ReplayServer(capture)
            for host in server.capture.hosts:
                self.backends[host] = server
        self.in_flight: Counter = Counter()
        self.peak: Counter = Counter()
        self.requests: Counter = Counter()
        self.hosts: Counter = Counter()  # every host asked for, served or not (CONNECT tunnels too)
        self.connects: list[str] = []  # the target of every CONNECT
        self._lock = threading.Lock()
        self._httpd = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._httpd.proxy = self  # type: ignore[attr-defined]
        self.host, self.port = self._httpd.server_address[:2]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread: threading.Thread | None = None

    def _enter(self, host: str) -> None:
        with self._lock:
            self.in_flight[host] += 1
            self.requests[host] += 1
            self.peak[host] = max(self.peak[host], self.in_flight[host])

    def _leave(self, host: str) -> None:
        with self._lock:
            self.in_flight[host] -= 1

    def __repr__(self) -> str:
        return f"MultiSiteProxy({self.url!r}, hosts={sorted(self.backends)})"

    def reset(self) -> None:
        """Forget the counts (between two measured runs)."""
        with self._lock:
            self.peak.clear()
            self.requests.clear()

    def start(self) -> "MultiSiteProxy":
        """Start the replay servers, then the proxy (a daemon thread); return self."""
        for server in set(self.backends.values()):
            server.start()
        return super().start()

    def stop(self) -> None:
        """Stop the proxy, then the replay servers."""
        super().stop()
        for server in set(self.backends.values()):
            server.stop()
