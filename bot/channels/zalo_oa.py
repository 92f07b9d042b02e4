"""The Zalo Official Account channel: signed webhook in, OA Open API v3 out, OAuth v4 tokens.

`setup(app)` mounts POST /webhook/zalo (and the domain verification file) when ZALO_APP_ID,
ZALO_APP_SECRET and ZALO_OA_SECRET_KEY are set; `make_sender(settings)` sends outside any
event. Events are stored, acknowledged, then processed by the inbox workers (inbox.py).
Refresh tokens are single-use: a refresh holds a database lock, and the new pair is
committed before the new access token is used (storage/zalo.py).
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.channels.base import Channel, Limits, ShareLink
from bot.channels.http import HTTP_TIMEOUT, Clock, call_json, utc_now
from bot.channels.inbox import Inbox
from bot.channels.retry import NO_RETRY, RetryPolicy
from bot.channels.text_split import numbered_pieces, split_text
from bot.delivery import DeliveryError, RateLimited, TemporaryFailure, Unreachable
from bot.engine import Engine
from bot.logs import chat_ref
from bot.messages import Button, Incoming, Reply
from bot.settings import Settings
from storage.conversations import mark_unreachable
from storage.db import Database
from storage.zalo import (
    TokenPair,
    load_token,
    locked_token,
    replace_tokens,
    seed_refresh_token,
)

if TYPE_CHECKING:
    from bot.doctor import Check

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters per text message

CHANNEL = "zalo"
WEBHOOK_PATH = "/webhook/zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
# oa.query.hide buttons come back as a text the person "sent": this prefix, which nobody
# types, tells a pressed button from a typed message.
ACTION_PREFIX = "#tl:"
MAX_BUTTONS = 5  # per OA message; more choices become numbered text
MAX_BUTTON_TITLE = 100
REPLAY_WINDOW = timedelta(minutes=15)  # older events are acknowledged and ignored
CLOCK_SKEW = timedelta(minutes=5)  # events "from the future" within this are fine
ACCESS_TOKEN_REFRESH_AHEAD = timedelta(hours=1)  # of the 25-hour lifetime
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
ACCESS_TOKEN_LIFETIME = timedelta(hours=25)
REFRESH_WARNING = timedelta(days=14)  # doctor warns when the refresh token expires sooner
TOKEN_KEEPALIVE = timedelta(hours=1)  # idle OAs still refresh, so the refresh token never lapses
TOKEN_ERRORS = {-216, -220}  # access token invalid / expired: refresh once and retry
OUTSIDE_WINDOW = {-230, -232}  # no interaction within 7 days
NOT_FOLLOWING = {-213}
RATE_LIMITED = -32
ATTACHMENT_KINDS = {
    "user_send_image": "photo",
    "user_send_gif": "gif",
    "user_send_sticker": "sticker",
    "user_send_audio": "voice",
    "user_send_video": "video",
    "user_send_file": "document",
    "user_send_location": "location",
    "user_send_link": "link",
}


def configured(settings: Settings) -> bool:
    return bool(settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret_key)


# -- webhook events ----------------------------------------------------------------------------


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's X-ZEvent-Signature: `mac=` + sha256(app id + raw body + timestamp + OA secret)."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode())
    return f"mac={digest.hexdigest()}"


@dataclass(frozen=True)
class Event:
    """What one webhook event means to us."""

    name: str
    chat_id: str
    event_id: str
    incoming: Incoming | None = None
    unfollowed: bool = False


def _timestamp(event: dict[str, Any]) -> datetime | None:
    try:
        millis = int(event.get("timestamp"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def _user_id(event: dict[str, Any]) -> str:
    for key in ("sender", "follower"):
        part = event.get(key)
        if isinstance(part, dict) and part.get("id"):
            return str(part["id"])
    return str(event.get("user_id") or "")


def parse_event(event: dict[str, Any]) -> Event:
    """An event as Incoming (or an unfollow); `incoming` is None for events we only log."""
    name = str(event.get("event_name") or "")
    chat_id = _user_id(event)
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    event_id = str(message.get("msg_id") or f"{name}:{chat_id}:{event.get('timestamp')}")
    when = _timestamp(event) or utc_now()
    base = {"channel": CHANNEL, "chat_id": chat_id, "timestamp": when}
    incoming = None
    if not chat_id:
        return Event(name, chat_id, event_id)
    if name == "user_send_text":
        text = str(message.get("text") or "")
        if text.startswith(ACTION_PREFIX):
            incoming = Incoming(**base, action=text[len(ACTION_PREFIX) :])
        else:
            incoming = Incoming(**base, text=text)
    elif name in ATTACHMENT_KINDS:
        incoming = Incoming(**base, text="", attachment=ATTACHMENT_KINDS[name])
    elif name in ("follow", "user_click_chatnow"):
        incoming = Incoming(**base, text="/start")  # the welcome and the menu
    elif name == "unfollow":
        return Event(name, chat_id, event_id, unfollowed=True)
    return Event(name, chat_id, event_id, incoming)


# -- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One OA message: text (with template buttons) or an image (URL or local file)."""

    text: str = ""
    buttons: tuple[dict[str, Any], ...] = ()
    image: str | None = None


