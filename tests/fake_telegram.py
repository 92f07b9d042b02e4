"""A fake Telegram Bot API server on loopback: records every call and fails when told to.

Point python-telegram-bot at it with `base_url=fake.base_url` (TELEGRAM_API_URL). Typical use:

    async with FakeTelegram() as telegram:
        telegram_env(telegram)  # tests/channel_env.py: TELEGRAM_TOKEN, TELEGRAM_API_URL
        telegram.fail("sendMessage", Failure.rate_limited(retry_after=3))   # next call gets 429
        ...
        await telegram.wait_for("sendMessage", count=2)
        assert telegram.calls_to("sendMessage")[0].params["text"] == "..."

`Updates` builds update JSON (private and group messages, button presses, stickers, ...) to post
to a webhook or to queue for getUpdates with `telegram.push_update(...)`.
"""

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000000001
BOT_USERNAME = "troly_test_bot"
TOKEN = f"{BOT_ID}:AAFakeTokenForTestsOnly_0123456789abc"

# Form values PTB sends as plain strings; every other value arrives JSON-encoded.
_TEXT_FIELDS = {
    "text",
    "caption",
    "url",
    "secret_token",
    "parse_mode",
    "callback_query_id",
    "inline_message_id",
    "photo",
    "document",
    "emoji",
    "description",
    "short_description",
    "name",
    "language_code",
    "title",
    "ip_address",
    "action",
}
# Methods that put something in front of a person; `rate_limit_per_second` counts these.
_SENDING = {
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendMediaGroup",
    "copyMessage",
    "forwardMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
}


@dataclass
class Call:
    """One request the bot made: the method, its decoded parameters and any uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    answered: int = 200  # the HTTP status the fake answered with (0: connection dropped)

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard rows sent with this call ([] if none)."""
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [button for row in self.keyboard for button in row]


@dataclass(frozen=True)
class Failure:
    """How the fake answers a call it was told to fail."""

    status: int
    description: str
    retry_after: int | None = None
    drop: bool = False  # close the connection without any response
    delay: float = 0.0  # answer normally, but only after this many seconds

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> "Failure":
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def blocked(cls) -> "Failure":
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def bad_request(cls, description: str = "Bad Request: message is not modified") -> "Failure":
        return cls(400, description)

    @classmethod
    def server_error(cls, status: int = 502) -> "Failure":
        return cls(status, "Bad Gateway" if status == 502 else "Internal Server Error")

    @classmethod
    def slow(cls, seconds: float) -> "Failure":
        """Deliver the message, but answer too late for the client: it cannot know it arrived."""
        return cls(200, "slow", delay=seconds)

    @classmethod
    def drop_connection(cls) -> "Failure":
        return cls(0, "connection dropped", drop=True)


Handler = Callable[["Call"], Awaitable[Any] | Any]


