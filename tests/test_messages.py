"""Messages are sealed to their own row: written whole where an id can be had
first (PostgreSQL), inserted then sealed where not (SQLite); both open."""

from __future__ import annotations

import re

import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import intake, messages
from mantra.extensions import db
from mantra.models import Message, MessageDirection

from .factories import make_partners, marked_submission, stored


def test_a_message_is_sealed_to_its_row_and_opens_on_either_database(any_app):
    _, area = make_partners()
    report, code = stored(marked_submission("MSG", area.id))
    opened = intake.open_with_receipt(code)
    written: list[str] = []
    listen = lambda _c, _cur, statement, *_a: written.append(statement)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        ids = [messages.add_message(opened, f"message {i}", MessageDirection.FROM_REPORTER) for i in range(40)]
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    assert len(set(ids)) == 40
    updates = [s for s in written if re.match(r"\s*UPDATE message", s)]
    assert (updates == []) == (db.engine.dialect.name == "postgresql")
    for i, message_id in enumerate(ids):
        row = db.session.get(Message, message_id)
        assert (
            vault.open_sealed(
                opened.data_key,
                row.sealed_body,
                table="message",
                row_id=messages.message_place(row.id, row.report_id, row.direction),
                field="body",
            )
            == f"message {i}".encode()
        )
        assert b"message" not in row.sealed_body
