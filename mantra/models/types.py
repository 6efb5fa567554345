"""Column types shared by the tables: times in UTC, enums stored by value."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite drops the zone; every time is stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def enum_column(cls: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its value, as VARCHAR with a CHECK, on both databases."""
    return sa.Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        name=cls.__name__.lower(),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


Timestamp = sa.DateTime(timezone=True)
