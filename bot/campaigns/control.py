"""Campaign life: create (also from a fraud alert), preview, schedule, send, pause, resume, cancel.

draft -> scheduled -> sending -> finished; pause holds a scheduled or sending campaign and
resume puts it back; cancel ends it for good (rows not yet sent are marked 'cancelled').
"""

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import actions
from bot.actions import campaign_open
from bot.campaigns.sender import CampaignSender, Clock, Progress, Sleep
from bot.channels.base import all_channels, can_send
from bot.delivery import Sender
from bot.library import Library
from bot.matcher import normalize
from bot.messages import Button, Reply
from bot.settings import Settings
from bot.surveys.links import survey_action
from storage import campaigns as store
from storage.db import Database
from storage.models import Campaign
from storage.reach import Reach
from storage.reach import reach as campaign_reach


class CampaignError(Exception):
    """Something staff asked for that cannot be done; the message says why, in plain words."""


def reply_windows(channels: Sequence[str] | None = None) -> dict[str, timedelta | None]:
    """Each channel's window after a person's last message, as the channel declares it;
    by default every channel that can send a campaign at all."""
    declared = {c.name: c.reply_window for c in all_channels() if can_send(c)}
    return declared if channels is None else {name: declared.get(name) for name in channels}


def rates(settings: Settings) -> dict[str, float]:
    """Every channel declares its campaign rate: none is ever sent to without one."""
    return {channel.name: channel.rate(settings) for channel in all_channels()}


def campaign_replies(campaign: Campaign, library: Library) -> list[Reply]:
    """The message as people get it: text, image, a survey's button, one button per guide, and
    the way out."""
    survey = (
        [
            Button(
                library.text("btn_survey_begin"),
                action=survey_action(campaign.survey_id, f"c{campaign.id}"),
            )
        ]
        if campaign.survey_id
        else []
    )
    buttons = survey + [
        Button(library.guides[g].title, action=campaign_open(campaign.id, g))
        for g in campaign.guide_ids
        if g in library.guides
    ]
    buttons.append(Button(library.text("btn_unsubscribe"), action=f"{actions.SUBSCRIBE}:off"))
    text = f"{campaign.text}\n\n{library.text('campaign_footer')}"
    return [Reply(text, tuple(buttons), campaign.image)]


def alert_fields(library: Library, alert_id: str) -> dict[str, str]:
    """A fraud alert of the library as a campaign's title and text."""
    alert = library.alerts.get(alert_id)
    if alert is None:
        known = ", ".join(sorted(library.alerts)) or "none"
        raise CampaignError(f"No alert with id '{alert_id}'. Alerts: {known}.")
    return {"title": alert.title, "text": alert.body, "alert_id": alert.id}


async def create(
    database: Database,
    library: Library,
    *,
    title: str,
    text: str,
    now: datetime,
    image: str | None = None,
    guide_ids: Sequence[str] = (),
    channel: str | None = None,
    tags: Sequence[str] = (),
    alert_id: str | None = None,
    survey_id: str | None = None,
    created_by: str | None = None,
    villages: Sequence[str] = (),
    opened_guide: str | None = None,
    opened_days: int | None = None,
    created_by_staff: int | None = None,
) -> Campaign:
    unknown = [g for g in [*guide_ids, opened_guide] if g and g not in library.guides]
    if unknown:
        raise CampaignError(f"Unknown guide id(s): {', '.join(unknown)}.")
    if not text.strip():
        raise CampaignError("A campaign needs a message text.")
    campaign = Campaign(
        audience_villages=list(villages),
        audience_guide=opened_guide,
        audience_guide_days=opened_days if opened_guide else None,
        created_by_staff=created_by_staff,
        title=title.strip() or text.strip().splitlines()[0][:200],
        text=text.strip(),
        image=image,
        guide_ids=list(guide_ids),
        audience_channel=channel,
        audience_tags=list(tags),
        alert_id=alert_id,
        survey_id=survey_id,
        created_by=created_by,
        created_at=now,
    )
    async with database.session() as session, session.begin():
        await store.add_campaign(session, campaign)
    return campaign


async def get(database: Database, campaign_id: int) -> Campaign:
    async with database.session() as session:
        campaign = await store.get_campaign(session, campaign_id)
    if campaign is None:
        raise CampaignError(f"No campaign {campaign_id}.")
    return campaign


async def _move(
    database: Database, campaign_id: int, new: str, allowed: Sequence[str], **values: object
) -> None:
    async with database.session() as session, session.begin():
        campaign = await store.get_campaign(session, campaign_id)
        if campaign is None:
            raise CampaignError(f"No campaign {campaign_id}.")
        if not await store.change_state(session, campaign_id, new, allowed, **values):
            raise CampaignError(
                f"Campaign {campaign_id} is {campaign.state}; it must be "
                f"{' or '.join(allowed)} for that."
            )
        if new == "cancelled":
            await store.cancel_pending(session, campaign_id)


