"""a tamper-evident audit trail: each event chained to the one before it by hash

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("xid", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
        batch.create_unique_constraint("audit_event_chain_seq_key", ["chain_seq"])
    # Events already there are chained by the next housekeeping tick, in id order.


def downgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint("audit_event_chain_seq_key", type_="unique")
        for column in ("hash", "prev_hash", "chain_seq", "xid"):
            batch.drop_column(column)