class FakeTelegram:
    """The Bot API methods TroLy uses, on 127.0.0.1 and a free port."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        username: str = BOT_USERNAME,
        rate_limit_per_second: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        long_poll_cap: float = 1.0,
    ):
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.rate_limit_per_second = rate_limit_per_second
        self.clock = clock
        # getUpdates waits at most this long for an update, whatever timeout the bot asked for,
        # so a bot shutting down never waits a full long poll.
        self.long_poll_cap = long_poll_cap
        self.calls: list[Call] = []
        # While set, every call that puts something in front of a person gets this (a platform
        # down for a while: Failure.server_error(500), or Failure.slow(s) for one that hangs).
        self.outage: Failure | None = None
        self.webhook: dict[str, Any] = {}
        self.commands: list[dict[str, Any]] = []
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._handlers: dict[str, Handler] = {}
        self._updates: list[dict[str, Any]] = []
        self._confirmed = 0  # getUpdates offset: updates below it are acknowledged
        self._message_ids = itertools.count(1001)
        self._sent_at: deque[float] = deque()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> "FakeTelegram":
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._serve)
        app.router.add_get("/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB's `base_url` / TROLY's TELEGRAM_API_URL: the token is appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- scripting -------------------------------------------------------------------------

    def fail(self, method: str, failure: Failure, times: int = 1) -> None:
        """The next `times` calls of `method` ("*" for any method) get `failure`."""
        self._failures[method].extend([failure] * times)

    def on(self, method: str, handler: Handler) -> None:
        """Answer `method` with handler(call)'s result (the Bot API `result`) instead."""
        self._handlers[method] = handler

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        self._updates.append(update)
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def reset(self) -> None:
        """Forget recorded calls (scripted failures and queued updates stay)."""
        self.calls.clear()

    # -- inspecting ------------------------------------------------------------------------

    def calls_to(self, *methods: str) -> list[Call]:
        """Recorded calls of these methods that the fake answered with success."""
        return [c for c in self.calls if c.method in methods and c.answered == 200]

    def attempts(self, method: str) -> list[Call]:
        """Every call of `method`, failed ones included."""
        return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int | str) -> list[Call]:
        """Successful sendMessage/sendPhoto calls to one chat, in order."""
        return [c for c in self.calls_to("sendMessage", "sendPhoto") if c.chat_id == chat_id]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until `count` successful calls of `method` were recorded; fail after timeout."""

        def enough() -> bool:
            return len(self.calls_to(method)) >= count

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(enough), timeout)
            except TimeoutError:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s); saw {seen}") from None
        return self.calls_to(method)

    async def wait_until_polled(self, timeout: float = 10.0) -> None:
        """Wait until every queued update was fetched and acknowledged by the bot's next poll."""

        def done() -> bool:
            return self._confirmed >= len(self._updates) and bool(self.attempts("getUpdates"))

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(done), timeout)
            except TimeoutError:
                raise AssertionError("the bot did not fetch every queued update") from None

    # -- serving ---------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, files)
        self.calls.append(call)
        try:
            failure = self._next_failure(method)
            if failure is not None and failure.delay:
                await asyncio.sleep(failure.delay)
                failure = None
            if failure is not None:
                call.answered = failure.status
                if failure.drop:
                    _drop(request)
                    return web.Response(status=500)
                return _error(failure.status, failure.description, failure.retry_after)
            result = await self._answer(call)
            if isinstance(result, web.StreamResponse):
                call.answered = result.status
                return result
            return web.json_response({"ok": True, "result": result})
        finally:
            await self._notify()

    def _next_failure(self, method: str) -> Failure | None:
        for key in (method, "*"):
            if self._failures[key]:
                return self._failures[key].popleft()
        if self.outage is not None and method in _SENDING:
            return self.outage
        if self.rate_limit_per_second and method in _SENDING:
            now = self.clock()
            while self._sent_at and now - self._sent_at[0] >= 1.0:
                self._sent_at.popleft()
            if len(self._sent_at) >= self.rate_limit_per_second:
                wait = max(1, int(1.0 - (now - self._sent_at[0]) + 0.999))
                return Failure.rate_limited(wait)
            self._sent_at.append(now)
        return None

    async def _answer(self, call: Call) -> Any:
        custom = self._handlers.get(call.method)
        if custom is not None:
            result = custom(call)
            return await result if asyncio.iscoroutine(result) else result
        method, params = call.method, call.params
        if method == "getMe":
            return {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Trợ lý",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"):
            return self._message(params, method)
        if method in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            if "inline_message_id" in params:
                return True
            return self._message(params, method, message_id=params.get("message_id"))
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "deleteWebhook":
            self.webhook = {}
            return True
        if method == "getWebhookInfo":
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        if method == "setMyCommands":
            self.commands = params.get("commands", [])
            return True
        if method == "getMyCommands":
            return self.commands
        if method in (
            "answerCallbackQuery",
            "deleteMessage",
            "sendChatAction",
            "deleteMyCommands",
            "setChatMenuButton",
            "setMyDescription",
            "setMyShortDescription",
        ):
            return True
        return _error(404, "Not Found: method not found")

    def _message(
        self, params: dict[str, Any], method: str, message_id: int | None = None
    ) -> dict[str, Any]:
        chat_id = params.get("chat_id", 0)
        numeric = isinstance(chat_id, int)
        chat: dict[str, Any] = {"id": chat_id if numeric else -1, "type": "private"}
        if numeric and chat_id < 0:
            chat = {"id": chat_id, "type": "supergroup", "title": "Group"}
        message: dict[str, Any] = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "Trợ lý",
                "username": self.username,
            },
        }
        if method == "sendPhoto":
            message["photo"] = [
                {"file_id": "photo-1", "file_unique_id": "p1", "width": 800, "height": 800}
            ]
            if params.get("caption"):
                message["caption"] = params["caption"]
        elif "text" in params:
            message["text"] = params["text"]
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            self._confirmed = max(
                self._confirmed, sum(1 for u in self._updates if u["update_id"] < offset)
            )
            await self._notify()
        timeout = min(float(params.get("timeout") or 0), self.long_poll_cap)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset]

        if not pending() and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(pending())), timeout)
        limit = int(params.get("limit") or 100)
        return pending()[:limit]


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB posts form fields (multipart when uploading); other clients may post JSON."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        body = await request.json()
        return (body if isinstance(body, dict) else {}), files
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if part.filename is not None:
                files[part.name or ""] = await part.read()
            else:
                params[part.name or ""] = await part.text()
    else:
        params.update(await request.post())
    params.update(request.query)
    return {key: _decode(key, str(value)) for key, value in params.items()}, files


