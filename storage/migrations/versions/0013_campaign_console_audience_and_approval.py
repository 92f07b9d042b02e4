"""campaigns from the console: audience by village and guide opened, a second staff approval

Revision ID: 0013_campaign_console
Revises: 0011_campaign_survey
Create Date: 2026-11-26 13:20:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.models import UTCDateTime

revision = "0013_campaign_console"
down_revision = "0011_campaign_survey"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audience_villages", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("audience_guide", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(sa.Column("audience_guide_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by_staff", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.add_column(sa.Column("approved_by_staff", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        for name in ("approved_at", "approved_by_staff", "approved_by", "created_by_staff",
                     "audience_guide_days", "audience_guide", "audience_villages"):  # fmt: skip
            batch_op.drop_column(name)
