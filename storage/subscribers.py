"""Queries of subscribers: opt-out, opt-in and self-chosen tags, keyed by contact id."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.conversations import get_contact, touch_contact
from storage.models import Subscription


async def contact_id_for(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> int:
    """The contact's id, creating the contact on its very first message (the engine upserts it
    again after the turn, which keeps the first referral)."""
    contact = await get_contact(session, channel, chat_id)
    if contact is None:
        await touch_contact(session, channel, chat_id, now, None)
        contact = await get_contact(session, channel, chat_id)
    assert contact is not None and contact.id is not None
    return contact.id


async def get_subscription(session: AsyncSession, contact_id: int) -> Subscription | None:
    result = await session.execute(
        select(Subscription).where(Subscription.contact_id == contact_id)
    )
    return result.scalar_one_or_none()


async def _row(session: AsyncSession, contact_id: int, now: datetime) -> Subscription:
    row = await get_subscription(session, contact_id)
    if row is None:
        row = Subscription(contact_id=contact_id, updated_at=now)
        session.add(row)
    return row


async def is_opted_out(session: AsyncSession, contact_id: int) -> bool:
    row = await get_subscription(session, contact_id)
    return row is not None and row.opted_out


async def set_opted_out(
    session: AsyncSession, contact_id: int, opted_out: bool, now: datetime
) -> bool:
    """Record the choice; True if it changed anything (a second /dunglai changes nothing)."""
    row = await _row(session, contact_id, now)
    changed = row.opted_out != opted_out
    if changed:
        row.opted_out = opted_out
        row.opted_out_at = now if opted_out else None
        row.updated_at = now
    await session.flush()
    return changed


async def toggle_tag(session: AsyncSession, contact_id: int, tag: str, now: datetime) -> bool:
    """Add the tag, or remove it if they had it; True if they have it now."""
    row = await _row(session, contact_id, now)
    tags = list(row.tags or [])
    has_it = tag not in tags
    row.tags = [*tags, tag] if has_it else [t for t in tags if t != tag]
    row.updated_at = now
    await session.flush()
    return has_it
