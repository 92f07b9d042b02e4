"""The Zalo OA channel end to end: signed events into the running app, a fake Zalo out."""

import asyncio
import logging
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.app import SENDERS, create_app
from bot.channels.retry import RetryPolicy
from bot.channels.zalo_oa import ZALO_OA, make_sender
from bot.channels.zalo_oa.events import ACTION_PREFIX
from bot.channels.zalo_oa.oauth import NotAuthorised, TokenLost
from bot.channels.zalo_oa.render import render
from bot.channels.zalo_oa.sender import ZaloOASender
from bot.channels.zalo_oa.settings import ZaloOASettings, zalo_oa_settings
from bot.delivery import RateLimited, Unreachable
from bot.engine import Engine
from bot.library import Library
from bot.messages import Button, Reply
from bot.settings import Settings
from storage.conversations import get_contact
from storage.db import Database
from storage.oauth_tokens import TokenPair, load_token, replace_tokens
from tests.channel_env import set_env
from tests.conftest import ROOT
from tests.fake_zalo import (
    APP_ID,
    APP_SECRET,
    OA_ID,
    OA_SECRET_KEY,
    Call,
    FakeZalo,
    OAEvents,
)

USER = "8316204581746203815"
VERIFIER = "GTcnSB_B2MPytA1gfzecS7"


class Naps:
    """The retry sleep, recorded instead of slept."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def oa_settings(zalo: FakeZalo) -> ZaloOASettings:
    """The OA's settings pointed at the fake, for a sender on its own."""
    return ZaloOASettings(
        app_id=APP_ID, app_secret=APP_SECRET, oa_secret_key=OA_SECRET_KEY, oa_id=OA_ID,
        api_url=zalo.base_url, oauth_url=zalo.base_url, verifier_code=VERIFIER,
    )  # fmt: skip


def zalo_settings(database_url: str, zalo: FakeZalo, **extra: object) -> Settings:
    """The app's settings, its OA channel pointed at the fake (ZALO_* in the environment)."""
    set_env(
        zalo_app_id=APP_ID, zalo_app_secret=APP_SECRET, zalo_oa_secret_key=OA_SECRET_KEY,
        zalo_oa_id=OA_ID, zalo_api_url=zalo.base_url, zalo_oauth_url=zalo.base_url,
        zalo_verifier_code=VERIFIER, **extra,
    )  # fmt: skip
    return Settings(database_url=database_url)


@pytest.fixture
async def zalo() -> FakeZalo:
    async with FakeZalo() as fake:
        yield fake


@pytest.fixture
def naps() -> Naps:
    return Naps()


@pytest.fixture
def oa_engine(sqlite_database: Database, full_library: Library) -> Engine:
    return Engine(full_library, sqlite_database)


async def start_app(aiohttp_client, engine: Engine, zalo: FakeZalo, naps: Naps) -> TestClient:
    settings = zalo_settings(
        engine.database.url, zalo, zalo_refresh_token=zalo.issue_refresh_token()
    )
    app = create_app(settings, engine)
    app[ZALO_OA].sender.retry = RetryPolicy(sleep=naps)
    return await aiohttp_client(app)


@pytest.fixture
async def client(aiohttp_client, oa_engine: Engine, zalo: FakeZalo, naps: Naps) -> TestClient:
    return await start_app(aiohttp_client, oa_engine, zalo, naps)


class Citizen:
    """A person chatting with the OA: sends events, presses buttons, reads what arrived."""

    def __init__(self, client: TestClient, zalo: FakeZalo, user: str = USER):
        self.client, self.zalo, self.user = client, zalo, user
        self.events = OAEvents()

    async def post(self, event: dict, secret: str | None = None) -> tuple[int, str]:
        body, headers = self.events.signed(event, secret)
        response = await self.client.post("/webhook/zalo", data=body, headers=headers)
        return response.status, await response.text()

    async def send(self, event: dict) -> list[Call]:
        before = len(self.zalo.messages_to(self.user))
        status, answer = await self.post(event)
        assert status == 200, answer
        await self.client.app[ZALO_OA].inbox.drain()
        return self.zalo.messages_to(self.user)[before:]

    async def say(self, words: str) -> list[Call]:
        return await self.send(self.events.text(self.user, words))

    async def press(self, title_start: str) -> list[Call]:
        """Tap a button of the latest message that has one: Zalo sends its payload as text."""
        for call in reversed(self.zalo.messages_to(self.user)):
            for button in call.buttons:
                if button["title"].startswith(title_start):
                    assert button["type"] == "oa.query.hide"
                    return await self.say(button["payload"])
        raise AssertionError(f"no button {title_start!r}")


