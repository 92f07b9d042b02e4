"""/staff/login and /staff/logout."""

import logging
from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.console import security
from bot.console.pages import db, form, see_other
from storage.accounts import (
    VOLUNTEER,
    account_by_login,
    clear_failures,
    close_session,
    open_session,
    purge_sessions,
    recent_failures,
    record_failure,
)
from storage.audit import audit

log = logging.getLogger(__name__)


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)


def _safe_next(value: str | None) -> str:
    """Only a path of the console itself: never another site."""
    if value and value.startswith("/staff/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/staff/"


def _render(request: web.Request, status: int = 200, **context: object) -> web.Response:
    token = request.cookies.get(security.LOGIN_CSRF_COOKIE) or security.new_token()
    context = {"login_csrf": token, "next": _safe_next(request.query.get("next")), **context}
    response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
    security.set_cookie(response, request, security.LOGIN_CSRF_COOKIE, token)
    return response


async def login_form(request: web.Request) -> web.Response:
    return _render(request)


async def login(request: web.Request) -> web.StreamResponse:
    fields = await form(request)
    expected = request.cookies.get(security.LOGIN_CSRF_COOKIE, "")
    if not expected or not security.csrf_ok(expected, fields.get(security.CSRF_FIELD)):
        raise web.HTTPForbidden(reason="CSRF")
    username = fields.get("username", "").strip().lower()[:64]
    password = fields.get("password", "")
    address = security.client_address(request)
    now = security.now()
    async with db(request) as session, session.begin():
        failures, last = await recent_failures(
            session, username, address, now - security.FAILURE_WINDOW
        )
        wait = security.lockout_seconds(failures, last, now)
        if wait:
            log.warning("console: login %r from %s held back %ss", username, address, wait)
            raise web.HTTPTooManyRequests(headers={"Retry-After": str(wait)})
        account = await account_by_login(session, username) if username else None
        # A missing login costs the same Argon2 work, so timing does not tell logins apart.
        stored = account.password_hash if account else _DUMMY_HASH
        good = await security.verify_password(stored, password)
        if account is None or account.disabled or not good:
            await record_failure(session, username or "?", address, now)
            await audit(session, now=now, account_id=None, actor=username or "?",
                        action="login_failed", detail=address)  # fmt: skip
            wrong = True
        else:
            wrong = False
            token, csrf = security.new_token(), security.new_token()
            await open_session(session, account, token, csrf, now)
            await clear_failures(session, username, now - timedelta(days=2))
            idle = timedelta(hours=request.config_dict[SETTINGS].console_session_hours)
            await purge_sessions(session, now - idle)
            await audit(session, now=now, account_id=account.id, actor=account.login,
                        action="login", detail=address)  # fmt: skip
            role = account.role
    if wrong:
        return _render(request, status=401, error=True, username=username)
    target = _safe_next(fields.get("next"))
    if role == VOLUNTEER and target == "/staff/":
        target = "/staff/me"
    response = see_other(target)
    security.set_cookie(response, request, security.COOKIE, token)
    response.del_cookie(security.LOGIN_CSRF_COOKIE, path="/staff")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(security.COOKIE, "")
    async with db(request) as session, session.begin():
        await close_session(session, token)
    response = see_other("/staff/login")
    response.del_cookie(security.COOKIE, path="/staff")
    return response


_DUMMY_HASH = security.hash_password("not a password of anybody")
