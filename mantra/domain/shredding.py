"""Shred keys (DESIGN section 4, flow 6): erasure that old backups cannot undo.

Deleting every wrap of a report's data key makes its content unreadable, but
a database backup taken before still holds the wraps, and the partners' keys
still open them. So each report also has a small shred key, kept in a key
store apart from the main database (its own database, backed up on its own
short rotation: README "Backups"), and every wrap holds the data key locked
under it (AES key wrap, RFC 3394). Erasure deletes the shred key: from then
on no wrap opens, and once the key store's older backups have rotated out,
no backup of the main database opens either.

A shred key is written (and committed) before the report it locks, so a
report is never stored without one; a key whose report never arrived is
deleted by the retention job.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from ..crypto.vault import VaultError
from ..extensions import db
from ..models import utcnow
from ..models.types import Timestamp

BIND = "keystore"
VERSION = b"\x01"
STORE = sa.MetaData()
shred_key = sa.Table(
    "shred_key",
    STORE,
    sa.Column("id", sa.String(32), primary_key=True),  # random, not the report's id: a restored database reuses ids
    sa.Column("key", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)


class Shredded(VaultError):
    """The report's shred key is gone: it was erased."""


def _engine() -> sa.Engine:
    return db.engines[BIND]


def create_store() -> None:
    """The key store's one table (the main database's schema is Alembic's)."""
    STORE.create_all(_engine(), checkfirst=True)


def new(data_key: bytes) -> tuple[str, bytes]:
    """A new report's shred key, committed at once: (its id, for the report;
    the data key locked under it, for the wraps)."""
    shred_id, key = secrets.token_hex(16), secrets.token_bytes(32)
    with _engine().begin() as conn:
        conn.execute(shred_key.insert().values(id=shred_id, key=key, created_at=utcnow()))
    return shred_id, VERSION + aes_key_wrap(key, data_key)


def _key(shred_id: str | None) -> bytes:
    if shred_id is None:
        raise Shredded("no shred key")
    with _engine().connect() as conn:
        key = conn.scalar(sa.select(shred_key.c.key).where(shred_key.c.id == shred_id))
    if key is None or len(key) != 32:
        raise Shredded("no shred key")
    return key


def lock(shred_id: str | None, data_key: bytes) -> bytes:
    """The data key, locked under the report's shred key: what every wrap holds."""
    return VERSION + aes_key_wrap(_key(shred_id), data_key)


def unlock(shred_id: str | None, locked: bytes) -> bytes:
    if locked[:1] != VERSION:
        raise VaultError("unknown lock version")
    try:
        return aes_key_unwrap(_key(shred_id), locked[1:])
    except (InvalidUnwrap, ValueError):
        raise VaultError("the lock does not open") from None


def shred(shred_ids: list[str]) -> int:
    """Delete these shred keys, committed at once. Returns how many there were."""
    if not shred_ids:
        return 0
    with _engine().begin() as conn:
        return conn.execute(shred_key.delete().where(shred_key.c.id.in_(shred_ids))).rowcount


def made_between(start: datetime, end: datetime) -> list[str]:
    """Ids of the shred keys made in [start, end): for the sweep of keys whose report never arrived."""
    with _engine().connect() as conn:
        query = sa.select(shred_key.c.id).where(shred_key.c.created_at >= start, shred_key.c.created_at < end)
        return list(conn.scalars(query))


def exists(shred_id: str) -> bool:
    with _engine().connect() as conn:
        return conn.scalar(sa.select(shred_key.c.id).where(shred_key.c.id == shred_id)) is not None
