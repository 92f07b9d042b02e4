"""/staff/canned: the canned answers staff insert in the inbox; admins keep the list."""

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db, form, int_or_404, see_other
from bot.console.security import ADMIN, me, now, require
from storage.audit import audit
from storage.inbox import add_canned, canned_answers, remove_canned


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/canned", canned_page)
    router.add_post("/canned", add)
    router.add_post("/canned/{id}/delete", remove)


@require(ADMIN)
async def canned_page(request: web.Request) -> web.Response:
    async with db(request) as session:
        rows = await canned_answers(session)
    return aiohttp_jinja2.render_template("canned.html", request, {"rows": rows})


@require(ADMIN)
async def add(request: web.Request) -> web.Response:
    fields = await form(request)
    title, text = fields.get("title", "").strip(), fields.get("text", "").strip()
    if title and text:
        who = me(request)
        async with db(request) as session, session.begin():
            await add_canned(session, title, text[:2000], now())
            await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                        action="canned", detail=f"+ {title}")  # fmt: skip
    return see_other("/staff/canned")


@require(ADMIN)
async def remove(request: web.Request) -> web.Response:
    canned_id = int_or_404(request.match_info["id"])
    who = me(request)
    async with db(request) as session, session.begin():
        await remove_canned(session, canned_id)
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="canned", detail=f"- #{canned_id}")  # fmt: skip
    return see_other("/staff/canned")
