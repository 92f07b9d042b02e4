"""SQLModel tables. Alembic migrations in storage/migrations own the schema."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database: use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=False, **kwargs))


class Contact(SQLModel, table=True):
    """Somebody who has talked to the bot on one channel."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=128)
    first_seen: datetime = _when()
    last_seen: datetime = _when()
    referral: str | None = Field(default=None, max_length=64)
    unreachable: bool = False


class Conversation(SQLModel, table=True):
    """Where a person is in the conversation: any worker can pick it up from here."""

    channel: str = Field(primary_key=True, max_length=20)
    chat_id: str = Field(primary_key=True, max_length=128)
    mode: str | None = Field(default=None, max_length=32)
    guide_id: str | None = Field(default=None, max_length=80)
    step: int = 0
    choices: list[str | None] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when()
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
    at: datetime = _when(index=True)
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
    at: datetime = _when(index=True)


class StaffMember(SQLModel, table=True):
    """A centre employee or a community digital team volunteer, known by their chat account."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    role: str = Field(max_length=10)  # "staff" or "volunteer"
    code: str | None = Field(default=None, max_length=16, unique=True)  # volunteer code, e.g. TV05
    channel: str | None = Field(default=None, max_length=20)
    chat_id: str | None = Field(default=None, max_length=128)
    active: bool = True
    created_at: datetime = _when()


# --- support sessions, ratings, hand-offs, feedback tickets, in-person log (issue 7) ---------


class SupportSession(SQLModel, table=True):
    """One visit of a citizen: opens after a silence, closes when the next silence begins."""

    # The year so far's sessions and ratings are counted from this index alone (the report's
    # targets): a year of a large commune, never read row by row.
    __table_args__ = (
        Index("ix_supportsession_started_satisfaction", "started_at", "satisfaction"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    contact_ref: str | None = Field(default=None, max_length=32, index=True)  # pseudonym
    started_at: datetime = _when(index=True)
    ended_at: datetime = _when()  # the last message so far
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(default="abandoned", max_length=12)  # see handlers/sessions.py OUTCOMES
    referral: str | None = Field(default=None, max_length=64)
    rating_asked: bool = False
    helpful: bool | None = None
    satisfaction: int | None = None  # 1 Rất hài lòng, 2 Hài lòng, 3 Chưa hài lòng
    comment: str | None = None


class SessionGuide(SQLModel, table=True):
    """A guide opened in a session: the furthest step reached and whether it was finished."""

    session_id: int = Field(foreign_key="supportsession.id", primary_key=True, ondelete="CASCADE")
    guide_id: str = Field(primary_key=True, max_length=80)
    furthest_step: int = 1
    finished: bool = False


class Handoff(SQLModel, table=True):
    """A citizen's question handed to the staff group, until a staff member closes it."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int | None = Field(default=None, index=True)
    channel: str = Field(max_length=20)
    chat_id: str | None = Field(default=None, max_length=128)  # None once the citizen erased it
    question: str | None = None
    opened_at: datetime = _when(index=True)
    first_response_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Ticket(SQLModel, table=True):
    """A feedback ticket (phản ánh, kiến nghị) with a readable number and a due date."""

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # PA-2026-000123
    channel: str = Field(max_length=20)
    chat_id: str | None = Field(default=None, max_length=128)  # None once the citizen erased it
    content: str
    reply_contact: str | None = Field(default=None, max_length=200)
    status: str = Field(default="open", max_length=10)  # open, answered, closed
    created_at: datetime = _when(index=True)
    due: date
    answer: str | None = None
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    answered_by: str | None = Field(default=None, max_length=120)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class TicketCounter(SQLModel, table=True):
    """The last ticket number given out in a year; bumped in the ticket's own transaction."""

    year: int = Field(primary_key=True)
    last: int = 0


class StaffThread(SQLModel, table=True):
    """A message the bot posted in the staff group, and the hand-off or ticket it is about."""

    channel: str = Field(primary_key=True, max_length=20)
    message_id: str = Field(primary_key=True, max_length=64)
    handoff_id: int | None = Field(default=None, foreign_key="handoff.id", ondelete="CASCADE")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", ondelete="CASCADE")


class SupportLogEntry(SQLModel, table=True):
    """Help given in person: at the counter, at a market-day stall, at a village meeting."""

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    topic: str = Field(max_length=120)
    place: str = Field(max_length=120)
    people: int = 1
    submitted_online: bool = False
    helper_id: int | None = Field(default=None, foreign_key="staffmember.id")
    helper_name: str = Field(max_length=120)
    created_at: datetime = _when()


class OAuthToken(SQLModel, table=True):
    """An OAuth pair whose refresh token works once: this row is the only copy that counts."""

    app_id: str = Field(primary_key=True, max_length=32)
    access_token: str = ""  # empty until the first refresh
    refresh_token: str
    access_expires_at: datetime = _when()
    refresh_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime = _when()


class InboxEvent(SQLModel, table=True):
    """A webhook event stored before it is acknowledged, so a crash cannot lose it."""

    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=128)  # the platform's message id: redeliveries collide here
    chat_id: str = Field(default="", max_length=128)
    body: str  # the event as received
    received_at: datetime = _when()
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = 0
    processed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), index=True)
    )


# -- campaigns and subscribers (issue 8) ----------------------------------------------------


