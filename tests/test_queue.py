"""Queueing for routing: ids only, and a report is never lost when Redis is down."""

from __future__ import annotations

import json
import zlib

import sqlalchemy as sa
from rq import Queue
from rq.serializers import JSONSerializer

from mantra.domain import intake
from mantra.domain.queue import ROUTE_JOB, ROUTING_QUEUE, enqueue_routing
from mantra.extensions import db
from mantra.models import RecipientKind, Report, ReportKey, ReportStatus

from .conftest import free_port
from .factories import make_partners, marked_submission, stored


def test_a_stored_report_is_queued_for_routing_by_id_only(app, redis_conn):
    _, area = make_partners()
    report, _ = stored(marked_submission("QUEUED", area.id))
    queue = Queue(ROUTING_QUEUE, connection=redis_conn, serializer=JSONSerializer)
    job = queue.fetch_job(f"route-report-{report.id}")
    assert job.func_name == ROUTE_JOB and list(job.args) == [report.id] and job.kwargs == {}
    raw = b"".join(v for v in redis_conn.hgetall(job.key).values())
    assert b"QUEUED" not in raw and b"narrative" not in raw
    enqueue_routing(report.id)  # queuing the same report again makes no second job
    assert queue.count == 1


def test_the_routing_job_in_redis_is_json_never_pickle(app, redis_conn):
    """A worker reads the job as JSON: nothing in Redis is ever unpickled."""
    _, area = make_partners()
    report, _ = stored(marked_submission("JSONJOB", area.id))
    payload = zlib.decompress(redis_conn.hget(f"rq:job:route-report-{report.id}", "data"))
    assert json.loads(payload) == [ROUTE_JOB, None, [report.id], {}]
    assert not payload.startswith(b"\x80")  # a pickle starts with its protocol opcode


def test_with_redis_down_the_report_is_stored_sealed_and_waits(app, caplog):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    _, area = make_partners()
    report, code = stored(marked_submission("NOREDIS", area.id))
    row = db.session.get(Report, report.id)
    assert row.status == ReportStatus.RECEIVED and row.routed_at is None
    assert db.session.scalar(
        sa.select(ReportKey).where(ReportKey.report_id == report.id, ReportKey.recipient == RecipientKind.INTAKE)
    )
    assert intake.open_with_receipt(code).report.id == report.id
    assert "stored but not queued (ConnectionError)" in caplog.text
    assert "NOREDIS" not in caplog.text and json.dumps(caplog.text).find("narrative") < 0
