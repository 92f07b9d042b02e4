"""A database that goes away: messages are kept and answered once it is back, never lost and
never answered twice. A real PostgreSQL is made unavailable (connections refused and the open
ones terminated), as when it restarts or fails over."""

import asyncio
import os
from collections import Counter
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


async def logged_in_per_chat(database: Database) -> Counter[str]:
    """How many messages of each person the log holds (the fault tests count them)."""
    async with database.session() as session:
        chats = await session.execute(
            select(MessageEvent.chat_id).where(MessageEvent.direction == "in")
        )
        return Counter(chats.scalars())


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


async def test_ten_seconds_without_the_database_under_load_lose_nothing_and_answer_once(
    aiohttp_client, outage_database, fixture_library: Library
) -> None:
    """50 citizens a second on Telegram, Zalo OA and the web chat; PostgreSQL goes away for
    10 s (connections terminated, new ones refused). Every platform does what it does: Telegram
    and the page send again after a non-2xx answer, and so does our stand-in for Zalo. Then:
    one answer per message on every platform, one log row per message."""
    from datetime import timedelta

    from bot.channels.zalo_oa import ZALO_OA
    from bot.settings import Settings
    from tests.channel_env import set_env, telegram_env
    from tests.fake_zalo import APP_ID, APP_SECRET, OA_SECRET_KEY, FakeZalo, OAEvents
    from tests.test_zalo_oa import store_expired_pair

    database, outage = outage_database
    rate, seconds, outage_from, outage_for = 50, 12.0, 1.0, 10.0
    async with FakeTelegram() as telegram, FakeZalo() as zalo:
        await store_expired_pair(database, zalo)
        telegram_env(telegram, SECRET)
        set_env(
            zalo_app_id=APP_ID, zalo_app_secret=APP_SECRET, zalo_oa_secret_key=OA_SECRET_KEY,
            zalo_api_url=zalo.base_url, zalo_oauth_url=zalo.base_url,
        )  # fmt: skip
        settings = Settings(
            database_url=database.url, web_chat_per_minute=1e6, web_chat_burst=10**6,
            address_per_minute=1e6, address_burst=10**6,
        )  # fmt: skip
        app = create_app(settings, Engine(fixture_library, database))
        # The production lease (5 minutes, 3 attempts) scaled down to the test's seconds.
        app[ZALO_OA].inbox.settings.lease = timedelta(seconds=1)
        app[ZALO_OA].inbox.settings.max_attempts = 100
        client = await aiohttp_client(app)
        events, web_answers, refused = OAEvents(), Counter(), Counter()

        async def until_taken(post) -> None:
            while (status := await post()) != 200:
                assert status == 503, status
                refused[status] += 1
                await asyncio.sleep(0.5)

        async def citizen(n: int) -> None:
            kind = ("telegram", "zalo", "web")[n % 3]
            if kind == "telegram":
                update = Updates(first_update_id=10_000 + n).private(800_000 + n, "menu")
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                await until_taken(lambda: _status(client.post("/webhook/telegram", json=update,
                                                              headers=headers)))  # fmt: skip
            elif kind == "zalo":
                body, headers = events.signed(events.text(f"zalo-{n}", "menu"))
                await until_taken(lambda: _status(client.post("/webhook/zalo", data=body,
                                                              headers=headers)))  # fmt: skip
            else:
                message = {"session": f"web-{n}", "text": "menu", "id": f"m-{n}"}

                async def post() -> int:
                    response = await client.post("/api/chat", json=message)
                    if response.status == 200:
                        web_answers[n] += 1
                    return response.status

                await until_taken(post)

        async def switch() -> None:
            await asyncio.sleep(outage_from)
            await outage.begin()
            await asyncio.sleep(outage_for)
            await outage.end()

        total = int(rate * seconds)
        switching = asyncio.create_task(switch())
        tasks = []
        for n in range(total):
            tasks.append(asyncio.create_task(citizen(n)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks, switching)
        await app[ZALO_OA].inbox.drain()
        for _ in range(100):  # events kept during the outage come back with the sweep
            if len({c for c in range(total) if c % 3 == 1 and zalo.messages_to(f"zalo-{c}")}) \
                    == len(range(1, total, 3)):  # fmt: skip
                break
            await asyncio.sleep(0.2)

        telegram_counts = Counter(str(c.chat_id) for c in telegram.calls_to("sendMessage"))
        for n in range(total):
            if n % 3 == 0:
                assert telegram_counts[str(800_000 + n)] == 1, n
            elif n % 3 == 1:
                assert len(zalo.messages_to(f"zalo-{n}")) == 1, n
            else:
                assert web_answers[n] == 1, n
    per_chat = await logged_in_per_chat(database)
    assert len(per_chat) == total and set(per_chat.values()) == {1}
    assert refused[503] > 100, "the outage was felt: platforms were asked to deliver again"


async def _status(request) -> int:
    async with request as response:
        return response.status
