"""The campaign outbox: what makes a broadcast safe to crash.

A row is claimed ('sending', with the worker and the time) and committed before the network
send, and marked after it. A claim is one UPDATE over `SELECT ... FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several workers share a campaign; on SQLite the whole exchange runs in a
BEGIN IMMEDIATE transaction, so two processes take turns instead of reading the same rows.
"""

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.campaigns import OUTBOX, change_state
from storage.conversations import NEVER
from storage.db import Database, begin_writing
from storage.models import (
    Campaign,
    Contact,
    Conversation,
    Subscription,
)

# A row claimed this long ago whose worker never reported back: that worker is gone.
STALE_CLAIM = timedelta(minutes=10)
FINAL_ROW_STATES = ("sent", "failed", "blocked", "outside_window", "opted_out", "uncertain")


@dataclass(frozen=True)
class Claimed:
    """An outbox row this worker now owns: send it exactly once, then report the outcome."""

    id: int
    contact_id: int
    chat_id: str
    attempts: int


@dataclass
class Outcome:
    row: Claimed
    state: str  # sent, failed, blocked, outside_window, or pending again (retry later)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = None
    message_ids: Sequence[str] = ()  # the platform's ids of what was sent


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{os.urandom(3).hex()}"


# -- the outbox exchange -------------------------------------------------------------------


async def record(session: AsyncSession, worker: str, outcomes: Sequence[Outcome]) -> None:
    """Write what happened to rows this worker sent; blocked contacts stop getting messages."""
    if not outcomes:
        return
    await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id == bindparam("row_id"),
            OUTBOX.c.worker == worker,
            or_(OUTBOX.c.state == "sending", OUTBOX.c.state == "uncertain"),
        )
        .values(
            state=bindparam("new_state"),
            attempts=bindparam("new_attempts"),
            next_attempt_at=bindparam("retry_at"),
            sent_at=bindparam("done_at"),
            error=bindparam("why"),
            message_ids=bindparam("platform_ids"),
        )
        .execution_options(synchronize_session=False),
        [
            {
                "row_id": o.row.id,
                "new_state": o.state,
                "new_attempts": o.attempts,
                "retry_at": o.next_attempt_at or NEVER,
                "done_at": o.sent_at,
                "why": (o.error or "")[:300] or None,
                "platform_ids": " ".join(i for i in o.message_ids if i)[:400] or None,
            }
            for o in outcomes
        ],
    )
    blocked = [o.row.contact_id for o in outcomes if o.state == "blocked"]
    if blocked:
        await _mark_unreachable(session, blocked)


async def _mark_unreachable(session: AsyncSession, contact_ids: list[int]) -> None:
    """As storage.conversations.mark_unreachable: their next message makes them reachable."""
    await session.execute(
        update(Contact).where(Contact.id.in_(contact_ids)).values(unreachable=True)
    )
    keys = (await session.execute(
        select(Contact.channel, Contact.chat_id).where(Contact.id.in_(contact_ids))
    )).all()  # fmt: skip
    for channel, chat_id in keys:
        await session.execute(
            update(Conversation)
            .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
            .values(updated_at=NEVER)
        )


async def campaign_state(session: AsyncSession, campaign_id: int) -> str | None:
    result = await session.execute(select(Campaign.state).where(Campaign.id == campaign_id))
    return result.scalar_one_or_none()


