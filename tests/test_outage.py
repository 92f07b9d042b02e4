"""A database that goes away: messages are kept and answered once it is back, never lost and
never answered twice. A real PostgreSQL is made unavailable (connections refused and the open
ones terminated), as when it restarts or fails over."""

import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.engine import DatabaseUnavailable, Engine
from bot.library import Library
from bot.messages import Incoming
from storage.db import Database, upgrade
from storage.models import MessageEvent
from tests.conftest import PG_ADMIN_DSN
from tests.fake_telegram import FakeTelegram, Updates
from tests.test_telegram import SECRET, telegram_settings

CITIZEN = 7770001


class Outage:
    """Switches a PostgreSQL database off and on, for real."""

    def __init__(self, name: str):
        self.name = name

    async def _admin(self, *statements: str) -> None:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()

    async def begin(self) -> None:
        await self._admin(
            f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'",
        )

    async def end(self) -> None:
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@pytest.fixture
async def outage_database() -> AsyncIterator[tuple[Database, Outage]]:
    name = f"troly_outage_{os.getpid()}"
    outage = Outage(name)
    await outage._admin(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    url = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    database = Database(f"{url}/{name}")
    await asyncio.to_thread(upgrade, database.url)
    yield database, outage
    await outage.end()
    await database.close()
    await outage._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def logged_in(database: Database) -> int:
    async with database.session() as session:
        return (
            await session.execute(
                select(func.count()).select_from(MessageEvent).where(MessageEvent.direction == "in")
            )
        ).scalar_one()


async def test_a_telegram_update_during_an_outage_is_delivered_again_and_answered_once(
    aiohttp_client, outage_database, fixture_library: Library
) -> None:
    database, outage = outage_database
    async with FakeTelegram() as telegram:
        engine = Engine(fixture_library, database)
        client = await aiohttp_client(create_app(telegram_settings(database.url, telegram), engine))
        update = Updates().private(CITIZEN, "cai vneid the nao")
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

        await outage.begin()
        response = await client.post("/webhook/telegram", json=update, headers=headers)
        assert response.status == 503, "Telegram is asked to deliver it again"
        assert telegram.sent_to(CITIZEN) == [], "no apology that loses the question"

        await outage.end()
        response = await client.post("/webhook/telegram", json=update, headers=headers)
        assert response.status == 200
        (answer,) = telegram.sent_to(CITIZEN)
        assert "Bước 1/3" in answer.params["text"]
        assert await logged_in(database) == 1


async def test_the_web_chat_and_console_still_get_a_polite_answer_during_an_outage(
    outage_database, fixture_library: Library
) -> None:
    """Channels that cannot be delivered again are answered at once, kindly."""
    database, outage = outage_database
    engine = Engine(fixture_library, database)
    await outage.begin()
    (reply,) = await engine.handle(Incoming("web", "abc", text="menu"))
    assert "trục trặc" in reply.text
    with pytest.raises(DatabaseUnavailable):
        await engine.handle(Incoming("zalo", "123", text="menu"), keep_if_unavailable=True)
    await outage.end()
    replies = await engine.handle(Incoming("web", "abc", text="menu"))
    assert "🪪 VNeID" in [b.label for r in replies for b in r.buttons]


async def test_a_web_chat_message_during_an_outage_is_kept_and_answered_once(
    aiohttp_client, outage_database, fixture_library: Library
) -> None:
    from bot.settings import Settings

    database, outage = outage_database
    engine = Engine(fixture_library, database)
    client = await aiohttp_client(create_app(Settings(database_url=database.url), engine))
    message = {"session": "w-outage", "text": "cai vneid the nao", "id": "w-outage-1"}

    await outage.begin()
    response = await client.post("/api/chat", json=message)
    body = await response.json()
    assert response.status == 503 and body["retry"] is True
    assert "sẽ tự gửi lại" in body["replies"][0]["text"]

    await outage.end()
    for _ in range(2):  # the page's retry, and a second one whose answer was lost on the way
        response = await client.post("/api/chat", json=message)
        assert response.status == 200
        assert "Bước 1/3" in (await response.json())["replies"][0]["text"]
    assert await logged_in(database) == 1


async def test_the_web_page_sends_a_kept_message_again_and_shows_one_answer(
    aiohttp_server, outage_database, fixture_library: Library, browser
) -> None:
    """In Chromium at a phone's size: the database goes away while a citizen asks; the page says
    so kindly, tries again by itself, and shows the answer once the database is back."""
    from playwright.async_api import expect

    from bot.settings import Settings

    database, outage = outage_database
    engine = Engine(fixture_library, database)
    server = await aiohttp_server(create_app(Settings(database_url=database.url), engine))
    context = await browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    await page.goto(str(server.make_url("/")))
    await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")

    await outage.begin()
    await page.fill("#text", "cai vneid the nao")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("sẽ tự gửi lại")
    await outage.end()
    await expect(page.locator(".msg.bot").last).to_contain_text("Bước 1/3")
    assert await page.locator(".msg.bot", has_text="Bước 1/3").count() == 1
    assert await logged_in(database) == 2  # "/start" and the question, once each
    await context.close()
