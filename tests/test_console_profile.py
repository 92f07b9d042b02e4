"""The commune profile edited from /staff/settings: the rules of `troly content check` beside
each field, nothing written when a field is wrong, CSRF, admins only, the audit log, the file
still passing `troly content check` afterwards, and the bot answering with the new values
without a restart. Also the guide page per channel and the report's targets."""

import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from sqlmodel import select

from bot import actions
from bot.app import create_app
from bot.engine import Engine
from bot.library import load_library
from bot.settings import Settings
from storage.db import Database
from storage.models import AuditEvent
from tests.channel_env import set_env, telegram_env
from tests.conftest import FULL_LIBRARY
from tests.console_helpers import add_account, csrf_in, login
from tests.test_console_outreach import troly

HOTLINE = "0296 3 800 123"  # the example profile's
NEW_HOTLINE = "0296 3 811 999"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The example library in a folder of the test's own: the settings page writes into it."""
    folder = tmp_path / "content"
    shutil.copytree(FULL_LIBRARY, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return folder


@pytest.fixture
def full_engine(sqlite_database: Database, content: Path) -> Engine:
    return Engine(load_library(content), sqlite_database)


@pytest.fixture
async def admin(aiohttp_client, full_engine: Engine, content: Path):
    settings = Settings(database_url=full_engine.database.url, content_dir=content)
    client = await aiohttp_client(create_app(settings, full_engine))
    await add_account(full_engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    return client


def form_of(page: str) -> dict[str, str]:
    """The profile form's fields as the page fills them (a browser would send them back)."""
    form = page.split('action="/staff/settings/profile"', 1)[1].split("</form>", 1)[0]
    inputs = re.findall(r'<input[^>]* name="([^"]+)" value="([^"]*)"', form)
    fields = {name: unescape(value) for name, value in inputs}
    for name, text in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        fields[name] = unescape(text)
    return fields


async def chat(client, **body: str) -> str:
    response = await client.post("/api/chat", json={"session": "settings-test", **body})
    assert response.status == 200
    return "\n".join(r["text"] for r in (await response.json())["replies"])


async def test_an_invalid_profile_is_refused_beside_its_fields_and_nothing_is_written(
    admin, full_engine: Engine, content: Path
) -> None:
    before = (content / "profile.yaml").read_bytes()
    page = await (await admin.get("/staff/settings")).text()
    fields = form_of(page)
    assert fields["hotline"] == HOTLINE and "Ấp Bình Phú" in fields["villages"]
    assert fields["targets.satisfaction_percent"] == "95"
    fields.update({
        "hotline": "gọi anh Bình", "centre_name": "",
        "villages": "Ấp Hòa Thạnh\nẤp Hòa Long\nấp hòa long",
        "targets.satisfaction_percent": "150", "targets.in_person_people": "nhiều",
    })  # fmt: skip
    response = await admin.post("/staff/settings/profile", data=fields, allow_redirects=False)
    assert response.status == 422
    shown = unescape(await response.text())
    assert "Chưa lưu" in shown
    for field, message in [
        ("hotline", "Chỉ gồm chữ số"),
        ("centre_name", "Không được để trống."),
        ("villages", "“ấp hòa long” bị ghi hai lần."),
        ("targets-satisfaction_percent", "lớn hơn 0 và không quá 100"),
        ("targets-in_person_people", "Nhập một số"),
    ]:
        error = re.search(rf'id="err-{field}">(.*?)</ul>', shown, re.S)
        assert error and message in error.group(1), field
    # What was typed is still in the form, to correct.
    assert 'value="gọi anh Bình"' in shown and 'value="150"' in shown
    assert (content / "profile.yaml").read_bytes() == before
    assert full_engine.library.profile["hotline"] == HOTLINE
    async with full_engine.database.session() as session:
        assert (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "profile_edit"))).first() is None  # fmt: skip


