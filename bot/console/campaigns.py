"""/staff/campaigns: compose a campaign, preview it as each channel shows it, send a test to
oneself, have it approved, schedule or send it, follow its progress live, and read its reach,
as `troly campaign` does from a terminal. Sending itself is the server's campaign worker
(bot/campaigns/worker.py), through the same outbox."""

import tempfile
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot import campaigns as control
from bot.app import SENDERS, SETTINGS
from bot.campaigns.control import reply_windows
from bot.campaigns.worker import wake
from bot.channels.base import reading_channels
from bot.console import campaign_forms as forms
from bot.console.pages import db, engine_of, int_or_404, see_other
from bot.console.security import STAFF_ROLES, me, now, require
from bot.delivery import DeliveryError
from storage import campaign_figures as figures
from storage.audit import audit
from storage.campaigns import get_campaign, list_campaigns
from storage.models import Campaign, StaffMember
from storage.reach import reach

VERBS = ("test", "approve", "schedule", "send", "pause", "resume", "cancel")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/campaigns", list_page)
    router.add_get("/campaigns/new", new_page)
    router.add_post("/campaigns/new", create_page)
    router.add_get("/campaigns/{id}", campaign_page)
    router.add_get("/campaigns/{id}/progress.json", progress_json)
    router.add_get("/campaigns/{id}/reach.xlsx", reach_xlsx)
    router.add_get("/campaigns/{id}/image", image_file)
    router.add_post("/campaigns/{id}/{verb}", act)


def _campaign_channels(request: web.Request) -> list[str]:
    """Channels a campaign goes to: configured ones that take campaigns; before any is
    configured, every one that could (so the counts mean something while setting up)."""
    sendable = list(reply_windows())
    running = [name for name in request.config_dict[SENDERS] if name in sendable]
    return sorted(running or sendable)


def _shown_channels(request: web.Request) -> list[str]:
    return sorted(set(request.config_dict[SENDERS]) | set(_campaign_channels(request)))


async def _campaign(request: web.Request) -> Campaign:
    async with db(request) as session:
        campaign = await get_campaign(session, int_or_404(request.match_info["id"]))
    if campaign is None:
        raise web.HTTPNotFound()
    return campaign


async def _audit(request: web.Request, campaign_id: int, action: str, detail: str) -> None:
    who = me(request)
    async with db(request) as session, session.begin():
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action=action, target=f"campaign:{campaign_id}", detail=detail)  # fmt: skip


@require(*STAFF_ROLES)
async def list_page(request: web.Request) -> web.Response:
    async with db(request) as session:
        listed = list(reversed(await list_campaigns(session)))
        done = await figures.totals(session)
    return aiohttp_jinja2.render_template(
        "campaigns.html", request, {"campaigns": listed, "totals": done}
    )


def _compose_context(request: web.Request, compose: forms.Compose) -> dict[str, Any]:
    library = engine_of(request).library
    footer = len(library.text("campaign_footer")) + 2
    return {
        "form": compose,
        "guides": sorted(library.guides.values(), key=lambda g: g.code),
        "alerts": sorted(library.alerts.values(), key=lambda a: a.title),
        "villages": [str(v) for v in library.profile.get("villages") or []],
        "channels": [(n, forms.get_channel(n)) for n in _campaign_channels(request)],
        "counters": forms.counters(_shown_channels(request), footer),
    }


@require(*STAFF_ROLES)
async def new_page(request: web.Request) -> web.Response:
    library = engine_of(request).library
    compose = forms.Compose()
    alert = request.query.get("alert", "")
    if alert in library.alerts:
        fields = control.alert_fields(library, alert)
        compose = forms.Compose(title=fields["title"], text=fields["text"], alert_id=alert)
    copy = request.query.get("copy", "")
    if copy.isdigit() and len(copy) < 12:
        async with db(request) as session:
            earlier = await get_campaign(session, int(copy))
        if earlier is not None:
            compose = forms.from_campaign(earlier)
    return aiohttp_jinja2.render_template(
        "campaign_new.html", request, _compose_context(request, compose)
    )


