"""What flows between the pipeline stages: one page's rows, ready for the archive."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FetchError:
    """A request that produced no page (connection refused, timeout, HTTP 5xx after retries)."""

    url: str
    kind: str  # "fetch" or "http"
    message: str


@dataclass
class PageRecord:
    """Rows from one page, by table, plus what the archive needs to know about the page itself.

    ``rows`` maps a table name to a list of row dicts whose keys are archive columns.
    ``errors`` are ``(kind, message)`` pairs recorded against the page's URL; ``keep_body``
    asks the store to keep the raw bytes for re-parsing.
    """

    url: str
    kind: str
    status: str
    fetched_at: str
    http_status: int | None = None
    message: str | None = None
    version: str | None = None
    rows: dict[str, list[dict]] = field(default_factory=dict)
    # State rows (``{"tid": 7, "status": "login_required"}``) of things the page could not show:
    # they update an archived row, and create one only when the thing is known to exist.
    states: dict[str, list[dict]] = field(default_factory=dict)
    # For a thread page: which posts it showed (tid, page, last, pids, floors), so that archived
    # posts that should be there and are not can be marked deleted.
    thread_view: dict | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    keep_body: bool = False
    body: bytes | None = None
    content_type: str | None = None
    date_header: str | None = None

    def count(self) -> int:
        """Number of rows carried."""
        return sum(len(rows) for rows in self.rows.values())
