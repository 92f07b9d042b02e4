"""A citizen's record for the console, and erasing it (the same effect as /xoadulieu)."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.inbox import thread
from storage.models import (
    Contact,
    Handoff,
    MessageEvent,
    Subscription,
    SupportSession,
    Ticket,
)
from storage.sessions import erase_person

HISTORY_LIMIT = 200


@dataclass
class Record:
    contact: Contact
    subscription: Subscription | None
    events: list[MessageEvent]
    tickets: list[Ticket]
    rated: list[SupportSession]
    handoffs: list[Handoff]


async def record(session: AsyncSession, contact_id: int, contact_ref: str) -> Record | None:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        return None
    channel, chat_id = contact.channel, contact.chat_id
    tickets = await session.execute(
        select(Ticket)
        .where(Ticket.channel == channel, Ticket.chat_id == chat_id)
        .order_by(Ticket.id.desc())
    )
    rated = await session.execute(
        select(SupportSession)
        .where(SupportSession.contact_ref == contact_ref, SupportSession.rating_asked.is_(True))
        .order_by(SupportSession.id.desc())
        .limit(50)
    )
    handoffs = await session.execute(
        select(Handoff)
        .where(Handoff.channel == channel, Handoff.chat_id == chat_id)
        .order_by(Handoff.id.desc())
        .limit(50)
    )
    return Record(
        contact=contact,
        subscription=await session.get(Subscription, contact_id),
        events=await thread(session, channel, chat_id, HISTORY_LIMIT),
        tickets=list(tickets.scalars()),
        rated=list(rated.scalars()),
        handoffs=list(handoffs.scalars()),
    )


async def erase(session: AsyncSession, contact: Contact, contact_ref: str) -> None:
    """What /xoadulieu erases."""
    await erase_person(session, contact.channel, contact.chat_id, contact_ref)
