"""Roles: staff and volunteers registered from the CLI; only they can use staff commands."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.engine import Engine
from bot.library import load_library
from bot.settings import Settings, get_settings
from storage.db import Database
from storage.models import SupportLogEntry
from tests.conftest import FIXTURE_LIBRARY, Chat
from tests.test_sessions import Clock

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def cli_database(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'troly.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield get_settings().database_url
    get_settings.cache_clear()


def test_staff_and_volunteers_are_registered_and_use_staff_commands(cli_database: str) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["staff", "add", "Trần Thị Lan", "--chat-id", "4440001"])
    assert added.exit_code == 0, added.output
    added = runner.invoke(
        app, ["volunteer", "add", "Lê Văn Tư", "--code", "tv05", "--chat-id", "7770005"]
    )
    assert added.exit_code == 0 and "TV05" in added.output
    listed = runner.invoke(app, ["staff", "list"]).output
    assert "staff" in listed and "Trần Thị Lan" in listed
    assert "volunteer" in listed and "TV05" in listed and "telegram:7770005" in listed

    logged = runner.invoke(
        app,
        ["log-support", "--topic", "Cài VNeID", "--place", "Chợ Hòa An", "--people", "12",
         "--online", "--helper", "tv05", "--day", "2026-11-21"],
    )  # fmt: skip
    assert logged.exit_code == 0, logged.output
    assert "Lê Văn Tư" in logged.output

    async def chat_as_people() -> tuple[list[str], list[SupportLogEntry]]:
        database = Database(cli_database)
        engine = Engine(load_library(FIXTURE_LIBRARY), database, clock=Clock(MONDAY),
                        settings=Settings())  # fmt: skip
        citizen = Chat(engine, channel="telegram", chat_id="123")
        volunteer = Chat(engine, channel="telegram", chat_id="7770005")
        staff = Chat(engine, channel="telegram", chat_id="4440001")
        seen = []
        await citizen.say("/nhatky Cài VNeID; nhà văn hoá; 3; có")
        seen.append(citizen.text)
        await citizen.say("/baocao")
        seen.append(citizen.text)
        await volunteer.say("/nhatky")
        seen.append(volunteer.text)
        await volunteer.say("/nhatky Thanh toán lệ phí; Họp ấp Bình Phú; 20; không")
        seen.append(volunteer.text)
        await volunteer.say("/baocao")  # reports are for staff
        seen.append(volunteer.text)
        await staff.say("/baocao")
        seen.append(staff.text)
        async with database.session() as session:
            entries = list((await session.execute(select(SupportLogEntry))).scalars())
        await database.close()
        return seen, entries

    seen, entries = asyncio.run(chat_as_people())
    citizen_log, citizen_report, log_help, logged_line, volunteer_report, staff_report = seen
    for answer in (citizen_log, citizen_report, volunteer_report):
        assert "Bạn cần hướng dẫn về việc gì" in answer  # the ordinary menu
        assert "nhatky" not in answer and "Ghi" not in answer
    assert "/nhatky chủ đề; nơi hỗ trợ" in log_help
    assert "Đã ghi: Thanh toán lệ phí · Họp ấp Bình Phú · 20 người" in logged_line
    assert "BÁO CÁO TUẦN" in staff_report
    assert [(e.place, e.people, e.submitted_online, e.helper_name) for e in entries] == [
        ("Chợ Hòa An", 12, True, "Lê Văn Tư"),
        ("Họp ấp Bình Phú", 20, False, "Lê Văn Tư"),
    ]

    removed = runner.invoke(app, ["staff", "remove", "1"])
    assert removed.exit_code == 0
    assert "(inactive)" in runner.invoke(app, ["staff", "list"]).output
