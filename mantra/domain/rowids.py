"""Ids chosen before a row is written. A sealed field is bound to its row's
id, so without one the row must be inserted and then updated; with one, the
sealed row is written whole in one INSERT.

On PostgreSQL the ids come from the table's own sequence, a batch at a time
per process: a sequence never hands a value out twice, so they are unique
across every web and worker process (an id that goes unused is only a gap).
SQLite has no sequence: `reserve` returns None and the caller inserts first.
"""

from __future__ import annotations

from collections import defaultdict, deque

import sqlalchemy as sa

from ..extensions import db

BATCH = 32
_NEXT = sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
_reserved: defaultdict[tuple[str, str], deque[int]] = defaultdict(deque)


def reserve(table: sa.Table) -> int | None:
    engine = db.session.get_bind()
    if engine.dialect.name != "postgresql":
        return None
    ids = _reserved[(engine.url.render_as_string(), table.name)]
    try:
        return ids.popleft()
    except IndexError:
        fetched = db.session.connection().execute(_NEXT, {"table": table.name, "n": BATCH}).scalars().all()
        ids.extend(fetched[1:])
        return fetched[0]
