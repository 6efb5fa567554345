"""A partner member's work on a referral: opening the report (DESIGN flow 3:
user key -> partner key -> the report's data key) and acknowledging it.

Every row read here is one the web tier could have written, so each step is
checked: the grant must open with this user's key, the partner key it holds
must be this partner's (its public half matches the partner row), and the
report's wrap must open with that key and the ids it names. Anything that
does not open is refused (CaseworkError), never shown as if it were genuine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import (
    KEEP_REASONS,
    OUTCOME_LABELS,
    WITHDRAWN,
    AuditEvent,
    Message,
    MessageDirection,
    Note,
    NotificationKind,
    Partner,
    PartnerKind,
    RecipientKind,
    Referral,
    ReferralStatus,
    ReplyTemplate,
    Report,
    ReportKey,
    ReportStatus,
    StaffRole,
    StaffUser,
    utcnow,
)
from . import audit, consent, deadlines, evidence, facets, intake, messages, notices, pins, rules
from .accounts import GrantError, partner_key_for
from .intake import OpenedReport, report_key_info

OUTCOMES = tuple(OUTCOME_LABELS)  # how a referral can end: a fixed list, so outcomes can be counted


def audit_referral(action: str, user: StaffUser, referral: Referral, **detail) -> None:
    """An action on a referral, by a member: ids only, never content."""
    audit.record(
        action,
        actor_id=user.id,
        partner_id=referral.partner_id,
        report_id=referral.report_id,
        referral_id=referral.id,
        **detail,
    )


class CaseworkError(Exception):
    """The member's keys do not open this report (no grant, or a row altered)."""


@dataclass
class Step:
    """One thing that happened to a report, as its reporter is told: never
    content, never a staff note; only when, what, and which organisation."""

    at: datetime
    what: str  # received, passed, acknowledged, message_in, message_out, closed, withdrawn
    partner: str | None = None
    outcome: str | None = None  # for "closed": an OUTCOME_LABELS key


def reporter_timeline(report: Report) -> list[Step]:
    """What has happened to the report, oldest first, from its referrals' and
    messages' timestamps (the referral events), in a few queries."""
    steps = [Step(report.submitted_at, "received")]
    referrals = db.session.execute(
        sa.select(Referral.created_at, Referral.acknowledged_at, Referral.closed_at, Referral.outcome, Partner.name)
        .join(Partner, Partner.id == Referral.partner_id)
        .where(Referral.report_id == report.id)
    )
    for created, acknowledged, closed, outcome, name in referrals:
        steps.append(Step(created, "passed", name))
        if acknowledged is not None:
            steps.append(Step(acknowledged, "acknowledged", name))
        if closed is not None and outcome in OUTCOME_LABELS:
            steps.append(Step(closed, "closed", name, outcome))
        elif closed is not None and outcome == WITHDRAWN:
            steps.append(Step(closed, "withdrawn", name))
    sent = db.session.execute(
        sa.select(Message.created_at, Message.direction, Partner.name)
        .outerjoin(Partner, Partner.id == Message.partner_id)
        .where(Message.report_id == report.id)
    )
    for at, direction, name in sent:
        steps.append(Step(at, "message_out" if direction == MessageDirection.FROM_REPORTER else "message_in", name))
    return sorted(steps, key=lambda step: step.at)


def referral_for(user: StaffUser, referral_id: int) -> Referral | None:
    """The referral if it is to the member's own partner; None otherwise, so
    another partner's referral looks the same as one that does not exist."""
    return db.session.scalar(
        sa.select(Referral).where(Referral.id == referral_id, Referral.partner_id == user.partner_id)
    )


def partner_key(user: StaffUser, user_key: vault.PrivateKey) -> vault.PrivateKey:
    try:
        return partner_key_for(user, user_key, db.session.get(Partner, user.partner_id))
    except GrantError as exc:
        raise CaseworkError(str(exc)) from None


