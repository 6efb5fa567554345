"""Duplicates: one incident reported more than once (the victim, a witness,
a centre on their behalf: DESIGN 4a), found from facets and linked by staff.

Everything here reads facets only, and only reports the partner holds a
referral for: a candidate or a linked report is always shown as this
partner's own referral, never as a report it cannot open. A link belongs to
the pair of reports, not to the partner that made it, so any partner holding
both sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    WITHDRAWN,
    Channel,
    IncidentKind,
    Referral,
    Report,
    ReporterRole,
    ReportKind,
    ReportLink,
    ReportStrand,
    StaffUser,
    Strand,
)
from .casework import audit_referral, referral_for

# Reports of one incident come in within days of each other: the victim
# that evening, a witness the next day, a centre when the victim calls in
# that week. A week catches those without flooding the list with unrelated
# reports from a busy area.
LIKELY_DAYS = 7

# Strands that say nothing about which incident it was: sharing them is no sign.
_VAGUE_STRANDS = (Strand.OTHER, Strand.NOT_SURE)


@dataclass(frozen=True)
class Candidate:
    """A report that may be the same incident, as this partner's referral."""

    referral_id: int
    reference: str
    submitted_at: datetime
    reporter_role: ReporterRole
    channel: Channel
    strands: tuple[Strand, ...]  # the ones both reports have
    kinds: tuple[IncidentKind, ...]  # the ones both reports have


# A report linked to this one, as this partner's referral: the same fields
# (strands and kinds are then the other report's own).
LinkedReport = Candidate


def _values(joined: str | None, enum) -> tuple:
    """A database-aggregated list back into enum members, in the enum's order."""
    found = set(joined.split(",")) if joined else set()
    return tuple(member for member in enum if member.value in found)


def _listed(column, report_id, shared_with=None, leave_out=()):
    """The values of a report's strand or kind rows as one "a,b" string (NULL
    when there are none), optionally only those another report has too."""
    table = column.class_
    rows = sa.select(sa.func.aggregate_strings(column, ",")).where(table.report_id == report_id)
    if shared_with is not None:
        other = aliased(table)
        rows = rows.join(other, sa.and_(other.report_id == shared_with, getattr(other, column.key) == column))
    if leave_out:
        rows = rows.where(column.not_in(leave_out))
    return rows.scalar_subquery()


def _epoch(moment):
    return sa.extract("epoch", moment)  # seconds, on PostgreSQL and SQLite alike


def _link_between(a, b):
    """Whether a link row exists for the pair, whichever way round it is named."""
    return sa.exists().where(
        sa.or_(
            sa.and_(ReportLink.report_id == a, ReportLink.other_report_id == b),
            sa.and_(ReportLink.report_id == b, ReportLink.other_report_id == a),
        )
    )


def likely(referral: Referral, limit: int = 10) -> list[Candidate]:
    """Reports this partner also holds that look like the same incident: same
    area, a strand and a kind in common, submitted within LIKELY_DAYS, the
    same incident month when both say one; not linked already. Closest in
    time first. One query: the database compares the facets."""
    mine = aliased(Report, name="mine")
    theirs = aliased(Report, name="theirs")
    held = aliased(Referral, name="held")
    strands = _listed(ReportStrand.strand, theirs.id, shared_with=mine.id, leave_out=_VAGUE_STRANDS)
    kinds = _listed(ReportKind.kind, theirs.id, shared_with=mine.id)
    gap = sa.func.abs(_epoch(theirs.submitted_at) - _epoch(mine.submitted_at))
    rows = db.session.execute(
        sa.select(
            held.id,
            theirs.reference,
            theirs.submitted_at,
            theirs.reporter_role,
            theirs.channel,
            strands.label("strands"),
            kinds.label("kinds"),
        )
        .select_from(held)
        .join(theirs, theirs.id == held.report_id)
        .join(mine, mine.id == referral.report_id)
        .where(
            held.partner_id == referral.partner_id,  # only reports this partner holds
            held.outcome.is_distinct_from(WITHDRAWN),  # and still may: consent not withdrawn
            theirs.id != mine.id,
            theirs.area_id == mine.area_id,  # NULL equals nothing: an unknown area matches no area
            gap <= LIKELY_DAYS * 24 * 3600,
            sa.or_(
                mine.incident_month.is_(None),
                theirs.incident_month.is_(None),
                theirs.incident_month == mine.incident_month,
            ),
            strands.is_not(None),
            kinds.is_not(None),
            ~_link_between(mine.id, theirs.id),
        )
        .order_by(gap, theirs.id)
        .limit(limit)
    )
    return _as_reports(rows)


