"""The User-Agent dzarchive sends: its name and version, and the contact the user set (``DZ_CONTACT``).

A forum admin who sees unusual traffic looks at the User-Agent first: a name, a version and a way to
reach whoever runs the crawl let them ask (slow down, skip a forum) instead of blocking the address.
"""
from __future__ import annotations

from scrapy import signals
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware


def user_agent(base: str, contact: str | None) -> str:
    """``base`` (``dzarchive/0.1.0 (Discuz! forum archiver)``) with ``; contact: CONTACT`` inside its comment."""
    contact = (contact or "").strip()
    if not contact:
        return base
    if base.endswith(")"):
        return f"{base[:-1]}; contact: {contact})"
    return f"{base} (contact: {contact})"


class ContactUserAgentMiddleware(UserAgentMiddleware):
    """Scrapy's User-Agent middleware, with ``DZ_CONTACT`` added to ``USER_AGENT``.

    Enabled in place of Scrapy's own in ``scraper/settings.py``; robots.txt requests carry it too.
    """

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        middleware = cls(user_agent(settings["USER_AGENT"], settings.get("DZ_CONTACT")))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware
