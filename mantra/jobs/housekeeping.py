"""The housekeeping tick, scheduled every TICK_SECONDS by the workers (RQ's
own scheduler): the sweeper and the deadline watch. Each part is one
transaction and idempotent, so two ticks at once do no harm."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..domain import audit, exports, levels, notices, queue, retention
from ..extensions import db
from ..models import Notification, NotificationKind, Referral, ReferralStatus, Report, ReportStatus, utcnow

log = logging.getLogger(__name__)
_BATCH = 500


def tick() -> str:
    swept = sweep()
    escalated = escalate_overdue()
    published = publish_levels()
    kept = apply_retention()
    forgotten = notices.forget_closed_addresses()
    chained = audit.chain()
    db.session.commit()
    return (
        f"swept {swept}, escalated {escalated}, {published}, {kept}, "
        f"{forgotten} news addresses erased, chained {chained} audit events"
    )


def apply_retention() -> str:
    """Drafts and follow-up sessions past their time, every tick; once a day,
    the retention rules: erase what was planned a day ago and is still due,
    then plan the next (domain/retention.py). Each part is idempotent, so a
    second run in a day (the day's marker lost with Redis) does no harm."""
    now = utcnow()
    drafts = retention.sweep_drafts(now)
    db.session.commit()
    if not queue.connection().set(f"mantra:retention:{now:%Y-%m-%d}", 1, nx=True, ex=26 * 3600):
        return f"removed {drafts} old drafts"
    erased = retention.apply(now)
    db.session.commit()
    retention.shred_keys(erased)
    retention.shred_recent(now)
    retention.sweep_orphan_keys(now)
    planned = retention.plan(now)
    audit.record("retention.planned", reports=[r.id for r, _rule in planned], erased=[e.reference for e in erased])
    for e in erased:
        log.info("retention: erased %s", e.reference)
    db.session.commit()
    return f"removed {drafts} old drafts, erased {len(erased)} reports, {len(planned)} due for erasure"


def publish_levels() -> str:
    """From the first of each month: last month's reporting levels are made
    and kept as published, and coordinators are told (once: the key is the month)."""
    month = exports.whole_month_before(utcnow())
    if db.session.scalar(sa.select(Notification.id).where(Notification.dedupe_key == f"levels/{month:%Y-%m}")):
        return "levels already published"
    if not db.session.scalar(sa.select(Report.id).where(Report.submitted_at < levels.bounds(month)[1]).limit(1)):
        return "no levels to publish yet"  # a new service: no month with reports is over
    ready = exports.publish_last_month(utcnow(), current_app.config["SUPPRESSION_RULE"])
    db.session.commit()
    if ready is not None:
        queue.enqueue_notification(ready)
    return f"levels for {month:%Y-%m} published"


def sweep() -> int:
    """Queue again whatever waits too long: reports still unrouted (Redis was
    down when they were sent, a worker died mid-job) and e-mails unsent."""
    before = utcnow() - timedelta(seconds=current_app.config["SWEEP_AFTER_SECONDS"])
    reports = db.session.scalars(
        sa.select(Report.id)
        .where(Report.status == ReportStatus.RECEIVED, Report.held_reason.is_(None), Report.submitted_at < before)
        .order_by(Report.id)
        .limit(_BATCH)
    ).all()
    unsent = db.session.scalars(
        sa.select(Notification.id)
        .where(Notification.sent_at.is_(None), Notification.next_attempt_at < before)
        .order_by(Notification.id)
        .limit(_BATCH)
    ).all()
    db.session.rollback()
    for report_id in reports:
        queue.enqueue_routing(report_id)
    for notification_id in unsent:
        queue.enqueue_notification(notification_id)
    if reports or unsent:
        log.warning("sweeper queued again %s report(s) and %s e-mail(s)", len(reports), len(unsent))
    return len(reports) + len(unsent)


def escalate_overdue() -> int:
    """Referrals not acknowledged by their deadline go to the partner's duty
    lead and the coordinators, once: `escalated_at` is set in the same
    transaction, under a row lock, and the e-mail's key is the referral's."""
    overdue = db.session.scalars(
        sa.select(Referral)
        .where(
            Referral.status == ReferralStatus.NEW,
            Referral.acknowledged_at.is_(None),
            Referral.escalated_at.is_(None),
            Referral.ack_due_at < utcnow(),
        )
        .order_by(Referral.ack_due_at)
        .limit(_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    to_send = []
    for referral in overdue:
        referral.escalated_at = utcnow()
        audit.record(
            "referral.escalated",
            report_id=referral.report_id,
            partner_id=referral.partner_id,
            referral_id=referral.id,
            due=referral.ack_due_at.isoformat(),
        )
        to_send.append(
            notices.add(
                NotificationKind.ESCALATION,
                f"escalation/{referral.id}",
                referral_id=referral.id,
                report_id=referral.report_id,
                partner_id=referral.partner_id,
            )
        )
    db.session.commit()
    for notification_id in to_send:
        if notification_id is not None:
            queue.enqueue_notification(notification_id)
    return len(overdue)
