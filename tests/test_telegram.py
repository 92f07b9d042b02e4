"""The Telegram channel end to end: real update JSON into the running app, a fake Bot API out."""

import asyncio
import logging
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import SENDERS, create_app
from bot.channels.telegram import CHANNEL, RetryPolicy, enable_polling, make_sender
from bot.channels.telegram.render import MAX_CAPTION, MAX_TEXT, render, split_text, utf16_length
from bot.channels.telegram.settings import TelegramSettings
from bot.delivery import RateLimited, TemporaryFailure, Unreachable
from bot.engine import Engine
from bot.library import Library
from bot.messages import Button, Reply
from bot.settings import Settings
from handlers.routing import Router, Turn
from storage.conversations import get_contact
from storage.db import Database
from tests.channel_env import set_env, telegram_env, telegram_of
from tests.fake_telegram import (
    DOCUMENT,
    LOCATION,
    PHOTO,
    STICKER,
    VIDEO,
    VOICE,
    Call,
    Failure,
    FakeTelegram,
    Updates,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-token_for-tests"
STAFF_GROUP = -1001234567890
CITIZEN = 5550001


class Naps:
    """The retry sleep, recorded instead of slept."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


@pytest.fixture
async def telegram() -> FakeTelegram:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def naps() -> Naps:
    return Naps()


def telegram_settings(database_url: str, telegram: FakeTelegram) -> Settings:
    telegram_env(telegram, SECRET)
    set_env(telegram_staff_chat_id=STAFF_GROUP)
    return Settings(database_url=database_url)


async def start_app(aiohttp_client, engine: Engine, telegram: FakeTelegram, naps: Naps):
    app = create_app(telegram_settings(engine.database.url, telegram), engine)
    app[CHANNEL].retry = RetryPolicy(attempts=4, sleep=naps)
    return await aiohttp_client(app)


@pytest.fixture
async def client(aiohttp_client, engine: Engine, telegram: FakeTelegram, naps: Naps) -> TestClient:
    return await start_app(aiohttp_client, engine, telegram, naps)


class Citizen:
    """A person in a private chat: types, taps buttons, and reads what the bot sent."""

    def __init__(self, client: TestClient, telegram: FakeTelegram, chat_id: int = CITIZEN):
        self.client, self.telegram, self.chat_id = client, telegram, chat_id
        self.updates = Updates()

    async def post(self, update: dict) -> None:
        response = await self.client.post(
            "/webhook/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status == 200, await response.text()

    async def say(self, text: str | None = None, **extra: object) -> list[Call]:
        before = len(self.telegram.sent_to(self.chat_id))
        await self.post(self.updates.private(self.chat_id, text, **extra))
        return self.telegram.sent_to(self.chat_id)[before:]

    async def press(self, label_start: str) -> list[Call]:
        """Tap a button of the last message that had a keyboard."""
        last = next(c for c in reversed(self.telegram.sent_to(self.chat_id)) if c.keyboard)
        button = next(b for b in last.buttons if b["text"].startswith(label_start))
        message_id = self.message_id(last)
        before = len(self.telegram.sent_to(self.chat_id))
        await self.post(
            self.updates.press(
                self.chat_id, button["callback_data"], message_id, keyboard=last.keyboard
            )
        )
        return self.telegram.sent_to(self.chat_id)[before:]

    def message_id(self, call: Call) -> int:
        return self.telegram.calls.index(call) + 1  # see FakeTelegram.on below

    @property
    def last_text(self) -> str:
        return self.telegram.sent_to(self.chat_id)[-1].params["text"]


@pytest.fixture
def citizen(client: TestClient, telegram: FakeTelegram) -> Citizen:
    # Message ids the test can compute: the position of the call in the record.
    def numbered(call: Call) -> dict:
        return {
            "message_id": telegram.calls.index(call) + 1,
            "date": 0,
            "chat": {"id": call.chat_id, "type": "private"},
            "text": call.params.get("text", ""),
        }

    telegram.on("sendMessage", numbered)
    return Citizen(client, telegram)


def texts(calls: list[Call]) -> str:
    return "\n".join(c.params.get("text") or c.params.get("caption") or "" for c in calls)


# -- conversations ---------------------------------------------------------------------------


async def test_a_whole_guide_walked_with_inline_buttons(citizen: Citizen, telegram) -> None:
    sent = await citizen.say("/start")
    assert "Xin chào" in texts(sent)
    menu = sent[-1]
    assert menu.params["parse_mode"] == "HTML"
    assert menu.keyboard == [
        [{"text": "🪪 VNeID", "callback_data": "t:vneid"}],
        [{"text": "⚠️ Cảnh báo lừa đảo", "callback_data": "t:lua-dao"}],
    ]

    sent = await citizen.press("🪪 VNeID")
    # The spinner stopped and the pressed keyboard is gone, so it cannot be pressed again.
    assert len(telegram.calls_to("answerCallbackQuery")) == 1
    retired = telegram.calls_to("editMessageReplyMarkup")[-1]
    assert retired.params["message_id"] == citizen.message_id(menu)
    assert "reply_markup" not in retired.params or not retired.keyboard
    assert [b["text"] for b in sent[-1].buttons][:2] == [
        "Cài ứng dụng VNeID",
        "Kích hoạt tài khoản VNeID",
    ]

    await citizen.press("Cài ứng dụng VNeID")
    assert "Bước 1/3: Mở kho ứng dụng" in citizen.last_text
    await citizen.press("Tiếp")
    assert "Bước 2/3" in citizen.last_text
    await citizen.press("◀ Quay lại")
    assert "Bước 1/3" in citizen.last_text
    await citizen.press("Tiếp")
    sent = await citizen.press("Tiếp")
    assert "Bước 3/3: Cài đặt" in texts(sent)
    assert "Bạn đã xem hết" in texts(sent)
    assert all(len(row) == 1 for row in sent[-1].keyboard)  # one big button per row
    assert len(telegram.calls_to("answerCallbackQuery")) == 6
    assert len(telegram.calls_to("editMessageReplyMarkup")) == 6


@pytest.mark.parametrize("question", ["cài vneid thế nào", "cai vneid the nao", "CAI VNEID"])
async def test_search_with_and_without_tone_marks(citizen: Citizen, question: str) -> None:
    sent = await citizen.say(question)
    assert "Cài ứng dụng VNeID\nBước 1/3" in texts(sent)


async def test_a_deep_link_opens_the_guide_and_records_the_referral(
    citizen: Citizen, engine: Engine, telegram: FakeTelegram
) -> None:
    link = f"https://t.me/{telegram.username}?start=g_lua-dao-otp_poster"
    payload = parse_qs(urlparse(link).query)["start"][0]
    assert link.startswith(f"https://t.me/{telegram.username}?start=")

    sent = await citizen.say(f"/start {payload}")

    assert texts(sent).startswith("Không đưa mã OTP cho ai\nBước 1/2")
    async with engine.database.session() as session:
        contact = await get_contact(session, "telegram", str(CITIZEN))
    assert contact is not None and contact.referral == "poster"


async def test_typed_commands_and_numbers_work_like_buttons(citizen: Citizen) -> None:
    await citizen.say("/menu")
    sent = await citizen.say("1")  # the first button, as the console numbers them
    assert "VNeID: chọn hướng dẫn" in texts(sent)
    sent = await citizen.say("/help")
    assert "Cách dùng Trợ lý" in texts(sent)


async def test_phone_buttons_become_a_tappable_number_in_the_text(citizen: Citizen) -> None:
    sent = await citizen.say("bóng đá tối nay")
    last = sent[-1]
    assert "☎️ Gọi tổng đài: 0296 3 800 123" in last.params["text"]
    assert all("tel:" not in str(b) and "phone" not in b for b in last.buttons)
    assert [b["callback_data"] for b in last.buttons] == ["menu", "staff"]


@pytest.mark.parametrize(
    "attachment, expected",
    [
        (STICKER, "Cảm ơn bạn! Bạn cần hướng dẫn gì"),
        (VOICE, "chưa nghe được ghi âm"),
        (PHOTO, "chưa nghe được ghi âm"),
        (DOCUMENT, "chưa nghe được ghi âm"),
        (LOCATION, "chưa nghe được ghi âm"),
        (VIDEO, "chưa nghe được ghi âm"),
    ],
)
async def test_non_text_messages_get_a_polite_answer_and_the_menu(
    citizen: Citizen, attachment: dict, expected: str
) -> None:
    sent = await citizen.say(None, **attachment)
    assert expected in texts(sent)
    assert [b["callback_data"] for b in sent[-1].buttons] == ["t:vneid", "t:lua-dao"]


async def test_a_photo_with_a_question_as_caption_is_answered_as_the_question(
    citizen: Citizen,
) -> None:
    sent = await citizen.say(None, caption="cai vneid the nao", **PHOTO)
    assert "Bước 1/3" in texts(sent)


async def test_edits_and_channel_posts_are_ignored(citizen: Citizen, telegram) -> None:
    await citizen.post(citizen.updates.edited(CITIZEN, "cai vneid the nao"))
    await citizen.post(citizen.updates.channel_post(-100777, "menu"))
    assert telegram.calls_to("sendMessage", "sendPhoto") == []


# -- groups ----------------------------------------------------------------------------------

GROUP = -1009998887776


async def group_says(citizen: Citizen, text: str, chat_id: int = GROUP, **extra) -> list[Call]:
    before = len(citizen.telegram.sent_to(chat_id))
    await citizen.post(citizen.updates.group(chat_id, 42, text, **extra))
    return citizen.telegram.sent_to(chat_id)[before:]


async def test_in_a_group_the_bot_answers_only_commands_and_mentions(citizen: Citizen) -> None:
    assert await group_says(citizen, "cai vneid the nao") == []
    assert await group_says(citizen, "/start@SomeOtherBot") == []
    sent = await group_says(citizen, "/menu@troly_test_bot")
    assert "Bạn cần hướng dẫn về việc gì" in texts(sent)
    mention = "@troly_test_bot cai vneid the nao"
    entities = [{"type": "mention", "offset": 0, "length": len("@troly_test_bot")}]
    sent = await group_says(citizen, mention, entities=entities)
    assert "Bước 1/3" in texts(sent)


def recording_engine(engine: Engine, answer: list[Reply]) -> tuple[Engine, list]:
    """The real engine with one search handler that records what reached it."""
    seen: list = []
    router = Router()

    @router.on_search
    async def record(turn: Turn) -> list[Reply]:
        seen.append(turn.incoming)
        return answer

    router.on_action("menu")(record)
    return Engine(engine.library, engine.database, router=router), seen


async def test_staff_group_messages_reach_the_engine_with_sender_and_reply_target(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, naps: Naps
) -> None:
    quiet, seen = recording_engine(engine, [])
    citizen = Citizen(await start_app(aiohttp_client, quiet, telegram, naps), telegram)

    await citizen.post(
        citizen.updates.group(STAFF_GROUP, 77, "Chị mang CCCD đến nhé", reply_to_message_id=1234)
    )
    await citizen.post(citizen.updates.group(STAFF_GROUP, 78, "ok"))

    first, second = seen
    assert (first.channel, first.chat_id, first.user_id) == ("telegram", str(STAFF_GROUP), "77")
    assert (first.text, first.reply_to) == ("Chị mang CCCD đến nhé", "1234")
    assert (second.user_id, second.reply_to) == ("78", None)
    assert telegram.calls_to("sendMessage") == []  # the engine had nothing to say


# -- rendering -------------------------------------------------------------------------------


async def test_html_in_what_people_type_is_escaped(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, naps: Naps
) -> None:
    echo, _ = recording_engine(engine, [])

    @echo.router.on_search
    async def repeat(turn: Turn) -> list[Reply]:
        return [Reply(f"Bạn gõ: {turn.incoming.text}")]

    citizen = Citizen(await start_app(aiohttp_client, echo, telegram, naps), telegram)
    sent = await citizen.say('<b>đậm</b> & <a href="http://x">link</a>')
    assert sent[0].params["text"] == (
        "Bạn gõ: &lt;b&gt;đậm&lt;/b&gt; &amp; &lt;a href=&quot;http://x&quot;&gt;link&lt;/a&gt;"
    )


def test_callback_data_over_64_bytes_is_refused_when_the_keyboard_is_built() -> None:
    fits = "t:" + "ạ" * 20 + "xx"  # 2 + 60 + 2 = 64 bytes
    render(Reply("x", (Button("ok", action=fits),)))
    too_long = "t:" + "ạ" * 21  # 65 bytes in UTF-8 though only 23 characters
    with pytest.raises(ValueError, match="65 bytes"):
        render(Reply("x", (Button("long", action=too_long),)))


def test_long_text_is_split_at_paragraph_breaks_with_the_keyboard_under_the_last() -> None:
    paragraphs = [f"Đoạn {n}: " + "chữ " * 300 for n in range(8)]  # ~1208 characters each
    messages = render(Reply("\n\n".join(paragraphs), (Button("Tiếp", action="menu"),)))
    assert len(messages) == 3
    assert all(m.keyboard is None for m in messages[:-1]) and messages[-1].keyboard
    rebuilt = [p for m in messages for p in m.html.split("\n\n")]
    assert rebuilt == paragraphs  # nothing lost, every cut between paragraphs
    assert all(utf16_length(m.html) <= MAX_TEXT for m in messages)


def test_one_huge_paragraph_is_cut_at_lines_then_words_within_the_limit() -> None:
    emoji_words = " ".join(["😀😀"] * 3000)  # 4 UTF-16 units per word
    pieces = split_text(emoji_words)
    assert all(utf16_length(p) <= MAX_TEXT for p in pieces)
    assert " ".join(pieces) == emoji_words


async def test_images_are_sent_as_photos_with_a_caption_within_1024(
    telegram: FakeTelegram, tmp_path: Path, sqlite_database: Database
) -> None:
    poster = tmp_path / "poster.png"
    poster.write_bytes(b"\x89PNG\r\n\x1a\nfake-png-bytes")
    sender = make_sender(telegram_of(telegram))
    assert sender is not None
    try:
        await sender.send(
            "42",
            [
                Reply(
                    "Áp phích <mới>", (Button("Mở", url="https://dichvucong.gov.vn"),), str(poster)
                ),
                Reply(
                    "x" * (MAX_CAPTION + 1), (Button("🏠", action="menu"),), "https://a.vn/p.png"
                ),
            ],
        )
    finally:
        await sender.close()
    local, remote = telegram.calls_to("sendPhoto")
    assert local.files["photo"] == poster.read_bytes()
    assert local.params["caption"] == "Áp phích &lt;mới&gt;"
    assert local.buttons == [{"text": "Mở", "url": "https://dichvucong.gov.vn"}]
    # Too long for a caption: the photo alone, then the text with the keyboard.
    assert remote.params["photo"] == "https://a.vn/p.png" and "caption" not in remote.params
    follow_up = telegram.calls_to("sendMessage")[-1]
    assert follow_up.params["text"] == "x" * (MAX_CAPTION + 1) and follow_up.buttons


# -- failures --------------------------------------------------------------------------------


async def test_429_is_retried_after_what_telegram_asked(citizen: Citizen, telegram, naps) -> None:
    telegram.fail("sendMessage", Failure.rate_limited(retry_after=7))
    sent = await citizen.say("/start")
    assert "Xin chào" in texts(sent)
    assert len(telegram.attempts("sendMessage")) == 2
    assert naps.taken == [7.0]


async def test_network_errors_are_retried_with_growing_backoff(
    citizen: Citizen, telegram, naps
) -> None:
    telegram.fail("sendMessage", Failure.drop_connection())
    telegram.fail("sendMessage", Failure.server_error(502))
    telegram.fail("sendMessage", Failure.server_error(500))
    sent = await citizen.say("/start")
    assert len(sent) == 1 and "Xin chào" in sent[0].params["text"]
    assert naps.taken == [1.0, 2.0, 4.0]


async def test_a_lasting_outage_gives_up_and_still_answers_telegram_200(
    citizen: Citizen, telegram, naps
) -> None:
    telegram.fail("sendMessage", Failure.server_error(), times=10)
    sent = await citizen.say("/start")  # Citizen.post asserts the 200
    assert sent == [] and len(telegram.attempts("sendMessage")) == 4


async def test_403_marks_the_contact_unreachable_without_retrying(
    citizen: Citizen, telegram: FakeTelegram, engine: Engine, naps
) -> None:
    await citizen.say("/start")
    telegram.fail("sendMessage", Failure.blocked())
    await citizen.say("menu")
    assert len(telegram.attempts("sendMessage")) == 2 and naps.taken == []
    async with engine.database.session() as session:
        contact = await get_contact(session, "telegram", str(CITIZEN))
    assert contact is not None and contact.unreachable


async def test_blocking_the_bot_marks_the_contact_unreachable(
    citizen: Citizen, engine: Engine
) -> None:
    await citizen.say("/start")
    await citizen.post(citizen.updates.blocked(CITIZEN))
    async with engine.database.session() as session:
        contact = await get_contact(session, "telegram", str(CITIZEN))
    assert contact is not None and contact.unreachable


async def test_a_reply_telegram_cannot_show_is_logged_with_the_update_id_and_fallback_sent(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, naps: Naps, caplog
) -> None:
    broken, _ = recording_engine(engine, [Reply("x", (Button("b", action="g:" + "x" * 70),))])
    citizen = Citizen(await start_app(aiohttp_client, broken, telegram, naps), telegram)
    update = citizen.updates.private(CITIZEN, "hello")
    with caplog.at_level(logging.ERROR):
        await citizen.post(update)  # still 200: Telegram must not redeliver it forever
    assert f"update {update['update_id']}" in caplog.text
    assert "trục trặc" in texts(telegram.sent_to(CITIZEN))


async def test_forged_or_missing_secret_is_refused(client: TestClient, telegram) -> None:
    update = Updates().private(CITIZEN, "/start")
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, {}):
        response = await client.post("/webhook/telegram", json=update, headers=headers)
        assert response.status == 403
    assert telegram.calls_to("sendMessage") == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"message": {}}'])
async def test_malformed_updates_get_400(client: TestClient, body: bytes) -> None:
    response = await client.post(
        "/webhook/telegram", data=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 400


# -- sender, polling, set-webhook, configuration ----------------------------------------------


async def test_the_sender_returns_message_ids_and_maps_failures(
    telegram: FakeTelegram, sqlite_database: Database
) -> None:
    sender = make_sender(telegram_of(telegram))
    assert sender is not None
    try:
        ids = await sender.send("42", [Reply("một"), Reply("hai")])
        assert ids == ["1001", "1002"]
        telegram.fail("sendMessage", Failure.rate_limited(retry_after=5))
        with pytest.raises(RateLimited) as limited:
            await sender.send("42", [Reply("ba")])
        assert limited.value.retry_after == 5
        telegram.fail("sendMessage", Failure.blocked())
        with pytest.raises(Unreachable) as blocked:
            await sender.send("42", [Reply("bốn")])
        assert blocked.value.reason == "blocked"
        telegram.fail("sendMessage", Failure.drop_connection())
        with pytest.raises(TemporaryFailure):
            await sender.send("42", [Reply("năm")])
    finally:
        await sender.close()


async def test_the_token_never_reaches_the_logs(
    citizen: Citizen, telegram: FakeTelegram, caplog
) -> None:
    caplog.set_level(logging.INFO)
    await citizen.say("/start")
    assert telegram.calls_to("sendMessage")
    assert telegram.token.split(":")[1] not in caplog.text


async def test_the_app_registers_its_sender_for_hand_offs(client: TestClient) -> None:
    sender = client.app[SENDERS]["telegram"]
    assert await sender.send(str(STAFF_GROUP), [Reply("Có câu hỏi mới")]) == ["1001"]


async def test_polling_serves_citizens_without_a_webhook(
    engine: Engine, telegram: FakeTelegram
) -> None:
    app = create_app(telegram_settings(engine.database.url, telegram), engine)
    enable_polling(app)
    updates = Updates()
    async with TestServer(app):
        telegram.push_update(updates.private(CITIZEN, "cai vneid the nao"))
        await telegram.wait_for("sendMessage")
        telegram.push_update(updates.press(CITIZEN, "g:vneid-cai-dat:2", 1001))
        await telegram.wait_for("sendMessage", count=2)
        await telegram.wait_until_polled()
    first, second = telegram.calls_to("sendMessage")
    assert "Bước 1/3" in first.params["text"] and "Bước 2/3" in second.params["text"]
    assert telegram.calls_to("deleteWebhook")  # polling and a webhook cannot both be set
    assert telegram.calls_to("answerCallbackQuery")


async def test_set_webhook_registers_url_secret_and_vietnamese_commands(
    telegram: FakeTelegram,
) -> None:
    env = {
        **os.environ,
        "TELEGRAM_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://troly.example.vn/webhook/telegram",
        "TELEGRAM_SECRET": SECRET,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "set-webhook",
        env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "Webhook set" in out.decode()
    assert telegram.webhook["url"] == "https://troly.example.vn/webhook/telegram"
    assert telegram.webhook["secret_token"] == SECRET
    commands = {c["command"]: c["description"] for c in telegram.commands}
    assert list(commands) == ["start", "menu", "help", "canbo"]
    assert commands["menu"] == "Danh mục hướng dẫn"


async def test_without_a_token_there_is_no_telegram_channel(aiohttp_client, engine: Engine) -> None:
    settings = Settings(database_url=engine.database.url)
    assert make_sender(TelegramSettings()) is None
    client = await aiohttp_client(create_app(settings, engine))
    assert "telegram" not in client.app[SENDERS]
    response = await client.post("/webhook/telegram", json=Updates().private(1, "hi"))
    assert response.status in (404, 405)


def test_the_bundled_texts_describe_every_command(
    full_library: Library,
) -> None:
    from bot.channels.telegram.admin import bot_commands

    assert all(1 <= len(c.description) <= 256 for c in bot_commands(full_library))
