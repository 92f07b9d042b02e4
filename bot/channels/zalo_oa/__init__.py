"""The Zalo Official Account channel: signed webhook in, OA Open API v3 out, OAuth v4 tokens.

`setup(app)` mounts POST /webhook/zalo (and the domain verification file) when ZALO_APP_ID,
ZALO_APP_SECRET and ZALO_OA_SECRET_KEY are set (settings.py); `make_sender(...)` sends outside
any event. Events are stored, acknowledged, then processed by the inbox workers (inbox.py).
Refresh tokens are single-use: a refresh holds a database lock, and the new pair is
committed before the new access token is used (storage/oauth_tokens.py).
The parts: events.py (signature, event -> Incoming), render.py, oauth.py (tokens), sender.py,
cli.py (`troly zalo login`).
"""

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.base import Channel, Limits, ShareLink, Shown
from bot.channels.http import Clock, utc_now
from bot.channels.inbox import Inbox
from bot.channels.retry import RetryPolicy
from bot.channels.zalo_oa.events import CHANNEL, _timestamp, parse_event, signature
from bot.channels.zalo_oa.oauth import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME
from bot.channels.zalo_oa.render import MAX_BUTTON_TITLE, MAX_BUTTONS, MAX_TEXT
from bot.channels.zalo_oa.sender import ZaloOASender
from bot.channels.zalo_oa.settings import ZaloOASettings, zalo_oa_settings
from bot.engine import Engine
from bot.logs import chat_ref
from bot.messages import Reply
from bot.reply_outbox import ReplyOutbox
from bot.settings import Settings
from storage.conversations import mark_unreachable
from storage.db import Database
from storage.oauth_tokens import (
    load_token,
)

if TYPE_CHECKING:
    from bot.doctor import Check

log = logging.getLogger(__name__)


WEBHOOK_PATH = "/webhook/zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
REPLAY_WINDOW = timedelta(minutes=15)  # older events are acknowledged and ignored
CLOCK_SKEW = timedelta(minutes=5)  # events "from the future" within this are fine
REFRESH_WARNING = timedelta(days=14)  # doctor warns when the refresh token expires sooner


@dataclass
class ZaloOAChannel:
    """Webhook in, engine, replies out; the inbox sits between acknowledging and processing."""

    settings: ZaloOASettings
    engine: Engine
    sender: ZaloOASender
    outbox: ReplyOutbox  # replies Zalo refuses for a moment are kept there
    clock: Clock = utc_now
    inbox: Inbox = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.engine.database, CHANNEL, self.process, self.clock)

    def verify(self, body: bytes, event: dict[str, Any], given: str) -> bool:
        expected = signature(
            self.settings.app_id or "",
            body,
            str(event.get("timestamp", "")),
            self.settings.oa_secret_key or "",
        )
        return hmac.compare_digest(given.strip().encode(), expected.encode())

    def too_old(self, event: dict[str, Any]) -> bool:
        when = _timestamp(event)
        now = self.clock()
        return when is None or when < now - REPLAY_WINDOW or when > now + CLOCK_SKEW

    async def process(self, body: str) -> None:
        """One stored event; never raises for a bad event or a failed send."""
        try:
            event = parse_event(json.loads(body))
        except (ValueError, TypeError, AssertionError):
            log.warning("zalo: unreadable stored event skipped")
            return
        if event.unfollowed:
            await self._mark_unreachable(event.chat_id)
            log.info("%s unfollowed, marked unreachable", chat_ref("zalo", event.chat_id))
            return
        if event.read is not None:
            await self.engine.record_read(event.read)
            return
        if event.incoming is None:
            log.info("zalo: event %r acknowledged, nothing to do", event.name[:40])
            return
        # A database that is down raises: the inbox keeps the event and tries again later.
        replies = await self.engine.handle(event.incoming, keep_if_unavailable=True)
        if replies:
            await self.deliver(event.chat_id, replies)

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> None:
        try:
            await self.outbox.answer(self.sender, chat_id, replies)
        except ValueError:
            log.exception("replies to %s could not be rendered", chat_ref("zalo", chat_id))

    async def _mark_unreachable(self, chat_id: str) -> None:
        async with self.engine.database.session() as session, session.begin():
            await mark_unreachable(session, CHANNEL, chat_id)


ZALO_OA = web.AppKey("zalo_oa_channel", ZaloOAChannel)


async def webhook(request: web.Request) -> web.Response:
    """Zalo's POST: 403 unless signed, then 200 at once; the work happens after."""
    channel = request.app[ZALO_OA]
    body = await request.read()
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return web.Response(status=400, text="body must be JSON")
    if not isinstance(event, dict):
        return web.Response(status=400, text="body must be a JSON object")
    if not channel.verify(body, event, request.headers.get(SIGNATURE_HEADER, "")):
        return web.Response(status=403, text="forbidden")
    if channel.too_old(event):
        log.warning("zalo: event outside the replay window ignored (%s)", event.get("timestamp"))
        return web.Response(text="ignored")
    parsed = parse_event(event)
    if not await channel.inbox.accept(parsed.event_id, parsed.chat_id, body.decode()):
        return web.Response(text="duplicate")
    return web.Response(text="ok")


