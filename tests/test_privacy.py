"""Privacy: secrets are redacted before anything is stored, and /xoadulieu erases a person."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.engine import Engine
from bot.library import Library
from bot.privacy import REDACTED, redact
from bot.settings import Settings
from storage.db import Database
from storage.models import MessageEvent, SupportSession, Ticket, WebChatMessage
from tests.conftest import Chat


@pytest.mark.parametrize(
    ("typed", "kind", "kept"),
    [
        ("số cccd của tôi là 079203001234 nhé", "id_number", "số cccd của tôi là"),
        ("căn cước 079 203 001 234", "id_number", "căn cước"),
        ("mã OTP là 482913", "otp", "mã OTP là"),
        ("otp: 4821", "otp", "otp:"),
        ("ma xac thuc 123456 gui ve dien thoai", "otp", "gui ve dien thoai"),
        ("123456 là mã OTP của tôi", "otp", "là mã OTP của tôi"),
        ("thẻ 4111 1111 1111 1111 bị trừ tiền", "card", "bị trừ tiền"),
        ("the 5555555555554444", "card", "the"),
        ("mật khẩu là Abc@123", "password", "mật khẩu là"),
        ("mk: hoaan2024", "password", "mk:"),
        ("passcode 271828 không vào được", "password", "không vào được"),
        ("mat khau cua toi la meomeo", "password", "mat khau cua toi la"),
    ],
)
def test_every_kind_of_secret_is_redacted(typed: str, kind: str, kept: str) -> None:
    result = redact(typed)
    assert result.kinds == {kind}
    assert REDACTED in result.text and kept in result.text
    assert not any(secret in result.text for secret in ("079203001234", "482913", "4821 ", "Abc@"))


@pytest.mark.parametrize(
    "typed",
    [
        "mã hồ sơ H12.34-251120-0001 trễ hẹn",
        "ho so 000.00.12.H12-250101-0001 da nop",
        "năm 2025 tôi làm căn cước",
        "gọi 0918 000 111 hoặc 0296 3 800 123",
        "lệ phí 1.000.000 đồng, chuyển 150000 đồng",
        "quên mật khẩu vneid thì làm sao",
        "mã bưu chính 880000",
        "số tài khoản 1234567890123",  # 13 digits but not a valid card number
        "giấy hẹn ngày 20/11/2025",
    ],
)
def test_ordinary_numbers_are_kept(typed: str) -> None:
    assert redact(typed).text == typed


async def test_the_engine_stores_only_the_redacted_text_and_warns_kindly(chat: Chat) -> None:
    await chat.say("cccd 079203001234 mất rồi làm lại sao")
    assert "Đừng gửi những thông tin này cho ai" in chat.text
    assert len(chat.last) >= 2  # the warning and the ordinary answer
    await chat.say("feedback menu")  # an ordinary message after: no warning
    assert "Đừng gửi" not in chat.text
    async with chat.engine.database.session() as session:
        logged = [e.text for e in (await session.execute(select(MessageEvent))).scalars()]
    assert "cccd [***] mất rồi làm lại sao" in logged
    assert not any("079203001234" in (t or "") for t in logged)


async def test_a_ticket_never_keeps_a_secret(chat: Chat) -> None:
    await chat.say("phản ánh")
    await chat.say("Cán bộ hỏi mã OTP 482913 của tôi qua điện thoại")
    await chat.press("Bỏ qua")
    async with chat.engine.database.session() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.content == "Cán bộ hỏi mã OTP [***] của tôi qua điện thoại"


async def _rows_naming(database: Database, chat_id: str) -> list[str]:
    """Every row, in every table, where some text column holds the chat id or its messages."""
    found = []
    async with database.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.execute(text(f'SELECT * FROM "{table.name}"'))).mappings()
            for row in rows:
                if any(isinstance(v, str) and chat_id in v for v in row.values()):
                    found.append(table.name)
    return found


async def test_erasing_leaves_no_row_that_names_the_person(
    database: Database, fixture_library: Library
) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    engine = Engine(fixture_library, database, clock=lambda: now, settings=Settings())
    person, other = Chat(engine, chat_id="zalo-77001"), Chat(engine, chat_id="zalo-55002")
    await person.send(text="/start", referral="TV05")
    await person.say("#11")
    await person.press("Tiếp")
    await person.say("phản ánh")
    await person.say("Hồ sơ khai sinh trễ hẹn, gọi tôi zalo-77001")
    await person.say("Chị Lan 0918 000 222")
    await other.say("#11")
    assert await _rows_naming(database, "zalo-77001")

    await person.say("/xoadulieu")
    assert "không hoàn tác" in person.text
    await person.press("🗑️")
    assert "Đã xoá dữ liệu" in person.text

    assert await _rows_naming(database, "zalo-77001") == []
    async with database.session() as session:
        sessions = list((await session.execute(select(SupportSession))).scalars())
        events = list((await session.execute(select(MessageEvent))).scalars())
        ticket = (await session.execute(select(Ticket))).scalar_one()
    # The anonymous counts stay: both sessions, the ticket (without who sent it).
    assert len(sessions) == 2
    assert sum(s.contact_ref is None for s in sessions) == 1
    assert {e.chat_id for e in events} == {"zalo-55002"}
    assert ticket.chat_id is None and ticket.reply_contact is None and ticket.content == "[***]"


async def test_a_web_chat_person_who_erases_takes_the_staff_answers_too(
    database: Database, fixture_library: Library
) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    engine = Engine(fixture_library, database, clock=lambda: now, settings=Settings())
    person = Chat(engine, channel="web", chat_id="trang-web-4411")
    await person.say("#11")
    answer = {"text": "Chị mang CCCD ra nhé", "from": "staff"}  # kept for the person's page
    async with database.session() as session, session.begin():
        session.add(WebChatMessage(chat_id="trang-web-4411", at=now, payload=answer))
    await person.say("/xoadulieu")
    await person.press("🗑️")
    assert "Đã xoá dữ liệu" in person.text
    assert await _rows_naming(database, "trang-web-4411") == []


async def test_retention_deletes_old_message_text_but_keeps_the_counts(
    sqlite_database: Database, fixture_library: Library
) -> None:
    from bot.support_cli import retention_cutoff
    from storage.sessions import forget_old_text

    clock_now = [datetime(2025, 10, 1, 9, 0, tzinfo=UTC)]
    engine = Engine(fixture_library, sqlite_database, clock=lambda: clock_now[0])
    chat = Chat(engine)
    await chat.say("cài vneid thế nào")
    clock_now[0] = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    await chat.say("menu")
    cutoff = retention_cutoff(clock_now[0], Settings(message_retention_months=12))
    assert cutoff == datetime(2025, 11, 23, 9, 0, tzinfo=UTC)
    async with sqlite_database.session() as session, session.begin():
        assert await forget_old_text(session, cutoff) == 2  # the old question and its answer
    async with sqlite_database.session() as session:
        events = list((await session.execute(select(MessageEvent))).scalars())
    assert [e.text is None for e in events] == [True, True, False, False]
