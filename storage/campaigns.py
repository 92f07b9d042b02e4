"""Queries of the campaigns area: campaigns, the outbox, campaign opens and reach figures.

The outbox is what makes a broadcast safe to crash: a row is claimed ('sending', with the
worker and the time) and committed before the network send, and marked after it. A claim is
one UPDATE over `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share a
campaign; on SQLite the whole exchange runs in a BEGIN IMMEDIATE transaction, so two processes
take turns instead of reading the same pending rows.
"""

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.conversations import NEVER
from storage.db import Database, dialect_of
from storage.models import (
    Campaign,
    CampaignOpen,
    Contact,
    Conversation,
    MessageEvent,
    OutboxMessage,
    StaffMember,
    Subscription,
)

OUTBOX = OutboxMessage.__table__
OPEN_WINDOW = timedelta(days=7)
OPT_OUT_WINDOW = timedelta(hours=24)
# A row claimed this long ago whose worker never reported back: that worker is gone.
STALE_CLAIM = timedelta(minutes=10)
# States in which a campaign may be started, resumed, paused or cancelled.
STARTABLE = ("draft", "scheduled")
FINAL_ROW_STATES = ("sent", "failed", "blocked", "outside_window", "opted_out", "uncertain")


@dataclass(frozen=True)
class Claimed:
    """An outbox row this worker now owns: send it exactly once, then report the outcome."""

    id: int
    contact_id: int
    chat_id: str
    attempts: int


@dataclass
class Outcome:
    row: Claimed
    state: str  # sent, failed, blocked, outside_window, or pending again (retry later)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = None


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{os.urandom(3).hex()}"


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
    state: str  # pending, or why it will not be sent: blocked, outside_window


async def audience(
    session: AsyncSession,
    campaign: Campaign,
    reply_windows: Mapping[str, timedelta | None],
    now: datetime,
    tag_key: Callable[[str], str] = str.casefold,
) -> list[Member]:
    """Subscribers on the campaign's channel(s) with any of its tags (no tags: everybody).

    Tags are compared through `tag_key`, so "Ấp Hòa Long" and "ap hoa long" can be the same.
    """
    wanted = set(reply_windows)
    if campaign.audience_channel:
        wanted &= {campaign.audience_channel}
    tags = {tag_key(t) for t in campaign.audience_tags or []}
    result = await session.execute(
        select(Contact, Subscription)
        .join(Subscription, Subscription.contact_id == Contact.id, isouter=True)
        .where(Contact.channel.in_(sorted(wanted)))
        .order_by(Contact.id)
    )
    members = []
    for contact, subscription in result.all():
        if subscription is not None and subscription.opted_out:
            continue
        own = {tag_key(t) for t in (subscription.tags if subscription else [])}
        if tags and not tags & own:
            continue
        state = "pending"
        if contact.unreachable:
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


# -- the outbox exchange -------------------------------------------------------------------


async def begin_exchange(session: AsyncSession) -> None:
    """Open the write transaction at once on SQLite (BEGIN IMMEDIATE): no two claimers read the
    same pending rows, and no deferred transaction fails halfway on a busy file."""
    if dialect_of(session) == "sqlite":
        connection = await session.connection()
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def record(session: AsyncSession, worker: str, outcomes: Sequence[Outcome]) -> None:
    """Write what happened to rows this worker sent; blocked contacts stop getting messages."""
    if not outcomes:
        return
    await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id == bindparam("row_id"),
            OUTBOX.c.worker == worker,
            or_(OUTBOX.c.state == "sending", OUTBOX.c.state == "uncertain"),
        )
        .values(
            state=bindparam("new_state"),
            attempts=bindparam("new_attempts"),
            next_attempt_at=bindparam("retry_at"),
            sent_at=bindparam("done_at"),
            error=bindparam("why"),
        )
        .execution_options(synchronize_session=False),
        [
            {
                "row_id": o.row.id,
                "new_state": o.state,
                "new_attempts": o.attempts,
                "retry_at": o.next_attempt_at or NEVER,
                "done_at": o.sent_at,
                "why": (o.error or "")[:300] or None,
            }
            for o in outcomes
        ],
    )
    blocked = [o.row.contact_id for o in outcomes if o.state == "blocked"]
    if blocked:
        await _mark_unreachable(session, blocked)


async def _mark_unreachable(session: AsyncSession, contact_ids: list[int]) -> None:
    """As storage.conversations.mark_unreachable: their next message makes them reachable."""
    await session.execute(
        update(Contact).where(Contact.id.in_(contact_ids)).values(unreachable=True)
    )
    keys = (await session.execute(
        select(Contact.channel, Contact.chat_id).where(Contact.id.in_(contact_ids))
    )).all()  # fmt: skip
    for channel, chat_id in keys:
        await session.execute(
            update(Conversation)
            .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
            .values(updated_at=NEVER)
        )


async def campaign_state(session: AsyncSession, campaign_id: int) -> str | None:
    result = await session.execute(select(Campaign.state).where(Campaign.id == campaign_id))
    return result.scalar_one_or_none()


