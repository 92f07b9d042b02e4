"""reads: when a campaign message was read (where the platform says so), and its platform ids

Revision ID: 0014_reads
Revises: 0013_campaign_console
Create Date: 2026-11-26 14:45:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision = "0014_reads"
down_revision = "0013_campaign_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_ids", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True)
        )
        batch_op.add_column(sa.Column("read_at", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_outbox_chat", ["channel", "chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat")
        batch_op.drop_column("read_at")
        batch_op.drop_column("message_ids")
