"""The second factor of a staff sign-in: a TOTP code (RFC 6238, pyotp) from
an authenticator app, or one of ten one-time recovery codes.

The TOTP secret is wrapped to the user's own key, so it can be read only
after the password has unlocked that key: a copy of the database holds no
secret that makes codes. A code's time step is recorded when it is used, and
a step at or before it is refused, so an overheard code works once. Recovery
codes are stored as SHA-256 hashes (each is 50 random bits) and each works
once. Both checks are single UPDATEs, so simultaneous tries cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import RecoveryCode, StaffUser, utcnow

ISSUER = "MANTRA"
STEP_SECONDS = 30
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper


def _info(user: StaffUser) -> bytes:
    return vault.wrap_info("totp", user.id)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _step_matching(secret: str, code: str, at: float) -> int | None:
    """The time step (this one, or one either side for a slow phone) whose code this is."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(at // STEP_SECONDS)
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def enrol(user: StaffUser, secret: str, code: str) -> list[str] | None:
    """Save the secret if `code` is its current code; return new recovery codes."""
    step = _step_matching(secret, code, time.time())
    if step is None:
        return None
    user.totp_secret_sealed = vault.wrap(secret.encode(), vault.PublicKey(user.public_key), _info(user))
    user.totp_last_step = step
    return new_recovery_codes(user)


def check_code(user: StaffUser, user_key: vault.PrivateKey, code: str) -> bool:
    """A TOTP code not used before, or an unused recovery code."""
    if user.totp_secret_sealed is None:
        return False
    secret = vault.unwrap(user.totp_secret_sealed, user_key, _info(user)).decode()
    step = _step_matching(secret, code, time.time())
    if step is not None:
        used = db.session.execute(
            sa.update(StaffUser)
            .where(
                StaffUser.id == user.id,
                sa.or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        return used.rowcount == 1
    return _use_recovery_code(user, code)


def _hash(code: str) -> bytes:
    return hashlib.sha256("".join(ch for ch in code.lower() if ch.isalnum()).encode()).digest()


def new_recovery_codes(user: StaffUser) -> list[str]:
    """Ten new one-time codes (any earlier ones stop working); shown once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(staff_user_id=user.id, code_hash=_hash(raw)))
    db.session.flush()
    return codes


def _use_recovery_code(user: StaffUser, code: str) -> bool:
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.staff_user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return used.rowcount == 1


def recovery_codes_left(user: StaffUser) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.staff_user_id == user.id, RecoveryCode.used_at.is_(None))
    )
