"""dzarchive's performance, as ratios measured side by side in one run.

    python -m bench                 # parse, crawl, ingest, export, incremental, start-up, scale at 1k and 10k threads
    python -m bench --big           # ... and scale at 100k threads (long: see bench/RESULTS.md)
    python -m bench --json          # the same figures as JSON
    python -m bench --only parse,ingest --scale 1000

Each figure is measured beside its baseline in the same process or the same replay:

- parse: ``parse_page`` against ``lxml.html.fromstring`` alone on every thread page of the captures, with and
  without the thread-extras readers, the readers' own share on the pages that show none of their boxes, and
  where a page's parse goes (``bench/parse_parts.py``);
- crawl: ``dzarchive crawl`` against a bare Scrapy spider fetching the same URLs (the ones the crawl
  requested), through the same loopback replay, same concurrency, no delays, at dzarchive's default
  politeness (8 at once, 4 per host) and at 16 at once; pages/s from the first request to the process's
  end (best of ``CRAWL_ROUNDS`` runs of each side), and the wall time of each process;
- ingest: normalise + validate + store of the captures' pages, ``DZ_STORE_BATCH`` (50) pages to a
  transaction as StorePipeline writes them (every table, merges, revisions, figures, absences, and the
  search indexes fed once per batch), against a bare ``executemany`` of the same post rows, normalised
  beforehand and untimed, into the same schema (same tables, indexes and triggers) in one transaction,
  made searchable the fastest way the archive knows: the triggers paused (``search_pause``) and one
  ``INSERT INTO posts_fts ... SELECT`` for all the rows. For comparison with earlier figures, also the
  same bare insert indexed by the per-row triggers (``bare_triggers_posts_per_s``);
- export: ``research.export_jsonl`` posts/s over that archive;
- incremental: an unchanged re-crawl's and a changed (state 2) re-crawl's share of a first crawl's requests;
- start-up: ``dzarchive --help``, and a one-page crawl against a bare spider's one page;
- scale: ``dzarchive crawl`` of a synthetic forum (``testbed/synthetic.py``, capture A's markup) of
  1k, 10k (and with ``--big`` 100k) threads, one page each, every thread by a poster of its own, 16 at once:
  ms per page (first request to the process's end, and the process's CPU time per page), peak RSS (the close
  included), archive size.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT.parent / "shared" / "fixtures"
SITE_A = FIXTURES / "discuz-x34-utf8-a"
SITE_A2 = FIXTURES / "discuz-x34-utf8-a-state2"
START = "http://bbs.example.test/forum.php"
SYNTHETIC_START = "http://bbs.example.test/forum.php?mod=forumdisplay&fid=2"
# Same politeness knobs for dzarchive and the bare spider: no delay, no AutoThrottle.
NO_DELAY = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")
# (requests at once, per host): dzarchive's default politeness, where the loopback replay sets the pace, and
# full speed, where the crawl's own cost per page does.
POLITE = (8, 4)
AT_ONCE = (16, 16)
CRAWL_ROUNDS = 3  # runs of each side of a crawl comparison; the best counts (the machine is shared)


def _env(server) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=server.url, no_proxy="127.0.0.1,localhost", PYTHONPATH=str(ROOT))
    return env


# A process this one starts (vfork, exec) begins with this process's peak RSS as its own: Linux keeps the old
# address space's high-water mark at exec, and after the ingest and export measures this process is past 200 MB,
# more than a 1k-thread crawl ever holds. So each measured process is started by a small Python of its own
# (``python -S``, a few MB), which waits for it and writes the process's own use: peak RSS (kB), user and system
# CPU seconds, exit code.
_SPAWN = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime} {os.waitstatus_to_exitcode(status)}")
"""


