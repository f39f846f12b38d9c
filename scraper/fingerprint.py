"""Request fingerprints over canonical Discuz URLs, so each page is fetched once however it was spelled."""
from __future__ import annotations

import hashlib

from .urls import canonical


class DiscuzRequestFingerprinter:
    """Fingerprint = SHA1 of the method, the canonical URL (see :func:`scraper.urls.canonical`) and the body."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def fingerprint(self, request) -> bytes:
        digest = hashlib.sha1()
        digest.update(request.method.encode())
        digest.update(canonical(request.url).encode())
        digest.update(request.body or b"")
        return digest.digest()

