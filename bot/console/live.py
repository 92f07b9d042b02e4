"""Live updates for every worker: one database poller per process fans out to open pages.

Writes happen in any worker, so the hub watches the database rather than its own process: new
message events of chats with an open hand-off (and the hand-off, staff-room and console
handlers), new audit rows (claims, answers, closes), and new web-chat messages. Console pages get
an `inbox` hint and fetch the fresh fragment; web-chat pages get the message itself. A local
write calls `poke()` so its own worker does not wait for the next tick.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from storage.db import Database
from storage.models import AuditEvent, Handoff, MessageEvent, WebChatMessage

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
STOP_SECONDS = 5.0  # a poll stuck longer than this (a database gone) is cancelled
QUEUE_SIZE = 100
BATCH = 2000
INBOX_HANDLERS = {"handoff", "staffroom", "console", "rating"}

Item = tuple[int, dict[str, Any]] | None  # (web message id, payload); None ends a stream


class Hub:
    def __init__(self, database: Database, interval: float = POLL_SECONDS):
        self.database, self.interval = database, interval
        self.version = 0  # bumped whenever the inbox changed
        self._inbox: set[asyncio.Queue[int | None]] = set()
        self._web: dict[str, set[asyncio.Queue[Item]]] = {}
        self._open_chats: set[tuple[str, str]] = set()
        self._last_event = self._last_audit = self._last_handoff = self._last_web = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._memo: dict[str, tuple[int, float, Any]] = {}
        self._memo_locks: dict[str, asyncio.Lock] = {}

    async def start(self) -> None:
        async with self.database.session() as session:
            self._last_event = await _max(session, MessageEvent.id)
            self._last_audit = await _max(session, AuditEvent.id)
            self._last_handoff = await _max(session, Handoff.id)
            self._last_web = await _max(session, WebChatMessage.id)
            await self._refresh_open_chats(session)
        self._task = asyncio.create_task(self._run(), name="console-hub")

    async def stop(self) -> None:
        for queue in [*self._inbox, *(q for qs in self._web.values() for q in qs)]:
            _offer(queue, None)
        if self._task:
            # Let a poll in flight finish: cancelled mid-query, its answer would come back from
            # the database's thread to an event loop that may be closed by then.
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    def poke(self) -> None:
        """A write of this worker: look now, and forget what the inbox looked like."""
        self._memo = {k: v for k, v in self._memo.items() if v[0] < 0}
        self._wake.set()

    async def memo(
        self, key: str, compute: Callable[[], Awaitable[Any]], ttl: float, versioned: bool = True
    ) -> Any:
        """One computation shared by every page of this worker: 20 open inboxes refreshing
        at the same event cost one query. `versioned` results also expire on any inbox change."""
        version = self.version if versioned else -1
        found = self._memo.get(key)
        if found and found[0] == version and time.monotonic() - found[1] < ttl:
            return found[2]
        async with self._memo_locks.setdefault(key, asyncio.Lock()):
            found = self._memo.get(key)
            if found and found[0] == version and time.monotonic() - found[1] < ttl:
                return found[2]
            value = await compute()
            self._memo[key] = (version, time.monotonic(), value)
            return value

    def listen_inbox(self) -> asyncio.Queue[int | None]:
        queue: asyncio.Queue[int | None] = asyncio.Queue(QUEUE_SIZE)
        self._inbox.add(queue)
        return queue

    def listen_web(self, chat_id: str) -> asyncio.Queue[Item]:
        queue: asyncio.Queue[Item] = asyncio.Queue(QUEUE_SIZE)
        self._web.setdefault(chat_id, set()).add(queue)
        return queue

    def forget(self, queue: asyncio.Queue, chat_id: str | None = None) -> None:
        self._inbox.discard(queue)
        if chat_id is not None and chat_id in self._web:
            self._web[chat_id].discard(queue)
            if not self._web[chat_id]:
                del self._web[chat_id]

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("console hub: poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def poll(self) -> None:
        async with self.database.session() as session:
            events = (
                await session.execute(
                    select(MessageEvent.id, MessageEvent.channel, MessageEvent.chat_id)
                    .add_columns(MessageEvent.handler)
                    .where(MessageEvent.id > self._last_event)
                    .order_by(MessageEvent.id)
                    .limit(BATCH)
                )
            ).all()
            audit_id = await _max(session, AuditEvent.id)
            handoff_id = await _max(session, Handoff.id)
            web_rows: list[WebChatMessage] = []
            if self._web:
                web_rows = list(
                    (
                        await session.execute(
                            select(WebChatMessage)
                            .where(WebChatMessage.id > self._last_web)
                            .order_by(WebChatMessage.id)
                        )
                    ).scalars()
                )
            else:
                self._last_web = await _max(session, WebChatMessage.id)
            changed = audit_id > self._last_audit or handoff_id > self._last_handoff
            changed = changed or any(
                handler in INBOX_HANDLERS or (channel, chat_id) in self._open_chats
                for _, channel, chat_id, handler in events
            )
            if events:
                self._last_event = events[-1][0]
            self._last_audit, self._last_handoff = audit_id, handoff_id
            if changed:
                await self._refresh_open_chats(session)
        for row in web_rows:
            self._last_web = max(self._last_web, row.id or 0)
            for queue in self._web.get(row.chat_id, ()):
                _offer(queue, (row.id or 0, row.payload))
        if changed:
            self.version += 1
            for queue in self._inbox:
                _offer(queue, self.version)

    async def _refresh_open_chats(self, session: Any) -> None:
        rows = await session.execute(
            select(Handoff.channel, Handoff.chat_id).where(
                Handoff.closed_at.is_(None), Handoff.chat_id.is_not(None)
            )
        )
        self._open_chats = {(channel, chat_id) for channel, chat_id in rows.all()}


async def _max(session: Any, column: Any) -> int:
    return int((await session.execute(select(func.max(column)))).scalar() or 0)


def _offer(queue: asyncio.Queue, item: Any) -> None:
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(item)


HUB = web.AppKey("console_hub", Hub)


def setup(app: web.Application) -> None:
    from bot.app import DATABASE

    async def start(app: web.Application) -> None:
        app[HUB] = Hub(app[DATABASE])
        await app[HUB].start()

    async def stop(app: web.Application) -> None:
        if HUB in app:
            await app[HUB].stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)


def hub_of(request: web.Request) -> Hub:
    return request.config_dict[HUB]


async def open_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: pass events through at once
        }
    )
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")
    return response


async def send_event(
    response: web.StreamResponse, event: str, data: Any, event_id: int | None = None
) -> None:
    lines = f"id: {event_id}\n" if event_id is not None else ""
    lines += f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
    await response.write(lines.encode())


async def next_item(
    queue: asyncio.Queue, response: web.StreamResponse, until: float | None = None
) -> tuple[bool, Any]:
    """(True, item) for an item; keep-alive comments meanwhile; (False, None) at shutdown or
    once the loop's clock passes `until` (the browser then reconnects, and is checked again)."""
    loop = asyncio.get_running_loop()
    while True:
        wait = KEEPALIVE_SECONDS if until is None else min(KEEPALIVE_SECONDS, until - loop.time())
        if wait <= 0:
            return False, None
        try:
            item = await asyncio.wait_for(queue.get(), wait)
        except TimeoutError:
            await response.write(b": keep-alive\n\n")
            continue
        return item is not None, item
