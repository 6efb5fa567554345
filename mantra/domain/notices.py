"""E-mails (DESIGN section 6): content-free, recorded before they are sent.

A notification row is added in the same transaction as what it tells of (a
referral, an escalation, a held report); the worker sends it afterwards and
marks it sent. Nothing a person wrote is ever in an e-mail: a reference, a
partner, an urgency, a deadline and a link to sign in, and for a reporter
only that there is news.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from flask_mail import Message as MailMessage
from sqlalchemy.dialects import postgresql, sqlite

from ..crypto import vault
from ..extensions import db, mail
from ..models import (
    WITHDRAWN,
    Notification,
    NotificationKind,
    Partner,
    Referral,
    Report,
    ReportStatus,
    StaffRole,
    StaffUser,
    as_utc,
    utcnow,
)
from . import audit, deadlines, intake, keyring

log = logging.getLogger(__name__)


def add(kind: NotificationKind, dedupe_key: str, **ids) -> int | None:
    """Record an e-mail to send, once per `dedupe_key`, in the caller's
    transaction. Returns the new row's id, or None if it was recorded before."""
    table = Notification.__table__
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    statement = (
        insert(table)
        .values(kind=kind.value, dedupe_key=dedupe_key, created_at=now, next_attempt_at=now, attempts=0, **ids)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    return db.session.execute(statement).scalar()


def reporter_news(report: Report, event: str) -> int | None:
    """Record a "there is news" e-mail for a reporter who asked for them, once
    per event (routed, acknowledged, a partner's message #id, closed...)."""
    if report.notify_wrap is None:
        return None
    return add(NotificationKind.REPORTER_NEWS, f"news/{report.id}/{event}", report_id=report.id)


NEWS_EVERY = timedelta(days=1)  # a reporter gets at most one "there is news" e-mail a day


def news_turn(report_id: int) -> None:
    """Wait for this report's turn to send news: two workers sending news
    about one report take turns, so one a day holds (a transaction lock on
    PostgreSQL, taken before any notification row is locked; SQLite has one
    writer at a time anyway). The report row itself stays free for staff
    while the mail server answers."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_NEWS_LOCK, report_id)))


def news_not_before(n: Notification) -> datetime | None:
    """When this "there is news" e-mail may go (None: now): a day after the last one."""
    last = db.session.scalar(
        sa.select(sa.func.max(Notification.sent_at)).where(
            Notification.kind == NotificationKind.REPORTER_NEWS,
            Notification.report_id == n.report_id,
            Notification.recipients > 0,
        )
    )
    later = as_utc(last) + NEWS_EVERY if last is not None else None
    return later if later is not None and later > utcnow() else None


_NEWS_LOCK = 0x4E455753  # "NEWS": the advisory lock's first key; the report id is the second


def news_sent(n: Notification) -> None:
    """After a "there is news" e-mail went: it told whatever news was waiting
    for the same report (those e-mails need not go), and once the report is
    closed it was the last, so the address is erased."""
    db.session.execute(
        sa.update(Notification)
        .where(
            Notification.kind == NotificationKind.REPORTER_NEWS,
            Notification.report_id == n.report_id,
            Notification.sent_at.is_(None),
            Notification.id != n.id,
        )
        .values(sent_at=utcnow(), recipients=0)
    )
    report = db.session.get(Report, n.report_id)
    if report.status == ReportStatus.CLOSED:
        forget_news_address(report, "closed", by="service")


def forget_closed_addresses() -> int:
    """Erase the news address of closed reports with no news left to send (a
    report that closed by consent withdrawn has no closing news to send)."""
    waiting = sa.select(Notification.id).where(
        Notification.report_id == Report.id,
        Notification.kind == NotificationKind.REPORTER_NEWS,
        Notification.sent_at.is_(None),
    )
    closed = db.session.scalars(
        sa.select(Report)
        .where(Report.status == ReportStatus.CLOSED, Report.notify_wrap.is_not(None), ~waiting.exists())
        .limit(500)
    ).all()
    for report in closed:
        forget_news_address(report, "closed", by="service")
    return len(closed)


def forget_news_address(report: Report, why: str, *, by: str = "reporter") -> bool:
    """Erase the address for news e-mails (the report closed, or the person
    asked): nothing more is sent, and nobody can ever read it again."""
    if report.notify_wrap is None:
        return False
    report.notify_wrap = None
    audit.record("report.news_address_erased", report_id=report.id, why=why, by=by)
    return True


@dataclass
class Email:
    to: list[str]
    subject: str
    body: str


def _staff_emails(*where) -> list[str]:
    return list(db.session.scalars(sa.select(StaffUser.email).where(StaffUser.active, *where).order_by(StaffUser.id)))


def _when(moment) -> str:
    return moment.astimezone(deadlines.LOCAL).strftime("%a %d %b %Y, %H:%M") if moment else "-"


_NEVER_CONTENT = (
    "This e-mail never contains what was reported. Sign in to read the report; "
    "do not forward this e-mail or reply to it."
)


def _referral(n: Notification) -> tuple[Referral, Partner, Report]:
    referral = db.session.get(Referral, n.referral_id)
    return referral, db.session.get(Partner, referral.partner_id), db.session.get(Report, referral.report_id)


def _partner_inbox(partner: Partner) -> list[str]:
    """Who hears of a partner's referrals: its duty address, its triage staff and administrators."""
    to = [partner.duty_email] if partner.duty_email else []
    return to + _staff_emails(
        StaffUser.partner_id == partner.id, StaffUser.role.in_((StaffRole.TRIAGE, StaffRole.PARTNER_ADMIN))
    )


def _new_referral(n: Notification) -> Email:
    referral, partner, report = _referral(n)
    urgency = "URGENT: the report says it is still happening" if referral.urgent else "normal"
    return Email(
        _partner_inbox(partner),
        f"{'URGENT ' if referral.urgent else ''}New referral {report.reference} for {partner.name}",
        f"A new referral is waiting for {partner.name} in MANTRA.\n\n"
        f"Reference: {report.reference}\nUrgency: {urgency}\n"
        f"Acknowledge by: {_when(referral.ack_due_at)} (UK time)\n\n"
        f"Sign in to read it: {current_app.config['STAFF_URL']}/triage/sign-in\n\n{_NEVER_CONTENT}\n",
    )


def _consent_withdrawn(n: Notification) -> Email | None:
    """To the partner: it can no longer open a report. Nothing of the report,
    nor who withdrew. Sent only if the referral really was withdrawn: a row the
    web tier could have forged must not have a partner purge its records."""
    referral, partner, report = _referral(n)
    if referral.outcome != WITHDRAWN or n.partner_id != referral.partner_id:
        log.error("notification %s: referral %s was not withdrawn; not sent", n.id, referral.id)
        return None
    return Email(
        _partner_inbox(partner),
        f"Consent withdrawn: {partner.name} can no longer open report {report.reference}",
        f"The person who made report {report.reference} has withdrawn their consent for {partner.name} "
        "to see it.\n\nMANTRA has removed your organisation's access: nobody at "
        f"{partner.name} can open the report any more, and its referral is closed as 'consent withdrawn'.\n\n"
        "If anything from it was copied into your own systems, follow your organisation's policy on "
        "withdrawn consent. If you believe someone's life is in danger, or that a child or an adult at risk "
        "could be seriously harmed, talk to your safeguarding lead.\n\n"
        "This e-mail never contains what was reported. Do not forward it.\n",
    )


def _escalation(n: Notification) -> Email:
    referral, partner, report = _referral(n)
    lead = partner.duty_lead_email or partner.duty_email
    to = ([lead] if lead else []) + _staff_emails(StaffUser.role == StaffRole.COORDINATOR)
    return Email(
        to,
        f"Overdue: referral {report.reference} for {partner.name} not acknowledged in time",
        f"The referral {report.reference} to {partner.name} was due to be acknowledged by "
        f"{_when(referral.ack_due_at)} (UK time) and has not been.\n"
        f"Urgency: {'urgent' if referral.urgent else 'normal'}\n\n"
        f"You receive this as {partner.name}'s duty lead or as a partnership coordinator.\n"
        f"Sign in: {current_app.config['STAFF_URL']}/triage/sign-in\n\n{_NEVER_CONTENT}\n",
    )


def _access_needed(n: Notification) -> Email:
    partner = db.session.get(Partner, n.partner_id)
    return Email(
        _staff_emails(StaffUser.partner_id == partner.id, StaffUser.role == StaffRole.PARTNER_ADMIN),
        f"A member of {partner.name} needs access to MANTRA again",
        f"An administrator has reset the account of a member of {partner.name} (a lost password or phone).\n"
        "Their new account cannot open your organisation's reports until you give it access.\n\n"
        f"Sign in and choose 'Give access': {current_app.config['STAFF_URL']}/admin/members\n\n"
        "Before you do, check with them that the key fingerprint on their account page matches the one shown to you.\n",
    )


def _levels_ready(n: Notification) -> Email | None:
    """To coordinators: the month's published figures are ready. No figure is in it."""
    month = n.reason  # YYYY-MM, the month's key
    coordinators = _staff_emails(StaffUser.role == StaffRole.COORDINATOR)
    if not coordinators:
        return None  # nobody to tell: the figures are there when someone looks
    return Email(
        coordinators,
        f"MANTRA reporting levels for {month} are ready",
        f"The reporting levels for {month} have been published in MANTRA: the dashboard, and files to "
        "download (CSV, XLSX and HTML) with small counts hidden.\n\n"
        f"Sign in to see them: {current_app.config['STAFF_URL']}/levels/?month={month}\n\n"
        "This e-mail carries no figures. Do not forward it.\n",
    )


def _alert(n: Notification) -> Email:
    return Email(
        [current_app.config["ALERT_EMAIL"]],
        f"MANTRA security alert: report {n.report_id} held ({n.reason})",
        f"The worker refused to route report {n.report_id}: {HELD_REASONS.get(n.reason, n.reason)}\n\n"
        "It is held, sealed, and goes nowhere until an administrator looks at it. "
        "See `flask mantra queue` on a worker machine, and the audit trail.\n",
    )


def _reporter_news(n: Notification) -> Email | None:
    report = db.session.get(Report, n.report_id)
    if report.notify_wrap is None:  # erased since (the report closed, or on request)
        return None
    opened = vault.unwrap(report.notify_wrap, keyring.notify_private(), intake.notify_info(report.id))
    address = json.loads(opened)
    with force_locale(address.get("language") or "en"):
        return Email(
            [address["email"]],
            gettext("There is news about your report %(reference)s", reference=report.reference),
            gettext(
                "There is news about the report you made (reference %(reference)s).\n\n"
                "To see it, go to %(url)s and enter your receipt code.\n\n"
                "We never put what your report is about in an e-mail. "
                "If you did not expect this e-mail, you can ignore it.",
                reference=report.reference,
                url=current_app.config["PUBLIC_URL"] + "/follow-up",
            )
            + "\n",
        )


HELD_REASONS = {
    "facets-changed": "its routing answers (consent, strands, area...) changed after it was sent, "
    "so they no longer match what the person submitted.",
    "no-partner": "no routing rule chose a partner and there is no active default triage partner.",
    "key-not-pinned": "a partner it should go to has a public key that no administrator pinned "
    "(`flask mantra pins`), so the worker will not wrap the report to it.",
}
_COMPOSE = {
    NotificationKind.NEW_REFERRAL: _new_referral,
    NotificationKind.ESCALATION: _escalation,
    NotificationKind.ALERT: _alert,
    NotificationKind.REPORTER_NEWS: _reporter_news,
    NotificationKind.ACCESS_NEEDED: _access_needed,
    NotificationKind.LEVELS_READY: _levels_ready,
    NotificationKind.CONSENT_WITHDRAWN: _consent_withdrawn,
}


def compose(n: Notification) -> Email | None:
    """The e-mail for a notification, put together now from ids and facets.
    None: there is no longer anyone to send it to (an erased address)."""
    email = _COMPOSE[n.kind](n)
    if email is not None and not email.to:  # never dropped silently: someone is told
        email.to = [current_app.config["ALERT_EMAIL"]]
        email.subject = f"No address for: {email.subject}"
    return email


def deliver(email: Email, notification_id: int) -> None:
    """Send over SMTP, or without a mail server write an .eml file to the
    outbox (the embedded default). SMTP errors are raised to the caller."""
    message = MailMessage(subject=email.subject, recipients=email.to, body=email.body)
    # One Message-ID per notification: a resend after a crash reads as the same e-mail.
    message.msgId = f"<mantra-notification-{notification_id}@{socket.getfqdn()}>"
    if current_app.config.get("MAIL_SERVER"):
        mail.send(message)
        return
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=outbox, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(message.as_bytes())
    os.replace(temporary, outbox / f"{utcnow():%Y%m%dT%H%M%S}-notification-{notification_id}.eml")
