"""A Zalo OA citizen's hand-off answered from the console reaches the fake Zalo; the web page
tells staff when Zalo's 7-day window has closed (see test_console_inbox for that)."""

import pytest
from sqlmodel import select

from bot.app import create_app
from bot.engine import Engine
from storage.models import Handoff
from tests.console_helpers import add_account, login, page_csrf
from tests.fake_zalo import FakeZalo
from tests.test_zalo_oa import USER, Citizen, zalo_settings


@pytest.fixture
async def zalo() -> FakeZalo:
    async with FakeZalo() as fake:
        yield fake


async def test_zalo_citizen_answered_from_the_console(
    aiohttp_client, engine: Engine, zalo: FakeZalo
) -> None:
    settings = zalo_settings(
        engine.database.url, zalo, zalo_refresh_token=zalo.issue_refresh_token()
    )
    client = await aiohttp_client(create_app(settings, engine))
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    citizen = Citizen(client, zalo)
    await citizen.say("gặp cán bộ")
    sent = await citizen.say("Cho hỏi làm lại giấy khai sinh ở đâu?")
    assert "chuyển câu hỏi cho cán bộ" in "\n".join(c.text for c in sent)
    async with engine.database.session() as session:
        handoff = (await session.execute(select(Handoff))).scalar_one()
    assert "Zalo OA" in await (await client.get("/staff/inbox/list")).text()
    token = await page_csrf(client, f"/staff/inbox/{handoff.id}")
    await client.post(f"/staff/inbox/{handoff.id}/answer",
                      data={"csrf": token, "text": "Anh ra quầy số 1 nhé"})  # fmt: skip
    last = zalo.messages_to(USER)[-1]
    assert "Anh ra quầy số 1 nhé" in last.text

