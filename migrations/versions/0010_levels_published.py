"""reporting levels: a month's published files kept as first published; an e-mail saying they are ready

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = ("new_referral", "escalation", "reporter_news", "alert", "access_needed")


def _kinds(*kinds):
    return sa.Enum(*kinds, name="notificationkind", native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table("export_run") as batch:
        batch.add_column(sa.Column("rule", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
        batch.create_unique_constraint("export_run_month_kind_key", ["month", "kind"])
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("kind", type_=_kinds(*KINDS, "levels_ready"), existing_type=_kinds(*KINDS))


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'levels_ready'")
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("kind", type_=_kinds(*KINDS), existing_type=_kinds(*KINDS, "levels_ready"))
    with op.batch_alter_table("export_run") as batch:
        batch.drop_constraint("export_run_month_kind_key", type_="unique")
        batch.drop_column("data")
        batch.drop_column("rule")