def _timed_run(cmd: list[str], env: dict, server, ok=(0, 1)) -> dict:
    """Run ``cmd``; wall seconds, seconds from its first request to its end, requests, peak RSS (MB), and its
    CPU seconds (user + system: what the process itself cost, whatever else the machine was running)."""
    before = len(server.requests)
    server.first_request_at = None
    with tempfile.NamedTemporaryFile("r", suffix=".use") as use:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-S", "-c", _SPAWN, use.name, *cmd], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        proc.wait()
        ended = time.perf_counter()
        maxrss_kb, utime, stime, returncode = use.read().split()
    if int(returncode) not in ok:  # dzarchive's 1: the crawl finished with errors
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {returncode}: {proc.stderr.read().decode()[-2000:]}")
    first = server.first_request_at or started
    requests = server.requests[before:]
    return {"wall_s": ended - started, "active_s": ended - first, "requests": len(requests),
            "pages_per_s": len(requests) / max(ended - first, 1e-9), "peak_rss_mb": int(maxrss_kb) / 1024,
            "cpu_s": float(utime) + float(stime), "urls": requests}


def _server(capture):
    from testbed.replay import ReplayServer

    server = ReplayServer(capture)
    server.first_request_at = None
    log = server._log_request

    def timed(path_query, user_agent=None):
        if server.first_request_at is None:
            server.first_request_at = time.perf_counter()
        log(path_query, user_agent)

    server._log_request = timed
    return server.start()


def _concurrency(at_once: tuple[int, int]) -> tuple[str, ...]:
    return ("-s", f"CONCURRENT_REQUESTS={at_once[0]}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={at_once[1]}")


def dzarchive_crawl(server, db: Path, start: str = START, *extra: str, at_once: tuple[int, int] = POLITE) -> dict:
    return _timed_run([sys.executable, "-m", "dzarchive", "crawl", start, "--db", str(db), *NO_DELAY,
                       *_concurrency(at_once), *extra], _env(server), server)


def bare_crawl(server, urls: list[str], tmp: Path, at_once: tuple[int, int] = POLITE) -> dict:
    listing = tmp / "urls.txt"
    listing.write_text("\n".join(f"http://bbs.example.test{u}" if u.startswith("/") else u for u in urls))
    # As a module: run as a script, bench/ would come first on sys.path and its incremental.py shadow Twisted's.
    return _timed_run([sys.executable, "-m", "bench.bare_spider", str(listing), *map(str, at_once)],
                      _on_crawl_allocator(_env(server)), server, ok=(0,))


def crawl_allocator() -> str:
    """The allocator ``dzarchive crawl`` runs on here (dzarchive/allocator.py): a library's file name, or
    ``system``."""
    from dzarchive import allocator

    path = allocator.for_crawls()
    return os.path.basename(path) if path else "system"


def _in_use() -> str:
    """The allocator this process runs on: a library's file name, or ``system``."""
    from dzarchive import allocator

    return allocator.in_use() or "system"


def _on_crawl_allocator(env: dict) -> dict:
    """``env`` for a process to run on the allocator dzarchive's crawls run on (the bare spider: the two sides of a
    crawl comparison then differ by their code only)."""
    from dzarchive import allocator

    if allocator.preloaded(env) is not None:  # (the crawls keep an allocator they are started on)
        return env
    path = allocator.library(env)
    return allocator.with_library(path, env) if path else env


# -- the measures -------------------------------------------------------------------------------
def measure_parse(rounds: int = 5) -> dict:
    from bench.parse_parts import measure as measure_parts
    from bench.parse_ratio import measure

    result = measure(rounds)
    if result:
        result["parts"] = measure_parts()
    return result


def measure_crawl(tmp: Path, rounds: int = CRAWL_ROUNDS) -> dict:
    """Capture A crawled by dzarchive (a new archive each time) and by the bare spider, at each concurrency,
    the two sides taking turns; the best run of each side counts."""
    results = {}
    with _server(SITE_A) as server:
        for name, at_once in (("polite", POLITE), ("at_once", AT_ONCE)):
            ours, bare = [], []
            for n in range(rounds):
                ours.append(dzarchive_crawl(server, tmp / f"crawl-{name}-{n}.db", at_once=at_once))
                urls = [u for u in ours[-1]["urls"] if not u.endswith("robots.txt")]
                bare.append(bare_crawl(server, urls, tmp, at_once))
            best, best_bare = (max(runs, key=lambda r: r["pages_per_s"]) for runs in (ours, bare))
            results[name] = {"at_once": at_once[0], "per_host": at_once[1],
                             "dzarchive_pages_per_s": best["pages_per_s"], "bare_pages_per_s": best_bare["pages_per_s"],
                             "ratio": best["pages_per_s"] / best_bare["pages_per_s"], "requests": best["requests"],
                             "dzarchive_wall_s": best["wall_s"], "bare_wall_s": best_bare["wall_s"]}
    return results