@require(*STAFF_ROLES)
async def create_page(request: web.Request) -> web.Response:
    data = await request.post()
    engine = engine_of(request)
    compose = forms.read_form(data, engine.library, _campaign_channels(request))
    folder = Path(request.config_dict[SETTINGS].campaign_image_dir)
    image, problem = forms.save_image(data.get("image"), folder)
    kept = data.get("kept_image")
    if image is None and isinstance(kept, str) and kept:
        # "Write a new one from this campaign" keeps its image: only a file of the folder.
        path = Path(kept).resolve()
        image = str(path) if path.parent == folder.resolve() and path.is_file() else None
    compose.image = image
    if problem:
        compose.errors.append(problem)
    if compose.errors:
        context = _compose_context(request, compose)
        return aiohttp_jinja2.render_template("campaign_new.html", request, context, status=400)
    who = me(request)
    campaign = await control.create(
        engine.database, engine.library, now=now(), created_by=who.name,
        created_by_staff=who.staff_id, **compose.create_fields(),
    )  # fmt: skip
    await _audit(request, campaign.id or 0, "campaign", "create")
    return see_other(f"/staff/campaigns/{campaign.id}")


async def _draft_context(request: web.Request, campaign: Campaign) -> dict[str, Any]:
    engine = engine_of(request)
    settings = request.config_dict[SETTINGS]
    channels = _campaign_channels(request)
    preview = await control.preview(
        engine.database, engine.library, campaign.id or 0, channels, now(), with_opted_out=True
    )
    shown = forms.previews(preview.replies, _shown_channels(request), preview.will_send, channels)
    needs = control.needs_approval(campaign, preview.recipients, settings)
    return {
        "previews": shown,
        "recipients": preview.recipients,
        "held_back": preview.held_back,
        "needs_approval": needs,
        "own": campaign.created_by_staff == me(request).staff_id,
        "approval_over": settings.campaign_approval_over,
        "schedule_value": forms.local_input(campaign.scheduled_at or now(), settings.timezone),
    }


async def _sent_context(request: web.Request, campaign: Campaign) -> dict[str, Any]:
    """Progress once it is scheduled (the page follows it live from there); reach once started."""
    villages = [str(v) for v in engine_of(request).library.profile.get("villages") or []]
    async with db(request) as session:
        progress = await figures.progress(session, campaign.id or 0, now())
        context: dict[str, Any] = {"progress": progress.as_json(campaign.state)}
        if campaign.started_at is not None:
            context["breakdown"] = await figures.breakdown(
                session, campaign, villages, reading=reading_channels()
            )
            context["reach"] = await reach(session, campaign)
    return context


@require(*STAFF_ROLES)
async def campaign_page(request: web.Request) -> web.Response:
    campaign = await _campaign(request)
    context: dict[str, Any] = {"campaign": campaign, "said": request.query.get("said", "")}
    if campaign.state in ("draft", "scheduled") or campaign.started_at is None:
        context.update(await _draft_context(request, campaign))
    if campaign.state != "draft":
        context.update(await _sent_context(request, campaign))
    return aiohttp_jinja2.render_template("campaign.html", request, context)


@require(*STAFF_ROLES)
async def progress_json(request: web.Request) -> web.Response:
    campaign_id = int_or_404(request.match_info["id"])
    async with db(request) as session:
        campaign = await get_campaign(session, campaign_id)
        if campaign is None:
            raise web.HTTPNotFound()
        progress = await figures.progress(session, campaign_id, now())
    return web.json_response(progress.as_json(campaign.state))


@require(*STAFF_ROLES)
async def image_file(request: web.Request) -> web.StreamResponse:
    campaign = await _campaign(request)
    folder = Path(request.config_dict[SETTINGS].campaign_image_dir).resolve()
    path = Path(campaign.image or "").resolve()
    if not campaign.image or folder not in path.parents or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def _test_to_myself(request: web.Request, campaign: Campaign) -> str:
    """The campaign to the staff member's own linked chat, exactly as citizens get it."""
    async with db(request) as session:
        member = await session.get(StaffMember, me(request).staff_id)
    if member is None or not member.channel or not member.chat_id:
        return "no_chat"
    sender = request.config_dict[SENDERS].get(member.channel)
    if sender is None:
        return "no_sender"
    replies = control.campaign_replies(campaign, engine_of(request).library)
    try:
        await sender.send(member.chat_id, replies)
    except DeliveryError:
        return "test_failed"
    return "test_sent"


