"""The Facebook Messenger channel, for the commune's Facebook Page.

GET /webhook/messenger answers Meta's verification; POST checks the signature, stores each event
in the crash-safe inbox, answers 200, and a worker turns it into a reply through the Send API.
The parts: settings.py, events.py (webhook -> Incoming), render.py (Reply -> messages),
sender.py (Send API and its errors), profile.py (`troly messenger setup`, `doctor`),
names.py (the citizen's name from the User Profile API, for the console).
"""

import hmac
import json
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from bot.channels.base import Channel, Limits, ShareLink, Shown
from bot.channels.inbox import Inbox
from bot.channels.messenger.events import CHANNEL, events, signature_ok, to_incoming, to_read
from bot.channels.messenger.names import NameLookup
from bot.channels.messenger.render import MAX_QUICK_REPLIES, MAX_TEXT, MAX_TITLE
from bot.channels.messenger.sender import MessengerSender
from bot.channels.messenger.settings import MessengerSettings, messenger_settings
from bot.channels.retry import RetryPolicy
from bot.engine import Engine
from bot.messages import Reply
from bot.reply_outbox import ReplyOutbox
from bot.settings import Settings
from storage.db import Database

if TYPE_CHECKING:
    from bot.doctor import Check

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhook/messenger"
SIGNATURE_HEADER = "X-Hub-Signature-256"


class MessengerChannel:
    """The running channel: webhook events in through the inbox, replies out."""

    def __init__(self, settings: MessengerSettings, engine: Engine, outbox: ReplyOutbox):
        self.settings = settings
        self.engine = engine
        self.outbox = outbox  # replies Meta refuses for a moment are kept there
        self.sender = MessengerSender(settings, RetryPolicy(), messaging_type="RESPONSE")
        self.inbox = Inbox(engine.database, CHANNEL, self.process)
        self.names = NameLookup(settings, engine.database)  # for the console's inbox

    async def process(self, body: str) -> None:
        event = json.loads(body)
        read = to_read(event)
        if read is not None:
            await self.engine.record_read(read)
            return
        incoming = to_incoming(event)
        await self.sender.typing(incoming.chat_id)
        # A database that is down raises: the inbox keeps the event and tries again later.
        replies = await self.engine.handle(incoming, keep_if_unavailable=True)
        await self.outbox.answer(self.sender, incoming.chat_id, replies)
        self.names.after_reply(incoming.chat_id)


MESSENGER = web.AppKey("messenger_channel", MessengerChannel)


async def verify(request: web.Request) -> web.Response:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is ours."""
    settings = request.app[MESSENGER].settings
    query = request.query
    given = query.get("hub.verify_token", "").encode()
    # A secret like the app's: compared in constant time, so its prefix cannot be timed out.
    if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
        given, (settings.verify_token or "").encode()
    ):
        return web.Response(text=query.get("hub.challenge", ""))
    return web.Response(status=403, text="verification failed")


async def webhook(request: web.Request) -> web.Response:
    channel = request.app[MESSENGER]
    body = await request.read()
    if not signature_ok(
        body, request.headers.get(SIGNATURE_HEADER, ""), channel.settings.app_secret or ""
    ):
        return web.Response(status=403, text="bad signature")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return web.Response(status=400, text="body must be JSON")
    for event in events(data):
        await channel.inbox.accept(event.event_id, event.chat_id, event.body)
    return web.Response(text="EVENT_RECEIVED")


def setup(app: web.Application) -> None:
    from bot.app import ENGINE, REPLY_OUTBOX, SENDERS

    settings = messenger_settings()
    if not settings.configured:
        return
    channel = MessengerChannel(settings, app[ENGINE], app[REPLY_OUTBOX])
    app[MESSENGER] = channel
    app[SENDERS][CHANNEL] = channel.sender
    app.router.add_get(WEBHOOK_PATH, verify)
    app.router.add_post(WEBHOOK_PATH, webhook)

    async def run_with_app(app: web.Application) -> AsyncIterator[None]:
        await channel.inbox.start()
        yield
        await channel.inbox.stop()
        await channel.names.stop()
        await channel.sender.close()

    app.cleanup_ctx.append(run_with_app)


def page_link(username: str, payload: str | None = None) -> str:
    base = f"https://m.me/{quote(username.lstrip('@'))}"
    return f"{base}?ref={payload}" if payload else base


class Messenger(Channel):
    name = CHANNEL
    label = "Messenger"
    limits = Limits(text_chars=MAX_TEXT, buttons=MAX_QUICK_REPLIES, button_label_chars=MAX_TITLE)
    reply_window = timedelta(hours=24)  # standard messaging; no message tags for promotions
    reports_reads = True
    cli_group = "messenger"
    cli_help = "Facebook Messenger: the page's Get Started button, greeting and menu."

    def configured(self, settings: Settings) -> bool:
        return messenger_settings().configured

    def show(self, replies: Sequence[Reply]) -> list[Shown]:
        from bot.channels.messenger.render import render

        return [
            Shown(m.message.get("text", ""),
                  tuple(q["title"] for q in m.message.get("quick_replies", ())), m.image)
            for m in render(replies)
        ]  # fmt: skip

    def rate(self, settings: Settings) -> float:
        return messenger_settings().campaign_rate

    def setup(self, app: web.Application) -> None:
        setup(app)

    def make_sender(self, settings: Settings) -> MessengerSender | None:
        own = messenger_settings()
        return MessengerSender(own) if own.configured else None

    def share_link(
        self, profile: dict[str, Any], payload: str | None, typed: str | None
    ) -> ShareLink | None:
        username = messenger_settings().page_username
        return ShareLink(self.name, page_link(username, payload)) if username else None

    async def doctor(self, settings: Settings, database: Database) -> list["Check"]:
        from bot.channels.messenger.profile import doctor_checks

        return await doctor_checks(messenger_settings())

    def register_cli(self, group: Any) -> None:
        from bot.channels.messenger.profile import register

        register(group)


channel = Messenger()