def _parsed_records() -> list:
    from pipelines.normalise import normalise_page
    from scraper.parsers import parse_page
    from tests.conftest import captured_pages

    records = []
    for capture in (SITE_A, SITE_A2):
        for p in captured_pages(capture):
            page = parse_page(p.url, p.body, content_type=p.content_type, http_status=p.status, date_header=p.date)
            page.raw_body = p.body
            records.append((page, normalise_page(page)))
    return records


def measure_ingest(tmp: Path, copies: int = 40, batch: int = 50) -> dict:
    """Pages of both captures stored ``copies`` times under shifted ids (so every post is new)."""
    import copy as copy_module

    from archive import Archive
    from pipelines.normalise import normalise_page
    from pipelines.validate import validate_record

    pages, seen = [], set()
    for page, _ in _parsed_records():  # each post once (the captures list some pages twice, and state 2 repeats 1)
        pids = {p.pid for p in page.posts}
        if pids and not pids & seen:
            seen |= pids
            pages.append(page)
    batches = []
    for n in range(copies):
        shift = n * 1_000_000
        for page in pages:
            # Threads shifted with their posts: a copy's page must not read as the previous copy's thread
            # with all its posts gone.
            clone = copy_module.copy(page)
            clone.tid = page.tid + shift if page.tid is not None else None
            clone.threads = [copy_module.copy(t) for t in page.threads]
            clone.posts = [copy_module.copy(p) for p in page.posts]
            clone.attachments = [copy_module.copy(a) for a in page.attachments]
            for item in clone.threads:
                item.tid += shift
            for post in clone.posts:
                post.pid += shift
                post.tid = post.tid + shift if post.tid is not None else None
            for attachment in clone.attachments:
                attachment.pid += shift
            batches.append(clone)
    posts = sum(len(p.posts) for p in batches)
    archive = Archive(tmp / "ingest.db")
    # The input (every page of every copy, held at once as no crawl holds its pages) is kept out of the
    # collector's walks while timed, as a crawl keeps its set-up out of them (gc.freeze in scraper/crawl.py):
    # what is measured is the ingest's own work, collections of what it allocates included.
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    pending = []
    for page in batches:  # as StorePipeline does: DZ_STORE_BATCH pages to a transaction
        pending.append(validate_record(normalise_page(page)))
        if len(pending) == batch:
            archive.write_many(pending)
            pending = []
    archive.write_many(pending)
    ours = time.perf_counter() - t0
    archive.close()
    # Bare: the same post rows, as normalise makes them, straight into the same schema, searchable.
    rows = [row for page in batches for row in normalise_page(page).rows["posts"]]
    columns = list(rows[0])
    sql = f"INSERT INTO posts ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    values = [[r.get(c) for c in columns] for r in rows]
    bare_archive = Archive(tmp / "bare.db")
    conn = bare_archive.db.conn
    t0 = time.perf_counter()
    with conn:
        conn.execute("INSERT INTO search_pause (id) VALUES (1)")
        conn.executemany(sql, values)
        conn.execute("INSERT INTO posts_fts (rowid, content_text) SELECT pid, content_text FROM posts")
        conn.execute("DELETE FROM search_pause")
    bare = time.perf_counter() - t0
    bare_archive.close()
    triggers_archive = Archive(tmp / "bare-triggers.db")
    t0 = time.perf_counter()
    with triggers_archive.db.conn:
        triggers_archive.db.conn.executemany(sql, values)
    bare_triggers = time.perf_counter() - t0
    triggers_archive.close()
    gc.unfreeze()
    return {"posts": posts, "pages": len(batches), "posts_per_s": posts / ours, "bare_posts_per_s": posts / bare,
            "ratio": bare / ours, "bare_triggers_posts_per_s": posts / bare_triggers,
            "ratio_to_bare_triggers": bare_triggers / ours}


def measure_export(tmp: Path) -> dict:
    import research

    db = research.open_archive(tmp / "ingest.db", readonly=True)
    t0 = time.perf_counter()
    with open(tmp / "export.jsonl", "wb") as out:
        result = research.export_jsonl(db, out)
    seconds = time.perf_counter() - t0
    return {"posts": result.posts, "posts_per_s": result.posts / seconds}


