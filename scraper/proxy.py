"""Scrapy's proxy middleware, asking ``no_proxy`` once per host rather than once per request.

With a proxy in the environment (``http_proxy``, ``--proxy``), Scrapy's ``HttpProxyMiddleware`` calls
``urllib.request.proxy_bypass(host)`` for every request, which reads and decodes the whole environment each time.
Scrapy reads the proxies themselves once, when the crawl starts; here ``no_proxy``'s answer for a host is kept for
the crawl as well. Everything else (a request's own ``proxy`` meta, credentials, other schemes) is Scrapy's code.
"""
from __future__ import annotations

from urllib.request import proxy_bypass

from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.utils.httpobj import urlparse_cached


class HostCachedProxyMiddleware(HttpProxyMiddleware):
    """``HttpProxyMiddleware`` with ``proxy_bypass`` asked once per host (see the module docstring); enabled and
    configured by the same settings (``HTTPPROXY_*``)."""

    def __init__(self, auth_encoding: str | None = "latin-1"):
        super().__init__(auth_encoding)
        self._bypass: dict[str, bool] = {}

    def process_request(self, request, spider=None):
        if "proxy" in request.meta or not self.proxies:
            return super().process_request(request)
        parsed = urlparse_cached(request)
        scheme, host = parsed.scheme, parsed.hostname
        if scheme not in {"http", "https"} or not host:
            return super().process_request(request)
        bypass = self._bypass.get(host)
        if bypass is None:
            bypass = self._bypass[host] = bool(proxy_bypass(host))
        # Scrapy's own choice, with proxy_bypass(host) read from the cache.
        if not bypass and scheme in self.proxies:
            creds, proxy_url = self.proxies[scheme]
            self._set_proxy_and_creds(request, proxy_url, creds, scheme)
        else:
            self._set_proxy_and_creds(request, None, None, None)
        return None
