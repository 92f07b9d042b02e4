"""/staff/volunteers: the community digital team, ranked by what their share links brought this
month; /staff/volunteers/<id> (and /staff/me for a volunteer): one person's links and QR codes
per guide and channel, and their figures. A volunteer sees only their own page."""

import asyncio
import io
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.channels.base import label_of
from bot.console.pages import db, engine_of, form, int_or_404, see_other
from bot.console.security import EVERYONE, STAFF_ROLES, Me, me, now, require
from bot.library import Guide, Library
from bot.links import share_links
from bot.reports import Period, month_starting, parse_period
from bot.settings import Settings
from storage.accounts import VOLUNTEER
from storage.audit import audit
from storage.models import StaffMember
from storage.reach import VolunteerReach, volunteer_reach
from storage.staff import add_member, list_members, member_by_code

MENU = "menu"  # the share link that opens the bot itself, not a guide
CODE = re.compile(r"[A-Z0-9-]{2,16}")  # a source tag (bot/links.py) that fits StaffMember.code


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/volunteers", volunteers_page)
    router.add_post("/volunteers", add_volunteer)
    router.add_get("/volunteers/{id}", volunteer_page)
    router.add_get("/volunteers/{id}/qr.png", qr_image)


def this_month(at: datetime, settings: Settings) -> Period:
    """The month (from REPORT_MONTH_START_DAY) that `at` falls in."""
    local = at.astimezone(ZoneInfo(settings.timezone))
    period = month_starting(local.year, local.month, settings)
    if period.start > at:
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        period = month_starting(year, month, settings)
    return period


def chosen_month(request: web.Request) -> Period:
    """?month=2026-11, else this month."""
    settings = request.config_dict[SETTINGS]
    text = request.query.get("month", "").strip()[:10]
    if text:
        try:
            return parse_period("month", text, now(), settings)
        except ValueError:
            pass
    return this_month(now(), settings)


@dataclass(frozen=True)
class Ranked:
    member: StaffMember
    month: VolunteerReach
    total: VolunteerReach


async def _reach(request: web.Request, member: StaffMember, period: Period) -> Ranked:
    async with db(request) as session:
        if not member.code:
            return Ranked(member, VolunteerReach(0, 0), VolunteerReach(0, 0))
        month = await volunteer_reach(session, member.code, period.start, period.end)
        return Ranked(member, month, await volunteer_reach(session, member.code))


@require(*STAFF_ROLES)
async def volunteers_page(request: web.Request) -> web.Response:
    period = chosen_month(request)
    async with db(request) as session:
        members = [m for m in await list_members(session) if m.code or m.role == VOLUNTEER]
    ranked = [await _reach(request, m, period) for m in members]
    ranked.sort(key=lambda r: (-r.month.people, -r.month.guides_opened, r.member.name))
    context = {
        "ranked": ranked,
        "period": period,
        "month_value": f"{period.first_day:%Y-%m}",
        "notice": request.query.get("notice", ""),
    }
    return aiohttp_jinja2.render_template("volunteers.html", request, context)


@require(*STAFF_ROLES)
async def add_volunteer(request: web.Request) -> web.Response:
    """A new volunteer with a share-link code (as `troly volunteer add NAME --code TV05`); a code
    already given to somebody is refused rather than moved to the new person."""
    fields = await form(request)
    name = " ".join(fields.get("name", "").split())[:120]
    code = fields.get("code", "").strip().upper()
    if not name or not CODE.fullmatch(code):
        return see_other("/staff/volunteers?notice=invalid")
    who, at = me(request), now()
    async with db(request) as session, session.begin():
        if await member_by_code(session, code) is not None:
            return see_other("/staff/volunteers?notice=taken")
        member = await add_member(session, name=name, role=VOLUNTEER, now=at, code=code)
        await audit(
            session, now=at, account_id=who.account_id, actor=who.name,
            action="volunteer", target=f"staff:{member.id}", detail=f"{code} {name}",
        )  # fmt: skip
    return see_other(f"/staff/volunteers/{member.id}?notice=added")


def _allowed(who: Me, member_id: int) -> bool:
    """Staff and admins see everybody's page; a volunteer only their own."""
    return who.role in STAFF_ROLES or who.staff_id == member_id


async def _member_or_404(request: web.Request, member_id: int) -> StaffMember:
    if not _allowed(me(request), member_id):
        raise web.HTTPForbidden()
    async with db(request) as session:
        member = await session.get(StaffMember, member_id)
    if member is None:
        raise web.HTTPNotFound()
    return member


def _guides(library: Library) -> list[Guide]:
    return sorted(library.guides.values(), key=lambda g: g.code)


@dataclass(frozen=True)
class LinkRow:
    channel: str  # the channel's name, for the QR address
    label: str  # what staff call it, as the channel declares it
    url: str
    text_to_type: str | None


def link_rows(library: Library, guide: Guide | None, code: str) -> list[LinkRow]:
    rows = []
    for link in share_links(library, guide, code):
        rows.append(LinkRow(link.channel, label_of(link.channel), link.url, link.text_to_type))
    return rows


async def render_member(request: web.Request, member: StaffMember) -> web.Response:
    period = chosen_month(request)
    ranked = await _reach(request, member, period)
    library = engine_of(request).library
    sections = []
    if member.code:
        sections = [(None, link_rows(library, None, member.code))] + [
            (g, link_rows(library, g, member.code)) for g in _guides(library)
        ]
    context = {
        "member": member,
        "ranked": ranked,
        "period": period,
        "sections": sections,
        "month_value": f"{period.first_day:%Y-%m}",
        "own": member.id == me(request).staff_id,
        "notice": request.query.get("notice", ""),
    }
    return aiohttp_jinja2.render_template("volunteer.html", request, context)


@require(*EVERYONE)
async def volunteer_page(request: web.Request) -> web.Response:
    member = await _member_or_404(request, int_or_404(request.match_info["id"]))
    return await render_member(request, member)


@require(*EVERYONE)
async def qr_image(request: web.Request) -> web.Response:
    """The QR code of one share link: ?guide=<id or menu>&channel=<name>."""
    member = await _member_or_404(request, int_or_404(request.match_info["id"]))
    library = engine_of(request).library
    guide_id = request.query.get("guide", MENU)
    guide = None if guide_id == MENU else library.guides.get(guide_id)
    if not member.code or (guide is None and guide_id != MENU):
        raise web.HTTPNotFound()
    wanted = request.query.get("channel", "")
    found = [r for r in link_rows(library, guide, member.code) if r.channel == wanted]
    if not found:
        raise web.HTTPNotFound()
    body = await asyncio.to_thread(_qr_png, found[0].url)
    return web.Response(body=body, content_type="image/png")


def _qr_png(url: str) -> bytes:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_Q

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()
