"""Site jobs on a Redis-backed queue (RQ): enqueue, workers, one lease lock per site and host, status.

The unit of work is one site: one ``dzarchive crawl`` of one archive. ``enqueue`` puts one RQ job per site of a
config on the ``dzarchive`` queue; ``run_worker`` runs N of them at once, each as a ``dzarchive crawl`` subprocess
(exactly what ``dzarchive run`` runs, :meth:`SiteJob.crawl_args`) on a copy of the archive on local disk:

1. take the site's leases (:class:`Lease`): one on the archive's name and one on the forum host, kept in Redis
   with an expiry that the job renews every heartbeat, so no two workers crawl one archive or one host at once,
   and a dead holder's lease runs out by itself;
2. copy the archive from the archives folder (``--archives DIR``, maybe a network share) to local disk;
3. crawl; every ``checkpoint`` seconds publish a consistent snapshot back, so a killed worker's successor
   resumes from there;
4. checkpoint the WAL and move the archive back atomically (:mod:`archive.snapshot`).

A worker killed with SIGKILL takes its children with it (``PR_SET_PDEATHSIG``); its job's heartbeat in RQ's
started-job registry stops, and after ``HEARTBEAT_LEASES`` heartbeats any live worker's supervisor hands the job
to RQ's retries. Failed crawls are retried with back-off (RQ's retry intervals, enqueued by the supervisors).

Redis keys (besides RQ's own ``rq:*``): ``dzarchive:sites`` (set of site ids), ``dzarchive:site:ID`` (hash: the
site's spec, its latest job, and what its job reports while it runs), ``dzarchive:lease:KIND:NAME`` (leases).
"""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from archive.snapshot import checkpoint, crawl_progress, publish, snapshot
from scraper.exit_codes import EXIT_ERRORS

from .config import SiteJob

try:  # the optional extra: pip install 'dzarchive[queue]'
    import redis
    from rq import Queue, Retry, Worker
    from rq.job import Dependency, Job, JobStatus
    from rq.scheduler import RQScheduler
except ImportError:  # pragma: no cover - exercised by the CLI's message
    redis = None

QUEUE_NAME = "dzarchive"
PREFIX = "dzarchive"
SITES_KEY = f"{PREFIX}:sites"
DEFAULT_HEARTBEAT = 10.0  # seconds between a running job's heartbeats (RQ's and the leases')
HEARTBEAT_LEASES = 3  # a job or lease not renewed for this many heartbeats is taken as dead
DEFAULT_CHECKPOINT = 300.0  # seconds between snapshots of a running crawl's archive back to the archives folder
DEFAULT_RETRIES = 3
DEFAULT_RETRY_DELAYS = (30, 300, 1800)  # back-off between attempts of a failed job (seconds)
JOB_TIMEOUT = 7 * 24 * 3600  # a crawl is slow by design (politeness); a week is "hung"
RESULT_TTL = 7 * 24 * 3600  # how long RQ keeps a finished or failed job (the site's own hash keeps the rest)

EXIT_QUEUE_MISSING = 2
STATE_FINISHED, STATE_WITH_ERRORS, STATE_FAILED = "finished", "finished with errors", "failed"
log = logging.getLogger("dzarchive.queue")


class QueueError(RuntimeError):
    """Something the queue commands cannot do (no Redis, no rq installed): a one-line message for the user."""


class CrawlFailed(RuntimeError):
    """The site's crawl ended with a non-zero exit code; RQ retries the job with back-off."""


class LeaseLost(RuntimeError):
    """Another holder took a lease this job held (it expired): the job stops without publishing."""


def connect(url: str) -> "redis.Redis":
    """A Redis connection to ``url`` that has answered a PING; :class:`QueueError` if rq is missing or Redis is down."""
    if redis is None:
        raise QueueError("the queue needs the optional extra: pip install 'dzarchive[queue]'")
    try:
        conn = redis.Redis.from_url(url)
        conn.ping()
    except (redis.exceptions.RedisError, ValueError) as exc:
        raise QueueError(f"cannot reach Redis at {url}: {exc}") from None
    return conn


def site_id(job: SiteJob) -> str:
    """A site's id on the queue: the name of its archive file (one site, one archive)."""
    return Path(job.database).name


def site_host(job: SiteJob) -> str:
    """The forum host a site's requests go to (its politeness budget is per host)."""
    return (urlsplit(job.url).hostname or job.url).lower()


_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")  # RQ's job ids allow only these