async def test_a_saved_profile_is_what_the_bot_answers_and_content_check_passes(
    admin, full_engine: Engine, content: Path, tmp_path: Path
) -> None:
    assert HOTLINE in await chat(admin, action=actions.guide_step("lien-he-trung-tam", 3))
    fields = form_of(await (await admin.get("/staff/settings")).text())
    fields.update({
        "hotline": NEW_HOTLINE,
        "address": "Số 9 đường Mới, ấp Hòa Long, xã Hòa An, tỉnh An Giang",
        "villages": fields["villages"] + "\nẤp Tân Lợi",
        "targets.satisfaction_percent": "90,5", "targets.sessions": "3000",
        "targets.in_person_people": "",
    })  # fmt: skip
    csrf = fields.pop("csrf")
    forged = await admin.post("/staff/settings/profile", data={**fields, "csrf": "forged"})
    assert forged.status == 403
    response = await admin.post(
        "/staff/settings/profile", data={**fields, "csrf": csrf}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"].startswith("/staff/settings")
    saved = await (await admin.get(response.headers["Location"])).text()
    assert "Đã lưu" in saved and f'value="{NEW_HOTLINE}"' in saved

    # The file: the new values, every comment kept, and `troly content check` passes on it.
    text = (content / "profile.yaml").read_text(encoding="utf-8")
    assert f"hotline: {NEW_HOTLINE}" in text and "Ấp Tân Lợi" in text
    assert text.startswith("# VÍ DỤ / EXAMPLE")
    assert "satisfaction_percent: 90.5  # người dân hài lòng" in text
    assert "in_person_people" not in text and "sessions: 3000" in text
    check = troly(full_engine, tmp_path, "content", "check", env={"CONTENT_DIR": str(content)})
    assert check.returncode == 0, check.stdout + check.stderr

    # The bot answers with the new values at once, without a restart: the web chat, and the
    # contact guide's hotline step.
    assert NEW_HOTLINE in await chat(admin, action=actions.guide_step("lien-he-trung-tam", 3))
    assert "Số 9 đường Mới" in await chat(admin, text="#60")
    assert full_engine.library.profile["targets"] == {
        "in_person_online_percent": 80, "satisfaction_percent": 90.5,
        "tickets_on_time_percent": 100, "sessions": 3000,
    }  # fmt: skip

    async with full_engine.database.session() as session:
        row = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "profile_edit"))).scalar_one()  # fmt: skip
    assert row.actor == "Trần Thị Lan" and row.target == "profile"
    assert row.detail == "address, hotline, villages, targets"


async def test_only_admins_see_or_change_the_profile(
    admin, aiohttp_client, full_engine: Engine, content: Path
) -> None:
    before = (content / "profile.yaml").read_bytes()
    fields = form_of(await (await admin.get("/staff/settings")).text())
    for role in ("staff", "volunteer"):
        other = await aiohttp_client(admin.server)
        await add_account(full_engine.database, role, role)
        await login(other, role)
        assert (await other.get("/staff/settings")).status == 403
        home = "/staff/me" if role == "volunteer" else "/staff/"
        token = csrf_in(await (await other.get(home)).text())
        data = {**fields, "csrf": token, "hotline": NEW_HOTLINE}
        posted = await other.post("/staff/settings/profile", data=data)
        assert posted.status == 403
    assert (content / "profile.yaml").read_bytes() == before


TEXT = re.compile(r'<span class="text">(.*?)</span>', re.S)
BUTTONS = re.compile(r'<span class="chat-buttons">(.*?)</span></span>', re.S)


@pytest.fixture
def every_channel(full_engine: Engine, content: Path) -> Settings:
    """Zalo OA, the Zalo Bot and Messenger configured (nothing is sent here); the conftest
    fixture puts the environment back."""
    set_env(messenger_page_token="page-token", messenger_app_secret="app-secret",
            messenger_verify_token="verify", messenger_api_url="http://127.0.0.1:9",
            zalo_app_id="1", zalo_app_secret="s", zalo_oa_secret_key="k",
            zalo_bot_token="1:bot")  # fmt: skip
    return Settings(database_url=full_engine.database.url, content_dir=content)


