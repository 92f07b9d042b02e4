"""Authentication, roles, CSRF and the security headers of every console page, in one place.

- Passwords: Argon2id (argon2-cffi), verified off the event loop.
- Sessions: a random token in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); the
  database keeps only its SHA-256, so every worker shares the sessions; idle ones expire.
- CSRF: a per-session token in every form (`csrf`) or the `X-CSRF-Token` header; the login form
  uses a double-submit cookie. A missing or wrong token is a 403.
- Brute force: 5 wrong passwords for a login or from an address -> 429, for a delay that doubles.
- Roles: `require(...)` on every view; the middleware turns 403/404/429/500 into polite pages.
"""

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.app import DATABASE, SETTINGS
from storage.accounts import ADMIN, STAFF, VOLUNTEER, live_session

log = logging.getLogger(__name__)

COOKIE = "troly_staff"
LOGIN_CSRF_COOKIE = "troly_login_csrf"
CSRF_FIELD, CSRF_HEADER = "csrf", "X-CSRF-Token"
TOUCH_EVERY = timedelta(minutes=1)  # a session's last_seen is rewritten at most this often
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=24)
FIRST_DELAY_SECONDS, MAX_DELAY_SECONDS = 30, 3600
PUBLIC_PATHS = ("/staff/login", "/staff/static/")
LIVE_STREAM = "/staff/events"  # the inbox's server-sent events (bot/console/inbox.py)
EVERYONE = (ADMIN, STAFF, VOLUNTEER)
STAFF_ROLES = (ADMIN, STAFF)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    """Argon2 takes tens of milliseconds on purpose: keep it off the event loop."""
    return await asyncio.to_thread(check_password, password_hash, password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Me:
    """The logged-in person behind a request."""

    account_id: int
    staff_id: int
    login: str
    name: str
    role: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


ME = web.RequestKey("console_me", Me)


def me(request: web.Request) -> Me:
    return request[ME]


def now() -> datetime:
    return datetime.now(UTC)


def client_address(request: web.Request) -> str:
    if request.config_dict[SETTINGS].console_trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return (request.remote or "?")[:64]


def over_https(request: web.Request) -> bool:
    if request.secure:
        return True
    trusted = request.config_dict[SETTINGS].console_trust_proxy
    return trusted and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name, value, path="/staff", httponly=True, samesite="Lax", secure=over_https(request)
    )


def lockout_seconds(failures: int, last: datetime | None, at: datetime) -> int:
    """Seconds left before another try is heard; 0 when it may go ahead."""
    if failures < MAX_FAILURES or last is None:
        return 0
    delay = min(FIRST_DELAY_SECONDS * 2 ** (failures - MAX_FAILURES), MAX_DELAY_SECONDS)
    left = (last + timedelta(seconds=delay) - at).total_seconds()
    return max(0, int(left + 0.999))


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def _given_csrf(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def require(*roles: str) -> Callable[[Handler], Handler]:
    """Let the view run only for these roles; everybody else gets 403."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            who: Me | None = request.get(ME)
            if who is None or who.role not in roles:
                raise web.HTTPForbidden()
            return await handler(request)

        return guarded

    return decorate


async def _load_me(request: web.Request) -> Me | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    settings = request.config_dict[SETTINGS]
    idle = timedelta(hours=settings.console_session_hours)
    at = now()
    async with request.config_dict[DATABASE].session() as session:
        found = await live_session(session, token, at, idle)
        if found is None:
            await session.commit()  # an expired session was deleted
            return None
        row, account, name = found
        # A live stream reconnecting by itself is not somebody at work: an inbox left open on
        # an empty desk still ends after the idle hours.
        by_hand = request.path != LIVE_STREAM
        if by_hand and at - row.last_seen_at > TOUCH_EVERY:  # a write at most once a minute
            row.last_seen_at = at
            await session.commit()
        return Me(account.id or 0, account.staff_id, account.login, name, account.role, row.csrf)


async def still_logged_in(request: web.Request) -> bool:
    """Whether the request's session is still live: a long stream asks again now and then, so a
    new password, a disabled login or a logout ends it too."""
    return await _load_me(request) is not None


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log-in, CSRF and polite error pages for everything under /staff/."""
    try:
        if not request.path.startswith(PUBLIC_PATHS):
            who = await _load_me(request)
            if who is None:
                if request.method == "GET" and "text/event-stream" not in request.headers.get(
                    "Accept", ""
                ):
                    raise web.HTTPFound(f"/staff/login?next={request.path_qs}")
                raise web.HTTPUnauthorized()
            request[ME] = who
            if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(
                who.csrf, await _given_csrf(request)
            ):
                log.warning("console: CSRF token refused for %s on %s", who.login, request.path)
                raise web.HTTPForbidden(reason="CSRF")
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return error_page(request, error.status, dict(error.headers))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("console: %s %s failed", request.method, request.path)
        return error_page(request, 500, {})


def error_page(request: web.Request, status: int, headers: dict[str, Any]) -> web.Response:
    page = "error.html" if status in (401, 403, 404, 429) else "error_500.html"
    context = {"status": status, "retry_after": headers.get("Retry-After")}
    response = aiohttp_jinja2.render_template(page, request, context, status=status)
    if "Retry-After" in headers:
        response.headers["Retry-After"] = headers["Retry-After"]
    return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every console response, streams included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