def _decode(key: str, value: str) -> Any:
    if key in _TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _drop(request: web.Request) -> None:
    """Close the TCP connection mid-request, as a flaky mobile or ISP link does."""
    transport = request.transport
    if transport is not None:
        transport.abort()


class Updates:
    """Builds Bot API update JSON with increasing update ids."""

    def __init__(self, first_update_id: int = 100_000):
        self._ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)

    def _envelope(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._ids), kind: body}

    @staticmethod
    def user(user_id: int, first_name: str = "Lan") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "vi"}

    def message_body(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        text: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
        }
        if text is not None:
            body["text"] = text
            if text.startswith("/"):
                command = text.split(" ", 1)[0]
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        body.update(extra)
        return body

    def private(self, chat_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        """A private-chat message; `extra` adds fields such as sticker={...} or caption=...."""
        chat = {"id": chat_id, "type": "private", "first_name": "Lan"}
        return self._envelope("message", self.message_body(chat, self.user(chat_id), text, **extra))

    def group(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        reply_to_message_id: int | None = None,
        chat_type: str = "supergroup",
        **extra: Any,
    ) -> dict[str, Any]:
        chat = {"id": chat_id, "type": chat_type, "title": "Nhóm"}
        body = self.message_body(chat, self.user(user_id, "Cán bộ"), text, **extra)
        if reply_to_message_id is not None:
            body["reply_to_message"] = {
                "message_id": reply_to_message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý"},
                "text": "...",
            }
        return self._envelope("message", body)

    def edited(self, chat_id: int, text: str) -> dict[str, Any]:
        update = self.private(chat_id, text)
        body = update.pop("message")
        body["edit_date"] = body["date"] + 5
        update["edited_message"] = body
        return update

    def channel_post(self, channel_id: int, text: str) -> dict[str, Any]:
        chat = {"id": channel_id, "type": "channel", "title": "Kênh"}
        body = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "text": text,
        }
        return self._envelope("channel_post", body)

    def press(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        *,
        keyboard: list[list[dict[str, Any]]] | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
    ) -> dict[str, Any]:
        """A tap on an inline button with `data` under the bot's message `message_id`."""
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý"},
            "text": "...",
        }
        if keyboard:
            message["reply_markup"] = {"inline_keyboard": keyboard}
        body = {
            "id": f"cb{next(self._message_ids)}",
            "from": self.user(user_id or chat_id),
            "chat_instance": "ci-1",
            "message": message,
            "data": data,
        }
        return self._envelope("callback_query", body)

    def blocked(self, chat_id: int) -> dict[str, Any]:
        """The person blocked the bot (my_chat_member: member -> kicked)."""
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý"}
        body = {
            "chat": {"id": chat_id, "type": "private", "first_name": "Lan"},
            "from": self.user(chat_id),
            "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": "member"},
            "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
        }
        return self._envelope("my_chat_member", body)


# Attachment payloads for Updates.private(chat_id, **STICKER) and friends.
STICKER = {
    "sticker": {
        "file_id": "s1",
        "file_unique_id": "s1",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
}
VOICE = {"voice": {"file_id": "v1", "file_unique_id": "v1", "duration": 3}}
PHOTO = {"photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]}
DOCUMENT = {"document": {"file_id": "d1", "file_unique_id": "d1", "file_name": "to-khai.pdf"}}
LOCATION = {"location": {"latitude": 10.38, "longitude": 105.43}}
VIDEO = {
    "video": {"file_id": "vd1", "file_unique_id": "vd1", "width": 1, "height": 1, "duration": 1}
}
