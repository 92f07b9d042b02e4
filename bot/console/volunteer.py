"""/staff/me: my own page; for a volunteer (or anybody with a share-link code) their links, QR
codes and what they brought, as /staff/volunteers/<id> shows it."""

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db
from bot.console.security import EVERYONE, me, require
from storage.models import StaffMember


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/me", me_page)


@require(*EVERYONE)
async def me_page(request: web.Request) -> web.Response:
    from bot.console.volunteers import render_member

    async with db(request) as session:
        member = await session.get(StaffMember, me(request).staff_id)
    if member is not None and (member.code or member.role == "volunteer"):
        return await render_member(request, member)
    return aiohttp_jinja2.render_template("me.html", request, {"member": member})
