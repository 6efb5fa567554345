"""Staff sign-in policy: Argon2id passwords, lockout after repeated failures,
and the same cost for every failure, so neither the answer nor its timing
tells an attacker whether an account exists or is locked."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import StaffUser, as_utc, utcnow
from .limits import LOCK_AFTER, LOCK_FOR


@dataclass
class SignedIn:
    user: StaffUser
    user_key: vault.PrivateKey  # unlocked by the password (DESIGN flow 3)


def is_locked(user: StaffUser) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > utcnow()


def check_password(email: str, password: str) -> SignedIn | None:
    """The user and their unlocked key, or None. A wrong password counts
    towards the lockout (flushed; the caller commits whatever the outcome)."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.active or is_locked(user):
        vault.ARGON2.derive(password.encode(), b"\0" * 16, vault.KEY_BYTES)  # the same time as a real check
        return None
    try:
        user_key = vault.unlock_with_password(user.password_protected_key, password)
    except vault.WrongPassword:
        count_failure(user.id)
        return None
    user.failed_sign_ins = 0
    db.session.flush()
    return SignedIn(user, user_key)


def count_failure(user_id: int) -> None:
    """One atomic UPDATE, so simultaneous wrong guesses each count (a read
    then a write would lose some): the lockout starts at the LOCK_AFTER-th."""
    reached = StaffUser.failed_sign_ins + 1 >= LOCK_AFTER
    db.session.execute(
        sa.update(StaffUser)
        .where(StaffUser.id == user_id)
        .values(
            failed_sign_ins=sa.case((reached, 0), else_=StaffUser.failed_sign_ins + 1),
            locked_until=sa.case((reached, utcnow() + LOCK_FOR), else_=StaffUser.locked_until),
        )
        .execution_options(synchronize_session=False)
    )