def open_referral(user: StaffUser, user_key: vault.PrivateKey, referral: Referral) -> OpenedReport:
    """The report behind the referral, opened with the member's keys; audited."""
    key = partner_key(user, user_key)
    wrap = db.session.scalar(
        sa.select(ReportKey.wrap).where(
            ReportKey.report_id == referral.report_id,
            ReportKey.recipient == RecipientKind.PARTNER,
            ReportKey.partner_id == referral.partner_id,
        )
    )
    if wrap is None:
        raise CaseworkError("no wrap")
    try:
        locked = vault.unwrap(
            wrap, key, report_key_info(referral.report_id, RecipientKind.PARTNER, referral.partner_id)
        )
        opened = intake.open_locked(referral.report_id, locked)
    except vault.VaultError:  # altered, or erased (its shred key is gone)
        raise CaseworkError("wrap does not open") from None
    audit_referral("referral.viewed", user, referral)
    return opened


def acknowledge(user: StaffUser, referral: Referral) -> int | None:
    """Mark a new referral acknowledged; returns the id of a "there is news"
    e-mail for the reporter (if they asked for them), to queue after commit."""
    if referral.status != ReferralStatus.NEW:
        return None
    referral.status = ReferralStatus.ACKNOWLEDGED
    referral.acknowledged_at = utcnow()
    audit_referral("referral.acknowledged", user, referral)
    return notices.reporter_news(db.session.get(Report, referral.report_id), f"acknowledged-{referral.partner_id}")


def _in_progress(referral: Referral) -> None:
    if referral.status in (ReferralStatus.NEW, ReferralStatus.ACKNOWLEDGED):
        referral.status = ReferralStatus.IN_PROGRESS
        referral.acknowledged_at = referral.acknowledged_at or utcnow()


def message_reporter(
    user: StaffUser, opened: OpenedReport, referral: Referral, body: str, *, asks: bool = False
) -> int | None:
    """A message to the reporter, sealed with the report's key; returns the id
    of a "there is news" e-mail (if they asked for them) to queue after commit."""
    message_id = messages.add_message(
        opened, body, MessageDirection.TO_REPORTER, partner_id=referral.partner_id, author_id=user.id, asks=asks
    )
    _in_progress(referral)
    report = db.session.get(Report, referral.report_id)
    if report.status != ReportStatus.CLOSED:
        report.status = ReportStatus.IN_PROGRESS
    return notices.reporter_news(report, f"message-{message_id}")


def reply_templates(partner_id: int) -> list[ReplyTemplate]:
    """The partner's ready-made first messages, by name."""
    return list(
        db.session.scalars(
            sa.select(ReplyTemplate).where(ReplyTemplate.partner_id == partner_id).order_by(ReplyTemplate.title)
        )
    )


def colleagues(user: StaffUser) -> list[StaffUser]:
    return list(
        db.session.scalars(
            sa.select(StaffUser)
            .where(StaffUser.partner_id == user.partner_id, StaffUser.active, StaffUser.role != StaffRole.CENTRE)
            .order_by(StaffUser.display_name)
        )
    )


def assign(user: StaffUser, referral: Referral, assignee_id: int | None) -> bool:
    """Give the referral to a colleague of the same partner (or to nobody)."""
    if assignee_id is not None and assignee_id not in {c.id for c in colleagues(user)}:
        return False
    referral.assigned_to_id = assignee_id
    _in_progress(referral)
    audit_referral("referral.assigned", user, referral, assignee_id=assignee_id)
    return True


