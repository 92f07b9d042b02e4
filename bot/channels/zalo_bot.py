"""The Zalo Bot Platform channel: a Telegram-like bot API, for pilots and staff notifications.

`setup(app)` mounts POST /webhook/zalo_bot when ZALO_BOT_TOKEN is set (or polls getUpdates
after `enable_polling(app)`); `make_sender(settings)` sends outside any update. The platform
has no buttons: choices are numbered lines, and typing the number presses the button, as on
the console. Updates go through the same inbox as the OA's: stored, acknowledged, processed.
"""

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.channels.base import Bubble, Channel, Limits
from bot.channels.http import Clock, HttpHolder, call_json, utc_now
from bot.channels.inbox import Inbox
from bot.channels.retry import NO_RETRY, RetryPolicy
from bot.channels.text_split import numbered_pieces, split_text
from bot.channels.webhook_auth import Refused, secret_json
from bot.delivery import DeliveryError, RateLimited, TemporaryFailure, Unreachable
from bot.engine import Engine
from bot.logs import chat_ref
from bot.messages import Incoming, Reply
from bot.settings import Settings
from storage.conversations import mark_unreachable

if TYPE_CHECKING:
    from bot.doctor import Check

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters per text message

CHANNEL = "zalo_bot"
WEBHOOK_PATH = "/webhook/zalo_bot"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT_SECONDS = 30
POLL_TIMED_OUT = 408  # getUpdates found nothing within its timeout
ATTACHMENT_KINDS = {
    "message.image.received": "photo",
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    # Protected accounts (children) send nothing readable: the engine answers kindly.
    "message.unsupported.received": "unsupported",
}


def configured(settings: Settings) -> bool:
    return bool(settings.zalo_bot_token)


def webhook_secret(settings: Settings) -> str:
    """ZALO_BOT_SECRET, or one derived from the token so the webhook is never left open."""
    if settings.zalo_bot_secret:
        return settings.zalo_bot_secret
    token = settings.zalo_bot_token or ""
    return hashlib.sha256(f"troly-zalo-bot:{token}".encode()).hexdigest()[:48]


# -- updates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    name: str
    chat_id: str
    event_id: str
    incoming: Incoming | None = None


def unwrap(data: dict[str, Any]) -> dict[str, Any] | None:
    """Webhooks send {"ok": true, "result": update}; some deliveries send the update bare."""
    update = data.get("result") if "result" in data else data
    return update if isinstance(update, dict) and update.get("event_name") else None


def parse_update(update: dict[str, Any]) -> Update:
    name = str(update.get("event_name") or "")
    message = update.get("message") if isinstance(update.get("message"), dict) else {}
    assert isinstance(message, dict)
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat_id = str((chat or {}).get("id") or (sender or {}).get("id") or "")
    event_id = str(message.get("message_id") or f"{name}:{chat_id}:{message.get('date')}")
    if not chat_id:
        return Update(name, chat_id, event_id)
    when = _when(message.get("date"))
    base = {"channel": CHANNEL, "chat_id": chat_id, "timestamp": when}
    if name == "message.text.received":
        return Update(
            name, chat_id, event_id, Incoming(**base, text=str(message.get("text") or ""))
        )
    if name in ATTACHMENT_KINDS:
        caption = str(message.get("caption") or "")
        return Update(
            name,
            chat_id,
            event_id,
            Incoming(**base, text=caption, attachment=ATTACHMENT_KINDS[name]),
        )
    return Update(name, chat_id, event_id)