async def claim(
    session: AsyncSession,
    campaign_id: int,
    channel: str,
    limit: int,
    worker: str,
    now: datetime,
) -> list[Claimed]:
    """Take up to `limit` due pending rows; rows whose person opted out or became unreachable
    since the campaign started are settled here instead of being sent."""
    if limit <= 0:
        return []
    due = (
        select(OUTBOX.c.id)
        .where(
            OUTBOX.c.campaign_id == campaign_id,
            OUTBOX.c.channel == channel,
            OUTBOX.c.state == "pending",
            OUTBOX.c.next_attempt_at <= now,
        )
        .order_by(OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite relies on BEGIN IMMEDIATE
    )
    result = await session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(state="sending", claimed_at=now, worker=worker)
        .returning(OUTBOX.c.id, OUTBOX.c.contact_id, OUTBOX.c.chat_id, OUTBOX.c.attempts)
    )
    rows = [Claimed(*r) for r in result.all()]
    if not rows:
        return []
    ids = [r.contact_id for r in rows]
    opted_out = set((await session.execute(
        select(Subscription.contact_id).where(
            Subscription.contact_id.in_(ids), Subscription.opted_out.is_(True)
        )
    )).scalars())  # fmt: skip
    unreachable = set((await session.execute(
        select(Contact.id).where(Contact.id.in_(ids), Contact.unreachable.is_(True))
    )).scalars())  # fmt: skip
    settled = [
        Outcome(r, "opted_out" if r.contact_id in opted_out else "blocked", r.attempts)
        for r in rows
        if r.contact_id in opted_out | unreachable
    ]
    await record(session, worker, settled)
    return [r for r in rows if r.contact_id not in opted_out | unreachable]


@dataclass(frozen=True)
class Backlog:
    pending: int
    next_due: datetime | None
    sending: int


async def backlog(session: AsyncSession, campaign_id: int, channel: str | None = None) -> Backlog:
    filters = [OUTBOX.c.campaign_id == campaign_id]
    if channel:
        filters.append(OUTBOX.c.channel == channel)
    pending = (await session.execute(
        select(func.count(), func.min(OUTBOX.c.next_attempt_at))
        .where(*filters, OUTBOX.c.state == "pending")
    )).one()  # fmt: skip
    sending = (await session.execute(
        select(func.count()).where(*filters, OUTBOX.c.state == "sending")
    )).scalar_one()  # fmt: skip
    next_due = pending[1]
    if next_due is not None and next_due.tzinfo is None:  # SQLite aggregates lose the type
        next_due = next_due.replace(tzinfo=NEVER.tzinfo)
    return Backlog(pending[0], next_due, sending)


async def declare_uncertain(
    session: AsyncSession, campaign_id: int, now: datetime, worker: str
) -> int:
    """Rows left 'sending' by a worker that is gone become 'uncertain' and are never resent.

    Gone: a process of this host that no longer runs (after a kill -9 or a crash), or any
    claim older than STALE_CLAIM (a worker on another host that died).
    """
    workers = (await session.execute(
        select(OUTBOX.c.worker).distinct()
        .where(OUTBOX.c.campaign_id == campaign_id, OUTBOX.c.state == "sending")
    )).scalars().all()  # fmt: skip
    dead = [w for w in workers if w and w != worker and _dead_local(w)]
    result = await session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.campaign_id == campaign_id,
            OUTBOX.c.state == "sending",
            or_(OUTBOX.c.worker.in_(dead), OUTBOX.c.claimed_at < now - STALE_CLAIM),
        )
        .values(state="uncertain")
    )
    return result.rowcount or 0


def _dead_local(worker: str) -> bool:
    host, _, rest = worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # an earlier incarnation with our pid: we are the only one with it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def finish_if_done(session: AsyncSession, campaign_id: int, now: datetime) -> bool:
    left = await backlog(session, campaign_id)
    if left.pending or left.sending:
        return False
    return await change_state(session, campaign_id, "finished", ("sending",), finished_at=now)


async def run_exchange(
    database: Database,
    campaign_id: int,
    channel: str,
    worker: str,
    outcomes: Sequence[Outcome],
    want: int,
    now: datetime,
) -> tuple[list[Claimed], bool]:
    """One short transaction: record finished sends, then claim up to `want` more if the
    campaign is still sending. Returns (claimed rows, still sending)."""
    async with database.session() as session:
        await begin_exchange(session)
        await record(session, worker, outcomes)
        sending = await campaign_state(session, campaign_id) == "sending"
        claimed = await claim(session, campaign_id, channel, want, worker, now) if sending else []
        await session.commit()
    return claimed, sending


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


async def volunteer_reach(session: AsyncSession, code: str) -> VolunteerReach:
    people = (await session.execute(
        select(Contact.channel, Contact.chat_id)
        .where(func.upper(Contact.referral) == code.upper())
    )).all()  # fmt: skip
    if not people:
        return VolunteerReach(0, 0)
    chats = {(channel, chat_id) for channel, chat_id in people}
    opened = (await session.execute(
        select(MessageEvent.channel, MessageEvent.chat_id, MessageEvent.guide_id).distinct()
        .where(
            MessageEvent.chat_id.in_([c for _, c in chats]),
            MessageEvent.handler == "guide",
            MessageEvent.direction == "in",
            MessageEvent.guide_id.is_not(None),
        )
    )).all()  # fmt: skip
    return VolunteerReach(len(people), sum(1 for ch, c, _ in opened if (ch, c) in chats))
