"""The web chat in a real headless Chromium at a phone's size (Debian's chromium, no download)."""

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from bot.app import create_app
from bot.engine import Engine
from bot.settings import Settings

PHONE = {"width": 360, "height": 740}


@pytest.fixture
async def page(aiohttp_server, engine: Engine, browser: Browser) -> AsyncIterator[Page]:
    server = await aiohttp_server(create_app(Settings(database_url=engine.database.url), engine))
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(str(server.make_url("/")))
    yield page
    await context.close()


async def test_ask_tap_and_read_the_next_step_on_a_phone(page: Page) -> None:
    await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
    await page.fill("#text", "cai vneid the nao")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("Bước 1/3: Mở kho ứng dụng")

    await page.locator(".buttons").last.get_by_role("button", name="Tiếp ▶").tap()
    await expect(page.locator(".msg.bot").last).to_contain_text("Bước 2/3: Tìm đúng ứng dụng")
    await expect(page.locator(".msg.user").last).to_have_text("Tiếp ▶")

    tap_target = await page.locator(".buttons").last.locator("button").first.bounding_box()
    assert tap_target and tap_target["height"] >= 48, "buttons are big enough for a thumb"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_html_typed_by_a_user_is_shown_as_text_never_run(page: Page) -> None:
    await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
    await page.evaluate("window.pwned = false")
    attack = '<img src=x onerror="window.pwned = true"><b>đậm</b>'
    await page.fill("#text", attack)
    await page.click("form button")
    await expect(page.locator(".msg.user").last).to_have_text(attack)
    await expect(page.locator(".msg.bot").last).to_contain_text("chưa có hướng dẫn")
    assert await page.locator("main img, main b").count() == 0
    assert await page.evaluate("window.pwned") is False
