"""A campaign from the staff group: draft, preview as citizens will see it, send only on a yes."""

import pytest
from sqlmodel import select

from bot.library import Library
from storage.db import Database
from storage.models import Campaign
from storage.staff import add_member
from tests.fake_telegram import FakeTelegram
from tests.test_handoff import CITIZEN, MONDAY_9AM, STAFF_GROUP, STAFF_USER, open_room, texts
from tests.test_handoff import telegram as telegram  # the fixture, re-exported by name

VOLUNTEER_OR_STRANGER = 9990001
SECOND_STAFF = 9990002


async def campaign_states(database: Database) -> list[str]:
    async with database.session() as session:
        return list((await session.execute(select(Campaign.state))).scalars())


async def test_staff_draft_preview_and_confirm_a_campaign_in_the_group(
    aiohttp_client,
    sqlite_database: Database,
    fixture_library: Library,
    telegram: FakeTelegram,
) -> None:
    room = await open_room(aiohttp_client, sqlite_database, fixture_library, telegram, MONDAY_9AM)
    await room.citizen_says("/start")  # a subscriber

    before = len(room.group_posts())
    await room.post(room.updates.group(STAFF_GROUP, STAFF_USER, "/chiendich"))
    assert "Soạn chiến dịch" in texts(room.group_posts()[before:])
    assert await campaign_states(sqlite_database) == []

    before = len(room.group_posts())
    message = "Tuần lễ DVC trực tuyến: Trung tâm hỗ trợ nộp hồ sơ tại chỗ."
    await room.post(room.updates.group(STAFF_GROUP, STAFF_USER, f"/chiendich {message}"))
    shown = room.group_posts()[before:]
    assert "Xem trước chiến dịch #1" in texts(shown)
    assert message in texts(shown), "the preview is the message as citizens get it"
    assert "Sẽ gửi tới 1 người (telegram: 1). Gửi ngay?" in texts(shown)
    assert not [c for c in telegram.sent_to(CITIZEN) if message in c.params.get("text", "")]
    assert await campaign_states(sqlite_database) == ["draft"]

    # Somebody who is not staff presses the button: nothing moves.
    await room.post(room.updates.press(STAFF_GROUP, "cs:send:1", 1, user_id=VOLUNTEER_OR_STRANGER,
                                       chat_type="supergroup"))  # fmt: skip
    assert await campaign_states(sqlite_database) == ["draft"]

    before = len(room.group_posts())
    await room.post(room.updates.press(STAFF_GROUP, "cs:send:1", 1, user_id=STAFF_USER,
                                       chat_type="supergroup"))  # fmt: skip
    assert "Chiến dịch #1 đã vào hàng gửi" in texts(room.group_posts()[before:])
    assert await campaign_states(sqlite_database) == ["scheduled"]

    # A second press (an old keyboard) cannot send it again or cancel it.
    await room.post(room.updates.press(STAFF_GROUP, "cs:cancel:1", 1, user_id=STAFF_USER,
                                       chat_type="supergroup"))  # fmt: skip
    assert await campaign_states(sqlite_database) == ["scheduled"]


async def test_above_the_approval_limit_the_drafters_own_yes_does_not_count(
    aiohttp_client,
    sqlite_database: Database,
    fixture_library: Library,
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CAMPAIGN_APPROVAL_OVER=0: every campaign needs a second staff member's ✅."""
    monkeypatch.setenv("CAMPAIGN_APPROVAL_OVER", "0")
    room = await open_room(aiohttp_client, sqlite_database, fixture_library, telegram, MONDAY_9AM)
    await room.citizen_says("/start")
    async with sqlite_database.session() as session, session.begin():
        await add_member(session, name="Lê Văn Minh", role="staff", now=MONDAY_9AM,
                         channel="telegram", chat_id=str(SECOND_STAFF))  # fmt: skip
    await room.post(room.updates.group(STAFF_GROUP, STAFF_USER, "/chiendich Tuần lễ DVC"))

    before = len(room.group_posts())
    await room.post(room.updates.press(STAFF_GROUP, "cs:send:1", 1, user_id=STAFF_USER,
                                       chat_type="supergroup"))  # fmt: skip
    assert "cần một cán bộ khác" in texts(room.group_posts()[before:])
    assert await campaign_states(sqlite_database) == ["draft"]

    before = len(room.group_posts())
    await room.post(room.updates.press(STAFF_GROUP, "cs:send:1", 1, user_id=SECOND_STAFF,
                                       chat_type="supergroup"))  # fmt: skip
    assert "Chiến dịch #1 đã vào hàng gửi" in texts(room.group_posts()[before:])
    assert await campaign_states(sqlite_database) == ["scheduled"]
    async with sqlite_database.session() as session:
        approved_by = (await session.execute(select(Campaign.approved_by))).scalar_one()
    assert approved_by == "Lê Văn Minh"
