"""Queries of feedback tickets: numbering, lookup, answers, and the staff-group message map."""

from datetime import date, datetime

from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.db import dialect_of, upsert_insert
from storage.models import StaffThread, Ticket, TicketCounter

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"


async def next_number(session: AsyncSession, year: int, prefix: str) -> str:
    """PA-2026-000123: one upsert on the year's counter row, so concurrent workers never share a
    number (PostgreSQL locks the row until the ticket's transaction ends; SQLite the file)."""
    counter = TicketCounter.__table__
    statement = upsert_insert(dialect_of(session), TicketCounter).values(year=year, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=["year"], set_={"last": counter.c.last + 1}
    ).returning(counter.c.last)
    last = (await session.execute(statement)).scalar_one()
    return f"{prefix}-{year}-{last:06d}"


async def create_ticket(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str | None,
    content: str,
    reply_contact: str | None,
    now: datetime,
    year: int,
    due: date,
    prefix: str = "PA",
) -> Ticket:
    ticket = Ticket(
        number=await next_number(session, year, prefix),
        channel=channel,
        chat_id=chat_id,
        content=content,
        reply_contact=reply_contact,
        created_at=now,
        due=due,
    )
    session.add(ticket)
    await session.flush()
    return ticket


async def find_ticket(session: AsyncSession, number: str) -> Ticket | None:
    result = await session.execute(select(Ticket).where(Ticket.number == number.upper()))
    return result.scalar_one_or_none()


async def list_tickets(
    session: AsyncSession, today: date, include_done: bool = False
) -> list[Ticket]:
    """Overdue first (oldest due date first), then the rest by due date."""
    query = select(Ticket)
    if not include_done:
        query = query.where(Ticket.status == OPEN)
    overdue = case(((Ticket.status == OPEN) & (Ticket.due < today), 0), else_=1)
    result = await session.execute(query.order_by(overdue, Ticket.due, Ticket.id))
    return list(result.scalars())


def answer_ticket(ticket: Ticket, answer: str, by: str, now: datetime) -> None:
    ticket.answer = answer
    ticket.answered_by = by[:120]
    ticket.answered_at = ticket.answered_at or now
    if ticket.status == OPEN:
        ticket.status = ANSWERED


def close_ticket(ticket: Ticket, now: datetime) -> None:
    ticket.status = CLOSED
    ticket.closed_at = now


async def remember_thread(
    session: AsyncSession,
    channel: str,
    message_ids: list[str],
    *,
    handoff_id: int | None = None,
    ticket_id: int | None = None,
) -> None:
    """The staff-group messages the bot posted about a hand-off or a ticket."""
    for message_id in message_ids:
        session.add(
            StaffThread(
                channel=channel, message_id=message_id, handoff_id=handoff_id, ticket_id=ticket_id
            )
        )
    await session.flush()


async def thread_of(session: AsyncSession, channel: str, message_id: str) -> StaffThread | None:
    return await session.get(StaffThread, (channel, message_id))
