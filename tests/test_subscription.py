"""Subscribers as a citizen meets them: the first-conversation line, "dừng", /dangky, tags."""

from sqlalchemy import select

from bot.engine import Engine
from storage.conversations import get_contact
from storage.models import Subscription
from tests.conftest import Chat

NOTICE = "Bạn sẽ nhận tin của Trung tâm"


async def subscription(engine: Engine, chat: Chat) -> Subscription | None:
    async with engine.database.session() as session:
        contact = await get_contact(session, chat.channel, chat.chat_id)
        assert contact is not None
        result = await session.execute(
            select(Subscription).where(Subscription.contact_id == contact.id)
        )
        return result.scalar_one_or_none()


async def test_the_first_conversation_says_they_are_subscribed_and_how_to_stop(chat: Chat) -> None:
    await chat.say("/start")
    assert NOTICE in chat.text and 'gõ "dừng"' in chat.text
    assert chat.labels  # the menu is still there
    await chat.say("/start")
    assert NOTICE not in chat.text  # said once, not at every greeting


async def test_dung_opts_out_and_dangky_opts_back_in(chat: Chat, engine: Engine) -> None:
    await chat.say("cai vneid the nao")
    await chat.say("dừng")
    assert "ngừng nhận tin" in chat.text
    row = await subscription(engine, chat)
    assert row is not None and row.opted_out and row.opted_out_at is not None
    await chat.say("/dunglai")
    assert "đã ngừng nhận tin rồi" in chat.text
    await chat.press("🔔 Nhận tin lại")
    assert "nhận lại tin" in chat.text
    row = await subscription(engine, chat)
    assert row is not None and not row.opted_out


async def test_every_way_of_saying_stop_works_but_dung_without_marks_is_not_stop(
    engine: Engine,
) -> None:
    for number, words in enumerate(["/dunglai", "Dừng lại", "huỷ đăng ký", "hủy đăng ký", "DỪNG"]):
        chat = Chat(engine, chat_id=f"stop-{number}")
        await chat.say(words)
        assert "ngừng nhận tin" in chat.text, words
    chat = Chat(engine, chat_id="agrees")
    await chat.say("đúng")  # "right": the same letters as "dừng" without tone marks
    assert "ngừng nhận tin" not in chat.text
    async with engine.database.session() as session:
        contact = await get_contact(session, "test", "agrees")
        assert contact is not None
        assert await session.get(Subscription, contact.id) is None


async def test_stop_works_as_the_very_first_message(
    engine: Engine,
) -> None:
    chat = Chat(engine, chat_id="first-words-stop")
    await chat.say("dừng")  # their very first message
    assert "ngừng nhận tin" in chat.text


async def test_tags_are_optional_and_toggle(chat: Chat, engine: Engine) -> None:
    await chat.say("/dangky")
    await chat.press("📍 Chọn ấp")
    await chat.press("📍 Ấp của tôi")
    assert "Ấp Hòa Long" in chat.labels
    await chat.press("Ấp Hòa Long")
    assert "Đã lưu: Ấp Hòa Long" in chat.text
    await chat.press("📍 Chọn ấp")
    await chat.press("📚 Chủ đề")
    await chat.press("VNeID")
    row = await subscription(engine, chat)
    assert row is not None and row.tags == ["Ấp Hòa Long", "vneid"]
    await chat.send(action="tag:v:1")  # the same village again: removed
    row = await subscription(engine, chat)
    assert row is not None and row.tags == ["vneid"]
    await chat.send(action="tag:v:99")  # an outdated button: the list again, no error
    assert "Bạn ở ấp nào" in chat.text
