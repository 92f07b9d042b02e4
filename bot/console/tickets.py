"""/staff/tickets: feedback tickets; answer (the citizen is told on their channel), close,
reassign. The same rows as `troly tickets` and `/phananh`."""

from datetime import date
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import SETTINGS
from bot.console.outbound import send_to_contact
from bot.console.pages import db, engine_of, form, see_other
from bot.console.security import STAFF_ROLES, me, now, require
from bot.messages import Reply
from storage.accounts import list_accounts
from storage.audit import audit
from storage.console_tickets import STATUSES, assign, assignee_of, filtered
from storage.conversations import get_contact
from storage.models import ConsoleAccount, Ticket
from storage.tickets import answer_ticket, close_ticket, find_ticket

MAX_ANSWER_CHARS = 4000


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/tickets", tickets_page)
    router.add_get("/tickets/{number}", ticket_page)
    router.add_post("/tickets/{number}/answer", answer)
    router.add_post("/tickets/{number}/close", close)
    router.add_post("/tickets/{number}/assign", reassign)


def _today(request: web.Request) -> date:
    return now().astimezone(ZoneInfo(request.config_dict[SETTINGS].timezone)).date()


@require(*STAFF_ROLES)
async def tickets_page(request: web.Request) -> web.Response:
    status = request.query.get("status", "open")
    overdue = request.query.get("overdue") == "1"
    today = _today(request)
    async with db(request) as session:
        rows = await filtered(session, today, status if status in STATUSES else None, overdue)
    context = {"rows": rows, "status": status, "overdue": overdue, "today": today}
    return aiohttp_jinja2.render_template("tickets.html", request, context)


async def _ticket_or_404(session: AsyncSession, number: str) -> Ticket:
    ticket = await find_ticket(session, number[:20])
    if ticket is None:
        raise web.HTTPNotFound()
    return ticket


@require(*STAFF_ROLES)
async def ticket_page(request: web.Request) -> web.Response:
    who = me(request)
    async with db(request) as session, session.begin():
        ticket = await _ticket_or_404(session, request.match_info["number"])
        assigned = await assignee_of(session, ticket.id or 0)
        contact = None
        if ticket.chat_id is not None:
            contact = await get_contact(session, ticket.channel, ticket.chat_id)
        accounts = [
            (account, name)
            for account, name in await list_accounts(session)
            if account.role != "volunteer" and not account.disabled
        ]
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="open", target=f"ticket:{ticket.number}")  # fmt: skip
    context = {
        "t": ticket,
        "assigned": assigned,
        "contact_id": contact.id if contact else None,
        "accounts": accounts,
        "today": _today(request),
        "notice": request.query.get("notice", ""),
    }
    return aiohttp_jinja2.render_template("ticket.html", request, context)


@require(*STAFF_ROLES)
async def answer(request: web.Request) -> web.Response:
    text = (await form(request)).get("text", "").strip()[:MAX_ANSWER_CHARS]
    who = me(request)
    async with db(request) as session, session.begin():
        ticket = await _ticket_or_404(session, request.match_info["number"])
        if not text:
            return see_other(f"/staff/tickets/{ticket.number}?notice=empty")
        answer_ticket(ticket, text, who.name, now())
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="answer", target=f"ticket:{ticket.number}")  # fmt: skip
        number, channel, chat_id = ticket.number, ticket.channel, ticket.chat_id
    library = engine_of(request).library
    notice = Reply(f"{library.text('ticket_answer_notice', code=number)}\n{text}")
    problem = await send_to_contact(request.config_dict, channel, chat_id, [notice])
    return see_other(f"/staff/tickets/{number}?notice={problem or 'answered'}")


@require(*STAFF_ROLES)
async def close(request: web.Request) -> web.Response:
    who = me(request)
    async with db(request) as session, session.begin():
        ticket = await _ticket_or_404(session, request.match_info["number"])
        close_ticket(ticket, now())
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="close", target=f"ticket:{ticket.number}")  # fmt: skip
        number = ticket.number
    return see_other(f"/staff/tickets/{number}?notice=closed")


@require(*STAFF_ROLES)
async def reassign(request: web.Request) -> web.Response:
    value = (await form(request)).get("account", "")
    who = me(request)
    async with db(request) as session, session.begin():
        ticket = await _ticket_or_404(session, request.match_info["number"])
        account = await session.get(ConsoleAccount, int(value)) if value.isdigit() else None
        if account is None or account.disabled or account.role == "volunteer":
            return see_other(f"/staff/tickets/{ticket.number}?notice=bad_account")
        await assign(session, ticket.id or 0, account.id or 0, now())
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="assign", target=f"ticket:{ticket.number}",
                    detail=account.login)  # fmt: skip
        number = ticket.number
    return see_other(f"/staff/tickets/{number}?notice=assigned")
