"""Hand-off to staff, both ways: citizen on Telegram -> staff group -> reply -> citizen.

Runs the real app with the Telegram channel against tests/fake_telegram.py.
"""

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.app import create_app
from bot.engine import Engine
from bot.library import Library
from bot.settings import Settings
from storage.db import Database
from storage.models import Handoff, SupportSession
from storage.staff import add_member
from tests.channel_env import set_env, telegram_env
from tests.fake_telegram import Call, FakeTelegram, Updates
from tests.test_sessions import Clock

SECRET = "handoff-secret"
STAFF_GROUP = -1009876543210
CITIZEN = 5550123
STAFF_USER = 4440001
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hòa An (UTC+7)
SATURDAY_8PM = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


class Room:
    """The app on a fake Telegram: a citizen in a private chat and the staff group."""

    def __init__(self, client, telegram: FakeTelegram, clock: Clock):
        self.client, self.telegram, self.clock = client, telegram, clock
        self.updates = Updates()

    async def post(self, update: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await self.client.post("/webhook/telegram", json=update, headers=headers)
        assert response.status == 200

    async def citizen_says(self, text: str) -> list[Call]:
        before = len(self.telegram.sent_to(CITIZEN))
        await self.post(self.updates.private(CITIZEN, text))
        return self.telegram.sent_to(CITIZEN)[before:]

    async def staff_replies(self, text: str, to: int, user: int = STAFF_USER) -> list[Call]:
        before = len(self.telegram.sent_to(STAFF_GROUP))
        await self.post(self.updates.group(STAFF_GROUP, user, text, reply_to_message_id=to))
        return self.telegram.sent_to(STAFF_GROUP)[before:]

    def group_posts(self) -> list[Call]:
        return self.telegram.sent_to(STAFF_GROUP)


@pytest.fixture
async def telegram() -> FakeTelegram:
    async with FakeTelegram() as fake:
        # Message ids the test can read back: 1 + the position of the call in the record.
        fake.on(
            "sendMessage",
            lambda call: {
                "message_id": fake.calls.index(call) + 1,
                "date": 0,
                "chat": {"id": call.chat_id, "type": "private"},
                "text": call.params.get("text", ""),
            },
        )
        yield fake


async def open_room(
    aiohttp_client, database: Database, library: Library, telegram, start, staff_room: bool = False
):
    """The staff group named as Telegram's (TELEGRAM_STAFF_CHAT_ID), or as the staff room."""
    clock = Clock(start)
    telegram_env(telegram, SECRET)
    if staff_room:
        settings = Settings(database_url=database.url, staff_room=f"telegram:{STAFF_GROUP}")
    else:
        set_env(telegram_staff_chat_id=STAFF_GROUP)
        settings = Settings(database_url=database.url)
    engine = Engine(library, database, clock=clock)
    async with database.session() as session, session.begin():
        await add_member(
            session, name="Trần Thị Lan", role="staff", now=start,
            channel="telegram", chat_id=str(STAFF_USER),
        )  # fmt: skip
    return Room(await aiohttp_client(create_app(settings, engine)), telegram, clock)


def message_id(telegram: FakeTelegram, call: Call) -> int:
    return telegram.calls.index(call) + 1


def texts(calls: list[Call]) -> str:
    return "\n".join(c.params.get("text", "") for c in calls)


# Either way the group is the staff room, and staff answer there without addressing the bot.
@pytest.mark.parametrize("staff_room", [False, True], ids=["TELEGRAM_STAFF_CHAT_ID", "STAFF_ROOM"])
async def test_a_question_goes_to_the_staff_group_and_the_answer_comes_back(
    aiohttp_client, sqlite_database: Database, fixture_library: Library, telegram: FakeTelegram,
    staff_room: bool,
) -> None:  # fmt: skip
    room = await open_room(
        aiohttp_client, sqlite_database, fixture_library, telegram, MONDAY_9AM, staff_room
    )
    await room.citizen_says("#11")
    await room.citizen_says("tiếp")
    sent = await room.citizen_says("gặp cán bộ")
    assert "tôi chuyển ngay cho cán bộ" in texts(sent)
    assert "ngoài giờ" not in texts(sent)

    sent = await room.citizen_says(
        "Tôi 70 tuổi, không có điện thoại thông minh thì làm căn cước sao?"
    )
    assert "Tôi đã chuyển câu hỏi cho cán bộ" in texts(sent)
    (post,) = room.group_posts()
    assert "Tôi 70 tuổi, không có điện thoại thông minh" in post.params["text"]
    assert "Cài ứng dụng VNeID: bước 2/3" in post.params["text"]  # the session summary

    room.clock.advance(minutes=12)
    confirmations = await room.staff_replies(
        "Bác mang CCCD ra Trung tâm, cán bộ làm giúp ạ", to=message_id(telegram, post)
    )
    assert "Đã gửi cho người dân" in texts(confirmations)
    answer = telegram.sent_to(CITIZEN)[-1].params["text"]
    assert "trả lời:" in answer and "Bác mang CCCD ra Trung tâm" in answer

    # A follow-up from the citizen lands in the same hand-off.
    await room.citizen_says("Cảm ơn, mấy giờ thì được ạ?")
    follow_up = room.group_posts()[-1]
    assert "hỏi thêm" in follow_up.params["text"] and "mấy giờ" in follow_up.params["text"]

    room.clock.advance(minutes=5)
    closed = await room.staff_replies("/xong", to=message_id(telegram, follow_up))
    assert "Đã kết thúc" in texts(closed)
    last_two = texts(telegram.sent_to(CITIZEN)[-2:])
    assert "Cán bộ đã kết thúc" in last_two and "Hướng dẫn này có giúp được bạn không?" in last_two

    async with sqlite_database.session() as session:
        (handoff,) = (await session.execute(select(Handoff))).scalars()
        (visit,) = (await session.execute(select(SupportSession))).scalars()
    assert handoff.first_response_at - handoff.opened_at == (
        MONDAY_9AM.replace(minute=12) - MONDAY_9AM
    )
    assert handoff.closed_at == room.clock.now
    assert visit.outcome == "handoff" and visit.rating_asked


async def test_outside_opening_hours_the_citizen_is_told_when_to_expect_an_answer(
    aiohttp_client, sqlite_database: Database, fixture_library: Library, telegram: FakeTelegram
) -> None:
    room = await open_room(aiohttp_client, sqlite_database, fixture_library, telegram, SATURDAY_8PM)
    await room.citizen_says("gặp cán bộ")
    sent = await room.citizen_says("Hồ sơ của tôi bị trả lại")
    assert "ngoài giờ làm việc" in texts(sent)
    assert "từ 07:00, 30/11/2026" in texts(sent)  # Monday morning: Sunday is closed


async def test_staff_chatter_is_ignored_and_strangers_cannot_answer(
    aiohttp_client, sqlite_database: Database, fixture_library: Library, telegram: FakeTelegram
) -> None:
    room = await open_room(aiohttp_client, sqlite_database, fixture_library, telegram, MONDAY_9AM)
    await room.citizen_says("gặp cán bộ")
    await room.citizen_says("Cho tôi hỏi lệ phí chứng thực")
    post = room.group_posts()[-1]
    before = len(telegram.sent_to(CITIZEN))

    await room.post(room.updates.group(STAFF_GROUP, STAFF_USER, "Ai trực chiều nay?"))
    assert room.group_posts()[-1] is post  # the bot said nothing to plain chatter
    refused = await room.staff_replies("2.000 đồng/trang", to=message_id(telegram, post), user=999)
    assert "chưa được đăng ký" in texts(refused)
    assert len(telegram.sent_to(CITIZEN)) == before  # nothing reached the citizen


async def test_a_turn_retried_after_a_locked_database_posts_to_staff_once(
    aiohttp_client, sqlite_database: Database, fixture_library: Library, telegram: FakeTelegram
) -> None:
    """The staff post leaves after the commit: a turn whose commit failed and was retried never
    posts twice, and nothing waits on Telegram while the database is held."""
    room = await open_room(aiohttp_client, sqlite_database, fixture_library, telegram, MONDAY_9AM)
    await room.citizen_says("gặp cán bộ")
    commits = []

    @event.listens_for(sqlite_database.engine.sync_engine, "commit")
    def locked_once(connection) -> None:
        commits.append(len(room.group_posts()))
        if len(commits) == 1:  # another worker holds the SQLite file, longer than the timeout
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))

    try:
        sent = await room.citizen_says("Tôi cần làm lại căn cước cho mẹ")
    finally:
        event.remove(sqlite_database.engine.sync_engine, "commit", locked_once)
    assert len(commits) >= 2, "the turn was retried"
    assert commits[0] == 0, "nothing was posted while the transaction was open"
    assert "Tôi đã chuyển câu hỏi cho cán bộ" in texts(sent)
    (post,) = room.group_posts()
    assert "Tôi cần làm lại căn cước cho mẹ" in post.params["text"]
    async with sqlite_database.session() as session:
        assert len((await session.execute(select(Handoff))).scalars().all()) == 1
