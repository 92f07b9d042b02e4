"""Campaign opens and reach figures, and what a volunteer's share links brought."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.campaigns import OUTBOX, get_campaign
from storage.models import (
    Campaign,
    CampaignOpen,
    Contact,
    MessageEvent,
    StaffMember,
    Subscription,
)

OPEN_WINDOW = timedelta(days=7)
OPT_OUT_WINDOW = timedelta(hours=24)

# -- opens and reach -----------------------------------------------------------------------


async def record_open(
    session: AsyncSession, campaign_id: int, contact_id: int, guide_id: str, now: datetime
) -> None:
    """A press on a campaign's guide button; the first press per guide is the one counted."""
    exists = await session.execute(
        select(CampaignOpen.id).where(
            CampaignOpen.campaign_id == campaign_id,
            CampaignOpen.contact_id == contact_id,
            CampaignOpen.guide_id == guide_id,
        )
    )
    if exists.first() is None and await get_campaign(session, campaign_id) is not None:
        session.add(
            CampaignOpen(campaign_id=campaign_id, contact_id=contact_id, guide_id=guide_id, at=now)
        )
        await session.flush()


@dataclass(frozen=True)
class Reach:
    """The 'thống kê tiếp cận' of one campaign."""

    audience: int
    states: dict[str, int]
    opened: int  # people who opened a guide from it within 7 days of receiving it
    opted_out_after: int  # people who opted out within 24 hours of receiving it

    def count(self, state: str) -> int:
        return self.states.get(state, 0)


async def reach(session: AsyncSession, campaign: Campaign) -> Reach:
    assert campaign.id is not None
    states = dict((await session.execute(
        select(OUTBOX.c.state, func.count()).where(OUTBOX.c.campaign_id == campaign.id)
        .group_by(OUTBOX.c.state)
    )).all())  # fmt: skip
    sent_at = dict((await session.execute(
        select(OUTBOX.c.contact_id, OUTBOX.c.sent_at)
        .where(OUTBOX.c.campaign_id == campaign.id, OUTBOX.c.state == "sent")
    )).all())  # fmt: skip
    opens = (await session.execute(
        select(CampaignOpen.contact_id, CampaignOpen.at)
        .where(CampaignOpen.campaign_id == campaign.id)
    )).all()  # fmt: skip
    opened = {c for c, at in opens if c in sent_at and at - sent_at[c] <= OPEN_WINDOW}
    if campaign.started_at is not None:
        # People a forwarded campaign link brought to the bot (source tag c<id>).
        linked = (await session.execute(
            select(Contact.id, Contact.first_seen).where(Contact.referral == f"c{campaign.id}")
        )).all()  # fmt: skip
        opened |= {c for c, first in linked if first - campaign.started_at <= OPEN_WINDOW}
    stopped = (await session.execute(
        select(Subscription.contact_id, Subscription.opted_out_at).where(
            Subscription.contact_id.in_(list(sent_at)), Subscription.opted_out.is_(True)
        )
    )).all() if sent_at else []  # fmt: skip
    opted_out_after = sum(
        1
        for c, at in stopped
        if at is not None and timedelta(0) <= at - sent_at[c] <= OPT_OUT_WINDOW
    )
    return Reach(sum(states.values()), states, len(opened), opted_out_after)


async def mark_read(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    at: datetime,
    until: datetime | None = None,
    message_ids: Sequence[str] = (),
) -> int:
    """A read receipt on the person's sent campaign messages not yet read: those sent up to
    `until`, or those whose platform ids include one of `message_ids`. How many it marked; an
    unknown person or message marks none."""
    unread = (
        OUTBOX.c.channel == channel,
        OUTBOX.c.chat_id == chat_id,
        OUTBOX.c.state == "sent",
        OUTBOX.c.read_at.is_(None),
    )
    marked = 0
    if until is not None:
        done = await session.execute(
            update(OUTBOX).where(*unread, OUTBOX.c.sent_at <= until).values(read_at=at)
        )
        marked += done.rowcount or 0  # type: ignore[attr-defined]
    if message_ids:
        wanted = set(message_ids)
        rows = (await session.execute(
            select(OUTBOX.c.id, OUTBOX.c.message_ids)
            .where(*unread, OUTBOX.c.message_ids.is_not(None))
        )).all()  # fmt: skip
        ids = [row_id for row_id, sent in rows if wanted & set(sent.split())]
        if ids:
            await session.execute(update(OUTBOX).where(OUTBOX.c.id.in_(ids)).values(read_at=at))
            marked += len(ids)
    return marked


# -- volunteers ----------------------------------------------------------------------------


async def volunteer_for_chat(
    session: AsyncSession, channel: str, chat_id: str
) -> StaffMember | None:
    """The active volunteer (or staff member with a code) writing from this chat, if any."""
    result = await session.execute(
        select(StaffMember).where(
            StaffMember.channel == channel,
            StaffMember.chat_id == chat_id,
            StaffMember.active.is_(True),
            StaffMember.code.is_not(None),
        )
    )
    return result.scalar_one_or_none()


async def volunteer_by_code(session: AsyncSession, code: str) -> StaffMember | None:
    result = await session.execute(
        select(StaffMember).where(func.upper(StaffMember.code) == code.upper())
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class VolunteerReach:
    people: int  # contacts whose first referral was the volunteer's code
    guides_opened: int  # distinct (person, guide) those people opened
    subscribed: int = 0  # of those people, how many still get campaign messages (not opted out)


async def volunteer_reach(
    session: AsyncSession,
    code: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> VolunteerReach:
    """What a volunteer's links brought; with `since`/`until`, the people who first came in that
    time (by the contact's first message) and the guides opened in it."""
    query = select(Contact.id, Contact.channel, Contact.chat_id).where(
        func.upper(Contact.referral) == code.upper()
    )
    if since is not None:
        query = query.where(Contact.first_seen >= since)
    if until is not None:
        query = query.where(Contact.first_seen < until)
    people = (await session.execute(query)).all()
    if not people:
        return VolunteerReach(0, 0)
    chats = {(channel, chat_id) for _, channel, chat_id in people}
    opens = (
        select(MessageEvent.channel, MessageEvent.chat_id, MessageEvent.guide_id).distinct()
        .where(
            MessageEvent.chat_id.in_([c for _, c in chats]),
            MessageEvent.handler == "guide",
            MessageEvent.direction == "in",
            MessageEvent.guide_id.is_not(None),
        )
    )  # fmt: skip
    if since is not None:
        opens = opens.where(MessageEvent.at >= since)
    if until is not None:
        opens = opens.where(MessageEvent.at < until)
    opened = (await session.execute(opens)).all()
    stopped = (await session.execute(
        select(func.count()).select_from(Subscription).where(
            Subscription.contact_id.in_([contact_id for contact_id, _, _ in people]),
            Subscription.opted_out.is_(True),
        )
    )).scalar_one()  # fmt: skip
    return VolunteerReach(
        len(people), sum(1 for ch, c, _ in opened if (ch, c) in chats), len(people) - stopped
    )
