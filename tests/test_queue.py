"""Site jobs on a real Redis queue: enqueue, workers on replayed sites, a worker killed with SIGKILL, the per-host
cap measured at the server, leases that expire with their holder, retries with back-off, status.

Each test module run starts its own ``redis-server`` (Debian's package; ``.ci/run`` installs it) on a free
loopback port, and the sites are replayed on loopback behind :class:`testbed.multisite.MultiSiteProxy`.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.demo_site import build_demo_site
from testbed.multisite import MultiSiteProxy

from .conftest import FIXTURES, SITE_A, requires_fixtures
from .test_e2e import order_independent, snapshot

SITE_F = FIXTURES / "discuz-x35-utf8-f"
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed "
                                                              "(apt-get install redis-server; .ci/run does)")
LATENCY = 0.03  # seconds the proxy holds each request: enough for requests of one crawl to overlap
CAP = 4  # scraper/settings.py CONCURRENT_REQUESTS_PER_DOMAIN
START = {"bbs.example.test": "http://bbs.example.test/forum.php",
         "bbs.sample.test": "http://bbs.sample.test/forum.php",
         "demo.dzarchive.test": "http://demo.dzarchive.test/forum.php"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server of our own on a loopback port, stopped at the end of the module."""
    port, folder = free_port(), tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    conn = redis.Redis(port=port)
    for _ in range(100):
        try:
            conn.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


@pytest.fixture
def redis_db(redis_url):
    """The module's Redis, emptied for each test."""
    import redis

    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    yield redis_url
    conn.flushall()


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    return build_demo_site(tmp_path_factory.mktemp("demo") / "site")


@pytest.fixture(scope="module")
def proxy(demo_site):
    with MultiSiteProxy([SITE_A, SITE_F, demo_site], latency=LATENCY) as server:
        yield server


