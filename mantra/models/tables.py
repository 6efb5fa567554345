"""The data model (DESIGN section 3): facets in clear, content sealed.

Facets are coarse, enumerated columns that routing, the inbox and the
statistics use without decrypting anything. Every column named `sealed_*`
or `*_wrap` holds a vault blob; nothing a person wrote is stored otherwise.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from ..extensions import db
from .enums import (
    AreaKind,
    Channel,
    IncidentKind,
    IncidentType,
    MessageDirection,
    NotificationKind,
    PartnerKind,
    RecipientKind,
    ReferralStatus,
    ReporterRole,
    ReportStatus,
    StaffRole,
    Strand,
)
from .types import Timestamp, utcnow
from .types import enum_column as _enum

# --- organisations and people -----------------------------------------------


class Partner(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[PartnerKind] = mapped_column(_enum(PartnerKind))
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The partner's private seed wrapped to the partnership recovery key.
    recovery_wrap: Mapped[bytes] = mapped_column(sa.LargeBinary)
    ack_sla_hours: Mapped[int] = mapped_column(default=24)
    urgent_ack_sla_hours: Mapped[int] = mapped_column(default=2)
    duty_email: Mapped[str | None] = mapped_column(sa.String(254))  # new referrals
    duty_lead_email: Mapped[str | None] = mapped_column(sa.String(254))  # escalations (else duty_email)
    is_default_triage: Mapped[bool] = mapped_column(default=False)
    # Consent is a hard limit: a police partner never receives a report
    # without consent to share with the police.
    is_police: Mapped[bool] = mapped_column(default=False)
    # A university or college: the journey asks students which one they attend.
    serves_students: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A reporting centre's details for the public pages ('Other ways to report'), each optional.
    public_address: Mapped[str | None] = mapped_column(sa.String(300))
    public_phone: Mapped[str | None] = mapped_column(sa.String(40))
    opening_hours: Mapped[str | None] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class StaffUser(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole))
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The user's private seed sealed under Argon2id(password): opening it
    # checks the password and unlocks the key in one step.
    password_protected_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The TOTP secret, wrapped to the user's own key: readable only after the
    # password has unlocked it. The last time step used: a code works once.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Set when an administrator chose the password (a new account, a reset):
    # the member must choose their own before using anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    partner: Mapped[Partner] = relationship()


class RecoveryCode(db.Model):
    """A one-time code for signing in without the authenticator: its SHA-256
    only (ten random base32 characters each), used at most once."""

    __table_args__ = (sa.UniqueConstraint("staff_user_id", "code_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    code_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class KeyGrant(db.Model):
    """A partner's private seed wrapped to one member's user key."""

    __table_args__ = (sa.UniqueConstraint("partner_id", "staff_user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"))
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    wrap: Mapped[bytes] = mapped_column(sa.LargeBinary)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Area(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[AreaKind] = mapped_column(_enum(AreaKind))
    sort_order: Mapped[int] = mapped_column(default=0)


# --- reports ------------------------------------------------------------------


class Report(db.Model):
    __table_args__ = (
        sa.Index("ix_report_status_submitted", "status", "submitted_at"),
        sa.Index("ix_report_month_area", "incident_month", "area_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel), index=True)
    reporter_role: Mapped[ReporterRole] = mapped_column(_enum(ReporterRole))
    incident_type: Mapped[IncidentType] = mapped_column(_enum(IncidentType))
    incident_month: Mapped[date | None] = mapped_column(sa.Date)  # first day of the month
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("area.id"))
    consent_police: Mapped[bool] = mapped_column(default=False)
    consent_partners: Mapped[bool] = mapped_column(default=False)
    may_contact: Mapped[bool] = mapped_column(default=False)
    named: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # gave a name, or anonymous
    flag_student: Mapped[bool] = mapped_column(default=False)
    student_at: Mapped[str | None] = mapped_column(sa.String(64))  # slug of their university's partner
    flag_council_tenant: Mapped[bool] = mapped_column(default=False)
    flag_ongoing_risk: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.RECEIVED)
    centre_partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    routed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Set when the worker refused to route it (facets changed since submission,
    # a partner key not pinned); the sweeper leaves it for an administrator.
    held_reason: Mapped[str | None] = mapped_column(sa.String(32))
    # Follow-up: the receipt code's Argon2id output finds (token) and opens
    # (reporter key) the report; the code itself is never stored.
    lookup_token: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    receipt_kdf: Mapped[str] = mapped_column(sa.String(40))
    reporter_public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # Content, sealed with the report's data key (one blob per group).
    sealed_account: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # narrative, when, where, people
    sealed_contact: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # name, e-mail, phone, safe times
    sealed_monitoring: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # The address (and language) for "there is news" e-mails, sealed to the
    # notify key: only the worker that sends them can open it; never a partner.
    notify_wrap: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # The id of the report's shred key in the key store (domain/shredding.py):
    # every wrap holds the data key locked under it. Erasure deletes the key.
    shred_id: Mapped[str | None] = mapped_column(sa.String(32))
    erased_at: Mapped[datetime | None] = mapped_column(Timestamp)  # content erased; facets kept
    erase_after: Mapped[datetime | None] = mapped_column(Timestamp)  # planned by the retention rules

    area: Mapped[Area | None] = relationship()
    strands: Mapped[list[ReportStrand]] = relationship(cascade="all, delete-orphan")
    kinds: Mapped[list[ReportKind]] = relationship(cascade="all, delete-orphan")
    keys: Mapped[list[ReportKey]] = relationship(cascade="all, delete-orphan")


class ReportStrand(db.Model):
    """One row per strand of a report, so strand counts are a GROUP BY."""

    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"), primary_key=True)
    strand: Mapped[Strand] = mapped_column(_enum(Strand), primary_key=True, index=True)


class ReportKind(db.Model):
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"), primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(_enum(IncidentKind), primary_key=True, index=True)


class ReportKey(db.Model):
    """One wrap of a report's data key for one recipient."""

    __table_args__ = (sa.UniqueConstraint("report_id", "recipient", "partner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"), index=True)
    recipient: Mapped[RecipientKind] = mapped_column(_enum(RecipientKind))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    wrap: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Attachment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("message.id"))
    sealed_meta: Mapped[bytes] = mapped_column(sa.LargeBinary)  # file name and type
    sealed_body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Referral(db.Model):
    """A report sent to one partner, with its acknowledgement deadline."""

    __table_args__ = (
        sa.UniqueConstraint("report_id", "partner_id"),  # routing is idempotent
        sa.Index("ix_referral_inbox", "partner_id", "status", "ack_due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus), default=ReferralStatus.NEW)
    urgent: Mapped[bool] = mapped_column(default=False)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    ack_due_at: Mapped[datetime | None] = mapped_column(Timestamp)
    acknowledged_at: Mapped[datetime | None] = mapped_column(Timestamp)
    escalated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    outcome: Mapped[str | None] = mapped_column(sa.String(32))
    # Why a non-crime incident's record is kept past the short period (KEEP_REASONS): recorded by the partner.
    keep_reason: Mapped[str | None] = mapped_column(sa.String(32))


class ReplyTemplate(db.Model):
    """A partner's short ready-made first message to a reporter (thanks, we
    will call, support on offer), kept by its administrators. Staff words,
    never a report's: a member starts from one and edits before sending."""

    __table_args__ = (sa.UniqueConstraint("partner_id", "title", name="reply_template_partner_title_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class ReportLink(db.Model):
    """Two reports that staff believe describe one incident (a victim, a
    witness and a centre often report the same thing: DESIGN 4a).

    A link is between reports, not referrals: every partner holding both
    reports sees it, whoever made it. Each pair is stored once, lower report
    id first, so "R1 with R2" and "R2 with R1" cannot both exist.
    """

    __table_args__ = (
        sa.UniqueConstraint("report_id", "other_report_id"),
        sa.CheckConstraint("report_id < other_report_id", name="ck_report_link_ordered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"))  # led by the unique pair's index
    other_report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"), index=True)
    linked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"))  # the partner whose member linked them
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Notification(db.Model):
    """An e-mail to send, recorded before it is sent and marked when it was.

    Content-free by construction: it names a kind and ids; the words are put
    together when it is sent. `dedupe_key` makes creating one idempotent (a
    re-run job adds nothing), and the sweeper re-queues any left unsent.
    """

    __table_args__ = (sa.Index("ix_notification_unsent", "sent_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    dedupe_key: Mapped[str] = mapped_column(sa.String(96), unique=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referral.id"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    reason: Mapped[str | None] = mapped_column(sa.String(32))  # for alerts: why the report was held
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(64))  # an exception's class name, never its text
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    recipients: Mapped[int | None] = mapped_column()  # how many addresses it went to


class Message(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id"), index=True)
    direction: Mapped[MessageDirection] = mapped_column(_enum(MessageDirection))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    # A partner asked the reporter for more information: their page says so.
    asks_reply: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    sealed_body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class Note(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referral.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    sealed_body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


# What a routing rule may test: each facet a report has, and the values it can
# take (None: any text, such as an area or partner slug). A rule naming any
# other key, or an impossible value, is refused when it is saved, rather than
# silently never matching.
_FLAG = (True, False)
RULE_FACETS: dict[str, tuple | None] = {
    "strands": tuple(Strand),
    "kinds": tuple(IncidentKind),
    "incident_type": tuple(IncidentType),
    "channel": tuple(Channel),
    "reporter_role": tuple(ReporterRole),
    "area": None,
    "student_at": None,
    "consent_police": _FLAG,
    "consent_partners": _FLAG,
    "may_contact": _FLAG,
    "flag_student": _FLAG,
    "flag_council_tenant": _FLAG,
    "flag_ongoing_risk": _FLAG,
}


class RuleError(ValueError):
    """A routing rule that could never work as written."""


def check_conditions(conditions: dict) -> dict:
    if not isinstance(conditions, dict):
        raise RuleError("conditions must be a mapping of facet to wanted value(s)")
    for key, wanted in conditions.items():
        if key not in RULE_FACETS:
            raise RuleError(f"unknown facet {key!r}; rules can test: {', '.join(RULE_FACETS)}")
        allowed = RULE_FACETS[key]
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            raise RuleError(f"{key}: give at least one value")
        for value in values:
            ok = (
                isinstance(value, str) and bool(value)
                if allowed is None
                else (value in allowed and type(value) is type(allowed[0]) if allowed is _FLAG else value in allowed)
            )
            if not ok:
                raise RuleError(f"{key}: {value!r} is not a value this facet can take")
    return conditions


class RoutingRule(db.Model):
    """Conditions on facets only (JSON), sending matching reports to a partner."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    priority: Mapped[int] = mapped_column(default=100)
    conditions: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"))
    enabled: Mapped[bool] = mapped_column(default=True)

    @validates("conditions")
    def _check(self, _key, conditions):
        return check_conditions(conditions)


class AuditEvent(db.Model):
    """Append-only: who did what to which record. Never any content."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("report.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The chain (domain/audit.py): the inserting transaction's id (PostgreSQL),
    # then, once that transaction is over, a place in the chain and the hash of
    # this event with the one before it.
    xid: Mapped[int | None] = mapped_column(sa.BigInteger)
    chain_seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    prev_hash: Mapped[bytes | None] = mapped_column(sa.LargeBinary(32))
    hash: Mapped[bytes | None] = mapped_column(sa.LargeBinary(32))


class LevelMonth(db.Model):
    """A whole month's counts, kept so the dashboard need not count a million
    reports on every view (domain/levels.py). Facets only. Every write that
    changes a month that is over adds one to its generation, in the same
    transaction; the counts are used only while they were counted at the
    current generation."""

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    counted_generation: Mapped[int | None] = mapped_column()
    counts: Mapped[dict | None] = mapped_column(sa.JSON)
    counted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ExportRun(db.Model):
    """A month's published file, kept as it was first published: publishing
    the month again with different figures (a late report) would let anyone
    subtract one version from the other and find a hidden count."""

    __table_args__ = (sa.UniqueConstraint("month", "kind", name="export_run_month_kind_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(32))  # the format: csv, xlsx or html
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    rule: Mapped[str | None] = mapped_column(sa.String(16))  # the suppression rule it was made with
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # facets only, as published


class Draft(db.Model):
    """A report in progress, sealed with a key that lives only in the person's cookie."""

    id: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    sealed_answers: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class DraftFile(db.Model):
    """An evidence file in a draft, sealed with the draft's key."""

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[str] = mapped_column(sa.String(43), index=True)
    sealed_meta: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sealed_body: Mapped[bytes] = mapped_column(sa.LargeBinary)


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, _ctx, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise ValueError("audit events are append-only")
