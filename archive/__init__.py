"""The archive: the one package that owns an archive's SQLite database.

- :mod:`archive.db`: the schema (tables and indexes from ``schemas/archive.json``), idempotent page writes,
  crawl runs, and the lock a crawl holds (:class:`Archive`, :class:`ArchiveLock`).
- :mod:`archive.fulltext`: the trigram full-text indexes, their triggers and the researchers' views.
- :mod:`archive.records`: what one page writes (:class:`PageRecord`) and a failed fetch (:class:`FetchError`).
- :mod:`archive.state`: the read-only view the spider's incremental decisions come from (:class:`ArchiveState`).
- :mod:`archive.access`: opening an existing archive, read-only or not (:func:`open_archive`).

The pipelines write through :class:`Archive`, the spider reads through :class:`ArchiveState`, and the
researchers' commands (:mod:`research`) read through :func:`open_archive`.
"""
from __future__ import annotations

from .access import open_archive
from .db import Archive, ArchiveLock, ArchiveLocked
from .records import FetchError, PageRecord
from .state import ArchiveState, ThreadState

__all__ = ["Archive", "ArchiveLock", "ArchiveLocked", "ArchiveState", "FetchError", "PageRecord", "ThreadState",
           "open_archive"]
