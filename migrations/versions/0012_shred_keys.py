"""erasure by crypto-shredding: each report's shred key in a key store apart from this database; when a report's content was erased or is planned to be; why a partner keeps a non-crime incident's record

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("shred_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erase_after", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("keep_reason", sa.String(length=32), nullable=True))
    from mantra.domain import shredding

    shredding.create_store()  # the key store's one table, in its own database


def downgrade():
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("keep_reason")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("erase_after")
        batch.drop_column("erased_at")
        batch.drop_column("shred_id")
