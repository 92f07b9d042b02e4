"""Platform plumbing: webhook events kept before they are processed, OAuth tokens, replies
kept for a platform that refused them for a moment, the web chat's messages from staff."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, when


class OAuthToken(SQLModel, table=True):
    """An OAuth pair whose refresh token works once: this row is the only copy that counts."""

    app_id: str = Field(primary_key=True, max_length=32)
    access_token: str = ""  # empty until the first refresh
    refresh_token: str
    access_expires_at: datetime = when()
    refresh_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime = when()


class InboxEvent(SQLModel, table=True):
    """A webhook event stored before it is acknowledged, so a crash cannot lose it."""

    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=128)  # the platform's message id: redeliveries collide here
    chat_id: str = Field(default="", max_length=128)
    body: str  # the event as received
    received_at: datetime = when()
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = 0
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))


WEB_CHAT = "web"  # the channel whose pages read WebChatMessage


class WebChatMessage(SQLModel, table=True):
    """A message for a web-chat page that asked nothing: pushed live, shown again on reload."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128, index=True)
    at: datetime = when()
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PendingReply(SQLModel, table=True):
    """A turn's replies a platform refused for a moment (5xx, timeout): kept and sent again in
    order by bot/reply_outbox.py, never twice. `skip` counts the platform messages of the turn
    already delivered or reported uncertain (sent, but the platform's answer never came)."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    replies: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    skip: int = 0
    uncertain: int = 0  # messages of this turn that may or may not have arrived: never resent
    state: str = Field(default="pending", max_length=12, index=True)  # pending sending sent failed
    attempts: int = 0
    created_at: datetime = when()
    next_attempt_at: datetime = when()
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    worker: str | None = Field(default=None, max_length=80)
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    error: str | None = Field(default=None, max_length=300)


Index("ix_pendingreply_chat", PendingReply.channel, PendingReply.chat_id, PendingReply.id)
