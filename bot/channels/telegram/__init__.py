"""The Telegram channel: PTB Application on the aiohttp app, by webhook or by polling.

`setup(app)` mounts POST /webhook/telegram and runs the bot with the app's lifecycle;
`make_sender(settings)` sends outside any update (hand-offs, campaigns). Neither does
anything without TELEGRAM_TOKEN. The parts: settings.py, updates.py (Update -> Incoming),
render.py (Reply -> Bot API messages), sender.py (sending, error mapping, retries), admin.py
(webhook registration and the command menu), polling.py (getUpdates without losing updates).
"""

import asyncio
import hashlib
import html
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from telegram import Bot, ChatMember, Message, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.base import Channel, ChannelSetupError, Limits, ShareLink, Shown
from bot.channels.telegram.polling import Poller
from bot.channels.telegram.render import MAX_TEXT, callback_data, render, split_text
from bot.channels.telegram.sender import (
    NO_RETRY,
    TELEGRAM_RETRY,
    RetryPolicy,
    TelegramSender,
    call_with_retry,
)
from bot.channels.telegram.settings import TelegramSettings, telegram_settings
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.telegram.updates import CHANNEL as CHANNEL_NAME
from bot.channels.telegram.updates import to_incoming
from bot.channels.webhook_auth import Refused, secret_json
from bot.delivery import DeliveryError
from bot.engine import DatabaseUnavailable, Engine
from bot.messages import Incoming, Reply
from bot.reply_outbox import ReplyOutbox
from bot.settings import Settings
from storage.conversations import mark_unreachable
from storage.db import Database

if TYPE_CHECKING:
    from bot.doctor import Check

__all__ = [
    "CHANNEL",
    "WEBHOOK_PATH",
    "RetryPolicy",
    "TelegramChannel",
    "TelegramSender",
    "callback_data",
    "enable_polling",
    "make_sender",
    "render",
    "setup",
    "split_text",
    "webhook_secret",
]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Edits and channel posts are not asked for at all; the adapter ignores them if they come anyway.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def webhook_secret(settings: TelegramSettings) -> str:
    """TELEGRAM_SECRET, or one derived from the token so a webhook is never left unprotected."""
    if settings.secret:
        return settings.secret
    token = settings.token or ""
    return hashlib.sha256(f"troly-webhook:{token}".encode()).hexdigest()[:48]


def file_url(api_url: str) -> str:
    """PTB's base_file_url next to base_url: '.../bot' -> '.../file/bot'."""
    if api_url.endswith("/bot"):
        return api_url[: -len("bot")] + "file/bot"
    return api_url.rstrip("/") + "/file/bot"


def hide_token_from_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


def make_bot(settings: TelegramSettings) -> Bot:
    assert settings.token, "TELEGRAM_TOKEN is not set"
    hide_token_from_logs()
    return Bot(
        settings.token,
        base_url=settings.api_url,
        base_file_url=file_url(settings.api_url),
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(),
    )


