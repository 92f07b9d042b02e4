"""The Zalo Bot Platform channel: a Telegram-like bot API, for pilots and staff notifications.

`setup(app)` mounts POST /webhook/zalo_bot when ZALO_BOT_TOKEN is set (or polls getUpdates
after `enable_polling(app)`); `make_sender()` sends outside any update. The platform has no
buttons: choices are numbered lines, and typing the number presses the button, as on the
console. Updates go through the same inbox as the OA's: stored, acknowledged, processed.
The parts: settings.py (ZALO_BOT_*), events.py (update -> Incoming), render.py (Reply ->
messages), sender.py (the Bot API and its errors), cli.py (`troly zalo bot-webhook`, doctor).
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.base import Channel, Limits, Shown
from bot.channels.http import Clock, utc_now
from bot.channels.inbox import Inbox
from bot.channels.retry import RetryPolicy
from bot.channels.webhook_auth import Refused, secret_json
from bot.channels.zalo_bot.events import CHANNEL, parse_update, unwrap
from bot.channels.zalo_bot.render import MAX_TEXT, render
from bot.channels.zalo_bot.sender import ZaloBotSender, set_webhook
from bot.channels.zalo_bot.settings import ZaloBotSettings, webhook_secret, zalo_bot_settings
from bot.delivery import DeliveryError, TemporaryFailure
from bot.engine import DatabaseUnavailable, Engine
from bot.messages import Reply
from bot.reply_outbox import ReplyOutbox
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.doctor import Check

__all__ = [
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "ZALO_BOT",
    "ZaloBotChannel",
    "ZaloBotSender",
    "enable_polling",
    "make_sender",
    "render",
    "set_webhook",
    "setup",
    "webhook_secret",
]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhook/zalo_bot"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT_SECONDS = 30
POLL_TIMED_OUT = 408  # getUpdates found nothing within its timeout


@dataclass
class ZaloBotChannel:
    settings: ZaloBotSettings
    engine: Engine
    sender: ZaloBotSender
    outbox: ReplyOutbox  # replies the platform refuses for a moment are kept there
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
        await self.outbox.answer(self.sender, update.chat_id, replies)

    async def poll_forever(self) -> None:
        """getUpdates in a loop; redelivered messages are dropped by the inbox's message ids.

        The platform hands an update out once: it is stored in the inbox before the next poll,
        waiting for the database as long as it takes, so an outage delays it but never loses it.
        """
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
                    await self._keep(update)

    async def _keep(self, update: dict[str, Any]) -> None:
        waits = 0
        while True:
            try:
                await self.accept(update)
                return
            except DatabaseUnavailable as error:
                waits += 1
                log.warning("zalo_bot: polled update held until the database is back (%s)", error)
                await self.poll_retry.sleep(self.poll_retry.delay(waits))


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
    from bot.app import ENGINE, REPLY_OUTBOX, SENDERS

    settings = zalo_bot_settings()
    if not settings.configured:
        return
    sender = ZaloBotSender(settings, RetryPolicy())
    channel = ZaloBotChannel(settings, app[ENGINE], sender, app[REPLY_OUTBOX])
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


def make_sender() -> ZaloBotSender | None:
    settings = zalo_bot_settings()
    return ZaloBotSender(settings) if settings.configured else None


class ZaloBot(Channel):
    name = CHANNEL
    label = "Zalo Bot"
    limits = Limits(text_chars=MAX_TEXT, buttons=0, button_label_chars=0)  # numbered text only
    reply_window = None
    can_poll = True
    cli_group = "zalo"
    cli_help = "Zalo: OA authorisation, Bot Platform webhook."

    def register_cli(self, group: Any) -> None:
        from bot.channels.zalo_bot.cli import register

        register(group)

    def configured(self, settings: Settings) -> bool:
        return zalo_bot_settings().configured

    def show(self, replies: Sequence[Reply]) -> list[Shown]:
        return [Shown(m.text, (), m.photo) for m in render(replies)]

    def rate(self, settings: Settings) -> float:
        return zalo_bot_settings().campaign_rate

    def setup(self, app: web.Application) -> None:
        setup(app)

    def make_sender(self, settings: Settings) -> ZaloBotSender | None:
        return make_sender()

    def enable_polling(self, app: web.Application) -> None:
        enable_polling(app)

    async def doctor(self, settings: Settings, database: object) -> list["Check"]:
        from bot.channels.zalo_bot.cli import doctor_checks

        return await doctor_checks(zalo_bot_settings())


channel = ZaloBot()
