"""The queue is a way in: whoever can write to Redis (the web tier, by design)
can write jobs. A MANTRA worker runs only its own job functions, from the
right queue, with record ids, in JSON; everything else is refused unrun."""

from __future__ import annotations

import os

from rq import Callback, Queue
from rq.serializers import JSONSerializer

from mantra.domain.queue import ROUTE_JOB, TICK_JOB

from .workers import WorkerProcess

SECRET = "SECRET-ARGUMENT-TEXT"


class _RunsOnUnpickling:
    """What an attacker pickles: loading it runs a shell command."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_hostile_jobs_written_straight_into_redis_run_nothing(app, tmp_path, redis_conn):
    pwned = tmp_path / "pwned"
    as_json = {name: Queue(name, connection=redis_conn, serializer=JSONSerializer) for name in ("routing", "notify")}
    hostile = {
        # Any importable function, named in JSON on a MANTRA queue.
        "arbitrary-function": lambda: as_json["routing"].enqueue(
            "subprocess.check_output", ["touch", f"{pwned}-1", SECRET], job_id="arbitrary-function"
        ),
        # A pickled payload (RQ's default), whose loading alone would run a command.
        "pickled-payload": lambda: Queue("routing", connection=redis_conn).enqueue(
            ROUTE_JOB, _RunsOnUnpickling(f"touch {pwned}-2 # {SECRET}"), job_id="pickled-payload"
        ),
        # A MANTRA job with arguments that are not a record id.
        "text-arguments": lambda: as_json["routing"].enqueue(ROUTE_JOB, f"1; {SECRET}", job_id="text-arguments"),
        "keyword-arguments": lambda: as_json["routing"].enqueue(
            ROUTE_JOB, args=(1,), kwargs={"x": SECRET}, job_id="keyword-arguments"
        ),
        # A MANTRA job on a queue it does not belong to.
        "wrong-queue": lambda: as_json["notify"].enqueue(TICK_JOB, job_id="wrong-queue"),
        # A MANTRA job carrying a callback RQ would import and run.
        "with-callback": lambda: as_json["routing"].enqueue(
            ROUTE_JOB, 12345, on_failure=Callback("os.system"), job_id="with-callback"
        ),
    }
    for enqueue in hostile.values():
        enqueue()
    # Queues no MANTRA worker listens on.
    for name in ("default", "evil"):
        Queue(name, connection=redis_conn, serializer=JSONSerializer).enqueue(
            "os.system", f"touch {pwned}-{name}", job_id=f"unknown-queue-{name}"
        )

    worker = WorkerProcess(app, tmp_path / "worker.log", burst=True)
    assert worker.process.wait(timeout=60) == 0, worker.output()
    log = worker.output()

    assert not list(tmp_path.glob("pwned*")), "a hostile job ran"
    for job_id in hostile:
        assert f"refused job '{job_id}'" in log, log
        assert not redis_conn.exists(f"rq:job:{job_id}")  # refused and deleted, never retried
    assert "unreadable payload" in log and "is not a MANTRA job" in log and "callbacks are not allowed" in log
    assert SECRET not in log  # logged without what the job carried
    assert as_json["routing"].count == 0 and as_json["notify"].count == 0
    for name in ("default", "evil"):  # never taken from a queue MANTRA does not use
        assert Queue(name, connection=redis_conn).count == 1
