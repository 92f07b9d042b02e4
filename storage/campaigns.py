"""Queries of campaigns: drafts, states, schedules, and who a campaign reaches.

Starting a campaign writes its outbox rows (storage/outbox.py sends them); opens and reach
figures are in storage/reach.py.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import (
    Campaign,
    Contact,
    MessageEvent,
    OutboxMessage,
    Subscription,
)

OUTBOX = OutboxMessage.__table__
# States in which a campaign may be started, resumed, paused or cancelled.
STARTABLE = ("draft", "scheduled")


# -- campaigns -----------------------------------------------------------------------------


async def add_campaign(session: AsyncSession, campaign: Campaign) -> Campaign:
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign | None:
    result = await session.execute(select(Campaign).where(Campaign.id == campaign_id))
    return result.scalar_one_or_none()


async def list_campaigns(session: AsyncSession) -> list[Campaign]:
    result = await session.execute(select(Campaign).order_by(Campaign.id))
    return list(result.scalars())


async def change_state(
    session: AsyncSession, campaign_id: int, new: str, allowed_from: Sequence[str], **values: Any
) -> bool:
    """Move the campaign to `new` if it is in one of `allowed_from`; True if it moved."""
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.state.in_(allowed_from))
        .values(state=new, **values)
    )
    return result.rowcount == 1


async def due_campaigns(session: AsyncSession, now: datetime) -> list[int]:
    """Campaigns whose time has come, and campaigns still sending (a restart picks them up)."""
    result = await session.execute(
        select(Campaign.id)
        .where(
            or_(
                Campaign.state == "sending",
                (Campaign.state == "scheduled") & (Campaign.scheduled_at <= now),
            )
        )
        .order_by(Campaign.id)
    )
    return list(result.scalars())


# -- audience ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    contact_id: int
    channel: str
    chat_id: str
    state: str  # pending, or why it will not be sent: blocked, outside_window (opted_out)


async def _opened_guide(
    session: AsyncSession, guide_id: str, since: datetime
) -> set[tuple[str, str]]:
    """(channel, chat id) of everybody who opened the guide since then."""
    result = await session.execute(
        select(MessageEvent.channel, MessageEvent.chat_id).distinct().where(
            MessageEvent.guide_id == guide_id,
            MessageEvent.handler == "guide",
            MessageEvent.direction == "in",
            MessageEvent.at >= since,
        )
    )
    return {(channel, chat_id) for channel, chat_id in result.all()}


async def audience(
    session: AsyncSession,
    campaign: Campaign,
    reply_windows: Mapping[str, timedelta | None],
    now: datetime,
    tag_key: Callable[[str], str] = str.casefold,
    with_opted_out: bool = False,
) -> list[Member]:
    """Subscribers on the campaign's channel(s) with any of its tags (no tags: everybody), in
    any of its villages, and who opened its guide lately if it names one.

    Tags are compared through `tag_key`, so "Ấp Hòa Long" and "ap hoa long" can be the same.
    People who opted out are left out, or listed as 'opted_out' for a preview.
    """
    wanted = set(reply_windows)
    if campaign.audience_channel:
        wanted &= set(campaign.audience_channel.split(","))
    tags = {tag_key(t) for t in campaign.audience_tags or []}
    villages = {tag_key(v) for v in campaign.audience_villages or []}
    opened = None
    if campaign.audience_guide:
        days = timedelta(days=campaign.audience_guide_days or 30)
        opened = await _opened_guide(session, campaign.audience_guide, now - days)
    result = await session.execute(
        select(Contact, Subscription)
        .join(Subscription, Subscription.contact_id == Contact.id, isouter=True)
        .where(Contact.channel.in_(sorted(wanted)))
        .order_by(Contact.id)
    )
    members = []
    for contact, subscription in result.all():
        own = {tag_key(t) for t in (subscription.tags if subscription else [])}
        if (tags and not tags & own) or (villages and not villages & own):
            continue
        if opened is not None and (contact.channel, contact.chat_id) not in opened:
            continue
        state = "pending"
        if subscription is not None and subscription.opted_out:
            if not with_opted_out:
                continue
            state = "opted_out"
        elif contact.unreachable:
            state = "blocked"
        elif (window := reply_windows[contact.channel]) and now - contact.last_seen > window:
            state = "outside_window"
        members.append(Member(contact.id, contact.channel, contact.chat_id, state))
    return members


async def start_sending(
    session: AsyncSession,
    campaign_id: int,
    reply_windows: Mapping[str, timedelta | None],
    now: datetime,
    tag_key: Callable[[str], str] = str.casefold,
) -> bool:
    """Draft or scheduled -> sending, writing one outbox row per member in the same transaction.

    Another worker sees 'sending' only once the rows are there; if it raced us here, the
    campaign row's lock makes it wait and then find nothing to start.
    """
    if not await change_state(session, campaign_id, "sending", STARTABLE, started_at=now):
        return False
    campaign = await get_campaign(session, campaign_id)
    assert campaign is not None
    await session.refresh(campaign)
    members = await audience(session, campaign, reply_windows, now, tag_key)
    if members:
        await session.execute(
            OUTBOX.insert(),
            [
                {
                    "campaign_id": campaign_id,
                    "contact_id": m.contact_id,
                    "channel": m.channel,
                    "chat_id": m.chat_id,
                    "state": m.state,
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for m in members
            ],
        )
    return True


async def cancel_pending(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.state == "pending")
        .values(state="cancelled")
    )
