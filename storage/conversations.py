"""Queries of the conversation area: contacts, conversation state and the message event log."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.db import dialect_of, upsert_insert
from storage.models import (
    AnsweredMessage,
    Contact,
    Conversation,
    MessageEvent,
    SupportSession,
)

MAX_LOGGED_TEXT = 2000
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # when a new conversation was last active


async def touch_contact(
    session: AsyncSession, channel: str, chat_id: str, now: datetime, referral: str | None
) -> None:
    """Create the contact or mark it seen; the first referral is the one that brought them."""
    statement = upsert_insert(dialect_of(session), Contact).values(
        channel=channel,
        chat_id=chat_id,
        first_seen=now,
        last_seen=now,
        referral=referral,
        unreachable=False,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "chat_id"],
            set_={"last_seen": now, "unreachable": False},
        )
    )
    if referral:
        await session.execute(
            update(Contact)
            .where(Contact.channel == channel, Contact.chat_id == chat_id)
            .where(Contact.referral.is_(None))
            .values(referral=referral)
        )


async def get_contact(session: AsyncSession, channel: str, chat_id: str) -> Contact | None:
    result = await session.execute(
        select(Contact).where(Contact.channel == channel, Contact.chat_id == chat_id)
    )
    return result.scalar_one_or_none()


async def mark_unreachable(session: AsyncSession, channel: str, chat_id: str) -> None:
    """Stop sending to them; their next message (they unblocked us) makes them reachable again."""
    await session.execute(
        update(Contact)
        .where(Contact.channel == channel, Contact.chat_id == chat_id)
        .values(unreachable=True)
    )
    # The engine skips rewriting a contact seen minutes ago; forget that, so it is rewritten.
    await session.execute(
        update(Conversation)
        .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
        .values(updated_at=NEVER)
    )


# The statements of every turn are built once: building one and its cache key costs about as
# much Python as running it on SQLite. The values come as parameters.
@cache
def _state_query() -> Any:
    table = Conversation.__table__
    return (
        select(*table.columns, SupportSession)
        .outerjoin(SupportSession, SupportSession.id == table.c.session_id)
        .where(table.c.channel == bindparam("channel"), table.c.chat_id == bindparam("chat_id"))
    )


@cache
def _state_upsert(dialect: str) -> Any:
    table = Conversation.__table__
    statement = upsert_insert(dialect, table)
    keys = ("channel", "chat_id")
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
    )


@cache
def _log_insert() -> Any:
    return insert(MessageEvent.__table__)


async def load_state(
    session: AsyncSession, channel: str, chat_id: str, now: datetime
) -> tuple[Conversation, SupportSession | None]:
    """The state, detached from the session, and its current support session, in one statement.

    Handlers change the state and save_conversation writes it. The support session comes
    attached (in the session's identity map, so `get_session` finds it without a query, as
    long as the caller holds on to it); it is None when the conversation has none yet.
    """
    found = await session.execute(_state_query(), {"channel": channel, "chat_id": chat_id})
    row = found.one_or_none()
    if row is None:
        return Conversation(channel=channel, chat_id=chat_id, updated_at=NEVER), None
    *values, support_session = row
    names = Conversation.__table__.columns.keys()
    return Conversation(**dict(zip(names, values, strict=True))), support_session


async def load_conversation(
    session: AsyncSession, channel: str, chat_id: str, now: datetime
) -> Conversation:
    """The state, detached from the session: handlers change it, save_conversation writes it."""
    return (await load_state(session, channel, chat_id, now))[0]


async def save_conversation(session: AsyncSession, conversation: Conversation) -> None:
    """One upsert: a turn costs few round trips, which is most of its time on SQLite."""
    values = {c.name: getattr(conversation, c.name) for c in Conversation.__table__.columns}
    await session.execute(_state_upsert(dialect_of(session)), values)


async def log_events(session: AsyncSession, events: list[dict]) -> None:
    """Insert a turn's messages in and out in one statement."""
    for event in events:
        text = event.get("text")
        if isinstance(text, str):
            # PostgreSQL text cannot hold NUL; nobody types one on purpose.
            event["text"] = text.replace("\x00", "")[:MAX_LOGGED_TEXT]
    if events:
        # One executemany: every row names every column (what a caller left out is NULL).
        names = [c.name for c in MessageEvent.__table__.columns if c.name != "id"]
        rows = [{name: event.get(name) for name in names} for event in events]
        await session.execute(_log_insert(), rows)


async def earlier_answer(
    session: AsyncSession, channel: str, chat_id: str, message_id: str
) -> list[dict] | None:
    """What was answered to this message id before, if it was: a retry gets the same answer."""
    found = await session.execute(
        select(AnsweredMessage.replies).where(
            AnsweredMessage.channel == channel,
            AnsweredMessage.chat_id == chat_id,
            AnsweredMessage.message_id == message_id,
        )
    )
    return found.scalar_one_or_none()


async def remember_answer(
    session: AsyncSession, channel: str, chat_id: str, message_id: str, replies: list[dict],
    now: datetime,
) -> None:  # fmt: skip
    session.add(AnsweredMessage(channel=channel, chat_id=chat_id, message_id=message_id,
                                replies=replies, at=now))  # fmt: skip
