"""names: the contact's display name, as the platform gave it (issue 13: "name if known")

Revision ID: 0015_names
Revises: 0001
Create Date: 2026-11-26 17:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015_names"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("display_name")
