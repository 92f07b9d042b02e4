"""the webhook inbox serves every channel: zaloinboxevent -> inboxevent

Revision ID: 0006_inbox
Revises: 0003_zalo
Create Date: 2026-11-26 11:00:00
"""

from alembic import op

revision = "0006_inbox"
down_revision = "0003_zalo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zaloinboxevent", schema=None) as batch_op:
        batch_op.drop_index("ix_zaloinboxevent_processed_at")
    op.rename_table("zaloinboxevent", "inboxevent")
    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.create_index("ix_inboxevent_processed_at", ["processed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxevent_processed_at")
    op.rename_table("inboxevent", "zaloinboxevent")
    with op.batch_alter_table("zaloinboxevent", schema=None) as batch_op:
        batch_op.create_index("ix_zaloinboxevent_processed_at", ["processed_at"], unique=False)
