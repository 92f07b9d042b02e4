"""The staff console in real headless Chromium (Debian's, no download) at 1280x800 and 360x740,
against the app on loopback with the fake Telegram. Every page is screenshotted into
tests/screenshots/ (see the README) so a person can look at them."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from bot.app import create_app
from bot.engine import Engine
from storage.models import Contact, Handoff, Subscription
from storage.tickets import create_ticket
from tests.conftest import ROOT
from tests.console_helpers import PASSWORD, TelegramCitizen, add_account, telegram_settings
from tests.fake_telegram import FakeTelegram
from tests.test_console_outreach import volunteer_login

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}
QUESTION = "Tôi 70 tuổi, không có điện thoại thông minh thì làm căn cước sao?"


@pytest.fixture
async def telegram() -> FakeTelegram:
    async with FakeTelegram() as fake:
        yield fake


class Console:
    """The app on loopback, a browser context of one size, and what the page complained about."""

    def __init__(self, server, http, browser: Browser, size: str):
        self.server, self.http, self.browser, self.size = server, http, browser, size
        self.csp_errors: list[str] = []

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def new_page(self) -> Page:
        context = await self.browser.new_context(**SIZES[self.size])
        page = await context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", self._console)
        return page

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp_errors.append(message.text)

    async def shot(self, page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.size}.png"), full_page=True)
        if self.size == "phone":
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{name} scrolls sideways on a phone ({width}px)"

    async def log_in(self, page: Page, username: str, password: str = PASSWORD) -> None:
        await page.goto(self.url("/staff/login"))
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit].primary")


@pytest.fixture(params=list(SIZES))
async def console(
    request, aiohttp_server, aiohttp_client, engine: Engine, telegram, browser, tmp_path
):
    settings = telegram_settings(
        engine.database.url, telegram, poster_cache_dir=tmp_path / "posters"
    )
    app = create_app(settings, engine)
    server = await aiohttp_server(app)
    http = await aiohttp_client(server)
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    return Console(server, http, browser, request.param)


async def test_a_day_at_the_console(console: Console, engine: Engine, telegram) -> None:
    page = await console.new_page()
    await page.goto(console.url("/staff/"))
    await expect(page.locator("h1")).to_have_text("Đăng nhập")
    await console.shot(page, "login")
    await console.log_in(page, "lan", "sai-mat-khau")
    await expect(page.get_by_role("alert")).to_contain_text("không đúng")
    await console.log_in(page, "lan")
    await expect(page.locator("h1")).to_contain_text("Hôm nay")
    await console.shot(page, "today")

    # A Telegram citizen asks for staff while the inbox is open: it appears without a reload.
    await page.get_by_role("link", name="Hộp thư").click()
    await expect(page.locator(".counter")).to_contain_text("0 người đang chờ")
    await console.shot(page, "inbox-empty")
    citizen = TelegramCitizen(console.http, telegram, first_name="Nguyễn Văn", last_name="An")
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    await expect(page.locator(".items")).to_contain_text("Tôi 70 tuổi")
    # The name their Telegram account shows, next to the channel.
    await expect(page.locator(".items .citizen-name")).to_have_text("Nguyễn Văn An")
    await expect(page.locator(".counter")).to_contain_text("1 người đang chờ")
    await console.shot(page, "inbox")

    await page.locator(".items a").first.click()
    await expect(page.locator(".thread")).to_contain_text("Tôi 70 tuổi")
    await expect(page.locator(".thread-head h1")).to_contain_text("Nguyễn Văn An")
    await console.shot(page, "inbox-thread")
    await page.fill("textarea[name=text]", "Bác mang giấy tờ ra Trung tâm, cán bộ làm giúp ạ")
    await page.get_by_role("button", name="Gửi", exact=True).click()
    await expect(page.locator(".notice")).to_contain_text("Đã gửi")
    assert "Bác mang giấy tờ ra Trung tâm" in citizen.received()[-1]
    # The citizen's reply shows up in the open thread by itself.
    await citizen.say("Dạ cảm ơn cán bộ")
    await expect(page.locator(".thread")).to_contain_text("Dạ cảm ơn cán bộ")

    # A web-chat citizen: the answer appears on their open page, and again after a reload.
    web = await console.new_page()
    await web.goto(console.url("/"))
    await expect(web.locator(".msg.bot").first).to_contain_text("Xin chào")
    for text in ("gặp cán bộ", "Làm sao đổi tên trên VNeID?"):
        await web.fill("#text", text)
        await web.press("#text", "Enter")
        await expect(web.locator(".msg.user").last).to_have_text(text)
    await expect(web.locator(".msg.bot").last).to_contain_text("chuyển câu hỏi cho cán bộ")
    await page.get_by_role("link", name="Hộp thư").click()
    await expect(page.locator(".items")).to_contain_text("đổi tên trên VNeID")
    await page.locator(".items a", has_text="đổi tên trên VNeID").click()
    await page.fill("textarea[name=text]", "Bạn ra quầy số 2 mang theo CCCD nhé")
    await page.get_by_role("button", name="Gửi", exact=True).click()
    await expect(web.locator(".msg.staff")).to_contain_text("quầy số 2")
    await console.shot(web, "webchat-answer")
    await web.reload()
    await expect(web.locator(".msg.staff")).to_contain_text("quầy số 2")
    await page.get_by_role("button", name="Kết thúc").click()
    await expect(page.locator(".notice")).to_contain_text("kết thúc")
    await expect(web.locator(".msg.staff").last).to_contain_text("giúp được bạn")

    # A ticket answered (the citizen is told on Telegram) and closed.
    async with engine.database.session() as session, session.begin():
        ticket = await create_ticket(
            session, channel="telegram", chat_id=str(citizen.chat_id),
            content="Đường vào ấp Hòa Long ngập nước", reply_contact=None,
            now=datetime.now(UTC), year=2026, due=date.today() - timedelta(days=1),
        )  # fmt: skip
        number = ticket.number
    await page.get_by_role("link", name="Phản ánh").click()
    await expect(page.locator("tr.overdue")).to_contain_text(number)
    await console.shot(page, "tickets")
    await page.get_by_role("link", name=number).click()
    await page.fill("textarea[name=text]", "Xã đã cho bơm nước, cảm ơn bác.")
    await page.get_by_role("button", name="Gửi", exact=True).click()
    await expect(page.locator(".notice")).to_contain_text("Đã trả lời")
    assert "Xã đã cho bơm nước" in citizen.received()[-1]
    await console.shot(page, "ticket")
    await page.get_by_role("button", name="Đóng phản ánh").click()
    await expect(page.locator(".notice")).to_contain_text("Đã đóng")

    # The in-person log: a few taps.
    await page.get_by_role("link", name="Nhật ký").click()
    await page.fill("#topic", "Cài VNeID")
    await page.fill("#people", "3")
    await page.check("input[name=online]")
    await page.select_option("#place", label="Ấp Hòa Long")
    await page.get_by_role("button", name="Ghi nhật ký").click()
    await expect(page.locator("table")).to_contain_text("Cài VNeID")
    await console.shot(page, "log")

    # A forged CSRF token is refused.
    await page.evaluate("document.querySelector('.log-form input[name=csrf]').value = 'forged'")
    await page.fill("#topic", "Giả mạo")
    await page.get_by_role("button", name="Ghi nhật ký").click()
    await expect(page.locator("h1")).to_have_text("Không có quyền")

    # The citizen's record, then erasing it (admin), which the audit log shows.
    await page.goto(console.url("/staff/inbox"))
    await page.goto(console.url("/staff/contacts/1"))
    await expect(page.locator("h1")).to_contain_text("Người dân #1")
    await console.shot(page, "contact")
    await page.check("input[name=confirm]")
    await page.get_by_role("button", name="Xoá dữ liệu").click()
    await expect(page.locator(".notice")).to_contain_text("Đã xoá dữ liệu")
    await expect(page.locator("table.audit")).to_contain_text("contact:1")
    await console.shot(page, "audit")
    await page.goto(console.url("/staff/canned"))
    await console.shot(page, "canned")
    await page.get_by_role("link", name="Quản trị").click()
    await expect(page.locator("table.accounts")).to_contain_text("Trần Thị Lan")
    await console.shot(page, "accounts")
    assert console.csp_errors == []


async def test_volunteer_is_kept_to_their_own_page(console: Console, engine: Engine) -> None:
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    page = await console.new_page()
    await console.log_in(page, "tv05")
    await expect(page.locator("h1")).to_have_text("Lê Văn Tư")
    await console.shot(page, "volunteer-me")
    response = await page.goto(console.url("/staff/inbox"))
    assert response is not None and response.status == 403
    await expect(page.locator("h1")).to_have_text("Không có quyền")
    await console.shot(page, "forbidden")


async def test_lockout_after_five_wrong_passwords(console: Console) -> None:
    page = await console.new_page()
    for _ in range(5):
        await console.log_in(page, "lan", "doan-mo-mat-khau")
        await expect(page.get_by_role("alert")).to_contain_text("không đúng")
    await console.log_in(page, "lan")
    await expect(page.locator("h1")).to_have_text("Tạm khoá đăng nhập")
    await console.shot(page, "lockout")


async def test_a_zalo_citizen_past_the_reply_window(console: Console, engine: Engine) -> None:
    """A hand-off from a Zalo citizen who last wrote 8 days ago, from a hamlet: the inbox says
    where they live and how long they waited, and the thread offers the hotline, no reply box."""
    long_ago = datetime.now(UTC) - timedelta(days=8)
    async with engine.database.session() as session, session.begin():
        contact = Contact(channel="zalo", chat_id="z1", first_seen=long_ago, last_seen=long_ago)
        session.add(contact)
        await session.flush()
        session.add(Subscription(contact_id=contact.id, tags=["Ấp Bình Phú"], updated_at=long_ago))
        session.add(Handoff(channel="zalo", chat_id="z1", question="Hỏi về đăng ký khai sinh",
                            opened_at=long_ago))  # fmt: skip
    page = await console.new_page()
    await console.log_in(page, "lan", "sai-mat-khau")
    await expect(page.get_by_role("alert")).to_contain_text("không đúng")
    await console.shot(page, "login-wrong")
    await console.log_in(page, "lan")
    await expect(page.locator("#fig-waiting")).to_have_text("1")
    await console.shot(page, "today-waiting")
    if console.size == "desktop":  # an admin sees every page's link, the last ones included
        right = await page.evaluate(
            "Math.max(...[...document.querySelectorAll('.nav a')]"
            ".map(a => a.getBoundingClientRect().right))"
        )
        assert right <= 1280, f"a page's link is past the edge ({right}px)"
    await page.get_by_role("link", name="Hộp thư").click()
    await expect(page.locator(".items .village")).to_have_text("📍 Ấp Bình Phú")
    await expect(page.locator(".counter")).to_contain_text("8 ngày")
    await page.locator(".items a").first.click()
    await expect(page.locator("#window-notice")).to_contain_text("Đã quá 7 ngày")
    await expect(page.locator("#window-notice")).to_contain_text("Zalo OA")
    hotline = str(engine.library.profile["hotline"])
    await expect(page.locator("#window-notice")).to_contain_text(hotline)
    await expect(page.locator("textarea[name=text]")).to_have_count(0)
    await console.shot(page, "inbox-window")
    assert console.csp_errors == []


async def test_an_open_inbox_says_when_its_login_ended(
    console: Console, engine: Engine, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new password elsewhere: the open inbox stops showing citizens' questions and says so."""
    from bot.console import inbox
    from storage.accounts import account_by_login, set_password

    monkeypatch.setattr(inbox, "SESSION_CHECK_SECONDS", 0.0)
    page = await console.new_page()
    await console.log_in(page, "lan")
    await page.get_by_role("link", name="Hộp thư").click()
    await expect(page.locator(".counter")).to_contain_text("0 người đang chờ")
    await expect(page.locator("#live-lost")).to_be_hidden()
    async with engine.database.session() as session, session.begin():
        account = await account_by_login(session, "lan")
        await set_password(session, account, account.password_hash, datetime.now(UTC))
    citizen = TelegramCitizen(console.http, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    await expect(page.locator("#live-lost")).to_be_visible()
    await expect(page.locator(".items")).not_to_contain_text("Tôi 70 tuổi")
    await console.shot(page, "inbox-logged-out")
    await page.get_by_role("link", name="Tải lại trang").click()
    await expect(page.locator("h1")).to_have_text("Đăng nhập")
    assert console.csp_errors == []


async def test_outreach_pages(console: Console, engine: Engine) -> None:
    """Reports (part 2): a seeded month, its charts, the summary copied with one button."""
    from tests.test_reports import seed

    await seed(engine.database)
    page = await console.new_page()
    await console.log_in(page, "lan")
    await page.get_by_role("link", name="Báo cáo").click()
    await page.fill("#month", "2026-11")
    await page.get_by_role("button", name="Xem tháng").click()
    await expect(page.locator("h1")).to_contain_text("Tháng 11/2026")
    await expect(page.locator('[data-figure="sessions"]')).to_have_text("4")
    await expect(page.locator(".chart img")).to_have_count(2)
    await page.get_by_role("button", name="Sao chép").click()
    await expect(page.locator("[data-copied]")).to_be_visible()
    await console.shot(page, "reports")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Tải bảng tính XLSX").click()
    download = await waiting.value
    assert download.suggested_filename == "bao-cao-thang-2026-11-01.xlsx"

    # Posters: the counter's, then a guide's large print, previewed and downloaded.
    await page.get_by_role("link", name="Áp phích").click()
    await expect(page.locator("#preview-title")).to_have_text("Áp phích tại quầy")
    await expect(page.locator(".poster-preview img")).to_have_js_property("complete", True)
    await console.shot(page, "posters")
    await page.locator(".items li", has_text="Cài ứng dụng VNeID").get_by_role(
        "link", name="Bản chữ to"
    ).click()
    await expect(page.locator("#preview-title")).to_contain_text("(chữ to)")
    preview = page.locator(".poster-preview img")
    await expect(preview).to_have_js_property("complete", True)
    assert await preview.evaluate("img => img.naturalWidth") == 720
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Tải PDF").click()
    download = await waiting.value
    assert download.suggested_filename == "vneid-cai-dat-large.pdf"
    await console.shot(page, "poster-guide")
    await page.set_input_files("#csv", str(ROOT / "tests" / "data" / "procedures_mixed.csv"))
    await page.get_by_role("button", name="Tạo bảng").click()
    await expect(page.locator("#procedures .notice")).to_contain_text("Đã tạo bảng 3 thủ tục")
    await expect(page.locator("table.rejected tr[data-line]")).to_have_count(5)
    await expect(page.locator(".sheet-preview img")).to_have_js_property("complete", True)
    await console.shot(page, "posters-procedures")
    await page.get_by_role("button", name="Tạo tệp ZIP").click()
    await expect(page.get_by_role("link", name="Tải tệp ZIP")).to_be_visible(timeout=60_000)
    await expect(page.locator("[data-progress-text]")).to_have_text("4/4")
    await console.shot(page, "posters-all")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Tải tệp ZIP").click()
    assert (await waiting.value).suggested_filename == "ap-phich.zip"

    # Volunteers: the ranking, one volunteer's links and QR codes; then the volunteer's own page.
    mai = await volunteer_login(engine, "mai", "Phạm Thị Mai", "TV09")
    await page.get_by_role("link", name="Tình nguyện viên", exact=True).click()
    await expect(page.locator("table.volunteers")).to_contain_text("TV09")
    await expect(page).to_have_title("Tình nguyện viên · TroLy")
    await page.fill("#name", "Võ Văn Ba")
    await page.fill("#code", "tv10")
    await page.get_by_role("button", name="Thêm", exact=True).click()
    await expect(page.locator(".notice")).to_contain_text("Đã thêm tình nguyện viên Võ Văn Ba")
    await page.get_by_role("link", name="Tình nguyện viên", exact=True).click()
    await expect(page.locator("table.volunteers")).to_contain_text("TV10")
    await console.shot(page, "volunteers")
    await page.get_by_role("link", name="Phạm Thị Mai").click()
    await expect(page.locator("h1")).to_have_text("Phạm Thị Mai")
    qr = page.locator("details.share[open] img").first
    await expect(qr).to_have_js_property("complete", True)
    assert await qr.evaluate("img => img.naturalWidth") > 100
    await console.shot(page, "volunteer")
    own = await console.new_page()
    await console.log_in(own, "mai")
    await expect(own.locator("h1")).to_have_text("Phạm Thị Mai")
    await expect(own.locator("#fig-people")).to_have_text("0")
    await console.shot(own, "volunteer-me-links")
    response = await own.goto(console.url(f"/staff/volunteers/{mai - 1}"))
    assert response is not None and response.status == 403

    # The guide library: try a question as a citizen types it, then read the guide it finds.
    await page.get_by_role("link", name="Hướng dẫn").click()
    await console.shot(page, "guides")
    await page.fill("#q", "cai vneid the nao")
    await page.get_by_role("button", name="Thử").click()
    await expect(page.locator(".asked")).to_contain_text("trả lời ngay")
    await expect(page.locator("table.results")).to_contain_text("Cài ứng dụng VNeID")
    await console.shot(page, "guides-ask")
    await page.locator("table.results a").first.click()
    await expect(page.locator("h1")).to_have_text("#11 Cài ứng dụng VNeID")
    await expect(page.locator(".steps li")).to_have_count(3)
    await console.shot(page, "guide")

    # Settings (admins): the profile, and the checks of `troly doctor` at the press of a button.
    await page.get_by_role("link", name="Cài đặt").click()
    await expect(page.locator("#f-centre_name")).to_have_value(re.compile("Hòa An"))
    await page.get_by_role("button", name="Kiểm tra ngay").click()
    await expect(page.locator(".checks")).to_contain_text("database")
    await console.shot(page, "settings")
    assert console.csp_errors == []
