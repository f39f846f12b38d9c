"""Sites set up the way live forums are, written from a real capture's pages.

A live Discuz forum is often installed in a sub-folder, under rewrite rules its admin changed, behind a
robots.txt that forbids every URL with a ``?``, or redirecting dynamic spellings to static ones. Each
function here writes a capture folder (``manifest.json`` + pages, as :mod:`testbed.replay` serves them)
that is the source capture set up that way: same pages, same markup, other URLs. Replay them with
``ReplayServer(folder, exact=True)`` so that only the spellings the pages link are served.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

# The default rewrite rules' spellings, as the pages link them (relative to <base href>) or absolute.
_THREAD = re.compile(r"thread-(\d+)-(\d+)-(\d+)\.html")
_FORUM = re.compile(r"forum-(\d+)-(\d+)\.html")
_SPACE = re.compile(r"space-uid-(\d+)\.html")


def _load(src: Path) -> list[dict]:
    return json.loads((src / "manifest.json").read_text(encoding="utf-8"))


def _write(dst: Path, entries: list[tuple[dict, bytes]]) -> Path:
    (dst / "pages").mkdir(parents=True, exist_ok=True)
    manifest = []
    for number, (entry, body) in enumerate(entries, 1):
        name = f"pages/{number:04d}{Path(entry['file']).suffix or '.html'}"
        (dst / name).write_bytes(body)
        manifest.append(dict(entry, file=name))
    (dst / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return dst


def custom_rules(src: Path, dst: Path, *, folder: str = "bbs", thread: str | None = "thread/{tid}/{page}",
                 forum: str | None = "forum/{fid}/{page}", space: str | None = "member-uid-{uid}.html") -> Path:
    """The site moved into ``/FOLDER/`` with changed rewrite rules, by default ``thread/T/P``, ``forum/F/P`` and
    ``member-uid-U.html``; ``thread``, ``forum`` and ``space`` are the admin's rules (``{tid}``, ``{page}``,
    ``{fid}``, ``{uid}``; ``None`` keeps Discuz's default rule), e.g. ``space="people/{uid}/"`` for a space
    rule whose spelling says nothing of uid.

    Every link on every page, the ``<base href>``, the manifest's URLs and robots.txt's paths follow.
    The in-thread pager and other dynamic links (``home.php?mod=space&uid=U&do=profile``) stay dynamic, as
    Discuz's ``rewriteoutput()`` leaves them.
    """
    entries = []
    for entry in _load(src):
        body = (src / entry["file"]).read_bytes()
        parts = urlsplit(entry["url"])
        site = f"{parts.scheme}://{parts.netloc}/"
        if parts.path == "/robots.txt":
            body = re.sub(rb"^((?:Dis)?[Aa]llow: )/", rb"\1/" + folder.encode() + b"/", body, flags=re.M)
            entries.append((entry, body))
            continue

        def move(text: str) -> str:
            if thread is not None:
                text = _THREAD.sub(lambda m: thread.format(tid=m[1], page=m[2]), text)
            if forum is not None:
                text = _FORUM.sub(lambda m: forum.format(fid=m[1], page=m[2]), text)
            return _SPACE.sub(lambda m: space.format(uid=m[1]), text) if space is not None else text

        charset = "utf-8"
        text = body.decode(charset, errors="surrogateescape")
        text = text.replace(site, f"{site}{folder}/")
        text = move(text)
        location = entry.get("headers", {}).get("Location")
        headers = dict(entry.get("headers", {}), **({"Location": move(location)} if location else {}))
        url = f"{site}{folder}/" + move(entry["url"][len(site):])
        entries.append((dict(entry, url=url, headers=headers), text.encode(charset, errors="surrogateescape")))
    return _write(dst, entries)


def space_rule(src: Path, dst: Path, rule: str = "people/{uid}/", *, folder: str = "bbs") -> Path:
    """The site moved into ``/FOLDER/`` with the admin's own rule for member spaces only (``rule``, e.g.
    ``people/{uid}/``, ``m-{uid}.htm``, ``u-{uid}.html``); threads and forums keep Discuz's default rules."""
    return custom_rules(src, dst, folder=folder, thread=None, forum=None, space=rule)


def robots(src: Path, dst: Path, rules: str) -> Path:
    """The same site behind another robots.txt (``rules`` is its whole text)."""
    entries = []
    for entry in _load(src):
        body = (src / entry["file"]).read_bytes()
        if urlsplit(entry["url"]).path == "/robots.txt":
            body = rules.encode("utf-8")
        entries.append((entry, body))
    return _write(dst, entries)


def redirect_dynamic(src: Path, dst: Path) -> Path:
    """The same site answering the dynamic spellings of its threads and profiles with a 301 to the static ones.

    A dynamic thread page (``forum.php?mod=viewthread&tid=T&page=P``) moves to ``thread-T-P-1.html`` and
    a profile (``home.php?mod=space&uid=U&do=profile``) to ``space-uid-U.html``, as SEO plugins and
    rewrite recipes do; the static pages are served as captured.
    """
    entries = []
    static = {urlsplit(e["url"]).path for e in _load(src)}
    for entry in _load(src):
        body = (src / entry["file"]).read_bytes()
        target = _static_spelling(entry["url"])
        if target is not None and urlsplit(target).path in static:
            note = f'<html><body>Moved to <a href="{target}">{target}</a></body></html>'.encode()
            headers = dict(entry.get("headers", {}), Location=target)
            entries.append((dict(entry, status=301, content_type="text/html; charset=utf-8", headers=headers), note))
        else:
            entries.append((entry, body))
    return _write(dst, entries)


def _static_spelling(url: str) -> str | None:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    base = f"{parts.scheme}://{parts.netloc}/"
    if parts.path.endswith("/forum.php") and query.get("mod") == "viewthread" and query.get("tid"):
        return f"{base}thread-{query['tid']}-{query.get('page', '1')}-1.html"
    if parts.path.endswith("/home.php") and query.get("mod") == "space" and query.get("uid") and \
            query.get("do") == "profile":
        return f"{base}space-uid-{query['uid']}.html"
    return None


VARIANTS: dict[str, Callable[..., Path]] = {"custom_rules": custom_rules, "space_rule": space_rule, "robots": robots,
                                            "redirect_dynamic": redirect_dynamic}