def _as_reports(rows) -> list[Candidate]:
    return [
        Candidate(
            row.id,
            row.reference,
            row.submitted_at,
            row.reporter_role,
            row.channel,
            _values(row.strands, Strand),
            _values(row.kinds, IncidentKind),
        )
        for row in rows
    ]


def linked(referral: Referral) -> list[LinkedReport]:
    """The reports linked to this referral's report that this partner holds
    too (a link another partner made to a report this one does not hold is
    not shown, nor is that there is one)."""
    this = referral.report_id
    other_id = sa.case((ReportLink.report_id == this, ReportLink.other_report_id), else_=ReportLink.report_id)
    theirs = aliased(Report, name="theirs")
    held = aliased(Referral, name="held")
    rows = db.session.execute(
        sa.select(
            held.id,
            theirs.reference,
            theirs.submitted_at,
            theirs.reporter_role,
            theirs.channel,
            _listed(ReportStrand.strand, theirs.id).label("strands"),
            _listed(ReportKind.kind, theirs.id).label("kinds"),
        )
        .select_from(ReportLink)
        .join(theirs, theirs.id == other_id)
        .join(
            held,
            sa.and_(
                held.report_id == theirs.id,
                held.partner_id == referral.partner_id,
                held.outcome.is_distinct_from(WITHDRAWN),
            ),
        )
        .where(sa.or_(ReportLink.report_id == this, ReportLink.other_report_id == this))
        .order_by(theirs.submitted_at, theirs.id)
    )
    return _as_reports(rows)


def _pair(user: StaffUser, referral: Referral, other_referral_id: int) -> tuple[int, int] | None:
    """The two report ids, lower first, if both referrals are the member's own
    partner's and name different reports; None otherwise."""
    if referral.partner_id != user.partner_id:
        return None
    other = referral_for(user, other_referral_id)  # another partner's looks like none
    if other is None or other.report_id == referral.report_id or WITHDRAWN in (referral.outcome, other.outcome):
        return None
    return min(referral.report_id, other.report_id), max(referral.report_id, other.report_id)


def _audit(action: str, user: StaffUser, referral: Referral, pair: tuple[int, int]) -> None:
    audit_referral(action, user, referral, other_report_id=pair[1] if pair[0] == referral.report_id else pair[0])


def _existing(pair: tuple[int, int]) -> ReportLink | None:
    return db.session.scalar(
        sa.select(ReportLink).where(ReportLink.report_id == pair[0], ReportLink.other_report_id == pair[1])
    )


def link(user: StaffUser, referral: Referral, other_referral_id: int) -> bool:
    """Link the two referrals' reports as one incident. False (nothing written)
    unless the other referral is this partner's and another report; linking
    a linked pair again changes nothing. The caller commits."""
    pair = _pair(user, referral, other_referral_id)
    if pair is None:
        return False
    if _existing(pair) is None:
        try:
            with db.session.begin_nested():  # two members linking the same pair at once: one link, no error
                db.session.add(
                    ReportLink(
                        report_id=pair[0], other_report_id=pair[1], linked_by_id=user.id, partner_id=user.partner_id
                    )
                )
        except sa.exc.IntegrityError:
            return True
        _audit("report.linked", user, referral, pair)
    return True


def unlink(user: StaffUser, referral: Referral, other_referral_id: int) -> bool:
    """Undo a link, whichever partner made it (this one holds both reports).
    False (nothing written) on the same terms as `link`; unlinking a pair that
    is not linked changes nothing. The caller commits."""
    pair = _pair(user, referral, other_referral_id)
    if pair is None:
        return False
    existing = _existing(pair)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
        _audit("report.unlinked", user, referral, pair)
    return True
