"""reporting levels: whether a report was named or anonymous, as a facet (the name stays sealed)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("named", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Reports already sent count as anonymous until then: their names are sealed, and
    # statistics never decrypt. (None were sent before this release in production.)


def downgrade():
    with op.batch_alter_table("report") as batch:
        batch.drop_column("named")
