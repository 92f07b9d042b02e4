"""The sender loop: claims outbox rows, sends them at each channel's rate, records what happened.

Per channel, one lane keeps at most `concurrency` rows claimed at a time. Each exchange with
the database (record finished sends, claim more) is one short transaction committed before any
of the newly claimed rows is sent, so a crash can leave at most `concurrency` rows per channel
and worker whose fate is unknown; those become 'uncertain' and are never sent again.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from bot.campaigns.ratelimit import TokenBucket
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
from storage.db import Database
from storage.outbox import (
    Claimed,
    Outcome,
    backlog,
    declare_uncertain,
    finish_if_done,
    new_worker_id,
    run_exchange,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # transient failures (network, 5xx) before a row is given up as 'failed'
MAX_RATE_LIMITED = 10  # 429s in a row for one message before it goes back to the queue
IDLE_POLL_SECONDS = 1.0  # waiting for retries that are not due yet

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Progress = Callable[[Sequence[Outcome]], Awaitable[None] | None]


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s, ... at most 5 minutes: a platform outage is not hammered."""
    return timedelta(seconds=min(2**attempts, 300))


class CampaignSender:
    """Sends one campaign's outbox; any number of these may run at once, in any processes."""

    def __init__(
        self,
        database: Database,
        senders: dict[str, Sender],
        rates: dict[str, float],
        *,
        concurrency: int = 8,
        clock: Clock = lambda: datetime.now(UTC),
        sleep: Sleep = asyncio.sleep,
        on_progress: Progress | None = None,
        worker: str | None = None,
    ):
        self.database = database
        self.senders = senders
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.sleep = sleep
        self.on_progress = on_progress
        self.worker = worker or new_worker_id()
        seconds = lambda: clock().timestamp()  # noqa: E731 - the bucket wants a float clock
        self.buckets = {
            channel: TokenBucket(rates.get(channel, 0.0), seconds, sleep) for channel in senders
        }

    async def run(self, campaign_id: int, replies: Sequence[Reply]) -> None:
        """Send until nothing is left to claim, or the campaign is paused or cancelled."""
        async with self.database.session() as session, session.begin():
            await declare_uncertain(session, campaign_id, self.clock(), self.worker)
        lanes = [self._lane(campaign_id, channel, replies) for channel in self.senders]
        await asyncio.gather(*lanes)
        async with self.database.session() as session, session.begin():
            await declare_uncertain(session, campaign_id, self.clock(), self.worker)
            await finish_if_done(session, campaign_id, self.clock())

    async def _lane(self, campaign_id: int, channel: str, replies: Sequence[Reply]) -> None:
        sender, bucket = self.senders[channel], self.buckets[channel]
        in_flight: dict[asyncio.Task[Outcome], Claimed] = {}
        finished: list[Outcome] = []
        # Refill in batches, so one transaction serves several sends, but never overfill.
        refill_at = max(1, self.concurrency // 4)
        sending = True
        while True:
            free = self.concurrency - len(in_flight)
            want = free if sending and (free >= refill_at or not in_flight) else 0
            if finished or want:
                claimed, sending = await run_exchange(
                    self.database, campaign_id, channel, self.worker, finished, want, self.clock()
                )
                if finished and self.on_progress is not None:
                    result = self.on_progress(finished)
                    if asyncio.iscoroutine(result):
                        await result
                finished = []
                for row in claimed:
                    task = asyncio.create_task(self._deliver(row, sender, bucket, replies))
                    in_flight[task] = row
            if not in_flight:
                if not sending:
                    return
                async with self.database.session() as session:
                    left = await backlog(session, campaign_id, channel)
                if not left.pending:
                    return  # rows still 'sending' belong to other workers
                now = self.clock()
                due_in = (left.next_due - now).total_seconds() if left.next_due else 0.0
                await self.sleep(min(max(due_in, 0.01), IDLE_POLL_SECONDS))
                continue
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                in_flight.pop(task)
                finished.append(task.result())

    async def _deliver(
        self, row: Claimed, sender: Sender, bucket: TokenBucket, replies: Sequence[Reply]
    ) -> Outcome:
        """Send one claimed row; every way it can end is an Outcome, never an exception."""
        for _ in range(MAX_RATE_LIMITED):
            await bucket.take()
            try:
                ids = await sender.send(row.chat_id, replies)
                return Outcome(row, "sent", row.attempts + 1, sent_at=self.clock(),
                               message_ids=ids)  # fmt: skip
            except RateLimited as error:
                # Nothing was delivered: waiting and trying the same row again is safe.
                log.info("campaign: %s asks to wait %.0fs", sender.channel, error.retry_after)
                bucket.pause(error.retry_after)
            except Unreachable as error:
                state = "outside_window" if error.reason == "outside_window" else "blocked"
                return Outcome(row, state, row.attempts + 1, error=error.reason)
            except MaybeDelivered as error:
                # They may have it already: counted uncertain, never sent twice.
                return Outcome(row, "uncertain", row.attempts + 1, error=str(error))
            except TemporaryFailure as error:
                attempts = row.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    return Outcome(row, "failed", attempts, error=str(error))
                retry_at = self.clock() + backoff(attempts)
                return Outcome(row, "pending", attempts, next_attempt_at=retry_at, error=str(error))
            except DeliveryError as error:
                return Outcome(row, "failed", row.attempts + 1, error=str(error))
            except Exception as error:  # a reply the platform cannot show, a bug: never resend
                log.exception(
                    "campaign: sending to %s failed", chat_ref(sender.channel, row.chat_id)
                )
                return Outcome(row, "failed", row.attempts + 1, error=repr(error))
        return Outcome(row, "pending", row.attempts, next_attempt_at=self.clock(), error="429")