def verifier_page(code: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta name="zalo-platform-site-verification" '
        f'content="{code}" /></head><body>zalo verification</body></html>'
    )


def _add_verifier(app: web.Application, code: str) -> None:
    page = verifier_page(code)

    async def verifier(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app.router.add_get(f"/zalo_verifier{code}.html", verifier)


def setup(app: web.Application) -> None:
    from bot.app import ENGINE, REPLY_OUTBOX, SENDERS

    settings = zalo_oa_settings()
    if settings.verifier_code:
        _add_verifier(app, settings.verifier_code)
    if not settings.configured:
        return
    engine = app[ENGINE]
    sender = ZaloOASender(settings, engine.database, RetryPolicy())
    channel = ZaloOAChannel(settings, engine, sender, app[REPLY_OUTBOX])
    app[ZALO_OA] = channel
    app[SENDERS][CHANNEL] = sender
    app.router.add_post(WEBHOOK_PATH, webhook)

    async def run_with_app(app: web.Application) -> AsyncIterator[None]:
        await sender.tokens.seed()
        await channel.inbox.start()
        keep_alive = asyncio.create_task(sender.tokens.keep_alive())
        yield
        keep_alive.cancel()
        await channel.inbox.stop()
        await sender.close()

    app.cleanup_ctx.append(run_with_app)


def make_sender(settings: ZaloOASettings, database_url: str) -> ZaloOASender | None:
    if not settings.configured:
        return None
    return ZaloOASender(settings, Database(database_url), owns_database=True)


async def doctor_checks(settings: ZaloOASettings, database: Database) -> list["Check"]:
    """The stored token pair: present, refreshed lately, and its refresh token not expiring."""
    from bot.doctor import FAIL, OK, WARN, Check

    if not settings.configured:
        return []
    name, now = "zalo OA", utc_now()
    stored = await load_token(database, settings.app_id or "")
    if stored is None or not stored.refresh_token:
        return [Check(FAIL, name, "no token stored: run `troly zalo login`")]
    # Each refresh gives a new refresh token, valid 90 days from the refresh.
    refreshed = stored.access_expires_at - ACCESS_TOKEN_LIFETIME
    refresh_expires = refreshed + REFRESH_TOKEN_LIFETIME
    if refresh_expires <= now:
        return [Check(FAIL, name, "the refresh token has expired: run `troly zalo login`")]
    if stored.access_expires_at <= now:
        late = f"access token expired {stored.access_expires_at:%Y-%m-%d %H:%M} UTC"
        advice = "`troly serve` refreshes it hourly: is it running?"
        status = WARN if refresh_expires - now > REFRESH_WARNING else FAIL
        return [
            Check(
                status, name, f"{late}; {advice} (refresh token until {refresh_expires:%Y-%m-%d})"
            )
        ]
    hours = (now - refreshed).total_seconds() / 3600
    return [Check(OK, name, f"token refreshed {hours:.1f} h ago")]


class ZaloOA(Channel):
    name = CHANNEL
    label = "Zalo OA"
    limits = Limits(text_chars=MAX_TEXT, buttons=MAX_BUTTONS, button_label_chars=MAX_BUTTON_TITLE)
    reply_window = timedelta(days=7)  # consultation messages: 7 days after the person wrote
    reports_reads = True
    cli_group = "zalo"
    cli_help = "Zalo: OA authorisation, Bot Platform webhook."

    def register_cli(self, group: Any) -> None:
        from bot.channels.zalo_oa.cli import register

        register(group)

    def configured(self, settings: Settings) -> bool:
        return zalo_oa_settings().configured

    def show(self, replies: Sequence[Reply]) -> list[Shown]:
        from bot.channels.zalo_oa.render import render

        return [Shown(m.text, tuple(b["title"] for b in m.buttons), m.image)
                for m in render(replies)]  # fmt: skip

    def rate(self, settings: Settings) -> float:
        return zalo_oa_settings().campaign_rate

    def setup(self, app: web.Application) -> None:
        setup(app)

    def make_sender(self, settings: Settings) -> ZaloOASender | None:
        return make_sender(zalo_oa_settings(), settings.database_url)

    def share_link(
        self, profile: dict[str, Any], payload: str | None, typed: str | None
    ) -> ShareLink | None:
        # The OA chat link carries no payload: the person types the guide's code instead.
        if not profile.get("zalo_oa_id"):
            return None
        return ShareLink(self.name, f"https://zalo.me/{profile['zalo_oa_id']}", typed)

    async def doctor(self, settings: Settings, database: Database) -> list["Check"]:
        return await doctor_checks(zalo_oa_settings(), database)


channel = ZaloOA()
