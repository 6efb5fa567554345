"""Sealed server-side sessions: state kept for one browser, in slots (answers
in progress, "draft"; an unlocked follow-up, "followup"), sealed in the
database with a key that only that browser's session cookie holds.

The database keeps ciphertext it cannot open; the cookie keeps an id, a key
and when it was last used, never an answer or a report key. Reading writes
nothing to the database: a session that has expired, idled out or cannot be
opened is only dropped from the cookie (without the key its row is
unreadable) and deleted with the other expired rows on the next save.
Helpers flush; the view commits.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import g, session

from ..crypto import vault
from ..domain import retention
from ..domain.intake import EvidenceFile
from ..extensions import db
from ..models import Draft, DraftFile, as_utc, utcnow

DRAFT = "draft"
FOLLOWUP = "followup"
STAFF = "staff"  # a signed-in staff member: revoked at sign-out, idle and absolute limits
_DRAFT = Draft.__table__
_READ = sa.select(_DRAFT.c.sealed_answers, _DRAFT.c.expires_at).where(_DRAFT.c.id == sa.bindparam("row_id"))


class SessionChanged(Exception):
    """Another request (another tab) changed the slot since this one read it."""


def _handle(slot: str) -> tuple[str, bytes] | None:
    handle = session.get(slot)
    if not isinstance(handle, dict) or not {"id", "key"} <= handle.keys():
        session.pop(slot, None)
        return None
    if "seen" not in handle:  # a cookie from before the idle clock moved into it
        session[slot] = {**handle, "seen": time.time()}
    return handle["id"], base64.b64decode(handle["key"])


def _remember(slot: str, blob: bytes) -> None:
    """What this request read (or last wrote): a save changes only that."""
    g.setdefault("sealed_sessions_read", {})[slot] = blob


def _open(key: bytes, row_id: str, blob: bytes) -> dict:
    return json.loads(vault.open_sealed(key, blob, table="draft", row_id=row_id, field="answers"))


def _read(slot: str, idle: timedelta | None) -> tuple[bytes, dict] | None:
    """The sealed blob and what it holds, or None (and the slot forgotten)."""
    handle = _handle(slot)
    if handle is None:
        return None
    row_id, key = handle
    row = db.session.connection().execute(_READ, {"row_id": row_id}).first()
    idled_out = idle is not None and session[slot]["seen"] + idle.total_seconds() < time.time()
    if row is None or row.sealed_answers is None or as_utc(row.expires_at) <= utcnow() or idled_out:
        forget(slot)
        return None
    try:
        data = _open(key, row_id, row.sealed_answers)
    except vault.VaultError:
        forget(slot)
        return None
    _touch(slot)
    _remember(slot, row.sealed_answers)
    return row.sealed_answers, data


def load(slot: str, idle: timedelta | None = None) -> dict:
    """What the slot holds, or {} when there is nothing (or nothing usable)."""
    found = _read(slot, idle)
    return found[1] if found else {}


def save(slot: str, data: dict, lifetime: timedelta) -> None:
    """Seal `data` into the slot, which is deleted `lifetime` from now."""
    handle = _handle(slot)
    if handle is None:
        purge_expired()  # a new slot is the moment to delete the expired ones
        row_id, key = secrets.token_urlsafe(32), vault.new_data_key()
        session[slot] = {"id": row_id, "key": base64.b64encode(key).decode(), "seen": time.time()}
    else:
        row_id, key = handle
        _touch(slot)
    values = {
        "sealed_answers": vault.seal(key, json.dumps(data).encode(), table="draft", row_id=row_id, field="answers"),
        "expires_at": utcnow() + lifetime,
    }
    read = g.get("sealed_sessions_read", {}).get(slot)
    _remember(slot, values["sealed_answers"])
    if handle is not None:
        # Only what this request read: a save from another tab never overwrites
        # a report sent in the meantime (or answers saved in the meantime).
        where = [Draft.id == row_id]
        if read is not None:
            where.append(Draft.sealed_answers == read)
        updated = db.session.execute(
            sa.update(Draft).where(*where).values(**values), execution_options={"synchronize_session": False}
        )
        if updated.rowcount == 1:
            return
        if db.session.scalar(sa.select(sa.func.count()).select_from(Draft).where(Draft.id == row_id)):
            raise SessionChanged(slot)
    db.session.execute(sa.insert(Draft).values(id=row_id, **values))


def _touch(slot: str) -> None:
    """Restart the slot's idle clock, kept in the cookie (to the minute, so
    the cookie need not be signed again on every request)."""
    if time.time() - session[slot]["seen"] > 60:
        session[slot] = {**session[slot], "seen": time.time()}


def claim(slot: str, marker: dict) -> dict | None:
    """Swap what the slot holds for `marker`, only if nobody changed it since it
    was read (a compare-and-swap); returns what it held, or None when another
    request changed it first. The swapped row stays locked until the caller's
    transaction ends, so a simultaneous claim waits, then finds it changed."""
    found = _read(slot, None)
    if found is None:
        return None
    blob, data = found
    row_id, key = _handle(slot)
    replacement = vault.seal(key, json.dumps(marker).encode(), table="draft", row_id=row_id, field="answers")
    if not _swap(row_id, blob, replacement):
        return None
    _remember(slot, replacement)
    return data


def _swap(row_id: str, expected: bytes, replacement: bytes) -> bool:
    swapped = db.session.execute(
        sa.update(Draft).where(Draft.id == row_id, Draft.sealed_answers == expected).values(sealed_answers=replacement),
        execution_options={"synchronize_session": False},
    )
    return swapped.rowcount == 1


def forget(slot: str) -> None:
    """Drop the slot from this browser's cookie only. Without its key the row
    can never be opened again; it is deleted when it expires."""
    session.pop(slot, None)


def discard(slot: str) -> None:
    """Delete the slot's row and files now, and drop it from the cookie."""
    handle = _handle(slot)
    forget(slot)
    if handle is not None:
        db.session.execute(sa.delete(DraftFile).where(DraftFile.draft_id == handle[0]))
        db.session.execute(
            sa.delete(Draft).where(Draft.id == handle[0]), execution_options={"synchronize_session": False}
        )


