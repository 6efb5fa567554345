"""universities are partners marked as serving students; a student's
university is stored by its partner slug (as long as any slug)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("partner") as batch:
        batch.add_column(sa.Column("serves_students", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("report") as batch:
        batch.alter_column("student_at", existing_type=sa.String(length=32), type_=sa.String(length=64))


def downgrade():
    with op.batch_alter_table("report") as batch:
        batch.alter_column("student_at", existing_type=sa.String(length=64), type_=sa.String(length=32))
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("serves_students")
