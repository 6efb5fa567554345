"""Append-only audit events: who did what to which record, never content.

Tamper-evident: every event is chained to the one before it, hash =
SHA-256(previous hash + the event's canonical form), so an event edited,
deleted or moved in the database breaks the chain at that point, and
`flask mantra audit verify` says where.

Events are chained in the order their transactions ended, not when they were
written, and without a lock held by every request. Each event records its
transaction's id. The housekeeping tick (`chain`) takes the events whose
transactions are all over, because their id is below the oldest transaction
still running (`pg_snapshot_xmin`). It orders them by transaction and id and
links them to the head. No event can later appear before an event already
chained, because transaction ids only grow. SQLite has one writer at a time,
so there it chains in id order. Keep the head hash somewhere else (it is
printed by `verify`) to detect a rewrite of the whole chain.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import AuditEvent, Partner, Report, StaffUser, as_utc, utcnow

_EVENT = AuditEvent.__table__
_INSERT = sa.insert(_EVENT)
GENESIS = bytes(32)
_LOCK = 7_245_001  # advisory lock: one chainer at a time


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def record(action: str, *, actor_id=None, report_id=None, partner_id=None, **detail) -> None:
    """Add an event to the request's (or the job's) transaction. A plain
    INSERT on the transaction's connection: events are never read back or
    changed, so the ORM has nothing to track."""
    values = {
        "at": utcnow(),
        "action": action,
        "actor_id": actor_id,
        "report_id": report_id,
        "partner_id": partner_id,
        "detail": detail,
    }
    if _postgres():
        values["xid"] = sa.text("pg_current_xact_id()::text::bigint")
    db.session.connection().execute(_INSERT.values(**values))


def canonical(event) -> bytes:
    """What an event's hash covers: every column that says what happened."""
    return json.dumps(
        {
            "id": event.id,
            "at": as_utc(event.at).isoformat(),
            "action": event.action,
            "actor_id": event.actor_id,
            "report_id": event.report_id,
            "partner_id": event.partner_id,
            "detail": event.detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def link(prev_hash: bytes, event) -> bytes:
    return hashlib.sha256(prev_hash + canonical(event)).digest()


def _head() -> tuple[int, bytes]:
    last = db.session.execute(
        sa.select(_EVENT.c.chain_seq, _EVENT.c.hash)
        .where(_EVENT.c.chain_seq.is_not(None))
        .order_by(_EVENT.c.chain_seq.desc())
        .limit(1)
    ).first()
    return (last.chain_seq, last.hash) if last else (0, GENESIS)


def chain(batch: int = 5000) -> int:
    """Chain the events whose transactions are over; the caller commits."""
    unchained = sa.select(_EVENT).where(_EVENT.c.chain_seq.is_(None))
    if _postgres():
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        horizon = db.session.scalar(sa.text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        unchained = unchained.where(sa.or_(_EVENT.c.xid.is_(None), _EVENT.c.xid < horizon)).order_by(
            sa.func.coalesce(_EVENT.c.xid, 0), _EVENT.c.id
        )
    else:
        unchained = unchained.order_by(_EVENT.c.id)
    seq, prev = _head()
    done = 0
    for event in db.session.execute(unchained.limit(batch)).all():
        this = link(prev, event)
        seq += 1
        db.session.execute(
            sa.update(_EVENT).where(_EVENT.c.id == event.id).values(chain_seq=seq, prev_hash=prev, hash=this)
        )
        prev = this
        done += 1
    return done


class Broken(Exception):
    """Where the chain breaks, and how."""


def verify() -> tuple[int, bytes, int]:
    """Walk the chain; returns (events chained, head hash, events not yet
    chained), or raises Broken naming the first event that does not fit."""
    prev, count, expected_seq = GENESIS, 0, 1
    for event in db.session.execute(
        sa.select(_EVENT).where(_EVENT.c.chain_seq.is_not(None)).order_by(_EVENT.c.chain_seq)
    ):
        if event.chain_seq != expected_seq:
            raise Broken(f"event {expected_seq} of the chain is missing (deleted?) before event id {event.id}")
        if event.prev_hash != prev:
            raise Broken(f"event id {event.id} does not follow the one before it (deleted or reordered)")
        if event.hash != link(prev, event):
            raise Broken(f"event id {event.id} was changed after it was recorded")
        prev, count, expected_seq = event.hash, count + 1, expected_seq + 1
    pending = db.session.scalar(sa.select(sa.func.count()).select_from(_EVENT).where(_EVENT.c.chain_seq.is_(None)))
    return count, prev, pending


PAGE_SIZE = 50


def page(partner_id: int | None, *, action: str | None = None, reference: str | None = None, number: int = 1):
    """One page of the trail, newest first, with the names behind the ids; the
    events recorded for one partner or, with None, everyone's. Returns (rows, total)."""
    actor = aliased(StaffUser)
    query = (
        sa.select(
            _EVENT.c.id,
            _EVENT.c.at,
            _EVENT.c.action,
            _EVENT.c.detail,
            _EVENT.c.chain_seq,
            actor.display_name.label("actor"),
            Partner.name.label("partner"),
            Report.reference.label("reference"),
        )
        .outerjoin(actor, actor.id == _EVENT.c.actor_id)
        .outerjoin(Partner, Partner.id == _EVENT.c.partner_id)
        .outerjoin(Report, Report.id == _EVENT.c.report_id)
    )
    if partner_id is not None:  # the partner's own records and its members' actions (both carry its id)
        query = query.where(_EVENT.c.partner_id == partner_id)
    if action:
        query = query.where(_EVENT.c.action == action)
    if reference:
        query = query.where(Report.reference == reference)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(_EVENT.c.at.desc(), _EVENT.c.id.desc()).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    ).all()
    return rows, total


def actions(partner_id: int | None) -> list[str]:
    query = sa.select(_EVENT.c.action).distinct().order_by(_EVENT.c.action)
    if partner_id is not None:
        query = query.where(_EVENT.c.partner_id == partner_id)
    return list(db.session.scalars(query))
