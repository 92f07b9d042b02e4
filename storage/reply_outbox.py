"""Queries of the reply outbox (bot/reply_outbox.py): keep, claim in order, record, settle.

A chat's rows go out oldest first and one at a time: only the oldest unfinished row of a chat
can be claimed, and only while no row of that chat is being sent. A claim is one UPDATE whose
condition includes state = 'pending', so of two workers (processes) only one gets a row; on
SQLite the exchange runs in BEGIN IMMEDIATE (storage.db.begin_writing).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PendingReply
from storage.outbox import dead_local_worker

REPLIES = PendingReply.__table__
UNFINISHED = ("pending", "sending")
CLAIMED_COLUMNS = ("id", "channel", "chat_id", "replies", "skip", "attempts")


@dataclass(frozen=True)
class ClaimedReply:
    id: int
    channel: str
    chat_id: str
    replies: list[dict[str, Any]]
    skip: int
    attempts: int


async def keep_replies(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    replies: list[dict[str, Any]],
    skip: int,
    uncertain: int,
    now: datetime,
    next_attempt_at: datetime,
) -> int:
    row = PendingReply(
        channel=channel, chat_id=chat_id, replies=replies, skip=skip, uncertain=uncertain,
        created_at=now, next_attempt_at=next_attempt_at,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def held_chats(session: AsyncSession) -> set[tuple[str, str]]:
    """Chats with replies still to send: their next replies queue behind them."""
    statement = (
        select(REPLIES.c.channel, REPLIES.c.chat_id)
        .where(REPLIES.c.state.in_(UNFINISHED))
        .distinct()
    )
    return {(row.channel, row.chat_id) for row in await session.execute(statement)}


async def claim_due(
    session: AsyncSession, worker: str, now: datetime, limit: int
) -> list[ClaimedReply]:
    """The oldest unfinished row of each chat, if it is pending and due."""
    heads = (
        select(func.min(REPLIES.c.id))
        .where(REPLIES.c.state.in_(UNFINISHED))
        .group_by(REPLIES.c.channel, REPLIES.c.chat_id)
    )
    due = (
        select(REPLIES.c.id)
        .where(REPLIES.c.id.in_(heads.scalar_subquery()))
        .where(REPLIES.c.state == "pending", REPLIES.c.next_attempt_at <= now)
        .order_by(REPLIES.c.id)
        .limit(limit)
    )
    result = await session.execute(
        update(REPLIES)
        .where(REPLIES.c.id.in_(due.scalar_subquery()), REPLIES.c.state == "pending")
        .values(state="sending", claimed_at=now, worker=worker, attempts=REPLIES.c.attempts + 1)
        .returning(*(REPLIES.c[name] for name in CLAIMED_COLUMNS))
    )
    return sorted((ClaimedReply(*row) for row in result.all()), key=lambda r: r.id)


async def record_reply(
    session: AsyncSession,
    row_id: int,
    worker: str,
    state: str,
    now: datetime,
    *,
    skip: int,
    uncertain: int = 0,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """What a send of a claimed row did: sent, failed, or pending again from message `skip`."""
    values: dict[str, Any] = {
        "state": state,
        "skip": skip,
        "uncertain": REPLIES.c.uncertain + uncertain,
        "error": (error or "")[:300] or None,
    }
    if state == "pending":
        values["next_attempt_at"] = next_attempt_at or now
    else:
        values["finished_at"] = now
    await session.execute(
        update(REPLIES)
        .where(REPLIES.c.id == row_id, REPLIES.c.worker == worker, REPLIES.c.state == "sending")
        .values(**values)
    )


async def settle_abandoned(
    session: AsyncSession, worker: str, now: datetime, stale: timedelta
) -> int:
    """Rows a worker claimed and never reported on (it stopped or died mid-send): the message
    it was sending may have arrived, so it counts as uncertain and the rest of the turn goes on.
    Gone: a process of this host that no longer runs, or any claim older than `stale`."""
    workers = (await session.execute(
        select(REPLIES.c.worker).distinct().where(REPLIES.c.state == "sending")
    )).scalars().all()  # fmt: skip
    # Another outbox of this very process (tests run several apps) is alive: same host and pid.
    ours = worker.rsplit(":", 1)[0] + ":"
    dead = [w for w in workers if w and not w.startswith(ours) and dead_local_worker(w)]
    result = await session.execute(
        update(REPLIES)
        .where(REPLIES.c.state == "sending")
        .where(or_(REPLIES.c.worker.in_(dead), REPLIES.c.claimed_at < now - stale))
        .values(state="pending", skip=REPLIES.c.skip + 1, uncertain=REPLIES.c.uncertain + 1)
    )
    return result.rowcount or 0


async def prune_replies(session: AsyncSession, before: datetime) -> int:
    """Forget finished rows older than `before`; what happened stays in the logs."""
    result = await session.execute(
        delete(REPLIES).where(REPLIES.c.finished_at.is_not(None), REPLIES.c.finished_at < before)
    )
    return result.rowcount or 0
