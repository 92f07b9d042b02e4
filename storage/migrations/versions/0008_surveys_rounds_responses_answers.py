"""surveys: rounds, responses, answers

Revision ID: 0008_surveys
Revises: 0002_staff
Create Date: 2026-11-26 10:45:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0008_surveys"
down_revision = "0002_staff"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString
When = storage.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "surveyround",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", String(length=200), nullable=False),
        sa.Column("opened_at", When(timezone=True), nullable=False),
        sa.Column("closed_at", When(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "number"),
    )
    op.create_table(
        "surveyresponse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", String(length=32), nullable=False),
        sa.Column("channel", String(length=20), nullable=False),
        sa.Column("village", String(length=120), nullable=True),
        sa.Column("source", String(length=64), nullable=True),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("chat_id", String(length=128), nullable=True),
        sa.Column("started_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.Column("finished_at", When(timezone=True), nullable=True),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["surveyround.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "respondent"),
    )
    op.create_index(
        "ix_surveyresponse_results",
        "surveyresponse",
        ["round_id", "staff", "channel", "village", "finished_at", "stopped"],
    )
    op.create_table(
        "surveyanswer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("channel", String(length=20), nullable=False),
        sa.Column("village", String(length=120), nullable=True),
        sa.Column("question_id", String(length=40), nullable=False),
        sa.Column("choice", String(length=500), nullable=True),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", String(length=1000), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["surveyresponse.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["surveyround.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "question_id"),
    )
    op.create_index(
        "ix_surveyanswer_results",
        "surveyanswer",
        ["round_id", "staff", "question_id", "choice", "skipped", "channel", "village", "number"],
    )


def downgrade() -> None:
    op.drop_index("ix_surveyanswer_results", table_name="surveyanswer")
    op.drop_index("ix_surveyresponse_results", table_name="surveyresponse")
    op.drop_table("surveyanswer")
    op.drop_table("surveyresponse")
    op.drop_table("surveyround")
