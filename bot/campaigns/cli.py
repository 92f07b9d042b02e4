"""`troly campaign ...`: campaigns from the shell."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer

from bot.cli_common import load_library_or_exit
from bot.settings import Settings, get_settings

T = TypeVar("T")
WATCH_SECONDS = 30  # `send --watch`: how often to look for campaigns whose time has come

campaign_app = typer.Typer(
    help="Campaigns: broadcasts to subscribers, with reach figures.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Mount `troly campaign`."""
    app.add_typer(campaign_app, name="campaign")


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(database)` on an up-to-date schema; campaign errors end the command politely."""
    from bot.campaigns import CampaignError
    from storage.db import Database, upgrade

    settings = get_settings()
    upgrade(settings.database_url)

    async def main() -> T:
        database = Database(settings.database_url)
        try:
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(main())
    except CampaignError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error


def _now() -> datetime:
    return datetime.now(UTC)


def _local(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return "-"
    return f"{moment.astimezone(ZoneInfo(settings.timezone)):%Y-%m-%d %H:%M}"


@campaign_app.command("create")
def create(
    title: Annotated[str, typer.Option(help="Short title for staff and reports.")] = "",
    text: Annotated[str, typer.Option(help="The message.")] = "",
    text_file: Annotated[
        Path | None, typer.Option(help="Read the message from a UTF-8 file.")
    ] = None,
    from_alert: Annotated[
        str | None, typer.Option("--from-alert", help="Use a fraud alert of the library.")
    ] = None,
    image: Annotated[str | None, typer.Option(help="Image: an https URL or a file.")] = None,
    guide: Annotated[
        list[str] | None, typer.Option(help="Guide id for a button (repeatable).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Only this channel (its name, as `troly doctor` lists it).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="Only people with this tag (repeatable, any).")
    ] = None,
    survey: Annotated[
        str | None, typer.Option(help="A survey id: its button opens the survey in the chat.")
    ] = None,
) -> None:
    """Create a draft campaign; prints its id."""
    from bot import campaigns
    from bot.surveys.definitions import load_surveys

    library = load_library_or_exit()
    fields: dict[str, Any] = {"title": title, "text": text, "survey_id": survey}
    if survey:
        found = load_surveys(get_settings().content_dir, library.profile).get(survey)
        if found is None:
            typer.echo(f"No survey '{survey}' in content/surveys.", err=True)
            raise typer.Exit(1)
        fields["title"] = title or found.title
        fields["text"] = text or library.text("survey_invitation", title=found.title)
    if text_file is not None:
        fields["text"] = text_file.read_text(encoding="utf-8")
    if from_alert:
        fields.update(campaigns.alert_fields(library, from_alert))
        fields["title"] = title or fields["title"]

    async def work(database: Any) -> Any:
        return await campaigns.create(
            database,
            library,
            now=_now(),
            image=image,
            guide_ids=guide or [],
            channel=channel,
            tags=tag or [],
            **fields,
        )

    try:
        campaign = _run(work)
    except campaigns.CampaignError as error:  # raised before the database is touched
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Campaign {campaign.id} created (draft): {campaign.title}")


@campaign_app.command("preview")
def preview(campaign_id: Annotated[int, typer.Argument(help="Campaign id.")]) -> None:
    """Show the message as people will get it and who will get it."""
    from bot import campaigns
    from bot.campaigns.control import reply_windows
    from bot.channels.base import sending_channels
    from bot.channels.console import render_numbered

    library, settings = load_library_or_exit(), get_settings()
    # Before any channel is configured, show who would get it on every channel that can send.
    channels = [c.name for c in sending_channels(settings)] or list(reply_windows())
    shown = _run(lambda db: campaigns.preview(db, library, campaign_id, channels, _now()))
    typer.echo(render_numbered(shown.replies))
    will = ", ".join(f"{n} on {c}" for c, n in sorted(shown.will_send.items())) or "nobody"
    typer.echo(f"Will be sent to: {will}.")
    if shown.held_back:
        held = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in shown.held_back.items())
        typer.echo(f"Held back: {held}.")


@campaign_app.command("schedule")
def schedule(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")],
    at: Annotated[
        str, typer.Option(help="When, e.g. '2026-12-01 08:00' (TIMEZONE unless an offset).")
    ],
) -> None:
    """Send at a given time (`troly campaign send --watch` does the sending)."""
    from bot import campaigns

    settings = get_settings()
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as error:
        typer.echo(f"Not a date and time: {at!r}; use e.g. 2026-12-01 08:00", err=True)
        raise typer.Exit(2) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.timezone))
    _run(lambda db: campaigns.schedule(db, campaign_id, moment.astimezone(UTC)))
    typer.echo(f"Campaign {campaign_id} scheduled for {_local(moment, settings)}.")


def _control(verb: str, campaign_id: int, done: str) -> None:
    from bot import campaigns

    _run(lambda db: getattr(campaigns, verb)(db, campaign_id))
    typer.echo(f"Campaign {campaign_id} {done}.")


@campaign_app.command("pause")
def pause(campaign_id: Annotated[int, typer.Argument(help="Campaign id.")]) -> None:
    """Stop sending after the messages already on their way; resume continues."""
    _control("pause", campaign_id, "paused")


@campaign_app.command("resume")
def resume(campaign_id: Annotated[int, typer.Argument(help="Campaign id.")]) -> None:
    """Undo pause (run `troly campaign send` to carry on sending)."""
    _control("resume", campaign_id, "resumed")


@campaign_app.command("cancel")
def cancel(campaign_id: Annotated[int, typer.Argument(help="Campaign id.")]) -> None:
    """End the campaign for good; nobody else gets it."""
    _control("cancel", campaign_id, "cancelled")


@campaign_app.command("send")
def send(
    campaign_id: Annotated[
        int | None, typer.Argument(help="Send this one now; without it, every due campaign.")
    ] = None,
    watch: Annotated[
        bool, typer.Option(help="Keep running: send scheduled campaigns when their time comes.")
    ] = False,
) -> None:
    """Send (or carry on sending after a crash) with a live progress bar."""
    from bot import campaigns
    from bot.delivery import load_senders

    library, settings = load_library_or_exit(), get_settings()
    senders = load_senders(settings)
    if not senders:
        typer.echo("No channel can send: configure one (README, `troly doctor`).", err=True)
        raise typer.Exit(1)

    async def one(database: Any, cid: int) -> None:
        campaign = await campaigns.send(
            database, library, senders, cid, settings=settings, clock=_now
        )
        _, figures = await campaigns.reach(database, cid)
        typer.echo(_status_text(campaign, figures, settings))

    async def work(database: Any) -> None:
        from storage.campaigns import due_campaigns

        try:
            if campaign_id is not None:
                await _with_progress(database, campaign_id, one(database, campaign_id))
                return
            while True:
                async with database.session() as session:
                    due = await due_campaigns(session, _now())
                for cid in due:
                    await _with_progress(database, cid, one(database, cid))
                if not watch:
                    return
                await asyncio.sleep(WATCH_SECONDS)
        finally:
            for sender in senders.values():
                await sender.close()

    _run(work)


async def _with_progress(database: Any, campaign_id: int, sending: Awaitable[None]) -> None:
    """A progress bar fed by the outbox itself, so it counts every worker's sends."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bot import campaigns
    from storage.outbox import FINAL_ROW_STATES

    async def follow(progress: Progress, task: Any) -> None:
        while True:
            campaign, figures = await campaigns.reach(database, campaign_id)
            done = sum(figures.count(s) for s in (*FINAL_ROW_STATES, "cancelled"))
            progress.update(
                task,
                total=figures.audience or None,
                completed=done,
                description=f"{campaign.title[:30]} ({figures.count('sent')} sent)",
            )
            await asyncio.sleep(0.5)

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("[progress.description]{task.description}", *columns) as progress:
        task = progress.add_task(f"campaign {campaign_id}", total=None)
        follower = asyncio.create_task(follow(progress, task))
        try:
            await sending
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower


def _status_text(campaign: Any, figures: Any, settings: Settings) -> str:
    audience = campaign.audience_channel or "all channels"
    if campaign.audience_tags:
        audience += ", tags: " + ", ".join(campaign.audience_tags)
    lines = [
        f"Campaign {campaign.id}: {campaign.title}",
        f"  state {campaign.state}; audience {audience}",
        f"  scheduled {_local(campaign.scheduled_at, settings)}"
        f", started {_local(campaign.started_at, settings)}"
        f", finished {_local(campaign.finished_at, settings)}",
        f"  audience size   {figures.audience}",
    ]
    for label, state in (
        ("sent", "sent"),
        ("failed", "failed"),
        ("blocked", "blocked"),
        ("outside window", "outside_window"),
        ("opted out", "opted_out"),
        ("uncertain", "uncertain"),
        ("waiting", "pending"),
        ("in flight", "sending"),
        ("cancelled", "cancelled"),
    ):
        if figures.count(state) or state in ("sent", "failed", "blocked", "uncertain"):
            lines.append(f"  {label:<15} {figures.count(state)}")
    lines.append(f"  opened a guide  {figures.opened}  (within 7 days)")
    lines.append(f"  opted out       {figures.opted_out_after}  (within 24 hours)")
    return "\n".join(lines)


@campaign_app.command("status")
def status(
    campaign_id: Annotated[
        int | None, typer.Argument(help="One campaign in detail; without it, all.")
    ] = None,
) -> None:
    """Reach figures: audience, sent, failed, blocked, uncertain, guides opened, opt-outs."""
    from bot import campaigns
    from storage.campaigns import list_campaigns

    settings = get_settings()

    async def work(database: Any) -> list[str]:
        if campaign_id is not None:
            return [_status_text(*await campaigns.reach(database, campaign_id), settings)]
        async with database.session() as session:
            ids = [c.id for c in await list_campaigns(session)]
        return [_status_text(*await campaigns.reach(database, cid), settings) for cid in ids]

    texts = _run(work)
    typer.echo("\n\n".join(texts) if texts else "No campaigns yet.")
