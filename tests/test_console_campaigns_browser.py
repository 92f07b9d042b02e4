"""The campaign pages in real headless Chromium at 1280x800 and 360x740: compose with the
length counters, preview on each channel, a second account approves (the author cannot), send,
and the progress reaches 100% on the page without a reload; screenshots of every step."""

from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import expect

from bot.app import create_app
from bot.campaigns import worker
from bot.engine import Engine
from tests.console_helpers import add_account
from tests.fake_meta import FakeMeta
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_console_browser import SIZES, Console
from tests.test_console_campaigns import TEXT, add_subscribers, received, three_channel_settings
from tests.test_console_campaigns import meta as meta  # the fixtures, re-exported by name
from tests.test_console_campaigns import telegram as telegram
from tests.test_console_campaigns import zalo as zalo


@pytest.fixture(params=list(SIZES))
async def console(
    request, aiohttp_server, aiohttp_client, engine: Engine, telegram: FakeTelegram,
    zalo: FakeZalo, meta: FakeMeta, browser, tmp_path: Path,
) -> Console:  # fmt: skip
    # Throttled a little, so the page is seen following the send on its way to 100%.
    settings = three_channel_settings(
        engine.database.url, telegram, zalo, tmp_path, rate=60,
        campaign_worker_seconds=0.3,
    )  # fmt: skip
    app = create_app(settings, engine)
    worker.setup(app)
    server = await aiohttp_server(app)
    http = await aiohttp_client(server)
    await add_account(engine.database, "lan", "staff", "Trần Thị Lan")
    await add_account(engine.database, "minh", "staff", "Lê Văn Minh")
    return Console(server, http, browser, request.param)


async def test_compose_preview_approve_send_and_watch_it_reach_100_percent(
    console: Console, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    await add_subscribers(engine.database)
    poster = tmp_path / "tuan-le.png"
    Image.new("RGB", (640, 360), (11, 83, 148)).save(poster)

    page = await console.new_page()
    await console.log_in(page, "lan")
    await page.get_by_role("link", name="Chiến dịch").click()
    await console.shot(page, "campaigns-empty")
    await page.get_by_role("link", name="Chiến dịch mới").click()
    await page.fill("#title", "Tuần lễ DVC trực tuyến")
    await page.fill("#text", TEXT)
    telegram_counter = page.locator("[data-counter][data-utf16] output")
    footer = int(await page.locator("[data-counter][data-utf16]").get_attribute("data-extra"))
    await expect(telegram_counter).to_have_text(str(len(TEXT) + footer))
    await page.select_option("#guide", "vneid-cai-dat")
    await page.set_input_files("#image", str(poster))
    await console.shot(page, "campaign-compose")
    await page.get_by_role("button", name="Lưu nháp và xem trước").click()

    await expect(page.locator("[data-recipients]")).to_have_text("300")
    await expect(page.locator("[data-preview]")).to_have_count(4)
    telegram_preview = page.locator('[data-preview="telegram"]')
    await expect(telegram_preview).to_contain_text("Cài ứng dụng VNeID")
    await expect(telegram_preview.locator("img")).to_have_js_property("complete", True)
    await expect(page.locator('[data-held="opted_out"]')).to_contain_text("3")
    await expect(page.get_by_role("button", name="Duyệt chiến dịch")).to_have_count(0)
    await console.shot(page, "campaign-preview")
    await page.get_by_role("button", name="Gửi ngay").click()
    await expect(page.locator('[data-said="need_approval"]')).to_be_visible()
    url = page.url.split("?")[0]

    second = await console.new_page()
    await console.log_in(second, "minh")
    await second.goto(url)
    await second.get_by_role("button", name="Duyệt chiến dịch").click()
    await expect(second.locator('[data-said="approved"]')).to_be_visible()
    await console.shot(second, "campaign-approved")

    await page.goto(url)
    await page.get_by_role("button", name="Gửi ngay").click()
    await expect(page.locator('[data-said="sending"]')).to_be_visible()
    await page.evaluate("window.drawnOnce = true")  # gone if the page were reloaded
    # Live: figures move while the same page stays up, until the worker is done.
    moving = "() => window.drawnOnce && Number(document.querySelector('[data-live-field=sent]')" \
             ".textContent) > 0"  # fmt: skip
    for _ in range(300):  # polled from here: the page's CSP forbids Playwright's own polling
        if await page.evaluate(moving):
            break
        await page.wait_for_timeout(100)
    else:
        raise AssertionError("the progress never moved without a reload")
    await console.shot(page, "campaign-sending")
    await expect(page.locator('[data-reach="channels"]')).to_be_visible(timeout=60_000)
    await expect(page.locator('[data-live-field="percent"]')).to_have_text("100")
    await expect(page.locator('[data-live-field="sent"]')).to_have_text("300")
    await console.shot(page, "campaign-reach")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Tải bảng tính XLSX").click()
    assert (await waiting.value).suggested_filename.endswith("-tiep-can.xlsx")
    await page.get_by_role("link", name="← Chiến dịch").click()
    await expect(page.locator("tr[data-campaign]")).to_contain_text("100%")
    await console.shot(page, "campaigns")

    got = received(telegram, zalo, meta)
    assert len(got) == 300 and set(got.values()) == {1}
    assert not console.csp_errors, console.csp_errors
