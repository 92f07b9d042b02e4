"""Queries of the console's inbox: open hand-offs, claims, threads, canned answers."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.db import dialect_of, upsert_insert
from storage.models import (
    CannedAnswer,
    ConsoleAccount,
    Contact,
    Handoff,
    HandoffClaim,
    MessageEvent,
    StaffMember,
    Subscription,
)

THREAD_LIMIT = 60


@dataclass(frozen=True)
class InboxItem:
    handoff: Handoff
    contact_id: int | None
    last_seen: datetime | None
    tags: list[str]
    claimed_by: str | None  # the staff member's name
    claimed_by_account: int | None
    display_name: str | None = None  # the citizen's name, when their platform gave it


async def open_items(session: AsyncSession, handoff_id: int | None = None) -> list[InboxItem]:
    """Open hand-offs, oldest first (so those that came in overnight lead in the morning)."""
    query = (
        select(
            Handoff,
            Contact.id,
            Contact.last_seen,
            Subscription.tags,
            StaffMember.name,
            HandoffClaim.account_id,
            Contact.display_name,
        )
        .outerjoin(
            Contact, (Contact.channel == Handoff.channel) & (Contact.chat_id == Handoff.chat_id)
        )
        .outerjoin(Subscription, Subscription.contact_id == Contact.id)
        .outerjoin(HandoffClaim, HandoffClaim.handoff_id == Handoff.id)
        .outerjoin(ConsoleAccount, ConsoleAccount.id == HandoffClaim.account_id)
        .outerjoin(StaffMember, StaffMember.id == ConsoleAccount.staff_id)
        .order_by(Handoff.opened_at, Handoff.id)
    )
    if handoff_id is None:
        query = query.where(Handoff.closed_at.is_(None), Handoff.chat_id.is_not(None))
    else:
        query = query.where(Handoff.id == handoff_id)
    rows = await session.execute(query)
    return [
        InboxItem(handoff, contact_id, last_seen, list(tags or []), name, account, display_name)
        for handoff, contact_id, last_seen, tags, name, account, display_name in rows.all()
    ]


async def waiting(session: AsyncSession) -> tuple[int, datetime | None]:
    """Open hand-offs nobody answered yet, and when the oldest of them came in."""
    result = await session.execute(
        select(func.count(), func.min(Handoff.opened_at)).where(
            Handoff.closed_at.is_(None),
            Handoff.chat_id.is_not(None),
            Handoff.first_response_at.is_(None),
        )
    )
    count, oldest = result.one()
    return int(count or 0), oldest


async def thread(
    session: AsyncSession, channel: str, chat_id: str, limit: int = THREAD_LIMIT
) -> list[MessageEvent]:
    """The chat's latest messages in and out (already redacted when stored), oldest first."""
    rows = await session.execute(
        select(MessageEvent)
        .where(MessageEvent.channel == channel, MessageEvent.chat_id == chat_id)
        .order_by(MessageEvent.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows.scalars())))


async def claim(session: AsyncSession, handoff_id: int, account_id: int, now: datetime) -> None:
    """Take the hand-off (taking it over from whoever had it)."""
    statement = upsert_insert(dialect_of(session), HandoffClaim).values(
        handoff_id=handoff_id, account_id=account_id, claimed_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["handoff_id"],
            set_={"account_id": account_id, "claimed_at": now},
        )
    )


async def canned_answers(session: AsyncSession) -> list[CannedAnswer]:
    rows = await session.execute(select(CannedAnswer).order_by(CannedAnswer.title))
    return list(rows.scalars())


async def add_canned(session: AsyncSession, title: str, text: str, now: datetime) -> None:
    session.add(CannedAnswer(title=title.strip()[:80], text=text.strip(), created_at=now))
    await session.flush()


async def remove_canned(session: AsyncSession, canned_id: int) -> None:
    await session.execute(delete(CannedAnswer).where(CannedAnswer.id == canned_id))
