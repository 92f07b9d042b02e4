"""the year so far against the targets: sessions and ratings counted from one index

Revision ID: 0013_console_year_index
Revises: 0010_turn
Create Date: 2026-11-26 13:30:00
"""

from alembic import op

revision = "0013_console_year_index"
down_revision = "0010_turn"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_supportsession_started_satisfaction", "supportsession", ["started_at", "satisfaction"]
    )


def downgrade() -> None:
    op.drop_index("ix_supportsession_started_satisfaction", table_name="supportsession")