def _when(millis: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return utc_now()


# -- the API -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    text: str = ""
    photo: str | None = None


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """Numbered text (as the console numbers it) and photos by URL, within 2,000 characters."""
    messages: list[Outgoing] = []
    for reply, text in zip(replies, numbered_pieces(replies), strict=True):
        if reply.image:
            if reply.image.startswith(("https://", "http://")):
                messages.append(Outgoing(photo=reply.image))
            else:
                log.info("zalo_bot: local image %s not sent (the API takes URLs)", reply.image)
        if text.strip():
            messages.extend(Outgoing(piece) for piece in split_text(text, MAX_TEXT))
    return messages


class BotApi:
    """{ZALO_BOT_API_URL}/bot<TOKEN>/<method>, JSON in and {"ok", "result"} out."""

    def __init__(self, settings: Settings, http: HttpHolder):
        assert settings.zalo_bot_token, "ZALO_BOT_TOKEN is not set"
        self.base = f"{settings.zalo_bot_api_url.rstrip('/')}/bot{settings.zalo_bot_token}"
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

    def __init__(self, settings: Settings, retry: RetryPolicy = NO_RETRY):
        self.http = HttpHolder()
        self.api = BotApi(settings, self.http)
        self.retry = retry

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> list[str]:
        ids = []
        for message in render(replies):
            if message.photo:
                params = {"chat_id": chat_id, "photo": message.photo}
                result = await self._call_with_retry("sendPhoto", params)
            else:
                result = await self._call_with_retry(
                    "sendMessage", {"chat_id": chat_id, "text": message.text}
                )
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


async def set_webhook(settings: Settings, url: str) -> Any:
    """Register `url` (ending in /webhook/zalo_bot) with the secret the webhook checks."""
    http = HttpHolder()
    try:
        return await BotApi(settings, http).call(
            "setWebhook", url=url, secret_token=webhook_secret(settings)
        )
    finally:
        await http.close()


# -- the channel -------------------------------------------------------------------------------


@dataclass
class ZaloBotChannel:
    settings: Settings
    engine: Engine
    sender: ZaloBotSender
    clock: Clock = utc_now
    polling: bool = False
    poll_retry: RetryPolicy = field(default_factory=RetryPolicy)
    inbox: Inbox = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.engine.database, CHANNEL, self.process, self.clock)

    async def accept(self, update: dict[str, Any]) -> bool:
        parsed = parse_update(update)
        return await self.inbox.accept(parsed.event_id, parsed.chat_id, json.dumps(update))

    async def process(self, body: str) -> None:
        try:
            update = parse_update(json.loads(body))
        except (ValueError, TypeError, AssertionError):
            log.warning("zalo_bot: unreadable stored update skipped")
            return
        if update.incoming is None:
            log.info("zalo_bot: event %r acknowledged, nothing to do", update.name[:40])
            return
        _, replies = await asyncio.gather(
            self.sender.typing(update.chat_id),
            self.engine.handle(update.incoming, keep_if_unavailable=True),
        )
        if not replies:
            return
        try:
            await self.sender.send(update.chat_id, replies)
        except Unreachable as error:
            log.info(
                "%s unreachable (%s), marked", chat_ref("zalo_bot", update.chat_id), error.reason
            )
            async with self.engine.database.session() as session, session.begin():
                await mark_unreachable(session, CHANNEL, update.chat_id)
        except DeliveryError as error:
            log.warning(
                "reply to %s not delivered: %s", chat_ref("zalo_bot", update.chat_id), error
            )

    async def poll_forever(self) -> None:
        """getUpdates in a loop; redelivered messages are dropped by the inbox's message ids."""
        try:
            await self.sender.api.call("deleteWebhook")  # getUpdates is refused while one is set
        except DeliveryError as error:
            log.warning("zalo_bot: deleteWebhook failed: %s", error)
        failures = 0
        while True:
            try:
                data = await self.sender.api.raw(
                    "getUpdates",
                    http_timeout=POLL_TIMEOUT_SECONDS + 10,
                    timeout=str(POLL_TIMEOUT_SECONDS),
                )
            except TemporaryFailure as error:
                failures += 1
                log.warning("zalo_bot: getUpdates failed (%s)", error)
                await self.poll_retry.sleep(self.poll_retry.delay(failures))
                continue
            if not data.get("ok"):
                if data.get("error_code") != POLL_TIMED_OUT:
                    failures += 1
                    log.warning("zalo_bot: getUpdates refused: %s", data.get("description"))
                    await self.poll_retry.sleep(self.poll_retry.delay(failures))
                continue
            failures = 0
            result = data.get("result")
            for update in result if isinstance(result, list) else [result]:
                if isinstance(update, dict) and update.get("event_name"):
                    await self.accept(update)