@pytest.fixture
def citizen(client: TestClient, zalo: FakeZalo) -> Citizen:
    return Citizen(client, zalo)


def texts(calls: list[Call]) -> str:
    return "\n".join(call.text for call in calls)


def titles(calls: list[Call]) -> list[str]:
    return [b["title"] for call in calls for b in call.buttons]


# -- conversations -----------------------------------------------------------------------------


async def test_follow_welcomes_with_numbered_menu_and_typing_a_number_opens_the_topic(
    citizen: Citizen, zalo: FakeZalo, oa_engine: Engine
) -> None:
    sent = await citizen.send(citizen.events.follow(USER))
    assert "Xin chào! Tôi là Trợ lý" in texts(sent)
    # Seven topics are more than an OA message's five buttons: numbered lines instead.
    assert not titles(sent)
    assert "  3. 🪪 VNeID" in texts(sent)
    async with oa_engine.database.session() as session:
        assert await get_contact(session, "zalo", USER) is not None
    sent = await citizen.say("3")
    assert "VNeID" in texts(sent)
    assert "Cài ứng dụng VNeID chính thức" in texts(sent) + " ".join(titles(sent))


async def test_a_whole_guide_walked_with_template_buttons(citizen: Citizen) -> None:
    sent = await citizen.say("#11")
    assert "Bước 1/5: Mở kho ứng dụng" in texts(sent)
    buttons = sent[-1].buttons
    assert [b["title"] for b in buttons] == ["Tiếp ▶", "🏠 Danh mục"]
    assert all(b["payload"].startswith(ACTION_PREFIX) for b in buttons)
    for step in range(2, 6):
        sent = await citizen.press("Tiếp")
        assert f"Bước {step}/5" in texts(sent)
    assert "✅ Bạn đã xem hết hướng dẫn này." in texts(sent)
    sent = await citizen.press("◀ Quay lại")
    assert "Bước 4/5" in texts(sent)


async def test_search_finds_the_guide_without_tone_marks(citizen: Citizen) -> None:
    sent = await citizen.say("cai vneid the nao")
    assert "Cài ứng dụng VNeID chính thức" in texts(sent) + " ".join(titles(sent))


async def test_short_code_with_a_volunteer_tag_opens_the_guide_and_records_the_source(
    citizen: Citizen, oa_engine: Engine
) -> None:
    sent = await citizen.say("#12 TV05")
    assert "Đăng ký tài khoản định danh điện tử mức 2" in texts(sent)
    async with oa_engine.database.session() as session:
        contact = await get_contact(session, "zalo", USER)
    assert contact is not None and contact.referral == "TV05"


async def test_unfollow_marks_the_contact_unreachable(citizen: Citizen, oa_engine: Engine) -> None:
    await citizen.send(citizen.events.follow(USER))
    assert await citizen.send(citizen.events.unfollow(USER)) == []
    async with oa_engine.database.session() as session:
        contact = await get_contact(session, "zalo", USER)
    assert contact is not None and contact.unreachable


async def test_sticker_and_photo_get_a_polite_answer(citizen: Citizen) -> None:
    sent = await citizen.send(citizen.events.attachment(USER, "sticker"))
    assert "Cảm ơn bạn" in texts(sent)
    sent = await citizen.send(citizen.events.attachment(USER, "image"))
    assert "chỉ đọc được tin nhắn chữ" in texts(sent)


async def test_unknown_event_is_acknowledged_and_ignored(citizen: Citizen, zalo: FakeZalo) -> None:
    event = citizen.events.message(USER, "user_reacted_message", react_icon=":>")
    assert await citizen.send(event) == []
    assert zalo.calls_to("oa") == []


# -- the webhook's guarantees ------------------------------------------------------------------


async def test_forged_signature_is_refused(citizen: Citizen, zalo: FakeZalo) -> None:
    status, _ = await citizen.post(citizen.events.text(USER, "menu"), secret="not-the-secret")
    assert status == 403
    body, headers = citizen.events.signed(citizen.events.text(USER, "menu"))
    tampered = body.replace(b"menu", b"MENU")
    response = await citizen.client.post("/webhook/zalo", data=tampered, headers=headers)
    assert response.status == 403
    unsigned = await citizen.client.post("/webhook/zalo", data=body)
    assert unsigned.status == 403
    await citizen.client.app[ZALO_OA].inbox.drain()
    assert zalo.calls == []


