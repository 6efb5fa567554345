"""Queueing for routing: ids only, and a report is never lost when Redis is down."""
from __future__ import annotations

import pickle
import socket

import sqlalchemy as sa
from rq import Queue

from mantra import intake
from mantra.extensions import db
from mantra.models import RecipientKind, Report, ReportKey, ReportStatus
from mantra.queue import ROUTE_JOB, ROUTING_QUEUE

from .factories import make_partners, marked_submission


def test_a_stored_report_is_queued_for_routing_by_id_only(app, redis_conn):
    _, area = make_partners()
    report, _ = intake.store_report(marked_submission("QUEUED", area.id))
    queue = Queue(ROUTING_QUEUE, connection=redis_conn)
    job = queue.fetch_job(f"route-report-{report.id}")
    assert job.func_name == ROUTE_JOB and job.args == (report.id,) and job.kwargs == {}
    assert b"QUEUED" not in pickle.dumps(job.to_dict())
    # Queuing the same report again makes no second job.
    from mantra.queue import enqueue_routing

    enqueue_routing(report.id)
    assert queue.count == 1


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_with_redis_down_the_report_is_stored_sealed_and_waits(app, caplog):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{_dead_port()}/0"
    _, area = make_partners()
    report, code = intake.store_report(marked_submission("NOREDIS", area.id))
    stored = db.session.get(Report, report.id)
    assert stored.status == ReportStatus.RECEIVED and stored.routed_at is None
    assert db.session.scalar(sa.select(ReportKey).where(ReportKey.report_id == report.id,
                                                          ReportKey.recipient == RecipientKind.INTAKE))
    assert intake.open_with_receipt(code).report.id == report.id
    assert "not queued for routing (ConnectionError)" in caplog.text
    assert "NOREDIS" not in caplog.text


def test_a_real_worker_as_make_run_starts_it_leaves_routing_jobs_waiting(app, redis_conn):
    """Until the routing issue brings the job, the worker (queue 'default', as
    bin/run-dev starts it) must not take routing jobs: the report waits, not lost."""
    import subprocess
    import sys
    from pathlib import Path

    from .conftest import TEST_REDIS_URL

    run_dev = (Path(__file__).resolve().parent.parent / "bin" / "run-dev").read_text()
    assert "rq worker default " in run_dev
    _, area = make_partners()
    report, _ = intake.store_report(marked_submission("WAITING", area.id))
    subprocess.run([sys.executable, "-m", "rq.cli", "worker", "default", "--burst", "--url", TEST_REDIS_URL],
                   check=True, capture_output=True, timeout=60)
    job = Queue(ROUTING_QUEUE, connection=redis_conn).fetch_job(f"route-report-{report.id}")
    assert job is not None and job.get_status() == "queued"
    assert db.session.get(Report, report.id).status == ReportStatus.RECEIVED
