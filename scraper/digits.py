"""Digits read off a page (an id in a URL or an element id, a count) as an ``int``, whatever the page holds.

A page is written by Discuz and by its members: a post may link ``tid=²`` or a tid of five thousand digits,
a theme or a damaged page may put anything where Discuz writes a number. ``int()`` refuses the first
(``str.isdigit`` accepts superscripts, ``int`` does not) and raises on the second (past 4300 digits; and
slowly below that); a 25-digit id would overflow SQLite's 64-bit integers later. Discuz's ids and counts
fit 64-bit columns, so a run of more digits than :data:`MAX_DIGITS` is no figure Discuz wrote: read as none.
"""
from __future__ import annotations

MAX_DIGITS = 18  # below 2**63: every SQLite integer, every Discuz id and count


def as_int(digits: str | None) -> int | None:
    """``digits`` (decimal digits of any script, as a regex ``\\d+`` matches them) as an ``int``; ``None`` when
    empty, not all decimal digits, or longer than :data:`MAX_DIGITS`."""
    if not digits or len(digits) > MAX_DIGITS or not digits.isdecimal():
        return None
    return int(digits)