async def test_replayed_old_event_is_acknowledged_but_not_answered(
    citizen: Citizen, zalo: FakeZalo
) -> None:
    an_hour_ago = datetime.now(UTC).timestamp() - 3600
    status, answer = await citizen.post(citizen.events.text(USER, "menu", at=an_hour_ago))
    assert (status, answer) == (200, "ignored")
    await citizen.client.app[ZALO_OA].inbox.drain()
    assert zalo.messages_to(USER) == []


async def test_redelivered_msg_id_is_answered_once(citizen: Citizen, zalo: FakeZalo) -> None:
    event = citizen.events.text(USER, "#11", msg_id="dup-1")
    first = await citizen.send(event)
    assert first
    status, answer = await citizen.post(event)
    assert (status, answer) == (200, "duplicate")
    await citizen.client.app[ZALO_OA].inbox.drain()
    assert len(zalo.messages_to(USER)) == len(first)


async def test_events_left_by_a_crash_are_processed_on_start(
    aiohttp_client, oa_engine: Engine, zalo: FakeZalo, naps: Naps
) -> None:
    # Stored by a process that died before its worker got to it.
    crashed = create_app(zalo_settings(oa_engine.database.url, zalo), oa_engine)
    event = OAEvents().text(USER, "#11", msg_id="before-crash")
    body, _ = OAEvents().signed(event)
    assert await crashed[ZALO_OA].inbox.accept("before-crash", USER, body.decode())
    assert zalo.calls == []
    client = await start_app(aiohttp_client, oa_engine, zalo, naps)
    await client.app[ZALO_OA].inbox.drain()
    assert "Bước 1/5" in texts(zalo.messages_to(USER))


async def test_domain_verification_file_is_served(client: TestClient) -> None:
    response = await client.get(f"/zalo_verifier{VERIFIER}.html")
    assert response.status == 200
    assert f'content="{VERIFIER}"' in await response.text()
    assert (await client.get("/zalo_verifierOTHER.html")).status == 404


async def test_nothing_is_mounted_without_zalo_settings(aiohttp_client, oa_engine: Engine) -> None:
    app = create_app(Settings(database_url=oa_engine.database.url), oa_engine)
    client = await aiohttp_client(app)
    assert (await client.post("/webhook/zalo", data=b"{}")).status in (404, 405)
    assert "zalo" not in app[SENDERS]
    assert make_sender(zalo_oa_settings(), oa_engine.database.url) is None


# -- errors and tokens -------------------------------------------------------------------------


async def test_expired_token_mid_conversation_is_refreshed_once_and_the_reply_delivered(
    citizen: Citizen, zalo: FakeZalo
) -> None:
    await citizen.say("#11")
    assert len(zalo.refreshes) == 1  # the seeded refresh token, spent for the first access token
    zalo.expire_access_tokens()
    sent = await citizen.press("Tiếp")
    assert "Bước 2/5" in texts(sent)
    assert len(zalo.refreshes) == 2
    refused = [c for c in zalo.calls_to("oa", "cs") if not c.ok]
    assert [c.answer["error"] for c in refused] == [-216]
    # Each refresh spent the refresh token issued by the one before.
    assert zalo.refreshes[1].body["refresh_token"] == zalo.refreshes[0].answer["refresh_token"]


async def test_outside_the_window_marks_the_contact_without_retrying(
    citizen: Citizen, zalo: FakeZalo, oa_engine: Engine, naps: Naps
) -> None:
    zalo.fail("cs", -230)
    await citizen.say("#11")
    assert len(zalo.calls_to("oa", "cs")) == 1
    assert naps.taken == []
    async with oa_engine.database.session() as session:
        contact = await get_contact(session, "zalo", USER)
    assert contact is not None and contact.unreachable


async def test_rate_limit_backs_off_then_delivers(
    citizen: Citizen, zalo: FakeZalo, naps: Naps
) -> None:
    zalo.fail("cs", -32, times=2)
    sent = await citizen.say("#11")
    assert "Bước 1/5" in texts(sent)
    assert naps.taken == [1.0, 2.0]


async def sender_for(database: Database, zalo: FakeZalo, naps: Naps | None = None) -> ZaloOASender:
    retry = RetryPolicy(sleep=naps) if naps else RetryPolicy(attempts=1)
    return ZaloOASender(oa_settings(zalo), database, retry)


