"""Send one recorded e-mail, once, retrying with backoff until it goes.

The row is locked while it is sent (another run of the same job skips it)
and marked sent in the same transaction. A worker killed after the mail
server accepted the e-mail but before the commit leaves it unsent, so it is
sent again: at most one duplicate per crash, with the same Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..domain import notices, queue
from ..extensions import db
from ..models import Notification, NotificationKind, utcnow

log = logging.getLogger(__name__)


def send_notification(notification_id: int) -> str:
    peek = db.session.execute(
        sa.select(Notification.kind, Notification.report_id).where(Notification.id == notification_id)
    ).first()
    if peek is not None and peek.kind == NotificationKind.REPORTER_NEWS:
        notices.news_turn(peek.report_id)  # before the row's lock: one worker at a time per report
    row = db.session.scalar(
        sa.select(Notification).where(Notification.id == notification_id).with_for_update(skip_locked=True)
    )
    if row is None or row.sent_at is not None:
        db.session.rollback()
        return "nothing to do"  # sent already, or being sent by another worker right now
    if row.kind == NotificationKind.REPORTER_NEWS:
        postponed = _news_later(row)
        if postponed:
            return postponed
    email = notices.compose(row)
    row.attempts += 1
    if email is not None:
        try:
            notices.deliver(email, row.id)
        except (smtplib.SMTPException, OSError) as exc:
            return _later(row, type(exc).__name__)
    row.sent_at = utcnow()
    row.recipients = len(email.to) if email else 0
    row.last_error = None
    if row.kind == NotificationKind.REPORTER_NEWS and email is not None:
        notices.news_sent(row)
    db.session.commit()
    return "sent"


def _news_later(row: Notification) -> str | None:
    """At most one "there is news" e-mail a day: one sent less than a day ago
    puts this off (the sweeper sends it when its time comes)."""
    later = notices.news_not_before(row)
    if later is None:
        return None
    row.next_attempt_at = later
    db.session.commit()
    return "later: one news e-mail a day at most"


def _later(row: Notification, error: str) -> str:
    waits = current_app.config["MAIL_RETRY_SECONDS"]
    wait = waits[min(row.attempts, len(waits)) - 1]
    row.last_error = error
    row.next_attempt_at = utcnow() + timedelta(seconds=wait)
    attempts, row_id = row.attempts, row.id
    db.session.commit()
    level = logging.ERROR if attempts >= len(waits) else logging.WARNING
    log.log(level, "notification %s not sent (attempt %s, %s); trying again in %ss", row_id, attempts, error, wait)
    queue.enqueue_notification(row_id, delay=wait, attempt=attempts)
    return f"not sent: {error}"
