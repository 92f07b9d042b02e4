"""Volunteer share links: asked for in the chat, printed by the CLI, counted as referrals."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from bot.engine import Engine
from bot.messages import Incoming
from storage.conversations import get_contact
from storage.models import StaffMember
from storage.reach import volunteer_reach
from tests.conftest import FIXTURE_LIBRARY, ROOT, Chat

VOLUNTEER_CHAT = "volunteer-chat"


async def add_volunteer(engine: Engine, code: str = "TV05") -> None:
    async with engine.database.session() as session, session.begin():
        session.add(
            StaffMember(
                name="Lê Thị Hoa", role="volunteer", code=code, channel="test",
                chat_id=VOLUNTEER_CHAT, created_at=datetime.now(UTC),
            )
        )  # fmt: skip


async def test_a_volunteer_reading_a_guide_gets_links_with_their_code(engine: Engine) -> None:
    await add_volunteer(engine)
    volunteer = Chat(engine, chat_id=VOLUNTEER_CHAT)
    await volunteer.say("cai vneid the nao")
    await volunteer.say("link chia sẻ")
    intro, message = volunteer.last
    assert "Cài ứng dụng VNeID" in intro.text and not message.buttons  # clean to forward
    assert "https://t.me/troly_hoa_an_bot?start=g_vneid-cai-dat_TV05" in message.text
    assert "https://zalo.me/1234567890123456789" in message.text
    code = engine.library.guides["vneid-cai-dat"].code
    assert f'nhắn "#{code} TV05"' in message.text
    # The guide is still open: "tiếp" goes on with it.
    await volunteer.say("tiếp")
    assert "Bước 2/3" in volunteer.text


async def test_anybody_else_gets_the_links_without_a_code_and_a_qr_on_request(
    chat: Chat,
) -> None:
    await chat.say("cai vneid the nao")
    await chat.say("chia sẻ")
    assert "start=g_vneid-cai-dat\n" in chat.last[1].text + "\n"
    await chat.press("🔳 Mã QR")
    image = chat.last[0].image
    assert image is not None and Path(image).read_bytes().startswith(b"\x89PNG")


async def test_volunteer_link_brings_a_new_contact_recorded_as_theirs(engine: Engine) -> None:
    await add_volunteer(engine)
    volunteer = Chat(engine, chat_id=VOLUNTEER_CHAT)
    await volunteer.say("cai vneid the nao")
    await volunteer.say("link chia sẻ")
    link = next(w for w in volunteer.last[1].text.split() if w.startswith("https://t.me/"))
    payload = parse_qs(urlparse(link).query)["start"][0]

    # A neighbour taps the link on Telegram: /start with the payload; another types the code.
    replies = await engine.handle(Incoming("telegram", "777", text="/start", referral=payload))
    assert "Bước 1/3" in replies[0].text
    code = engine.library.guides["vneid-cai-dat"].code
    await engine.handle(Incoming("zalo", "888", text=f"#{code} tv05"))
    async with engine.database.session() as session:
        for channel, chat_id in (("telegram", "777"), ("zalo", "888")):
            contact = await get_contact(session, channel, chat_id)
            assert contact is not None and contact.referral == "TV05"
        reached = await volunteer_reach(session, "TV05")
    assert (reached.people, reached.guides_opened) == (2, 2)


def test_troly_volunteer_links_prints_every_guide_with_the_code(
    tmp_path: Path, sqlite_template: Path
) -> None:
    import asyncio
    import shutil

    from storage.db import Database

    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite+aiosqlite:///{path}")

    async def seed() -> None:
        try:
            await add_volunteer(_Holder(database))  # type: ignore[arg-type]
        finally:
            await database.close()

    asyncio.run(seed())
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "CONTENT_DIR": str(FIXTURE_LIBRARY),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "volunteer", "links", "tv05", "--qr", str(tmp_path / "qr")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Lê Thị Hoa (TV05): 0 people reached" in result.stdout
    assert "https://t.me/troly_hoa_an_bot?start=g_vneid-kich-hoat_TV05" in result.stdout
    assert "https://t.me/troly_hoa_an_bot?start=TV05" in result.stdout
    assert len(list((tmp_path / "qr").glob("TV05-*.png"))) == 2 * 4  # 3 guides and the menu
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "volunteer", "links", "TV99"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 1 and "No volunteer with code TV99" in missing.stderr
    door_to_door = subprocess.run(
        [sys.executable, "-m", "bot", "volunteer", "links", "TV05", "--survey", "ky-nang-so"],
        capture_output=True, text=True, env={**env, "CONTENT_DIR": str(ROOT / "content")},
        cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert door_to_door.returncode == 0, door_to_door.stderr
    assert "?start=s_ky-nang-so_TV05" in door_to_door.stdout
    assert "then type: #KS1 TV05" in door_to_door.stdout


class _Holder:
    """Just enough of an Engine for add_volunteer: its database."""

    def __init__(self, database) -> None:
        self.database = database
