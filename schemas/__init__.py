"""The archive schema (``archive.json``): one description serves table creation, row validation and docs."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("archive.json")

# archive.json column types -> SQLite column types and the Python types a normalised value may have.
SQLITE_TYPES = {"integer": "INTEGER", "text": "TEXT", "real": "REAL", "json": "TEXT", "blob": "BLOB"}
PYTHON_TYPES = {"integer": (int,), "text": (str,), "real": (int, float), "json": (str,), "blob": (bytes,)}


@lru_cache(maxsize=None)
def load() -> dict:
    """The parsed ``archive.json``."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def tables() -> dict[str, dict]:
    """Table name -> its description (``pk``, ``columns``, ``indexes``, ``foreign_keys``, ``description``)."""
    return load()["tables"]


def columns(table: str) -> dict[str, str]:
    """Column name -> archive.json type for ``table``."""
    return {name: spec[0] for name, spec in tables()[table]["columns"].items()}


def foreign_keys(table: str) -> dict[str, tuple[str, str]]:
    """Column -> (table, column) it refers to, for ``table``'s declared foreign keys."""
    return {column: tuple(target.split(".", 1))
            for column, target in tables()[table].get("foreign_keys", {}).items()}


def required(table: str) -> list[str]:
    """Columns that must be present and not NULL."""
    return [name for name, spec in tables()[table]["columns"].items() if "required" in spec[2:]]


@lru_cache(maxsize=None)
def _checks(table: str) -> tuple[dict[str, tuple[type, ...]], dict[str, str], tuple[str, ...]]:
    """For ``table``: column -> the exact types a value may have, column -> archive.json type, required columns."""
    cols = columns(table)
    return {name: PYTHON_TYPES[kind] for name, kind in cols.items()}, cols, tuple(required(table))


# Row shapes (table, columns, each value's type) found valid: the answer depends on nothing else, and a
# site's rows come in a few dozen shapes, so most rows are checked by one lookup. Bounded, for safety.
_VALID_SHAPES: set[tuple] = set()
_MAX_SHAPES = 50_000


def validate_row(table: str, row: dict) -> list[str]:
    """Problems with ``row`` for ``table`` (unknown columns, wrong types, missing required values)."""
    shape = (table, tuple(row), tuple(map(type, row.values())))
    if shape in _VALID_SHAPES:
        return []
    if table not in tables():
        return [f"unknown table {table!r}"]
    types, cols, needed = _checks(table)
    problems = []
    for name, value in row.items():
        allowed = types.get(name)
        if allowed is None:
            problems.append(f"{table}: unknown column {name!r}")
        elif value is not None and value.__class__ not in allowed and (
                isinstance(value, bool) or not isinstance(value, allowed)):
            problems.append(f"{table}.{name}: expected {cols[name]}, got {type(value).__name__} {value!r:.60}")
    for name in needed:
        if row.get(name) is None:
            problems.append(f"{table}.{name}: required value missing")
    if not problems and len(_VALID_SHAPES) < _MAX_SHAPES:
        _VALID_SHAPES.add(shape)
    return problems
