"""staff two-factor sign-in: the last TOTP step used, one-time recovery codes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_user_id", sa.Integer(), sa.ForeignKey("staff_user.id"), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("staff_user_id", "code_hash"),
    )
    with op.batch_alter_table("recovery_code") as batch:
        batch.create_index("ix_recovery_code_staff_user_id", ["staff_user_id"])


def downgrade():
    op.drop_table("recovery_code")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("totp_last_step")