def _site_key(sid: str) -> str:
    return f"{PREFIX}:site:{sid}"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# -- leases -------------------------------------------------------------------------------------

_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class Lease:
    """An exclusive lock held in Redis for ``ttl`` seconds at a time: ``SET key token NX PX``.

    The holder renews it (:meth:`renew`) well before it runs out; a holder that dies stops renewing, so the lease
    expires after at most ``ttl`` seconds and someone else can take it. Renewing or releasing only touches the key
    while it still holds this holder's token.
    """

    def __init__(self, conn, name: str, owner: str, ttl: float):
        self.conn, self.key, self.ttl = conn, f"{PREFIX}:lease:{name}", ttl
        self.token = f"{owner} since {_now()} #{uuid.uuid4().hex[:8]}"

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this holder now has it."""
        return bool(self.conn.set(self.key, self.token, nx=True, px=int(self.ttl * 1000)))

    def holder(self) -> str | None:
        """Who holds the lease now (their token), or None."""
        value = self.conn.get(self.key)
        return value.decode() if value else None

    def renew(self) -> bool:
        """Push the expiry ``ttl`` seconds ahead; False when the lease is no longer ours."""
        return bool(self.conn.eval(_RENEW, 1, self.key, self.token, int(self.ttl * 1000)))

    def release(self) -> None:
        """Give the lease up (only if it is still ours)."""
        self.conn.eval(_RELEASE, 1, self.key, self.token)


class LeaseKeeper:
    """Holds a set of leases for the length of a job: takes them all (waiting while others hold them), renews them
    from a thread every ``ttl / HEARTBEAT_LEASES`` seconds, and releases them at the end. ``lost`` is set when a
    renewal finds a lease taken by someone else."""

    def __init__(self, leases: list[Lease], on_wait=None):
        self.leases = sorted(leases, key=lambda lease: lease.key)  # one order everywhere: no deadlock
        self.on_wait = on_wait
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        taken = []
        for lease in self.leases:
            while not lease.try_acquire():
                if self.on_wait:
                    self.on_wait(lease)
                time.sleep(min(1.0, lease.ttl / HEARTBEAT_LEASES))
            taken.append(lease)
        self._thread = threading.Thread(target=self._renew_loop, name="dzarchive-leases", daemon=True)
        self._thread.start()
        return self

    def _renew_loop(self):
        interval = min(lease.ttl for lease in self.leases) / HEARTBEAT_LEASES
        while not self._stop.wait(interval):
            for lease in self.leases:
                try:
                    if not lease.renew():
                        self.lost.set()
                except redis.exceptions.RedisError as exc:
                    log.warning("cannot renew %s: %s", lease.key, exc)

    def __exit__(self, *exc_info):
        self._stop.set()
        if self._thread:
            self._thread.join()
        for lease in self.leases:
            with contextlib.suppress(redis.exceptions.RedisError):
                lease.release()


# -- enqueue ------------------------------------------------------------------------------------

@dataclass
class Enqueued:
    """What ``enqueue`` did with one site: ``queued`` (a new job), ``after`` (queued to run once the site's running
    job ends) or ``already queued`` (a job for it is still waiting: not queued twice)."""

    site: str
    url: str
    action: str
    job_id: str | None


def enqueue(conn, jobs: list[SiteJob], *, retries: int = DEFAULT_RETRIES,
            retry_delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS) -> list[Enqueued]:
    """Queue one crawl job per site. A site whose last job is still waiting is not queued again; one whose job is
    running gets its next run queued behind it (RQ dependency), so a cron line that fires every hour never piles
    up more than one waiting run per site."""
    queue = Queue(QUEUE_NAME, connection=conn)
    done = []
    for job in jobs:
        sid = site_id(job)
        key = _site_key(sid)
        previous = _fetch_job(conn, conn.hget(key, "job_id"))
        status = previous.get_status(refresh=False) if previous else None
        if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            done.append(Enqueued(sid, job.url, "already queued", previous.id))
            continue
        after = Dependency(jobs=[previous], allow_failure=True) if status == JobStatus.STARTED else None
        rq_job = queue.enqueue(
            crawl_site, dataclasses.asdict(job), job_id=f"{_JOB_ID_UNSAFE.sub('_', sid)}-{uuid.uuid4().hex[:12]}", depends_on=after,
            retry=Retry(max=retries, interval=list(retry_delays)) if retries else None,
            job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL,
            description=f"crawl {job.url} -> {sid}")
        with conn.pipeline() as pipe:
            pipe.sadd(SITES_KEY, sid)
            pipe.hset(key, mapping={"url": job.url, "host": site_host(job), "job_id": rq_job.id,
                                    "queued_at": _now()})
            pipe.execute()
        done.append(Enqueued(sid, job.url, "after" if after else "queued", rq_job.id))
    return done


def _fetch_job(conn, job_id):
    if not job_id:
        return None
    try:
        return Job.fetch(job_id.decode() if isinstance(job_id, bytes) else job_id, connection=conn)
    except Exception:  # NoSuchJobError: expired from Redis (RESULT_TTL)
        return None


# -- the job ------------------------------------------------------------------------------------

@dataclass
class WorkerConfig:
    """What a worker's jobs need to know about the machine they run on (set in each worker process)."""

    redis_url: str
    archives: str | None = None  # the folder every worker reaches; None: each site's own database path
    workdir: str | None = None  # local disk for the archives being crawled; None: the system's temp folder
    heartbeat: float = DEFAULT_HEARTBEAT
    checkpoint: float = DEFAULT_CHECKPOINT

    def shared_archive(self, job: SiteJob) -> Path:
        """Where the site's archive lives between crawls."""
        return Path(self.archives) / site_id(job) if self.archives else Path(job.database)

    @property
    def lease_ttl(self) -> float:
        return self.heartbeat * HEARTBEAT_LEASES


