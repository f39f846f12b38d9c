"""``dzarchive export | import-jsonl | search | query | stats | changes | datasette-metadata | serve``: thin
commands over :mod:`research`. ``register(cli)`` adds them to the main ``dzarchive`` group.

Every command that prints rows takes the same output switches: ``--table`` (default, aligned text),
``--csv``, ``--tsv``, ``--json`` (JSON Lines: one object per line; ``--nl`` is the same, as in sqlite-utils).
"""
from __future__ import annotations

import csv
import functools
import json
import os
import signal
import sqlite3
import sys
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Sequence

import click

import research
from archive.access import NotAnArchive
from archive.writes import beside_posts

from .output import atomic_output, exits_130_on_interrupt

DEFAULT_DB = "data/archive.db"
FORMATS = ("table", "csv", "tsv", "json")
TABLE_CELL_WIDTH = 60  # display columns a table cell is cut to (CJK characters count two)
SEARCH_TABLE_SNIPPET = 36  # characters of snippet in table output; --json gets research.SNIPPET_CHARS
# ``match`` (post, comment, title) tells a 点评 comment, shown under the floor it comments on, from the post itself.
SEARCH_TABLE_COLUMNS = ("posted_at", "tid", "floor", "match", "author", "title", "snippet")


# -- shared options and output -------------------------------------------------------------------
def db_option(function):
    return click.option("--db", "dbs", multiple=True, default=(DEFAULT_DB,), show_default=True, type=click.Path(),
                        metavar="PATH",
                        help="The archive, or a folder of archives (*.db); repeat --db for several. With several,"
                             " every row says which site it comes from (a site column).")(function)


def _archives(dbs: Sequence[str]) -> list[Path]:
    try:
        return research.archive_files(dbs)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None


def _site(path: Path, archive=None) -> str:
    """The site an archive holds (its host), for the site column of rows from several archives."""
    archive = archive or _open_db(str(path))
    return research.archive_site(archive) or path.stem


def output_options(function):
    """The output switches every data-printing command shares."""
    options = [
        click.option("--table", "fmt", flag_value="table", default=True, help="Aligned text table (default)."),
        click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row."),
        click.option("--tsv", "fmt", flag_value="tsv", help="Tab-separated values with a header row."),
        click.option("--json", "fmt", flag_value="json", help="JSON Lines: one object per row."),
        click.option("--nl", "fmt", flag_value="json", help="The same as --json (newline-delimited JSON)."),
        click.option("--no-headers", is_flag=True, help="Leave out the header row (table, CSV, TSV)."),
        click.option("--width", type=click.IntRange(min=0), default=None, metavar="N",
                     help=f"Table: cut cells to N columns (default {TABLE_CELL_WIDTH}, CJK characters count two; "
                          "0: never cut). A cut cell ends in …"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any, width: int = TABLE_CELL_WIDTH) -> str:
    """A value as one table cell: one line, cut to ``width`` display columns with … at the cut."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = " ".join(str(value).split())  # one line per row
    if _display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _display_width(text))
    return gap + text if right else text + gap


def print_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, *, headers: bool = True,
               widths: dict[str, int] | None = None, width: int | None = None, json_cols: bool = False) -> int:
    """Print rows in one of FORMATS to stdout; returns how many. CSV/TSV/JSON stream, a table is aligned.

    A table cuts long cells to ``widths[column]`` (else ``width``, else TABLE_CELL_WIDTH; ``width=0``
    never cuts), ends each cut cell in …, and says on stderr how many were cut and how to see them whole.
    ``json_cols``: JSON Lines carry JSON text columns as JSON values.
    """
    out = sys.stdout
    count = 0
    if fmt in ("csv", "tsv"):
        writer = csv.writer(out, dialect="excel" if fmt == "csv" else "excel-tab", lineterminator="\n")
        if headers:
            writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else (f"<{len(v)} bytes>" if isinstance(v, bytes) else v) for v in row])
            count += 1
        return count
    if fmt == "json":
        for row in rows:
            out.write(json.dumps({c: research.jsonable(v, json_cols=json_cols) for c, v in zip(columns, row)},
                                 ensure_ascii=False) + "\n")
            count += 1
        return count
    widths = {} if width is not None else (widths or {})
    limit = TABLE_CELL_WIDTH if width is None else (width or sys.maxsize)
    cells, cut = [], 0
    for row in rows:
        cells.append([])
        for c, v in zip(columns, row):
            cell = _cell(v, widths.get(c, limit))
            cut += cell.endswith("…") and cell != _cell(v, sys.maxsize)
            cells[-1].append(cell)
    sizes = [max([_display_width(c)] + [_display_width(r[i]) for r in cells]) if headers else
             max([0] + [_display_width(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [all(r[i].lstrip("-").replace(".", "", 1).isdigit() or r[i] == "" for r in cells) and bool(cells)
               for i in range(len(columns))]
    lines = []
    if headers:
        lines.append("  ".join(_pad(c, sizes[i], numeric[i]) for i, c in enumerate(columns)).rstrip())
        lines.append("  ".join("-" * sizes[i] for i in range(len(columns))))
    for r in cells:
        lines.append("  ".join(_pad(v, sizes[i], numeric[i]) for i, v in enumerate(r)).rstrip())
    if lines:
        out.write("\n".join(lines) + "\n")
    if cut:
        out.flush()  # the note comes after the table
        click.echo(f"({cut} cell{'s' if cut > 1 else ''} cut short, marked …: --width 0 shows them whole,"
                   " --csv or --json gives every value)", err=True)
    return len(cells)


def _open_db(path: str, *, readonly: bool = True):
    try:
        return research.open_archive(path, readonly=readonly)
    except (FileNotFoundError, NotAnArchive) as exc:
        raise click.ClickException(str(exc)) from None


def _bounds(since: str | None, until: str | None) -> None:
    """Fail early, with the option's name, on a --since/--until that is not a date."""
    from datetime import timezone

    for name, value in (("--since", since), ("--until", until)):
        try:
            research.time_bound(value, timezone.utc)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=name) from None


