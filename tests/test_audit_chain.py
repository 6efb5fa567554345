"""The audit trail is tamper-evident: each event is chained to the one before
it by hash, in the order transactions ended; `flask mantra audit verify`
names an event that was edited, deleted or moved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mantra.domain import audit
from mantra.extensions import db
from mantra.models import AuditEvent


def _events(n: int) -> None:
    for i in range(n):
        audit.record("test.event", number=i)
        db.session.commit()  # each in its own transaction


def _verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["mantra", "audit", "verify"])
    return result.exit_code, result.output


def test_an_intact_chain_verifies_and_says_its_head(app):
    _events(5)
    code, output = _verify(app)
    assert code == 0 and "intact: 5 events chained" in output
    head = db.session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.chain_seq.desc()).limit(1))
    assert head.hex() in output


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
def test_an_edited_deleted_or_reordered_event_is_detected(app, tamper):
    _events(5)
    assert audit.chain() == 5
    db.session.commit()
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    if tamper == "edit":  # a database writer hides who did what
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == rows[2].id).values(detail={"number": 99}))
    elif tamper == "delete":
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == rows[2].id))
    else:  # swap the places of two events, hashes and all
        (a, seq_a), (b, seq_b) = (rows[1].id, rows[1].chain_seq), (rows[3].id, rows[3].chain_seq)
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a).values(chain_seq=-1))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == b).values(chain_seq=seq_a))
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == a).values(chain_seq=seq_b))
    db.session.commit()
    code, output = _verify(app)
    assert code != 0 and "tampered with" in output
    if tamper == "edit":
        assert f"event id {rows[2].id} was changed" in output


def test_events_are_chained_only_once_their_transaction_is_over_in_the_order_transactions_ended(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("transaction ids are PostgreSQL's")
    early = db.engine.connect()
    early_tx = early.begin()
    early.execute(
        sa.insert(AuditEvent.__table__).values(
            at=sa.func.now(),
            action="test.early",
            detail={},
            xid=sa.text("pg_current_xact_id()::text::bigint"),
        )
    )  # a transaction still running, holding an event
    _events(2)  # later transactions, already over
    assert audit.chain() == 0  # nothing after the oldest running transaction is chained yet
    db.session.commit()
    early_tx.commit()
    early.close()
    assert audit.chain() == 3
    db.session.commit()
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.chain_seq)).all()
    assert actions == ["test.early", "test.event", "test.event"]
    code, output = _verify(app)
    assert code == 0 and "3 events chained" in output
