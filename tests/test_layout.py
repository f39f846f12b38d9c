"""The code's layout holds: no import cycles, packages depend in one direction, and ``schemas/archive.json``
describes the database an archive really has."""
from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import schemas
from archive import Archive
from archive.fulltext import FTS_INDEXES, VIEW_DESCRIPTIONS, VIEWS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scraper", "pipelines", "archive", "research", "schemas", "testbed", "dzarchive")
# package -> packages it must never import (at any depth): the arrows of the layout point one way.
FORBIDDEN = {
    "archive": {"scraper", "pipelines", "research", "dzarchive", "testbed"},
    "research": {"scraper.spiders", "pipelines", "dzarchive", "testbed"},
    "pipelines": {"research", "dzarchive", "testbed"},
    "scraper.parsers": {"scrapy", "pipelines", "archive", "research", "dzarchive", "testbed"},
    "scraper": {"research", "dzarchive"},
    "testbed": {"dzarchive", "research"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str, *, top_level_only: bool) -> set[str]:
    """Project and third-party modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _project_modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def test_no_import_cycles_between_modules():
    modules = _project_modules()
    graph = {name: {m for m in _imports(path, name, top_level_only=True) if m in modules and m != name}
             for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    graph = {name: {m for m in deps if not (modules[name].name == "__init__.py" and m.startswith(name + "."))}
             for name, deps in graph.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_packages_depend_in_one_direction():
    bad = []
    for name, path in _project_modules().items():
        for prefix, forbidden in FORBIDDEN.items():
            if name == prefix or name.startswith(prefix + "."):
                for imported in _imports(path, name, top_level_only=False):
                    if any(imported == f or imported.startswith(f + ".") for f in forbidden):
                        bad.append((name, imported))
    assert bad == []


def test_every_module_says_what_it_owns():
    undocumented = [name for name, path in _project_modules().items()
                    if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]
    assert undocumented == []


def test_archive_json_describes_the_live_schema(tmp_path):
    Archive(tmp_path / "a.db").close()
    conn = sqlite3.connect(tmp_path / "a.db")
    fts_tables = {fts for fts, *_ in FTS_INDEXES}
    live_tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if not any(name == fts or name.startswith(fts + "_") for fts in fts_tables)}
    assert live_tables == set(schemas.tables())
    for table, spec in schemas.tables().items():
        info = conn.execute(f"PRAGMA table_info([{table}])").fetchall()
        assert [row[1] for row in info] == list(spec["columns"]), table
        assert {row[1]: row[2] for row in info} == {c: schemas.SQLITE_TYPES[t[0]] for c, t in spec["columns"].items()}
        assert [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])] == spec["pk"], table
        live_indexes = {tuple(col for (_, _, col) in conn.execute(f"PRAGMA index_info([{name}])"))
                        for (name,) in conn.execute(
                            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                            [table])}
        unique = {tuple(spec["unique"])} if spec.get("unique") else set()
        assert live_indexes == {tuple(index) for index in spec.get("indexes", [])} | unique, table
        live_fks = {row[3]: f"{row[2]}.{row[4]}" for row in conn.execute(f"PRAGMA foreign_key_list([{table}])")}
        assert live_fks == spec.get("foreign_keys", {}), table
    live_views = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert live_views == set(VIEWS) == set(VIEW_DESCRIPTIONS)
    for view, (description, columns) in VIEW_DESCRIPTIONS.items():
        live_columns = [row[1] for row in conn.execute(f"PRAGMA table_info([{view}])")]
        assert description and set(columns) <= set(live_columns), view
    triggers = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {f"{fts}_{op}" for fts in fts_tables for op in ("ai", "ad", "au")}
    conn.close()
