"""Nothing lost: faults on the test's own services (a redis-server, an SMTP
server, workers killed with SIGKILL), never the machine's shared ones. Every
run ends with each report routed exactly once, one referral per partner, and
every e-mail recorded as sent (and sent at least once)."""

from __future__ import annotations

import collections

import pytest
import sqlalchemy as sa

from mantra.extensions import db
from mantra.models import AuditEvent, Notification, Referral, Report, ReportKey, ReportStatus, RoutingRule

from .conftest import RedisServer
from .factories import make_partners, marked_submission, stored
from .journey import answer_all, submit
from .test_routing import _outbox
from .workers import WorkerProcess, smtp_server, wait_for, worker


@pytest.fixture
def partners(app):
    partners, area = make_partners(police_rule=True)
    support = partners["victim-support"][0]
    db.session.add(
        RoutingRule(name="support", priority=5, conditions={"consent_partners": True}, partner_id=support.id)
    )
    db.session.commit()
    return partners, area


def _everything_done() -> bool:
    db.session.expire_all()
    reports = db.session.scalars(sa.select(Report.status)).all()
    unsent = db.session.scalar(sa.select(sa.func.count()).where(Notification.sent_at.is_(None)))
    return bool(reports) and all(s == ReportStatus.ROUTED for s in reports) and unsent == 0


def assert_routed_exactly_once(expected_reports: int):
    db.session.expire_all()
    reports = db.session.scalars(sa.select(Report)).all()
    assert len(reports) == expected_reports
    per_report = collections.Counter(db.session.scalars(sa.select(Referral.report_id)))
    partners = collections.Counter(db.session.execute(sa.select(Referral.report_id, Referral.partner_id)).all())
    assert all(per_report[r.id] == 2 for r in reports) and set(partners.values()) == {1}
    routed = collections.Counter(
        db.session.scalars(sa.select(AuditEvent.report_id).where(AuditEvent.action == "report.routed"))
    )
    assert all(routed[r.id] == 1 for r in reports)
    intake_wraps = db.session.scalar(sa.select(sa.func.count()).where(ReportKey.recipient == "intake"))
    assert intake_wraps == 0
    notifications = db.session.scalars(sa.select(Notification)).all()
    assert len(notifications) == 2 * expected_reports and all(n.sent_at is not None for n in notifications)


def test_reports_sent_while_redis_is_down_are_kept_and_routed_when_it_returns(app, client, partners, tmp_path):
    redis = RedisServer()
    assert redis.start()
    app.config["REDIS_URL"] = redis.url
    try:
        with worker(app, tmp_path):
            for _ in range(2):
                client.get("/report/who?new=1")  # 'Start now': one report after another from one browser
                answer_all(client)
                assert all(submit(client)[1:])
            wait_for(_everything_done, 30, "the first reports routed")
            redis.stop()
            for _ in range(3):  # Redis is down: people still get a reference and a receipt code
                client.get("/report/who?new=1")
                answer_all(client)
                response, reference, code = submit(client)
                assert reference and code and "Report sent" in response.text
            assert redis.start()  # empty: whatever was queued before is gone too
            wait_for(_everything_done, 90, "every report routed and every e-mail sent")
    finally:
        redis.stop()
    assert_routed_exactly_once(5)
    mails = collections.Counter(m["Message-ID"] for m in _outbox(app))
    assert len(mails) == 10


def test_a_named_worker_killed_and_started_again_keeps_routing_through_a_redis_restart(app, client, partners, tmp_path):
    """As systemd runs it (`--name host-1`, Restart=always): killed, it starts
    again under its name at once; Redis stopping and starting again, it stays up."""
    redis = RedisServer()
    assert redis.start()
    app.config["REDIS_URL"] = redis.url

    def send_one():
        client.get("/report/who?new=1")
        answer_all(client)
        assert all(submit(client)[1:])

    running = WorkerProcess(app, tmp_path / "worker.log", name="host-1")
    try:
        send_one()
        wait_for(_everything_done, 30, "the first report routed")
        running.kill()  # a power cut: its name stays registered in Redis for minutes
        running = WorkerProcess(app, tmp_path / "worker.log", name="host-1")
        send_one()
        wait_for(_everything_done, 30, "a report routed by the worker started again under its name")
        redis.stop()
        wait_for(lambda: "could not connect to Redis" in running.output(), 30, "the worker to notice")
        assert redis.start()
        send_one()
        wait_for(_everything_done, 60, "a report routed after Redis came back")
        assert running.process.poll() is None  # still running
    finally:
        running.stop()
        redis.stop()
    assert_routed_exactly_once(3)


def _pause_at(statement: str):
    """A trigger that makes the worker wait, mid-job, on a lock the test holds."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION mantra_test_pause() RETURNS trigger AS $$ BEGIN "
            "PERFORM pg_advisory_lock(4242); PERFORM pg_advisory_unlock(4242); RETURN COALESCE(NEW, OLD); "
            "END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER mantra_test_pause {statement} FOR EACH ROW EXECUTE FUNCTION mantra_test_pause()"
        )


def _waiting_on_the_pause() -> bool:
    with db.engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").first())


@pytest.mark.parametrize(
    "where",
    [
        "BEFORE INSERT ON referral",  # routing: the data key unwrapped, referrals being made
        "BEFORE DELETE ON report_key",  # routing: wrapped to every partner, the intake wrap going
        "BEFORE UPDATE ON notification",  # sending: the mail server has the e-mail, not yet marked sent
    ],
)
def test_a_worker_killed_inside_a_job_loses_nothing_and_routes_once(app, partners, tmp_path, redis_conn, where):
    _, area = partners
    report, _ = stored(marked_submission("KILLED", area.id))
    _pause_at(where)
    hold = db.engine.raw_connection()  # closed for real below, not returned to the pool
    hold.cursor().execute("SELECT pg_advisory_lock(4242)")
    try:
        first = WorkerProcess(app, tmp_path / "first.log")
        wait_for(_waiting_on_the_pause, 30, f"the worker to reach {where}")
        first.kill()
    finally:
        hold.invalidate()  # the lock goes; the killed worker's transaction ends with its connection
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TRIGGER mantra_test_pause ON {where.split()[-1]}")
    with worker(app, tmp_path, "second"):
        wait_for(_everything_done, 60, "the report routed and its e-mails sent")
    assert_routed_exactly_once(1)
    per_email = collections.Counter(m["Message-ID"] for m in _outbox(app))
    assert len(per_email) == 2 and max(per_email.values()) <= 2  # at most one duplicate for the crash


def test_e_mails_refused_by_the_mail_server_are_sent_when_it_accepts_again(app, partners, tmp_path, redis_conn):
    _, area = partners
    with smtp_server() as mail:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mail.port)
        mail.refusing.set()
        for n in range(3):
            stored(marked_submission(f"REFUSED{n}", area.id))
        with worker(app, tmp_path) as running:
            wait_for(lambda: mail.refused >= 8, 60, "the mail server to refuse several attempts")
            mail.refusing.clear()
            wait_for(_everything_done, 60, "every e-mail sent")
        assert "not sent (attempt 1, SMTPDataError)" in running.output()
    assert_routed_exactly_once(3)
    assert len(mail.messages) == 6  # each once: the refusals were recorded, not lost or doubled
    assert max(db.session.scalars(sa.select(Notification.attempts))) > 1
