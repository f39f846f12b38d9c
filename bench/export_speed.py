"""How fast ``dzarchive export`` streams, and whether its memory stays flat as the archive grows.

    python bench/export_speed.py [--posts 200000] [--distinct-authors] [--captures CAPTURE ...]

Builds an archive from the fixture captures (as a crawl would store them), copies its threads and
posts under new tids and pids until it holds ``--posts`` posts (authors, attachments, revisions and
user figures are shared, as on a real forum where a few people write most posts), then times the
export (nested, ``--flat``, ``--gzip``) to a file and measures the peak memory of an export process
at a tenth of the size and at full size. Prints posts/s and peak RSS; stops by itself (about 30 s
for 200k posts on 2 cores).
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive import Archive  # noqa: E402
from pipelines.normalise import normalise_page  # noqa: E402
from pipelines.validate import validate_record  # noqa: E402
import research  # noqa: E402
from scraper.parsers import parse_page  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
DEFAULT_CAPTURES = (FIXTURES / "discuz-x34-utf8-a", FIXTURES / "discuz-x34-utf8-a-state2")
TARGET_POSTS_PER_SECOND = 50_000
TIME_LIMIT = 60  # seconds: the benchmark gives up past this, whatever it has measured
# A child process exports and reports its own peak RSS: the parent's memory (the build) stays out of it.
CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
import research
db = research.open_archive({db!r}, readonly=True)
with open(sys.argv[1], "wb") as out:
    result = research.export_jsonl(db, out, flat={flat!r})
print(result.posts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def build_base(path: Path, captures: tuple[Path, ...]) -> None:
    """An archive of the captures' pages, written as the crawler's pipelines write them."""
    archive = Archive(path)
    for capture in captures:
        manifest = json.loads((capture / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest:
            body = (capture / entry["file"]).read_bytes()
            page = parse_page(entry["url"], body, content_type=entry.get("content_type", ""),
                              http_status=entry["status"], date_header=entry.get("headers", {}).get("Date"))
            archive.write(validate_record(normalise_page(page)))
    archive.close()


def _copy_sql(table: str, columns: list[str], shifts: dict[str, str]) -> str:
    select = ", ".join(shifts.get(c, f"[{c}]") for c in columns)
    return f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) SELECT {select} FROM [{table}] WHERE {{where}}"


def grow(path: Path, posts: int, distinct_authors: bool = False) -> dict:
    """Copy the base threads/posts (with their attachments and revisions) until ``posts`` posts exist.

    ``distinct_authors`` gives every copy its own users (and their figures): the worst case for the
    export's author cache, as on a forum where nobody posts twice.
    """
    from sqlite_utils import Database

    db = Database(path)
    conn = db.conn
    research.register_functions(conn)  # the search triggers fold what they index with it
    base_posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    max_pid = conn.execute("SELECT max(pid) FROM posts").fetchone()[0]
    max_tid = conn.execute("SELECT max(tid) FROM threads").fetchone()[0]
    max_uid = conn.execute("SELECT max(uid) FROM users").fetchone()[0]
    copies = max(0, -(-posts // base_posts) - 1)
    cols = {t: [r[1] for r in conn.execute(f"PRAGMA table_info([{t}])")] for t in
            ("threads", "posts", "attachments", "post_revisions", "users", "user_stats")}
    with conn:
        for k in range(1, copies + 1):
            dp, dt, du = k * max_pid, k * max_tid, (k * max_uid if distinct_authors else 0)
            conn.execute(_copy_sql("threads", cols["threads"], {"tid": f"tid + {dt}"}).format(where=f"tid <= {max_tid}"))
            conn.execute(_copy_sql("posts", cols["posts"], {"pid": f"pid + {dp}", "tid": f"tid + {dt}",
                                                            "author_uid": f"author_uid + {du}"})
                         .format(where=f"pid <= {max_pid}"))
            if distinct_authors:
                conn.execute(_copy_sql("users", cols["users"], {"uid": f"uid + {du}"}).format(where=f"uid <= {max_uid}"))
                conn.execute(_copy_sql("user_stats", [c for c in cols["user_stats"] if c != "id"],
                                       {"uid": f"uid + {du}"}).format(where=f"uid <= {max_uid}"))
            conn.execute(_copy_sql("attachments", cols["attachments"], {"pid": f"pid + {dp}"})
                         .format(where=f"pid <= {max_pid}"))
            conn.execute(_copy_sql("post_revisions", [c for c in cols["post_revisions"] if c != "id"],
                                   {"pid": f"pid + {dp}"}).format(where=f"pid <= {max_pid}"))
    counts = {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in ("threads", "posts", "users")}
    db.close()
    return counts


def timed_export(db_path: Path, out_path: Path, **options) -> tuple[float, int, int]:
    """(seconds, posts, bytes) of one in-process export."""
    db = research.open_archive(db_path, readonly=True)
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        result = research.export_jsonl(db, out, **options)
    seconds = time.perf_counter() - start
    db.conn.close()
    return seconds, result.posts, out_path.stat().st_size


def child_peak(db_path: Path, out_path: Path, flat: bool = False) -> tuple[int, int]:
    """(posts, peak RSS in KiB) of an export run in a fresh process."""
    code = CHILD.format(root=str(ROOT), db=str(db_path), flat=flat)
    done = subprocess.run([sys.executable, "-c", code, str(out_path)], capture_output=True, text=True,
                          timeout=TIME_LIMIT)
    if done.returncode:
        raise RuntimeError(f"export process failed:\n{done.stderr}")
    posts, peak = done.stdout.split()
    return int(posts), int(peak)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200_000, help="posts in the synthetic archive")
    parser.add_argument("--captures", nargs="*", type=Path, default=list(DEFAULT_CAPTURES))
    parser.add_argument("--distinct-authors", action="store_true",
                        help="every copy of the fixture posts by new users (worst case for the author cache)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    missing = [c for c in args.captures if not (c / "manifest.json").exists()]
    if missing:
        print(f"no capture at {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dzarchive-bench-") as tmp:
        tmp = Path(tmp)
        small, big = tmp / "small.db", tmp / "big.db"
        build_base(big, tuple(args.captures))
        shutil.copy(big, small)  # the same base, grown less
        grow(small, max(1, args.posts // 10), args.distinct_authors)
        counts = grow(big, args.posts, args.distinct_authors)
        print(f"archive: {counts['threads']:,} threads, {counts['posts']:,} posts, {counts['users']:,} users "
              f"({big.stat().st_size / 2**20:.0f} MiB), built in {time.perf_counter() - began:.1f} s")
        out = tmp / "out.jsonl"
        rates = {}
        for label, options in (("nested", {}), ("--flat", {"flat": True}), ("nested --gzip", {"compress": True})):
            if time.perf_counter() - began > TIME_LIMIT:
                print(f"{label}: skipped, past the {TIME_LIMIT} s limit")
                continue
            seconds, posts, size = timed_export(big, out, **options)
            rates[label] = posts / seconds
            print(f"export {label:14} {posts:,} posts in {seconds:.2f} s = {posts / seconds:,.0f} posts/s "
                  f"({size / 2**20:.0f} MiB written)")
        if time.perf_counter() - began < TIME_LIMIT:
            small_posts, small_peak = child_peak(small, out)
            big_posts, big_peak = child_peak(big, out)
            print(f"peak RSS of an export process: {small_peak / 1024:.0f} MiB for {small_posts:,} posts, "
                  f"{big_peak / 1024:.0f} MiB for {big_posts:,} posts")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"total {time.perf_counter() - began:.1f} s (this process peaked at {own / 1024:.0f} MiB)")
        ok = rates and min(rates.values()) >= TARGET_POSTS_PER_SECOND
        print(f"target {TARGET_POSTS_PER_SECOND:,} posts/s: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