def button_json(button: Button) -> dict[str, Any]:
    title = button.label[:MAX_BUTTON_TITLE]
    if button.action:
        return {"title": title, "type": "oa.query.hide", "payload": ACTION_PREFIX + button.action}
    if button.url:
        return {"title": title, "type": "oa.open.url", "payload": {"url": button.url}}
    phone = "".join(ch for ch in button.phone or "" if ch.isdigit() or ch == "+")
    return {"title": title, "type": "oa.open.phone", "payload": {"phone_code": phone}}


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """OA messages for a turn: template buttons, or numbered text when any reply has more
    than five choices (numbered across all replies, as the engine maps typed numbers)."""
    numbered = any(len(r.buttons) > MAX_BUTTONS for r in replies)
    texts = numbered_pieces(replies) if numbered else [r.text for r in replies]
    messages: list[Outgoing] = []
    for reply, text in zip(replies, texts, strict=True):
        if reply.image:
            messages.append(Outgoing(image=reply.image))
        buttons = () if numbered else tuple(button_json(b) for b in reply.buttons)
        if not text.strip():
            if buttons:
                raise ValueError("a reply with buttons needs text on Zalo")
            continue
        pieces = split_text(text, MAX_TEXT)
        messages.extend(Outgoing(piece) for piece in pieces[:-1])
        messages.append(Outgoing(pieces[-1], buttons))
    return messages


def message_json(message: Outgoing, attachment_id: str | None = None) -> dict[str, Any]:
    if message.image:
        element: dict[str, Any] = {"media_type": "image"}
        if attachment_id:
            element["attachment_id"] = attachment_id
        else:
            element["url"] = message.image
        payload = {"template_type": "media", "elements": [element]}
        return {"attachment": {"type": "template", "payload": payload}}
    body: dict[str, Any] = {"text": message.text}
    if message.buttons:
        body["attachment"] = {"type": "template", "payload": {"buttons": list(message.buttons)}}
    return body


# -- OAuth v4 ----------------------------------------------------------------------------------


class NotAuthorised(DeliveryError):
    """No usable token: the OA must be authorised again with `troly zalo login`."""


class TokenLost(NotAuthorised):
    """Zalo issued a new pair that could not be stored: the old refresh token is spent."""


class OAuthError(Exception):
    def __init__(self, code: object, description: str):
        self.code = code
        super().__init__(f"Zalo OAuth error {code}: {description}")


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    state: str

    @classmethod
    def new(cls) -> "Pkce":
        verifier = secrets.token_urlsafe(32)  # 43 characters, as RFC 7636 asks
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return cls(verifier, challenge, secrets.token_urlsafe(12))


def permission_url(settings: Settings, redirect_uri: str, pkce: Pkce) -> str:
    """The page where an OA administrator grants the app its permissions."""
    query = urlencode(
        {
            "app_id": settings.zalo_app_id,
            "redirect_uri": redirect_uri,
            "code_challenge": pkce.challenge,
            "state": pkce.state,
        }
    )
    return f"{settings.zalo_oauth_url.rstrip('/')}/v4/oa/permission?{query}"


