"""Consent after sending (DESIGN 4a): the person, or a reporting centre on
their behalf, stops an organisation seeing their report, or stops it being
passed to any more.

Withdrawing is crypto-revocation, not a flag: the partner's wrap of the
report's key is deleted, so its members' keys no longer open the report (a
backup of that row stops opening once the report is erased). Its referral is
closed as "consent withdrawn", the partner is told without content, and the
audit trail records who withdrew it, never why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    WITHDRAWN,
    IncidentType,
    NotificationKind,
    Partner,
    RecipientKind,
    Referral,
    ReferralStatus,
    Report,
    ReportKey,
    ReportStatus,
    utcnow,
)
from . import audit, notices


@dataclass(frozen=True)
class Holder:
    """An organisation that has (or had) the report, as its reporter is shown it."""

    partner_id: int
    name: str
    is_police: bool
    withdrawn_at: datetime | None  # None: it can still open the report


def holders(report_id: int) -> list[Holder]:
    """Every organisation the report was passed to, in the order it got it."""
    rows = db.session.execute(
        sa.select(Partner.id, Partner.name, Partner.is_police, Referral.outcome, Referral.closed_at)
        .join(Referral, Referral.partner_id == Partner.id)
        .where(Referral.report_id == report_id)
        .order_by(Referral.created_at, Referral.id)
    )
    return [
        Holder(i, name, police, closed if outcome == WITHDRAWN else None) for i, name, police, outcome, closed in rows
    ]


def holder(report_id: int, partner_id: int) -> Holder | None:
    """The organisation if it can still open the report; None otherwise."""
    return next((h for h in holders(report_id) if h.partner_id == partner_id and h.withdrawn_at is None), None)


def what_it_means(report: Report, holder: Holder) -> dict:
    """What the "stop sharing" page says beyond the rule itself: a police
    partner and a crime are warned about; the last organisation is named so."""
    others = [h for h in holders(report.id) if h.withdrawn_at is None and h.partner_id != holder.partner_id]
    return {
        "report": report,
        "holder": holder,
        "police_crime": holder.is_police and report.incident_type == IncidentType.CRIME,
        "last": not others,
    }


def withdraw(report: Report, partner_id: int, *, by: str, actor_id: int | None = None) -> list[int]:
    """Stop one organisation seeing the report, in the caller's transaction.

    Returns the ids of the e-mails to queue after commit: the content-free
    one telling the partner, and, when a centre did it for the person, news
    for them. Empty if there was nothing to withdraw (it never had the
    report, or it was withdrawn already). Withdrawing from a police partner
    also withdraws consent to share with the police, so no police partner can
    be given it later."""
    lock_report(report.id)
    referral = db.session.scalar(
        sa.select(Referral).where(Referral.report_id == report.id, Referral.partner_id == partner_id).with_for_update()
    )
    if referral is None or referral.outcome == WITHDRAWN:
        return []
    partner = db.session.get(Partner, partner_id)
    removed = db.session.execute(
        sa.delete(ReportKey).where(
            ReportKey.report_id == report.id,
            ReportKey.recipient == RecipientKind.PARTNER,
            ReportKey.partner_id == partner_id,
        )
    ).rowcount
    now = utcnow()
    referral.status = ReferralStatus.CLOSED
    referral.closed_at = now
    referral.outcome = WITHDRAWN
    referral.keep_reason = None  # a reason to keep it was this partner's; it no longer has it
    if partner.is_police:
        report.consent_police = False
    db.session.flush()
    still_open = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Referral)
        .where(Referral.report_id == report.id, Referral.status != ReferralStatus.CLOSED)
    )
    if not still_open:  # its news address is erased once any news waiting has gone (housekeeping)
        report.status = ReportStatus.CLOSED
    audit.record(
        "consent.withdrawn",
        actor_id=actor_id,
        partner_id=partner_id,
        report_id=report.id,
        referral_id=referral.id,
        by=by,
        wraps_deleted=removed,
    )
    told = notices.add(
        NotificationKind.CONSENT_WITHDRAWN,
        f"withdrawn/{referral.id}",
        referral_id=referral.id,
        report_id=report.id,
        partner_id=partner_id,
    )
    news = notices.reporter_news(report, f"withdrawn-{partner_id}") if by == "centre" else None
    return [n for n in (told, news) if n is not None]


def lock_report(report_id: int) -> None:
    """Changes to who holds a report take turns: a withdrawal, a referral
    closed, a report referred on or "no more" at the same moment each see
    what the other did (whether the report is now closed, what consent says).
    FOR NO KEY UPDATE: a row being added that points at the report (a message,
    an audit event) does not wait for it, nor it for them."""
    db.session.execute(sa.select(Report.id).where(Report.id == report_id).with_for_update(key_share=True))


def stop_passing_on(report: Report, *, by: str, actor_id: int | None = None) -> bool:
    """No more organisations: the report is not passed on to anyone who does
    not have it already (police included). False if that was so already, or
    if it has not been routed yet: its routing answers are bound into the
    intake key's wrap until then, and changing one would hold it."""
    lock_report(report.id)
    db.session.refresh(report)
    if report.routed_at is None or not (report.consent_partners or report.consent_police):
        return False
    report.consent_partners = False
    report.consent_police = False
    audit.record("consent.narrowed", actor_id=actor_id, report_id=report.id, by=by)
    return True