def purge_expired() -> None:
    retention.sweep_drafts(utcnow())


# --- files kept with a slot (evidence chosen while answering) ------------------


def add_file(evidence: EvidenceFile, slot: str = DRAFT) -> int:
    """Seal a file with the slot's key; the slot must already be saved."""
    row_id, key = _handle(slot)
    row = DraftFile(draft_id=row_id, sealed_meta=b"", sealed_body=b"")
    db.session.add(row)
    db.session.flush()
    meta = {
        "filename": evidence.filename,
        "content_type": evidence.content_type,
        "size": len(evidence.data),
        "received_sha256": evidence.received_sha256,
        "stored_sha256": evidence.stored_sha256,
    }
    row.sealed_meta = vault.seal(key, json.dumps(meta).encode(), table="draft_file", row_id=row.id, field="meta")
    row.sealed_body = vault.seal(key, evidence.data, table="draft_file", row_id=row.id, field="body")
    db.session.flush()
    return row.id


def _file_rows(slot: str) -> tuple[bytes | None, list[DraftFile]]:
    handle = _handle(slot)
    if handle is None:
        return None, []
    rows = db.session.scalars(sa.select(DraftFile).where(DraftFile.draft_id == handle[0]).order_by(DraftFile.id))
    return handle[1], list(rows)


def _meta(key: bytes, row: DraftFile) -> dict:
    return json.loads(vault.open_sealed(key, row.sealed_meta, table="draft_file", row_id=row.id, field="meta"))


def list_files(slot: str = DRAFT) -> list[dict]:
    """Id, name, type and size of each file, without opening the bodies."""
    key, rows = _file_rows(slot)
    return [{"id": row.id, **_meta(key, row)} for row in rows]


def load_files(slot: str = DRAFT) -> list[EvidenceFile]:
    key, rows = _file_rows(slot)
    files = []
    for row in rows:
        meta = _meta(key, row)
        body = vault.open_sealed(key, row.sealed_body, table="draft_file", row_id=row.id, field="body")
        files.append(EvidenceFile(meta["filename"], meta["content_type"], body, meta.get("received_sha256")))
    return files


def remove_file(file_id: int, slot: str = DRAFT) -> None:
    handle = _handle(slot)
    if handle is not None and 0 < file_id < 2**31:  # a row id; anything else names no file
        db.session.execute(sa.delete(DraftFile).where(DraftFile.id == file_id, DraftFile.draft_id == handle[0]))


def discard_files(slot: str = DRAFT) -> None:
    handle = _handle(slot)
    if handle is not None:
        db.session.execute(sa.delete(DraftFile).where(DraftFile.draft_id == handle[0]))
