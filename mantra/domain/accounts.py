"""Partners, staff users and key grants (DESIGN section 4, flows 3 and 5)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import KeyGrant, NotificationKind, Partner, PartnerKind, RecoveryCode, StaffRole, StaffUser, utcnow
from . import audit, keyring, notices

# Roles a member of each kind of partner may have: centre staff only at a
# reporting centre, and only at one.
ROLES_FOR = {
    PartnerKind.AGENCY: (StaffRole.TRIAGE, StaffRole.PARTNER_ADMIN, StaffRole.COORDINATOR, StaffRole.ADMIN),
    PartnerKind.CENTRE: (StaffRole.CENTRE,),
}
GRANTED_ROLES = (StaffRole.TRIAGE, StaffRole.PARTNER_ADMIN)
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread when passed on


class GrantError(Exception):
    pass


def partner_key_info(partner_id: int, recipient: str) -> bytes:
    return vault.wrap_info("partner-key", partner_id, recipient)


def create_partner(
    slug: str, name: str, kind: PartnerKind, *, by: StaffUser | None = None, **facts
) -> tuple[Partner, vault.PrivateKey]:
    """Make a partner and its key pair; the private key goes only to the
    recovery key here, and to members through grants."""
    private = vault.PrivateKey.generate()
    partner = Partner(slug=slug, name=name, kind=kind, public_key=private.public.raw, recovery_wrap=b"", **facts)
    db.session.add(partner)
    db.session.flush()
    partner.recovery_wrap = vault.wrap(
        private.seed, keyring.recovery_public(), partner_key_info(partner.id, "recovery")
    )
    audit.record("partner.created", actor_id=by.id if by else None, partner_id=partner.id, slug=slug)
    return partner, private


def temporary_password() -> str:
    """A one-time password an administrator passes on (about 98 bits), in groups of five."""
    text = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(20))
    return "-".join(text[i : i + 5] for i in range(0, 20, 5))


def create_user(
    email: str, name: str, partner: Partner, role: StaffRole, password: str, *, by: StaffUser | None = None
) -> StaffUser:
    """A member with a key pair of their own, protected by this password. An
    administrator's choice of password must be changed at the first sign-in."""
    private = vault.PrivateKey.generate()
    user = StaffUser(
        email=email.strip().lower(),
        display_name=name,
        partner_id=partner.id,
        role=role,
        public_key=private.public.raw,
        password_protected_key=vault.protect_with_password(private, password),
        must_change_password=by is not None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor_id=by.id if by else None, partner_id=partner.id, user_id=user.id)
    return user


def _new_key(member: StaffUser, password: str) -> vault.PrivateKey:
    """A fresh key pair for a member, its private half under this password."""
    private = vault.PrivateKey.generate()
    member.public_key = private.public.raw
    member.password_protected_key = vault.protect_with_password(private, password)
    return private


def reset(user: StaffUser, by: StaffUser) -> str:
    """A lost password or phone: a new key pair under a new one-time password,
    no authenticator, no recovery codes and no key grant (the old grant was
    wrapped to a key nobody can open now). Any session of theirs ends, since
    it holds the old key. Their partner's administrators are asked, by a
    content-free e-mail, once they have chosen their own password (and with
    it a key pair of their own), to give them access again. Returns the password."""
    password = temporary_password()
    _new_key(user, password)
    user.must_change_password = True
    user.totp_secret_sealed = None
    user.totp_last_step = None
    user.failed_sign_ins = 0
    user.locked_until = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
    db.session.execute(sa.delete(KeyGrant).where(KeyGrant.staff_user_id == user.id))
    audit.record("user.reset", actor_id=by.id, partner_id=user.partner_id, user_id=user.id)
    return password


def revoke(partner: Partner, member: StaffUser, by: StaffUser) -> bool:
    """Take a member's copy of the partner key away; False if they held none."""
    deleted = db.session.execute(
        sa.delete(KeyGrant).where(KeyGrant.partner_id == partner.id, KeyGrant.staff_user_id == member.id)
    ).rowcount
    if deleted:
        audit.record("key.revoked", actor_id=by.id, partner_id=partner.id, user_id=member.id)
    return bool(deleted)


