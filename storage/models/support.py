"""Support: staff members, sessions and ratings, hand-offs, feedback tickets, the in-person log."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.base import UTCDateTime, when


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
    created_at: datetime = when()


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
    started_at: datetime = when(index=True)
    ended_at: datetime = when()  # the last message so far
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
    opened_at: datetime = when(index=True)
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
    created_at: datetime = when(index=True)
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
    created_at: datetime = when()


# The console's ticket list reads open-and-overdue, then the rest, each in due-date order.
Index("ix_ticket_status_due", Ticket.status, Ticket.due)
