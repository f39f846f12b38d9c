"""``dzarchive.toml``: the sites a scheduled run archives, and how.

```toml
database = "data/{host}.db"    # each site's archive (the default): one archive holds one site
log_file = "data/dzarchive.log"
timezone = "+08:00"
delay = 1.0                    # seconds between requests (AutoThrottle adapts from it)
profiles = true
cookies = "cookies.txt"        # a Netscape cookies.txt, to crawl as a logged-in member
contact = "you@example.org"    # sent in the User-Agent, so the forum's admins can reach you

[[site]]
url = "http://bbs.example.com/forum.php"

[[site]]
url = "http://bbs.other.example/forum-2-1.html"
database = "data/other.db"     # any key above can be set per site
full = true                    # walk everything, not only what changed
warc = "data/other-warc"       # every exchange as WARC files in this folder
media = true                   # images and attachments of posts (media_offsite = true: other hosts' images too)
```
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from archive.state import site_host

SITE_KEYS = {"url", "database", "timezone", "delay", "profiles", "cookies", "full", "keep_pages", "log_file",
             "contact", "warc", "media", "media_offsite"}
DEFAULTS = {"database": "data/{host}.db", "timezone": "+08:00", "delay": None, "profiles": True, "cookies": None,
            "full": False, "keep_pages": "failed", "log_file": None, "contact": None, "warc": None, "media": False,
            "media_offsite": False}


class ConfigError(ValueError):
    """The config file says something dzarchive cannot do."""


@dataclass
class SiteJob:
    """One site of a scheduled run, with every setting resolved."""

    url: str
    database: str
    timezone: str = "+08:00"
    delay: float | None = None
    profiles: bool = True
    cookies: str | None = None
    full: bool = False
    keep_pages: str = "failed"
    log_file: str | None = None
    contact: str | None = None
    warc: str | None = None  # --warc DIR
    media: bool = False
    media_offsite: bool = False
    extra: dict = field(default_factory=dict)

    def crawl_args(self) -> list[str]:
        """The ``dzarchive crawl`` arguments that run this job."""
        args = ["crawl", self.url, "--db", self.database, "--tz", self.timezone, "--keep-pages", self.keep_pages]
        if self.delay is not None:
            args += ["--delay", str(self.delay)]
        if not self.profiles:
            args.append("--no-profiles")
        if self.cookies:
            args += ["--cookies", self.cookies]
        if self.full:
            args.append("--full")
        if self.log_file:
            args += ["--log-file", self.log_file]
        if self.contact:
            args += ["--contact", self.contact]
        if self.warc:
            args += ["--warc", self.warc]
        if self.media:
            args.append("--media")
        if self.media_offsite:
            args.append("--media-offsite")
        return args


def load_config(path: str | Path) -> list[SiteJob]:
    """Read ``dzarchive.toml`` into one :class:`SiteJob` per ``[[site]]``; paths are relative to the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    sites = data.pop("site", None) or data.pop("sites", None)
    if not sites:
        raise ConfigError(f"{path}: no [[site]] with a url")
    unknown = set(data) - SITE_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown settings {sorted(unknown)}")
    jobs = []
    for number, site in enumerate(sites, 1):
        unknown = set(site) - SITE_KEYS
        if unknown:
            raise ConfigError(f"{path}: site {number}: unknown settings {sorted(unknown)}")
        if not site.get("url"):
            raise ConfigError(f"{path}: site {number} has no url")
        merged = {**DEFAULTS, **data, **site}
        # One archive holds one site: "{host}" in a path is the site's host (data/bbs.example.com.db).
        for key in ("database", "log_file", "warc"):
            if merged.get(key):
                merged[key] = merged[key].replace("{host}", site_host(site["url"]) or "site")
        for key in ("database", "cookies", "log_file", "warc"):
            if merged.get(key):
                merged[key] = str((path.parent / merged[key]).resolve()) if not Path(merged[key]).is_absolute() \
                    else merged[key]
        jobs.append(SiteJob(**{k: merged[k] for k in SITE_KEYS}))
    holders: dict[str, str] = {}
    for job in jobs:
        other = holders.setdefault(job.database, site_host(job.url))
        if other != site_host(job.url):
            raise ConfigError(f"{path}: {other} and {site_host(job.url)} would share the archive {job.database};"
                              ' one archive holds one site (use database = "data/{host}.db")')
    return jobs
