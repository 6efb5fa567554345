"""Partners, staff users and key grants (DESIGN section 4, flows 3 and 5)."""

from __future__ import annotations

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import KeyGrant, Partner, PartnerKind, StaffRole, StaffUser
from . import audit, keyring


class GrantError(Exception):
    pass


def partner_key_info(partner_id: int, recipient: str) -> bytes:
    return vault.wrap_info("partner-key", partner_id, recipient)


def create_partner(slug: str, name: str, kind: PartnerKind, **facts) -> tuple[Partner, vault.PrivateKey]:
    """Make a partner and its key pair; the private key goes only to the
    recovery key here, and to members through grants."""
    private = vault.PrivateKey.generate()
    partner = Partner(slug=slug, name=name, kind=kind, public_key=private.public.raw, recovery_wrap=b"", **facts)
    db.session.add(partner)
    db.session.flush()
    partner.recovery_wrap = vault.wrap(
        private.seed, keyring.recovery_public(), partner_key_info(partner.id, "recovery")
    )
    audit.record("partner.created", partner_id=partner.id)
    return partner, private


def create_user(email: str, name: str, partner: Partner, role: StaffRole, password: str) -> StaffUser:
    private = vault.PrivateKey.generate()
    user = StaffUser(
        email=email.strip().lower(),
        display_name=name,
        partner_id=partner.id,
        role=role,
        public_key=private.public.raw,
        password_protected_key=vault.protect_with_password(private, password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor_id=None, partner_id=partner.id, user_id=user.id)
    return user


def grant(partner: Partner, partner_key: vault.PrivateKey, member: StaffUser, granted_by: StaffUser | None) -> KeyGrant:
    """Wrap the partner's private key to a member's user key."""
    if partner_key.public.raw != partner.public_key:
        raise GrantError("that is not this partner's key")
    existing = db.session.scalar(
        sa.select(KeyGrant).where(KeyGrant.partner_id == partner.id, KeyGrant.staff_user_id == member.id)
    )
    wrap = vault.wrap(
        partner_key.seed, vault.PublicKey(member.public_key), partner_key_info(partner.id, f"user-{member.id}")
    )
    if existing:
        existing.wrap = wrap
        row = existing
    else:
        row = KeyGrant(
            partner_id=partner.id,
            staff_user_id=member.id,
            wrap=wrap,
            granted_by_id=granted_by.id if granted_by else None,
        )
        db.session.add(row)
    audit.record(
        "key.granted", actor_id=granted_by.id if granted_by else None, partner_id=partner.id, user_id=member.id
    )
    return row


def unlock_user_key(user: StaffUser, password: str) -> vault.PrivateKey:
    """Raises vault.WrongPassword when the password is wrong."""
    return vault.unlock_with_password(user.password_protected_key, password)


def partner_key_for(user: StaffUser, user_key: vault.PrivateKey, partner: Partner) -> vault.PrivateKey:
    wrap = db.session.scalar(
        sa.select(KeyGrant.wrap).where(KeyGrant.partner_id == partner.id, KeyGrant.staff_user_id == user.id)
    )
    if wrap is None:
        raise GrantError(f"{user.email} holds no key for {partner.slug}")
    return vault.PrivateKey(vault.unwrap(wrap, user_key, partner_key_info(partner.id, f"user-{user.id}")))


def partner_key_from_recovery(partner: Partner, recovery_key: vault.PrivateKey) -> vault.PrivateKey:
    return vault.PrivateKey(vault.unwrap(partner.recovery_wrap, recovery_key, partner_key_info(partner.id, "recovery")))
