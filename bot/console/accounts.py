"""/staff/accounts: admins add console logins, reset passwords, disable and re-enable them."""

import asyncio

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db, form, int_or_404, see_other
from bot.console.security import ADMIN, hash_password, me, now, require
from storage.accounts import ROLES, create_account, end_sessions, list_accounts, set_password
from storage.audit import audit
from storage.models import ConsoleAccount

MIN_PASSWORD = 8


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/accounts", accounts_page)
    router.add_post("/accounts", add)
    router.add_post("/accounts/{id}/password", reset_password)
    router.add_post("/accounts/{id}/disable", disable)
    router.add_post("/accounts/{id}/enable", enable)


@require(ADMIN)
async def accounts_page(request: web.Request) -> web.Response:
    async with db(request) as session:
        rows = await list_accounts(session)
    context = {"rows": rows, "roles": ROLES, "notice": request.query.get("notice", "")}
    return aiohttp_jinja2.render_template("accounts.html", request, context)


@require(ADMIN)
async def add(request: web.Request) -> web.Response:
    fields = await form(request)
    name, login = fields.get("name", "").strip()[:120], fields.get("login", "").strip()[:64]
    role, password = fields.get("role", ""), fields.get("password", "")
    if not name or not login or role not in ROLES or len(password) < MIN_PASSWORD:
        return see_other("/staff/accounts?notice=invalid")
    # Argon2 takes tens of milliseconds on purpose: keep it off the event loop.
    password_hash = await asyncio.to_thread(hash_password, password)
    who = me(request)
    async with db(request) as session, session.begin():
        try:
            await create_account(session, name=name, login=login, role=role,
                                 password_hash=password_hash, now=now())  # fmt: skip
        except ValueError:
            return see_other("/staff/accounts?notice=exists")
        await audit(
            session, now=now(), account_id=who.account_id, actor=who.name,
            action="account", target=f"login:{login.lower()}", detail=f"+ {role}",
        )  # fmt: skip
    return see_other("/staff/accounts?notice=added")


async def _change(request: web.Request, action: str) -> web.Response:
    account_id = int_or_404(request.match_info["id"])
    password = (await form(request)).get("password", "")
    if action == "password" and len(password) < MIN_PASSWORD:
        return see_other("/staff/accounts?notice=invalid")
    who = me(request)
    password_hash = await asyncio.to_thread(hash_password, password) if action == "password" else ""
    async with db(request) as session, session.begin():
        account = await session.get(ConsoleAccount, account_id)
        if account is None:
            raise web.HTTPNotFound()
        if account.id == who.account_id and action == "disable":
            return see_other("/staff/accounts?notice=self")
        if action == "password":
            await set_password(session, account, password_hash, now())
        else:
            account.disabled = action == "disable"
            await end_sessions(session, account_id)
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="account", target=f"login:{account.login}", detail=action)  # fmt: skip
    return see_other(f"/staff/accounts?notice={action}")


@require(ADMIN)
async def reset_password(request: web.Request) -> web.Response:
    return await _change(request, "password")


@require(ADMIN)
async def disable(request: web.Request) -> web.Response:
    return await _change(request, "disable")


@require(ADMIN)
async def enable(request: web.Request) -> web.Response:
    return await _change(request, "enable")