def has_grant(member: StaffUser) -> bool:
    return (
        db.session.scalar(
            sa.select(KeyGrant.id).where(KeyGrant.partner_id == member.partner_id, KeyGrant.staff_user_id == member.id)
        )
        is not None
    )


def needs_grant(member: StaffUser) -> bool:
    """Only members whose role works referrals ever hold their partner's key:
    a coordinator or a system administrator never reads a report."""
    return member.role in GRANTED_ROLES


def may_be_granted(member: StaffUser) -> bool:
    """An active member who works referrals and has chosen their own password
    (their key pair is then their own: see `own_password`)."""
    return member.active and needs_grant(member) and not member.must_change_password


def grant(partner: Partner, partner_key: vault.PrivateKey, member: StaffUser, granted_by: StaffUser | None) -> KeyGrant:
    """Wrap the partner's private key to a member's user key."""
    if partner_key.public.raw != partner.public_key:
        raise GrantError("that is not this partner's key")
    if member.partner_id != partner.id or not may_be_granted(member):
        raise GrantError("this member cannot hold this partner's key")
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
    """The partner key a member holds, checked: the grant must open with their
    key, and what it holds must be this partner's (its public half matches
    the partner row); otherwise GrantError."""
    wrap = db.session.scalar(
        sa.select(KeyGrant.wrap).where(KeyGrant.partner_id == partner.id, KeyGrant.staff_user_id == user.id)
    )
    if wrap is None:
        raise GrantError("no grant")
    try:
        key = vault.PrivateKey(vault.unwrap(wrap, user_key, partner_key_info(partner.id, f"user-{user.id}")))
    except vault.VaultError:
        raise GrantError("grant does not open") from None
    if key.public.raw != partner.public_key:
        raise GrantError("not this partner's key")
    return key


def revoke_all(member: StaffUser) -> None:
    """Take away every key a member holds (their role or state changed)."""
    if db.session.execute(sa.delete(KeyGrant).where(KeyGrant.staff_user_id == member.id)).rowcount:
        audit.record("key.revoked", partner_id=member.partner_id, user_id=member.id, reason="role-or-state")


def ask_for_access(member: StaffUser) -> None:
    """A member who works referrals and holds no key: their partner's
    administrators are e-mailed (content-free) to give it."""
    if needs_grant(member):
        notices.add(
            NotificationKind.ACCESS_NEEDED,
            f"access/{member.id}/{utcnow():%Y%m%dT%H%M%S%f}",
            partner_id=member.partner_id,
        )


def change_password(member: StaffUser, current: str, new: str) -> vault.PrivateKey:
    """The current password checked (vault.WrongPassword if it is not), then
    the new one protects the member's key; the key itself is replaced when an
    administrator had chosen the old password. Returns the key now in use."""
    key = vault.unlock_with_password(member.password_protected_key, current)
    if member.must_change_password:
        return own_password(member, new)
    member.password_protected_key = vault.protect_with_password(key, new)
    audit.record("staff.password_changed", actor_id=member.id, partner_id=member.partner_id)
    return key


def own_password(member: StaffUser, password: str) -> vault.PrivateKey:
    """A member replaces a password an administrator chose: a new key pair
    too, so the administrator's knowledge of the old password (and any copy
    of the database from before) opens nothing they will be given."""
    private = _new_key(member, password)
    member.must_change_password = False
    revoke_all(member)
    audit.record("user.own_password", actor_id=member.id, partner_id=member.partner_id, user_id=member.id)
    ask_for_access(member)
    return private


def partner_key_from_recovery(partner: Partner, recovery_key: vault.PrivateKey) -> vault.PrivateKey:
    return vault.PrivateKey(vault.unwrap(partner.recovery_wrap, recovery_key, partner_key_info(partner.id, "recovery")))
