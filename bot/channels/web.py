"""The web chat: a mobile-first page at / and its JSON API at /api/chat."""

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot.channels.base import Bubble, Channel, Limits
from bot.engine import DatabaseUnavailable
from bot.messages import Incoming, Reply
from bot.ratelimit import Limiter, client_address, make_limiter
from bot.settings import Settings

STATIC = Path(__file__).resolve().parent.parent / "web"
SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT_CHARS = 10_000
MAX_ACTION_CHARS = 64
RETRY_AFTER_SECONDS = 3  # the page sends a kept message again after this, then less often


LIMITER = web.AppKey("web_chat_limiter", Limiter)
# Scripts and styles from this server only; EventSource and fetch to it; reply images anywhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def setup(app: web.Application) -> None:
    from bot.app import SETTINGS

    limiter = make_limiter(app[SETTINGS].redis_url)
    app[LIMITER] = limiter

    async def close_limiter(app: web.Application) -> None:
        await limiter.close()

    app.on_cleanup.append(close_limiter)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, append_version=True)
    app.router.add_post("/api/chat", chat)


async def index(request: web.Request) -> web.FileResponse:
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP}
    return web.FileResponse(STATIC / "index.html", headers=headers)


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def render(reply: Reply) -> dict:
    buttons = []
    for button in reply.buttons:
        kind = "action" if button.action else "url" if button.url else "phone"
        buttons.append({"label": button.label, kind: button.action or button.url or button.phone})
    rendered: dict = {"text": reply.text, "buttons": buttons}
    if reply.image:
        rendered["image"] = reply.image
    return rendered


async def _too_fast(request: web.Request, session: str | None = None) -> web.Response | None:
    """429 with Retry-After and a kind line the page shows, when the bucket is empty: the
    client address's before anything is read, the chat session's once it is known."""
    from bot.app import LIBRARY, SETTINGS

    settings, limiter = request.app[SETTINGS], request.app[LIMITER]
    if session is None:
        forwarded = request.headers.get("X-Forwarded-For")
        address = client_address(request.remote, forwarded, settings.trusted_proxies)
        key, per_minute, burst = f"a:{address}", settings.address_per_minute, settings.address_burst
    else:
        key, per_minute, burst = (
            f"s:{session}",
            settings.web_chat_per_minute,
            settings.web_chat_burst,
        )
    wait = await limiter.take(key, per_minute, burst)
    if not wait:
        return None
    text = request.app[LIBRARY].text("web_slow_down")
    return web.json_response(
        {"error": "too many messages", "replies": [{"text": text, "buttons": []}]},
        status=429,
        headers={"Retry-After": str(math.ceil(wait))},
    )


async def chat(request: web.Request) -> web.Response:
    from bot.app import ENGINE, LIBRARY

    refused = await _too_fast(request)
    if refused is not None:
        return refused

    try:
        body = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting is not a crash
        return _bad_request("body must be JSON")
    if not isinstance(body, dict):
        return _bad_request("body must be a JSON object")
    session, text, action = body.get("session"), body.get("text"), body.get("action")
    start, message_id = body.get("start"), body.get("id")
    if not isinstance(session, str) or not SESSION.match(session):
        return _bad_request("session must be 1-64 letters, digits, '-' or '_'")
    if text is not None and not isinstance(text, str):
        return _bad_request("text must be a string")
    if action is not None and (not isinstance(action, str) or len(action) > MAX_ACTION_CHARS):
        return _bad_request(f"action must be a string of at most {MAX_ACTION_CHARS} characters")
    if start is not None and not isinstance(start, str):
        return _bad_request("start must be a string")
    if message_id is not None and (
        not isinstance(message_id, str) or not SESSION.match(message_id)
    ):
        return _bad_request("id must be 1-64 letters, digits, '-' or '_'")
    if text is None and action is None and start is None:
        return _bad_request("send text, action or start")
    refused = await _too_fast(request, session)
    if refused is not None:
        return refused
    incoming = Incoming(
        channel="web",
        chat_id=session,
        text=(text or "")[:MAX_TEXT_CHARS],
        action=action or None,
        referral=(start or None) and start[:MAX_ACTION_CHARS],
        message_id=message_id,
    )
    try:
        # With an id the page can send the message again: keep it rather than apologise.
        replies = await request.app[ENGINE].handle(incoming, keep_if_unavailable=bool(message_id))
    except DatabaseUnavailable:
        text = request.app[LIBRARY].text("web_retrying")
        return web.json_response(
            {"retry": True, "replies": [{"text": text, "buttons": []}]},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return web.json_response({"replies": [render(r) for r in replies]})


class Web(Channel):
    name = "web"
    label = "Web"
    limits = Limits(text_chars=MAX_TEXT_CHARS, buttons=20, button_label_chars=200)
    reply_window = None

    def configured(self, settings: Settings) -> bool:
        return True  # the web chat always runs: it needs no token

    def rate(self, settings: Settings) -> float:
        return 0.0

    def setup(self, app: web.Application) -> None:
        setup(app)

    def show(self, replies: Sequence[Reply]) -> list[Bubble]:
        shown = [render(reply) for reply in replies]
        return [
            Bubble(r["text"], tuple(b["label"] for b in r["buttons"]), r.get("image"))
            for r in shown
        ]


channel = Web()
