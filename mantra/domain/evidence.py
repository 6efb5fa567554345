"""Evidence files of a report (sent with it, or later with a message), opened
with the report's data key. Only the screened, re-encoded copy was ever
stored; its type is checked again here before anyone is given it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Attachment
from .intake import EvidenceFile, OpenedReport, attachment_place

# What screening lets through; anything else in a row was not written by it.
TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileInfo:
    id: int
    message_id: int | None
    at: datetime
    filename: str | None  # None: it would not open (moved or altered in the database)
    content_type: str | None
    # SHA-256 of the bytes sent and of the stored copy; None: not recorded (an older file)
    received_sha256: str | None = None
    stored_sha256: str | None = None


def _open(opened: OpenedReport, a: Attachment, field: str) -> bytes | None:
    return opened.open_or_none(getattr(a, f"sealed_{field}"), "attachment", attachment_place(a), field)


def _sha256(value) -> str | None:
    """A fingerprint as the metadata gives it, only if it is one."""
    return value if isinstance(value, str) and SHA256.fullmatch(value) else None


def _meta(opened: OpenedReport, a: Attachment) -> tuple[str | None, str | None, str | None, str | None]:
    """Name, type and the two fingerprints; None for what would not open or is not what screening writes."""
    meta = _open(opened, a, "meta")
    try:
        found = json.loads(meta) if meta else {}
        name, kind = found.get("filename"), found.get("content_type")
    except (ValueError, AttributeError):
        return None, None, None, None
    if not isinstance(name, str) or kind not in TYPES:
        return None, None, None, None
    # As screening named it; cleaned again, as a header will carry it (a line break would break the download).
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\"')[:120] or "evidence"
    return name, kind, _sha256(found.get("received_sha256")), _sha256(found.get("stored_sha256"))


def files(opened: OpenedReport) -> list[FileInfo]:
    """Every file of the report, oldest first (names and types opened, not the files)."""
    rows = db.session.scalars(
        sa.select(Attachment).where(Attachment.report_id == opened.report_id).order_by(Attachment.id)
    )
    return [FileInfo(a.id, a.message_id, a.created_at, *_meta(opened, a)) for a in rows]


def open_file(opened: OpenedReport, attachment_id: int) -> EvidenceFile | None:
    """One file of this report, or None (another report's, or it will not open)."""
    a = db.session.scalar(
        sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.report_id == opened.report_id)
    )
    if a is None:
        return None
    name, kind, *_ = _meta(opened, a)
    body = _open(opened, a, "body") if name else None
    return EvidenceFile(name, kind, body) if body is not None else None
