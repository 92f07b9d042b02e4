"""The Send API: messages, images and the typing indicator, with Meta's errors mapped to
bot.delivery's (token invalid fails loudly, rate limits back off, unreachable people are marked).
"""

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bot.channels.http import HTTP_TIMEOUT
from bot.channels.messenger.render import Outgoing, render
from bot.channels.messenger.settings import MessengerSettings
from bot.channels.retry import NO_RETRY, RetryPolicy
from bot.delivery import (
    DeliveryError,
    MaybeDelivered,
    RateLimited,
    TemporaryFailure,
    Unreachable,
)
from bot.messages import Reply

log = logging.getLogger(__name__)

TOKEN_INVALID = 190
RATE_LIMITS = {4, 32, 613}
NOT_AVAILABLE = 551  # the person blocked the page or cannot be messaged
OUTSIDE_WINDOW = (10, 2018278)  # (code, subcode): more than 24 h after their last message
NO_SUCH_USER = (100, 2018001)
RATE_LIMIT_WAIT = 60.0  # Meta says "try later" without a time


def graph_error(body: dict[str, Any]) -> DeliveryError:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    detail = f"{code}/{subcode}: {error.get('message', '')}".strip()
    if code == TOKEN_INVALID:
        log.critical("messenger: Meta rejects MESSENGER_PAGE_TOKEN (%s): make a new one", detail)
        return DeliveryError(f"page token rejected ({detail})")
    if code in RATE_LIMITS:
        return RateLimited(RATE_LIMIT_WAIT, detail)
    if code == NOT_AVAILABLE:
        return Unreachable("blocked", detail)
    if (code, subcode) == OUTSIDE_WINDOW:
        return Unreachable("outside_window", detail)
    if (code, subcode) == NO_SUCH_USER:
        return Unreachable("not_found", detail)
    return DeliveryError(detail)


class MessengerSender:
    channel = "messenger"

    def __init__(
        self,
        settings: MessengerSettings,
        retry: RetryPolicy = NO_RETRY,
        messaging_type: str = "UPDATE",
    ):
        self.settings = settings
        self.retry = retry
        # RESPONSE answers a message; UPDATE is anything else inside the 24-hour window.
        self.messaging_type = messaging_type
        self._http: aiohttp.ClientSession | None = None

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        return self._http

    async def send(self, chat_id: str, replies: Sequence[Reply], skip: int = 0) -> list[str]:
        ids = []
        messages = render(replies)
        for index, message in enumerate(messages[skip:], start=skip):
            try:
                ids.append(await self._send_with_retry(chat_id, message))
            except DeliveryError as error:
                error.sent = index
                raise
        return ids

    async def typing(self, chat_id: str) -> None:
        """Best effort: a missing indicator is no reason to fail a turn."""
        try:
            await self._post({"recipient": {"id": chat_id}, "sender_action": "typing_on"})
        except DeliveryError as error:
            log.debug("messenger: typing indicator not shown: %s", error)

    async def _send_with_retry(self, chat_id: str, message: Outgoing) -> str:
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await self._send(chat_id, message)
            except MaybeDelivered:
                raise  # it may have arrived: a second copy is worse than none
            except (RateLimited, TemporaryFailure) as error:
                if attempt == self.retry.attempts:
                    raise
                wait = error.retry_after if isinstance(error, RateLimited) else None
                await self.retry.sleep(min(wait or self.retry.delay(attempt), self.retry.max_delay))
        raise AssertionError("unreachable")

    async def _send(self, chat_id: str, message: Outgoing) -> str:
        fields = {
            "recipient": {"id": chat_id},
            "messaging_type": self.messaging_type,
            "message": message.message,
        }
        answer = await self._post(fields, image=message.image)
        return str(answer.get("message_id", ""))

    async def _post(self, fields: dict[str, Any], image: str | None = None) -> dict[str, Any]:
        url = f"{self.settings.api_url}/me/messages"
        params = {"access_token": self.settings.page_token or ""}
        http = await self._session()
        try:
            if image:
                form = aiohttp.FormData()
                for name, value in fields.items():
                    form.add_field(name, json.dumps(value, ensure_ascii=False))
                form.add_field(
                    "filedata", Path(image).read_bytes(), filename=Path(image).name,
                    content_type="image/png",
                )  # fmt: skip
                request = http.post(url, params=params, data=form)
            else:
                request = http.post(url, params=params, json=fields)
            async with request as response:
                status = response.status
                body = await response.json(content_type=None)
        except TimeoutError as error:
            raise MaybeDelivered("no answer from the Send API in time") from error
        except (aiohttp.ClientError, ValueError) as error:
            raise TemporaryFailure(f"{type(error).__name__} calling the Send API") from error
        if status >= 500:
            raise TemporaryFailure(f"HTTP {status} from the Send API")
        if not isinstance(body, dict) or "error" in body or status >= 400:
            raise graph_error(body if isinstance(body, dict) else {})
        return body

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
