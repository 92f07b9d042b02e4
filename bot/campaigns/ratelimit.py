"""A token bucket per channel: sends evenly spaced at the channel's rate, paused on a 429.

Hand-written rather than a library's limiter because the clock and the sleep must be
injectable (tests run with a fake clock) and a 429 must hold back every sender of the channel.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """`rate` sends per second (0 or less: no limit), one at a time, never early."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0  # the earliest moment the next reservation may go out
        self._paused_until = 0.0

    async def take(self) -> None:
        """Wait for this send's turn; a pause that began meanwhile voids the turn."""
        while True:
            now = self.clock()
            if self._paused_until > now:
                await self.sleep(self._paused_until - now)
                continue
            if not self.interval:
                return
            slot = max(now, self._next)
            self._next = slot + self.interval
            if slot > now:
                await self.sleep(slot - now)
            # Senders woken by the end of a pause queue up again one by one, not in a burst.
            if self._paused_until <= self.clock():
                return

    def pause(self, seconds: float) -> None:
        """The platform said 'retry after': nobody on this channel sends before then."""
        until = self.clock() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, until)
