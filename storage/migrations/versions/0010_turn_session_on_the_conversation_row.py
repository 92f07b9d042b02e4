"""the current support session on the conversation row: read with the state in one statement

Revision ID: 0010_turn
Revises: 0004_support
Create Date: 2026-11-26 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0010_turn"
down_revision = "0004_support"
branch_labels = None
depends_on = None

# Until now the session id lived in the state's JSON (`data.session`): copy it to the column.
COPY_SESSION_ID = {
    "sqlite": (
        "UPDATE conversation SET session_id = json_extract(data, '$.session') "
        "WHERE json_type(data, '$.session') = 'integer'"
    ),
    "postgresql": (
        "UPDATE conversation SET session_id = (data ->> 'session')::integer "
        "WHERE (data ->> 'session') ~ '^[0-9]{1,9}$'"
    ),
}
# And back, for the code before this revision.
COPY_SESSION_ID_BACK = {
    "sqlite": (
        "UPDATE conversation SET data = json_set(data, '$.session', session_id) "
        "WHERE session_id IS NOT NULL"
    ),
    "postgresql": (
        "UPDATE conversation SET data = "
        "(data::jsonb || jsonb_build_object('session', session_id))::json "
        "WHERE session_id IS NOT NULL"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("session_seen_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("session_guides", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    op.execute(COPY_SESSION_ID[op.get_bind().dialect.name])


def downgrade() -> None:
    op.execute(COPY_SESSION_ID_BACK[op.get_bind().dialect.name])
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("session_guides")
        batch_op.drop_column("session_seen_at")
        batch_op.drop_column("session_id")
