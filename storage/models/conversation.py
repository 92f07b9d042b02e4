"""The conversation: contacts, their state, the message log, answers kept for retries."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, when

DISPLAY_NAME_CHARS = 100


class Contact(SQLModel, table=True):
    """Somebody who has talked to the bot on one channel."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    first_seen: datetime = when()
    last_seen: datetime = when()
    referral: str | None = Field(default=None, max_length=64)
    unreachable: bool = False
    # The name the platform showed for them, where it gives one, for the console;
    # personal data: erased with the contact, never logged.
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_CHARS)


class Conversation(SQLModel, table=True):
    """Where a person is in the conversation: any worker can pick it up from here."""

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=128)
    mode: str | None = Field(default=None, max_length=32)
    guide_id: str | None = Field(default=None, max_length=80)
    step: int = 0
    choices: list[str | None] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = when()
    # The current support session, read with the state in one statement (issue 17), and what
    # of it is not written yet: the last turn it counted (its `ended_at`) and, per guide opened
    # in it, [furthest step reached, furthest step written, finished]. handlers/sessions.py
    # writes a session's rows when a figure the reports count changes, and when it closes.
    session_id: int | None = None
    session_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    session_guides: dict[str, list[int]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


class MessageEvent(SQLModel, table=True):
    """One message in or out: the raw material of support logs and reports."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(index=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128, index=True)
    direction: str = Field(max_length=3)  # "in" or "out"
    handler: str | None = Field(default=None, max_length=40)
    guide_id: str | None = Field(default=None, max_length=80)
    step: int | None = None
    outcome: str | None = Field(default=None, max_length=20)
    text: str | None = None


class AnsweredMessage(SQLModel, table=True):
    """A message that carried its own id (the web chat's), with what was answered: a retry of
    the same message gets the same answer, never a second turn."""

    __table_args__ = (UniqueConstraint("channel", "chat_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    message_id: str = Field(max_length=64)
    replies: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    at: datetime = when(index=True)