async def claim(
    session: AsyncSession,
    campaign_id: int,
    channel: str,
    limit: int,
    worker: str,
    now: datetime,
) -> list[Claimed]:
    """Take up to `limit` due pending rows; rows whose person opted out or became unreachable
    since the campaign started are settled here instead of being sent."""
    if limit <= 0:
        return []
    due = (
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.campaign_id == campaign_id,
            OUTBOX.c.channel == channel,
            OUTBOX.c.state == "pending",
            OUTBOX.c.next_attempt_at <= now,
        )
        .order_by(OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite relies on BEGIN IMMEDIATE
    )
    result = await session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(state="sending", claimed_at=now, worker=worker)
        .returning(OUTBOX.c.id, OUTBOX.c.contact_id, OUTBOX.c.chat_id, OUTBOX.c.attempts)
    )
    rows = [Claimed(*r) for r in result.all()]
    if not rows:
        return []
    ids = [r.contact_id for r in rows]
    opted_out = set((await session.execute(
        select(Subscription.contact_id).where(
            Subscription.contact_id.in_(ids), Subscription.opted_out.is_(True)
        )
    )).scalars())  # fmt: skip
    unreachable = set((await session.execute(
        select(Contact.id).where(Contact.id.in_(ids), Contact.unreachable.is_(True))
    )).scalars())  # fmt: skip
    settled = [
        Outcome(r, "opted_out" if r.contact_id in opted_out else "blocked", r.attempts)
        for r in rows
        if r.contact_id in opted_out | unreachable
    ]
    await record(session, worker, settled)
    return [r for r in rows if r.contact_id not in opted_out | unreachable]


@dataclass(frozen=True)
class Backlog:
    pending: int
    next_due: datetime | None
    sending: int


async def backlog(session: AsyncSession, campaign_id: int, channel: str | None = None) -> Backlog:
    filters = [OUTBOX.c.campaign_id == campaign_id]
    if channel:
        filters.append(OUTBOX.c.channel == channel)
    pending = (await session.execute(
        select(func.count(), func.min(OUTBOX.c.next_attempt_at))
        .where(*filters, OUTBOX.c.state == "pending")
    )).one()  # fmt: skip
    sending = (await session.execute(
        select(func.count()).where(*filters, OUTBOX.c.state == "sending")
    )).scalar_one()  # fmt: skip
    next_due = pending[1]
    if next_due is not None and next_due.tzinfo is None:  # SQLite aggregates lose the type
        next_due = next_due.replace(tzinfo=NEVER.tzinfo)
    return Backlog(pending[0], next_due, sending)


async def declare_uncertain(
    session: AsyncSession, campaign_id: int, now: datetime, worker: str
) -> int:
    """Rows left 'sending' by a worker that is gone become 'uncertain' and are never resent.

    Gone: a process of this host that no longer runs (after a kill -9 or a crash), or any
    claim older than STALE_CLAIM (a worker on another host that died).
    """
    workers = (await session.execute(
        select(OUTBOX.c.worker).distinct()
        .where(OUTBOX.c.campaign_id == campaign_id, OUTBOX.c.state == "sending")
    )).scalars().all()  # fmt: skip
    dead = [w for w in workers if w and w != worker and dead_local_worker(w)]
    result = await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.campaign_id == campaign_id,
            OUTBOX.c.state == "sending",
            or_(OUTBOX.c.worker.in_(dead), OUTBOX.c.claimed_at < now - STALE_CLAIM),
        )
        .values(state="uncertain")
    )
    return result.rowcount or 0


def dead_local_worker(worker: str) -> bool:
    """A worker id of this host whose process no longer runs (or an earlier one with our pid)."""
    host, _, rest = worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # an earlier incarnation with our pid: we are the only one with it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def finish_if_done(session: AsyncSession, campaign_id: int, now: datetime) -> bool:
    left = await backlog(session, campaign_id)
    if left.pending or left.sending:
        return False
    return await change_state(session, campaign_id, "finished", ("sending",), finished_at=now)


async def run_exchange(
    database: Database,
    campaign_id: int,
    channel: str,
    worker: str,
    outcomes: Sequence[Outcome],
    want: int,
    now: datetime,
) -> tuple[list[Claimed], bool]:
    """One short transaction: record finished sends, then claim up to `want` more if the
    campaign is still sending. Returns (claimed rows, still sending)."""
    async with database.session() as session:
        await begin_writing(session)
        await record(session, worker, outcomes)
        sending = await campaign_state(session, campaign_id) == "sending"
        claimed = await claim(session, campaign_id, channel, want, worker, now) if sending else []
        await session.commit()
    return claimed, sending
