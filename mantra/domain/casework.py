"""A partner member's work on a referral: opening the report (DESIGN flow 3:
user key -> partner key -> the report's data key) and acknowledging it.

Every row read here is one the web tier could have written, so each step is
checked: the grant must open with this user's key, the partner key it holds
must be this partner's (its public half matches the partner row), and the
report's wrap must open with that key and the ids it names. Anything that
does not open is refused (CaseworkError), never shown as if it were genuine.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import (
    KeyGrant,
    Partner,
    RecipientKind,
    Referral,
    ReferralStatus,
    Report,
    ReportKey,
    StaffUser,
    utcnow,
)
from . import audit, notices
from .accounts import partner_key_info
from .intake import OpenedReport, report_key_info


class CaseworkError(Exception):
    """The member's keys do not open this report (no grant, or a row altered)."""


def referral_for(user: StaffUser, referral_id: int) -> Referral | None:
    """The referral if it is to the member's own partner; None otherwise, so
    another partner's referral looks the same as one that does not exist."""
    return db.session.scalar(
        sa.select(Referral).where(Referral.id == referral_id, Referral.partner_id == user.partner_id)
    )


def partner_key(user: StaffUser, user_key: vault.PrivateKey) -> vault.PrivateKey:
    partner = db.session.get(Partner, user.partner_id)
    grant = db.session.scalar(
        sa.select(KeyGrant.wrap).where(KeyGrant.partner_id == partner.id, KeyGrant.staff_user_id == user.id)
    )
    if grant is None:
        raise CaseworkError("no grant")
    try:
        key = vault.PrivateKey(vault.unwrap(grant, user_key, partner_key_info(partner.id, f"user-{user.id}")))
    except vault.VaultError:
        raise CaseworkError("grant does not open") from None
    if key.public.raw != partner.public_key:
        raise CaseworkError("not this partner's key")
    return key


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
        data_key = vault.unwrap(
            wrap, key, report_key_info(referral.report_id, RecipientKind.PARTNER, referral.partner_id)
        )
    except vault.VaultError:
        raise CaseworkError("wrap does not open") from None
    audit.record(
        "referral.viewed",
        actor_id=user.id,
        partner_id=referral.partner_id,
        report_id=referral.report_id,
        referral_id=referral.id,
    )
    return OpenedReport(referral.report_id, data_key)


def acknowledge(user: StaffUser, referral: Referral) -> int | None:
    """Mark a new referral acknowledged; returns the id of a "there is news"
    e-mail for the reporter (if they asked for them), to queue after commit."""
    if referral.status != ReferralStatus.NEW:
        return None
    referral.status = ReferralStatus.ACKNOWLEDGED
    referral.acknowledged_at = utcnow()
    audit.record(
        "referral.acknowledged",
        actor_id=user.id,
        partner_id=referral.partner_id,
        report_id=referral.report_id,
        referral_id=referral.id,
    )
    return notices.reporter_news(db.session.get(Report, referral.report_id), f"acknowledged-{referral.partner_id}")
