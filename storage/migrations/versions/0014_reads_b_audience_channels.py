"""reads: a campaign's audience can be several channels (comma-separated in audience_channel)

Revision ID: 0014_reads_b
Revises: 0014_reads
Create Date: 2026-11-26 14:50:00
"""

import sqlmodel
from alembic import op

revision = "0014_reads_b"
down_revision = "0014_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.alter_column(
            "audience_channel",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
            type_=sqlmodel.sql.sqltypes.AutoString(length=120),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.alter_column(
            "audience_channel",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=120),
            type_=sqlmodel.sql.sqltypes.AutoString(length=20),
            existing_nullable=True,
        )
