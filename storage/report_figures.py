"""The figures of the weekly and monthly reports: one query per table, over one period.

Everything is aggregated in the database or read for one period only, so a year of a large
commune's activity stays cheap (bench/reports.py). bot/reports/ turns the rows into tables.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import (
    Handoff,
    MessageEvent,
    SessionGuide,
    StaffMember,
    SupportLogEntry,
    SupportSession,
    Ticket,
)
from storage.staff import VOLUNTEER


async def session_rows(session: AsyncSession, start: datetime, end: datetime) -> list[Any]:
    """(channel, started_at, topics, outcome, satisfaction, referral) of the period's sessions."""
    return list(
        (
            await session.execute(
                select(
                    SupportSession.channel,
                    SupportSession.started_at,
                    SupportSession.topics,
                    SupportSession.outcome,
                    SupportSession.satisfaction,
                    SupportSession.referral,
                ).where(SupportSession.started_at >= start, SupportSession.started_at < end)
            )
        ).all()
    )


async def volunteer_codes(session: AsyncSession) -> set[str]:
    return set(
        (
            await session.execute(
                select(StaffMember.code).where(
                    StaffMember.role == VOLUNTEER, StaffMember.code.is_not(None)
                )
            )
        ).scalars()
    )


async def guide_counts(session: AsyncSession, start: datetime, end: datetime) -> list[Any]:
    """(guide id, times opened, times finished), most opened first."""
    finished = func.sum(case((SessionGuide.finished.is_(True), 1), else_=0))
    return list(
        (
            await session.execute(
                select(SessionGuide.guide_id, func.count(), finished)
                .join(SupportSession, SupportSession.id == SessionGuide.session_id)
                .where(SupportSession.started_at >= start, SupportSession.started_at < end)
                .group_by(SessionGuide.guide_id)
                .order_by(func.count().desc(), SessionGuide.guide_id)
            )
        ).all()
    )


async def unknown_question_counts(
    session: AsyncSession, start: datetime, end: datetime
) -> list[Any]:
    """(text, times asked) of the questions the matcher had no guide for."""
    return list(
        (
            await session.execute(
                select(MessageEvent.text, func.count())
                .where(
                    MessageEvent.at >= start,
                    MessageEvent.at < end,
                    MessageEvent.direction == "in",
                    MessageEvent.handler == "search",
                    MessageEvent.outcome == "unknown",
                    MessageEvent.text.is_not(None),
                )
                .group_by(MessageEvent.text)
            )
        ).all()
    )


async def handoff_times(session: AsyncSession, start: datetime, end: datetime) -> list[Any]:
    """(opened_at, first_response_at, closed_at) of the hand-offs opened in the period."""
    return list(
        (
            await session.execute(
                select(Handoff.opened_at, Handoff.first_response_at, Handoff.closed_at).where(
                    Handoff.opened_at >= start, Handoff.opened_at < end
                )
            )
        ).all()
    )


async def tickets_received(session: AsyncSession, start: datetime, end: datetime) -> list[Ticket]:
    return list(
        (
            await session.execute(
                select(Ticket)
                .where(Ticket.created_at >= start, Ticket.created_at < end)
                .order_by(Ticket.number)
            )
        ).scalars()
    )


async def support_log_entries(
    session: AsyncSession, first_day: date, last_day: date
) -> list[SupportLogEntry]:
    return list(
        (
            await session.execute(
                select(SupportLogEntry).where(
                    SupportLogEntry.day >= first_day, SupportLogEntry.day <= last_day
                )
            )
        ).scalars()
    )


async def session_totals(
    session: AsyncSession, start: datetime, end: datetime
) -> tuple[int, int, int]:
    """(sessions, rated, rated satisfied) counted in the database: the year so far of a large
    commune is hundreds of thousands of sessions, never read row by row."""
    rated = func.sum(case((SupportSession.satisfaction.is_not(None), 1), else_=0))
    satisfied = func.sum(case((SupportSession.satisfaction.in_((1, 2)), 1), else_=0))
    row = (
        await session.execute(
            select(func.count(), rated, satisfied).where(
                SupportSession.started_at >= start, SupportSession.started_at < end
            )
        )
    ).one()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)
