"""Token buckets for the public endpoints: a person types a few messages a minute, a script
thousands. In one process the buckets live in memory; with REDIS_URL they live in Redis, so
every worker behind the load balancer counts against the same bucket.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from ipaddress import ip_address, ip_network
from typing import Any, Protocol

MAX_KEYS = 100_000  # buckets kept in memory; the least recently used go first

# KEYS[1] = bucket; ARGV = rate per second, burst, now (s). Returns seconds to wait, or 0.
_REDIS_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class Limiter(Protocol):
    async def take(self, key: str, per_minute: float, burst: int) -> float:
        """0 when allowed (one token taken), else the seconds until one is there."""
        ...

    async def close(self) -> None: ...


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, per_minute: float, burst: int) -> float:
        rate, now = per_minute / 60, self.clock()
        tokens, at = self._buckets.pop(key, (float(burst), now))
        tokens = min(burst, tokens + (now - at) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return wait

    async def close(self) -> None:
        return None


class RedisLimiter:
    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        from redis.asyncio import Redis

        self.redis: Any = Redis.from_url(url)
        self.clock = clock
        self._take = self.redis.register_script(_REDIS_TAKE)

    async def take(self, key: str, per_minute: float, burst: int) -> float:
        wait = await self._take(
            keys=[f"troly:bucket:{key}"], args=[per_minute / 60, burst, self.clock()]
        )
        return float(wait)

    async def close(self) -> None:
        await self.redis.aclose()


def make_limiter(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else MemoryLimiter()


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: list[str]) -> str:
    """The citizen's address: the peer, or, behind a proxy we trust, what it says it forwarded.

    X-Forwarded-For is only believed when the peer is one of TRUSTED_PROXIES: anybody can send
    the header, and a forged one must not buy a fresh bucket per request.
    """
    peer = peer or "unknown"
    if not forwarded_for or not _trusted(peer, trusted_proxies):
        return peer
    # The proxy appends the address it saw last: read from the right, skip our own proxies.
    for candidate in reversed([part.strip() for part in forwarded_for.split(",")]):
        if candidate and not _trusted(candidate, trusted_proxies):
            return candidate
    return peer


def _trusted(address: str, trusted_proxies: list[str]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in ip_network(proxy, strict=False) for proxy in trusted_proxies)