async def test_a_guide_as_each_channel_shows_it(
    aiohttp_client, full_engine: Engine, every_channel: Settings
) -> None:
    from bot.channels.base import get_channel
    from bot.guide_steps import step_replies

    client = await aiohttp_client(create_app(every_channel, full_engine))
    await add_account(full_engine.database, "binh", "staff")
    await login(client, "binh")
    guide = full_engine.library.guides["vneid-cai-dat"]
    page = await (await client.get(f"/staff/guides/{guide.id}")).text()
    # Kept: the source, the code, the checked date, the opens and the rating.
    assert guide.source in unescape(page) and f"#{guide.code}" in page
    assert "Kiểm tra lần cuối" in page and 'id="fig-opened"' in page and "hài lòng" in page
    switch = re.findall(r'href="/staff/guides/vneid-cai-dat\?channel=(\w+)#seen"', page)
    assert switch == ["web", "messenger", "zalo", "zalo_bot"]  # Telegram is not configured
    assert 'data-channel="web"' in page

    last = len(guide.steps)
    for name in switch:
        channel = get_channel(name)
        shown = await (await client.get(f"/staff/guides/{guide.id}?channel={name}")).text()
        assert f'data-channel="{name}"' in shown
        expected = [m for n in range(1, last + 1)
                    for m in channel.show(step_replies(full_engine.library, guide, n))]  # fmt: skip
        assert [unescape(t) for t in TEXT.findall(shown)] == [m.text for m in expected], name
        labels = [re.findall(r'class="chat-button">([^<]*)</', b + "</")
                  for b in BUTTONS.findall(shown)]  # fmt: skip
        assert [[unescape(x) for x in b] for b in labels] == [list(m.buttons) for m in expected
                                                              if m.buttons]  # fmt: skip
        for message in expected:
            assert len(message.text) <= channel.limits.text_chars
            assert all(len(b) <= channel.limits.button_label_chars for b in message.buttons)
            assert len(message.buttons) <= channel.limits.buttons

    # What differs between them, as a citizen would notice: the Zalo Bot has no buttons, so the
    # choices are numbered lines to type; Messenger cuts a long guide title to 20 characters.
    zalo_bot = await (await client.get(f"/staff/guides/{guide.id}?channel=zalo_bot")).text()
    assert 'class="chat-button"' not in zalo_bot and "  1. " in unescape(zalo_bot)
    assert "không có nút" in zalo_bot
    web = await (await client.get(f"/staff/guides/{guide.id}?channel=web")).text()
    related = [full_engine.library.guides[r].title for r in guide.related]
    assert all(title in unescape(web) for title in related)
    messenger = unescape(
        await (await client.get(f"/staff/guides/{guide.id}?channel=messenger")).text()
    )
    assert any(len(t) > 20 and t[:19] + "…" in messenger for t in related)
    # An unknown channel shows the web.
    assert 'data-channel="web"' in await (await client.get(
        f"/staff/guides/{guide.id}?channel=nope")).text()  # fmt: skip


# --- in real Chromium, 1280x800 and 360x740, screenshots into tests/screenshots/ ---------------


@pytest.fixture(params=["desktop", "phone"])
async def console(request, aiohttp_server, aiohttp_client, full_engine: Engine,
                  every_channel: Settings, browser):  # fmt: skip
    from tests.console_helpers import SECRET
    from tests.fake_telegram import FakeTelegram
    from tests.test_console_browser import Console

    async with FakeTelegram() as telegram:
        telegram_env(telegram, SECRET)
        server = await aiohttp_server(create_app(every_channel, full_engine))
        http = await aiohttp_client(server)
        await add_account(full_engine.database, "lan", "admin", "Trần Thị Lan")
        yield Console(server, http, browser, request.param)