class OAuthClient:
    """{ZALO_OAUTH_URL}/v4/oa/access_token: the `secret_key` header and a form body."""

    def __init__(self, settings: Settings, http: "HttpHolder", clock: Clock = utc_now):
        self.settings = settings
        self.http = http
        self.clock = clock

    async def refresh(self, refresh_token: str) -> TokenPair:
        return await self._token({"refresh_token": refresh_token, "grant_type": "refresh_token"})

    async def exchange_code(self, code: str, code_verifier: str) -> TokenPair:
        return await self._token(
            {"code": code, "code_verifier": code_verifier, "grant_type": "authorization_code"}
        )

    async def _token(self, form: dict[str, str]) -> TokenPair:
        settings = self.settings
        data = await call_json(
            await self.http.get(),
            "POST",
            f"{settings.zalo_oauth_url.rstrip('/')}/v4/oa/access_token",
            data={"app_id": settings.zalo_app_id or "", **form},
            headers={"secret_key": settings.zalo_app_secret or ""},
        )
        if not data.get("access_token") or not data.get("refresh_token"):
            description = data.get("error_description") or data.get("error_name") or data
            raise OAuthError(data.get("error"), str(description))
        now = self.clock()
        lifetime = int(data.get("expires_in") or 90000)  # Zalo sends "90000" as a string
        return TokenPair(
            str(data["access_token"]),
            str(data["refresh_token"]),
            now + timedelta(seconds=lifetime),
            now + REFRESH_TOKEN_LIFETIME,
        )


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