ZALO_BOT = web.AppKey("zalo_bot_channel", ZaloBotChannel)


async def webhook(request: web.Request) -> web.Response:
    channel = request.app[ZALO_BOT]
    try:
        data = await secret_json(request, SECRET_HEADER, webhook_secret(channel.settings))
    except Refused as refused:
        return refused.response
    update = unwrap(data) if isinstance(data, dict) else None
    if update is None:
        return web.Response(status=400, text="body must be a Zalo Bot update")
    if not await channel.accept(update):
        return web.Response(text="duplicate")
    return web.Response(text="ok")


def setup(app: web.Application) -> None:
    from bot.app import ENGINE, SENDERS, SETTINGS

    settings = app[SETTINGS]
    if not configured(settings):
        return
    sender = ZaloBotSender(settings, RetryPolicy())
    channel = ZaloBotChannel(settings, app[ENGINE], sender)
    app[ZALO_BOT] = channel
    app[SENDERS][CHANNEL] = sender
    app.router.add_post(WEBHOOK_PATH, webhook)

    async def run_with_app(app: web.Application) -> AsyncIterator[None]:
        await channel.inbox.start()
        poller = asyncio.create_task(channel.poll_forever()) if channel.polling else None
        yield
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
        await channel.inbox.stop()
        await sender.close()

    app.cleanup_ctx.append(run_with_app)


def enable_polling(app: web.Application) -> None:
    """Fetch updates with getUpdates instead of the webhook (no public HTTPS address)."""
    if ZALO_BOT not in app:
        raise RuntimeError("ZALO_BOT_TOKEN is not set")
    app[ZALO_BOT].polling = True


def make_sender(settings: Settings) -> ZaloBotSender | None:
    return ZaloBotSender(settings) if configured(settings) else None


async def doctor_checks(settings: Settings, database: object) -> list["Check"]:
    """The bot token works (getMe)."""
    from bot.doctor import FAIL, OK, Check

    if not configured(settings):
        return []
    name = "zalo bot"
    url = f"{settings.zalo_bot_api_url}/bot{settings.zalo_bot_token}/getMe"
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(url, json={}) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return [Check(FAIL, name, f"cannot reach {settings.zalo_bot_api_url} ({error!r})")]
    if not body.get("ok"):
        refused = f"{body.get('error_code')} {body.get('description', '')}".strip()
        return [Check(FAIL, name, f"Zalo rejects ZALO_BOT_TOKEN ({refused}): copy it again")]
    return [Check(OK, name, f"token works: {body['result'].get('account_name', '')}")]


class ZaloBot(Channel):
    name = CHANNEL
    label = "Zalo Bot"
    limits = Limits(text_chars=MAX_TEXT, buttons=0, button_label_chars=0)  # numbered text only
    reply_window = None
    can_poll = True
    cli_group = "zalo"
    cli_help = "Zalo: OA authorisation, Bot Platform webhook."

    def register_cli(self, group: Any) -> None:
        from bot.channels.zalo_bot_cli import register

        register(group)

    def configured(self, settings: Settings) -> bool:
        return configured(settings)

    def rate(self, settings: Settings) -> float:
        return settings.campaign_zalo_rate

    def setup(self, app: web.Application) -> None:
        setup(app)

    def make_sender(self, settings: Settings) -> ZaloBotSender | None:
        return make_sender(settings)

    def show(self, replies: Sequence[Reply]) -> list[Bubble]:
        return [Bubble(m.text, (), m.photo) for m in render(replies)]

    def enable_polling(self, app: web.Application) -> None:
        enable_polling(app)

    async def doctor(self, settings: Settings, database: object) -> list["Check"]:
        return await doctor_checks(settings, database)


channel = ZaloBot()