def env_for(proxy_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    if proxy_url:
        env["http_proxy"] = proxy_url
        env["no_proxy"] = "127.0.0.1,localhost"
    return env


def dz(*args, proxy_url=None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzarchive", *args], env=env_for(proxy_url), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def write_config(folder: Path, sites: list[tuple[str, str]], delay: float = 0.01) -> Path:
    """A dzarchive.toml listing (url, database) pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    body = f"delay = {delay}\n" + "".join(f'\n[[site]]\nurl = "{url}"\ndatabase = "{db}"\n' for url, db in sites)
    path = folder / "dzarchive.toml"
    path.write_text(body, encoding="utf-8")
    return path


class Workers:
    """``dzarchive worker`` processes started for a test, stopped (SIGTERM, then SIGKILL) at its end."""

    def __init__(self, redis_url, archives, proxy_url, tmp):
        self.redis_url, self.archives, self.proxy_url, self.tmp = redis_url, archives, proxy_url, tmp
        self.procs = []

    def start(self, name, *extra):
        log = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "dzarchive", "worker", "--redis", self.redis_url,
                                 "--archives", str(self.archives), "--name", name, "--heartbeat", "1",
                                 "--workdir", str(self.tmp / f"work-{name}"), *extra],
                                env=env_for(self.proxy_url), stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(redis_db, proxy, tmp_path):
    pool = Workers(redis_db, tmp_path / "archives", proxy.url, tmp_path)
    yield pool
    pool.stop()


def status(redis_url) -> dict[str, dict]:
    """`dzarchive queue-status --redis URL --json` through its Python API (polled: no interpreter start each time)."""
    import redis

    from dzarchive.queue import status as queue_status

    return {row["site"]: row for row in queue_status(redis.Redis.from_url(redis_url))}


def status_cli(redis_url) -> dict[str, dict]:
    result = dz("queue-status", "--redis", redis_url, "--json")
    assert result.returncode == 0, result.stderr
    return {row["site"]: row for row in map(json.loads, result.stdout.splitlines())}


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(scope="module")
def reference(tmp_path_factory, proxy):
    """Each of the three sites crawled by a single `dzarchive crawl` process, with the options the jobs use."""
    folder = tmp_path_factory.mktemp("reference")
    out = {}
    for host, url in START.items():
        db = folder / f"{host}.db"
        dz("crawl", url, "--db", str(db), "--delay", "0.01", proxy_url=proxy.url)
        out[host] = order_independent(snapshot(db))
    return out


# -- leases -------------------------------------------------------------------------------------

HOLDER = """
import sys, time, redis
from dzarchive.queue import Lease, LeaseKeeper
conn = redis.Redis.from_url(sys.argv[1])
with LeaseKeeper([Lease(conn, "host:bbs.example.test", "holder", 2.0)]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_lease_outlives_its_ttl_while_renewed_and_expires_when_its_holder_is_killed(redis_db):
    import redis

    from dzarchive.queue import Lease

    conn = redis.Redis.from_url(redis_db)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_db], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        other = Lease(conn, "host:bbs.example.test", "other", 2.0)
        time.sleep(3)  # longer than the ttl: the holder's renewals keep it
        assert not other.try_acquire()
        assert other.holder().startswith("holder since ")
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        assert not other.try_acquire()  # not released by anyone: it runs out
        wait_for(other.try_acquire, 5, "the dead holder's lease to expire")
        assert 0.3 < time.monotonic() - killed <= 2.5
        assert not Lease(conn, "host:bbs.example.test", "third", 2.0).try_acquire()
        other.release()
        assert Lease(conn, "host:bbs.example.test", "third", 2.0).try_acquire()
    finally:
        holder.kill()
        holder.wait()


# -- the queue ------------------------------------------------------------------------------------

@requires_fixtures
def test_two_workers_archive_three_sites_as_single_crawls_do_even_when_one_is_killed(
        workers, proxy, reference, tmp_path):
    archives = tmp_path / "archives"
    # At least 0.05 s per request (AutoThrottle's floor is the delay): each crawl runs long enough to publish a
    # checkpoint and still be running (with 0.01 s a crawl took about 2 s, and some runs missed that moment).
    config = write_config(tmp_path / "conf", [(url, f"data/{host}.db") for host, url in START.items()], delay=0.05)
    queued = dz("enqueue", "--config", str(config), "--redis", workers.redis_url, "--retry-delays", "0")
    assert queued.returncode == 0, queued.stderr
    assert "3 of 3 site(s) queued" in queued.stdout
    proxy.reset()
    one, two = workers.start("w1", "--checkpoint", "1"), workers.start("w2", "--checkpoint", "1")

    # Kill a worker whose crawl has archived pages and published a checkpoint to the archives folder.
    def victim():
        rows = status(workers.redis_url)
        for row in rows.values():
            if row["state"] == "running" and (row["pages"] or 0) >= 3 and (archives / row["site"]).exists():
                return row
    row = wait_for(victim, 120, "a running crawl with a checkpoint")
    killed = one if row["worker"] == "w1" else two
    children = descendants(killed.pid)
    assert children  # its RQ worker, the work horse and the crawl
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    at = time.monotonic()
    wait_for(lambda: not any(alive(pid) for pid in children), 10, "the killed worker's crawl to die with it")
    assert status(workers.redis_url)[row["site"]]["worker"] == row["worker"]  # RQ does not know yet
    wait_for(lambda: (lambda r: r["state"] != "running" or r["worker"] != row["worker"])(
        status(workers.redis_url)[row["site"]]), 60, "the killed worker's job to go back on the queue")
    detected = time.monotonic() - at
    assert detected < 10  # heartbeat 1 s: lapsed after 3, then the next supervisor round

    wait_for(lambda: all(x["state"] == "finished" for x in status(workers.redis_url).values()), 180,
             "all three sites to finish")
    rows = status_cli(workers.redis_url)
    assert set(rows) == {f"{host}.db" for host in START}
    assert sorted(p.name for p in archives.iterdir()) == sorted(f"{host}.db{ext}" for host in START
                                                                for ext in ("", ".log"))  # no WAL, no temp file
    for host in START:
        assert order_independent(snapshot(archives / f"{host}.db")) == reference[host], host
        assert rows[f"{host}.db"]["last"]["state"] == "finished"
        assert f"archive {archives / (host + '.db')}" not in rows[f"{host}.db"]["last"]["summary"]  # crawled locally
    # The killed site's next crawl continued from the checkpoint: the killed run is in its archive, interrupted.
    import sqlite3

    crawls = sqlite3.connect(archives / row["site"]).execute("SELECT status FROM crawls ORDER BY id").fetchall()
    assert crawls[0] == ("interrupted",) and crawls[-1] == ("finished",)
    assert all(peak <= CAP for peak in proxy.peak.values()), dict(proxy.peak)
    print(f"dead worker detected and its site taken up again after {detected:.1f} s")


@requires_fixtures
def test_the_per_host_cap_holds_at_the_server_with_two_workers_on_one_site_list(workers, proxy, tmp_path):
    # Two archives of each host: without the host lease, two workers would crawl one forum at once.
    sites = [(START["bbs.example.test"], "data/a-1.db"), (START["bbs.example.test"], "data/a-2.db"),
             (START["demo.dzarchive.test"], "data/demo-1.db"), (START["demo.dzarchive.test"], "data/demo-2.db")]
    config = write_config(tmp_path / "conf", sites)
    assert dz("enqueue", "--config", str(config), "--redis", workers.redis_url).returncode == 0
    proxy.reset()
    workers.start("w1")
    workers.start("w2")
    wait_for(lambda: all(r["state"] == "finished" for r in status(workers.redis_url).values()), 180,
             "the four sites to finish")
    # Both crawls of the host ran whole; a request or a job retried on a loaded machine adds a few more.
    assert proxy.requests["bbs.example.test"] >= 2 * 54
    assert 2 <= proxy.peak["bbs.example.test"] <= CAP
    assert 2 <= proxy.peak["demo.dzarchive.test"] <= CAP
    import sqlite3

    runs = {}
    for name in ("a-1.db", "a-2.db", "demo-1.db", "demo-2.db"):
        assert snapshot(tmp_path / "archives" / name)["posts"]  # each archive got the whole site
        runs[name] = sqlite3.connect(tmp_path / "archives" / name).execute(
            "SELECT started_at, finished_at FROM crawls").fetchone()
    # One host, one crawl at a time: the two archives of a host were crawled one after the other.
    for first, second in (("a-1.db", "a-2.db"), ("demo-1.db", "demo-2.db")):
        (start1, end1), (start2, end2) = runs[first], runs[second]
        assert end1 <= start2 or end2 <= start1, (runs[first], runs[second])


def test_a_failing_site_is_retried_with_back_off_a_bounded_number_of_times(workers, tmp_path):
    config = write_config(tmp_path / "conf", [("http://127.0.0.1:9/forum.php", "data/down.db")])
    assert dz("enqueue", "--config", str(config), "--redis", workers.redis_url, "--retries", "2",
              "--retry-delays", "2,4").returncode == 0
    workers.start("w1")
    wait_for(lambda: status(workers.redis_url)["down.db"]["state"] == "failed", 90, "the site to fail for good")
    row = status(workers.redis_url)["down.db"]
    assert row["retries_left"] == 0
    assert "failed" in row["detail"] and "127.0.0.1:9" in row["detail"]
    import sqlite3

    conn = sqlite3.connect(tmp_path / "archives" / "down.db")
    runs = conn.execute("SELECT status, started_at FROM crawls ORDER BY id").fetchall()
    assert [status for status, _ in runs] == ["failed"] * 3  # the first attempt and two retries, no more
    from datetime import datetime

    starts = [datetime.fromisoformat(at) for _, at in runs]
    assert (starts[1] - starts[0]).total_seconds() >= 2 and (starts[2] - starts[1]).total_seconds() >= 4
    assert status_cli(workers.redis_url)["down.db"]["detail"] == row["detail"]
    table = dz("queue-status", "--redis", workers.redis_url)
    assert table.returncode == 0 and "down.db" in table.stdout and "failed" in table.stdout


def test_a_site_that_finishes_with_errors_is_published_and_not_crawled_again(redis_db, tmp_path):
    import sqlite3

    from testbed.flaky import FlakyReplayServer

    # Page 2 of the thread answers "too fast" every time it is asked.
    script = {"forum.php?mod=viewthread&tid=2&page=2": ["flood"] * 200}
    with FlakyReplayServer(SITE_A, rate=0, script=script) as server:
        pool = Workers(redis_db, tmp_path / "archives", server.url, tmp_path)
        try:
            config = write_config(tmp_path / "conf", [("http://bbs.example.test/forum.php?mod=viewthread&tid=2",
                                                       "data/a.db")])
            assert dz("enqueue", "--config", str(config), "--redis", redis_db, "--retries", "2",
                      "--retry-delays", "1,1").returncode == 0
            pool.start("w1")
            wait_for(lambda: status(redis_db).get("a.db", {}).get("state") not in (None, "queued", "running"), 120,
                     "the crawl to end")
            time.sleep(3)  # past the retry delays: a failed crawl would be running again by now
            row = status(redis_db)["a.db"]
        finally:
            pool.stop()
    assert row["state"] == "finished with errors" and row["last"]["exit_code"] == 5, row
    assert "finished with errors" in row["detail"]
    conn = sqlite3.connect(tmp_path / "archives" / "a.db")
    assert conn.execute("SELECT status FROM crawls").fetchall() == [("finished",)]  # crawled once, published
    assert conn.execute("SELECT count(*) FROM posts WHERE tid = 2").fetchone()[0] > 0
    assert "finished with errors" in dz("queue-status", "--redis", redis_db).stdout


def test_enqueue_does_not_queue_a_waiting_site_twice_and_run_with_redis_queues(redis_db, tmp_path):
    config = write_config(tmp_path / "conf", [("http://bbs.one.test/forum.php", "data/one.db"),
                                              ("http://bbs.two.test/forum.php", "data/two.db")])
    first = dz("run", "--config", str(config), "--redis", redis_db)
    assert first.returncode == 0, first.stderr
    assert "2 of 2 site(s) queued" in first.stdout
    again = dz("enqueue", "--config", str(config), "--redis", redis_db)
    assert again.stdout.count("already queued") == 2 and "0 of 2 site(s) queued" in again.stdout
    import redis

    assert redis.Redis.from_url(redis_db).llen("rq:queue:dzarchive") == 2
    rows = status(redis_db)
    assert {site: row["state"] for site, row in rows.items()} == {"one.db": "queued", "two.db": "queued"}
    assert rows["one.db"]["url"] == "http://bbs.one.test/forum.php"
    assert not (tmp_path / "conf" / "data").exists()  # queued, not crawled here


def test_queue_commands_fail_in_one_line_when_redis_is_down(tmp_path):
    config = write_config(tmp_path, [("http://bbs.one.test/forum.php", "one.db")])
    for args in (("enqueue", "--config", str(config)), ("queue-status",), ("worker",), ("run", "--config", str(config))):
        result = dz(*args, "--redis", f"redis://127.0.0.1:{free_port()}/0")
        assert result.returncode == 1, args
        assert result.stderr.startswith("Error: cannot reach Redis at redis://127.0.0.1:"), result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
