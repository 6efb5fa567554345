"""Messages between a reporter and the partners handling their report,
sealed with the report's data key."""

from __future__ import annotations

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import Message, MessageDirection, utcnow
from . import audit, rowids
from .evidence import FileInfo
from .evidence import files as report_files
from .intake import EvidenceFile, OpenedReport, add_attachment

_MESSAGE = Message.__table__
_INSERT = sa.insert(_MESSAGE).returning(_MESSAGE.c.id)
_SEAL = sa.update(_MESSAGE).where(_MESSAGE.c.id == sa.bindparam("message_id"))


def message_place(message_id: int, report_id: int, direction: MessageDirection) -> str:
    """What a message's ciphertext is bound to: its row, its report and who wrote
    it, so a database writer cannot move it or turn a partner's words into the reporter's."""
    return f"{message_id}/report-{report_id}/{direction.value}"


def add_message(
    opened: OpenedReport, body: str, direction: MessageDirection, evidence: EvidenceFile | None = None, **by
) -> int:
    """Seal and add a message (and a file with it); the caller commits. Plain
    statements on the transaction's connection: this is the busiest write a
    reporter makes, and the ORM would only add work."""
    connection = db.session.connection()
    row = {
        "report_id": opened.report_id,
        "direction": direction,
        "created_at": utcnow(),
        "partner_id": by.get("partner_id"),
        "author_id": by.get("author_id"),
        "asks_reply": bool(by.get("asks")),
    }
    message_id = rowids.reserve(_MESSAGE)
    if message_id is not None:  # the sealed row written whole
        place = message_place(message_id, opened.report_id, direction)
        sealed = vault.seal(opened.data_key, body.encode(), table="message", row_id=place, field="body")
        connection.execute(_INSERT, {**row, "id": message_id, "sealed_body": sealed})
    else:  # no id to be had beforehand: insert, then seal with the id it got
        message_id = connection.execute(_INSERT, {**row, "sealed_body": b""}).scalar_one()
        place = message_place(message_id, opened.report_id, direction)
        sealed = vault.seal(opened.data_key, body.encode(), table="message", row_id=place, field="body")
        connection.execute(_SEAL, {"message_id": message_id, "sealed_body": sealed})
    if evidence is not None:
        add_attachment(opened.report, opened.data_key, evidence, message_id=message_id)
    audit.record(
        f"report.message.{direction.value}",
        report_id=opened.report_id,
        actor_id=by.get("author_id"),
        partner_id=by.get("partner_id"),
    )
    return message_id


def thread(opened: OpenedReport) -> list[dict]:
    """The messages of a report, oldest first, opened with its data key, each
    with its files (names and fingerprints). What will not open is None."""
    files: dict[int, list[FileInfo]] = {}
    for f in report_files(opened):
        if f.message_id is not None:
            files.setdefault(f.message_id, []).append(f)
    rows = db.session.scalars(
        sa.select(Message).where(Message.report_id == opened.report_id).order_by(Message.created_at, Message.id)
    )
    shown = []
    for m in rows:
        body = opened.open_or_none(m.sealed_body, "message", message_place(m.id, m.report_id, m.direction), "body")
        shown.append(
            {
                "from_reporter": m.direction == MessageDirection.FROM_REPORTER,
                "asks_reply": m.asks_reply,
                "at": m.created_at,
                "body": body.decode() if body is not None else None,
                "files": files.get(m.id, []),
            }
        )
    return shown
