"""Campaigns: subscriptions, campaigns, their outbox and the guides opened from them."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, when


class Subscription(SQLModel, table=True):
    """A contact's choice about campaign messages: opted out or not, and self-chosen tags.

    No row means subscribed with no tags: everybody who talked to the bot is a subscriber.
    """

    contact_id: int = Field(primary_key=True, foreign_key="contact.id", ondelete="CASCADE")
    opted_out: bool = False
    opted_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = when()


class Campaign(SQLModel, table=True):
    """One broadcast: the message, who gets it, when, and where it is in its life."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    text: str
    image: str | None = Field(default=None, max_length=500)  # a URL or a local file path
    guide_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Comma-separated channel names (Channel.name, as in Contact.channel); None: every channel.
    audience_channel: str | None = Field(default=None, max_length=120)
    audience_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Any of these villages (the profile's village tags); none: every village.
    audience_villages: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # Only people who opened this guide in the last `audience_guide_days` days.
    audience_guide: str | None = Field(default=None, max_length=80)
    audience_guide_days: int | None = None
    # draft -> scheduled -> sending -> finished; paused and cancelled on the way.
    state: str = Field(default="draft", max_length=12, index=True)
    scheduled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    alert_id: str | None = Field(default=None, max_length=80)
    survey_id: str | None = Field(default=None, max_length=40)  # a button that opens it
    created_by: str | None = Field(default=None, max_length=120)
    created_at: datetime = when()
    # Above CAMPAIGN_APPROVAL_OVER recipients a second staff member (not the author) approves.
    created_by_staff: int | None = None  # StaffMember.id of the author
    approved_by: str | None = Field(default=None, max_length=120)
    approved_by_staff: int | None = None
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class OutboxMessage(SQLModel, table=True):
    """One campaign message for one contact; the unique pair is what prevents a double send.

    States: pending -> sending (claimed and committed before the network call) -> sent, or
    failed / blocked / outside_window / opted_out / cancelled; 'sending' rows left behind by a
    dead worker become 'uncertain' and are never sent again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        # The claim query: this campaign's pending rows, oldest first.
        Index("ix_outbox_campaign_state", "campaign_id", "state", "id"),
        # A read receipt finds the person's rows: platforms send one for every message read.
        Index("ix_outbox_chat", "channel", "chat_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = when()
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    worker: str | None = Field(default=None, max_length=80)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    error: str | None = Field(default=None, max_length=300)
    # The platform's ids of the messages sent, space-separated: a read receipt that names
    # messages (Read.message_ids) finds its row by them.
    message_ids: str | None = Field(default=None, max_length=400)
    # When the person read it, where the platform reports reads (Channel.reports_reads).
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CampaignOpen(SQLModel, table=True):
    """A person opened a guide from a campaign message (its button): the reach figure's source."""

    __table_args__ = (UniqueConstraint("campaign_id", "contact_id", "guide_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    guide_id: str = Field(max_length=80)
    at: datetime = when()