class TelegramChannel:
    """Updates in, replies out; the PTB Application runs with the aiohttp app."""

    def __init__(
        self,
        settings: TelegramSettings,
        engine: Engine,
        outbox: ReplyOutbox,
        staff_chat_id: int | None = None,  # the staff group: its every message goes in
        retry: RetryPolicy | None = None,
    ):
        assert settings.token, "TELEGRAM_TOKEN is not set"
        self.settings = settings
        self.engine = engine
        self.outbox = outbox  # replies Telegram refuses for a moment are kept there
        self.staff_chat_id = staff_chat_id
        self.retry = retry or TELEGRAM_RETRY  # tests swap in a recording sleep
        self.polling = False
        self.poll_retry = RetryPolicy()  # waits between polls while updates are kept
        self.application = (
            Application.builder()
            .token(settings.token)
            .base_url(settings.api_url)
            .base_file_url(file_url(settings.api_url))
            .request(AiohttpRequest())
            .get_updates_request(AiohttpRequest())
            .updater(None)  # webhook updates come through aiohttp; polling.py fetches the rest
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._poller: Poller | None = None
        self._polling: asyncio.Task[None] | None = None
        self._kept: set[int] = set()  # updates to be delivered again (the database was down)

    @property
    def bot(self) -> Bot:
        return self.application.bot

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.application.initialize()  # getMe, against TELEGRAM_API_URL
        except InvalidToken:  # its message carries the token: never shown or logged
            raise ChannelSetupError(
                "Telegram rejects TELEGRAM_TOKEN: copy the token again from @BotFather "
                "(/mybots -> API Token) and restart"
            ) from None
        except NetworkError as error:
            raise ChannelSetupError(
                f"cannot reach Telegram at TELEGRAM_API_URL ({type(error).__name__}): "
                "check the network, then restart (`troly doctor` checks it)"
            ) from None
        await self.application.start()
        if self.polling:
            self._poller = Poller(self.bot, self.process_update, ALLOWED_UPDATES, self.poll_retry)
            self._polling = asyncio.create_task(self._poller.run())
            log.info("telegram: polling as @%s", self.bot.username)
        else:
            log.info("telegram: webhook %s ready for @%s", WEBHOOK_PATH, self.bot.username)

    async def stop(self) -> None:
        if self._polling is not None and self._poller is not None:
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)
            await self._poller.confirm()
            self._polling = self._poller = None
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # -- updates ---------------------------------------------------------------------------

    async def process(self, data: dict) -> bool:
        """One update as the webhook or a test delivers it; never raises. False when it must be
        delivered again: the database was unavailable and nothing of it was done."""
        try:
            update = Update.de_json(data, self.bot)
        except Exception:
            log.exception("telegram: unreadable update %s", data.get("update_id"))
            return True
        return await self.process_update(update)

    async def process_update(self, update: Update) -> bool:
        """As `process`, for an update already read (polling)."""
        try:
            await self.application.process_update(update)
        except Exception:
            log.exception("telegram: update %s failed", update.update_id)
        if update.update_id in self._kept:
            self._kept.discard(update.update_id)
            return False
        return True

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None:
            await self._on_membership(update)
            return
        incoming = to_incoming(update, self.bot.username, self.staff_chat_id)
        try:
            if update.callback_query is not None:
                # Stop the spinner and retire the old keyboard while the engine works.
                _, _, replies = await asyncio.gather(
                    self._answer_callback(update),
                    self._retire_keyboard(update),
                    self._handle(incoming) if incoming else _nothing(),
                )
            elif incoming is None:
                log.debug("telegram: update %s ignored", update.update_id)
                return
            else:
                replies = await self._handle(incoming)
        except DatabaseUnavailable:
            self._kept.add(update.update_id)  # delivered again: after a 503, or polled again
            return
        if incoming is None or not replies:
            return
        sender = TelegramSender(self.bot, self.retry)
        try:
            await self.outbox.answer(sender, incoming.chat_id, replies)
        except Exception:
            log.exception("telegram: update %s: could not render or send", update.update_id)
            try:
                await sender.send(incoming.chat_id, [self.engine.fallback()])
            except Exception:
                log.exception("telegram: update %s: fallback not delivered", update.update_id)

    async def _handle(self, incoming: Incoming) -> list:
        # Webhook updates come again after a non-2xx answer, polled ones at the same offset.
        return await self.engine.handle(incoming, keep_if_unavailable=True)

    async def _on_membership(self, update: Update) -> None:
        change = update.my_chat_member
        if change is None or change.chat.type != "private":
            return
        if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
            await self._mark_unreachable(str(change.chat.id))

    async def _answer_callback(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await call_with_retry(lambda: self.bot.answer_callback_query(query.id), NO_RETRY)
        except DeliveryError as error:
            log.info("telegram: callback %s not answered: %s", query.id, error)

    async def _retire_keyboard(self, update: Update) -> None:
        """Pressing a button removes that keyboard, so an old one cannot be pressed again."""
        query = update.callback_query
        message = query.message if query else None
        if not isinstance(message, Message) or message.reply_markup is None:
            return
        try:
            await call_with_retry(
                lambda: self.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
                ),
                NO_RETRY,
            )
        except DeliveryError as error:  # too old to edit, already edited: nothing to fix
            log.info("telegram: keyboard of %s left as is: %s", message.message_id, error)

    async def _mark_unreachable(self, chat_id: str) -> None:
        async with self.engine.database.session() as session, session.begin():
            await mark_unreachable(session, CHANNEL_NAME, chat_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram: update %s failed", update_id, exc_info=context.error)


async def _nothing() -> list:
    return []


CHANNEL = web.AppKey("telegram_channel", TelegramChannel)


async def webhook(request: web.Request) -> web.Response:
    """Telegram's POST: 403 without our secret, 400 if unreadable, 503 while the database is
    unavailable (Telegram delivers the update again), otherwise 200."""
    channel = request.app[CHANNEL]
    try:
        data = await secret_json(request, SECRET_HEADER, webhook_secret(channel.settings))
    except Refused as refused:
        return refused.response
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return web.Response(status=400, text="body must be a Telegram update")
    # Answered only once processed: a slow bot slows Telegram down instead of piling up work.
    if not await channel.process(data):
        return web.Response(status=503, text="database unavailable: deliver again")
    return web.Response(text="ok")


def setup(app: web.Application) -> None:
    from bot.app import ENGINE, REPLY_OUTBOX, SENDERS, SETTINGS

    settings = telegram_settings()
    if not settings.token:
        return
    hide_token_from_logs()
    channel = TelegramChannel(
        settings, app[ENGINE], app[REPLY_OUTBOX], staff_group_id(app[SETTINGS].staff_room_address())
    )
    app[CHANNEL] = channel
    app[SENDERS][CHANNEL_NAME] = TelegramSender(channel.bot)
    app.router.add_post(WEBHOOK_PATH, webhook)

    async def run_with_app(app: web.Application) -> AsyncIterator[None]:
        await channel.start()
        yield
        await channel.stop()

    app.cleanup_ctx.append(run_with_app)


def enable_polling(app: web.Application) -> None:
    """Fetch updates with getUpdates instead of waiting for the webhook (no public HTTPS)."""
    if CHANNEL not in app:
        raise RuntimeError("TELEGRAM_TOKEN is not set")
    app[CHANNEL].polling = True


def make_sender(settings: TelegramSettings) -> TelegramSender | None:
    if not settings.token:
        return None
    return TelegramSender(make_bot(settings), owns_bot=True)


def staff_group_id(room: tuple[str, str] | None) -> int | None:
    """The staff room's group when it is on Telegram: every message there goes in, not only the
    ones addressed to the bot (STAFF_ROOM=telegram:<id> as much as TELEGRAM_STAFF_CHAT_ID)."""
    if room is None or room[0] != CHANNEL_NAME:
        return None
    try:
        return int(room[1])
    except ValueError:
        raise ChannelSetupError(
            f"STAFF_ROOM {CHANNEL_NAME}:{room[1]}: a Telegram group id is a number, "
            "such as -1001234567890"
        ) from None


class Telegram(Channel):
    name = CHANNEL_NAME
    label = "Telegram"
    limits = Limits(text_chars=MAX_TEXT, buttons=100, button_label_chars=64)
    reply_window = None
    counts_utf16 = True
    burst = 1
    can_poll = True
    cli_group = "telegram"
    cli_help = "The Telegram bot: webhook and command menu."

    def configured(self, settings: Settings) -> bool:
        return bool(telegram_settings().token)

    def show(self, replies: Sequence[Reply]) -> list[Shown]:
        return [
            Shown(html.unescape(message.html),
                  tuple(b.text for row in (message.keyboard.inline_keyboard if message.keyboard
                                           else ()) for b in row),
                  str(message.photo) if message.photo else None)
            for reply in replies for message in render(reply)
        ]  # fmt: skip

    def rate(self, settings: Settings) -> float:
        return telegram_settings().campaign_rate

    def setup(self, app: web.Application) -> None:
        setup(app)

    def make_sender(self, settings: Settings) -> TelegramSender | None:
        return make_sender(telegram_settings())

    def enable_polling(self, app: web.Application) -> None:
        enable_polling(app)

    def register_cli(self, group: Any) -> None:
        from bot.channels.telegram.cli import register

        register(group)

    def share_link(
        self, profile: dict[str, Any], payload: str | None, typed: str | None
    ) -> ShareLink | None:
        if not profile.get("telegram_bot"):
            return None
        base = f"https://t.me/{str(profile['telegram_bot']).lstrip('@')}"
        return ShareLink(self.name, f"{base}?start={payload}" if payload else base)

    def staff_group(self) -> str | None:
        group = telegram_settings().staff_chat_id
        return None if group is None else str(group)

    async def doctor(self, settings: Settings, database: Database) -> list["Check"]:
        from bot.channels.telegram.doctor import doctor_checks

        return await doctor_checks(telegram_settings())


channel = Telegram()
