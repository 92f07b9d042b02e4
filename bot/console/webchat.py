"""The web chat's messages nobody asked for (staff answers), pushed live to the page.

The web channel's sender stores them (bot/channels/web_sender.py); the page's EventSource
(`GET /api/chat/events`) gets each at once through the hub, and a page opened later reads them
from `GET /api/chat/history`.
"""

import re
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlmodel import select

from bot.channels.web_sender import CHANNEL, WebChatSender
from bot.console.live import HUB, hub_of, next_item, open_stream, send_event
from storage.models import WebChatMessage

SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HISTORY_DAYS = 7
HISTORY_LIMIT = 50


def setup(app: web.Application) -> None:
    from bot.app import SENDERS

    app.router.add_get("/api/chat/history", history)
    app.router.add_get("/api/chat/events", events)

    async def wake_hub_on_store(app: web.Application) -> None:
        # A message this worker stored: its open pages get it now, not at the next poll.
        sender, hub = app[SENDERS].get(CHANNEL), app.get(HUB)
        if isinstance(sender, WebChatSender) and hub is not None:
            sender.stored = hub.poke

    app.on_startup.append(wake_hub_on_store)


def _session_of(request: web.Request) -> str:
    session = request.query.get("session", "")
    if not SESSION.match(session):
        raise web.HTTPBadRequest(text="session must be 1-64 letters, digits, '-' or '_'")
    return session


def _after(request: web.Request) -> int:
    value = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    return int(value) if value.isdigit() else 0


async def history(request: web.Request) -> web.Response:
    """Staff messages of the last days for this page, oldest first."""
    from bot.app import DATABASE

    chat_id = _session_of(request)
    since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    async with request.app[DATABASE].session() as session:
        rows = (
            await session.execute(
                select(WebChatMessage)
                .where(
                    WebChatMessage.chat_id == chat_id,
                    WebChatMessage.at >= since,
                    WebChatMessage.id > _after(request),
                )
                .order_by(WebChatMessage.id.desc())
                .limit(HISTORY_LIMIT)
            )
        ).scalars()
        messages = [{"id": row.id, **row.payload} for row in reversed(list(rows))]
    return web.json_response({"messages": messages}, headers={"Cache-Control": "no-store"})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: each staff message for this page as it is stored.

    Subscribes first, then sends what was stored after `after` (Last-Event-ID on a reconnect),
    so a message stored between the page's history request and this stream is never lost.
    """
    chat_id = _session_of(request)
    hub = hub_of(request)
    queue = hub.listen_web(chat_id)
    sent = _after(request)
    response = await open_stream(request)
    try:
        for item in await _stored_after(request, chat_id, sent):
            await send_event(response, "message", item, item["id"])
            sent = item["id"]
        while True:
            alive, item = await next_item(queue, response)
            if not alive:
                break
            message_id, payload = item
            if message_id > sent:
                await send_event(response, "message", {"id": message_id, **payload}, message_id)
                sent = message_id
    except ConnectionResetError:
        pass
    finally:
        hub.forget(queue, chat_id)
    return response


async def _stored_after(request: web.Request, chat_id: str, after: int) -> list[dict]:
    from bot.app import DATABASE

    since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    async with request.app[DATABASE].session() as session:
        rows = await session.execute(
            select(WebChatMessage)
            .where(
                WebChatMessage.chat_id == chat_id,
                WebChatMessage.id > after,
                WebChatMessage.at >= since,
            )
            .order_by(WebChatMessage.id)
            .limit(HISTORY_LIMIT)
        )
        return [{"id": row.id, **row.payload} for row in rows.scalars()]
