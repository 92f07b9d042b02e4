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
from storage.models.conversation import DISPLAY_NAME_CHARS

MAX_LOGGED_TEXT = 2000
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # when a new conversation was last active


async def touch_contact(
    session: AsyncSession, channel: str, chat_id: str, now: datetime, referral: str | None,
    name: str | None = None,
) -> None:  # fmt: skip
    """Create the contact or mark it seen; the first referral is the one that brought them.
    A name the platform gave replaces the one kept (people rename themselves); no name keeps it."""
    name = " ".join(name.split())[:DISPLAY_NAME_CHARS] if name else None
    statement = upsert_insert(dialect_of(session), Contact).values(
        channel=channel,
        chat_id=chat_id,
        first_seen=now,
        last_seen=now,
        referral=referral,
        unreachable=False,
        display_name=name or None,
    )
    seen: dict[str, Any] = {"last_seen": now, "unreachable": False}
    if name:
        seen["display_name"] = name
    await session.execute(
        statement.on_conflict_do_update(index_elements=["channel", "chat_id"], set_=seen)
    )
    if referral:
        await session.execute(
            update(Contact)
            .where(Contact.channel == channel, Contact.chat_id == chat_id)
            .where(Contact.referral.is_(None))
            .values(referral=referral)
        )


async def contact_needs_name(session: AsyncSession, channel: str, chat_id: str) -> bool:
    """Whether the contact exists (was not erased meanwhile) and has no name yet."""
    found = await session.execute(
        select(Contact.id).where(
            Contact.channel == channel, Contact.chat_id == chat_id, Contact.display_name.is_(None)
        )
    )
    return found.first() is not None


async def name_contact(session: AsyncSession, channel: str, chat_id: str, name: str) -> None:
    """Keep a name learnt after the turn (a platform's profile look-up); one already kept stays."""
    await session.execute(
        update(Contact)
        .where(Contact.channel == channel, Contact.chat_id == chat_id)
        .where(Contact.display_name.is_(None))
        .values(display_name=" ".join(name.split())[:DISPLAY_NAME_CHARS])
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
def _state_query(with_answer: bool = False) -> Any:
    table = Conversation.__table__
    query = (
        select(*table.columns, SupportSession)
        .outerjoin(SupportSession, SupportSession.id == table.c.session_id)
        .where(table.c.channel == bindparam("channel"), table.c.chat_id == bindparam("chat_id"))
    )
    if with_answer:  # what was answered to a message id, if it was: see earlier_answer
        query = query.add_columns(
            select(AnsweredMessage.replies)
            .where(
                AnsweredMessage.channel == table.c.channel,
                AnsweredMessage.chat_id == table.c.chat_id,
                AnsweredMessage.message_id == bindparam("message_id"),
            )
            .scalar_subquery()
        )
    return query


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


@cache
def _answer_insert() -> Any:
    return insert(AnsweredMessage.__table__)


async def load_state(
    session: AsyncSession, channel: str, chat_id: str, now: datetime,
    message_id: str | None = None,
) -> tuple[Conversation, SupportSession | None, list[dict] | None]:  # fmt: skip
    """The state, its current support session and, for a message that carries an id, what
    was answered to it before (a retry gets the same answer): one statement.

    The state comes detached: handlers change it, save_conversation writes it. The support
    session comes attached (in the session's identity map, so `get_session` finds it without a
    query, as long as the caller holds on to it); None when the conversation has none yet.
    """
    parameters = {"channel": channel, "chat_id": chat_id}
    if message_id:
        parameters["message_id"] = message_id
    found = await session.execute(_state_query(bool(message_id)), parameters)
    row = found.one_or_none()
    if row is None:
        # A first message, or the person erased their data: answers may outlive the state.
        earlier = None
        if message_id:
            earlier = await earlier_answer(session, channel, chat_id, message_id)
        return Conversation(channel=channel, chat_id=chat_id, updated_at=NEVER), None, earlier
    names = Conversation.__table__.columns.keys()
    values, support_session = row[: len(names)], row[len(names)]
    earlier = row[len(names) + 1] if message_id else None
    return Conversation(**dict(zip(names, values, strict=True))), support_session, earlier


async def load_conversation(
    session: AsyncSession, channel: str, chat_id: str, now: datetime
) -> Conversation:
    """The state, detached from the session: handlers change it, save_conversation writes it."""
    state, _, _ = await load_state(session, channel, chat_id, now)
    return state


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
    """One INSERT, not the ORM's unit of work at commit: every web-chat turn does this."""
    await session.execute(
        _answer_insert(),
        {"channel": channel, "chat_id": chat_id, "message_id": message_id,
         "replies": replies, "at": now},
    )  # fmt: skip
