"""Append-only audit events: who did what to which record, never content."""

from __future__ import annotations

from ..extensions import db
from ..models import AuditEvent


def record(action: str, *, actor_id=None, report_id=None, partner_id=None, **detail) -> AuditEvent:
    event = AuditEvent(action=action, actor_id=actor_id, report_id=report_id, partner_id=partner_id, detail=detail)
    db.session.add(event)
    return event
