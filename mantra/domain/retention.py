"""Erasure by crypto-shredding, and the retention rules that decide when
(DESIGN section 4, flow 6).

Erasing a report deletes every wrap of its data key, the sealed blobs (the
report's, its messages', notes' and files') and the sealed address for news,
in one transaction with an audit event saying what was erased and why, never
what it said; then its shred key in the key store, which no backup of the
main database holds. Facets stay, for the reporting levels.

The rules (settings, `RETENTION_*`):

- a hate crime: erased `RETAIN_CRIME_DAYS` after its last referral closed;
- a non-crime hate incident (or one not yet known to be a crime): kept that
  long only where a partner recorded a reason (a real risk of significant
  harm or of a future offence, as the 2023 code of practice asks); otherwise
  erased `RETAIN_INCIDENT_DAYS` after its last referral closed;
- a report with any referral still open is never due.

The daily pass plans first and erases a day later: what it would erase is
marked (`erase_after`), listed by `flask mantra retention`, and erased only
if it is still due when that time comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (
    Attachment,
    Draft,
    DraftFile,
    IncidentType,
    Message,
    Note,
    Referral,
    ReferralStatus,
    Report,
    ReportKey,
    utcnow,
)
from . import audit, shredding

NOTICE = timedelta(days=1)  # between planning an erasure and doing it


@dataclass
class Erased:
    reference: str
    shred_id: str | None
    wraps: int
    messages: int
    notes: int
    files: int


def erase(report: Report, reason: str, *, rule: str | None = None, actor_id: int | None = None) -> Erased:
    """Erase one report's content, in the caller's transaction; the caller
    commits, then calls `shred_keys` (the key store is another database)."""
    wraps = db.session.execute(sa.delete(ReportKey).where(ReportKey.report_id == report.id)).rowcount
    files = db.session.execute(sa.delete(Attachment).where(Attachment.report_id == report.id)).rowcount
    messages = db.session.execute(
        sa.update(Message).where(Message.report_id == report.id).values(sealed_body=b"")
    ).rowcount
    referrals = sa.select(Referral.id).where(Referral.report_id == report.id)
    notes = db.session.execute(sa.update(Note).where(Note.referral_id.in_(referrals)).values(sealed_body=b"")).rowcount
    now = utcnow()
    db.session.execute(  # anything still open is closed: there is nothing left to work on
        sa.update(Referral)
        .where(Referral.report_id == report.id, Referral.status != ReferralStatus.CLOSED)
        .values(status=ReferralStatus.CLOSED, closed_at=now)
    )
    report.sealed_account = report.sealed_contact = report.sealed_monitoring = None
    report.notify_wrap = None
    report.erased_at, report.erase_after = now, None
    erased = Erased(report.reference, report.shred_id, wraps, messages, notes, files)
    audit.record(
        "report.erased",
        actor_id=actor_id,
        report_id=report.id,
        reason=reason,
        rule=rule,
        erased={"key wraps": wraps, "messages": messages, "notes": notes, "files": files, "shred key": 1},
    )
    return erased


def shred_keys(erased: list[Erased]) -> int:
    """After the erasures committed: delete their shred keys."""
    return shredding.shred([e.shred_id for e in erased if e.shred_id])


def shred_recent(now: datetime) -> int:
    """Shred keys of reports erased in the last week, again: a key store out of
    reach when an erasure committed is caught up with here."""
    recent = db.session.scalars(sa.select(Report.shred_id).where(Report.erased_at >= now - timedelta(days=7)))
    return shredding.shred([shred_id for shred_id in recent if shred_id])


# --- the rules ----------------------------------------------------------------------


def _days(name: str) -> timedelta:
    return timedelta(days=current_app.config[name])


def due(now: datetime):
    """(report, rule) for every report the rules say to erase by `now`."""
    last_closed = (
        sa.select(Referral.report_id, sa.func.max(Referral.closed_at).label("closed_at"))
        .group_by(Referral.report_id)
        .having(sa.func.count().filter(Referral.status != ReferralStatus.CLOSED) == 0)
        .subquery()
    )
    kept = sa.exists().where(Referral.report_id == Report.id, Referral.keep_reason.is_not(None))
    crime = Report.incident_type == IncidentType.CRIME
    rules = {
        "crime": sa.and_(crime, last_closed.c.closed_at <= now - _days("RETAIN_CRIME_DAYS")),
        "incident-kept": sa.and_(~crime, kept, last_closed.c.closed_at <= now - _days("RETAIN_CRIME_DAYS")),
        "incident": sa.and_(~crime, ~kept, last_closed.c.closed_at <= now - _days("RETAIN_INCIDENT_DAYS")),
    }
    which = sa.case(*((test, name) for name, test in rules.items()))
    query = (
        sa.select(Report, which)
        .join(last_closed, last_closed.c.report_id == Report.id)
        .where(Report.erased_at.is_(None), sa.or_(*rules.values()))
        .order_by(Report.id)
    )
    return db.session.execute(query).all()


def plan(now: datetime) -> list[tuple[Report, str]]:
    """Mark what is due for erasure a day from now; unmark what no longer is
    (a partner recorded a reason to keep it, a referral was reopened)."""
    found = due(now)
    due_ids = [r.id for r, _rule in found]
    db.session.execute(
        sa.update(Report)
        .where(Report.erase_after.is_not(None), Report.id.not_in(due_ids) if due_ids else sa.true())
        .values(erase_after=None)
    )
    for report, _rule in found:
        if report.erase_after is None:
            report.erase_after = now + NOTICE
    return found


def apply(now: datetime) -> list[Erased]:
    """Erase what was planned at least a day ago and is still due. The caller
    commits, then shreds the keys (`shred_keys`)."""
    return [
        erase(report, "retention rule", rule=rule)
        for report, rule in due(now)
        if report.erase_after is not None and report.erase_after <= now
    ]


def sweep_orphan_keys(now: datetime) -> int:
    """Shred keys made a day to a week ago whose report never arrived (the
    sending failed after the key was committed): they lock nothing; delete them."""
    made = shredding.made_between(now - timedelta(days=7), now - timedelta(days=1))
    used = set()
    for start in range(0, len(made), 1000):
        batch = made[start : start + 1000]
        used.update(db.session.scalars(sa.select(Report.shred_id).where(Report.shred_id.in_(batch))))
    return shredding.shred([shred_id for shred_id in made if shred_id not in used])


def sweep_drafts(now: datetime) -> int:
    """Drafts and follow-up sessions past their time (they hold sealed answers and keys)."""
    expired = sa.select(Draft.id).where(Draft.expires_at <= now)
    db.session.execute(sa.delete(DraftFile).where(DraftFile.draft_id.in_(expired)))
    return db.session.execute(
        sa.delete(Draft).where(Draft.expires_at <= now), execution_options={"synchronize_session": False}
    ).rowcount
