"""The staff side of `troly`: tickets, staff and volunteers, the in-person log, reports, privacy."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_common import in_one_transaction
from bot.settings import Settings, get_settings

tickets_app = typer.Typer(help="Feedback tickets (phản ánh, kiến nghị).", no_args_is_help=True)
staff_app = typer.Typer(help="Centre staff: who may use staff commands.", no_args_is_help=True)
volunteer_app = typer.Typer(help="Community digital team volunteers.", no_args_is_help=True)
privacy_app = typer.Typer(help="Personal data: retention.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tickets_app, name="tickets")
    app.add_typer(staff_app, name="staff")
    app.add_typer(volunteer_app, name="volunteer")
    app.add_typer(privacy_app, name="privacy")
    app.command("log-support")(log_support_command)
    app.command("report")(report_command)


def _now() -> datetime:
    return datetime.now(UTC)


def _today(settings: Settings) -> date:
    return _now().astimezone(ZoneInfo(settings.timezone)).date()


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


# --- tickets ---------------------------------------------------------------------------------


@tickets_app.command("list")
def tickets_list(
    show_all: Annotated[bool, typer.Option("--all", help="Also answered and closed.")] = False,
) -> None:
    """Open tickets, overdue first."""
    from storage.tickets import list_tickets

    async def work(session: AsyncSession, settings: Settings) -> None:
        today = _today(settings)
        for t in await list_tickets(session, today, include_done=show_all):
            late = "QUÁ HẠN" if t.status == "open" and t.due < today else t.status
            typer.echo(f"{t.number}  hạn {t.due:%d/%m/%Y}  {late:<8}  {t.content[:60]}")

    in_one_transaction(work)


@tickets_app.command("show")
def tickets_show(number: Annotated[str, typer.Argument(help="e.g. PA-2026-000123")]) -> None:
    """Everything about one ticket."""
    from storage.tickets import find_ticket

    async def work(session: AsyncSession, settings: Settings) -> None:
        t = await find_ticket(session, number)
        if t is None:
            raise _fail(f"No ticket {number}.")
        zone = ZoneInfo(settings.timezone)
        received = t.created_at.astimezone(zone)
        typer.echo(f"{t.number} ({t.status}) · {t.channel} · nhận {received:%d/%m/%Y %H:%M}")
        typer.echo(f"Hạn trả lời: {t.due:%d/%m/%Y}")
        typer.echo(f"Nội dung: {t.content}")
        typer.echo(f"Liên hệ: {t.reply_contact or '—'}")
        if t.answer:
            typer.echo(f"Trả lời ({t.answered_by}): {t.answer}")

    in_one_transaction(work)


@tickets_app.command("answer")
def tickets_answer(
    number: Annotated[str, typer.Argument(help="e.g. PA-2026-000123")],
    text: Annotated[str, typer.Argument(help="The answer, sent to the citizen.")],
    by: Annotated[str, typer.Option(help="Who answers.")] = "Trung tâm",
) -> None:
    """Answer a ticket; the citizen is notified on their channel when it can send on its own."""
    from storage.tickets import answer_ticket, find_ticket

    async def work(session: AsyncSession, settings: Settings) -> tuple[Any, bool]:
        t = await find_ticket(session, number)
        if t is None:
            raise _fail(f"No ticket {number}.")
        answer_ticket(t, text, by, _now())
        return t, await _notify_ticket(settings, t)

    ticket, notified = in_one_transaction(work)
    typer.echo(f"{ticket.number} answered; citizen {'notified' if notified else 'NOT notified'}.")


async def _notify_ticket(settings: Settings, ticket: Any) -> bool:
    from bot.delivery import DeliveryError, load_senders
    from bot.library import load_library
    from bot.messages import Reply

    senders = load_senders(settings)
    try:
        sender = senders.get(ticket.channel)
        if sender is None or ticket.chat_id is None:
            return False
        notice = load_library(settings.content_dir).text("ticket_answer_notice", code=ticket.number)
        await sender.send(ticket.chat_id, [Reply(f"{notice}\n{ticket.answer}")])
        return True
    except DeliveryError as error:
        typer.echo(f"Delivery failed: {error}", err=True)
        return False
    finally:
        for sender in senders.values():
            await sender.close()


@tickets_app.command("close")
def tickets_close(number: Annotated[str, typer.Argument(help="e.g. PA-2026-000123")]) -> None:
    """Mark a ticket as dealt with."""
    from storage.tickets import close_ticket, find_ticket

    async def work(session: AsyncSession, settings: Settings) -> None:
        t = await find_ticket(session, number)
        if t is None:
            raise _fail(f"No ticket {number}.")
        close_ticket(t, _now())

    in_one_transaction(work)
    typer.echo(f"{number.upper()} closed.")


# --- staff and volunteers --------------------------------------------------------------------

ChannelOption = Annotated[
    str | None, typer.Option(help="The channel of --chat-id; default: the staff room's.")
]
ChatIdOption = Annotated[str | None, typer.Option(help="Their user id on that channel.")]


def _channel_of(channel: str | None, chat_id: str | None) -> str | None:
    """Staff are registered where they talk to the bot: by default, the staff room's channel."""
    if not chat_id:
        return None
    settings = get_settings()
    room = settings.staff_room_address()
    return channel or (room[0] if room else settings.staff_channel)


