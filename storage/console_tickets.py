"""Ticket queries the console adds to storage/tickets.py: filters and who is in charge."""

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.db import dialect_of, upsert_insert
from storage.models import ConsoleAccount, StaffMember, Ticket, TicketAssignee
from storage.tickets import OPEN

STATUSES = ("open", "answered", "closed")


async def filtered(
    session: AsyncSession, today: date, status: str | None, overdue: bool, limit: int = 100
) -> list[tuple[Ticket, str | None]]:
    """Tickets with the name of who is in charge: overdue first (oldest due first), then the
    rest by due date. Two index-ordered queries (ticket status, due) rather than one sort."""
    query = (
        select(Ticket, StaffMember.name)
        .outerjoin(TicketAssignee, TicketAssignee.ticket_id == Ticket.id)
        .outerjoin(ConsoleAccount, ConsoleAccount.id == TicketAssignee.account_id)
        .outerjoin(StaffMember, StaffMember.id == ConsoleAccount.staff_id)
        .order_by(Ticket.due, Ticket.id)
    )
    late = (Ticket.status == OPEN) & (Ticket.due < today)
    rows = []
    if status in (None, OPEN):
        result = await session.execute(query.where(late).limit(limit))
        rows = [(ticket, name) for ticket, name in result.all()]
    if overdue or len(rows) >= limit:
        return rows
    rest = query.where(~late)
    if status in STATUSES:
        rest = rest.where(Ticket.status == status)
    result = await session.execute(rest.limit(limit - len(rows)))
    return rows + [(ticket, name) for ticket, name in result.all()]


async def assignee_of(session: AsyncSession, ticket_id: int) -> int | None:
    row = await session.get(TicketAssignee, ticket_id)
    return row.account_id if row else None


async def assign(session: AsyncSession, ticket_id: int, account_id: int, now: datetime) -> None:
    statement = upsert_insert(dialect_of(session), TicketAssignee).values(
        ticket_id=ticket_id, account_id=account_id, assigned_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["ticket_id"], set_={"account_id": account_id, "assigned_at": now}
        )
    )
