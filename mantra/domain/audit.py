"""Append-only audit events: who did what to which record, never content."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, utcnow


def record(action: str, *, actor_id=None, report_id=None, partner_id=None, **detail) -> None:
    """Add an event to the request's (or the job's) transaction."""
    db.session.execute(
        sa.insert(AuditEvent).values(
            at=utcnow(), action=action, actor_id=actor_id, report_id=report_id, partner_id=partner_id, detail=detail
        )
    )
