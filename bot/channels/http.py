"""JSON over HTTP for the platform clients: one call, its failures mapped to delivery errors."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.delivery import MaybeDelivered, TemporaryFailure

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def call_json(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> dict[str, Any]:
    """One HTTP call whose answer is a JSON object; network trouble and 5xx are temporary, and
    no answer in time may mean it was done (MaybeDelivered)."""
    try:
        async with http.request(method, url, **kwargs) as response:
            if response.status >= 500:
                raise TemporaryFailure(f"HTTP {response.status} from {_where(url)}")
            body = await response.read()
    except aiohttp.ConnectionTimeoutError as error:  # never reached the platform
        raise TemporaryFailure(f"{type(error).__name__} calling {_where(url)}") from error
    except TimeoutError as error:
        raise MaybeDelivered(f"no answer in time from {_where(url)}") from error
    except aiohttp.ClientError as error:
        raise TemporaryFailure(f"{type(error).__name__} calling {_where(url)}") from error
    try:
        data = json.loads(body)
    except ValueError as error:
        raise TemporaryFailure(f"unreadable answer from {_where(url)}") from error
    if not isinstance(data, dict):
        raise TemporaryFailure(f"unexpected answer from {_where(url)}")
    return data


def _where(url: str) -> str:
    """The URL without anything secret: Bot Platform URLs carry the token in the path."""
    head, _, tail = url.rpartition("/")
    return f"{head.split('/bot', 1)[0]}/.../{tail}" if "/bot" in head else url.split("?")[0]


class HttpHolder:
    """One aiohttp session per channel, opened lazily inside the running loop."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