def measure_incremental(tmp: Path) -> dict:
    with _server(SITE_A) as server:
        db = tmp / "incremental.db"
        first = dzarchive_crawl(server, db)["requests"]
        unchanged = dzarchive_crawl(server, db)["requests"]
        server.set_capture(SITE_A2)
        changed = dzarchive_crawl(server, db)["requests"]
    return {"first": first, "unchanged": unchanged, "changed": changed, "unchanged_share": unchanged / first,
            "changed_share": changed / first}


def measure_startup(tmp: Path) -> dict:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dzarchive", "--help"], check=True, capture_output=True, cwd=ROOT)
    help_s = time.perf_counter() - t0
    one = "http://bbs.example.test/forum.php?mod=viewthread&tid=3"
    with _server(SITE_A) as server:
        ours = dzarchive_crawl(server, tmp / "one.db", one, "--no-profiles")
        bare = bare_crawl(server, [one], tmp)
    return {"help_s": help_s, "one_page_crawl_s": ours["wall_s"], "bare_one_page_s": bare["wall_s"],
            "ratio": ours["wall_s"] / bare["wall_s"]}


def measure_scale(tmp: Path, threads: int) -> dict:
    from testbed.synthetic import SyntheticForum

    # One page per thread and a poster per thread (100k threads: 100k users), as issue 22 measures.
    forum = SyntheticForum(SITE_A, threads=threads, multi_page_every=0, posters=threads)
    db = tmp / f"scale-{threads}.db"
    with _server(forum) as server:
        run = dzarchive_crawl(server, db, SYNTHETIC_START, "--no-profiles", at_once=AT_ONCE)
    size = sum(p.stat().st_size for p in tmp.glob(f"scale-{threads}.db*"))
    return {"threads": threads, "pages": run["requests"], "ms_per_page": 1000 * run["active_s"] / run["requests"],
            "pages_per_s": run["pages_per_s"], "cpu_ms_per_page": 1000 * run["cpu_s"] / run["requests"],
            "peak_rss_mb": run["peak_rss_mb"], "archive_mb": size / 1e6,
            "wall_s": run["wall_s"]}


MEASURES = ("parse", "crawl", "ingest", "export", "incremental", "startup", "scale")


def run(only: tuple[str, ...] = MEASURES, sizes: tuple[int, ...] = (1000, 10_000)) -> dict:
    results: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "command": " ".join(["python -m bench", *sys.argv[1:]]), "crawl_allocator": crawl_allocator(),
                     "parse_allocator": _in_use()}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for name in only:
            if name == "scale":
                results["scale"] = [measure_scale(tmp, n) for n in sizes]
            elif name == "export":
                if "ingest" not in results:
                    results["ingest"] = measure_ingest(tmp)
                results["export"] = measure_export(tmp)
            elif name == "parse":
                results["parse"] = measure_parse()
            else:
                results[name] = globals()[f"measure_{name}"](tmp)
    return results


