"""Route a report (DESIGN section 4, flow 2, and section 5), in one transaction.

The report row is locked first, so two runs of the job (a retry, a sweep,
a second worker) route it once: the second finds the intake wrap gone.
Whatever the web tier wrote is checked before it is trusted: the routing
facets against the hash bound into the intake wrap, each partner's public
key against the pins in the worker's own configuration.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..crypto import vault
from ..domain import audit, deadlines, facets, intake, keyring, notices, pins, queue, rules
from ..extensions import db
from ..models import NotificationKind, RecipientKind, Referral, Report, ReportKey, ReportStatus, utcnow

log = logging.getLogger(__name__)


def route_report(report_id: int) -> str:
    report = db.session.scalar(sa.select(Report).where(Report.id == report_id).with_for_update())
    wrap = db.session.scalar(
        sa.select(ReportKey).where(ReportKey.report_id == report_id, ReportKey.recipient == RecipientKind.INTAKE)
    )
    if report is None or report.held_reason or report.status != ReportStatus.RECEIVED or wrap is None:
        db.session.rollback()
        return "nothing to do"  # routed already (its e-mails are the sweeper's), held, or gone

    try:
        locked = vault.unwrap(
            wrap.wrap, keyring.intake_private(), intake.intake_info(report)
        )  # the worker never needs the data key itself
    except vault.VaultError:
        return _hold(report, "facets-changed")
    bound = facets.routing_facets(report)
    partners = rules.recipients(bound)
    pinned = pins.read()
    if not partners:
        return _hold(report, "no-partner")
    if not all(pins.is_pinned(p, pinned) for p in partners):
        return _hold(report, "key-not-pinned", partners=[p.id for p in partners])

    now = utcnow()
    urgent = bound["flag_ongoing_risk"]
    wrapped = set(
        db.session.scalars(sa.select(ReportKey.partner_id).where(ReportKey.report_id == report.id))
    )  # a centre that sent it holds a wrap already
    to_send = []
    for partner in partners:
        referral = Referral(
            report_id=report.id,
            partner_id=partner.id,
            urgent=urgent,
            created_at=now,
            ack_due_at=deadlines.ack_due(partner, report.submitted_at, urgent),
        )
        db.session.add(referral)
        if partner.id not in wrapped:
            public = vault.PublicKey(partner.public_key)
            db.session.add(intake.wrap_for(report.id, locked, RecipientKind.PARTNER, partner.id, public))
        db.session.flush()
        to_send.append(
            notices.add(
                NotificationKind.NEW_REFERRAL, f"referral/{referral.id}", referral_id=referral.id, report_id=report.id
            )
        )
    db.session.add(intake.wrap_for(report.id, locked, RecipientKind.RECOVERY, None, keyring.recovery_public()))
    db.session.delete(wrap)  # from now on the intake key opens nothing of this report
    report.status = ReportStatus.ROUTED
    report.routed_at = now
    to_send.append(notices.reporter_news(report, "routed"))
    audit.record("report.routed", report_id=report.id, partners=[p.id for p in partners], urgent=urgent)
    db.session.commit()
    for notification_id in to_send:
        if notification_id is not None:
            queue.enqueue_notification(notification_id)
    return f"routed to {len(partners)}"


def _hold(report: Report, reason: str, **detail) -> str:
    """Refuse: keep the report sealed where it is, tell the security contact."""
    report.held_reason = reason
    audit.record("report.held", report_id=report.id, reason=reason, **detail)
    alert = notices.add(NotificationKind.ALERT, f"alert/{reason}/{report.id}", report_id=report.id, reason=reason)
    db.session.commit()
    log.error("report %s held, not routed: %s", report.id, reason)
    if alert is not None:
        queue.enqueue_notification(alert)
    return f"held: {reason}"
