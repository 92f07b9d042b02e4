"""A fake Zalo on loopback: the OA Open API, OAuth v4 and the Bot Platform API, in one server.

Point ZALO_API_URL, ZALO_OAUTH_URL and ZALO_BOT_API_URL at `fake.base_url`. It records every
call, issues single-use refresh tokens (a reused one is refused, as Zalo does), and answers
with any error code it is told to:

    async with FakeZalo() as zalo:
        set_env(zalo_refresh_token=zalo.issue_refresh_token(), ...)  # tests/channel_env.py
        zalo.fail("cs", -230)             # the next OA message gets error -230
        zalo.expire_access_tokens()       # every access token issued so far now gets -216
        zalo.messages_to("user-1")        # what a person received, in order

`OAEvents` builds signed OA webhook events; `bot_update` builds Bot Platform updates.
"""

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "4291763606161179100"
APP_SECRET = "FakeAppSecret0123456789"
OA_SECRET_KEY = "FakeOASecretKey987654321"
OA_ID = "579745863508352884"
BOT_TOKEN = "1459232241454765289:FakeBotTokenForTestsOnly"
ACCESS_TTL_SECONDS = 90000  # what Zalo gives: 25 hours
INVALID_REFRESH = -14014  # what Zalo answers for an unknown or spent refresh token


@dataclass
class Call:
    """One request: which API, the path or bot method, its headers and decoded body."""

    api: str  # "oa", "oauth" or "bot"
    name: str  # "cs", "upload", "access_token", or the bot method
    headers: dict[str, str]
    body: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.answer.get("error", 0) == 0 and self.answer.get("ok", True) is not False

    @property
    def message(self) -> dict[str, Any]:
        """The OA message object of a cs call."""
        return self.body.get("message", {})

    @property
    def text(self) -> str:
        return self.message.get("text") or self.body.get("text") or ""

    @property
    def buttons(self) -> list[dict[str, Any]]:
        attachment = self.message.get("attachment") or {}
        return (attachment.get("payload") or {}).get("buttons", [])


