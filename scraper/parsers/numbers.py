"""Discuz! figures as shown -> numbers.

``dnumber()`` renders figures above 10000 as ``4万`` and, on X3.x, wraps them in
``<span title="41088">``: the title is the exact figure. Without it the shown value is all we
have, so it is expanded (``5万`` -> 50000) and flagged approximate. Credits come with units
(``40638 点``, ``215115 枚``), online time with ``小时``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..digits import MAX_DIGITS, as_int
from .labels import LabelTable, label_pattern

# 万 / 萬, 小时 / 小時, 分钟 / 分鐘 in both scripts: see .labels.
_NUMBER_WITH_UNIT = label_pattern(r"(?P<num>[-+]?\d[\d,]*(?:\.\d+)?)\s*(?P<mult>[万亿wWkK])?\s*(?P<unit>\S.*)?$")
_MULTIPLIERS = LabelTable({"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000})
_SPACES = re.compile(r"[\s\u00a0\u3000]+")
_HOURS = label_pattern(r"(\d+(?:\.\d+)?)\s*(?:小时|hours?|h)")
_MINUTES = label_pattern(r"(\d+)\s*(?:分钟|分|min)")


@dataclass(frozen=True)
class Figure:
    """A figure as shown and as understood."""

    shown: str
    value: int | float | None
    unit: str | None = None
    approx: bool = False


@lru_cache(maxsize=4096)  # stats blocks repeat the same few figures and labels page after page
def parse_figure(shown: str | None, exact: str | None = None) -> Figure:
    """Read ``shown`` (``"4万"``, ``"40638 点"``, ``"1,234"``); ``exact`` is a ``span[title]`` if any."""
    shown_clean = _SPACES.sub(" ", shown or "").strip()
    unit = None
    value: int | float | None = None
    approx = False
    m = _NUMBER_WITH_UNIT.match(shown_clean)
    if m:
        num = float(m.group("num").replace(",", ""))
        mult = m.group("mult")
        if mult:
            num *= _MULTIPLIERS.find(mult)
            approx = True
        value = figure_value(num)
        unit = (m.group("unit") or "").strip() or None
    if exact:
        em = _NUMBER_WITH_UNIT.match(_SPACES.sub(" ", exact).strip())
        if em and not em.group("mult"):
            num = float(em.group("num").replace(",", ""))
            value = figure_value(num)
            approx = False
    return Figure(shown=shown_clean, value=value, unit=unit, approx=approx)


def parse_int(text: str | None) -> int | None:
    """The first integer in ``text`` (thousands separators allowed), else ``None``."""
    if not text:
        return None
    m = re.search(r"\d[\d,]*", text)
    return as_int(m.group(0).replace(",", "")) if m else None


def parse_hours(text: str | None) -> float | None:
    """Online time (``"13578 小时"``, ``"12 小时 30 分钟"``) in hours."""
    if not text:
        return None
    hours = _HOURS.search(text)
    minutes = _MINUTES.search(text)
    if not hours and not minutes:
        figure = parse_figure(text)
        return float(figure.value) if figure.value is not None else None
    total = float(hours.group(1)) if hours else 0.0
    if minutes:
        total += float(minutes.group(1)) / 60
    value = figure_value(total)
    return round(value, 2) if isinstance(value, float) else value


def figure_value(num: float) -> int | float | None:
    """A figure's value: an int when whole; ``None`` past what Discuz stores (a damaged page's ``1e999``, a run
    of 400 digits: ``inf``, or more digits than a 64-bit column holds)."""
    if not abs(num) < 10 ** MAX_DIGITS:  # also NaN
        return None
    return int(num) if num == int(num) else num
