"""SQLModel tables. Alembic migrations in storage/migrations own the schema."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, TypeDecorator, UniqueConstraint
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
