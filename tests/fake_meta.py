"""A fake Meta Graph API on loopback: the Send API, the Messenger Profile API and /me.

    async with FakeMeta() as meta:
        ...MESSENGER_API_URL=meta.base_url...
        meta.fail(551, times=1)              # the next send answers "person not available"
        meta.messages_to("PSID")             # what that person received

`MessengerEvents` builds webhook bodies signed the way Meta signs them (X-Hub-Signature-256).
"""

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PAGE_TOKEN = "EAAPageTokenForTestsOnly"
APP_SECRET = "meta-app-secret-for-tests"
PAGE_ID = "1122334455"
RATE_LIMITED, TOKEN_INVALID, NOT_AVAILABLE, OUTSIDE_WINDOW = 613, 190, 551, 10


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def recipient(self) -> str:
        return str((self.body.get("recipient") or {}).get("id", ""))

    @property
    def message(self) -> dict[str, Any]:
        return self.body.get("message") or {}

    @property
    def text(self) -> str:
        return self.message.get("text", "")

    @property
    def quick_replies(self) -> list[dict[str, Any]]:
        return self.message.get("quick_replies", [])

    @property
    def ok(self) -> bool:
        return "error" not in self.answer


class FakeMeta:
    def __init__(self, page_token: str = PAGE_TOKEN):
        self.page_token = page_token
        self.calls: list[Call] = []
        self.profile: dict[str, Any] = {}
        # The User Profile API: a PSID's first and last name, and each lookup (its PSID).
        self.people: dict[str, dict[str, str]] = {}
        self.lookups: list[str] = []
        self.delay = 0.0  # seconds every Send API answer waits (a platform that times out)
        # A platform down for a while: every message (not typing) answered with this HTTP status,
        # or delivered but answered only after `slow_sends` seconds.
        self.failing_sends = 0
        self.slow_sends = 0.0
        self._failures: deque[tuple[int, int | None, int]] = deque()
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> "FakeMeta":
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/me/messages", self._messages)
        app.router.add_post("/me/messenger_profile", self._profile)
        app.router.add_get("/me", self._me)
        app.router.add_get("/{psid}", self._person)  # after /me: routes match in this order
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    # -- scripting and reading ----------------------------------------------------------

    def fail(self, code: int, subcode: int | None = None, times: int = 1) -> None:
        self._failures.append((code, subcode, times))

    def sends(self) -> list[Call]:
        """Send API calls that carried a message (not typing indicators)."""
        return [c for c in self.calls if c.path == "/me/messages" and "sender_action" not in c.body]

    def messages_to(self, psid: str) -> list[Call]:
        return [c for c in self.sends() if c.recipient == psid and c.ok]

    def actions_to(self, psid: str) -> list[str]:
        return [
            c.body["sender_action"]
            for c in self.calls
            if c.recipient == psid and "sender_action" in c.body
        ]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), timeout)

    # -- the API ---------------------------------------------------------------------

    def _error(self, code: int, subcode: int | None, message: str) -> web.Response:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        return web.json_response({"error": error}, status=400)

    def _token_error(self, request: web.Request) -> web.Response | None:
        if request.query.get("access_token") != self.page_token:
            return self._error(TOKEN_INVALID, None, "Invalid OAuth access token.")
        return None

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    async def _messages(self, request: web.Request) -> web.Response:
        body: dict[str, Any]
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            body = {}
            async for part in await request.multipart():
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    files[part.name or ""] = bytes(data)
                else:
                    body[part.name or ""] = json.loads(data)
        else:
            body = await request.json()
        call = Call(request.path, dict(request.query), body, files)
        if "sender_action" not in body and (self.failing_sends or self.slow_sends):
            return await self._outage(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        refused = self._token_error(request)
        if refused is None and self._failures and "sender_action" not in body:
            code, subcode, times = self._failures.popleft()
            if times > 1:
                self._failures.appendleft((code, subcode, times - 1))
            refused = self._error(code, subcode, "scripted failure")
        if refused is not None:
            call.answer = json.loads(refused.text or "{}")
            await self._record(call)
            return refused
        call.answer = {"recipient_id": call.recipient, "message_id": f"m_{next(self._ids)}"}
        await self._record(call)
        return web.json_response(call.answer)

    async def _outage(self, call: Call) -> web.Response:
        if self.failing_sends:
            call.answer = {"error": {"message": "Internal Server Error", "code": 1}}
            await self._record(call)
            return web.json_response(call.answer, status=self.failing_sends)
        call.answer = {"recipient_id": call.recipient, "message_id": f"m_{next(self._ids)}"}
        await self._record(call)  # delivered now; the answer comes too late
        await asyncio.sleep(self.slow_sends)
        return web.json_response(call.answer)

    async def _profile(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        body = await request.json()
        await self._record(Call(request.path, dict(request.query), body))
        if refused is not None:
            return refused
        self.profile.update(body)
        return web.json_response({"result": "success"})

    async def _me(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        return web.json_response({"id": PAGE_ID, "name": "Trung tâm PVHCC xã Hòa An"})

    async def _person(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        psid = request.match_info["psid"]
        self.lookups.append(psid)
        if psid not in self.people:
            # What Meta answers for a person who does not allow it (or a page without the right).
            return self._error(100, 2018218, "Unsupported get request.")
        fields = request.query.get("fields", "").split(",")
        person = self.people[psid]
        return web.json_response({"id": psid, **{k: v for k, v in person.items() if k in fields}})


class MessengerEvents:
    """Webhook bodies as Meta sends them, and their signature."""

    def __init__(self, secret: str = APP_SECRET):
        self.secret = secret
        self._mids = itertools.count(1)

    def signed(self, body: dict[str, Any], secret: str | None = None) -> tuple[bytes, dict]:
        raw = json.dumps(body, ensure_ascii=False).encode()
        digest = hmac.new((secret or self.secret).encode(), raw, hashlib.sha256).hexdigest()
        return raw, {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}

    def signed_raw(self, raw: bytes) -> str:
        """The X-Hub-Signature-256 value for bytes that are not (valid) JSON."""
        return "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()

    def page(self, *messaging: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {
            "object": "page",
            "entry": [{"id": PAGE_ID, "time": now, "messaging": list(messaging)}],
        }

    def _base(self, psid: str) -> dict[str, Any]:
        return {
            "sender": {"id": psid},
            "recipient": {"id": PAGE_ID},
            "timestamp": int(time.time() * 1000),
        }

    def text(self, psid: str, text: str, mid: str | None = None) -> dict[str, Any]:
        return {
            **self._base(psid),
            "message": {"mid": mid or f"m.{next(self._mids)}", "text": text},
        }

    def quick_reply(self, psid: str, title: str, payload: str) -> dict[str, Any]:
        message = {
            "mid": f"m.{next(self._mids)}",
            "text": title,
            "quick_reply": {"payload": payload},
        }
        return {**self._base(psid), "message": message}

    def attachment(self, psid: str, kind: str, sticker: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {"url": "https://scontent.example/x"}
        if sticker:
            payload["sticker_id"] = 369239263222822
        message = {
            "mid": f"m.{next(self._mids)}",
            "attachments": [{"type": kind, "payload": payload}],
        }
        return {**self._base(psid), "message": message}

    def postback(self, psid: str, payload: str, ref: str | None = None) -> dict[str, Any]:
        postback: dict[str, Any] = {
            "title": "Bắt đầu",
            "payload": payload,
            "mid": f"m.{next(self._mids)}",
        }
        if ref:
            postback["referral"] = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
        return {**self._base(psid), "postback": postback}

    def referral(self, psid: str, ref: str) -> dict[str, Any]:
        return {
            **self._base(psid),
            "referral": {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"},
        }

    def read(self, psid: str, watermark_ms: int) -> dict[str, Any]:
        """`message_reads`: everything the page sent this person before the watermark was read."""
        return {**self._base(psid), "read": {"watermark": watermark_ms}}

    def echo(self, psid: str) -> dict[str, Any]:
        return {
            **self._base(psid),
            "message": {"mid": f"m.{next(self._mids)}", "is_echo": True, "text": "x"},
        }
