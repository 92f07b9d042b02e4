"""Conversation scripts through the engine, as a citizen would go: on the fixture library."""

from sqlmodel import select

from bot.logs import chat_ref
from bot.messages import Reply
from storage.models import Contact, Conversation, MessageEvent
from tests.conftest import Chat


async def test_start_menu_topic_guide_every_step_then_related(chat: Chat) -> None:
    await chat.say("/start")
    assert "Xin chào" in chat.text
    assert chat.labels == ["🪪 VNeID", "⚠️ Cảnh báo lừa đảo"]

    await chat.press("🪪 VNeID")
    assert chat.labels[:2] == ["Cài ứng dụng VNeID", "Kích hoạt tài khoản VNeID"]

    await chat.press("Cài ứng dụng VNeID")
    assert "Bước 1/3: Mở kho ứng dụng" in chat.text
    assert "◀ Quay lại" not in chat.labels

    await chat.press("Tiếp")
    assert "Bước 2/3: Tìm đúng ứng dụng" in chat.text
    await chat.press("◀ Quay lại")
    assert "Bước 1/3" in chat.text
    await chat.press("Tiếp")
    await chat.press("Tiếp")
    assert "Bước 3/3: Cài đặt" in chat.text
    assert "Tiếp ▶" not in chat.labels
    assert "Bạn đã xem hết" in chat.text
    # Links to other guides become codes a person can type; placeholders are filled.
    assert "Kích hoạt tài khoản (#13)" in chat.text
    assert "0296 3 800 123" in chat.text

    await chat.press("Không đưa mã OTP")
    assert "Không đưa mã OTP cho ai\nBước 1/2" in chat.text


async def test_navigation_words_move_within_the_open_guide(chat: Chat) -> None:
    await chat.say("#11")
    await chat.say("tiếp")
    assert "Bước 2/3" in chat.text
    await chat.say("TIEP")
    assert "Bước 3/3" in chat.text
    await chat.say("quay lai")
    assert "Bước 2/3" in chat.text
    await chat.say("lặp lại")
    assert "Bước 2/3" in chat.text
    await chat.say("menu")
    assert "Bạn cần hướng dẫn về việc gì" in chat.text
    await chat.say("tiếp")  # no guide open any more: not a navigation word now
    assert "Bước" not in chat.text


async def test_typing_a_button_number_presses_it(chat: Chat) -> None:
    await chat.say("menu")
    await chat.say("1")
    assert chat.labels[0] == "Cài ứng dụng VNeID"
    await chat.say("2")
    assert "Kích hoạt tài khoản VNeID\nBước 1/2" in chat.text
    await chat.say("0")
    assert "Bạn cần hướng dẫn về việc gì" in chat.text


async def test_search_with_and_without_tone_marks_opens_the_same_guide(chat: Chat) -> None:
    for question in ("cài vneid thế nào", "cai vneid the nao", "CÀI VNEID THẾ NÀO???"):
        await chat.say(question)
        assert "Cài ứng dụng VNeID\nBước 1/3" in chat.text, question


async def test_unknown_question_is_honest_and_offers_menu_and_staff(chat: Chat) -> None:
    await chat.say("giá vàng hôm nay bao nhiêu")
    assert "chưa có hướng dẫn" in chat.text
    assert "🏠 Danh mục" in chat.labels
    assert "🙋 Gặp cán bộ" in chat.labels
    phone = [b.phone for r in chat.last for b in r.buttons if b.phone]
    assert phone == ["0296 3 800 123"]
    await chat.press("🙋 Gặp cán bộ")
    assert "0296 3 800 123" in chat.text and "Thứ Hai" in chat.text


async def test_stale_or_forged_buttons_lead_to_the_menu(chat: Chat) -> None:
    for action in (
        "g:no-such-guide:1",
        "g:vneid-cai-dat:9",
        "g:vneid-cai-dat:-1",
        "g:vneid-cai-dat:abc",
        "t:nope",
        "zzz",
        "g",
        "g:a:b:c:d",
        "menu:x:y",
    ):
        replies = await chat.send(action=action)
        assert replies, action
        assert "🪪 VNeID" in chat.labels, action


async def test_sticker_voice_and_photo_get_a_polite_text_answer(chat: Chat) -> None:
    await chat.send(attachment="sticker")
    assert "Cảm ơn bạn" in chat.text
    for kind in ("voice", "photo", "file"):
        await chat.send(attachment=kind)
        assert "chỉ đọc được tin nhắn chữ" in chat.text


async def test_short_code_opens_guide_and_records_referral(chat: Chat) -> None:
    await chat.say("#43 tv05")
    assert "Không đưa mã OTP cho ai\nBước 1/2" in chat.text
    await chat.say("#999")
    assert "Không có hướng dẫn số #999" in chat.text
    async with chat.engine.database.session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.referral == "TV05"


async def test_start_payload_opens_guide_and_keeps_first_referral(chat: Chat) -> None:
    await chat.send(text="/start", referral="g_vneid-kich-hoat_poster")
    assert "Kích hoạt tài khoản VNeID\nBước 1/2" in chat.text
    await chat.send(text="/start", referral="TV07")
    assert "Xin chào" in chat.text
    async with chat.engine.database.session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.referral == "poster"


async def test_state_survives_a_new_engine_like_another_worker(chat: Chat) -> None:
    from bot.engine import Engine

    await chat.say("#11")
    await chat.say("tiếp")
    other_worker = Chat(Engine(chat.engine.library, chat.engine.database))
    await other_worker.say("tiếp")
    assert "Bước 3/3" in other_worker.text


async def test_every_message_in_and_out_is_logged(chat: Chat) -> None:
    await chat.say("#11")
    await chat.press("Tiếp")
    async with chat.engine.database.session() as session:
        events = (await session.execute(select(MessageEvent).order_by(MessageEvent.id))).scalars()
        rows = [(e.direction, e.handler, e.guide_id, e.step) for e in events]
        state = await session.get(Conversation, ("test", "citizen-1"))
    assert rows == [
        ("in", "guide", "vneid-cai-dat", 1),
        ("out", "guide", "vneid-cai-dat", 1),
        ("in", "guide", "vneid-cai-dat", 2),
        ("out", "guide", "vneid-cai-dat", 2),
    ]
    assert state is not None and state.guide_id == "vneid-cai-dat" and state.step == 2


async def test_a_failing_handler_gives_a_polite_fallback_and_is_logged(chat: Chat, caplog) -> None:
    async def broken(turn) -> list[Reply]:
        raise RuntimeError("boom")

    chat.engine.router.actions["boom"] = broken
    try:
        await chat.send(action="boom")
    finally:
        del chat.engine.router.actions["boom"]
    assert "đang gặp trục trặc" in chat.text
    assert f"handler failed on {chat_ref('test', 'citizen-1')} (action='boom')" in caplog.text
    assert "citizen-1" not in caplog.text, "the log names a chat by its hash only"
    await chat.say("menu")  # and the conversation goes on
    assert "🪪 VNeID" in chat.labels


async def test_two_messages_sent_at_once_are_answered_in_order(engine) -> None:
    """A citizen who types "tiếp" before the guide's first step arrived gets the second step."""
    import asyncio

    from bot.messages import Incoming

    first, second = await asyncio.gather(
        engine.handle(Incoming("web", "fast-typist", text="cai vneid the nao")),
        engine.handle(Incoming("web", "fast-typist", text="tiếp")),
    )
    assert "Bước 1/3" in first[0].text
    assert "Bước 2/3" in second[0].text
