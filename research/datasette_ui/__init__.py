"""Reading an archive in Datasette: ``dzarchive serve`` (:func:`serve`) and the small Datasette plugin it loads.

The plugin (registered under the ``datasette`` entry point too, so a plain ``datasette archive.db -m
metadata.json`` in the same environment has it) does four things, each only where the metadata's
``plugins.dzarchive`` block asks (:func:`research.datasette_metadata` writes it), so other databases are untouched:

* ``links``: a cell of a named column becomes a link to a canned query, its URL filled from the row
  (``author`` -> "A user's posts" by ``author_uid``; ``title`` -> "A thread" by ``tid``);
* ``full_text``: in canned queries those columns are shown whole (Datasette cuts cells at 2,048 characters);
* ``short_search``: a full-text search with a word of one or two characters (which the trigram index
  cannot look up: "0 records") gets, beside that result, a link to the substring query that finds it
  (``templates/_table.html``);
* ``headings``: a reading query's page says what it shows above the rows (the thread's title and forum
  with its page on the site, the poster's name: ``templates/_description_source_license.html``).

Datasette is an optional dependency (``pip install -e '.[datasette]'``): this package imports it.
"""
from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import markupsafe
from datasette import hookimpl

from archive.fulltext import TRIGRAM_MIN_CHARS  # shorter words the trigram index cannot look up

PLUGIN = "dzarchive"
# "{name}" fields of a link template (filled from the row).
_FIELD = re.compile(r"\{(\w+)\}")
# ":name" parameters of a heading query.
_PARAMETER = re.compile(r"(?<!:):(\w+)")


def _config(datasette, database: str | None) -> dict:
    return (datasette.plugin_config(PLUGIN, database=database) or {}) if database else {}


def _row_value(row, key: str):
    try:
        return row[key]
    except (IndexError, KeyError):
        return None


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """A linked or uncut cell where the database's ``plugins.dzarchive`` asks for one; else None (Datasette's own)."""
    config = _config(datasette, database)
    if not config or value in (None, ""):
        return None
    href = config.get("links", {}).get(column)
    if href:
        fields = {}
        for key in _FIELD.findall(href):
            field = _row_value(row, key)
            if field in (None, ""):
                return None
            fields[key] = quote(str(field), safe="")
        url = f"{datasette.urls.database(database)}/{href.format(**fields)}"
        return markupsafe.Markup('<a href="{}">{}</a>').format(url, value)
    if table is None and column in config.get("full_text", ()):
        return markupsafe.Markup("{}").format(value)  # a plugin's value is not cut at truncate_cells_html
    return None


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """``dzarchive_short_search``: on a table page, the hint for a 1-2 character search (or None);
    ``dzarchive_heading``: on a reading query's page, what it shows (the thread's title, the poster's name)."""

    async def template_vars():
        return {"dzarchive_short_search": short_search_hint(datasette, database, table, request),
                "dzarchive_heading": await query_heading(datasette, database, request)}

    return template_vars


async def query_heading(datasette, database: str | None, request) -> markupsafe.Markup | None:
    """The heading of a canned query's page: ``plugins.dzarchive.headings[query]`` is SQL run with the page's
    parameters, giving ``heading`` (and ``note``, ``url``: shown beside it, the latter as a link). None where
    the page has no heading query, lacks a parameter or the SQL finds nothing."""
    if request is None or not database:
        return None
    sql = _config(datasette, database).get("headings", {}).get(request.url_vars.get("table") or "")
    if not sql:
        return None
    params = {name: request.args.get(name, "") for name in _PARAMETER.findall(sql)}
    if not any(params.values()):
        return None
    rows = (await datasette.get_database(database).execute(sql, params)).rows
    if not rows or rows[0]["heading"] in (None, ""):
        return None
    row = dict(rows[0])
    heading = markupsafe.Markup("<strong>{}</strong>").format(row["heading"])
    if row.get("note"):
        heading += markupsafe.Markup(" · {}").format(row["note"])
    if row.get("url"):
        heading += markupsafe.Markup(' · <a href="{}">on the site</a>').format(row["url"])
    return heading


def short_search_hint(datasette, database: str | None, table: str | None, request) -> markupsafe.Markup | None:
    """The hint for a full-text search on ``table`` that holds a word the trigram index cannot look up.

    In: the page's database, table and request (its ``_search`` argument). Out: HTML naming the short
    word with a link to the canned query (``plugins.dzarchive.short_search[table]``) that finds it by
    substring, or None where the search is absent, long enough or the table has no such query.
    """
    query = _config(datasette, database).get("short_search", {}).get(table or "")
    term = (request.args.get("_search") or "").strip() if request is not None else ""
    short = [word for word in term.split() if len(word.strip('"')) < TRIGRAM_MIN_CHARS]
    if not query or not short:
        return None
    url = f"{datasette.urls.database(database)}/{query}?{urlencode({'word': term})}"
    return markupsafe.Markup(
        "The full-text search needs words of {} or more characters, so “{}” finds nothing here. "
        '<a href="{}">Find “{}” in {}</a> (any length).').format(
            TRIGRAM_MIN_CHARS, " ".join(short), url, term, query)


# -- dzarchive serve ---------------------------------------------------------------------------------
class ServeError(Exception):
    """Why ``dzarchive serve`` cannot start (one line)."""


def is_being_written(path: Path) -> bool:
    """True while an archive's write-ahead log holds pages not yet in the file (a crawl running or cut short):
    such a file is served read-only (``mode=ro``), which reads the log; others immutable (faster, no locks)."""
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def make_datasette(paths: list[Path], metadata: dict, names: list[str]):
    """A read-only Datasette over ``paths`` (named ``names``) with ``metadata`` and this plugin registered."""
    from datasette.app import Database, Datasette
    from datasette.plugins import pm

    if not pm.is_registered(sys.modules[__name__]) and pm.get_plugin(PLUGIN) is None:
        pm.register(sys.modules[__name__], name=PLUGIN)
    ds = Datasette(metadata=metadata, settings={"sql_time_limit_ms": 5000})
    for path, name in zip(paths, names):
        ds.add_database(Database(ds, path=str(path.resolve()), is_mutable=is_being_written(path)), name=name)
    return ds


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: any free one); ServeError with the reason when it cannot be."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def serve(paths: list[Path], metadata: dict, names: list[str], *, host: str = "127.0.0.1", port: int = 8001,
          open_browser: bool = False, say: Callable[[str], None] = print) -> str:
    """Serve ``paths`` in Datasette until Ctrl-C or SIGTERM; returns how it stopped ("Ctrl-C" or "SIGTERM").

    In: the archives, their metadata and Datasette names. ``say`` gets the one line with the address
    once the server listens. Raises ServeError when the address cannot be bound.
    """
    import uvicorn

    ds = make_datasette(paths, metadata, names)
    sock = listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}/"
    if len(names) == 1:
        url += f"{quote(names[0])}"
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", access_log=False, lifespan="on"))
    received: list[int] = []

    # uvicorn stops on SIGINT/SIGTERM and then raises the signal again with the handlers it found: these
    # only note it, so the process ends as a command does (one line, exit 0), not killed by the signal.
    def note(signum, frame):
        received.append(signum)
        server.should_exit = True

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}

    async def run():
        await ds.invoke_startup()
        started = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not started.done():
            await asyncio.sleep(0.05)
        if server.started:
            say(f"serving {', '.join(str(p) for p in paths)} read-only at {url} (Ctrl-C stops)")
            if open_browser:
                webbrowser.open(url)
        await started

    try:
        asyncio.run(run())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
    return "SIGTERM" if signal.SIGTERM in received else "Ctrl-C"
