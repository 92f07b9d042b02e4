"""/staff/surveys: a round opened from the browser, answered in the chat, its results on the page
and in the XLSX, closed again; volunteers see none of it. Screenshots at both sizes."""

import io
from pathlib import Path

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from bot.app import create_app
from bot.engine import Engine
from bot.settings import Settings
from tests.conftest import Chat
from tests.console_helpers import add_account, login, page_csrf

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


async def console(aiohttp_client, engine: Engine, role: str = "staff") -> TestClient:
    client = await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))
    await add_account(engine.database, "hoa", role, "Nguyễn Thị Hoa")
    await login(client, "hoa")
    return client


async def post(client: TestClient, path: str) -> int:
    token = await page_csrf(client, "/staff/surveys")
    response = await client.post(path, data={"csrf": token}, allow_redirects=False)
    return response.status


async def test_a_round_opened_answered_read_and_closed_from_the_console(
    aiohttp_client, engine: Engine, browser
) -> None:
    client = await console(aiohttp_client, engine)
    listing = await (await client.get("/staff/surveys")).text()
    assert "#KS1" in listing and "Đang đóng" in listing
    assert await post(client, "/staff/surveys/ky-nang-so/open") == 303
    assert "Đợt 1 đang mở" in await (await client.get("/staff/surveys")).text()

    chat = Chat(engine, "web", "citizen-survey")
    await chat.say("#KS1")
    await chat.press("▶️ Bắt đầu")
    await chat.say("1")  # typing the number presses the first option
    page = await (await client.get("/staff/surveys/ky-nang-so")).text()
    assert "Đợt 1: 1 người trả lời" in page and "Đoạn văn để dán vào báo cáo" in page

    response = await client.get("/staff/surveys/ky-nang-so/1.xlsx")
    assert response.status == 200
    workbook = load_workbook(io.BytesIO(await response.read()))
    assert len(workbook.sheetnames) >= 3

    for name, size in (("desktop", (1280, 800)), ("phone", (360, 740))):
        context = await browser.new_context(viewport={"width": size[0], "height": size[1]})
        context_cookies = [
            {"name": c.key, "value": c.value, "url": str(client.make_url("/staff/"))}
            for c in client.session.cookie_jar
        ]
        await context.add_cookies(context_cookies)
        page_ = await context.new_page()
        await page_.goto(str(client.make_url("/staff/surveys/ky-nang-so")))
        assert await page_.locator("h1").inner_text() != ""
        SCREENSHOTS.mkdir(exist_ok=True)
        await page_.screenshot(path=str(SCREENSHOTS / f"surveys-{name}.png"), full_page=True)
        assert await page_.evaluate("document.documentElement.scrollWidth") <= size[0] + 1
        await context.close()

    assert await post(client, "/staff/surveys/ky-nang-so/close") == 303
    assert "Đang đóng" in await (await client.get("/staff/surveys")).text()


async def test_volunteers_get_403_on_survey_pages(aiohttp_client, engine: Engine) -> None:
    client = await console(aiohttp_client, engine, role="volunteer")
    assert (await client.get("/staff/surveys")).status == 403
    assert (await client.get("/staff/surveys/ky-nang-so/1.xlsx")).status == 403
