"""Rate limits: a person typing is never stopped, a script is; several workers share one bucket
through a real Redis; a forged X-Forwarded-For buys nothing."""

import os
import uuid

import pytest

from bot.ratelimit import MemoryLimiter, RedisLimiter, client_address

REDIS_URL = os.environ.get("TROLY_TEST_REDIS", "redis://127.0.0.1:6379/15")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_person_typing_is_never_stopped_and_a_burst_is() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    for _ in range(20):  # one message every 5 s, for a while
        assert await limiter.take("session-a", per_minute=20, burst=8) == 0
        clock.now += 5
    waits = [await limiter.take("session-b", per_minute=20, burst=8) for _ in range(10)]
    assert waits[:8] == [0] * 8 and waits[8] == pytest.approx(3.0)
    clock.now += 3
    assert await limiter.take("session-b", per_minute=20, burst=8) == 0


async def test_two_workers_share_one_bucket_through_redis() -> None:
    try:
        first, second = RedisLimiter(REDIS_URL), RedisLimiter(REDIS_URL)
        await first.redis.ping()
    except Exception as error:
        pytest.fail(f"Redis is required at {REDIS_URL} ({error})", pytrace=False)
    key = f"test-{uuid.uuid4().hex}"
    try:
        taken = [await (first if n % 2 else second).take(key, 20, 6) for n in range(8)]
    finally:
        await first.close()
        await second.close()
    assert taken[:6] == [0] * 6 and all(wait > 0 for wait in taken[6:])


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    proxies = ["10.0.0.0/8"]
    assert client_address("10.0.0.5", "203.0.113.7", proxies) == "203.0.113.7"
    assert client_address("198.51.100.9", "203.0.113.7", proxies) == "198.51.100.9"
    # A citizen who sends the header themselves: the proxy appends the address it saw.
    assert client_address("10.0.0.5", "1.2.3.4, 203.0.113.7", proxies) == "203.0.113.7"
    assert client_address("10.0.0.5", "garbage", proxies) == "garbage"