def _quiet_broken_pipe(function):
    """``dzarchive export | head``: a reader that stops early is not an error (exit 0, no traceback)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)

    return wrapper


# -- commands ------------------------------------------------------------------------------------
@click.command()
@db_option
@click.option("-o", "--output", default="-", show_default=True, help="File to write, or - for stdout.")
@click.option("--forum", "forums", type=int, multiple=True, metavar="FID", help="Only threads of this forum.")
@click.option("--tid", "tids", type=int, multiple=True, metavar="TID", help="Only this thread.")
@click.option("--since", metavar="DATE", help="Only posts posted on or after DATE (2024, 2024-10, 2024-10-01, "
                                              "2024-10-01T09:00).")
@click.option("--until", metavar="DATE", help="Only posts posted on or before DATE (a whole day, month or year).")
@click.option("--search", "search_query", metavar="QUERY",
              help="Only posts matching QUERY (as `dzarchive search` reads it), or in threads whose title does.")
@click.option("--author", "authors", multiple=True, metavar="NAME",
              help="Only posts by this poster (the name as the forum shows it; repeatable: any of them).")
@click.option("--uid", "uids", type=click.IntRange(min=1), multiple=True, metavar="UID",
              help="Only posts by this user id (repeatable; with --author: posts by any poster named).")
@click.option("--flat", is_flag=True, help="One post per line (with its thread's fid and title).")
@click.option("--gzip", "compress", is_flag=True, help="Write gzip (also when OUTPUT ends in .gz).")
@click.option("--changes", "with_changes", is_flag=True,
              help="Add each post's changes between crawls (new, edited, gone: when, which crawl, which page).")
@click.option("--media", is_flag=True,
              help="Give each attachment its media object: the crawl --media download (sha256, path under DB.media/).")
@click.option("--no-records", "no_records", is_flag=True,
              help="Only thread (--flat: post) lines, without the records before them (site, crawls, history): for "
                   "tools that read every line as a row. import-jsonl then takes the site from the URLs, and the "
                   "copy has no crawl history.")
@_quiet_broken_pipe
@exits_130_on_interrupt
def export(dbs, output, forums, tids, since, until, search_query, authors, uids, flat, compress, with_changes, media,
           no_records):
    """Export threads as JSON Lines: one thread per line with its forum and posts in floor order.

    A thread carries its poll (with its options), reward, debate, activity (with its applicants), trades
    (with their goods' pictures), tags and figures over time; each post its attachments, earlier revisions,
    ratings, 点评 comments, debate stand and its author with the author's latest figures. Before the threads
    come records: the archive's site, its crawls, and the history of what is exported (users' figures over
    time, posts found gone, threads' state changes), so that import-jsonl rebuilds an archive of the same
    site whose `changes` are the original's. --author/--uid give the threads the poster wrote in, each with
    only that poster's posts. The line format is schemas/export.schema.json. UTF-8, ISO 8601 times. Several
    archives are exported one after the other, each line starting with the site it comes from ("site").
    """
    _bounds(since, until)
    try:
        research.parse_search(search_query)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--search") from None
    authors = tuple(name.strip() for name in authors)
    if any(not name for name in authors):
        raise click.BadParameter("an empty name: give the poster's name as the forum shows it", param_hint="--author")
    paths = _archives(dbs)
    selection = research.Selection(forum=forums, tid=tids, since=since, until=until, search=search_query,
                                   author=authors, uid=uids)
    compress = compress or output.endswith(".gz")

    def write(out) -> research.ExportResult:
        total = research.ExportResult()
        for path in paths:
            archive = _open_db(str(path))
            site = _site(path, archive) if len(paths) > 1 else None
            result = research.export_jsonl(archive, out, selection, flat=flat, compress=compress,
                                           changes=with_changes, media=media, site=site, records=not no_records)
            total.threads += result.threads
            total.posts += result.posts
        return total

    if output == "-":
        result = write(sys.stdout.buffer)
    else:
        with atomic_output(output) as out:  # a temporary file, renamed over OUTPUT only when whole and not empty
            result = write(out)
            if not result.posts:
                out.discard()
                raise click.ClickException(f"nothing matched the selection: {output} left as it was")
    where = "stdout" if output == "-" else output
    what = f"{result.posts:,} posts" if flat else f"{result.threads:,} threads ({result.posts:,} posts)"
    click.echo(f"exported {what} to {where}", err=True)


@click.command("import-jsonl")
@click.argument("source", default="-")
@click.option("--db", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), metavar="PATH",
              help="The archive to create or add to.")
def import_jsonl(source, db):
    """Rebuild an archive from a `dzarchive export` file (SOURCE, - for stdin; gzip is detected).

    Thread lines and --flat lines both work, with everything they nest (polls, ratings, comments...) and the
    records before them (the site, crawls, users' figures, posts gone, thread state changes). Rows merge into
    an existing archive as a crawl's do; importing the same file twice adds nothing. One archive holds one site:
    a file of another site than the archive's, or of several sites, is refused with exit code 4 (a file without
    a site record: the site of its URLs). All or nothing: a file that fails anywhere imports nothing.
    """
    from archive import ArchiveLock, ArchiveLocked
    from archive.db import OtherSite
    from scraper.exit_codes import EXIT_LOCKED, EXIT_OTHER_SITE

    if source != "-" and not Path(source).is_file():
        raise click.BadParameter(f"no file {source}", param_hint="SOURCE")
    try:
        with ArchiveLock(db):  # as a crawl: never two writers merging into one archive at once
            counts = research.import_jsonl(db, source)
    except ArchiveLocked as exc:
        click.echo(f"dzarchive: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except OtherSite as exc:  # as a crawl of another site into the archive is refused
        click.echo(f"dzarchive: {exc}", err=True)
        sys.exit(EXIT_OTHER_SITE)
    except (ValueError, NotAnArchive) as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    summary = ", ".join(f"{n:,} {table}" for table, n in counts.items() if n)
    click.echo(f"imported into {db}: {summary + ' added' if summary else 'nothing new (it held every row already)'}",
               err=True)


class _SearchCommand(click.Command):
    """``search``: an option it does not know is an error, as everywhere (click's "did you mean"); a word
    that starts with a dash (a word to leave out, -广告) is read as an option too, and the error says how to
    write it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # the parser consumes the list
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            ends = given.index("--") if "--" in given else len(given)
            word = next((a for a in given[:ends] if a.startswith(exc.option_name) and not a.startswith("--")), None)
            if word is None:
                raise
            raise click.UsageError(
                f"No such option: {word}. A query word that starts with a dash goes after -- (dzarchive search"
                f" [OPTIONS] -- 盐帮 {word}) or in quotes with the rest of the query (dzarchive search \"盐帮 {word}\")",
                ctx) from None


@click.command(cls=_SearchCommand)
@click.argument("query", nargs=-1, required=True)
@db_option
@click.option("--author", "authors", multiple=True, metavar="NAME",
              help="Only posts, comments and threads by this poster (the name as archived, exactly; repeatable: "
                   "any of them).")
@click.option("--uid", "uids", type=click.IntRange(min=1), multiple=True, metavar="UID",
              help="Only those by this user id (repeatable; with --author: by any poster named either way).")
@click.option("--tid", "tids", type=click.IntRange(min=1), multiple=True, metavar="TID",
              help="Only in this thread (repeatable).")
@click.option("--forum", "forums", type=int, multiple=True, metavar="FID", help="Only in this forum (repeatable).")
@click.option("--since", metavar="DATE", help="Only posts (and threads) from DATE on.")
@click.option("--until", metavar="DATE", help="Only posts (and threads) up to DATE (a whole day, month or year).")
@click.option("--limit", type=click.IntRange(min=0), default=research.DEFAULT_LIMIT, show_default=True,
              metavar="N", help="Most matches to print; 0 for all. When it leaves matches out, a line on stderr "
                                "says how many there are.")
@click.option("--oldest", is_flag=True, help="Oldest first (default: newest first).")
@click.option("--fold/--no-fold", default=True, show_default=True,
              help="Traditional and Simplified Chinese find each other (討論 finds 讨论 and the reverse; OpenCC's "
                   "tables). --no-fold: only the script typed.")
@output_options
@_quiet_broken_pipe
def search(query, dbs, authors, uids, tids, forums, since, until, limit, oldest, fold, fmt, no_headers, width):
    """Full-text search of posts, 点评 comments and thread titles; Chinese words of any length.

    QUERY is words separated by spaces (the full-width space too): all must appear. A phrase in
    "…", “…” or 「…」 quotes is matched as a whole; `a OR b` needs either; -word must not appear. A word that
    starts with a dash looks like an option: put the query after -- or in quotes (`dzarchive search -- 盐帮
    -广告`, `dzarchive search "盐帮 -广告"`). Traditional and Simplified Chinese are folded: 討論 finds 讨论
    and the reverse (--no-fold: only as typed). The filters all apply: --author/--uid (a poster, named either
    way), --tid, --forum, --since/--until; each repeatable.

    Prints thread title, floor, author, time and a snippet with the matches in «»; match says what matched
    (post, comment or title): a comment is shown under the floor of the post it comments on, with its commenter
    as author. When --limit leaves matches out, stderr says so ("20 of 27 shown (--limit 0 for all)"), in every
    output format; stdout holds only the rows. Terms of 3+ characters use the trigram index; shorter ones scan.
    """
    _bounds(since, until)
    query = " ".join(query)
    try:
        research.parse_search(query)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from None
    paths = _archives(dbs)
    snippet_chars = SEARCH_TABLE_SNIPPET if fmt == "table" else research.SNIPPET_CHARS
    filters = {"forum": forums, "tid": tids, "author": authors, "uid": uids, "since": since, "until": until,
               "fold": fold}
    hits, total = [], 0
    for path in paths:
        archive = _searchable(str(path))
        found = research.search(archive, query, limit=limit or None, order="oldest" if oldest else "newest",
                                snippet_chars=snippet_chars, **filters)
        # Counted only when the limit may have cut: a second query, without snippets.
        total += research.search_count(archive, query, **filters) if limit and len(found) == limit else len(found)
        if len(paths) > 1:
            site = _site(path, archive)
            found = [dict(hit, site=site) for hit in found]
        hits += found
    if len(paths) > 1:
        # Each archive's hits are in order; together they are ordered again and cut to --limit.
        hits.sort(key=lambda hit: hit["posted_at"] or "", reverse=not oldest)
        hits = hits[:limit] if limit else hits
    if fmt == "table" and not hits:
        click.echo("no matches", err=True)
        return
    columns = SEARCH_TABLE_COLUMNS if fmt == "table" else research.SEARCH_COLUMNS
    columns = ("site", *columns) if len(paths) > 1 else columns
    print_rows(columns, ([hit[c] for c in columns] for hit in hits), fmt, headers=not no_headers,
               widths={"title": 30, "snippet": 2 * SEARCH_TABLE_SNIPPET + 2, "posted_at": 25}, width=width)
    if total > len(hits):
        sys.stdout.flush()  # the line comes after the rows
        click.echo(f"{len(hits)} of {total} shown (--limit 0 for all)", err=True)


def _searchable(db: str):
    """An archive opened for search, its index built first if it predates search, or rebuilt once if it predates
    Traditional/Simplified folding (this needs write access; without, the index is used as it is)."""
    archive = _open_db(db)
    if not research.search_ready(archive) and research.has_trigram():
        had_index = archive.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'posts_fts'").fetchone()
        click.echo(f"{'rebuilding' if had_index else 'building'} the search index of {db}"
                   f"{' with Traditional/Simplified folding' if had_index else ''} (once per archive)...", err=True)
        archive.conn.close()
        archive = _open_db(db, readonly=False)
        try:
            research.ensure_search(archive)
        except sqlite3.OperationalError as exc:  # a read-only file: search by scanning instead
            click.echo(f"cannot build it ({exc}); searching {'with the index as it is' if had_index else 'without it'}",
                       err=True)
    return archive


@click.command()
@click.argument("sql")
@db_option
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE",
              help="A :NAME parameter of the SQL.")
@click.option("--json-cols/--no-json-cols", default=True, show_default=True,
              help="--json: columns holding a JSON array or object (quotes, extcredits, raw) as JSON values.")
@output_options
@_quiet_broken_pipe
def query(sql, dbs, params, json_cols, fmt, no_headers, width):
    """Run read-only SQL on the archive: it is opened read-only, so writes fail.

    \b
    dzarchive query "SELECT author, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
    dzarchive query "SELECT * FROM thread_summary WHERE fid = :fid" -p fid 2 --csv

    With several archives the query runs on each, and every row starts with the site it comes from.
    """
    paths = _archives(dbs)
    try:
        results = [(path, research.query(str(path), sql, dict(params))) for path in paths]
        if len(paths) == 1:
            columns, rows = results[0][1].columns, results[0][1].rows
        else:
            columns = ["site", *results[0][1].columns]
            sites = {path: _site(path) for path in paths}
            rows = [[sites[path], *row] for path, result in results for row in result.rows]
        print_rows(columns, rows, fmt, headers=not no_headers, width=width, json_cols=json_cols)
    except (FileNotFoundError, NotAnArchive) as exc:
        raise click.ClickException(str(exc)) from None
    except research.ReadOnlyError as exc:
        raise click.ClickException(f"refused: {exc}") from None
    except research.QueryError as exc:
        raise click.ClickException(f"query failed: {exc}") from None


@click.command()
@db_option
@click.option("--by", type=click.Choice(["forum", "month"]), default=None,
              help="Print only the per-forum or per-month table.")
@output_options
@_quiet_broken_pipe
def stats(dbs, by, fmt, no_headers, width):
    """What the archive holds: per forum threads, posts and users, date range, last crawl, posts per month, and
    what the thread pages showed besides posts (polls, ratings, comments, tags, goods, attachments...).

    --json without --by prints the whole report as one JSON object; --csv/--tsv without --by print the
    per-forum table. With several archives: a report per archive (--json: one line each, with its site), or
    tables whose rows start with the site.
    """
    paths = _archives(dbs)
    if len(paths) > 1:
        _stats_of_several(paths, by, fmt, no_headers, width)
        return
    db = str(paths[0])
    report = research.stats(_open_db(db))
    if by is None and fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    tables = {"forum": (research.FORUM_STATS_COLUMNS, report["forums"]),
              "month": (research.MONTH_STATS_COLUMNS, report["months"])}
    if by is not None or fmt != "table":
        columns, rows = tables[by or "forum"]
        print_rows(columns, ([row[c] for c in columns] for row in rows), fmt, headers=not no_headers, width=width)
        return
    totals = report["totals"]
    span = (f"; posts from {totals['first_post_at'][:10]} to {totals['last_post_at'][:10]}"
            if totals["first_post_at"] else "")
    click.echo(f"{db}: {totals['forums']:,} forums, {totals['threads']:,} threads, {totals['posts']:,} posts, "
               f"{totals['users']:,} users{span}")
    click.echo(f"beside the posts: {beside_posts(report.get('extras', {})) or 'nothing'}")
    crawl = report["last_crawl"]
    if crawl:
        click.echo(f"last crawl: #{crawl['id']} {crawl['status']}, started {crawl['started_at']}"
                   f"{', finished ' + crawl['finished_at'] if crawl.get('finished_at') else ''}; {crawl['start_url']}; "
                   f"{crawl.get('pages') or 0} pages, {crawl.get('items') or 0} rows, {crawl.get('errors') or 0} errors")
    else:
        click.echo("last crawl: none recorded")
    for title, key in (("per forum", "forum"), ("posts per month", "month")):
        columns, rows = tables[key]
        click.echo(f"\n{title}:")
        print_rows(columns, ([row[c] for c in columns] for row in rows), fmt, headers=not no_headers, width=width)


def _stats_of_several(paths: list[Path], by, fmt, no_headers, width) -> None:
    reports = [(_site(path), research.stats(_open_db(str(path)))) for path in paths]
    if by is None and fmt == "json":
        for site, report in reports:
            click.echo(json.dumps({"site": site, **report}, ensure_ascii=False))
        return
    key = by or "forum"
    columns = research.FORUM_STATS_COLUMNS if key == "forum" else research.MONTH_STATS_COLUMNS
    rows = ([site, *(row[c] for c in columns)] for site, report in reports for row in report[key + "s"])
    print_rows(("site", *columns), rows, fmt, headers=not no_headers, width=width)


@click.command()
@db_option
@click.option("--since", metavar="DATE", help="Only changes seen on or after DATE (UTC, as crawl times are).")
@click.option("--crawl", "crawl_id", type=int, metavar="N", help="Only the changes crawl N saw.")
@click.option("--kind", "kinds", type=click.Choice(research.CHANGE_KINDS), multiple=True,
              help="Only this kind of change (repeatable).")
@click.option("--forum", "forums", type=int, multiple=True, metavar="FID", help="Only in this forum.")
@output_options
@_quiet_broken_pipe
def changes(dbs, since, crawl_id, kinds, forums, fmt, no_headers, width):
    """List what changed between crawls, one row per change, oldest first.

    Kinds: new (threads and posts first archived after the archive's first crawl), edited (text before and
    after), gone (posts a page read in full no longer shows: the crawl that last saw them and the page that
    showed their absence), state (a thread closed, moved, not found or login-only), figures (a user's
    changed figures), rating and comment (a 评分 or 点评 first archived after the first crawl: who, on which
    post), votes (a poll's or debate's votes, 支持/反对: before -> after), counts (activity applicants,
    downloads, goods in stock: before -> after). The table shows a compact diff; --json and --csv carry every
    column.
    """
    _bounds(since, None)
    paths = _archives(dbs)
    rows = []
    for path in paths:
        try:
            found = research.changes(_open_db(str(path)), since=since, crawl=crawl_id, kinds=kinds, forum=forums)
        except research.NoChangeViews as exc:
            raise click.ClickException(f"{path}: {exc}") from None
        if len(paths) > 1:
            site = _site(path)
            found = [dict(row, site=site) for row in found]
        rows += found
    if fmt == "table" and not rows:
        click.echo("no changes", err=True)
        return
    columns = research.CHANGES_TABLE_COLUMNS if fmt == "table" else research.CHANGE_COLUMNS
    columns = ("site", *columns) if len(paths) > 1 else columns
    print_rows(columns, ([row[c] for c in columns] for row in rows), fmt, headers=not no_headers,
               widths={"at": 25, "diff": 80}, width=width)


def _datasette_metadata_of(paths: list[Path]) -> tuple[dict, list[str]]:
    """The Datasette metadata of ``paths`` and the names Datasette gives them; with several, each says its site."""
    names = research.datasette_database_names(paths)
    sites = {name: _site(path) for name, path in zip(names, paths)} if len(paths) > 1 else None
    return research.datasette_metadata(*names, sites=sites), names


@click.command("datasette-metadata")
@db_option
def datasette_metadata(dbs):
    """Print Datasette metadata (tables, columns, search, reading queries) for the archive: > metadata.json.

    The metadata is keyed by the archive's file name as Datasette names it (a.db -> a), so give the
    same files to both; with several archives each is described, with its site. `dzarchive serve` does
    all this in one step.

    \b
    dzarchive datasette-metadata --db a.db > metadata.json
    datasette a.db -m metadata.json
    dzarchive datasette-metadata --db data/ > metadata.json && datasette data/*.db -m metadata.json
    """
    paths = _archives(dbs)
    for path in paths:
        _open_db(str(path))  # a file that is not an archive: one line, before any output
    metadata, _ = _datasette_metadata_of(paths)
    click.echo(json.dumps(metadata, ensure_ascii=False, indent=2))


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="Address to listen on (0.0.0.0: every interface; the archive is then readable by anyone who "
                   "can reach this machine).")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, metavar="N",
              help="Port to listen on (0: any free port, printed).")
