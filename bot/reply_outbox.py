"""Replies a platform refused for a moment are kept in the database and sent again, in order.

A channel answers a citizen through `ReplyOutbox.send`: the turn's replies go out at once, and
if the platform answers 5xx, refuses the connection or rate-limits past the sender's own
retries, what is left of them is kept (storage/reply_outbox.py) and a worker task started with
the app sends it again with backoff. A send that timed out may have arrived: that message is
counted uncertain and never repeated (no platform here takes an idempotency key); the rest of
the turn still goes. While a chat has replies waiting, its next ones queue behind them, so a
citizen never reads an answer before the one to their earlier question.

Several processes share the table: a row is claimed by one UPDATE (see the queries), and each
process learns which chats are held from the table every `poll` seconds: for that long after
another process kept a reply, this one could still answer the same chat directly.
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.http import Clock, utc_now
from bot.delivery import (
    DeliveryError,
    MaybeDelivered,
    RateLimited,
    Sender,
    TemporaryFailure,
    Unreachable,
)
from bot.logs import chat_ref
from bot.messages import Reply
from storage.conversations import mark_unreachable
from storage.db import Database, begin_writing
from storage.outbox import new_worker_id
from storage.reply_outbox import (
    ClaimedReply,
    claim_due,
    held_chats,
    keep_replies,
    prune_replies,
    record_reply,
    settle_abandoned,
)

log = logging.getLogger(__name__)

TIDY_EVERY = timedelta(minutes=1)


@dataclass
class OutboxSettings:
    poll: float = 1.0  # seconds between looks at the table when nothing was kept here
    first_delay: float = 2.0  # the first retry; doubles with each attempt
    max_delay: float = 60.0
    max_attempts: int = 40  # about half an hour of a platform refusing, then given up
    batch: int = 50  # chats sent to at once by one worker
    stale: timedelta = timedelta(minutes=10)  # a claim never reported on: its worker died
    keep_finished: timedelta = timedelta(days=7)  # sent and failed rows, for looking into

    def delay(self, attempts: int) -> float:
        return min(self.first_delay * 2 ** (attempts - 1), self.max_delay)


@dataclass(frozen=True)
class Result:
    state: str  # sent, pending (again), failed
    skip: int
    uncertain: int = 0
    wait: float = 0.0
    error: str | None = None
    unreachable: bool = False  # blocked, unfollowed: the contact is marked as for any reply


class ReplyOutbox:
    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        clock: Clock = utc_now,
        settings: OutboxSettings | None = None,
    ):
        self.database = database
        self.senders = senders
        self.clock = clock
        self.settings = settings or OutboxSettings()
        self.worker = new_worker_id()
        self.held: set[tuple[str, str]] = set()
        self._kept_since_look: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_tidy = 0.0  # the first step tidies: rows a stopped process left mid-send

    # -- the channels' side --------------------------------------------------------------

    async def answer(self, sender: Sender, chat_id: str, replies: Sequence[Reply]) -> None:
        """`send`, for a channel answering a citizen: someone who blocked the bot is marked
        unreachable (campaigns skip them), a refusal is logged; other errors are the caller's."""
        try:
            await self.send(sender, chat_id, replies)
        except Unreachable as error:
            log.info("%s unreachable (%s), marked", chat_ref(sender.channel, chat_id), error.reason)
            async with self.database.session() as session, session.begin():
                await mark_unreachable(session, sender.channel, chat_id)
        except DeliveryError as error:
            log.warning("reply to %s not delivered: %s", chat_ref(sender.channel, chat_id), error)

    async def send(self, sender: Sender, chat_id: str, replies: Sequence[Reply]) -> list[str]:
        """Deliver a turn's replies now, or keep them to send later; the platform's ids of what
        went now. Unreachable and refusals (other DeliveryErrors) raise: the channel decides."""
        key = (sender.channel, chat_id)
        if key in self.held:
            await self._keep(key, replies, skip=0, uncertain=0, failed=False)
            return []
        try:
            return await sender.send(chat_id, replies)
        except MaybeDelivered as error:
            log.warning("reply to %s may not have arrived: not sent again (%s)",
                        chat_ref(*key), error)  # fmt: skip
            await self._keep(key, replies, skip=error.sent + 1, uncertain=1)
        except (TemporaryFailure, RateLimited) as error:
            log.info("reply to %s kept, sent again later: %s", chat_ref(*key), error)
            await self._keep(key, replies, skip=error.sent, uncertain=0)
        return []

    async def _keep(
        self,
        key: tuple[str, str],
        replies: Sequence[Reply],
        skip: int,
        uncertain: int,
        failed: bool = True,
    ) -> None:
        now = self.clock()
        # Just refused after the sender's own retries: the platform gets a moment first.
        due = now + timedelta(seconds=self.settings.first_delay if failed else 0)
        try:
            async with self.database.session() as session, session.begin():
                await keep_replies(
                    session, *key, [r.to_json() for r in replies], skip, uncertain, now, due
                )
        except Exception:
            # The platform and the database failing together: nothing left to keep it in.
            log.exception("reply to %s lost: it could not be kept", chat_ref(*key))
            return
        self.held.add(key)
        self._kept_since_look.add(key)
        self._wake.set()

    # -- the worker ----------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.step()
            except Exception:
                log.exception("reply outbox: step failed; trying again")
                busy = False
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll)
                self._wake.clear()

    async def step(self) -> bool:
        """Send what is due; True when there may be more to do at once."""
        now = self.clock()
        if now.timestamp() - self._last_tidy > TIDY_EVERY.total_seconds():
            self._last_tidy = now.timestamp()
            async with self.database.session() as session:
                await begin_writing(session)
                await settle_abandoned(session, self.worker, now, self.settings.stale)
                await prune_replies(session, now - self.settings.keep_finished)
                await session.commit()
        async with self.database.session() as session:
            held = await held_chats(session)
            self.held = held | self._kept_since_look  # kept while the query ran
            self._kept_since_look = set()
        if not self.held:
            return False
        async with self.database.session() as session:
            await begin_writing(session)
            claimed = await claim_due(session, self.worker, now, self.settings.batch)
            await session.commit()
        if not claimed:
            return False
        results = await asyncio.gather(*(self._send(row) for row in claimed))
        async with self.database.session() as session, session.begin():
            for row, result in zip(claimed, results, strict=True):
                retry_at = self.clock() + timedelta(seconds=result.wait)
                await record_reply(
                    session, row.id, self.worker, result.state, self.clock(), skip=result.skip,
                    uncertain=result.uncertain, next_attempt_at=retry_at, error=result.error,
                )  # fmt: skip
                if result.unreachable:
                    await mark_unreachable(session, row.channel, row.chat_id)
        return len(claimed) == self.settings.batch

    async def _send(self, row: ClaimedReply) -> Result:
        """One claimed row; every way it can end is a Result, never an exception."""
        where = chat_ref(row.channel, row.chat_id)
        sender = self.senders.get(row.channel)
        if sender is None:
            return Result("failed", row.skip, error="no sender for the channel")
        replies = [Reply.from_json(r) for r in row.replies]
        try:
            if row.skip:
                await sender.send(row.chat_id, replies, skip=row.skip)
            else:
                await sender.send(row.chat_id, replies)
            log.info("kept reply to %s delivered (attempt %d)", where, row.attempts)
            return Result("sent", row.skip)
        except MaybeDelivered as error:
            log.warning("kept reply to %s may not have arrived: not sent again", where)
            return Result("pending", error.sent + 1, 1, error=str(error))
        except (TemporaryFailure, RateLimited) as error:
            if row.attempts >= self.settings.max_attempts:
                log.error("reply to %s given up after %d attempts: %s", where, row.attempts, error)
                return Result("failed", error.sent, error=str(error))
            wait = self.settings.delay(row.attempts)
            if isinstance(error, RateLimited):
                wait = max(wait, error.retry_after)
            return Result("pending", error.sent, wait=wait, error=str(error))
        except Unreachable as error:
            log.info("%s unreachable (%s): kept reply dropped", where, error.reason)
            return Result("failed", error.sent, error=str(error), unreachable=True)
        except DeliveryError as error:
            log.warning("kept reply to %s refused: %s", where, error)
            return Result("failed", error.sent, error=str(error))
        except Exception as error:  # a bug, a reply that cannot be rendered: never looped on
            log.exception("kept reply to %s could not be sent", where)
            return Result("failed", row.skip, error=repr(error))
