"""Messages between a reporter and the partners handling their report,
sealed with the report's data key."""

from __future__ import annotations

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import Message, MessageDirection
from . import audit
from .intake import EvidenceFile, OpenedReport, add_attachment


def add_message(
    opened: OpenedReport, body: str, direction: MessageDirection, evidence: EvidenceFile | None = None, **by
) -> int:
    """Seal and add a message (and a file with it); flushes, the caller commits."""
    message_id = db.session.execute(
        sa.insert(Message)
        .values(report_id=opened.report_id, direction=direction, sealed_body=b"", **by)
        .returning(Message.id)
    ).scalar_one()
    sealed = vault.seal(opened.data_key, body.encode(), table="message", row_id=message_id, field="body")
    db.session.execute(
        sa.update(Message).where(Message.id == message_id).values(sealed_body=sealed),
        execution_options={"synchronize_session": False},
    )
    if evidence is not None:
        add_attachment(opened.report, opened.data_key, evidence, message_id=message_id)
    audit.record(
        f"report.message.{direction.value}",
        report_id=opened.report_id,
        actor_id=by.get("author_id"),
        partner_id=by.get("partner_id"),
    )
    return message_id