@click.option("--open", "open_browser", is_flag=True, help="Open the archive in the web browser once it is served.")
def serve(dbs, host, port, open_browser):
    """Read the archive in Datasette, in a web browser: threads, posters, search, every table.

    Serves the archive(s) read-only (nothing is written to them) with the metadata of
    `datasette-metadata` until Ctrl-C. Open "A thread" (/ARCHIVE/a_thread?tid=N) for a thread's posts in
    floor order, "A user's posts" (/ARCHIVE/a_users_posts?uid=N), thread_summary (a title opens its
    posts), or search posts. Needs Datasette: pip install -e '.[datasette]' (README: "Reading the
    archive in Datasette", also for the plain `datasette` way).
    """
    # Until the server takes the signals over, SIGTERM ends a starting serve as Ctrl-C does (one line, exit 0).
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        _serve(dbs, host, port, open_browser)
    except KeyboardInterrupt:
        click.echo("stopped before serving")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _serve(dbs, host, port, open_browser) -> None:
    try:
        from research import datasette_ui
    except ImportError as exc:
        if exc.name is None or not exc.name.startswith("datasette"):
            raise
        raise click.ClickException("serve needs Datasette: pip install -e '.[datasette]' "
                                   "(or pip install 'datasette>=0.65,<0.66')") from None
    paths = _archives(dbs)
    for path in paths:
        _open_db(str(path))
    metadata, names = _datasette_metadata_of(paths)
    try:
        how = datasette_ui.serve(paths, metadata, names, host=host, port=port, open_browser=open_browser,
                                 say=click.echo)
    except datasette_ui.ServeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"stopped ({how})")


COMMANDS = (export, import_jsonl, search, query, stats, changes, datasette_metadata, serve)


def register(group: click.Group) -> None:
    """Add the research commands to ``group`` (the main ``dzarchive`` CLI)."""
    for command in COMMANDS:
        group.add_command(command)
