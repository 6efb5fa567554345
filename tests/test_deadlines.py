"""Acknowledgement deadlines in working days, and escalation, once, when one is missed."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from mantra.domain import deadlines
from mantra.extensions import db
from mantra.models import AuditEvent, Notification, NotificationKind, Partner, Referral, StaffRole

from .factories import make_partners, make_user, marked_submission, stored
from .test_routing import _outbox
from .workers import wait_for, worker

LONDON = deadlines.LOCAL


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def test_a_working_day_skips_weekends_and_bank_holidays():
    add = deadlines.add_working_hours
    assert add(_at(2026, 11, 25, 15), 24) == _at(2026, 11, 26, 15)  # Wednesday to Thursday
    assert add(_at(2026, 11, 27, 15), 24) == _at(2026, 11, 30, 15)  # Friday to Monday
    assert add(_at(2026, 11, 28, 12), 24) == _at(2026, 12, 1, 0)  # sent on Saturday: all of Monday
    # Christmas Eve: Christmas Day, the weekend and Boxing Day (observed, the 28th) do not count.
    assert add(_at(2026, 12, 24, 10), 24) == _at(2026, 12, 29, 10)
    assert add(_at(2027, 3, 25, 9), 4) == _at(2027, 3, 25, 13)  # four hours of a Thursday
    assert add(_at(2027, 3, 25, 22), 4) == _at(2027, 3, 30, 2)  # Good Friday, weekend, Easter Monday skipped


def test_the_urgent_deadline_runs_on_the_clock_weekends_included():
    partner = Partner(ack_sla_hours=24, urgent_ack_sla_hours=2)
    sunday = _at(2026, 11, 29, 23, 30)
    assert deadlines.ack_due(partner, sunday, urgent=True) == sunday + timedelta(hours=2)
    assert deadlines.ack_due(partner, sunday, urgent=False) == _at(2026, 12, 1, 0)


def test_a_missed_deadline_is_escalated_once_to_the_duty_lead_and_the_coordinators(app, tmp_path, redis_conn):
    from mantra.jobs.housekeeping import escalate_overdue
    from mantra.jobs.route import route_report

    partners, area = make_partners(police_rule=True)
    police = partners["tvp-oxford"][0]
    police.duty_lead_email = "duty-inspector@tvp.example"
    make_user(partners["victim-support"][0], email="coordinator@partnership.example", role=StaffRole.COORDINATOR)
    report, _ = stored(marked_submission("LATE", area.id))
    route_report(report.id)
    referral = db.session.scalar(sa.select(Referral))
    referral.ack_due_at = referral.created_at - timedelta(minutes=1)  # as if a working day had passed
    db.session.commit()

    with worker(app, tmp_path):  # ticks every second: several ticks see the same breach
        wait_for(lambda: any("Overdue" in m["Subject"] for m in _outbox(app)), what="the escalation e-mail")
        wait_for(lambda: len(_outbox(app)) >= 2, what="the referral e-mail too")
        first = db.session.get(Referral, referral.id).escalated_at
        assert escalate_overdue() == 0  # a later tick finds nothing new

    escalations = [m for m in _outbox(app) if "Overdue" in m["Subject"]]
    assert len(escalations) == 1 and report.reference in escalations[0]["Subject"]
    assert set(escalations[0]["To"].split(", ")) == {"duty-inspector@tvp.example", "coordinator@partnership.example"}
    assert "LATE" not in escalations[0].as_string()
    assert db.session.get(Referral, referral.id).escalated_at == first is not None
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "referral.escalated")) == 1
    kinds = db.session.scalars(sa.select(Notification.kind)).all()
    assert kinds.count(NotificationKind.ESCALATION) == 1