class TokenManager:
    """The OA access token: cached, refreshed ahead of expiry, one refresh at a time anywhere."""

    def __init__(self, settings: Settings, database: Database, oauth: OAuthClient, clock: Clock):
        assert settings.zalo_app_id, "ZALO_APP_ID is not set"
        self.app_id = settings.zalo_app_id
        self.settings = settings
        self.database = database
        self.oauth = oauth
        self.clock = clock
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._lock = asyncio.Lock()  # coroutines of this process queue here, not on the database

    async def seed(self) -> None:
        """ZALO_REFRESH_TOKEN fills an empty store once; later it is ignored."""
        token = self.settings.zalo_refresh_token
        if token and await seed_refresh_token(self.database, self.app_id, token, self.clock()):
            log.info("zalo: token store seeded from ZALO_REFRESH_TOKEN")

    def _fresh(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at - ACCESS_TOKEN_REFRESH_AHEAD > self.clock()

    async def access_token(self) -> str:
        if self._token and self._fresh(self._expires_at):
            return self._token
        stored = await load_token(self.database, self.app_id)  # another process may have renewed
        if stored and stored.access_token and self._fresh(stored.access_expires_at):
            self._token, self._expires_at = stored.access_token, stored.access_expires_at
            return stored.access_token
        return await self.refresh(rejected=stored.access_token if stored else None)

    async def refresh(self, rejected: str | None = None) -> str:
        """A new access token, unless someone renewed the `rejected` one while we waited."""
        async with self._lock, locked_token(self.database, self.app_id) as locked:
            current = locked.current
            if current is None:
                raise NotAuthorised("no Zalo OA token stored: run `troly zalo login`")
            renewed = current.access_token and current.access_token != rejected
            if renewed and self._fresh(current.access_expires_at):
                self._token, self._expires_at = current.access_token, current.access_expires_at
                return current.access_token
            try:
                pair = await self.oauth.refresh(current.refresh_token)
            except OAuthError as error:
                log.error("zalo: refresh refused (%s): run `troly zalo login`", error)
                raise NotAuthorised(str(error)) from error
            try:
                await locked.store(pair, self.clock())
            except Exception as error:
                # The old refresh token is spent and the new one is not stored: say so loudly.
                log.critical(
                    "zalo: new OA tokens could not be stored (%s); the OA stays locked out "
                    "until an administrator runs `troly zalo login`",
                    error,
                )
                raise TokenLost("new Zalo tokens could not be stored") from error
        self._token, self._expires_at = pair.access_token, pair.access_expires_at
        log.info("zalo: access token refreshed, valid until %s", pair.access_expires_at)
        return pair.access_token

    async def keep_alive(self) -> None:
        """Refresh ahead of expiry even when nobody writes: a lapsed refresh token locks us out."""
        while True:
            await asyncio.sleep(TOKEN_KEEPALIVE.total_seconds())
            try:
                await self.access_token()
            except DeliveryError as error:
                log.warning("zalo: token keep-alive failed: %s", error)


async def login_with_code(
    settings: Settings, database: Database, code: str, pkce: Pkce, clock: Clock = utc_now
) -> TokenPair:
    """`troly zalo login`: exchange the authorisation code and store the first pair."""
    http = HttpHolder()
    try:
        pair = await OAuthClient(settings, http, clock).exchange_code(code, pkce.verifier)
    finally:
        await http.close()
    assert settings.zalo_app_id
    await replace_tokens(database, settings.zalo_app_id, pair, clock())
    return pair


async def login_with_refresh_token(
    settings: Settings, database: Database, refresh_token: str, clock: Clock = utc_now
) -> str:
    """Store a refresh token from the OA admin tools, then spend it at once to prove it works."""
    assert settings.zalo_app_id
    now = clock()
    await replace_tokens(database, settings.zalo_app_id, TokenPair("", refresh_token, now), now)
    http = HttpHolder()
    try:
        manager = TokenManager(settings, database, OAuthClient(settings, http, clock), clock)
        return await manager.refresh()
    finally:
        await http.close()


# -- sending -----------------------------------------------------------------------------------


class ZaloOASender:
    """bot.delivery's Sender for the OA: returns Zalo message ids."""

    channel = CHANNEL

    def __init__(
        self,
        settings: Settings,
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
        return self.settings.zalo_api_url.rstrip("/")

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> list[str]:
        messages = render(replies)  # a reply Zalo cannot show fails before anything is sent
        ids = []
        for message in messages:
            attachment_id = None
            if message.image and not message.image.startswith(("https://", "http://")):
                attachment_id = await self._upload(message.image)
            body = {
                "recipient": {"user_id": chat_id},
                "message": message_json(message, attachment_id),
            }
            data = await self._call_with_retry("/v3.0/oa/message/cs", json=body, user=chat_id)
            ids.append(str((data.get("data") or {}).get("message_id", "")))
        return ids

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


# -- the channel -------------------------------------------------------------------------------


@dataclass
class ZaloOAChannel:
    """Webhook in, engine, replies out; the inbox sits between acknowledging and processing."""

    settings: Settings
    engine: Engine
    sender: ZaloOASender
    clock: Clock = utc_now
    inbox: Inbox = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.engine.database, CHANNEL, self.process, self.clock)

    def verify(self, body: bytes, event: dict[str, Any], given: str) -> bool:
        expected = signature(
            self.settings.zalo_app_id or "",
            body,
            str(event.get("timestamp", "")),
            self.settings.zalo_oa_secret_key or "",
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
        if event.incoming is None:
            log.info("zalo: event %r acknowledged, nothing to do", event.name[:40])
            return
        replies = await self.engine.handle(event.incoming)
        if replies:
            await self.deliver(event.chat_id, replies)

    async def deliver(self, chat_id: str, replies: Sequence[Reply]) -> None:
        try:
            await self.sender.send(chat_id, replies)
        except Unreachable as error:
            log.info("%s unreachable (%s), marked", chat_ref("zalo", chat_id), error.reason)
            await self._mark_unreachable(chat_id)
        except DeliveryError as error:
            log.warning("reply to %s not delivered: %s", chat_ref("zalo", chat_id), error)
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
    except (ValueError, UnicodeDecodeError):
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
    from bot.app import ENGINE, SENDERS, SETTINGS

    settings = app[SETTINGS]
    if settings.zalo_verifier_code:
        _add_verifier(app, settings.zalo_verifier_code)
    if not configured(settings):
        return
    engine = app[ENGINE]
    sender = ZaloOASender(settings, engine.database, RetryPolicy())
    channel = ZaloOAChannel(settings, engine, sender)
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


def make_sender(settings: Settings) -> ZaloOASender | None:
    if not configured(settings):
        return None
    return ZaloOASender(settings, Database(settings.database_url), owns_database=True)


async def doctor_checks(settings: Settings, database: Database) -> list["Check"]:
    """The stored token pair: present, refreshed lately, and its refresh token not expiring."""
    from bot.doctor import FAIL, OK, WARN, Check

    if not configured(settings):
        return []
    name, now = "zalo OA", utc_now()
    stored = await load_token(database, settings.zalo_app_id or "")
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
    cli_group = "zalo"
    cli_help = "Zalo: OA authorisation, Bot Platform webhook."

    def register_cli(self, group: Any) -> None:
        from bot.channels.zalo_oa_cli import register

        register(group)

    def configured(self, settings: Settings) -> bool:
        return configured(settings)

    def rate(self, settings: Settings) -> float:
        return settings.campaign_zalo_rate

    def setup(self, app: web.Application) -> None:
        setup(app)

    def make_sender(self, settings: Settings) -> ZaloOASender | None:
        return make_sender(settings)

    def share_link(
        self, profile: dict[str, Any], payload: str | None, typed: str | None
    ) -> ShareLink | None:
        # The OA chat link carries no payload: the person types the guide's code instead.
        if not profile.get("zalo_oa_id"):
            return None
        return ShareLink(self.name, f"https://zalo.me/{profile['zalo_oa_id']}", typed)

    async def doctor(self, settings: Settings, database: Database) -> list["Check"]:
        return await doctor_checks(settings, database)


channel = ZaloOA()
