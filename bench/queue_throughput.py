"""Queue throughput: sites per hour with 1 and 2 workers, and Redis memory per queued site.

Starts its own redis-server on a loopback port, replays N demo forums (each its own host) behind one loopback
proxy with LATENCY seconds per request, queues them, and times `dzarchive worker`s (default settings, delay
0.25 s, AutoThrottle on) until every site has finished. Run: ``python bench/queue_throughput.py [--sites 6]``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from dzarchive.queue import redis_memory_per_site, status
from testbed.demo_site import build_demo_site
from testbed.multisite import MultiSiteProxy

LATENCY = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(workers: int, sites: list[str], proxy: MultiSiteProxy, url: str, tmp: Path) -> float:
    conn = redis.Redis.from_url(url)
    conn.flushall()
    config = tmp / f"w{workers}.toml"
    config.write_text("".join(f'[[site]]\nurl = "http://{host}/forum.php"\ndatabase = "{host}.db"\n\n'
                              for host in sites), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dzarchive", "enqueue", "--config", str(config), "--redis", url],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["http_proxy"] = proxy.url
    archives = tmp / f"archives-{workers}"
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "dzarchive", "worker", "--redis", url, "--archives",
                               str(archives), "--name", f"w{i}", "--heartbeat", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
    try:
        while not all(row["state"] == "finished" for row in status(conn)):
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=6)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dzarchive-bench-queue-") as name:
        tmp = Path(name)
        server = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                                  stdout=subprocess.DEVNULL)
        try:
            url = f"redis://127.0.0.1:{port}/0"
            time.sleep(0.5)
            hosts = [f"demo{i}.dzarchive.test" for i in range(args.sites)]
            captures = [build_demo_site(tmp / host, host=host) for host in hosts]
            with MultiSiteProxy(captures, latency=LATENCY) as proxy:
                for workers in (1, 2):
                    elapsed = run(workers, hosts, proxy, url, tmp)
                    print(f"{workers} worker(s): {args.sites} sites in {elapsed:.1f} s = "
                          f"{args.sites * 3600 / elapsed:.0f} sites/hour "
                          f"({sum(proxy.requests.values()) // args.sites} requests per site,"
                          f" peak {max(proxy.peak.values())} in flight per host)")
                    proxy.reset()
            conn = redis.Redis.from_url(url)
            conn.flushall()
            print(f"Redis memory per queued site: {redis_memory_per_site(conn):.0f} bytes")
        finally:
            server.terminate()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