class Subscription(SQLModel, table=True):
    """A contact's choice about campaign messages: opted out or not, and self-chosen tags.

    No row means subscribed with no tags: everybody who talked to the bot is a subscriber.
    """

    contact_id: int = Field(primary_key=True, foreign_key="contact.id", ondelete="CASCADE")
    opted_out: bool = False
    opted_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when()


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
    created_at: datetime = _when()
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
    next_attempt_at: datetime = _when()
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
    at: datetime = _when()


# -- surveys (issue 16) ---------------------------------------------------------------------


class SurveyRound(SQLModel, table=True):
    """One round of a survey (content/surveys/<id>.yaml), opened and closed by staff."""

    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(max_length=40)
    number: int  # 1, 2, ... per survey: "the change since the previous round" compares these
    title: str = Field(max_length=200)  # as it was when opened: results outlive content edits
    opened_at: datetime = _when()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class SurveyResponse(SQLModel, table=True):
    """One person's answers in one round: at most one per person, kept when they stop.

    `respondent` is a keyed hash of the chat and the round: it finds the person's own response
    (to continue it, to refuse a second one) but cannot be joined to anything else. Only a
    survey marked `named` keeps the chat id.
    """

    __table_args__ = (
        UniqueConstraint("round_id", "respondent"),
        Index(
            "ix_surveyresponse_results",
            "round_id", "staff", "channel", "village", "finished_at", "stopped",
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="surveyround.id")
    respondent: str = Field(max_length=32)
    channel: str = Field(max_length=20)
    village: str | None = Field(default=None, max_length=120)  # the contact's village tag
    source: str | None = Field(default=None, max_length=64)  # poster, TV05, c12: who sent them
    staff: bool = False  # answered by a registered staff member: never counted
    chat_id: str | None = Field(default=None, max_length=128)  # named surveys only
    started_at: datetime = _when()
    updated_at: datetime = _when()
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stopped: bool = False  # said "dừng"; may continue later


class SurveyAnswer(SQLModel, table=True):
    """One question answered (or skipped) in a response; see bot/surveys/definitions.py.

    The round, channel, village and staff flag are copies of the response's: results group
    a round's answers by them in one pass over one index (100,000 responses in well under
    2 s, bench/surveys.py) instead of joining and sorting a million rows.
    """

    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        Index(
            "ix_surveyanswer_results",
            "round_id", "staff", "question_id", "choice", "skipped", "channel", "village", "number",
        ),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="surveyresponse.id", ondelete="CASCADE")
    round_id: int = Field(foreign_key="surveyround.id")
    staff: bool = False
    channel: str = Field(max_length=20)
    village: str | None = Field(default=None, max_length=120)
    question_id: str = Field(max_length=40)
    choice: str | None = Field(default=None, max_length=500)  # option id(s), co/khong, 1..5
    number: float | None = None
    text: str | None = Field(default=None, max_length=1000)  # redacted before it gets here
    skipped: bool = False


# -- the staff console (issue 13) -----------------------------------------------------------


class ConsoleAccount(SQLModel, table=True):
    """A login to the staff console, linked to the staff member it belongs to.

    Kept apart from StaffMember: that table's role ("staff"/"volunteer") is what the chat
    commands check, while console roles add "admin"; the password hash stays out of listings.
    """

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staffmember.id", index=True)
    login: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=10)  # "admin", "staff" or "volunteer"
    disabled: bool = False
    created_at: datetime = _when()
    password_changed_at: datetime = _when()


class ConsoleSession(SQLModel, table=True):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored."""

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="consoleaccount.id", ondelete="CASCADE", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = _when()
    last_seen_at: datetime = _when()


class LoginFailure(SQLModel, table=True):
    """A wrong password: counted per login and per address to slow guessing down."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    login: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what to whose data in the console (opened, answered, exported, erased)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    account_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=120)
    action: str = Field(max_length=32)
    target: str = Field(default="", max_length=64)  # "handoff:12", "contact:7", "ticket:PA-..."
    detail: str = Field(default="", max_length=300)


class HandoffClaim(SQLModel, table=True):
    """The staff member who took a hand-off in the console."""

    handoff_id: int = Field(primary_key=True, foreign_key="handoff.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="consoleaccount.id", ondelete="CASCADE")
    claimed_at: datetime = _when()


class CannedAnswer(SQLModel, table=True):
    """A ready answer staff insert in one tap; admins keep the list."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=80)
    text: str
    created_at: datetime = _when()


class WebChatMessage(SQLModel, table=True):
    """A message for a web-chat page that asked nothing: pushed live, shown again on reload."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=128, index=True)
    at: datetime = _when()
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TicketAssignee(SQLModel, table=True):
    """Who in the console is in charge of a ticket (reassignable)."""

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="consoleaccount.id", ondelete="CASCADE")
    assigned_at: datetime = _when()


# The console's ticket list reads open-and-overdue, then the rest, each in due-date order.
Index("ix_ticket_status_due", Ticket.status, Ticket.due)


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
    created_at: datetime = _when()
    next_attempt_at: datetime = _when()
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    worker: str | None = Field(default=None, max_length=80)
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    error: str | None = Field(default=None, max_length=300)


Index("ix_pendingreply_chat", PendingReply.channel, PendingReply.chat_id, PendingReply.id)