def close(user: StaffUser, referral: Referral, outcome: str) -> int | None:
    """Close with an outcome from OUTCOMES; the report is closed when every
    referral of it is. Returns a "there is news" e-mail's id, or None."""
    if outcome not in OUTCOMES or referral.status == ReferralStatus.CLOSED:
        return None
    consent.lock_report(referral.report_id)  # a withdrawal at the same moment sees this close, and this it
    referral.status = ReferralStatus.CLOSED
    referral.closed_at = utcnow()
    referral.outcome = outcome
    audit_referral("referral.closed", user, referral, outcome=outcome)
    db.session.flush()
    still_open = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Referral)
        .where(Referral.report_id == referral.report_id, Referral.status != ReferralStatus.CLOSED)
    )
    report = db.session.get(Report, referral.report_id)
    if not still_open:
        report.status = ReportStatus.CLOSED
    return notices.reporter_news(report, f"closed-{referral.partner_id}")


def keep(user: StaffUser, referral: Referral, reason: str | None) -> bool:
    """Record (or clear) why this partner keeps a non-crime incident's record
    past the short period (KEEP_REASONS); without a reason from any partner,
    the retention rules erase it. Audited."""
    if reason is not None and reason not in KEEP_REASONS:
        return False
    referral.keep_reason = reason
    audit_referral("referral.keep_reason", user, referral, reason=reason)
    return True


# --- sealed notes: this partner's own, on one referral ----------------------


def _note_key(opened: OpenedReport, partner: vault.PrivateKey, referral: Referral) -> bytes:
    """Needs the report's data key (erasing the report erases its notes) and
    the partner's own key (another partner holding the report cannot read them)."""
    return vault.joint_key(opened.data_key, partner.seed, f"note/{referral.partner_id}/report-{referral.report_id}")


def _note_place(note_id: int, referral: Referral) -> str:
    return f"{note_id}/referral-{referral.id}/report-{referral.report_id}"


