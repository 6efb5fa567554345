"""a password set by an administrator must be changed at the next sign-in; an e-mail asking a partner administrator to give a member access again

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS = ("new_referral", "escalation", "reporter_news", "alert")


def _kinds(*kinds):
    return sa.Enum(*kinds, name="notificationkind", native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("kind", type_=_kinds(*KINDS, "access_needed"), existing_type=_kinds(*KINDS))


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'access_needed'")
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("kind", type_=_kinds(*KINDS), existing_type=_kinds(*KINDS, "access_needed"))
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("must_change_password")