def _add_member(role: str, name: str, channel: str | None, chat_id: str | None, code: str | None):
    from storage.staff import add_member

    if bool(channel) != bool(chat_id):
        raise _fail("Give --channel and --chat-id together.")

    async def work(session: AsyncSession, settings: Settings) -> Any:
        return await add_member(
            session, name=name, role=role, now=_now(), channel=channel, chat_id=chat_id, code=code
        )

    member = in_one_transaction(work)
    typer.echo(f"{member.role} #{member.id}: {member.name} {member.code or ''}".rstrip())


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Argument(help="Full name.")],
    channel: ChannelOption = None,
    chat_id: ChatIdOption = None,
    code: Annotated[str | None, typer.Option(help="Short code, optional.")] = None,
    login: Annotated[str | None, typer.Option(help="A staff console login (/staff/).")] = None,
    role: Annotated[str, typer.Option(help="Console role: admin, staff or volunteer.")] = "staff",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the console password from stdin.")
    ] = False,
) -> None:
    """Register a staff member (staff group, staff commands, reports); --login: a console login."""
    if login:
        from bot.console.cli import add_login, read_password

        password = read_password(password_stdin)
        add_login(name, login, role, password, _channel_of(channel, chat_id), chat_id, code)
        return
    _add_member("staff", name, _channel_of(channel, chat_id), chat_id, code)


@volunteer_app.command("add")
def volunteer_add(
    name: Annotated[str, typer.Argument(help="Full name.")],
    code: Annotated[str, typer.Option(help="Short code on their share links, e.g. TV05.")],
    channel: ChannelOption = None,
    chat_id: ChatIdOption = None,
) -> None:
    """Register a community digital team volunteer with a short code."""
    _add_member("volunteer", name, _channel_of(channel, chat_id), chat_id, code)


@staff_app.command("list")
def staff_list() -> None:
    """Everybody registered, staff and volunteers."""
    from storage.staff import list_members

    async def work(session: AsyncSession, settings: Settings) -> None:
        for m in await list_members(session):
            state = "" if m.active else " (inactive)"
            where = f"{m.channel}:{m.chat_id}" if m.chat_id else "-"
            typer.echo(f"#{m.id} {m.role:<9} {m.code or '-':<6} {where:<24} {m.name}{state}")

    in_one_transaction(work)


