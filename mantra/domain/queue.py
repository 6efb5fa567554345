"""The job queues. Jobs carry ids, never content (Redis holds them), and are
JSON, never pickle: a worker never unpickles what the web tier (or an
intruder with its Redis access) wrote. Workers run only the jobs named in
JOBS, checked before anything runs (mantra/worker.py).
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import JobStatus
from rq.serializers import JSONSerializer

SERIALIZER = JSONSerializer
ROUTING_QUEUE = "routing"
NOTIFY_QUEUE = "notify"
HOUSEKEEPING_QUEUE = "housekeeping"
QUEUES = (ROUTING_QUEUE, NOTIFY_QUEUE, HOUSEKEEPING_QUEUE)  # a worker's order of preference

ROUTE_JOB = "mantra.jobs.route.route_report"
NOTIFY_JOB = "mantra.jobs.notify.send_notification"
TICK_JOB = "mantra.jobs.housekeeping.tick"
# The allow-list: each job, the one queue it may come from, and how many ids it takes.
JOBS = {ROUTE_JOB: (ROUTING_QUEUE, 1), NOTIFY_JOB: (NOTIFY_QUEUE, 1), TICK_JOB: (HOUSEKEEPING_QUEUE, 0)}

# A job in one of these states will run without help: queueing it again adds nothing.
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
_KEEP_FAILED = 30 * 24 * 3600


@lru_cache(maxsize=8)
def _client(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def connection(url: str | None = None) -> Redis:
    """A client whose connections are pooled for the life of the process."""
    return _client(url or current_app.config["REDIS_URL"])


def queue(name: str, conn: Redis | None = None) -> Queue:
    return Queue(name, connection=conn or connection(), serializer=SERIALIZER)


def _enqueue_once(name: str, func: str, record_id: int, job_id: str, retry: Retry | None) -> None:
    q = queue(name)
    waiting = q.fetch_job(job_id)
    if waiting is not None and waiting.get_status(refresh=False) in _WAITING:
        return  # already on its way: one job per record, however often queued
    # A job left 'started' by a worker that died is queued again: every job is
    # idempotent (it locks its row and checks what is already done).
    q.enqueue(func, record_id, job_id=job_id, retry=retry, failure_ttl=_KEEP_FAILED)


def _never_raise(what: str, record_id: int, enqueue) -> bool:
    """Queue after a commit. Never raises: the record is stored, and the
    sweeper queues anything left waiting."""
    try:
        enqueue()
        return True
    except Exception as exc:  # RedisError above all, but nothing may undo what was committed
        current_app.logger.warning("%s %s stored but not queued (%s)", what, record_id, type(exc).__name__)
        return False


def enqueue_routing(report_id: int) -> bool:
    retry = Retry(max=5, interval=[10, 30, 60, 300, 900])
    return _never_raise(
        "report",
        report_id,
        lambda: _enqueue_once(ROUTING_QUEUE, ROUTE_JOB, report_id, f"route-report-{report_id}", retry),
    )


def enqueue_notification(notification_id: int, delay: float = 0, attempt: int = 0) -> bool:
    """Send now, or (a retry) after `delay` seconds, as a job of its own."""
    job_id = f"notify-{notification_id}"

    def enqueue():
        if delay <= 0:
            return _enqueue_once(NOTIFY_QUEUE, NOTIFY_JOB, notification_id, job_id, None)
        queue(NOTIFY_QUEUE).enqueue_in(
            timedelta(seconds=delay),
            NOTIFY_JOB,
            notification_id,
            job_id=f"{job_id}-attempt-{attempt + 1}",
            failure_ttl=_KEEP_FAILED,
        )

    return _never_raise("notification", notification_id, enqueue)


def schedule_tick(conn: Redis, every: int) -> bool:
    """Queue the housekeeping tick once per slot of `every` seconds, however
    many workers ask (a Redis SET NX claims the slot). Every worker asks on
    each turn of its loop, so ticks carry on whichever workers are alive, and
    again as soon as Redis comes back. (Not `enqueue_at`: RQ's scheduler lock
    outlives a killed worker by a minute; nor `rq cron`, which enqueues pickle.)"""
    slot = int(time.time() // every)
    if not conn.set(f"mantra:tick:{slot}", 1, nx=True, ex=every * 4):
        return False
    queue(HOUSEKEEPING_QUEUE, conn).enqueue(TICK_JOB, job_id=f"tick-{slot}", result_ttl=every * 4, ttl=every * 4)
    return True