async def store_expired_pair(database: Database, zalo: FakeZalo) -> str:
    refresh_token = zalo.issue_refresh_token()
    long_ago = datetime.now(UTC) - timedelta(days=2)
    await replace_tokens(database, APP_ID, TokenPair("at-old", refresh_token, long_ago), long_ago)
    return refresh_token


async def test_sender_errors_map_to_delivery_errors(
    sqlite_database: Database, zalo: FakeZalo, naps: Naps
) -> None:
    await store_expired_pair(sqlite_database, zalo)
    sender = await sender_for(sqlite_database, zalo, naps)
    try:
        zalo.fail("cs", -213)
        with pytest.raises(Unreachable) as raised:
            await sender.send(USER, [Reply("Xin chào")])
        assert raised.value.reason == "not_following"
        zalo.fail("cs", -232)
        with pytest.raises(Unreachable) as raised:
            await sender.send(USER, [Reply("Xin chào")])
        assert raised.value.reason == "outside_window"
        zalo.fail("cs", -32, times=3)
        with pytest.raises(RateLimited):
            await sender.send(USER, [Reply("Xin chào")])
        assert await sender.send(USER, [Reply("Xin chào")])
    finally:
        await sender.close()


async def test_two_workers_racing_refresh_once_and_both_deliver(
    database: Database, zalo: FakeZalo
) -> None:
    """Two processes (two engines on one database) find the access token expired at once."""
    spent = await store_expired_pair(database, zalo)
    # Without the database lock, the second worker would reach Zalo with the same refresh token
    # while the first one's refresh is held open, and Zalo would refuse it.
    zalo.hold_refreshes_for = 1.0
    other = Database(database.url)
    first, second = await sender_for(database, zalo), await sender_for(other, zalo)
    try:
        ids = await asyncio.gather(
            first.send(USER, [Reply("một")]), second.send("another-user", [Reply("hai")])
        )
    finally:
        await first.close()
        await second.close()
        await other.close()
    assert all(ids)
    assert len(zalo.refreshes) == 1, "the second worker must use the pair the first one stored"
    assert zalo.refreshes[0].body["refresh_token"] == spent
    stored = await load_token(database, APP_ID)
    assert stored is not None
    assert stored.refresh_token == zalo.refreshes[0].answer["refresh_token"]
    used = {c.headers["access_token"] for c in zalo.calls_to("oa", "cs")}
    assert used == {zalo.refreshes[0].answer["access_token"]}


