"""The job queue. Jobs get ids, never content (they are stored in Redis)."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import JobStatus
from rq.serializers import JSONSerializer

ROUTING_QUEUE = "routing"
# The routing job arrives with the routing issue; until a worker listens on
# this queue, reports wait here and in the database with status 'received'.
ROUTE_JOB = "mantra.jobs.route.route_report"
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}
# Jobs are JSON, never pickle: a worker must never unpickle what the web tier
# (or an intruder with its Redis access) wrote. Workers run with the same
# serializer (`rq worker --serializer rq.serializers.JSONSerializer`).
SERIALIZER = JSONSerializer


@lru_cache(maxsize=8)
def _client(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def connection(url: str | None = None) -> Redis:
    """A client whose connections are pooled for the life of the process."""
    return _client(url or current_app.config["REDIS_URL"])


def enqueue_routing(report_id: int) -> bool:
    """Queue a report for routing. Never raises: the report is already stored,
    and the sweeper re-queues anything left unrouted."""
    job_id = f"route-report-{report_id}"
    try:
        queue = Queue(ROUTING_QUEUE, connection=connection(), serializer=SERIALIZER)
        waiting = queue.fetch_job(job_id)
        if waiting is not None and waiting.get_status(refresh=False) in _WAITING:
            return True  # already on its way: one job per report, however often queued
        queue.enqueue(
            ROUTE_JOB,
            report_id,
            job_id=job_id,
            retry=Retry(max=5, interval=[10, 30, 60, 300, 900]),
            failure_ttl=30 * 24 * 3600,
        )
        return True
    except Exception as exc:  # RedisError above all, but nothing may undo a stored report
        current_app.logger.warning("report %s stored but not queued for routing (%s)", report_id, type(exc).__name__)
        return False
