"""Queries of the crash-safe webhook inbox (bot/channels/inbox.py): store, claim, finish."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_of, upsert_insert
from storage.models import InboxEvent

INBOX = InboxEvent.__table__


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    channel: str
    chat_id: str
    body: str
    attempts: int


async def store_events(
    session: AsyncSession, channel: str, events: list[tuple[str, str, str]], now: datetime
) -> dict[str, int]:
    """Persist (event_id, chat_id, body) rows in one statement; returns the ids of new ones."""
    if not events:
        return {}
    rows = [
        {
            "channel": channel,
            "event_id": event_id[:128],
            "chat_id": chat_id[:128],
            "body": body.replace("\x00", ""),
            "received_at": now,
            "attempts": 0,
        }
        for event_id, chat_id, body in events
    ]
    statement = (
        upsert_insert(dialect_of(session), InboxEvent)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(INBOX.c.id, INBOX.c.event_id)
    )
    return {row.event_id: row.id for row in await session.execute(statement)}


async def claim_event(
    session: AsyncSession, event_id: int, now: datetime, lease: timedelta, max_attempts: int
) -> ClaimedEvent | None:
    """Take an event for processing; None if done, given up, or another worker holds it."""
    statement = (
        update(INBOX)
        .where(INBOX.c.id == event_id, INBOX.c.processed_at.is_(None))
        .where(INBOX.c.attempts < max_attempts)
        .where((INBOX.c.claimed_at.is_(None)) | (INBOX.c.claimed_at < now - lease))
        .values(claimed_at=now, attempts=INBOX.c.attempts + 1)
        .returning(INBOX.c.id, INBOX.c.channel, INBOX.c.chat_id, INBOX.c.body, INBOX.c.attempts)
    )
    row = (await session.execute(statement)).first()
    return ClaimedEvent(*row) if row else None


async def mark_processed(session: AsyncSession, event_id: int, now: datetime) -> None:
    await session.execute(update(INBOX).where(INBOX.c.id == event_id).values(processed_at=now))


async def pending_events(
    session: AsyncSession, channel: str, now: datetime, lease: timedelta, max_attempts: int
) -> list[tuple[int, str]]:
    """(id, chat_id) of events left unprocessed (a crash, a restart), oldest first."""
    statement = (
        select(INBOX.c.id, INBOX.c.chat_id)
        .where(INBOX.c.channel == channel, INBOX.c.processed_at.is_(None))
        .where(INBOX.c.attempts < max_attempts)
        .where((INBOX.c.claimed_at.is_(None)) | (INBOX.c.claimed_at < now - lease))
        .order_by(INBOX.c.id)
    )
    return [(row.id, row.chat_id) for row in await session.execute(statement)]


async def prune_events(session: AsyncSession, channel: str, before: datetime) -> int:
    """Forget processed events older than `before`: only recent ones can be redelivered."""
    result = await session.execute(
        delete(INBOX).where(
            INBOX.c.channel == channel,
            INBOX.c.processed_at.is_not(None),
            INBOX.c.received_at < before,
        )
    )
    return result.rowcount or 0
