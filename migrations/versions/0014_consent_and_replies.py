"""the reporter stays in control: an e-mail telling a partner that consent was withdrawn; partners' reply templates

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = ("new_referral", "escalation", "reporter_news", "alert", "access_needed", "levels_ready")


def _kinds(*kinds):
    return sa.Enum(*kinds, name="notificationkind", native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("kind", type_=_kinds(*KINDS, "consent_withdrawn"), existing_type=_kinds(*KINDS))
    op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partner.id"), nullable=False, index=True),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("partner_id", "title", name="reply_template_partner_title_key"),
    )


def downgrade():
    op.drop_table("reply_template")
    op.execute("DELETE FROM notification WHERE kind = 'consent_withdrawn'")
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("kind", type_=_kinds(*KINDS), existing_type=_kinds(*KINDS, "consent_withdrawn"))
