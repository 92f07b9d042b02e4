"""The web chat receives messages nobody asked for (staff answers): stored, then pushed live.

A web-chat page has no address to send to, so a message for it is a row in `webchatmessage`:
the page's EventSource (`GET /api/chat/events`) gets it at once through the hub, and a page
opened later reads it from `GET /api/chat/history`. Rows older than KEEP_DAYS are dropped.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import delete
from sqlmodel import select

from bot.channels.web import render
from bot.console.live import HUB, Hub, hub_of, next_item, open_stream, send_event
from bot.messages import Reply
from storage.db import Database
from storage.models import WebChatMessage

CHANNEL = "web"
SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KEEP_DAYS = 30
HISTORY_DAYS = 7
HISTORY_LIMIT = 50


async def store(database: Database, chat_id: str, replies: Sequence[Reply]) -> list[str]:
    """Keep the messages for the page (its own transaction); return their ids."""
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        await session.execute(
            delete(WebChatMessage).where(WebChatMessage.at < now - timedelta(days=KEEP_DAYS))
        )
        rows = [
            WebChatMessage(chat_id=chat_id, at=now, payload={**render(r), "from": "staff"})
            for r in replies
        ]
        session.add_all(rows)
        await session.flush()
        return [str(row.id) for row in rows]


class WebChatSender:
    """The web chat as a Sender (bot/delivery.py): answers wait in the database for the page.

    It writes to the database, so callers must not hold a write transaction of their own
    (SQLite would wait for itself): everything sends after the commit (bot/outbound.py).
    """

    channel = CHANNEL

    def __init__(self, database: Database, hub: Hub | None = None):
        self.database, self.hub = database, hub

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> list[str]:
        ids = await store(self.database, chat_id, replies)
        if self.hub is not None:
            self.hub.poke()
        return ids

    async def close(self) -> None:
        return None


def setup(app: web.Application) -> None:
    from bot.app import DATABASE, SENDERS
    from bot.console.live import HUB

    app.router.add_get("/api/chat/history", history)
    app.router.add_get("/api/chat/events", events)

    async def register_sender(app: web.Application) -> None:
        # The engine and the console send to any channel through the app's senders: staff
        # answers from the staff room reach a web-chat citizen like anybody else.
        app[SENDERS][CHANNEL] = WebChatSender(app[DATABASE], app.get(HUB))

    app.on_startup.append(register_sender)


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


__all__ = ["HUB", "WebChatSender", "store"]
