"""staff console: accounts, sessions, login failures, audit, claims, canned answers,
web-chat push, ticket assignees

Revision ID: 0007_console
Revises: 0002_staff
Depends on: 0004_support (hand-offs)
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0007_console"
down_revision = "0002_staff"
branch_labels = None
depends_on = ("0004_support",)

WHEN = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consoleaccount",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staffmember.id"), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("password_changed_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consoleaccount_staff_id", "consoleaccount", ["staff_id"])
    op.create_table(
        "consolesession",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("consoleaccount.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_consolesession_account_id", "consolesession", ["account_id"])
    op.create_table(
        "loginfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("at", "login", "address"):
        op.create_index(f"ix_loginfailure_{column}", "loginfailure", [column])
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auditevent_at", "auditevent", ["at"])
    op.create_index("ix_auditevent_account_id", "auditevent", ["account_id"])
    op.create_table(
        "handoffclaim",
        sa.Column(
            "handoff_id",
            sa.Integer(),
            sa.ForeignKey("handoff.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("consoleaccount.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("claimed_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("handoff_id"),
    )
    op.create_table(
        "cannedanswer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webchatmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webchatmessage_chat_id", "webchatmessage", ["chat_id"])
    op.create_table(
        "ticketassignee",
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("ticket.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("consoleaccount.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("assigned_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    # The console's ticket list: open and overdue first, each part in due-date order.
    op.create_index("ix_ticket_status_due", "ticket", ["status", "due"])


def downgrade() -> None:
    op.drop_index("ix_ticket_status_due", "ticket")
    for table in (
        "ticketassignee",
        "webchatmessage",
        "cannedanswer",
        "handoffclaim",
        "auditevent",
        "loginfailure",
        "consolesession",
        "consoleaccount",
    ):
        op.drop_table(table)
