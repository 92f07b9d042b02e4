"""Helpers of the console tests: accounts straight into the database, a logged-in client, and
the console of a centre on the fake Telegram."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.console.security import hash_password
from bot.engine import Engine
from storage.accounts import create_account
from storage.db import Database
from tests.fake_telegram import FakeTelegram

PASSWORD = "mat-khau-dai-1"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_account(
    database: Database, login: str, role: str = "staff", name: str | None = None,
    password: str = PASSWORD,
) -> int:  # fmt: skip
    async with database.session() as session, session.begin():
        account = await create_account(
            session, name=name or login.title(), login=login, role=role,
            password_hash=hash_password(password), now=datetime.now(UTC),
        )  # fmt: skip
        return account.id or 0


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def login(client: TestClient, username: str, password: str = PASSWORD):
    """POST the login form as a browser would; returns the response (not followed)."""
    page = await client.get("/staff/login")
    token = csrf_in(await page.text())
    return await client.post(
        "/staff/login",
        data={"csrf": token, "username": username, "password": password, "next": "/staff/"},
        allow_redirects=False,
    )


async def page_csrf(client: TestClient, path: str = "/staff/") -> str:
    response = await client.get(path)
    assert response.status == 200, path
    return csrf_in(await response.text())


SECRET = "console-secret"


def telegram_settings(database_url: str, telegram, **extra: object):
    from bot.settings import Settings
    from tests.channel_env import telegram_env

    telegram_env(telegram, SECRET)
    return Settings(database_url=database_url, **extra)


class TelegramCitizen:
    """A person writing to the bot on the fake Telegram, through the app's webhook."""

    def __init__(
        self, client: TestClient, telegram, chat_id: int = 5550777, first_name: str = "Lan",
        last_name: str | None = None,
    ):  # fmt: skip
        from tests.fake_telegram import Updates

        self.client, self.telegram, self.chat_id = client, telegram, chat_id
        self.first_name, self.last_name = first_name, last_name  # their Telegram account's
        self.updates = Updates()

    async def say(self, text: str) -> list[str]:
        before = len(self.telegram.sent_to(self.chat_id))
        update = self.updates.private(self.chat_id, text)
        sender = update["message"]["from"]
        sender["first_name"] = self.first_name
        if self.last_name:
            sender["last_name"] = self.last_name
        response = await self.client.post(
            "/webhook/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert response.status == 200
        return [c.params.get("text", "") for c in self.telegram.sent_to(self.chat_id)[before:]]

    def received(self) -> list[str]:
        return [c.params.get("text", "") for c in self.telegram.sent_to(self.chat_id)]


async def read_event(response, timeout: float = 5.0) -> tuple[str, str]:
    """The next server-sent event (name, data), skipping comments and retry lines; EOFError
    when the stream ends, TimeoutError when it stays silent for `timeout` seconds."""
    import asyncio

    name, data = "message", ""
    while True:
        raw = await asyncio.wait_for(response.content.readline(), timeout)
        if not raw:
            raise EOFError("the stream ended")
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            return name, data


# One centre's console on the fake Telegram, without a staff group (it answers from the browser
# only), logged in as an admin. Test modules take them with `telegram, client = ...`.
@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def client(aiohttp_client: Any, engine: Engine, telegram: FakeTelegram) -> TestClient:
    app = create_app(telegram_settings(engine.database.url, telegram), engine)
    client = await aiohttp_client(app)
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    return client