def add_note(user: StaffUser, user_key: vault.PrivateKey, opened: OpenedReport, referral: Referral, body: str) -> None:
    key = _note_key(opened, partner_key(user, user_key), referral)
    note = Note(referral_id=referral.id, author_id=user.id, sealed_body=b"", created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    note.sealed_body = vault.seal(key, body.encode(), table="note", row_id=_note_place(note.id, referral), field="body")
    _in_progress(referral)
    audit_referral("referral.note_added", user, referral, note_id=note.id)


def notes(user: StaffUser, user_key: vault.PrivateKey, opened: OpenedReport, referral: Referral) -> list[dict]:
    """The referral's notes, oldest first; one that will not open (moved or
    altered in the database) is shown as such, never as if it were genuine."""
    key = _note_key(opened, partner_key(user, user_key), referral)
    shown = []
    rows = db.session.execute(
        sa.select(Note, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == Note.author_id)
        .where(Note.referral_id == referral.id)
        .order_by(Note.created_at, Note.id)
    )
    for note, author in rows:
        try:
            body = vault.open_sealed(
                key, note.sealed_body, table="note", row_id=_note_place(note.id, referral), field="body"
            ).decode()
        except vault.VaultError:
            body = None
        shown.append({"at": note.created_at, "by": author, "body": body})
    return shown


# --- evidence files ------------------------------------------------------------


def open_file(user: StaffUser, opened: OpenedReport, referral: Referral, attachment_id: int, how: str):
    """One of the report's files, opened for a preview or a download (audited); None if it is not this report's or will not open."""
    found = evidence.open_file(opened, attachment_id)
    if found is not None:
        audit_referral(f"attachment.{how}", user, referral, attachment_id=attachment_id)
    return found


# --- asking the reporter, and referring on ------------------------------------


def ask(user: StaffUser, opened: OpenedReport, referral: Referral, body: str) -> int | None:
    """A message that asks the reporter for more; the referral waits for their reply."""
    news = message_reporter(user, opened, referral, body, asks=True)
    audit_referral("referral.asked", user, referral)
    return news


def _consents(opened: OpenedReport, partner: Partner) -> bool:
    """Consent is a hard limit: the facet and the person's own sealed answer
    must both say yes (a facet column alone could have been changed)."""
    report = opened.report
    name = "consent_police" if partner.is_police else "consent_partners"
    answers = opened.content("account") or {}
    return rules.consented(partner, facets.routing_facets(report)) and answers.get(name) == "yes"


def referable(opened: OpenedReport) -> list[tuple[Partner, bool]]:
    """Partners that do not hold the report yet, each with whether the
    person's consent lets it be referred to them."""
    holding = sa.select(Referral.partner_id).where(Referral.report_id == opened.report_id)
    partners = db.session.scalars(
        sa.select(Partner)
        .where(Partner.active, Partner.kind == PartnerKind.AGENCY, Partner.id.not_in(holding))
        .order_by(Partner.name)
    )
    return [(p, _consents(opened, p)) for p in partners]


class NotPinned(CaseworkError):
    """The partner's public key has not been confirmed by an administrator."""


def refer_on(user: StaffUser, opened: OpenedReport, referral: Referral, partner_id: int) -> int | None:
    """Refer the report on to another partner the person agreed to share with:
    the report's data key is wrapped to that partner's pinned key and they get
    a referral of their own. Returns the id of their "new referral" e-mail, or
    None if the partner cannot be chosen."""
    consent.lock_report(referral.report_id)  # consent as it is now, not as a withdrawal in flight leaves it
    db.session.refresh(opened.report)
    target = next((p for p, ok in referable(opened) if ok and p.id == partner_id), None)
    if target is None:
        return None
    if not pins.is_pinned(target):
        raise NotPinned(f"partner {target.id} key not pinned")
    now = utcnow()
    wrapped = db.session.scalar(
        sa.select(ReportKey.id).where(
            ReportKey.report_id == referral.report_id,
            ReportKey.recipient == RecipientKind.PARTNER,
            ReportKey.partner_id == target.id,
        )
    )
    if wrapped is None:
        public = vault.PublicKey(target.public_key)
        db.session.add(intake.wrap_for(referral.report_id, opened.locked, RecipientKind.PARTNER, target.id, public))
    received = Referral(
        report_id=referral.report_id,
        partner_id=target.id,
        urgent=referral.urgent,
        created_at=now,
        ack_due_at=deadlines.ack_due(target, now, referral.urgent),
    )
    db.session.add(received)
    if referral.status != ReferralStatus.CLOSED:
        referral.status = ReferralStatus.REFERRED_ON
        referral.acknowledged_at = referral.acknowledged_at or now
    db.session.flush()
    audit_referral("referral.referred_on", user, referral, to_partner_id=target.id)
    audit.record(
        "referral.referred_in",
        actor_id=user.id,
        partner_id=target.id,
        report_id=referral.report_id,
        referral_id=received.id,
        from_partner_id=referral.partner_id,
    )
    notices.reporter_news(db.session.get(Report, referral.report_id), f"referred-{target.id}")
    return notices.add(
        NotificationKind.NEW_REFERRAL, f"referral/{received.id}", referral_id=received.id, report_id=received.report_id
    )


TIMELINE = (
    "report.submitted",
    "report.routed",
    "report.message.from_reporter",
    "report.message.to_reporter",
    "referral.acknowledged",
    "referral.assigned",
    "referral.note_added",
    "referral.asked",
    "referral.referred_on",
    "referral.referred_in",
    "report.linked",
    "report.unlinked",
    "referral.closed",
)


def timeline(referral: Referral) -> list[dict]:
    """What has happened to the report, as this partner may see it: its own
    actions and the report's own events (never another partner's), oldest
    first, from the audit trail."""
    events = AuditEvent.__table__
    rows = db.session.execute(
        sa.select(events.c.at, events.c.action, events.c.partner_id, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == events.c.actor_id)
        .where(
            events.c.report_id == referral.report_id,
            events.c.action.in_(TIMELINE),
            sa.or_(events.c.partner_id.is_(None), events.c.partner_id == referral.partner_id),
        )
        .order_by(events.c.at, events.c.id)
    )
    return [{"at": r.at, "action": r.action, "by": r.display_name} for r in rows]