def table(results: dict) -> str:
    lines = [f"dzarchive benchmark, {results['date']} ({results['command']})",
             f"malloc: crawls (both sides) on {results.get('crawl_allocator', 'system')}, the parse (this process) on "
             f"{results.get('parse_allocator', 'system')}", ""]
    row = "{:<44} {:>14} {:>14} {:>10}".format
    lines.append(row("what", "measured", "baseline", "ratio"))
    if "parse" in results and results["parse"]:
        p = results["parse"]
        lines.append(row(f"parse {p['pages']} thread pages (s per pass)", f"{p['parse_page_s']:.3f}",
                         f"{p['lxml_s']:.3f} lxml", f"{p['parse_ratio']:.2f}x"))
        lines.append(row("  minimal parsel extraction", f"{p['minimal_s']:.3f}", "", f"{p['minimal_ratio']:.2f}x"))
        lines.append(row("  without the thread-extras readers", f"{p['no_extras_s']:.3f}", "",
                         f"{p['parse_ratio_without_extras']:.2f}x"))
        plain = p.get("readers_on_plain_pages") or {}
        if plain:
            lines.append(row(f"  readers on {plain['pages']} pages without boxes", "", "share of lxml",
                             f"{plain['all']:.3f}x"))
        if p.get("parts"):
            from bench.parse_parts import summary

            lines.append(f"  {summary(p['parts'])}")
    for c in results.get("crawl", {}).values():
        how = f"{c['per_host']} per host" if c["per_host"] < c["at_once"] else f"{c['at_once']} at once"
        lines.append(row(f"crawl capture A, {how}, {c['requests']} req (pages/s)", f"{c['dzarchive_pages_per_s']:.1f}",
                         f"{c['bare_pages_per_s']:.1f} bare", f"{c['ratio']:.2f}x"))
        lines.append(row("  wall time of each process (s)", f"{c['dzarchive_wall_s']:.2f}", f"{c['bare_wall_s']:.2f}",
                         f"{c['bare_wall_s'] / c['dzarchive_wall_s']:.2f}x"))
    if "ingest" in results:
        i = results["ingest"]
        lines.append(row(f"ingest {i['posts']} posts, {i['pages']} pages (posts/s)", f"{i['posts_per_s']:.0f}",
                         f"{i['bare_posts_per_s']:.0f} bare", f"{i['ratio']:.2f}x"))
        lines.append(row("  bare indexed by per-row triggers (posts/s)", "",
                         f"{i['bare_triggers_posts_per_s']:.0f}", f"{i['ratio_to_bare_triggers']:.2f}x"))
    if "export" in results:
        e = results["export"]
        lines.append(row(f"export {e['posts']} posts (posts/s)", f"{e['posts_per_s']:.0f}", "", ""))
    if "incremental" in results:
        n = results["incremental"]
        lines.append(row("re-crawl requests, unchanged / changed", f"{n['unchanged']} / {n['changed']}",
                         f"{n['first']} first", f"{n['unchanged_share']:.1%} / {n['changed_share']:.1%}"))
    if "startup" in results:
        s = results["startup"]
        lines.append(row("start-up: one-page crawl (s)", f"{s['one_page_crawl_s']:.2f}",
                         f"{s['bare_one_page_s']:.2f} bare", f"{s['ratio']:.2f}x"))
        lines.append(row("  dzarchive --help (s)", f"{s['help_s']:.2f}", "", ""))
    for s in results.get("scale", []):
        lines.append(row(f"scale {s['threads']} threads, 16 at once (pages/s)", f"{s['pages_per_s']:.1f}",
                         f"{s['pages']} pages", ""))
        lines.append(row("  ms per page, CPU ms per page", f"{s['ms_per_page']:.1f}", f"{s['cpu_ms_per_page']:.1f} CPU",
                         ""))
        lines.append(row("  peak RSS (close included), archive", f"{s['peak_rss_mb']:.0f} MB", f"{s['archive_mb']:.0f} MB db",
                         ""))
    scale = results.get("scale", [])
    for s in scale[1:]:
        lines.append(row(f"  time per page, {s['threads']} vs {scale[0]['threads']} threads", "",
                         f"{s['cpu_ms_per_page'] / scale[0]['cpu_ms_per_page']:.2f}x CPU",
                         f"{s['ms_per_page'] / scale[0]['ms_per_page']:.2f}x"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--big", action="store_true", help="also scale to 100,000 threads")
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated subset of {','.join(MEASURES)}")
    parser.add_argument("--scale", default=None, help="thread counts for the scale runs (default 1000,10000)")
    args = parser.parse_args(argv)
    if not SITE_A.is_dir():
        print(f"bench: the fixture captures are not at {FIXTURES}", file=sys.stderr)
        return 2
    only = tuple(name.strip() for name in args.only.split(",") if name.strip())
    unknown = set(only) - set(MEASURES)
    if unknown:
        print(f"bench: unknown measure {', '.join(sorted(unknown))} (choose from {', '.join(MEASURES)})",
              file=sys.stderr)
        return 2
    try:
        sizes = tuple(int(n) for n in args.scale.split(",")) if args.scale else (1000, 10_000)
    except ValueError:
        print(f"bench: --scale takes thread counts such as 1000,10000, not {args.scale!r}", file=sys.stderr)
        return 2
    if args.big:
        sizes += (100_000,)
    results = run(only, sizes)
    print(json.dumps(results, indent=1) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
