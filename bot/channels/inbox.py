"""The crash-safe inbox: how a webhook answers at once without losing work.

The event is written to the database, acknowledged, then processed by a worker task of this
process. Events of one person go to the same worker so their turns stay in order; events left
unprocessed by a crash are taken up again on start (and by a periodic sweep), each claimed by
one process. Every webhook channel uses it.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.http import Clock, utc_now
from bot.engine import DATABASE_DOWN, DatabaseUnavailable
from storage.db import Database
from storage.webhook_inbox import (
    claim_event,
    mark_processed,
    pending_events,
    prune_events,
    store_events,
)

log = logging.getLogger(__name__)


@dataclass
class InboxSettings:
    # Worker tasks; one person's events always go to the same one. One is the default: on one
    # core more turns in flight only make acknowledgements wait longer (bench/zalo_throughput).
    shards: int = 1
    lease: timedelta = timedelta(minutes=5)  # a claimed event is retried after this long
    max_attempts: int = 3
    keep_processed: timedelta = timedelta(days=7)  # dedupe window for redeliveries
    unavailable_wait: float = 0.5  # first wait for a database gone mid-event; doubles, up to 5 s


class Inbox:
    """Persist, acknowledge, process: the webhook never waits for the engine or the API."""

    def __init__(
        self,
        database: Database,
        channel: str,
        process: Callable[[str], Awaitable[None]],
        clock: Clock = utc_now,
        settings: InboxSettings | None = None,
    ):
        self.database = database
        self.channel = channel
        self.process = process
        self.clock = clock
        self.settings = settings or InboxSettings()
        self._queues: list[asyncio.Queue[int]] = []
        self._tasks: list[asyncio.Task[None]] = []
        # Acknowledging comes first: workers start a database step only when no webhook is
        # storing an event, so an acknowledgement never queues behind a stream of turns for
        # the (SQLite) write lock; it waits for one step at most.
        self._to_store: list[tuple[str, str, str, asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._no_webhook_waiting = asyncio.Event()
        self._no_webhook_waiting.set()

    async def accept(self, event_id: str, chat_id: str, body: str) -> bool:
        """Store the event and queue it; False for a redelivery of one already stored."""
        stored: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._to_store.append((event_id, chat_id, body, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._store_pending())
        try:
            row_id = await stored
        except DATABASE_DOWN as error:  # the platform is told to deliver it again (503)
            raise DatabaseUnavailable(str(error)) from error
        if row_id is None:
            return False
        self._enqueue(row_id, chat_id)
        return True

    async def _store_pending(self) -> None:
        """One writer, one transaction for all events waiting: concurrent webhooks never
        fight each other for the (SQLite) write lock, and workers wait while they store."""
        self._no_webhook_waiting.clear()
        try:
            while self._to_store:
                batch, self._to_store = self._to_store, []
                try:
                    async with self.database.session() as session, session.begin():
                        rows = [(event_id, chat_id, body) for event_id, chat_id, body, _ in batch]
                        ids = await store_events(session, self.channel, rows, self.clock())
                except Exception as error:
                    for *_, stored in batch:
                        stored.set_exception(error)
                    continue
                for event_id, _, _, stored in batch:
                    # The same event twice in one batch: the first gets the row, the rest are
                    # duplicates.
                    stored.set_result(ids.pop(event_id[:128], None))
        finally:
            self._no_webhook_waiting.set()

    async def start(self) -> None:
        self._queues = [asyncio.Queue() for _ in range(self.settings.shards)]
        self._tasks = [asyncio.create_task(self._work(q)) for q in self._queues]
        self._tasks.append(asyncio.create_task(self._sweep_forever()))
        await self.recover()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def drain(self) -> None:
        """Wait until every queued event has been processed (tests, graceful shutdown)."""
        await asyncio.gather(*(queue.join() for queue in self._queues))

    async def recover(self) -> int:
        """Queue the events a crash or a restart left unprocessed; returns how many."""
        s = self.settings
        async with self.database.session() as session:
            rows = await pending_events(
                session, self.channel, self.clock(), s.lease, s.max_attempts
            )
        for row_id, chat_id in rows:
            self._enqueue(row_id, chat_id)
        if rows:
            log.info("%s: %d unprocessed event(s) taken up again", self.channel, len(rows))
        return len(rows)

    def _enqueue(self, row_id: int, chat_id: str) -> None:
        if not self._queues:
            return  # not started: recover() on start finds it in the database
        self._queues[hash(chat_id) % len(self._queues)].put_nowait(row_id)

    async def _work(self, queue: asyncio.Queue[int]) -> None:
        while True:
            row_id = await queue.get()
            try:
                await self._run(row_id)
            except Exception:
                log.exception("%s: event %s failed; retried after the lease", self.channel, row_id)
            finally:
                queue.task_done()

    async def _run(self, row_id: int) -> None:
        s = self.settings
        await self._no_webhook_waiting.wait()
        async with self.database.session() as session, session.begin():
            claimed = await claim_event(session, row_id, self.clock(), s.lease, s.max_attempts)
        if claimed is None:
            return  # done already, or another process holds it
        await self._no_webhook_waiting.wait()
        await self._process_while_claimed(claimed.body)
        await self._record_processed(row_id)

    async def _process_while_claimed(self, body: str) -> None:
        """A database gone for a moment is waited for here, holding the claim (and the person's
        later events, queued behind this one), rather than until the lease runs out; past half
        the lease the sweep takes over."""
        deadline = time.monotonic() + self.settings.lease.total_seconds() / 2
        wait = self.settings.unavailable_wait
        while True:
            try:
                await self.process(body)
                return
            except DatabaseUnavailable:
                if time.monotonic() + wait >= deadline:
                    raise
                log.info("%s: database unavailable; event retried in %.1fs", self.channel, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)

    async def _record_processed(self, row_id: int) -> None:
        """The turn is done and answered: say so as soon as the database lets us. Until then
        the event stays claimed and this shard waits, so the sweep's copy of it, queued behind,
        finds it processed instead of answering the person twice."""
        wait = self.settings.unavailable_wait
        while True:
            await self._no_webhook_waiting.wait()
            try:
                async with self.database.session() as session, session.begin():
                    await mark_processed(session, row_id, self.clock())
                return
            except DATABASE_DOWN as error:
                log.warning("%s: event %s answered, not yet recorded (%s); retried in %.1fs",
                            self.channel, row_id, type(error).__name__, wait)  # fmt: skip
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.lease.total_seconds())
            try:
                await self.recover()
                async with self.database.session() as session, session.begin():
                    before = self.clock() - self.settings.keep_processed
                    await prune_events(session, self.channel, before)
            except Exception:
                log.exception("%s: inbox sweep failed", self.channel)