_CONFIG: WorkerConfig | None = None  # set in each worker process before it works; its jobs fork from it


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (``PR_SET_PDEATHSIG``), so a worker killed
    with SIGKILL leaves no crawl running behind it. A no-op elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the call took effect
            os._exit(1)


def crawl_site(spec: dict) -> dict:
    """The RQ job: one ``dzarchive crawl`` of one site, on a local copy of its archive (see the module docstring).

    Returns the summary the status shows; raises :class:`CrawlFailed` when the crawl did not finish (RQ retries).
    """
    from rq import get_current_job

    die_with_parent()
    config = _CONFIG or WorkerConfig(redis_url=os.environ.get("DZARCHIVE_REDIS", "redis://localhost:6379/0"))
    job = SiteJob(**spec)
    rq_job = get_current_job()
    conn = rq_job.connection if rq_job else connect(config.redis_url)
    sid, owner = site_id(job), rq_job.worker_name if rq_job and rq_job.worker_name else socket.gethostname()
    key = _site_key(sid)
    shared = config.shared_archive(job)

    def report(**fields):
        conn.hset(key, mapping={k: "" if v is None else str(v) for k, v in fields.items()})

    leases = [Lease(conn, f"archive:{sid}", owner, config.lease_ttl),
              Lease(conn, f"host:{site_host(job)}", owner, config.lease_ttl)]
    waiting = lambda lease: report(state="waiting", detail=f"waiting for {lease.key} ({lease.holder()})")  # noqa: E731
    with LeaseKeeper(leases, on_wait=waiting) as keeper:
        report(state="running", worker=owner, started_at=_now(), pages=0, detail="", job_id=rq_job.id if rq_job else "")
        base = Path(config.workdir or tempfile.gettempdir()) / "dzarchive-worker"
        base.mkdir(parents=True, exist_ok=True)
        local_dir = Path(tempfile.mkdtemp(prefix=f"{sid}-", dir=base))
        try:
            summary = _crawl_locally(job, config, shared, local_dir, keeper, report)
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
    report(state=summary["state"], finished_at=_now(), last=json.dumps(summary, ensure_ascii=False),
           detail=summary.get("why", ""))
    if summary["state"] == STATE_FAILED:
        raise CrawlFailed(summary.get("why") or f"crawl ended with exit code {summary['exit_code']}")
    return summary


