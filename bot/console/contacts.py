"""/staff/contacts/<id>: one citizen's channels, subscription, history, tickets and ratings;
"erase this person's data" for admins (the same effect as /xoadulieu), in the audit log."""

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.console.pages import db, form, int_or_404, see_other
from bot.console.security import ADMIN, STAFF_ROLES, me, now, require
from bot.privacy import pseudonym
from storage.audit import audit
from storage.citizens import erase, record
from storage.models import Contact


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/contacts/{id}", contact_page)
    router.add_post("/contacts/{id}/erase", erase_contact)


def _ref(request: web.Request, contact: Contact) -> str:
    key = request.config_dict[SETTINGS].pseudonym_key
    return pseudonym(key, contact.channel, contact.chat_id)


@require(*STAFF_ROLES)
async def contact_page(request: web.Request) -> web.Response:
    contact_id = int_or_404(request.match_info["id"])
    who = me(request)
    async with db(request) as session, session.begin():
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise web.HTTPNotFound()
        found = await record(session, contact_id, _ref(request, contact))
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="open", target=f"contact:{contact_id}")  # fmt: skip
    return aiohttp_jinja2.render_template("contact.html", request, {"r": found})


@require(ADMIN)
async def erase_contact(request: web.Request) -> web.Response:
    contact_id = int_or_404(request.match_info["id"])
    if (await form(request)).get("confirm") != "yes":
        return see_other(f"/staff/contacts/{contact_id}?notice=confirm")
    who = me(request)
    async with db(request) as session, session.begin():
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise web.HTTPNotFound()
        channel = contact.channel
        await erase(session, contact, _ref(request, contact))
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="erase", target=f"contact:{contact_id}", detail=channel)  # fmt: skip
    return see_other("/staff/audit?notice=erased")
