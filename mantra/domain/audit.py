"""Append-only audit events: who did what to which record, never content."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, utcnow

_INSERT = sa.insert(AuditEvent.__table__)


def record(action: str, *, actor_id=None, report_id=None, partner_id=None, **detail) -> None:
    """Add an event to the request's (or the job's) transaction. A plain
    INSERT on the transaction's connection: events are never read back or
    changed, so the ORM has nothing to track."""
    db.session.connection().execute(
        _INSERT,
        {
            "at": utcnow(),
            "action": action,
            "actor_id": actor_id,
            "report_id": report_id,
            "partner_id": partner_id,
            "detail": detail,
        },
    )