async def test_a_new_pair_that_cannot_be_stored_is_never_used_and_is_reported(
    sqlite_database: Database, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    spent = await store_expired_pair(sqlite_database, zalo)
    async with sqlite_database.engine.begin() as connection:
        # A real failure of the database at the worst moment: after Zalo issued the new pair.
        await connection.execute(
            text(
                "CREATE TRIGGER disk_full BEFORE UPDATE ON oauthtoken "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        )
    sender = await sender_for(sqlite_database, zalo)
    try:
        with caplog.at_level(logging.CRITICAL), pytest.raises(TokenLost):
            await sender.send(USER, [Reply("Xin chào")])
    finally:
        await sender.close()
    assert len(zalo.refreshes) == 1
    assert zalo.calls_to("oa", "cs") == [], "a token that is not stored must not be used"
    assert any("troly zalo login" in r.getMessage() for r in caplog.records)
    stored = await load_token(sqlite_database, APP_ID)
    assert stored is not None and stored.refresh_token == spent


async def test_a_refused_refresh_token_asks_for_login(
    sqlite_database: Database, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    refresh_token = await store_expired_pair(sqlite_database, zalo)
    zalo.refresh_tokens[refresh_token] = True  # spent elsewhere
    sender = await sender_for(sqlite_database, zalo)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(NotAuthorised):
            await sender.send(USER, [Reply("Xin chào")])
    finally:
        await sender.close()
    assert any("troly zalo login" in r.getMessage() for r in caplog.records)


async def test_make_sender_delivers_outside_any_event(
    sqlite_database: Database, zalo: FakeZalo
) -> None:
    await store_expired_pair(sqlite_database, zalo)
    sender = make_sender(oa_settings(zalo), sqlite_database.url)
    assert sender is not None and sender.channel == "zalo"
    try:
        ids = await sender.send(USER, [Reply("Phiếu PA-2026-000001 đã có trả lời.")])
    finally:
        await sender.close()
    assert ids == [zalo.messages_to(USER)[0].answer["data"]["message_id"]]


# -- rendering ---------------------------------------------------------------------------------


def test_buttons_render_as_oa_template_buttons() -> None:
    reply = Reply(
        "Liên hệ",
        (
            Button("Tiếp ▶", action="g:vneid-cai-dat:2"),
            Button("Cổng DVC", url="https://dichvucong.gov.vn"),
            Button("☎️ Gọi tổng đài", phone="0296 3 800 123"),
        ),
    )
    [message] = render([reply])
    assert message.buttons == (
        {"title": "Tiếp ▶", "type": "oa.query.hide", "payload": "#tl:g:vneid-cai-dat:2"},
        {
            "title": "Cổng DVC",
            "type": "oa.open.url",
            "payload": {"url": "https://dichvucong.gov.vn"},
        },
        {
            "title": "☎️ Gọi tổng đài",
            "type": "oa.open.phone",
            "payload": {"phone_code": "02963800123"},
        },
    )


def test_more_than_five_buttons_are_numbered_across_replies_like_the_console() -> None:
    from bot.channels.console import render_numbered

    replies = [
        Reply("Chọn chủ đề", tuple(Button(f"Chủ đề {i}", action=f"t:{i}") for i in range(6))),
        Reply("Đánh giá", (Button("👍 Có", action="r:1"), Button("👎 Chưa", action="r:0"))),
    ]
    messages = render(replies)
    assert all(not m.buttons for m in messages)
    assert "\n\n".join(m.text for m in messages) == render_numbered(replies).strip("\n")
    assert "  7. 👍 Có" in messages[-1].text


def test_long_text_is_split_at_paragraphs_within_2000_characters() -> None:
    paragraphs = [f"Đoạn {i}: " + "chữ " * 120 for i in range(8)]
    messages = render([Reply("\n\n".join(paragraphs), (Button("Tiếp", action="n"),))])
    assert len(messages) > 1
    assert all(len(m.text) <= 2000 for m in messages)
    assert all(m.text.startswith("Đoạn") for m in messages)
    assert [bool(m.buttons) for m in messages] == [False] * (len(messages) - 1) + [True]


async def test_local_images_are_uploaded_once_and_sent_by_attachment_id(
    sqlite_database: Database, zalo: FakeZalo, tmp_path: Path
) -> None:
    await store_expired_pair(sqlite_database, zalo)
    image = tmp_path / "poster.png"
    image.write_bytes(b"\x89PNG fake")
    sender = await sender_for(sqlite_database, zalo)
    try:
        for _ in range(2):
            await sender.send(USER, [Reply("Áp phích", image=str(image))])
        await sender.send(USER, [Reply("", image="https://example.vn/a.png")])
    finally:
        await sender.close()
    assert len(zalo.calls_to("oa", "upload")) == 1
    payloads = [c.message.get("attachment", {}).get("payload", {}) for c in zalo.messages_to(USER)]
    media = [p["elements"][0] for p in payloads if p.get("template_type") == "media"]
    assert len(media) == 3
    assert media[0] == {"media_type": "image", "attachment_id": media[0]["attachment_id"]}
    assert media[-1] == {"media_type": "image", "url": "https://example.vn/a.png"}


# -- troly zalo login --------------------------------------------------------------------------


async def test_troly_zalo_login_exchanges_the_code_and_stores_the_pair(
    tmp_path: Path, zalo: FakeZalo
) -> None:
    database_url = f"sqlite:///{tmp_path / 'login.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OAUTH_URL": zalo.base_url,
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "zalo",
        "login",
        "--redirect-uri",
        "https://troly.example.vn/zalo/callback",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stdin is not None
    url = ""
    while "/v4/oa/permission?" not in url:
        url = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert url, (await process.stderr.read()).decode() if process.stderr else ""
    challenge = re.search(r"code_challenge=([^&\s]+)", url).group(1)
    state = re.search(r"state=([^&\s]+)", url).group(1)
    code = zalo.issue_code(challenge)
    process.stdin.write(
        f"https://troly.example.vn/zalo/callback?code={code}&state={state}\n".encode()
    )
    await process.stdin.drain()
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "tokens stored" in out.decode()
    database = Database(Settings(database_url=database_url).database_url)
    try:
        stored = await load_token(database, APP_ID)
    finally:
        await database.close()
    issued = zalo.calls_to("oauth")[0].answer
    assert stored is not None
    assert (stored.access_token, stored.refresh_token) == (
        issued["access_token"],
        issued["refresh_token"],
    )
