"""The Zalo Bot Platform channel end to end: updates into the running app, a fake API out."""

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from bot.app import SENDERS, create_app
from bot.channels.zalo_bot import (
    SECRET_HEADER,
    ZALO_BOT,
    enable_polling,
    make_sender,
    render,
    set_webhook,
    webhook_secret,
)
from bot.channels.zalo_bot.settings import ZaloBotSettings, zalo_bot_settings
from bot.delivery import Unreachable
from bot.engine import Engine
from bot.library import Library
from bot.messages import Button, Reply
from bot.settings import Settings
from storage.conversations import get_contact
from storage.db import Database
from tests.fake_zalo import BOT_TOKEN, FakeZalo, bot_update

CHAT = "e4ea2cd5189df1c3a88c"
SECRET = "bot-secret-for-tests"


def use_fake_bot_platform(monkeypatch: pytest.MonkeyPatch, zalo: FakeZalo) -> None:
    """ZALO_BOT_* pointing at the fake; the caller clears zalo_bot_settings afterwards."""
    for name, value in {
        "ZALO_BOT_TOKEN": BOT_TOKEN, "ZALO_BOT_API_URL": zalo.base_url, "ZALO_BOT_SECRET": SECRET,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    zalo_bot_settings.cache_clear()  # read again with this test's bot


def bot_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
async def zalo(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        use_fake_bot_platform(monkeypatch, fake)
        yield fake
    zalo_bot_settings.cache_clear()


@pytest.fixture
def bot_engine(sqlite_database: Database, full_library: Library) -> Engine:
    return Engine(full_library, sqlite_database)


@pytest.fixture
async def client(aiohttp_client, bot_engine: Engine, zalo: FakeZalo) -> TestClient:
    return await aiohttp_client(create_app(bot_settings(bot_engine.database.url), bot_engine))


class Person:
    def __init__(self, client: TestClient, zalo: FakeZalo, chat: str = CHAT):
        self.client, self.zalo, self.chat = client, zalo, chat

    async def post(self, update: dict, secret: str = SECRET) -> tuple[int, str]:
        response = await self.client.post(
            "/webhook/zalo_bot", json=update, headers={SECRET_HEADER: secret}
        )
        return response.status, await response.text()

    async def send(self, update: dict) -> str:
        before = len(self.zalo.bot_messages_to(self.chat))
        status, answer = await self.post(update)
        assert status == 200, answer
        await self.client.app[ZALO_BOT].inbox.drain()
        return "\n".join(c.body["text"] for c in self.zalo.bot_messages_to(self.chat)[before:])

    async def say(self, text: str) -> str:
        return await self.send(bot_update(self.chat, text))


@pytest.fixture
def person(client: TestClient, zalo: FakeZalo) -> Person:
    return Person(client, zalo)


async def test_a_guide_walked_by_typing_the_numbers_of_the_choices(person: Person) -> None:
    sent = await person.say("/start")
    assert "Xin chào! Tôi là Trợ lý" in sent
    assert "  3. 🪪 VNeID" in sent
    sent = await person.say("#11")
    assert "Bước 1/5: Mở kho ứng dụng" in sent
    assert "  1. Tiếp ▶" in sent
    for step in range(2, 6):
        sent = await person.say("1")
        assert f"Bước {step}/5" in sent
    assert "✅ Bạn đã xem hết hướng dẫn này." in sent
    # The rating question's buttons continue the numbering of the related guides above it.
    assert "  6. 👍 Có" in sent


async def test_search_and_typing_indicator(person: Person, zalo: FakeZalo) -> None:
    sent = await person.say("cai vneid the nao")
    assert "VNeID" in sent
    assert [c.body for c in zalo.calls_to("bot", "sendChatAction")] == [
        {"chat_id": CHAT, "action": "typing"}
    ]


async def test_unsupported_content_from_protected_accounts_gets_a_kind_answer(
    person: Person,
) -> None:
    sent = await person.send(bot_update(CHAT, event_name="message.unsupported.received"))
    assert "chỉ đọc được tin nhắn chữ" in sent
    assert "0296 3 800 123" in sent


async def test_sticker_gets_a_polite_answer(person: Person) -> None:
    sent = await person.send(bot_update(CHAT, event_name="message.sticker.received"))
    assert "Cảm ơn bạn" in sent


async def test_wrong_secret_is_refused(person: Person, zalo: FakeZalo) -> None:
    status, _ = await person.post(bot_update(CHAT, "menu"), secret="guess")
    assert status == 403
    assert zalo.calls == []


async def test_redelivered_message_is_answered_once(person: Person, zalo: FakeZalo) -> None:
    update = bot_update(CHAT, "#11", message_id="same-id")
    assert await person.send(update)
    assert await person.post(update) == (200, "duplicate")
    await person.client.app[ZALO_BOT].inbox.drain()
    assert len(zalo.bot_messages_to(CHAT)) == 1


async def test_unknown_events_are_acknowledged(person: Person, zalo: FakeZalo) -> None:
    assert await person.send(bot_update(CHAT, event_name="message.reaction.received")) == ""
    assert zalo.calls_to("bot", "sendMessage") == []


async def test_polling_fetches_updates_and_drops_repeats(
    aiohttp_client, bot_engine: Engine, zalo: FakeZalo
) -> None:
    app = create_app(bot_settings(bot_engine.database.url), bot_engine)
    enable_polling(app)
    client = await aiohttp_client(app)
    update = bot_update(CHAT, "#11", message_id="polled-1")
    await zalo.push_update(update)
    await zalo.push_update(update)  # getUpdates handed it out twice
    await zalo.push_update(bot_update(CHAT, "1", message_id="polled-2"))
    await zalo.wait_for(lambda: len(zalo.bot_messages_to(CHAT)) >= 2)
    await client.app[ZALO_BOT].inbox.drain()
    texts = [c.body["text"] for c in zalo.bot_messages_to(CHAT)]
    assert len(texts) == 2
    assert "Bước 1/5" in texts[0] and "Bước 2/5" in texts[1]
    assert zalo.calls_to("bot", "deleteWebhook")


async def test_long_text_is_split_within_2000_characters(zalo: FakeZalo) -> None:
    long = "\n\n".join(f"Đoạn {i}: " + "chữ " * 150 for i in range(6))
    messages = render([Reply(long, (Button("Tiếp", action="n"),))])
    assert len(messages) > 1
    assert all(len(m.text) <= 2000 for m in messages)
    assert messages[-1].text.endswith("  1. Tiếp")


async def test_sender_and_errors(
    bot_engine: Engine, zalo: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = make_sender()
    assert sender is not None and sender.channel == "zalo_bot"
    try:
        ids = await sender.send(CHAT, [Reply("Ảnh", image="https://example.vn/a.png")])
        assert len(ids) == 2 and all(ids)
        assert zalo.calls_to("bot", "sendPhoto")[0].body["photo"] == "https://example.vn/a.png"
        zalo.fail("sendMessage", 403, description="user blocked the bot")
        with pytest.raises(Unreachable):
            await sender.send(CHAT, [Reply("Xin chào")])
    finally:
        await sender.close()
    monkeypatch.delenv("ZALO_BOT_TOKEN")
    zalo_bot_settings.cache_clear()
    assert make_sender() is None


async def test_unreachable_person_is_marked(person: Person, zalo: FakeZalo, bot_engine: Engine):
    zalo.fail("sendMessage", 403)
    await person.say("#11")
    async with bot_engine.database.session() as session:
        contact = await get_contact(session, "zalo_bot", CHAT)
    assert contact is not None and contact.unreachable


async def test_set_webhook_registers_the_secret(bot_engine: Engine, zalo: FakeZalo) -> None:
    await set_webhook(zalo_bot_settings(), "https://troly.example.vn/webhook/zalo_bot")
    assert zalo.webhook == {
        "url": "https://troly.example.vn/webhook/zalo_bot",
        "secret_token": SECRET,
    }
    derived = webhook_secret(ZaloBotSettings(token=BOT_TOKEN, secret=None))
    assert 8 <= len(derived) <= 256 and BOT_TOKEN not in derived


async def test_registered_as_sender(client: TestClient) -> None:
    assert "zalo_bot" in client.app[SENDERS]
