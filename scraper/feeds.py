"""Scrapy feed exports (``scrapy crawl site -O items.jsonl``): what reaches the feed is each page's
archive rows (:class:`~archive.records.PageRecord`) or a failed request (:class:`~archive.records.FetchError`),
written as JSON without the raw page bytes (those stay in the archive's ``pages`` table when kept).

Enabled for the ``json``, ``jsonlines``, ``jsonl`` and ``jl`` formats in ``scraper/settings.py``; the
items the pipelines receive are unchanged: only what the exporter writes is converted.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from scrapy.exporters import JsonItemExporter, JsonLinesItemExporter

from archive.records import FetchError, PageRecord

# Fields of a PageRecord that are not parsed data: the page's bytes and the store's instructions.
_NOT_EXPORTED = {"body", "keep_body"}


def feed_item(item: Any) -> Any:
    """A pipeline item as a JSON-ready dict: a page's rows by table (with its URL, kind, status and
    errors), or a failed request (``{"kind": "fetch", "url", "message", "error": true}``)."""
    if isinstance(item, PageRecord):
        data = {f.name: getattr(item, f.name) for f in dataclasses.fields(item) if f.name not in _NOT_EXPORTED}
        data["errors"] = [{"kind": kind, "message": message} for kind, message in item.errors]
        return data
    if isinstance(item, FetchError):
        return dict(dataclasses.asdict(item), error=True)
    return item


class PageJsonLinesExporter(JsonLinesItemExporter):
    """JSON Lines: one archived page (or failed request) per line."""

    def export_item(self, item):
        return super().export_item(feed_item(item))


class PageJsonExporter(JsonItemExporter):
    """One JSON array of archived pages (and failed requests)."""

    def export_item(self, item):
        return super().export_item(feed_item(item))