async def _go(request: web.Request, campaign: Campaign, verb: str) -> str:
    """Schedule it (or send now): refused while it waits for a second staff member."""
    settings = request.config_dict[SETTINGS]
    engine = engine_of(request)
    at = now()
    if verb == "schedule":
        data = await request.post()
        typed = data.get("at")
        at = forms.parse_local(typed if isinstance(typed, str) else "", settings.timezone)
        if at is None:
            return "bad_time"
    channels = _campaign_channels(request)
    preview = await control.preview(engine.database, engine.library, campaign.id or 0,
                                    channels, now())  # fmt: skip
    if control.needs_approval(campaign, preview.recipients, settings):
        return "need_approval"
    await control.schedule(engine.database, campaign.id or 0, at)
    wake(request.config_dict)
    return "scheduled" if verb == "schedule" else "sending"


@require(*STAFF_ROLES)
async def act(request: web.Request) -> web.Response:
    verb = request.match_info["verb"]
    if verb not in VERBS:
        raise web.HTTPNotFound()
    campaign = await _campaign(request)
    database = engine_of(request).database
    number = campaign.id or 0
    try:
        if verb == "test":
            said = await _test_to_myself(request, campaign)
        elif verb == "approve":
            who = me(request)
            if campaign.created_by_staff == who.staff_id:
                said = "own"
            else:
                await control.approve(database, number, who.staff_id, who.name, now())
                said = "approved"
        elif verb in ("schedule", "send"):
            said = await _go(request, campaign, verb)
        else:
            await getattr(control, verb)(database, number)
            said = verb
            if verb == "resume":
                wake(request.config_dict)
    except control.CampaignError:
        said = "too_late"  # moved meanwhile by somebody else: the page shows how it is now
    await _audit(request, number, "campaign", f"{verb}: {said}")
    return see_other(f"/staff/campaigns/{number}?said={said}")


@require(*STAFF_ROLES)
async def reach_xlsx(request: web.Request) -> web.StreamResponse:
    campaign = await _campaign(request)
    if campaign.started_at is None:
        raise web.HTTPNotFound()
    context = await _sent_context(request, campaign)
    await _audit(request, campaign.id or 0, "export", "reach.xlsx")
    path = Path(tempfile.mkdtemp(prefix="troly-campaign-")) / "tiep-can.xlsx"
    write_reach_xlsx(campaign, context["breakdown"], path)
    name = f"chien-dich-{campaign.id}-tiep-can.xlsx"
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})


HEADERS = ["", "Người nhận", "Đã gửi tới", "Bỏ qua", "Lỗi / không chắc", "Đã xem",
           "Mở hướng dẫn", "Ngừng nhận sau đó"]  # fmt: skip
NOT_REPORTED = "—"  # the platform does not say who read it


def write_reach_xlsx(campaign: Campaign, table: figures.Breakdown, path: Path) -> Path:
    """The reach tables as on the page: one sheet per channel, one per village."""
    from openpyxl import Workbook

    from bot.channels.base import label_of

    book = Workbook()
    sheets = (("Theo kênh", table.channels, label_of),
              ("Theo thôn, ấp", table.villages, lambda v: v or "Chưa rõ thôn, ấp"))  # fmt: skip
    for index, (title, rows, name) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        note = f"Đã xem: {NOT_REPORTED} khi nền tảng không báo cho TroLy ai đã xem tin"
        sheet.append([f"Chiến dịch #{campaign.id}: {campaign.title}", note])
        sheet.append([title.replace("Theo ", "").capitalize(), *HEADERS[1:]])
        for row in rows:
            read = NOT_REPORTED if row.read is None else row.read
            sheet.append([name(row.name), row.audience, row.delivered, row.skipped, row.failed,
                          read, row.opened, row.opted_out])  # fmt: skip
    book.save(path)
    return path
