"""a neutral name for the OAuth token store: zalotoken -> oauthtoken

Revision ID: 0012_tokens
Revises: 0006_inbox
Create Date: 2026-11-26 12:00:00
"""

from alembic import op

revision = "0012_tokens"
down_revision = "0006_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("zalotoken", "oauthtoken")


def downgrade() -> None:
    op.rename_table("oauthtoken", "zalotoken")
