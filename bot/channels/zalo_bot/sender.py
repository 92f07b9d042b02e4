"""The Bot API ({ZALO_BOT_API_URL}/bot<TOKEN>/<method>) and sending through it, with the
platform's errors mapped to bot.delivery's."""

import logging
from collections.abc import Sequence
from typing import Any

import aiohttp

from bot.channels.http import HttpHolder, call_json
from bot.channels.retry import NO_RETRY, RetryPolicy
from bot.channels.zalo_bot.events import CHANNEL
from bot.channels.zalo_bot.render import render
from bot.channels.zalo_bot.settings import ZaloBotSettings, webhook_secret
from bot.delivery import (
    DeliveryError,
    MaybeDelivered,
    RateLimited,
    TemporaryFailure,
    Unreachable,
)
from bot.messages import Reply

log = logging.getLogger(__name__)


class BotApi:
    """{ZALO_BOT_API_URL}/bot<TOKEN>/<method>, JSON in and {"ok", "result"} out."""

    def __init__(self, settings: ZaloBotSettings, http: HttpHolder):
        assert settings.token, "ZALO_BOT_TOKEN is not set"
        self.base = f"{settings.api_url.rstrip('/')}/bot{settings.token}"
        self.http = http

    async def raw(self, method: str, http_timeout: float | None = None, **params: Any) -> dict:
        extra = {"timeout": aiohttp.ClientTimeout(total=http_timeout)} if http_timeout else {}
        return await call_json(
            await self.http.get(), "POST", f"{self.base}/{method}", json=params, **extra
        )

    async def call(self, method: str, **params: Any) -> Any:
        data = await self.raw(method, **params)
        if data.get("ok"):
            return data.get("result")
        code, description = data.get("error_code"), str(data.get("description", ""))
        detail = f"{method}: {code} {description}".strip()
        if code == 429:
            retry_after = (data.get("parameters") or {}).get("retry_after", 1)
            raise RateLimited(float(retry_after), detail)
        if code == 403:
            raise Unreachable("blocked", detail)
        if isinstance(code, int) and code >= 500:
            raise TemporaryFailure(detail)
        raise DeliveryError(detail)


class ZaloBotSender:
    """bot.delivery's Sender for the Bot Platform; returns its message ids."""

    channel = CHANNEL

    def __init__(self, settings: ZaloBotSettings, retry: RetryPolicy = NO_RETRY):
        self.http = HttpHolder()
        self.api = BotApi(settings, self.http)
        self.retry = retry

    async def send(self, chat_id: str, replies: Sequence[Reply], skip: int = 0) -> list[str]:
        ids = []
        for index, message in enumerate(render(replies)[skip:], start=skip):
            if message.photo:
                method, params = "sendPhoto", {"chat_id": chat_id, "photo": message.photo}
            else:
                method, params = "sendMessage", {"chat_id": chat_id, "text": message.text}
            try:
                result = await self._call_with_retry(method, params)
            except DeliveryError as error:
                error.sent = index
                raise
            ids.append(str((result or {}).get("message_id", "")))
        return ids

    async def _call_with_retry(self, method: str, params: dict[str, Any]) -> Any:
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await self.api.call(method, **params)
            except RateLimited as error:
                if attempt == self.retry.attempts or error.retry_after > self.retry.max_delay:
                    raise
                await self.retry.sleep(error.retry_after)
            except MaybeDelivered:
                raise  # it may have arrived: a second copy is worse than a late one
            except TemporaryFailure:
                if attempt == self.retry.attempts:
                    raise
                await self.retry.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable: the loop returns or raises")

    async def typing(self, chat_id: str) -> None:
        """Show 'typing...' while the engine works; a failure here matters to nobody."""
        try:
            await self.api.call("sendChatAction", chat_id=chat_id, action="typing")
        except DeliveryError as error:
            log.debug("zalo_bot: typing not shown: %s", error)

    async def close(self) -> None:
        await self.http.close()


async def set_webhook(settings: ZaloBotSettings, url: str) -> Any:
    """Register `url` (ending in /webhook/zalo_bot) with the secret the webhook checks."""
    http = HttpHolder()
    try:
        return await BotApi(settings, http).call(
            "setWebhook", url=url, secret_token=webhook_secret(settings)
        )
    finally:
        await http.close()
