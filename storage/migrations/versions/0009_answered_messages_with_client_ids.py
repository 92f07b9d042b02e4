"""answered messages: a client's message id, answered once

Revision ID: 0009_answered
Revises: 0006_inbox
Create Date: 2026-11-26 11:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0009_answered"
down_revision = "0006_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answeredmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_id", "message_id"),
    )
    with op.batch_alter_table("answeredmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answeredmessage_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answeredmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answeredmessage_at"))
    op.drop_table("answeredmessage")
