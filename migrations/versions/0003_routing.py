"""routing: e-mails recorded before they are sent, reports held by the
worker, the reporter's sealed address for news, a partner's duty lead

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KINDS = ("new_referral", "escalation", "reporter_news", "alert")


def upgrade():
    with op.batch_alter_table("partner") as batch:
        batch.add_column(sa.Column("duty_lead_email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("held_reason", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("notify_wrap", sa.LargeBinary(), nullable=True))
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="notificationkind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=96), nullable=False, unique=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("report.id"), nullable=True),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referral.id"), nullable=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partner.id"), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=True),
    )
    op.create_index("ix_notification_report_id", "notification", ["report_id"])
    op.create_index("ix_notification_unsent", "notification", ["sent_at", "next_attempt_at"])


def downgrade():
    op.drop_table("notification")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("notify_wrap")
        batch.drop_column("held_reason")
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("duty_lead_email")
