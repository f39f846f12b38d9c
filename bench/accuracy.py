"""How many values the parsers get right on every fixture, per site and per field.

    python bench/accuracy.py            # the table; exit code 1 if any field is below 100 %
    python bench/accuracy.py -v         # also list every mismatch
    python bench/accuracy.py --corpus ../shared/fixtures/real   # corpus mode (below)

Whole-site captures (a ``manifest.json`` and an ``expected.json`` from the forum's database) are
compared with ``tests/ground_truth.compare_capture`` (HTML pages), and their mobile-API answers, if
any, separately with :func:`compare_api_answers` in the API's own terms (exact seconds, its own
page size, no per-post user stats, code blocks and edit notes dropped by the server). Captures without database truth and the
real-world pages under ``real/`` are checked against the hand-checked values transcribed in
``bench/real_truth.py`` (from ``real/INDEX.md`` and the capture READMEs). Mobile-API answers
(``*.json``) are checked when a mobile-API parser is installed, else reported as not applicable.

Corpus mode (``--corpus DIR``) reads every page under a folder of real pages (``*.html``, ``*.htm``,
mobile-API ``*.json``) and reports the recognised-page rate (pages not left ``special``/``unknown``;
``partial`` pages are counted apart) and, where a truth file in the shape of
``real/1984bbs.com/expected.json`` (``{"pages": {file: {"url", "tid", "posts": [{"pid", "uid",
"author", "floor", "time"}]}}}``) names the page, per-field rates of its posts. Truth files are every
``expected.json`` of that shape under the folder, or ``--truth FILE``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.real_truth import MEMBER_CAPTURE, MOBILE_API_PAGES, REAL_PAGES  # noqa: E402
from scraper.items import ParsedPage  # noqa: E402
from scraper.parsers import parse_page  # noqa: E402
from tests.ground_truth import Comparison, bbcode_text, compare_capture, extcredit_names  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
HAS_MOBILE_API = importlib.util.find_spec("scraper.parsers.mobile_api") is not None


def _iso(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _post(page: ParsedPage, pid):
    return next((p for p in page.posts if p.pid == pid), None)


def _row(page: ParsedPage, tid):
    return next((t for t in page.threads if t.tid == tid), None)


def _attr(obj, name):
    return None if obj is None else _iso(getattr(obj, name))


def _stats(page: ParsedPage, uid):
    return next((s for s in page.user_stats if s.uid == uid), None)


# field -> how to read it from a parsed page, given the check's key (a pid, tid, uid, fid or None).
FIELD_READERS = {
    "page.kind": lambda page, _: page.kind,
    "page.status": lambda page, _: page.status,
    "page.message": lambda page, _: page.message,
    "page.version": lambda page, _: page.version,
    "page.fid": lambda page, _: page.fid,
    "page.page": lambda page, _: page.page,
    "page.pages": lambda page, _: page.pages,
    "thread.tid": lambda page, _: _attr(page.threads[0] if page.threads else None, "tid"),
    "thread.fid": lambda page, _: _attr(page.threads[0] if page.threads else None, "fid"),
    "thread.title": lambda page, _: _attr(page.threads[0] if page.threads else None, "title"),
    "thread.author": lambda page, _: _attr(page.threads[0] if page.threads else None, "author"),
    "thread.author_uid": lambda page, _: _attr(page.threads[0] if page.threads else None, "author_uid"),
    "thread.views": lambda page, _: _attr(page.threads[0] if page.threads else None, "views"),
    "thread.replies": lambda page, _: _attr(page.threads[0] if page.threads else None, "replies"),
    "post.pids": lambda page, _: [p.pid for p in page.posts],
    "post.count": lambda page, _: len(page.posts),
    "post.first_author": lambda page, _: page.posts[0].author if page.posts else None,
    "post.first_posted_at": lambda page, _: _iso(page.posts[0].posted_at) if page.posts else None,
    "attachment.aids": lambda page, pid: sorted(a.aid for a in page.attachments if a.pid == pid),
    "stats.raw": lambda page, key: (_stats(page, key[0]).raw.get(key[1]) if _stats(page, key[0]) else None),
    "user.group_title": lambda page, uid: next((u.group_title for u in page.users if u.uid == uid), None),
    "forum.name": lambda page, fid: next((f.name for f in page.forums if f.fid == fid), None),
    "list.rows": lambda page, _: len(page.threads),
    "list.sticky_rows": lambda page, _: sum(1 for t in page.threads if t.is_sticky),
    "list.tids": lambda page, _: [t.tid for t in page.threads],
    "row.position": lambda page, tid: next((i + 1 for i, t in enumerate(page.threads) if t.tid == tid), None),
}
for _name in ("floor", "author", "author_uid", "posted_at", "posted_at_text", "content_text"):
    FIELD_READERS[f"post.{_name}"] = lambda page, pid, _n=_name: _attr(_post(page, pid), _n)
for _name in ("threads", "posts", "credits"):
    FIELD_READERS[f"stats.{_name}"] = lambda page, uid, _n=_name: _attr(_stats(page, uid), _n)
for _name in ("title", "type_prefix", "author", "author_uid", "created_at", "created_at_text", "replies", "views",
              "last_poster", "last_post_at", "last_post_at_text"):
    FIELD_READERS[f"row.{_name}"] = lambda page, tid, _n=_name: _attr(_row(page, tid), _n)


def check_values(page: ParsedPage, checks, cmp: Comparison, label: str = "") -> None:
    """Compare each ``(field, key, expected)`` with what ``page`` holds."""
    for field, key, want in checks:
        cmp.check(field, f"{label}{key if key is not None else ''}", FIELD_READERS[field](page, key), want)


def check_real_pages(folder: Path, entries) -> dict[str, Comparison]:
    """One comparison per real page file (named ``real/host/file``)."""
    results = {}
    for name, url, checks in entries:
        path = folder / name
        if not path.exists():
            continue
        page = parse_page(url, path.read_bytes())
        cmp = Comparison()
        check_values(page, checks, cmp)
        results[f"real/{name}"] = cmp
    return results


def check_corpus_pages(folder: Path) -> dict[str, Comparison]:
    """One comparison per page a corpus truth file (``real/1984bbs.com/expected.json``) describes, post by post."""
    results = {}
    for path, want in corpus_truth(folder).items():
        page = parse_page(want.get("url") or f"http://{path.parent.name}/{path.name}", path.read_bytes())
        cmp = Comparison()
        got = {p.pid: p for p in page.posts}
        cmp.check("page.tid", path.name, page.tid, want.get("tid", page.tid))
        for post in want["posts"]:
            mine = got.get(post["pid"])
            cmp.check("post.found", post["pid"], mine is not None, True)
            if mine is not None:
                cmp.check("post.uid", post["pid"], mine.author_uid, post["uid"])
                cmp.check("post.author", post["pid"], mine.author, post["author"])
                cmp.check("post.floor", post["pid"], mine.floor, post["floor"])
                cmp.check("post.time", post["pid"], mine.posted_at_text, post["time"])
                cmp.check("post.time_parsed", post["pid"], mine.posted_at is not None, True)
        results[f"real/{path.relative_to(folder.resolve())}"] = cmp
    return results


def check_member_capture(folder: Path) -> Comparison | None:
    """The logged-in capture: README facts, and logged-in pages read like the guest capture's."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    pages = {}
    for entry in json.loads(manifest.read_text(encoding="utf-8")):
        body = (folder / entry["file"]).read_bytes()
        pages[entry["url"]] = parse_page(entry["url"], body, content_type=entry.get("content_type"),
                                         http_status=entry["status"], date_header=entry.get("headers", {}).get("Date"))
    cmp = Comparison()
    for url, checks in MEMBER_CAPTURE:
        if url in pages:
            check_values(pages[url], checks, cmp, label=f"{url.rsplit('?', 1)[-1]}:")
        else:
            cmp.check("page.found", url, False, True)
    guest_folder = folder.parent / "discuz-x34-utf8-a"
    guest_manifest = guest_folder / "manifest.json"
    if guest_manifest.exists():
        guest_entries = {e["url"]: e for e in json.loads(guest_manifest.read_text(encoding="utf-8"))}
        for url, member_page in pages.items():
            entry = guest_entries.get(url)
            if entry is None or member_page.kind != "viewthread":
                continue
            guest = parse_page(url, (guest_folder / entry["file"]).read_bytes(), content_type=entry.get("content_type"),
                               date_header=entry.get("headers", {}).get("Date"))
            if guest.kind != "viewthread":  # members-only threads: guests get a login page, nothing to compare
                continue
            cmp.check("member.same_posts_as_guest", url,
                      [(p.pid, p.floor, p.author_uid, p.content_text) for p in member_page.posts],
                      [(p.pid, p.floor, p.author_uid, p.content_text) for p in guest.posts])
    return cmp


