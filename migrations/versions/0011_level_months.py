"""reporting levels: a whole month's counts kept for the dashboard, with a generation that every change to the month moves on

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "level_month",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("counted_generation", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("level_month")
