"""How hard to try one platform call: waits between attempts, shared by every channel."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Rate limits wait what the platform says; network trouble and 5xx wait first_delay, then
    twice that, and so on, up to max_delay (a longer wait is given up: the person moved on)."""

    attempts: int = 3
    first_delay: float = 1.0
    max_delay: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delay(self, attempt: int) -> float:
        return min(self.first_delay * 2 ** (attempt - 1), self.max_delay)


NO_RETRY = RetryPolicy(attempts=1)
