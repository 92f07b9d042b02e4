"""The web chat: a mobile-first page at / and its JSON API at /api/chat."""

import json
import re
from pathlib import Path

from aiohttp import web

from bot.messages import Incoming, Reply

STATIC = Path(__file__).resolve().parent.parent / "web"
SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT_CHARS = 10_000
MAX_ACTION_CHARS = 64
# Scripts and styles from this server only; EventSource and fetch to it; reply images anywhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def setup(app: web.Application) -> None:
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


async def chat(request: web.Request) -> web.Response:
    from bot.app import ENGINE

    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _bad_request("body must be JSON")
    if not isinstance(body, dict):
        return _bad_request("body must be a JSON object")
    session, text, action = body.get("session"), body.get("text"), body.get("action")
    start = body.get("start")
    if not isinstance(session, str) or not SESSION.match(session):
        return _bad_request("session must be 1-64 letters, digits, '-' or '_'")
    if text is not None and not isinstance(text, str):
        return _bad_request("text must be a string")
    if action is not None and (not isinstance(action, str) or len(action) > MAX_ACTION_CHARS):
        return _bad_request(f"action must be a string of at most {MAX_ACTION_CHARS} characters")
    if start is not None and not isinstance(start, str):
        return _bad_request("start must be a string")
    if text is None and action is None and start is None:
        return _bad_request("send text, action or start")
    incoming = Incoming(
        channel="web",
        chat_id=session,
        text=(text or "")[:MAX_TEXT_CHARS],
        action=action or None,
        referral=(start or None) and start[:MAX_ACTION_CHARS],
    )
    replies = await request.app[ENGINE].handle(incoming)
    return web.json_response({"replies": [render(r) for r in replies]})
