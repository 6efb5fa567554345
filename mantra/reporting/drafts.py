"""State kept for one browser, sealed on the server with a key that only
that browser's session cookie holds: answers in progress (slot "draft") and
an unlocked follow-up session (slot "followup").

The database keeps ciphertext it cannot open; the cookie keeps a random key
and an id, never an answer or a report key. Everything expires after an idle
period, and 'Exit this page' deletes it at once.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import session

from .. import vault
from ..extensions import db
from ..intake import EvidenceFile
from ..models import Draft, DraftFile, utcnow

DRAFT_IDLE_LIFETIME = timedelta(hours=2)
# After sending, the draft holds only the reference and receipt code, so that a
# repeated send (a double click, a retry on a bad connection) shows the same
# confirmation instead of losing the code. Still sealed; gone after this.
SENT_LIFETIME = timedelta(seconds=60)
DRAFT = "draft"
FOLLOWUP = "followup"


def _handle(slot: str = DRAFT) -> tuple[str, bytes] | None:
    handle = session.get(slot)
    if not isinstance(handle, dict) or "id" not in handle or "key" not in handle:
        session.pop(slot, None)  # nothing, or a cookie from an older version
        return None
    return handle["id"], base64.b64decode(handle["key"])


def load_draft(slot: str = DRAFT) -> dict:
    handle = _handle(slot)
    if handle is None:
        return {}
    draft_id, key = handle
    row = db.session.get(Draft, draft_id)
    if row is None or row.sealed_answers is None or _expired(row):
        discard_draft(slot)  # forget it all, files included: a new draft gets a new id and key
        return {}
    try:
        plain = vault.open_sealed(key, row.sealed_answers, table="draft", row_id=draft_id, field="answers")
    except vault.VaultError:
        discard_draft(slot)
        return {}
    return json.loads(plain)


def _expired(row: Draft) -> bool:
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite drops the zone; times are stored in UTC
        expires = expires.replace(tzinfo=utcnow().tzinfo)
    return expires <= utcnow()


def mark_draft_sent(sent: dict) -> None:
    handle = _handle()
    if handle is None:
        return
    db.session.execute(sa.delete(DraftFile).where(DraftFile.draft_id == handle[0]))
    save_draft({"sent": sent}, lifetime=SENT_LIFETIME)


def claim_draft_for_sending() -> dict | None:
    """Take the answers for sending, atomically: the sealed answers are swapped
    for a 'sending' marker only if nobody changed them since they were read, so
    two simultaneous sends (a double click without JavaScript) store one report.
    Returns the answers, or None when another request has them."""
    handle = _handle()
    answers = load_draft()
    if handle is None or not answers or "sending" in answers or "sent" in answers:
        return None
    draft_id, key = handle
    current = db.session.get(Draft, draft_id).sealed_answers
    # The marker keeps the answers, so a send that dies half-way loses nothing.
    marker = vault.seal(key, json.dumps({"sending": time.time(), "answers": answers}).encode(),
                        table="draft", row_id=draft_id, field="answers")
    result = db.session.execute(
        sa.update(Draft).where(Draft.id == draft_id, Draft.sealed_answers == current).values(sealed_answers=marker)
    )
    db.session.commit()
    return answers if result.rowcount == 1 else None


def forget_sent_report() -> None:
    """Once the person has moved on, a sent report's code can never be shown again."""
    if load_draft().get("sent"):
        discard_draft()


def save_draft(answers: dict, lifetime: timedelta = DRAFT_IDLE_LIFETIME, slot: str = DRAFT) -> None:
    handle = _handle(slot)
    if handle is None:
        draft_id, key = secrets.token_urlsafe(32), vault.new_data_key()
        session[slot] = {"id": draft_id, "key": base64.b64encode(key).decode()}
    else:
        draft_id, key = handle
    sealed = vault.seal(
        key, json.dumps(answers).encode(), table="draft", row_id=draft_id, field="answers"
    )
    row = db.session.get(Draft, draft_id) or Draft(id=draft_id)
    row.sealed_answers = sealed
    row.expires_at = utcnow() + lifetime
    session.modified = True  # re-sign the cookie, so its age counts from the last activity
    db.session.add(row)
    purge_expired_drafts(commit=False)
    db.session.commit()


def discard_draft(slot: str = DRAFT) -> None:
    handle = _handle(slot)
    session.pop(slot, None)
    if handle is not None:
        db.session.execute(sa.delete(DraftFile).where(DraftFile.draft_id == handle[0]))
        db.session.execute(sa.delete(Draft).where(Draft.id == handle[0]))
        db.session.commit()


def purge_expired_drafts(commit: bool = True) -> int:
    expired = sa.select(Draft.id).where(Draft.expires_at <= utcnow())
    db.session.execute(sa.delete(DraftFile).where(DraftFile.draft_id.in_(expired)))
    result = db.session.execute(sa.delete(Draft).where(Draft.expires_at <= utcnow()))
    if commit:
        db.session.commit()
    return result.rowcount or 0


# --- evidence files in a draft ------------------------------------------------


def add_draft_file(evidence: EvidenceFile) -> int:
    """Seal a file with the draft's key; the draft must already exist."""
    draft_id, key = _handle()
    row = DraftFile(draft_id=draft_id, sealed_meta=b"", sealed_body=b"")
    db.session.add(row)
    db.session.flush()
    meta = json.dumps({"filename": evidence.filename, "content_type": evidence.content_type,
                       "size": len(evidence.data)}).encode()
    row.sealed_meta = vault.seal(key, meta, table="draft_file", row_id=row.id, field="meta")
    row.sealed_body = vault.seal(key, evidence.data, table="draft_file", row_id=row.id, field="body")
    db.session.commit()
    return row.id


def _draft_files() -> list[DraftFile]:
    handle = _handle()
    if handle is None:
        return []
    return list(db.session.scalars(sa.select(DraftFile).where(DraftFile.draft_id == handle[0]).order_by(DraftFile.id)))


def list_draft_files() -> list[dict]:
    """Id, name, type and size of each file, without opening the bodies."""
    key = _handle()[1] if _handle() else None
    out = []
    for row in _draft_files():
        meta = json.loads(vault.open_sealed(key, row.sealed_meta, table="draft_file", row_id=row.id, field="meta"))
        out.append({"id": row.id, **meta})
    return out


def load_draft_files() -> list[EvidenceFile]:
    key = _handle()[1] if _handle() else None
    files = []
    for row in _draft_files():
        meta = json.loads(vault.open_sealed(key, row.sealed_meta, table="draft_file", row_id=row.id, field="meta"))
        body = vault.open_sealed(key, row.sealed_body, table="draft_file", row_id=row.id, field="body")
        files.append(EvidenceFile(meta["filename"], meta["content_type"], body))
    return files


def remove_draft_file(file_id: int) -> None:
    handle = _handle()
    if handle is not None:
        db.session.execute(sa.delete(DraftFile).where(DraftFile.id == file_id, DraftFile.draft_id == handle[0]))
        db.session.commit()
