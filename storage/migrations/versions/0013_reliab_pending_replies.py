"""pending replies: a citizen's answer a platform refused for a moment, sent again later

Revision ID: 0013_reliab_replies
Revises: 0001
Create Date: 2026-11-26 14:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0013_reliab_replies"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = storage.models.UTCDateTime(timezone=True)
    op.create_table(
        "pendingreply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("skip", sa.Integer(), nullable=False),
        sa.Column("uncertain", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("next_attempt_at", when, nullable=False),
        sa.Column("claimed_at", when, nullable=True),
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("finished_at", when, nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pendingreply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pendingreply_state"), ["state"], unique=False)
        batch_op.create_index("ix_pendingreply_chat", ["channel", "chat_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pendingreply", schema=None) as batch_op:
        batch_op.drop_index("ix_pendingreply_chat")
        batch_op.drop_index(batch_op.f("ix_pendingreply_state"))
    op.drop_table("pendingreply")
