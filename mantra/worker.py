"""The locked-down worker (DESIGN section 2): `flask --app mantra mantra worker`.

RQ runs whatever importable function a job names, and an intruder with the
web tier's Redis access can write jobs. So before anything runs (before the
work horse is forked) each job is checked against the allow-list in
`domain.queue.JOBS`: a MANTRA job function, on the one queue it belongs to,
with record ids as its only arguments, JSON (never pickle), no callbacks.
Anything else is logged (its id and queue, never its arguments) and deleted.

`rq worker -w mantra.worker.Worker routing notify housekeeping` runs the same class.
"""

from __future__ import annotations

import logging

import rq
from flask import Flask
from rq.serializers import JSONSerializer

from .domain import queue as q
from .extensions import db

log = logging.getLogger("mantra.worker")
_CALLBACKS = ("_success_callback_name", "_failure_callback_name", "_stopped_callback_name")


def refusal(job: rq.job.Job, queue: rq.Queue) -> str | None:
    """Why this job must not run, or None when it may."""
    try:
        func, instance, args, kwargs = job.func_name, job.instance, job.args, job.kwargs
    except Exception:  # rq's DeserializationError: pickle, or anything but our JSON
        return "unreadable payload (jobs are JSON)"
    allowed = q.JOBS.get(func)
    if allowed is None or instance is not None:
        return f"function {ascii(func)[:80]} is not a MANTRA job"
    queue_name, ids = allowed
    if queue.name != queue_name or job.origin != queue_name:
        return f"{func} does not belong on queue {ascii(queue.name)[:40]}"
    if kwargs or len(args) != ids or not all(type(a) is int and 0 < a < 2**63 for a in args):
        return f"{func} takes {ids} record id(s) and nothing else"
    if any(getattr(job, name, None) for name in _CALLBACKS):
        return "callbacks are not allowed"
    return None


class Worker(rq.Worker):
    def __init__(self, queues=q.QUEUES, *args, app: Flask | None = None, **kwargs):
        if app is None:
            from . import create_app

            app = create_app()
        self.app = app
        self.tick_every = app.config["TICK_SECONDS"]
        kwargs["serializer"] = JSONSerializer  # whatever the command line says
        kwargs["log_job_description"] = False  # a description repeats the arguments
        super().__init__(queues, *args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        return max(1, self.tick_every)  # wake at least once a tick to schedule the next

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None and not self.is_horse:
            # RQ's scheduler process stops when Redis goes away; start it again
            # now (RQ itself waits for its ten-minute maintenance), then make
            # sure the next housekeeping tick is scheduled.
            scheduler = getattr(self, "scheduler", None)
            if scheduler is not None and (not scheduler._process or not scheduler._process.is_alive()):
                scheduler.acquire_locks(auto_start=True)
            q.schedule_tick(self.connection, self.tick_every)

    def execute_job(self, job, queue):
        reason = refusal(job, queue)
        if reason is None:
            return super().execute_job(job, queue)
        self.log.error("Worker %s: refused job %s from queue %s: %s", self.name, ascii(job.id)[:80], queue.name, reason)
        with self.connection.pipeline() as pipe:
            pipe.lrem(queue.intermediate_queue_key, 1, job.id)
            pipe.delete(job.key)
            pipe.execute()

    def perform_job(self, job, queue, execution):
        """In the work horse: one app context and one transaction per job."""
        with self.app.app_context():
            db.engine.dispose(close=False)  # connections opened before the fork are the parent's
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()
