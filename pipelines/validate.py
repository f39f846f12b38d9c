"""Stage 2: check every row against ``schemas/archive.json``; a bad row becomes a recorded error, never a silent loss."""
from __future__ import annotations

import schemas

from archive.records import PageRecord


def validate_record(record: PageRecord) -> PageRecord:
    """Drop rows that do not fit the schema, record why, and keep the page's body for re-parsing."""
    for group in (record.rows, record.states):
        for table, rows in group.items():
            good = []
            for row in rows:
                problems = schemas.validate_row(table, row)
                if problems:
                    record.errors.append(("validation", "; ".join(problems)))
                    record.keep_body = True
                else:
                    good.append(row)
            group[table] = good
    return record


class ValidatePipeline:
    """Scrapy pipeline: validates :class:`PageRecord` items in place."""

    def process_item(self, item, spider=None):
        if isinstance(item, PageRecord):
            return validate_record(item)
        return item
