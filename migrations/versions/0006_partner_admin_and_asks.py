"""a partner administrator role; a partner's message can ask the reporter for more information

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROLES = ("triage", "centre", "coordinator", "admin")


def _roles(*roles):
    return sa.Enum(*roles, name="staffrole", native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("role", type_=_roles("triage", "partner_admin", *ROLES[1:]), existing_type=_roles(*ROLES))
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("asks_reply", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("message") as batch:
        batch.drop_column("asks_reply")
    op.execute("UPDATE staff_user SET role = 'triage' WHERE role = 'partner_admin'")
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("role", type_=_roles(*ROLES), existing_type=_roles("triage", "partner_admin", *ROLES[1:]))