def _crawl_locally(job: SiteJob, config: WorkerConfig, shared: Path, local_dir: Path, keeper: LeaseKeeper,
                   report) -> dict:
    local = local_dir / shared.name
    shared.parent.mkdir(parents=True, exist_ok=True)
    if shared.is_file():
        shutil.copyfile(shared, local)
    log_file = job.log_file if job.log_file and not config.archives else f"{shared}.log"
    args = dataclasses.replace(job, database=str(local), log_file=log_file).crawl_args()
    output = local_dir / "crawl.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dzarchive", *args], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    # systemctl stop sends SIGTERM to every process of the unit: let the crawl stop gracefully and publish.
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        last_checkpoint = time.monotonic()
        while True:
            try:
                code = proc.wait(timeout=config.heartbeat)
                break
            except subprocess.TimeoutExpired:
                pass
            if keeper.lost.is_set():
                proc.kill()
                proc.wait()
                raise LeaseLost(f"lost the lease on {shared.name}; not publishing this crawl")
            report(pages=crawl_progress(local).get("pages", 0))
            if time.monotonic() - last_checkpoint >= config.checkpoint and local.is_file():
                snap = local_dir / f"snapshot-{shared.name}"
                snapshot(local, snap)
                publish(snap, shared)
                snap.unlink(missing_ok=True)
                last_checkpoint = time.monotonic()
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    progress = crawl_progress(local)
    if keeper.lost.is_set():
        raise LeaseLost(f"lost the lease on {shared.name}; not publishing this crawl")
    if local.is_file():
        checkpoint(local)
        publish(local, shared)
    text = output.read_text(encoding="utf-8", errors="replace").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    crawl_lines = [line for line in lines if line.startswith(("crawl ", "  "))]
    # Finished with errors: the archive holds what the crawl could read and is published; crawling it all
    # again would not read the rest (`dzarchive crawl --retry-errors` does), so it is not a failure to retry.
    state = STATE_FINISHED if code == 0 else STATE_WITH_ERRORS if code == EXIT_ERRORS else STATE_FAILED
    summary = {"state": state, "exit_code": code, "archive": str(shared),
               "pages": progress.get("pages", 0), "summary": "\n".join(crawl_lines) or text[-2000:]}
    if code != 0:
        summary["why"] = (crawl_lines[0] if crawl_lines else (lines[-1] if lines else "")) \
            or f"exit code {code}"
    return summary


# -- workers ------------------------------------------------------------------------------------

if redis is not None:
    class SiteWorker(Worker):
        """An RQ worker whose jobs' heartbeats lapse after ``HEARTBEAT_LEASES`` missed beats (RQ's default adds a
        fixed minute), so a dead worker's site is taken up again in seconds, not minutes."""

        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            return int(self.job_monitoring_interval * HEARTBEAT_LEASES) + 1


def _worker_slot(config: WorkerConfig, name: str) -> None:
    """One crawl at a time: an RQ worker in its own process (a child of ``run_worker``'s, dying with it)."""
    global _CONFIG
    die_with_parent()
    os.setpgrp()  # Ctrl-C reaches the supervisor only, which asks each slot once (a second signal is RQ's cold stop)
    _CONFIG = config
    conn = redis.Redis.from_url(config.redis_url)
    heartbeat = max(1, int(config.heartbeat))
    worker = SiteWorker([Queue(QUEUE_NAME, connection=conn)], connection=conn, name=name,
                        job_monitoring_interval=heartbeat, maintenance_interval=heartbeat,
                        worker_ttl=heartbeat + 16)
    worker.work(with_scheduler=False, logging_level="WARNING")


def enqueue_due_retries(conn) -> None:
    """Move the jobs whose retry back-off is over from RQ's scheduled registry to the queue (what RQ's scheduler
    process does; run here, in each worker's supervisor, so it never outlives a killed worker)."""
    scheduler = RQScheduler([QUEUE_NAME], connection=conn, logging_level="WARNING")
    scheduler.acquire_locks()
    if scheduler.acquired_locks:
        try:
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()


def requeue_dead_jobs(conn) -> int:
    """Put the jobs of dead workers (heartbeat lapsed in RQ's started-job registry) back on the queue, or in the
    failed registry when they have no retries left. Returns how many were found. Safe to call from every worker."""
    queue = Queue(QUEUE_NAME, connection=conn)
    registry = queue.started_job_registry
    expired = registry.get_expired_job_ids()
    if not expired or not queue.acquire_maintenance_lock():
        return 0
    try:
        registry.cleanup()
    finally:
        queue.release_maintenance_lock()
    return len(expired)


