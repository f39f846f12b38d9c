"""Media store (``--media``): each downloaded file once per content, under its SHA-256, and a ``media`` row per URL."""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from scrapy.exceptions import NotConfigured

import schemas
from archive import Archive
from scraper.write_failures import is_write_failure, stop_crawl, write_failure
from scraper.media import MediaItem

logger = logging.getLogger(__name__)


def media_dir_for(db: str | Path) -> Path:
    """Where the media of the archive ``db`` are stored unless ``DZ_MEDIA_DIR`` says otherwise: ``DB.media/``."""
    return Path(f"{db}.media")


def store_file(folder: Path, body: bytes, extension: str | None = None) -> tuple[str, str]:
    """Write ``body`` as ``folder/ab/abcdef….EXT`` (its SHA-256, and ``extension`` when known) unless the content is
    there already; returns (sha256, relative path).

    A content is stored once: when a file of that SHA-256 exists under any name (another extension, or none, as
    archives before extensions stored them), its path is returned and nothing is written, so the ``path`` of
    every earlier ``media`` row stays valid.
    """
    sha = hashlib.sha256(body).hexdigest()
    relative = f"{sha[:2]}/{sha}" + (f".{extension}" if extension else "")
    target = folder / relative
    if not target.exists():
        existing = sorted(p for p in (folder / sha[:2]).glob(f"{sha}*") if p.name.partition(".")[0] == sha)
        if existing:
            return sha, f"{sha[:2]}/{existing[0].name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{sha}.{os.getpid()}.part")
        try:
            partial.write_bytes(body)
        except OSError:  # a full disk: no half file left behind (the crawl stops, see MediaPipeline)
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)  # atomic: a killed crawl never leaves half a file under its hash
    return sha, relative


class MediaPipeline:
    """Scrapy pipeline: :class:`MediaItem` in, a file under the media folder and a ``media`` row out.

    Settings: ``DZ_MEDIA`` (off: not enabled), ``DZ_DB``, ``DZ_MEDIA_DIR`` (default ``DB.media/``).
    """

    def __init__(self, db_path: str, folder: Path, crawler=None):
        self.db_path = db_path
        self.folder = folder
        self.crawler = crawler
        self.archive: Archive | None = None
        self.stored = 0
        self.refused = 0

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("DZ_MEDIA"):
            raise NotConfigured  # without a message: Scrapy would warn "Disabled ..." of a component simply off
        db = s.get("DZ_DB", "data/archive.db")
        return cls(db, Path(s.get("DZ_MEDIA_DIR") or media_dir_for(db)), crawler)

    def open_spider(self, spider=None):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            stop_crawl(self.crawler, "the media folder", self.folder, exc)
        self.archive = Archive(self.db_path)

    def process_item(self, item, spider=None):
        if not isinstance(item, MediaItem):
            return item
        if write_failure(self.crawler):  # the crawl is stopping for a write that failed: nothing more is written
            return item
        try:
            return self._store(item, spider)
        except Exception as exc:  # noqa: BLE001 - only a failed write is caught
            if not is_write_failure(exc):
                raise
            # A picture the crawl cannot keep stops it, as a page it cannot keep does: the disk is full (or
            # read-only, or failing), and everything after would be lost the same way.
            what, where = (("the media file", self.folder) if isinstance(exc, OSError)
                           else ("the archive", self.db_path))
            stop_crawl(self.crawler, what, where, exc)
            return item

    def _store(self, item: MediaItem, spider):
        spider = spider or getattr(self.crawler, "spider", None)
        row = {"url": item.url, "status": item.status, "content_type": item.content_type,
               "http_status": item.http_status, "message": item.message, "fetched_at": item.fetched_at,
               "crawl_id": getattr(spider, "crawl_id", None)}
        if item.status == "ok":
            row["sha256"], row["path"] = store_file(self.folder, item.body, item.extension)
            row["size"] = len(item.body)
            self.stored += 1
        else:
            self.refused += 1
            logger.info("media not stored (%s): %s %s", item.status, item.url, item.message or "")
        problems = schemas.validate_row("media", row)
        if problems:
            logger.error("media row for %s: %s", item.url, "; ".join(problems))
            return item
        self.archive.write_media(row)
        item.body = None  # stored: the bytes need not travel further
        return item

    def close_spider(self, spider=None):
        if self.archive is not None:
            self.archive.close()
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("dzarchive/media_stored", self.stored)
            self.crawler.stats.set_value("dzarchive/media_refused", self.refused)