def _capture_pages(folder: Path, api: bool) -> list[ParsedPage]:
    """The capture's HTML pages (``api=False``) or its mobile-API answers (``api=True``), parsed."""
    pages = []
    for entry in json.loads((folder / "manifest.json").read_text(encoding="utf-8")):
        if ("/api/mobile/" in entry["url"]) != api:
            continue
        pages.append(parse_page(entry["url"], (folder / entry["file"]).read_bytes(),
                                content_type=entry.get("content_type"), http_status=entry["status"],
                                date_header=entry.get("headers", {}).get("Date")))
    return pages


def compare_api_answers(folder: Path, pages: list[ParsedPage]) -> Comparison:
    """The mobile-API answers of a capture against its database ground truth."""
    truth = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    when = lambda value: datetime.fromisoformat(value) if value else None  # noqa: E731
    cmp = Comparison()
    posts, threads, rows, users, stats, forums, states = {}, {}, {}, {}, {}, {}, {}
    ppp = 0  # the API's page size: the most posts any of its thread pages holds
    for page in pages:
        for post in page.posts:
            posts.setdefault(post.pid, post)
        for thread in page.threads:
            (threads if page.kind == "viewthread" else rows).setdefault(thread.tid, thread)
        for user in page.users:
            if page.kind == "profile":  # the profile answer knows more than a post's author line
                users[user.uid] = user
            else:
                users.setdefault(user.uid, user)
        for s in page.user_stats:
            stats.setdefault(s.uid, s)
        for forum in page.forums:
            forums.setdefault(forum.fid, forum)
        if page.kind == "special" and page.tid:
            states[page.tid] = page.status
        if page.kind == "viewthread":
            ppp = max(ppp, len(page.posts))
    hidden = set(truth.get("hidden_threads", []))
    for want in truth["posts"]:
        got = posts.get(want["pid"])
        cmp.check("api.post.found", want["pid"], got is not None, True)
        if got is None:
            continue
        for field, value in (("tid", want["tid"]), ("floor", want["position"]), ("is_first", want["first"]),
                             ("author", want["author"]), ("author_uid", want["authorid"]),
                             ("posted_at", when(want["dateline"])), ("status", want["status_note"].split(" ")[0])):
            cmp.check(f"api.post.{field}", want["pid"], getattr(got, field), value)
        # The server strips [code] blocks from API messages: only posts without one are comparable.
        if want["status_note"].startswith("ok") and "[code]" not in want["message_bbcode"]:
            cmp.check("api.post.content_text", want["pid"], got.content_text, bbcode_text(want["message_bbcode"]))
        quoted = [int(x) for x in re.findall(r"findpost&pid=(\d+)", want["message_bbcode"])]
        cmp.check("api.post.quote_pid", want["pid"], [q.pid for q in got.quotes], quoted)
    for tid in sorted(hidden):  # members-only threads: the API answers a guest with a login message
        cmp.check("api.thread.hidden_state", tid, states.get(tid), "login_required")
    for want in truth["threads"]:
        tid = want["tid"]
        if tid in hidden or not want.get("visible_to_guest", True):
            continue
        got, row = threads.get(tid), rows.get(tid)
        cmp.check("api.thread.found", tid, got is not None and row is not None, True)
        if got is None or row is None:
            continue
        for source, t in (("page", got), ("list", row)):
            for field, value in (("title", want["title"]), ("fid", want["fid"]), ("replies", want["replies"]),
                                 ("author", want["author"]), ("author_uid", want["authorid"]),
                                 ("created_at", when(want["dateline"]))):
                cmp.check(f"api.thread.{source}.{field}", tid, getattr(t, field), value)
            cmp.check(f"api.thread.{source}.views_at_least", tid, (t.views or 0) >= want["views"], True)
        cmp.check("api.thread.page.is_closed", tid, got.is_closed, want["closed"] > 0)
        if ppp:
            cmp.check("api.thread.page.pages", tid, got.pages, (want["replies"] + ppp) // ppp)
        cmp.check("api.thread.list.last_post_at", tid, row.last_post_at, when(want["lastpost"]))
        cmp.check("api.thread.list.is_sticky", tid, row.is_sticky, want["displayorder"] > 0)
        cmp.check("api.thread.list.is_digest", tid, row.is_digest, want["digest"] > 0)
    for want in truth["users"]:
        uid = want["uid"]
        got, user = stats.get(uid), users.get(uid)
        cmp.check("api.user.found", uid, got is not None and user is not None, True)
        if got is None or user is None:
            continue
        for field, key in (("credits", "credits"), ("threads", "threads"), ("posts", "posts"),
                           ("online_hours", "oltime"), ("followers", "follower")):
            cmp.check(f"api.user.{field}", uid, getattr(got, field), want[key])
        for key, name in extcredit_names(truth).items():
            cmp.check(f"api.user.{key}", uid, got.extcredits.get(name, {}).get("value"), want[key])
        cmp.check("api.user.username", uid, user.username, want["username"])
        cmp.check("api.user.group_id", uid, user.group_id, want["groupid"])
        cmp.check("api.user.registered_at", uid, user.registered_at, when(want["regdate"]).replace(second=0))
    for want in truth["forums"]:
        if not want.get("visible_to_guest", True):
            continue
        got = forums.get(want["fid"])
        cmp.check("api.forum.found", want["fid"], got is not None, True)
        if got is not None:
            cmp.check("api.forum.name", want["fid"], got.name, want["name"])
            cmp.check("api.forum.parent_fid", want["fid"], got.parent_fid, want["parent_fid"])
    return cmp


def collect(fixtures: Path) -> tuple[dict[str, Comparison], list[str]]:
    """Every comparison, keyed by site or page, and the notes about what was not checked."""
    results: dict[str, Comparison] = {}
    notes: list[str] = []
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        if (folder / "manifest.json").exists() and (folder / "expected.json").exists():
            results[folder.name] = compare_capture(folder, pages=_capture_pages(folder, api=False))
            api_pages = _capture_pages(folder, api=True)
            if api_pages and HAS_MOBILE_API:
                results[f"{folder.name} (mobile API)"] = compare_api_answers(folder, api_pages)
            elif api_pages:
                notes.append(f"{folder.name}: {len(api_pages)} mobile-API answers not applicable (no mobile-API parser)")
        elif (folder / "manifest.json").exists():
            member = check_member_capture(folder)
            if member is not None:
                results[folder.name] = member
    real = fixtures / "real"
    if real.exists():
        results.update(check_real_pages(real, REAL_PAGES))
        if HAS_MOBILE_API:
            results.update(check_real_pages(real, MOBILE_API_PAGES))
        else:
            notes += [f"real/{name}: not applicable (mobile API)" for name, _, _ in MOBILE_API_PAGES
                      if (real / name).exists()]
        checked = {name for name, _, _ in REAL_PAGES + (MOBILE_API_PAGES if HAS_MOBILE_API else [])}
        corpus = check_corpus_pages(real)
        results.update(corpus)
        checked |= {name.removeprefix("real/") for name in corpus}
        checked |= {str(path.relative_to(real)) for path in real.rglob("expected.json")}
        for path in sorted(real.rglob("*")):
            name = str(path.relative_to(real))
            if path.is_file() and path.suffix in (".html", ".htm", ".json") and name not in checked and \
                    not any(name == n for n, _, _ in MOBILE_API_PAGES):
                notes.append(f"real/{name}: no hand-checked values")
    return results, notes


def print_table(results: dict[str, Comparison], notes: list[str], verbose: bool = False) -> bool:
    """Print per site and field ``matched/total``; return whether everything matched."""
    all_ok = True
    grand_matched = grand_total = 0
    width = max([len(name) for name in results] + [20])
    for name, cmp in results.items():
        rows = cmp.report()
        matched = sum(m for _, m, _ in rows)
        total = sum(t for _, _, t in rows)
        grand_matched += matched
        grand_total += total
        pct = 100.0 * matched / total if total else 100.0
        print(f"{name:<{width}}  {matched:>5}/{total:<5} {pct:6.2f}%")
        # Fields two to a line: "field  matched/total", a "!" before any that is short.
        cells = [f"{'!' if m < t else ' '}{field:<34}{m:>5}/{t:<5}" for field, m, t in rows]
        for i in range(0, len(cells), 2):
            print("    " + "  ".join(cells[i:i + 2]))
        if matched < total:
            all_ok = False
            if verbose:
                for field, mismatches in cmp.mismatches.items():
                    for key, got, want in mismatches[:10]:
                        print(f"      ✗ {field} [{key}]: got {got!r}, want {want!r}")
    for note in notes:
        print(f"{note}")
    pct = 100.0 * grand_matched / grand_total if grand_total else 100.0
    print(f"{'TOTAL':<{width}}  {grand_matched:>5}/{grand_total:<5} {pct:6.2f}%")
    return all_ok


CORPUS_SUFFIXES = (".html", ".htm", ".json")
CORPUS_FIELDS = ("post.found", "post.uid", "post.author", "post.floor", "post.time")


def corpus_truth(folder: Path, truth_file: Path | None = None) -> dict[Path, dict]:
    """Page path -> its truth entry, from ``truth_file`` or every corpus-shaped ``expected.json`` under ``folder``."""
    truth: dict[Path, dict] = {}
    for path in [truth_file] if truth_file else sorted(folder.rglob("expected.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        pages = data.get("pages") if isinstance(data, dict) else None
        if not isinstance(pages, dict):
            continue  # a whole-site capture's database truth, not a corpus truth file
        for name, entry in pages.items():
            if isinstance(entry, dict) and "posts" in entry:
                truth[(path.parent / name).resolve()] = entry
    return truth


def corpus_report(folder: Path, truth_file: Path | None = None) -> dict:
    """Parse every page under ``folder``; count recognised / partial pages and per-field post matches.

    Returns ``{"pages", "recognised", "partial", "unrecognised": [names], "fields": {field: [matched, total]},
    "by_kind": {kind: count}}``.
    """
    truth = corpus_truth(folder, truth_file)
    known_urls = {name: url for name, url, _ in REAL_PAGES + MOBILE_API_PAGES}
    report = {"pages": 0, "recognised": 0, "partial": 0, "unrecognised": [], "by_kind": {},
              "fields": {name: [0, 0] for name in CORPUS_FIELDS}}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in CORPUS_SUFFIXES or path.name == "expected.json":
            continue
        name = str(path.relative_to(folder))
        want = truth.get(path.resolve())
        url = (want or {}).get("url") or known_urls.get(name) or f"http://{path.parent.name}/{path.name}"
        page = parse_page(url, path.read_bytes())
        report["pages"] += 1
        report["by_kind"][page.kind] = report["by_kind"].get(page.kind, 0) + 1
        if page.kind == "special" and page.status == "unknown":
            report["unrecognised"].append(name)
        else:
            report["recognised"] += 1
        report["partial"] += page.status == "partial"
        if want is None:
            continue
        got = {p.pid: p for p in page.posts}
        for post in want["posts"]:
            mine = got.get(post["pid"])
            checks = {"post.found": mine is not None}
            if mine is not None:
                checks.update({"post.uid": mine.author_uid == post["uid"], "post.author": mine.author == post["author"],
                               "post.floor": mine.floor == post["floor"], "post.time": mine.posted_at_text == post["time"]
                               and mine.posted_at is not None})
            for field in CORPUS_FIELDS:
                report["fields"][field][1] += 1
                report["fields"][field][0] += bool(checks.get(field))
    return report


def print_corpus(report: dict) -> bool:
    """Print a corpus report; return whether every page was recognised and every field matched."""
    def pct(m: int, t: int) -> str:
        return f"{100.0 * m / t:6.2f}%" if t else "   n/a"
    print(f"{'pages recognised':<20} {report['recognised']:>5}/{report['pages']:<5} {pct(report['recognised'], report['pages'])}"
          f"   (partial: {report['partial']}; by kind: "
          + ", ".join(f"{k} {v}" for k, v in sorted(report["by_kind"].items())) + ")")
    for field, (matched, total) in report["fields"].items():
        print(f"{field:<20} {matched:>5}/{total:<5} {pct(matched, total)}")
    for name in report["unrecognised"]:
        print(f"  unrecognised: {name}")
    return not report["unrecognised"] and all(m == t for m, t in report["fields"].values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mismatch")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help=f"fixture folder (default {FIXTURES})")
    parser.add_argument("--corpus", type=Path, help="corpus mode: a folder of real pages")
    parser.add_argument("--truth", type=Path, help="corpus mode: the truth file (default: every expected.json of that shape)")
    args = parser.parse_args(argv)
    if args.corpus:
        if not args.corpus.exists():
            print(f"no corpus at {args.corpus}", file=sys.stderr)
            return 2
        return 0 if print_corpus(corpus_report(args.corpus, args.truth)) else 1
    if not args.fixtures.exists():
        print(f"no fixtures at {args.fixtures}", file=sys.stderr)
        return 2
    results, notes = collect(args.fixtures)
    return 0 if print_table(results, notes, verbose=args.verbose) else 1


if __name__ == "__main__":
    sys.exit(main())
