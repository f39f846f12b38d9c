"""Scrapy's stats collector, without its per-access shim.

Scrapy 2.13+ wraps ``StatsCollector.__getattribute__`` to warn when a ``spider`` argument is passed to the stats
methods: every attribute read (``self._stats`` inside ``inc_value`` too) goes through a Python function that
builds a name and catches an ``AttributeError``, about 4 us a call where the dict operation takes 0.2; a crawl makes
about 15 calls a page (the downloader's, the scheduler's, the spider's counts). Here the methods are the same and
read attributes directly, and passing ``spider`` still gives Scrapy's warning, in Scrapy's words.
"""
from __future__ import annotations

import inspect
import warnings

from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.statscollectors import MemoryStatsCollector

# The methods Scrapy's shim warns for (scrapy.statscollectors.StatsCollector.__getattribute__).
_WARNED = ("get_value", "get_stats", "set_value", "set_stats", "inc_value", "max_value", "min_value", "clear_stats",
           "open_spider", "close_spider")


def _warning_spider(function, stacklevel: int = 2):
    """``function`` (a method of Scrapy's) warning as Scrapy's ``_warn_spider_arg`` does when given ``spider``, the
    warning said of the line that called it (``stacklevel``: 3 when called through one more method)."""
    names = list(inspect.signature(function).parameters)[1:]  # without self, as Scrapy reads the bound method
    index = names.index("spider")
    message = (f"Passing a 'spider' argument to {function.__qualname__}() is deprecated and the argument will be"
               " removed in a future Scrapy version.")

    def method(self, *args, **kwargs):
        if "spider" in kwargs or len(args) > index:
            warnings.warn(message, category=ScrapyDeprecationWarning, stacklevel=stacklevel)
        return function(self, *args, **kwargs)
    method.__name__, method.__qualname__, method.__doc__ = function.__name__, function.__qualname__, function.__doc__
    return method


class ArchiveStatsCollector(MemoryStatsCollector):
    """``MemoryStatsCollector`` (Scrapy's default), its methods called directly (see the module docstring)."""

    __getattribute__ = object.__getattribute__

    def inc_value(self, key, count=1, start=0, *args, **kwargs):
        if args or kwargs:  # spider=: Scrapy's warning
            return self._inc_value_warning(key, count, start, *args, **kwargs)
        d = self._stats
        d[key] = d.setdefault(key, start) + count

    def get_value(self, key, default=None, *args, **kwargs):
        if args or kwargs:
            return self._get_value_warning(key, default, *args, **kwargs)
        return self._stats.get(key, default)


for _name in _WARNED:
    _base = getattr(MemoryStatsCollector, _name)
    if _name in ("inc_value", "get_value"):
        setattr(ArchiveStatsCollector, f"_{_name}_warning", _warning_spider(_base, stacklevel=3))
    else:
        setattr(ArchiveStatsCollector, _name, _warning_spider(_base))
del _name, _base