async def schedule(database: Database, campaign_id: int, at: datetime) -> None:
    await _move(database, campaign_id, "scheduled", ("draft", "scheduled"), scheduled_at=at)


async def pause(database: Database, campaign_id: int) -> None:
    await _move(database, campaign_id, "paused", ("scheduled", "sending"))


async def resume(database: Database, campaign_id: int) -> None:
    """Back to sending if it had started, else back to waiting for its time."""
    campaign = await get(database, campaign_id)
    target = "sending" if campaign.started_at is not None else "scheduled"
    await _move(database, campaign_id, target, ("paused",))


def needs_approval(campaign: Campaign, recipients: int, settings: Settings) -> bool:
    """Above CAMPAIGN_APPROVAL_OVER recipients nothing goes out before a second staff member
    (not the author) has approved it."""
    return recipients > settings.campaign_approval_over and campaign.approved_by_staff is None


async def approve(
    database: Database, campaign_id: int, staff_id: int, name: str, now: datetime
) -> None:
    async with database.session() as session, session.begin():
        campaign = await store.get_campaign(session, campaign_id)
        if campaign is None:
            raise CampaignError(f"No campaign {campaign_id}.")
        if campaign.created_by_staff == staff_id:
            raise CampaignError("The author of a campaign cannot approve it.")
        values = {"approved_by": name, "approved_by_staff": staff_id, "approved_at": now}
        if not await store.change_state(session, campaign_id, "draft", ("draft",), **values):
            raise CampaignError(f"Campaign {campaign_id} is {campaign.state}, not a draft.")


async def cancel(database: Database, campaign_id: int) -> None:
    await _move(database, campaign_id, "cancelled", ("draft", "scheduled", "sending", "paused"))


@dataclass(frozen=True)
class Preview:
    replies: list[Reply]
    will_send: Counter[str]  # channel -> people who will get it
    held_back: Counter[str]  # blocked, outside_window (opted_out when asked for)

    @property
    def recipients(self) -> int:
        return sum(self.will_send.values())


async def preview(
    database: Database,
    library: Library,
    campaign_id: int,
    channels: Sequence[str],
    now: datetime,
    with_opted_out: bool = False,
) -> Preview:
    campaign = await get(database, campaign_id)
    windows = reply_windows(channels)
    async with database.session() as session:
        members = await store.audience(session, campaign, windows, now, normalize, with_opted_out)
    return Preview(
        campaign_replies(campaign, library),
        Counter(m.channel for m in members if m.state == "pending"),
        Counter(m.state for m in members if m.state != "pending"),
    )


async def start(
    database: Database, campaign_id: int, channels: Sequence[str], now: datetime
) -> bool:
    """Draft or scheduled -> sending now, with its outbox written; False if already past that."""
    async with database.session() as session, session.begin():
        return await store.start_sending(
            session, campaign_id, reply_windows(channels), now, normalize
        )


async def send(
    database: Database,
    library: Library,
    senders: dict[str, Sender],
    campaign_id: int,
    *,
    settings: Settings,
    clock: Clock = lambda: datetime.now(UTC),
    sleep: Sleep = asyncio.sleep,
    on_progress: Progress | None = None,
) -> Campaign:
    """Start the campaign if it has not started, then send what is left; returns it afterwards."""
    await start(database, campaign_id, list(senders), clock())
    campaign = await get(database, campaign_id)
    if campaign.state == "sending":
        sender = CampaignSender(
            database,
            senders,
            rates(settings),
            concurrency=settings.campaign_concurrency,
            clock=clock,
            sleep=sleep,
            on_progress=on_progress,
        )
        await sender.run(campaign_id, campaign_replies(campaign, library))
    return await get(database, campaign_id)


async def run_due(
    database: Database,
    library: Library,
    senders: dict[str, Sender],
    *,
    settings: Settings,
    clock: Clock = lambda: datetime.now(UTC),
    sleep: Sleep = asyncio.sleep,
) -> list[Campaign]:
    """Send every campaign whose time has come and finish any left half-sent by a crash."""
    async with database.session() as session:
        due = await store.due_campaigns(session, clock())
    return [
        await send(database, library, senders, c, settings=settings, clock=clock, sleep=sleep)
        for c in due
    ]


async def reach(database: Database, campaign_id: int) -> tuple[Campaign, Reach]:
    async with database.session() as session:
        campaign = await store.get_campaign(session, campaign_id)
        if campaign is None:
            raise CampaignError(f"No campaign {campaign_id}.")
        return campaign, await campaign_reach(session, campaign)
