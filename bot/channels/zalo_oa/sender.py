"""Sending through the OA Open API v3: token refresh on -216, Zalo's errors mapped to delivery's."""

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bot.channels.http import Clock, HttpHolder, call_json, utc_now
from bot.channels.retry import NO_RETRY, RetryPolicy
from bot.channels.zalo_oa.events import CHANNEL
from bot.channels.zalo_oa.oauth import OAuthClient, TokenManager
from bot.channels.zalo_oa.render import Outgoing, message_json, render
from bot.channels.zalo_oa.settings import ZaloOASettings
from bot.delivery import (
    DeliveryError,
    MaybeDelivered,
    RateLimited,
    TemporaryFailure,
    Unreachable,
)
from bot.messages import Reply
from storage.db import Database

log = logging.getLogger(__name__)


TOKEN_ERRORS = {-216, -220}  # access token invalid / expired: refresh once and retry
OUTSIDE_WINDOW = {-230, -232}  # no interaction within 7 days
NOT_FOLLOWING = {-213}
RATE_LIMITED = -32


class ZaloOASender:
    """bot.delivery's Sender for the OA: returns Zalo message ids."""

    channel = CHANNEL

    def __init__(
        self,
        settings: ZaloOASettings,
        database: Database,
        retry: RetryPolicy = NO_RETRY,
        clock: Clock = utc_now,
        owns_database: bool = False,
    ):
        self.settings = settings
        self.database = database
        self.retry = retry
        self.http = HttpHolder()
        self.tokens = TokenManager(
            settings, database, OAuthClient(settings, self.http, clock), clock
        )
        self._owns_database = owns_database
        self._uploads: dict[str, str] = {}  # local image path -> attachment id

    @property
    def api(self) -> str:
        return self.settings.api_url.rstrip("/")

    async def send(self, chat_id: str, replies: Sequence[Reply], skip: int = 0) -> list[str]:
        messages = render(replies)  # a reply Zalo cannot show fails before anything is sent
        ids = []
        for index, message in enumerate(messages[skip:], start=skip):
            try:
                data = await self._send_one(chat_id, message)
            except DeliveryError as error:
                error.sent = index
                raise
            ids.append(str((data.get("data") or {}).get("message_id", "")))
        return ids

    async def _send_one(self, chat_id: str, message: Outgoing) -> dict[str, Any]:
        attachment_id = None
        if message.image and not message.image.startswith(("https://", "http://")):
            try:
                attachment_id = await self._upload(message.image)
            except MaybeDelivered as error:  # only the upload: the message itself never left
                raise TemporaryFailure(str(error)) from error
        body = {"recipient": {"user_id": chat_id}, "message": message_json(message, attachment_id)}
        return await self._call_with_retry("/v3.0/oa/message/cs", json=body, user=chat_id)

    async def _upload(self, path: str) -> str:
        if path not in self._uploads:
            content = Path(path).read_bytes()
            form = aiohttp.FormData()
            form.add_field("file", content, filename=Path(path).name)
            data = await self._call_with_retry("/v2.0/oa/upload/image", data=form, user="-")
            self._uploads[path] = str((data.get("data") or {}).get("attachment_id", ""))
        return self._uploads[path]

    async def _call_with_retry(self, path: str, user: str, **kwargs: Any) -> dict[str, Any]:
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await self._call(path, user, **kwargs)
            except MaybeDelivered:
                raise  # it may have arrived: a second copy is worse than a late one
            except (RateLimited, TemporaryFailure) as error:
                if attempt == self.retry.attempts:
                    raise
                delay = self.retry.delay(attempt)
                log.info("zalo: %s; retry in %.1fs (attempt %d)", error, delay, attempt)
                await self.retry.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _call(self, path: str, user: str, **kwargs: Any) -> dict[str, Any]:
        token = await self.tokens.access_token()
        data = await self._post(path, token, **kwargs)
        if data.get("error") in TOKEN_ERRORS:
            # Expired or revoked early: refresh once (unless another worker just did) and retry.
            token = await self.tokens.refresh(rejected=token)
            data = await self._post(path, token, **kwargs)
        code = data.get("error", 0)
        if code == 0:
            return data
        detail = f"{data.get('message', '')} (error {code}, {path}, user {user})"
        if code in OUTSIDE_WINDOW:
            raise Unreachable("outside_window", detail)
        if code in NOT_FOLLOWING:
            raise Unreachable("not_following", detail)
        if code == RATE_LIMITED:
            raise RateLimited(self.retry.first_delay, detail)
        log.warning("zalo: API refused: %s", detail)
        raise DeliveryError(detail)

    async def _post(self, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        http = await self.http.get()
        return await call_json(
            http, "POST", self.api + path, headers={"access_token": token}, **kwargs
        )

    async def close(self) -> None:
        await self.http.close()
        if self._owns_database:
            await self.database.close()
