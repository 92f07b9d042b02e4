"""Today's figures for the console's first page."""

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import MessageEvent, SessionGuide, SupportSession, Ticket

SATISFIED = (1, 2)


async def sessions_since(session: AsyncSession, since: datetime) -> int:
    result = await session.execute(
        select(func.count()).select_from(SupportSession).where(SupportSession.started_at >= since)
    )
    return int(result.scalar() or 0)


async def guides_opened_since(session: AsyncSession, since: datetime) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(SessionGuide)
        .join(SupportSession, SupportSession.id == SessionGuide.session_id)
        .where(SupportSession.started_at >= since)
    )
    return int(result.scalar() or 0)


async def ticket_figures(session: AsyncSession, today: date) -> tuple[int, int]:
    """Open tickets due by the end of this week, and open tickets already overdue."""
    week_end = today + timedelta(days=6 - today.weekday())
    due = await session.execute(
        select(func.count()).where(
            Ticket.status == "open", Ticket.due >= today, Ticket.due <= week_end
        )
    )
    late = await session.execute(
        select(func.count()).where(Ticket.status == "open", Ticket.due < today)
    )
    return int(due.scalar() or 0), int(late.scalar() or 0)


async def satisfaction_since(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """(satisfied ratings, all ratings) of sessions started since then."""
    rows = await session.execute(
        select(SupportSession.satisfaction, func.count())
        .where(SupportSession.started_at >= since, SupportSession.satisfaction.is_not(None))
        .group_by(SupportSession.satisfaction)
    )
    counts = dict(rows.all())
    total = sum(counts.values())
    return sum(n for level, n in counts.items() if level in SATISFIED), total


async def unknown_questions(
    session: AsyncSession, since: datetime, limit: int = 10
) -> list[tuple[str, int]]:
    """What people asked that no guide answered, most asked first (same rule as the report)."""
    rows = await session.execute(
        select(MessageEvent.text, func.count())
        .where(
            MessageEvent.at >= since,
            MessageEvent.direction == "in",
            MessageEvent.handler == "search",
            MessageEvent.outcome == "unknown",
            MessageEvent.text.is_not(None),
        )
        .group_by(MessageEvent.text)
        .order_by(func.count().desc())
        .limit(limit * 5)
    )
    counts: Counter[str] = Counter()
    for text, count in rows.all():
        counts[text.strip().lower()] += count
    return counts.most_common(limit)


async def guide_usage(
    session: AsyncSession, since: datetime
) -> dict[str, tuple[int, int, int, int]]:
    """Per guide since then: (sessions that opened it, that finished it, rated sessions among
    them, satisfied ratings among those)."""
    finished = func.sum(case((SessionGuide.finished.is_(True), 1), else_=0))
    rated = func.count(SupportSession.satisfaction)
    satisfied = func.sum(case((SupportSession.satisfaction.in_(SATISFIED), 1), else_=0))
    rows = await session.execute(
        select(SessionGuide.guide_id, func.count(), finished, rated, satisfied)
        .join(SupportSession, SupportSession.id == SessionGuide.session_id)
        .where(SupportSession.started_at >= since)
        .group_by(SessionGuide.guide_id)
    )
    return {g: (int(n), int(f or 0), int(r or 0), int(s or 0)) for g, n, f, r, s in rows.all()}
