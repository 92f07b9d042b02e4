"""a campaign can carry a survey: its button opens the survey, its source is the campaign

Revision ID: 0011_campaign_survey
Revises: 0005_campaigns
Create Date: 2026-11-26 11:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011_campaign_survey"
down_revision = "0005_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("survey_id")