class FakeZalo:
    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        app_secret: str = APP_SECRET,
        bot_token: str = BOT_TOKEN,
        clock: Callable[[], float] = time.time,
        long_poll_cap: float = 0.5,
    ):
        self.app_id, self.app_secret, self.bot_token = app_id, app_secret, bot_token
        self.clock = clock
        self.long_poll_cap = long_poll_cap  # getUpdates waits at most this long
        self.calls: list[Call] = []
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: dict[str, bool] = {}  # token -> spent
        self.codes: dict[str, str] = {}  # authorisation code -> PKCE challenge
        self.webhook: dict[str, Any] = {}
        # An OA down for a while: every message answered with this HTTP status, or delivered but
        # answered only after `slow_sends` seconds.
        self.failing_sends = 0
        self.slow_sends = 0.0
        # Keep the race window of a refresh open: each refresh request waits this long for a
        # second one to arrive before it is answered (0: answer at once).
        self.hold_refreshes_for = 0.0
        self._refresh_arrivals = 0
        self._failures: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._serial = itertools.count(1)
        self._updates: deque[dict[str, Any]] = deque()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> "FakeZalo":
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._cs)
        app.router.add_post("/v2.0/oa/upload/image", self._upload)
        app.router.add_post("/v4/oa/access_token", self._access_token)
        app.router.add_post("/bot{token}/{method}", self._bot)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- scripting ------------------------------------------------------------------------

    def issue_refresh_token(self) -> str:
        token = f"rt-{next(self._serial)}"
        self.refresh_tokens[token] = False
        return token

    def issue_code(self, code_challenge: str) -> str:
        """What Zalo puts in the redirect after an administrator grants the permissions."""
        code = f"code-{next(self._serial)}"
        self.codes[code] = code_challenge
        return code

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = 0

    def fail(self, name: str, error: int, times: int = 1, description: str = "") -> None:
        """The next `times` calls to `name` ("cs", "upload" or a bot method) get `error`."""
        for _ in range(times):
            self._failures[name].append({"error": error, "description": description})

    async def push_update(self, update: dict[str, Any]) -> None:
        """Queue a Bot Platform update for getUpdates."""
        self._updates.append(update)
        async with self._changed:
            self._changed.notify_all()

    # -- reading --------------------------------------------------------------------------

    def calls_to(self, api: str, name: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.api == api and (name is None or c.name == name)]

    @property
    def refreshes(self) -> list[Call]:
        return [c for c in self.calls_to("oauth") if c.body.get("grant_type") == "refresh_token"]

    def messages_to(self, user_id: str) -> list[Call]:
        """OA messages delivered to a person (refused calls left out)."""
        return [
            c
            for c in self.calls_to("oa", "cs")
            if c.ok and c.body.get("recipient", {}).get("user_id") == user_id
        ]

    def bot_messages_to(self, chat_id: str) -> list[Call]:
        return [
            c
            for c in self.calls_to("bot")
            if c.ok and c.name in ("sendMessage", "sendPhoto") and c.body.get("chat_id") == chat_id
        ]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _record(self, call: Call) -> Call:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return call

    def _scripted(self, name: str) -> dict[str, Any] | None:
        queue = self._failures.get(name)
        return queue.popleft() if queue else None

    # -- OA Open API ----------------------------------------------------------------------

    def _token_error(self, request: web.Request) -> dict[str, Any] | None:
        token = request.headers.get("access_token", "")
        expiry = self.access_tokens.get(token)
        if expiry is None:
            return {"error": -216, "message": "Access token is invalid"}
        if expiry <= self.clock():
            return {"error": -216, "message": "Access token has expired"}
        return None

    async def _cs(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("oa", "cs", dict(request.headers), body)
        if self.failing_sends:
            call.answer = {"error": -1, "message": "Internal Server Error"}
            await self._record(call)
            return web.json_response(call.answer, status=self.failing_sends)
        scripted = self._scripted("cs")
        if scripted:
            call.answer = {"error": scripted["error"], "message": scripted["description"] or "x"}
        else:
            call.answer = self._token_error(request) or {
                "error": 0,
                "message": "Success",
                "data": {
                    "message_id": f"m{next(self._serial)}",
                    "user_id": body.get("recipient", {}).get("user_id"),
                },
            }
        await self._record(call)
        if self.slow_sends and call.ok:
            await asyncio.sleep(self.slow_sends)  # delivered; the answer comes too late
        return web.json_response(call.answer)  # Zalo answers errors with HTTP 200 too

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        size = len(upload.file.read()) if hasattr(upload, "file") else 0
        call = Call("oa", "upload", dict(request.headers), {"size": size})
        scripted = self._scripted("upload")
        call.answer = (
            {"error": scripted["error"], "message": "x"}
            if scripted
            else self._token_error(request)
            or {"error": 0, "data": {"attachment_id": f"att-{next(self._serial)}"}}
        )
        await self._record(call)
        return web.json_response(call.answer)

    # -- OAuth v4 -------------------------------------------------------------------------

    def _new_pair(self) -> dict[str, Any]:
        access = f"at-{next(self._serial)}"
        self.access_tokens[access] = self.clock() + ACCESS_TTL_SECONDS
        return {
            "access_token": access,
            "refresh_token": self.issue_refresh_token(),
            "expires_in": str(ACCESS_TTL_SECONDS),
        }

    async def _access_token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        if form.get("grant_type") == "refresh_token" and self.hold_refreshes_for:
            self._refresh_arrivals += 1
            async with self._changed:
                self._changed.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.wait_for(lambda: self._refresh_arrivals >= 2), self.hold_refreshes_for
                )
        call = Call("oauth", "access_token", dict(request.headers), form)
        call.answer = self._oauth(request, form)
        await self._record(call)
        return web.json_response(call.answer)

    def _oauth(self, request: web.Request, form: dict[str, Any]) -> dict[str, Any]:
        if (
            request.headers.get("secret_key") != self.app_secret
            or form.get("app_id") != self.app_id
        ):
            return {"error": -14002, "error_name": "Invalid app", "error_description": "bad app"}
        if form.get("grant_type") == "refresh_token":
            token = str(form.get("refresh_token"))
            if self.refresh_tokens.get(token) is not False:
                return {
                    "error": INVALID_REFRESH,
                    "error_name": "Invalid refresh token",
                    "error_description": "refresh token is invalid or already used",
                }
            self.refresh_tokens[token] = True  # single use
            return self._new_pair()
        if form.get("grant_type") == "authorization_code":
            challenge = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", "")).encode()
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if challenge is None or challenge.encode() != expected:
                return {"error": -14019, "error_name": "Invalid code", "error_description": "x"}
            return self._new_pair()
        return {"error": -14001, "error_name": "Invalid grant type", "error_description": "x"}

    # -- Bot Platform ---------------------------------------------------------------------

    async def _bot(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        call = Call("bot", method, dict(request.headers), body)
        if request.match_info["token"] != self.bot_token:
            call.answer = {"ok": False, "error_code": 401, "description": "Unauthorized"}
        elif scripted := self._scripted(method):
            call.answer = {
                "ok": False,
                "error_code": scripted["error"],
                "description": scripted["description"] or "scripted failure",
            }
        else:
            call.answer = await self._bot_method(method, body)
        await self._record(call)
        return web.json_response(call.answer)

    async def _bot_method(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        now_ms = int(self.clock() * 1000)
        if method == "getMe":
            result: Any = {"id": self.bot_token.split(":")[0], "account_name": "bot.troly"}
        elif method == "setWebhook":
            self.webhook = {"url": body.get("url"), "secret_token": body.get("secret_token")}
            result = {"url": body.get("url"), "updated_at": now_ms}
        elif method == "deleteWebhook":
            self.webhook = {}
            result = {"url": "", "updated_at": now_ms}
        elif method == "getUpdates":
            if not self._updates:
                try:
                    await asyncio.wait_for(
                        self.wait_for(lambda: bool(self._updates)), self.long_poll_cap
                    )
                except TimeoutError:
                    return {"ok": False, "error_code": 408, "description": "Request timeout"}
            update = self._updates.popleft()
            result = update.get("result", update)
        elif method in ("sendMessage", "sendPhoto"):
            text = body.get("text") or body.get("caption") or ""
            if method == "sendMessage" and not 1 <= len(text) <= 2000:
                return {"ok": False, "error_code": 400, "description": "text must be 1-2000"}
            result = {"message_id": f"b{next(self._serial)}", "date": now_ms}
        elif method == "sendChatAction":
            result = None
        else:
            return {"ok": False, "error_code": 404, "description": "Not Found"}
        return {"ok": True, "result": result}


class OAEvents:
    """Signed OA webhook events, as Zalo posts them to /webhook/zalo."""

    def __init__(
        self,
        app_id: str = APP_ID,
        oa_secret_key: str = OA_SECRET_KEY,
        oa_id: str = OA_ID,
        clock: Callable[[], float] = time.time,
    ):
        self.app_id, self.oa_secret_key, self.oa_id, self.clock = (
            app_id,
            oa_secret_key,
            oa_id,
            clock,
        )
        self._ids = itertools.count(1)

    def _base(self, name: str, at: float | None) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": name,
            "timestamp": str(int((self.clock() if at is None else at) * 1000)),
            "user_id_by_app": "app-scoped-id",
        }

    def signed(self, event: dict[str, Any], secret: str | None = None) -> tuple[bytes, dict]:
        body = json.dumps(event, ensure_ascii=False).encode()
        key = self.oa_secret_key if secret is None else secret
        digest = hashlib.sha256(
            self.app_id.encode() + body + event["timestamp"].encode() + key.encode()
        ).hexdigest()
        return body, {"X-ZEvent-Signature": f"mac={digest}", "Content-Type": "application/json"}

    def message(
        self,
        user: str,
        name: str,
        msg_id: str | None = None,
        at: float | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        return {
            **self._base(name, at),
            "sender": {"id": user},
            "recipient": {"id": self.oa_id},
            "message": {"msg_id": msg_id or f"msg-{next(self._ids)}", **fields},
        }

    def text(self, user: str, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.message(user, "user_send_text", text=text, **kwargs)

    def attachment(self, user: str, kind: str, **kwargs: Any) -> dict[str, Any]:
        """kind: image, sticker, audio, video, file, location, link, gif."""
        attachment = {"type": kind, "payload": {"url": f"https://zalo.example/{kind}"}}
        return self.message(user, f"user_send_{kind}", attachments=[attachment], **kwargs)

    def follow(self, user: str, name: str = "follow") -> dict[str, Any]:
        return {**self._base(name, None), "oa_id": self.oa_id, "follower": {"id": user}}

    def unfollow(self, user: str) -> dict[str, Any]:
        return self.follow(user, "unfollow")

    def seen(self, user: str, msg_ids: list[str], at: float | None = None) -> dict[str, Any]:
        """`user_seen_message`: the OA is the sender, the person who read is the recipient."""
        return {
            **self._base("user_seen_message", at),
            "sender": {"id": self.oa_id},
            "recipient": {"id": user},
            "message": {"msg_ids": msg_ids},
        }


def bot_update(
    chat_id: str,
    text: str | None = None,
    event_name: str = "message.text.received",
    message_id: str | None = None,
) -> dict[str, Any]:
    """A Bot Platform update as the webhook delivers it."""
    message: dict[str, Any] = {
        "from": {"id": chat_id, "display_name": "Công dân", "is_bot": False},
        "chat": {"id": chat_id, "chat_type": "PRIVATE"},
        "message_id": message_id or f"bm-{next(_bot_ids)}",
        "date": int(time.time() * 1000),
    }
    if text is not None:
        message["text"] = text
    return {"ok": True, "result": {"event_name": event_name, "message": message}}


_bot_ids = itertools.count(1)
