"""Alembic: the migrations build the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mantra.extensions import db


def test_migrated_schema_matches_the_models(any_app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_are_at_head(any_app):
    with db.engine.connect() as conn:
        version = conn.exec_driver_sql("select version_num from alembic_version").scalar()
    assert version == "0001"
