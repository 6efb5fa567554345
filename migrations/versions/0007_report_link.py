"""duplicates: staff link reports of one incident, each pair stored once

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("other_report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=False),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partner.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("report_id", "other_report_id"),
        # Lower id first: a pair cannot be stored twice the other way round.
        sa.CheckConstraint("report_id < other_report_id", name="ck_report_link_ordered"),
    )
    with op.batch_alter_table("report_link") as batch:
        batch.create_index("ix_report_link_other_report_id", ["other_report_id"])


def downgrade():
    op.drop_table("report_link")
