"""Queries of the in-person support log: help given at the counter or in the community."""

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import StaffMember, SupportLogEntry


async def log_support(
    session: AsyncSession,
    *,
    day: date,
    topic: str,
    place: str,
    people: int,
    submitted_online: bool,
    helper: StaffMember | None,
    helper_name: str | None,
    now: datetime,
) -> SupportLogEntry:
    if people < 1:
        raise ValueError("at least one person was helped")
    entry = SupportLogEntry(
        day=day,
        topic=topic.strip()[:120],
        place=place.strip()[:120],
        people=people,
        submitted_online=submitted_online,
        helper_id=helper.id if helper else None,
        helper_name=(helper.name if helper else helper_name or "?")[:120],
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries_between(session: AsyncSession, first: date, last: date) -> list[SupportLogEntry]:
    result = await session.execute(
        select(SupportLogEntry)
        .where(SupportLogEntry.day >= first, SupportLogEntry.day <= last)
        .order_by(SupportLogEntry.day, SupportLogEntry.id)
    )
    return list(result.scalars())
