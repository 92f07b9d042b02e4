"""The console's routes and what every template gets."""

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import DATABASE, ENGINE, SETTINGS


def add_routes(console: web.Application) -> None:
    from bot.console import (
        accounts,
        audit_page,
        campaigns,
        canned,
        contacts,
        guides,
        inbox,
        login,
        posters,
        reports,
        settings_page,
        supportlog,
        surveys,
        tickets,
        today,
        volunteer,
        volunteers,
    )

    for module in (login, today, inbox, canned, tickets, supportlog, contacts, audit_page,
                   accounts, volunteer, reports, posters, volunteers, guides,
                   settings_page, surveys, campaigns):  # fmt: skip
        module.routes(console.router)


async def context(request: web.Request) -> dict[str, Any]:
    from bot.console.security import ME

    who = request.get(ME)
    return {
        "me": who,
        "csrf": who.csrf if who else "",
        "path": request.path,
        "tz": request.config_dict[SETTINGS].timezone,
    }


def db(request: web.Request) -> AsyncSession:
    return request.config_dict[DATABASE].session()


def engine_of(request: web.Request) -> Any:
    return request.config_dict[ENGINE]


async def form(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def int_or_404(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise web.HTTPNotFound()
    return int(value)


def see_other(location: str) -> web.Response:
    """The answer to a form: go and look at the page (POST-redirect-GET)."""
    return web.Response(status=303, headers={"Location": location})