def run_worker(config: WorkerConfig, *, jobs: int = 1, name: str | None = None) -> int:
    """Run ``jobs`` crawls at once until SIGTERM or Ctrl-C (blocking): ``jobs`` RQ worker processes, and in this one
    a supervisor that restarts a slot that died and requeues dead workers' jobs every heartbeat."""
    conn = connect(config.redis_url)
    name = name or f"{socket.gethostname()}.{os.getpid()}"
    context = multiprocessing.get_context("fork")
    slots: dict[int, multiprocessing.Process] = {}
    stopping = threading.Event()

    def start(index):
        slot_name = f"{name}.{index}" if jobs > 1 else name
        # A restarted slot gets a new name: RQ keeps a dead worker's name registered until its key expires.
        slot_name = slot_name if index not in slots else f"{slot_name}.{uuid.uuid4().hex[:4]}"
        process = context.Process(target=_worker_slot, args=(config, slot_name), name=slot_name, daemon=False)
        process.start()
        slots[index] = process

    def stop(*_):
        if stopping.is_set():
            return
        stopping.set()
        for process in slots.values():
            if process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)  # RQ's warm shutdown: finish (or hand back) the job

    for index in range(jobs):
        start(index)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        if stopping.wait(config.heartbeat):
            break
        with contextlib.suppress(redis.exceptions.RedisError):
            found = requeue_dead_jobs(conn)
            if found:
                log.warning("put %d job(s) of dead workers back on the queue", found)
            enqueue_due_retries(conn)
        for index, process in list(slots.items()):
            if not process.is_alive() and not stopping.is_set():
                log.warning("worker slot %s exited (code %s); starting a new one", process.name, process.exitcode)
                start(index)
    for process in slots.values():
        process.join()
    return 0


# -- status -------------------------------------------------------------------------------------

_STATES = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "started": "running",
           "finished": "finished", "failed": "failed", "stopped": "failed", "canceled": "failed"}


def status(conn) -> list[dict]:
    """One dict per site ever queued: ``site``, ``url``, ``state`` (queued, running, failed, finished, finished with
    errors), ``worker``,
    ``since``, ``pages`` (so far, while running), ``detail`` (why it failed, what it waits for, when it retries),
    ``retries_left`` and ``last`` (the summary of its last crawl)."""
    rows = []
    for raw in sorted(conn.smembers(SITES_KEY)):
        sid = raw.decode()
        info = {k.decode(): v.decode() for k, v in conn.hgetall(_site_key(sid)).items()}
        rq_job = _fetch_job(conn, info.get("job_id"))
        job_status = rq_job.get_status(refresh=False) if rq_job else None
        state = _STATES.get(str(job_status.value if job_status else ""), info.get("state") or "unknown")
        if state == STATE_FINISHED and info.get("state") == STATE_WITH_ERRORS:
            state = STATE_WITH_ERRORS
        detail = info.get("detail", "")
        if state == "running" and info.get("state") == "waiting":
            state, detail = "queued", info.get("detail", "")
        if job_status == JobStatus.SCHEDULED:
            detail = f"retry {_retry_number(rq_job)} at {_scheduled_at(conn, rq_job)}: {_failure(rq_job, info)}"
        elif job_status == JobStatus.DEFERRED:
            detail = "after the running crawl"
        elif state == "failed":
            detail = _failure(rq_job, info)
        last = json.loads(info["last"]) if info.get("last") else None
        running = state == "running"
        rows.append({
            "site": sid, "url": info.get("url", ""), "state": state,
            "worker": (rq_job.worker_name or info.get("worker")) if running and rq_job else None,
            "since": (info.get("started_at") if running else info.get("queued_at") if state == "queued"
                      else info.get("finished_at")) or None,
            "pages": int(info.get("pages") or 0) if running else (last or {}).get("pages"),
            "detail": detail or None,
            "retries_left": rq_job.retries_left if rq_job else None,
            "last": last,
        })
    return rows


def _retry_number(rq_job) -> int:
    return (len(rq_job.retry_intervals or []) or 0) - (rq_job.retries_left or 0)


def _scheduled_at(conn, rq_job) -> str:
    registry = Queue(QUEUE_NAME, connection=conn).scheduled_job_registry
    when = registry.get_scheduled_time(rq_job.id) if rq_job.id in registry.get_job_ids() else None
    return when.replace(microsecond=0).isoformat() if when else "?"


def _failure(rq_job, info: dict) -> str:
    if info.get("state") == "failed" and info.get("detail"):
        return info["detail"]
    result = rq_job.latest_result() if rq_job else None
    text = (result.exc_string or "") if result else ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else info.get("detail", "")


def redis_memory_per_site(conn, n: int = 1000) -> float:
    """Bytes of Redis memory one queued site costs, measured by queuing ``n`` made-up sites on a scratch queue
    database and comparing ``used_memory`` (the sites are removed again)."""
    before = conn.info("memory")["used_memory"]
    jobs = [SiteJob(url=f"http://bbs{i}.example.test/forum.php", database=f"/srv/archives/bbs{i}.example.test.db")
            for i in range(n)]
    enqueue(conn, jobs)
    after = conn.info("memory")["used_memory"]
    return (after - before) / n
