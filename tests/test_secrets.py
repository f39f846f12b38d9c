"""Secrets and network: a member's cookies reach the forum and nothing else, and no file keeps them.

The crawl runs through testbed.multisite.MultiSiteProxy, which records every host asked for and every CONNECT, with
an empty tldextract cache (the first crawl on a machine) and HTTPS routed through the proxy too.
"""
from __future__ import annotations

import gzip
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from testbed.multisite import MultiSiteProxy

from .conftest import SITE_A, requires_fixtures

pytestmark = requires_fixtures
START = "http://bbs.example.test/forum.php"
SECRET = "s3cr3t-session-7f9a2c"


def dz(tmp_path, proxy, *args, interrupt_after: int | None = None) -> subprocess.CompletedProcess:
    """`dzarchive ARGS` as a first run on a fresh machine: empty HOME and tldextract cache, every protocol proxied."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "HOME": str(tmp_path / "home"), "TLDEXTRACT_CACHE": str(tmp_path / "tld"),
           "http_proxy": proxy.url, "https_proxy": proxy.url, "HTTPS_PROXY": proxy.url}
    cmd = [sys.executable, "-m", "dzarchive", *args]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    if interrupt_after is not None:
        deadline = time.monotonic() + 60
        while proxy.requests["bbs.example.test"] < interrupt_after and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(cmd, process.returncode, out, err)


def files_holding(folder, secret: bytes) -> list[str]:
    """Every file under ``folder`` (gzip members read through) whose bytes contain ``secret``."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.name == "cookies.txt":
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                pass
        if secret in data:
            found.append(str(path.relative_to(folder)))
    return found


@pytest.fixture
def proxy():
    with MultiSiteProxy([SITE_A]) as server:
        yield server


def test_a_cookies_crawl_contacts_only_the_forum_and_leaves_no_secret_in_any_file(tmp_path, proxy):
    (tmp_path / "home").mkdir()
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       f".bbs.example.test\tTRUE\t/\tFALSE\t0\tRT9k_2132_auth\t{SECRET}\n", encoding="utf-8")
    cookies.chmod(0o600)
    args = ("crawl", START, "--db", "data/a.db", "--cookies", str(cookies), "--log-file", "data/crawl.log", "-vv",
            "--warc", "data/warc", "--delay", "0.05", "-s", "AUTOTHROTTLE_ENABLED=False")
    stopped = dz(tmp_path, proxy, *args, interrupt_after=15)
    assert stopped.returncode == 130, stopped.stderr
    jobdir = tmp_path / "data" / "a.db.jobdir"
    assert (jobdir / "requests.queue").is_dir()  # the job state a graceful stop keeps
    assert stat.S_IMODE(jobdir.stat().st_mode) == 0o700
    assert files_holding(tmp_path, SECRET.encode()) == []
    finished = dz(tmp_path, proxy, *args)
    assert finished.returncode == 0, finished.stderr
    exported = dz(tmp_path, proxy, "export", "--db", "data/a.db", "-o", "data/threads.jsonl")
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "data" / "a.db-wal").exists() or (tmp_path / "data" / "a.db").exists()
    # Database, WAL, log, job state, WARCs, export: the session is in none of them.
    assert files_holding(tmp_path, SECRET.encode()) == []
    # The forum, and nothing else: no Public Suffix List download, no tunnel anywhere.
    assert proxy.connects == []
    assert set(proxy.hosts) == {"bbs.example.test"}
    assert not any((tmp_path / "tld").rglob("*.json")) if (tmp_path / "tld").exists() else True
