"""Feedback tickets: the flow, readable unique numbers, working-day due dates, staff answers."""

import asyncio
from datetime import UTC, date, datetime

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.engine import Engine
from bot.library import Library
from bot.settings import Settings
from bot.workdays import WorkCalendar
from storage.db import Database
from storage.models import Ticket
from storage.tickets import create_ticket, list_tickets
from tests.conftest import Chat
from tests.test_sessions import Clock

FRIDAY_10AM = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # Friday 27/11/2026, 10:00 local


def test_due_date_skips_weekends_and_announced_days_off() -> None:
    friday = date(2026, 11, 27)
    assert WorkCalendar().add_working_days(friday, 1) == date(2026, 11, 30)  # Monday
    assert WorkCalendar().add_working_days(friday, 10) == date(2026, 12, 11)
    # Tuesday 1/12 announced as a day off: one more day.
    assert WorkCalendar([date(2026, 12, 1)]).add_working_days(friday, 10) == date(2026, 12, 14)
    # A day off on a Saturday changes nothing.
    assert WorkCalendar([date(2026, 12, 5)]).add_working_days(friday, 10) == date(2026, 12, 11)


def test_a_ticket_received_just_before_tet_2027_is_due_after_the_holiday() -> None:
    """Tết 2027 (4-10 February, lunar) comes from the holiday calendar, not from a setting."""
    wednesday = date(2027, 2, 3)
    assert WorkCalendar().add_working_days(wednesday, 1) == date(2027, 2, 11)
    assert WorkCalendar().add_working_days(wednesday, 10) == date(2027, 2, 24)
    # A Saturday worked in exchange, as the government sometimes announces, counts.
    swapped = WorkCalendar(extra_working_days=[date(2027, 2, 13)])
    assert swapped.add_working_days(wednesday, 10) == date(2027, 2, 23)


async def test_a_citizen_files_feedback_and_looks_it_up(
    sqlite_database: Database, fixture_library: Library
) -> None:
    settings = Settings(ticket_deadline_days=3, holidays=[date(2026, 12, 1)])
    chat = Chat(
        Engine(fixture_library, sqlite_database, clock=Clock(FRIDAY_10AM), settings=settings)
    )
    await chat.say("phản ánh")
    assert "nội dung phản ánh" in chat.text
    await chat.say("Hồ sơ H12.34-251120-0001 trễ hẹn 5 ngày")
    assert "họ tên và số điện thoại" in chat.text
    await chat.say("Nguyễn Văn An 0912 345 678")
    assert "số PA-2026-000001" in chat.text
    assert "Hạn trả lời: 03/12/2026" in chat.text  # Mon 30, (Tue 1 holiday), Wed 2, Thu 3

    await chat.say("kiến nghị")
    await chat.say("Nên mở cửa thêm chiều thứ Bảy")
    await chat.press("Bỏ qua")
    assert "PA-2026-000002" in chat.text

    await chat.say("pa-2026-000001")
    assert "đang được xử lý" in chat.text and "03/12/2026" in chat.text
    await chat.say("PA-2026-009999")
    assert "Không tìm thấy" in chat.text

    async with sqlite_database.session() as session:
        first = (await session.execute(select(Ticket).where(Ticket.id == 1))).scalar_one()
    assert first.content == "Hồ sơ H12.34-251120-0001 trễ hẹn 5 ngày"  # dossier code kept
    assert first.reply_contact == "Nguyễn Văn An 0912 345 678"


async def test_concurrent_workers_never_give_the_same_number(database: Database) -> None:
    now = FRIDAY_10AM

    async def one(n: int) -> str:
        async with database.session() as session, session.begin():
            ticket = await create_ticket(
                session, channel="test", chat_id=f"c{n}", content=f"phản ánh {n}",
                reply_contact=None, now=now, year=2026, due=date(2026, 12, 11),
            )  # fmt: skip
            await asyncio.sleep(0)  # let the others run while this transaction is open
            return ticket.number

    numbers = await asyncio.gather(*(one(n) for n in range(30)))
    assert len(set(numbers)) == 30
    assert sorted(numbers) == [f"PA-2026-{n:06d}" for n in range(1, 31)]
    async with database.session() as session, session.begin():
        following = await create_ticket(
            session, channel="test", chat_id="x", content="năm mới", reply_contact=None,
            now=now, year=2027, due=date(2027, 1, 15),
        )  # fmt: skip
    assert following.number == "PA-2027-000001"


async def test_overdue_tickets_are_listed_first(database: Database) -> None:
    async with database.session() as session, session.begin():
        for n, due in enumerate([date(2026, 12, 20), date(2026, 11, 20), date(2026, 12, 1)]):
            await create_ticket(
                session, channel="test", chat_id=f"c{n}", content=f"#{n}", reply_contact=None,
                now=FRIDAY_10AM, year=2026, due=due,
            )  # fmt: skip
        listed = await list_tickets(session, date(2026, 11, 27))
    assert [t.content for t in listed] == ["#1", "#2", "#0"]


def test_staff_list_show_answer_and_close_from_the_cli(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'troly.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    from bot.settings import get_settings

    get_settings.cache_clear()
    try:
        database = Database(get_settings().database_url)
        from storage.db import upgrade

        upgrade(database.url)

        async def seed() -> None:
            async with database.session() as session, session.begin():
                for n, due in enumerate([date(2030, 1, 10), date(2020, 1, 10)]):
                    await create_ticket(
                        session, channel="test", chat_id=f"c{n}", content=f"nội dung {n}",
                        reply_contact="0912 000 000", now=FRIDAY_10AM, year=2026, due=due,
                    )  # fmt: skip
            await database.close()

        asyncio.run(seed())
        runner = CliRunner()
        listed = runner.invoke(app, ["tickets", "list"])
        assert listed.exit_code == 0, listed.output
        lines = listed.output.splitlines()
        assert lines[0].startswith("PA-2026-000002") and "QUÁ HẠN" in lines[0]
        assert lines[1].startswith("PA-2026-000001")

        answered = runner.invoke(
            app, ["tickets", "answer", "PA-2026-000002", "Đã xử lý", "--by", "Lan"]
        )
        assert answered.exit_code == 0, answered.output
        assert "NOT notified" in answered.output  # the test channel cannot send on its own
        shown = runner.invoke(app, ["tickets", "show", "pa-2026-000002"])
        assert "Trả lời (Lan): Đã xử lý" in shown.output
        assert runner.invoke(app, ["tickets", "close", "PA-2026-000001"]).exit_code == 0
        assert runner.invoke(app, ["tickets", "list"]).output.strip() == ""
        assert "closed" in runner.invoke(app, ["tickets", "list", "--all"]).output
        missing = runner.invoke(app, ["tickets", "show", "PA-2026-000404"])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()
