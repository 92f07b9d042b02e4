"""/staff/me: a volunteer's own page (their code; share links and figures come in part 2)."""

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db
from bot.console.security import EVERYONE, me, require
from storage.models import StaffMember


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/me", me_page)


@require(*EVERYONE)
async def me_page(request: web.Request) -> web.Response:
    async with db(request) as session:
        member = await session.get(StaffMember, me(request).staff_id)
    return aiohttp_jinja2.render_template("me.html", request, {"member": member})
