"""Polling through a database outage: an update fetched while PostgreSQL is away is not
confirmed (Telegram) or is held until it is stored (Zalo Bot), and is answered exactly once
when the database is back. A real PostgreSQL is made unavailable, as in test_outage."""

import asyncio

from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.channels.retry import RetryPolicy
from bot.channels.telegram import CHANNEL, enable_polling
from bot.engine import Engine
from bot.library import Library
from tests.fake_telegram import FakeTelegram, Updates
from tests.fake_zalo import FakeZalo, bot_update
from tests.test_outage import logged_in, outage_database  # noqa: F401  (a fixture)
from tests.test_telegram import telegram_settings
from tests.test_zalo_bot import bot_settings, zalo  # noqa: F401  (a fixture: the fake platform)

CITIZEN = 7770002
ZALO_CHAT = "a1b2c3d4e5f6a7b8c9d0"
QUICK = RetryPolicy(first_delay=0.2, max_delay=0.5)


async def test_a_polled_telegram_update_waits_at_its_offset_and_is_answered_once(
    outage_database,  # noqa: F811  (the fixture imported above)
    fixture_library: Library,
) -> None:
    database, outage = outage_database
    async with FakeTelegram() as telegram:
        app = create_app(
            telegram_settings(database.url, telegram), Engine(fixture_library, database)
        )
        enable_polling(app)
        app[CHANNEL].poll_retry = QUICK
        updates = Updates()
        async with TestServer(app):
            await outage.begin()
            question = updates.private(CITIZEN, "cai vneid the nao")
            telegram.push_update(question)
            telegram.push_update(updates.private(CITIZEN, "menu"))
            polls = len(telegram.attempts("getUpdates"))
            while len(telegram.attempts("getUpdates")) < polls + 3:  # fetched again and again
                await asyncio.sleep(0.1)
            offsets = [c.params.get("offset") or 0 for c in telegram.attempts("getUpdates")]
            assert max(offsets) <= question["update_id"], "never confirmed past the question"
            assert telegram.sent_to(CITIZEN) == [], "no apology that loses the question"

            await outage.end()
            await telegram.wait_for("sendMessage", count=2, timeout=20)
            await telegram.wait_until_polled()
        first, second = telegram.sent_to(CITIZEN)
    assert "Bước 1/3" in first.params["text"], "answered in the order they were written"
    assert "Bước 1/3" not in second.params["text"]
    assert await logged_in(database) == 2


async def test_a_polled_zalo_bot_update_is_held_until_stored_and_answered_once(
    outage_database,  # noqa: F811  (the fixture imported above)
    fixture_library: Library,
    zalo: FakeZalo,  # noqa: F811
) -> None:
    from bot.channels.zalo_bot import ZALO_BOT
    from bot.channels.zalo_bot import enable_polling as enable_zalo_polling

    database, outage = outage_database
    app = create_app(bot_settings(database.url), Engine(fixture_library, database))
    enable_zalo_polling(app)
    app[ZALO_BOT].poll_retry = QUICK
    async with TestServer(app):
        await outage.begin()
        await zalo.push_update(bot_update(ZALO_CHAT, "cai vneid the nao", message_id="z-1"))
        while len(zalo.calls_to("bot", "getUpdates")) < 1:  # handed out, now only ours
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # several tries to store it fail meanwhile
        assert zalo.bot_messages_to(ZALO_CHAT) == []

        await outage.end()
        await asyncio.wait_for(zalo.wait_for(lambda: bool(zalo.bot_messages_to(ZALO_CHAT))), 20)
        await app[ZALO_BOT].inbox.drain()
        await asyncio.sleep(0.5)  # a second answer would have come by now
    (answer,) = zalo.bot_messages_to(ZALO_CHAT)
    assert "Bước 1/" in answer.body["text"]
    assert await logged_in(database) == 1
