"""a reporting centre's public contact details: address, phone and opening hours, shown under 'Other ways to report'

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("partner") as batch:
        batch.add_column(sa.Column("public_address", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("public_phone", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("opening_hours", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("opening_hours")
        batch.drop_column("public_phone")
        batch.drop_column("public_address")
