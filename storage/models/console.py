"""The staff console: accounts, sessions, login failures, the audit log, claims, canned
answers and ticket assignees."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import when


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
    created_at: datetime = when()
    password_changed_at: datetime = when()


class ConsoleSession(SQLModel, table=True):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored."""

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="consoleaccount.id", ondelete="CASCADE", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = when()
    last_seen_at: datetime = when()


class LoginFailure(SQLModel, table=True):
    """A wrong password: counted per login and per address to slow guessing down."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(index=True)
    login: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)


class AuditEvent(SQLModel, table=True):
    """Who did what to whose data in the console (opened, answered, exported, erased)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(index=True)
    account_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=120)
    action: str = Field(max_length=32)
    target: str = Field(default="", max_length=64)  # "handoff:12", "contact:7", "ticket:PA-..."
    detail: str = Field(default="", max_length=300)


class HandoffClaim(SQLModel, table=True):
    """The staff member who took a hand-off in the console."""

    handoff_id: int = Field(primary_key=True, foreign_key="handoff.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="consoleaccount.id", ondelete="CASCADE")
    claimed_at: datetime = when()


class CannedAnswer(SQLModel, table=True):
    """A ready answer staff insert in one tap; admins keep the list."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=80)
    text: str
    created_at: datetime = when()


class TicketAssignee(SQLModel, table=True):
    """Who in the console is in charge of a ticket (reassignable)."""

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id", ondelete="CASCADE")
    account_id: int = Field(foreign_key="consoleaccount.id", ondelete="CASCADE")
    assigned_at: datetime = when()
