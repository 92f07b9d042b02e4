"""A campaign's figures for the console: live progress from the outbox, and reach per channel
and per village once it is sent."""

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.campaigns import OUTBOX
from storage.models import Campaign, CampaignOpen, Subscription
from storage.reach import OPEN_WINDOW, OPT_OUT_WINDOW

# Rows in these states are done with; 'pending' and 'sending' are still to come.
DONE_STATES = ("sent", "failed", "blocked", "outside_window", "opted_out", "uncertain", "cancelled")
SKIPPED_STATES = ("blocked", "outside_window", "opted_out", "cancelled")
RATE_WINDOW = timedelta(seconds=5)  # the send rate shown is over the last few seconds


@dataclass(frozen=True)
class Progress:
    states: dict[str, int]
    rate: float  # messages sent per second lately

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def done(self) -> int:
        return sum(self.states.get(s, 0) for s in DONE_STATES)

    @property
    def skipped(self) -> int:
        return sum(self.states.get(s, 0) for s in SKIPPED_STATES)

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0

    def as_json(self, state: str) -> dict[str, object]:
        return {
            "state": state,
            "total": self.total,
            "done": self.done,
            "percent": self.percent,
            "sent": self.states.get("sent", 0),
            "uncertain": self.states.get("uncertain", 0),
            "failed": self.states.get("failed", 0),
            "skipped": self.skipped,
            "waiting": self.states.get("pending", 0) + self.states.get("sending", 0),
            "rate": round(self.rate, 1),
        }


async def progress(session: AsyncSession, campaign_id: int, now: datetime) -> Progress:
    """Two aggregate queries over the campaign's rows: cheap enough to poll every second."""
    states = dict((await session.execute(
        select(OUTBOX.c.state, func.count()).where(OUTBOX.c.campaign_id == campaign_id)
        .group_by(OUTBOX.c.state)
    )).all())  # fmt: skip
    recent = (await session.execute(
        select(func.count()).where(
            OUTBOX.c.campaign_id == campaign_id,
            OUTBOX.c.state == "sent",
            OUTBOX.c.sent_at >= now - RATE_WINDOW,
        )
    )).scalar_one()  # fmt: skip
    return Progress(states, recent / RATE_WINDOW.total_seconds())


@dataclass
class ReachRow:
    """One line of the reach table: a channel or a village."""

    name: str
    audience: int = 0
    delivered: int = 0
    skipped: int = 0
    failed: int = 0  # failed or uncertain
    opened: int = 0
    opted_out: int = 0
    read: int | None = None  # None: none of its people are on a channel that reports reads
    states: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Breakdown:
    channels: list[ReachRow]
    villages: list[ReachRow]


async def breakdown(
    session: AsyncSession,
    campaign: Campaign,
    villages: Sequence[str],
    village_key: Callable[[str], str] = str.casefold,
    reading: Collection[str] = (),
) -> Breakdown:
    """Delivered, read (on the `reading` channels, whose platforms report it), guide opened
    (within 7 days), opted out (within 24 hours) per channel and per village; a person's village
    is the first of their tags that is one of the profile's."""
    rows = (await session.execute(
        select(OUTBOX.c.contact_id, OUTBOX.c.channel, OUTBOX.c.state, OUTBOX.c.sent_at,
               OUTBOX.c.read_at)
        .where(OUTBOX.c.campaign_id == campaign.id)
    )).all()  # fmt: skip
    contacts = [r[0] for r in rows]
    tags = dict((await session.execute(
        select(Subscription.contact_id, Subscription.tags)
        .where(Subscription.contact_id.in_(contacts))
    )).all()) if contacts else {}  # fmt: skip
    opens: dict[int, datetime] = {}
    for contact_id, at in (await session.execute(
        select(CampaignOpen.contact_id, CampaignOpen.at)
        .where(CampaignOpen.campaign_id == campaign.id)
    )).all():  # fmt: skip
        opens[contact_id] = min(at, opens.get(contact_id, at))
    stopped = dict((await session.execute(
        select(Subscription.contact_id, Subscription.opted_out_at).where(
            Subscription.contact_id.in_(contacts), Subscription.opted_out.is_(True)
        )
    )).all()) if contacts else {}  # fmt: skip
    known = {village_key(v): v for v in villages}
    by_channel: dict[str, ReachRow] = {}
    by_village: dict[str, ReachRow] = defaultdict(lambda: ReachRow(""))
    for contact_id, channel, state, sent_at, read_at in rows:
        own = [known[k] for t in tags.get(contact_id) or [] if (k := village_key(t)) in known]
        village = own[0] if own else ""  # no hamlet known: shown last
        for row in (
            by_channel.setdefault(channel, ReachRow(channel)),
            by_village.setdefault(village, ReachRow(village)),
        ):
            _count(row, state, sent_at, opens.get(contact_id), stopped.get(contact_id))
            if channel in reading:  # elsewhere 'read' stays unknown (None), not 0
                row.read = (row.read or 0) + (state == "sent" and read_at is not None)
    return Breakdown(
        sorted(by_channel.values(), key=lambda r: r.name),
        sorted(by_village.values(), key=lambda r: (not r.name, r.name)),
    )


def _count(
    row: ReachRow,
    state: str,
    sent_at: datetime | None,
    opened_at: datetime | None,
    stopped_at: datetime | None,
) -> None:
    row.audience += 1
    row.states[state] = row.states.get(state, 0) + 1
    if state in SKIPPED_STATES:
        row.skipped += 1
    elif state in ("failed", "uncertain"):
        row.failed += 1
    if state != "sent" or sent_at is None:
        return
    row.delivered += 1
    if opened_at is not None and opened_at - sent_at <= OPEN_WINDOW:
        row.opened += 1
    if stopped_at is not None and timedelta(0) <= stopped_at - sent_at <= OPT_OUT_WINDOW:
        row.opted_out += 1


async def totals(session: AsyncSession) -> dict[int, tuple[int, int]]:
    """Every started campaign's (rows, rows done with), for the list of campaigns."""
    found: dict[int, tuple[int, int]] = {}
    rows = (await session.execute(
        select(OUTBOX.c.campaign_id, OUTBOX.c.state, func.count())
        .group_by(OUTBOX.c.campaign_id, OUTBOX.c.state)
    )).all()  # fmt: skip
    for campaign_id, state, count in rows:
        total, done = found.get(campaign_id, (0, 0))
        found[campaign_id] = (total + count, done + (count if state in DONE_STATES else 0))
    return found