@staff_app.command("remove")
def staff_remove(member_id: Annotated[int, typer.Argument(help="The # from `staff list`.")]):
    """Deactivate a staff member or volunteer (their log entries stay)."""
    from storage.staff import deactivate

    async def work(session: AsyncSession, settings: Settings) -> bool:
        return await deactivate(session, member_id)

    if not in_one_transaction(work):
        raise _fail(f"No member #{member_id}.")
    typer.echo(f"#{member_id} deactivated.")


# --- in-person log ---------------------------------------------------------------------------


def log_support_command(
    topic: Annotated[str, typer.Option(help="Topic or procedure, e.g. 'Cài VNeID'.")],
    place: Annotated[str, typer.Option(help="e.g. 'Quầy 1', 'Chợ Hòa An', 'Họp ấp Bình Phú'.")],
    helper: Annotated[str, typer.Option(help="Volunteer code (TV05) or the helper's name.")],
    people: Annotated[int, typer.Option(min=1, help="How many people were helped.")] = 1,
    online: Annotated[
        bool, typer.Option("--online/--not-online", help="Dossier submitted online on the spot.")
    ] = False,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
) -> None:
    """Log help given in person (nhật ký hỗ trợ)."""
    from storage.staff import member_by_code
    from storage.support_log import log_support

    async def work(session: AsyncSession, settings: Settings) -> Any:
        member = await member_by_code(session, helper)
        return await log_support(
            session,
            day=date.fromisoformat(day) if day else _today(settings),
            topic=topic,
            place=place,
            people=people,
            submitted_online=online,
            helper=member,
            helper_name=helper,
            now=_now(),
        )

    entry = in_one_transaction(work)
    typer.echo(
        f"Logged #{entry.id}: {entry.day:%d/%m/%Y} {entry.topic} · {entry.place} · "
        f"{entry.people} people · online {'yes' if entry.submitted_online else 'no'} · "
        f"{entry.helper_name}"
    )


# --- reports and privacy ---------------------------------------------------------------------


def report_command(
    kind: Annotated[str, typer.Argument(help="week or month")],
    period: Annotated[
        str | None,
        typer.Option(help="week: 2026-W47 or a date; month: 2026-11. Default: last closed."),
    ] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the tables to this .xlsx file.")] = None,
    charts: Annotated[Path | None, typer.Option(help="Write PNG charts into this folder.")] = None,
) -> None:
    """Figures for the weekly or monthly report; prints the summary to paste."""
    from bot.reports import build_report, parse_period, write_charts, write_xlsx

    if kind not in ("week", "month"):
        raise _fail("KIND must be week or month.")
    settings = get_settings()
    try:
        chosen = parse_period(kind, period, _now(), settings)
    except ValueError as error:
        raise _fail(str(error)) from error
    library = None
    if settings.content_dir.exists():
        from bot.content_files import ContentError
        from bot.library import load_library

        try:
            library = load_library(settings.content_dir)
        except ContentError:
            library = None  # titles fall back to ids; the figures do not need the library

    async def work(session: AsyncSession, _: Settings) -> Any:
        return await build_report(session, chosen, library)

    report = in_one_transaction(work)
    typer.echo(report.summary)
    if xlsx:
        write_xlsx(report, xlsx)
        typer.echo(f"XLSX: {xlsx}")
    if charts:
        for path in write_charts(report, charts):
            typer.echo(f"Chart: {path}")


@privacy_app.command("purge")
def privacy_purge() -> None:
    """Delete raw message text older than MESSAGE_RETENTION_MONTHS (counts stay); run daily."""
    from storage.sessions import forget_old_text

    async def work(session: AsyncSession, settings: Settings) -> int:
        return await forget_old_text(session, retention_cutoff(_now(), settings))

    typer.echo(f"Message texts deleted: {in_one_transaction(work)}")


def retention_cutoff(now: datetime, settings: Settings) -> datetime:
    months = settings.message_retention_months
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, 28)
    return now.replace(year=year, month=month + 1, day=day)