async def test_targets_guides_per_channel_and_profile_editing_in_a_browser(
    console, full_engine: Engine, content: Path
) -> None:
    from playwright.async_api import expect

    from tests.test_reports import seed

    await seed(full_engine.database)
    page = await console.new_page()
    await console.log_in(page, "lan")

    # Reports: the year so far beside each target of the profile.
    await page.goto(console.url("/staff/reports?kind=month&period=2026-11"))
    targets = page.locator("#targets")
    await expect(targets.locator("tbody tr")).to_have_count(4)
    await expect(targets.locator('[data-target="satisfaction_percent"] .verdict')).to_have_text(
        "⏳ Chưa đạt"
    )
    await expect(targets).to_contain_text("Từ đầu năm 2026 (01/01 – 30/11/2026)")
    await targets.scroll_into_view_if_needed()
    await console.shot(page, "reports-targets")

    # A guide as each channel shows it, switched by links.
    await page.goto(console.url("/staff/guides/vneid-cai-dat"))
    tabs = page.locator(".channel-tabs a")
    await expect(tabs).to_have_count(5)
    for label, name in [("Web", "web"), ("Messenger", "messenger"), ("Telegram", "telegram"),
                        ("Zalo OA", "zalo"), ("Zalo Bot", "zalo_bot")]:  # fmt: skip
        await tabs.filter(has_text=label).click()
        await expect(page.locator(f'ol.seen[data-channel="{name}"]')).to_be_visible()
        await expect(page.locator(".seen-step")).to_have_count(5)
        await expect(tabs.filter(has_text=label)).to_have_attribute("aria-current", "page")
        await console.shot(page, f"guide-{name}")
    await expect(page.locator(".chat-button")).to_have_count(0)  # the Zalo Bot: numbered lines
    await expect(page.locator(".seen-step").first).to_contain_text("1. Tiếp")

    # Settings: a wrong hotline and target are refused beside their fields, then corrected.
    await page.goto(console.url("/staff/settings"))
    await page.fill("#f-hotline", "gọi anh Bình")
    await page.fill("#f-targets-satisfaction_percent", "150")
    await page.get_by_role("button", name="Lưu thông tin").click()
    await expect(page.get_by_role("alert")).to_contain_text("Chưa lưu")
    await expect(page.locator("#err-hotline")).to_contain_text("Chỉ gồm chữ số")
    await expect(page.locator("#err-targets-satisfaction_percent")).to_contain_text("không quá 100")
    await console.shot(page, "settings-error")
    assert HOTLINE in (content / "profile.yaml").read_text(encoding="utf-8")
    await page.fill("#f-hotline", NEW_HOTLINE)
    await page.fill("#f-targets-satisfaction_percent", "50")
    await page.get_by_role("button", name="Lưu thông tin").click()
    await expect(page.get_by_role("status")).to_contain_text("Đã lưu")
    await expect(page.locator("#f-hotline")).to_have_value(NEW_HOTLINE)
    await console.shot(page, "settings-saved")

    # The reports measure against the new target, and the web chat says the new hotline.
    await page.goto(console.url("/staff/reports?kind=month&period=2026-11"))
    await expect(page.locator('[data-target="satisfaction_percent"] .verdict')).to_have_text(
        "✅ Đạt"
    )
    chat = await console.new_page()
    await chat.goto(console.url("/"))
    await chat.fill("#text", "#60")
    await chat.press("#text", "Enter")
    await expect(chat.locator(".msg.bot").last).to_contain_text("Bước 1/")
    for step in (2, 3):
        await chat.locator(".buttons").last.get_by_role("button", name="Tiếp").click()
        await expect(chat.locator(".msg.bot").last).to_contain_text(f"Bước {step}/")
    await expect(chat.locator(".msg.bot").last).to_contain_text(NEW_HOTLINE)
    assert not console.csp_errors, console.csp_errors


async def test_a_profile_broken_by_hand_since_the_start_is_said_not_overwritten(
    admin, content: Path
) -> None:
    fields = form_of(await (await admin.get("/staff/settings")).text())
    broken = "commune_name: [unclosed\n"
    (content / "profile.yaml").write_text(broken, encoding="utf-8")
    response = await admin.post("/staff/settings/profile", data=fields)
    assert response.status == 422 and "malformed YAML" in await response.text()
    assert (content / "profile.yaml").read_text(encoding="utf-8") == broken
