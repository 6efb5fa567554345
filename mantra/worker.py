"""The locked-down worker (DESIGN section 2): `flask --app mantra mantra worker`.

RQ runs whatever importable function a job names, and an intruder with the
web tier's Redis access can write jobs. So before anything runs (before the
work horse is forked) each job is checked against the allow-list in
`domain.queue.JOBS`: a MANTRA job function, on the one queue it belongs to,
with record ids as its only arguments, JSON (never pickle), no callbacks.
Anything else is logged (its id and queue, never its arguments) and deleted.

Jobs run in the worker process itself (RQ's SimpleWorker), one app context
and one transaction each: no fork per job, so imports, the bank-holiday
table, compiled SQL and pooled database connections are kept from one job
to the next (a fork per job cost about 200 ms of a 230 ms route job; see
docs/performance.md). The allow-list check, not a fork, is what keeps a
hostile job from running. Queues are served round robin, so a backlog of
routing never holds back the partners' e-mails or the housekeeping tick.

`rq worker -w mantra.worker.Worker routing notify housekeeping` runs the same class.
"""

from __future__ import annotations

import importlib
import logging
from datetime import date

import rq
from flask import Flask
from rq.serializers import JSONSerializer
from rq.worker import DequeueStrategy

from .domain import deadlines
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


class Worker(rq.SimpleWorker):
    def __init__(self, queues=q.QUEUES, *args, app: Flask | None = None, **kwargs):
        if app is None:
            from . import create_app

            app = create_app()
        self.app = app
        self.tick_every = app.config["TICK_SECONDS"]
        kwargs["serializer"] = JSONSerializer  # whatever the command line says
        kwargs["log_job_description"] = False  # a description repeats the arguments
        super().__init__(queues, *args, **kwargs)
        for name in q.JOBS:  # load once what every job needs, not in the first job
            importlib.import_module(name.rsplit(".", 1)[0])
        this_year = date.today().year
        for year in (this_year, this_year + 1):  # the bank-holiday tables, built once
            deadlines.is_working_day(date(year, 1, 1))

    def work(self, *args, dequeue_strategy=DequeueStrategy.ROUND_ROBIN, **kwargs):
        return super().work(*args, dequeue_strategy=dequeue_strategy, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        return max(1, self.tick_every)  # wake at least once a tick to schedule the next

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None and self._shutdown_requested_date is None:
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
        """One app context and one transaction per job."""
        with self.app.app_context():
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()
