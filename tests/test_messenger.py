"""Facebook Messenger end to end, against a fake Graph API on loopback: Meta's verification,
signed events, the inbox, quick replies, deep links, the 24-hour window and Meta's errors."""

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot import campaigns
from bot.app import create_app
from bot.channels.base import get_channel
from bot.channels.messenger import MESSENGER, page_link
from bot.channels.messenger.render import render
from bot.channels.messenger.sender import RATE_LIMIT_WAIT, MessengerSender
from bot.channels.messenger.settings import MessengerSettings, messenger_settings
from bot.channels.retry import RetryPolicy
from bot.engine import Engine
from bot.library import Library
from bot.links import share_links
from bot.messages import Button, Reply
from bot.settings import Settings
from storage.db import Database
from storage.models import Contact
from tests.channel_env import set_env, telegram_env
from tests.conftest import ROOT
from tests.fake_meta import (
    APP_SECRET,
    NOT_AVAILABLE,
    OUTSIDE_WINDOW,
    PAGE_TOKEN,
    RATE_LIMITED,
    TOKEN_INVALID,
    Call,
    FakeMeta,
    MessengerEvents,
)
from tests.test_campaigns import add_contacts, new_campaign, row_states

PSID = "24680135790"
VERIFY = "xac-minh-troly"


@pytest.fixture
async def meta(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeMeta]:
    async with FakeMeta() as fake:
        for name, value in {
            "MESSENGER_PAGE_TOKEN": PAGE_TOKEN,
            "MESSENGER_APP_SECRET": APP_SECRET,
            "MESSENGER_VERIFY_TOKEN": VERIFY,
            "MESSENGER_PAGE_USERNAME": "ttpvhcc.hoaan",
            "MESSENGER_API_URL": fake.base_url,
        }.items():
            monkeypatch.setenv(name, value)
        messenger_settings.cache_clear()  # read again with this test's page
        yield fake
    messenger_settings.cache_clear()


@pytest.fixture
async def client(aiohttp_client, meta: FakeMeta, sqlite_database: Database, full_library: Library):
    engine = Engine(full_library, sqlite_database)
    return await aiohttp_client(create_app(Settings(database_url=sqlite_database.url), engine))


class Citizen:
    def __init__(self, client: TestClient, meta: FakeMeta, psid: str = PSID):
        self.client, self.meta, self.psid = client, meta, psid
        self.events = MessengerEvents()

    async def post(self, *events: dict, secret: str | None = None) -> tuple[int, str]:
        body, headers = self.events.signed(self.events.page(*events), secret)
        response = await self.client.post("/webhook/messenger", data=body, headers=headers)
        return response.status, await response.text()

    async def send(self, event: dict) -> list[Call]:
        before = len(self.meta.messages_to(self.psid))
        status, answer = await self.post(event)
        assert status == 200, answer
        await self.client.app[MESSENGER].inbox.drain()
        return self.meta.messages_to(self.psid)[before:]

    async def say(self, text: str) -> list[Call]:
        return await self.send(self.events.text(self.psid, text))

    async def tap(self, title_start: str) -> list[Call]:
        for call in reversed(self.meta.messages_to(self.psid)):
            for quick in call.quick_replies:
                if quick["title"].startswith(title_start):
                    event = self.events.quick_reply(self.psid, quick["title"], quick["payload"])
                    return await self.send(event)
        raise AssertionError(f"no quick reply {title_start!r}")


@pytest.fixture
def citizen(client: TestClient, meta: FakeMeta) -> Citizen:
    return Citizen(client, meta)


def texts(calls: list[Call]) -> str:
    return "\n".join(c.text for c in calls)


async def test_meta_verification_echoes_the_challenge_only_for_our_token(client) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = await client.get("/webhook/messenger", params=query)
    assert response.status == 200 and await response.text() == "1158201444"
    for wrong in ({**query, "hub.verify_token": VERIFY + "x"}, {**query, "hub.mode": "unsubscribe"},
                  {k: v for k, v in query.items() if k != "hub.verify_token"}):  # fmt: skip
        response = await client.get("/webhook/messenger", params=wrong)
        assert response.status == 403 and "1158201444" not in await response.text()


async def test_a_guide_walked_with_quick_replies_and_a_typing_indicator(
    citizen: Citizen, meta: FakeMeta
) -> None:
    calls = await citizen.say("cai vneid the nao")
    assert "Bước 1/" in texts(calls)
    assert meta.actions_to(PSID)[:1] == ["typing_on"], "typing shows while the turn runs"
    assert all(c.body["messaging_type"] == "RESPONSE" for c in calls)
    quick = calls[-1].quick_replies
    assert quick and all(len(q["title"]) <= 20 for q in quick)
    calls = await citizen.tap("Tiếp")
    assert "Bước 2/" in texts(calls)


async def test_forged_and_unsigned_events_are_refused_and_never_answered(
    citizen: Citizen, meta: FakeMeta
) -> None:
    event = citizen.events.text(PSID, "menu")
    assert (await citizen.post(event, secret="not-the-app-secret"))[0] == 403
    response = await citizen.client.post("/webhook/messenger", data=b'{"object": "page"}')
    assert response.status == 403
    await citizen.client.app[MESSENGER].inbox.drain()
    assert meta.sends() == []


async def test_a_replayed_event_is_answered_once(citizen: Citizen, meta: FakeMeta) -> None:
    event = citizen.events.text(PSID, "menu", mid="m.replayed")
    first = await citizen.send(event)
    again = await citizen.send(event)
    assert first and again == []


async def test_malformed_and_nested_bodies_get_400_never_500(citizen: Citizen) -> None:
    for raw in (b"{not json", b"[" * 100_000 + b"]" * 100_000):
        headers = {"X-Hub-Signature-256": citizen.events.signed_raw(raw)}
        response = await citizen.client.post("/webhook/messenger", data=raw, headers=headers)
        assert response.status == 400


async def test_get_started_with_a_referral_opens_the_guide_and_records_the_source(
    citizen: Citizen, sqlite_database: Database
) -> None:
    calls = await citizen.send(citizen.events.postback(PSID, "GET_STARTED", "g_vneid-cai-dat_TV05"))
    assert "Bước 1/" in texts(calls)
    async with sqlite_database.session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert (contact.channel, contact.chat_id, contact.referral) == ("messenger", PSID, "TV05")
    calls = await citizen.send(citizen.events.postback(PSID, "GET_STARTED"))
    assert "Xin chào" in texts(calls), "Get Started without a link: the welcome"


async def test_an_m_me_link_opened_in_an_existing_thread_opens_the_guide(
    citizen: Citizen, sqlite_database: Database
) -> None:
    """Someone who already talked to the page taps a poster's link: Meta sends a bare
    `messaging_referrals` event, with no message and no postback."""
    await citizen.say("menu")
    calls = await citizen.send(citizen.events.referral(PSID, "g_vneid-cai-dat_TV07"))
    assert "Bước 1/" in texts(calls)
    async with sqlite_database.session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.referral == "TV07", "the first source that brought them is kept"


async def test_the_persistent_menu_answers_like_the_buttons(citizen: Citizen) -> None:
    """`troly messenger setup` puts postbacks with action payloads in the page's menu."""
    calls = await citizen.send(citizen.events.postback(PSID, "menu"))
    assert "Bạn cần hướng dẫn về việc gì?" in texts(calls)
    assert calls[-1].quick_replies


class Naps:
    """The retry sleep, recorded instead of slept."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


@pytest.mark.parametrize("code", [4, RATE_LIMITED])
async def test_meta_rate_limits_back_off_then_deliver_once(meta: FakeMeta, code: int) -> None:
    naps = Naps()
    sender = MessengerSender(MessengerSettings(), RetryPolicy(attempts=3, max_delay=30, sleep=naps))
    meta.fail(code, times=2)
    try:
        await sender.send(PSID, [Reply("Giờ làm việc: 7h30 đến 17h")])
    finally:
        await sender.close()
    # Meta gives no time: the sender waits its own longest wait, twice, then the third try lands.
    assert naps.taken == [min(RATE_LIMIT_WAIT, 30)] * 2
    (delivered,) = meta.messages_to(PSID)
    assert delivered.text == "Giờ làm việc: 7h30 đến 17h"
    assert len(meta.sends()) == 3


async def test_stickers_photos_and_echoes(citizen: Citizen, meta: FakeMeta) -> None:
    for event in (
        citizen.events.attachment(PSID, "image", sticker=True),
        citizen.events.attachment(PSID, "audio"),
    ):
        calls = await citizen.send(event)
        assert calls and calls[-1].quick_replies, "a polite answer with the menu"
    assert await citizen.send(citizen.events.echo(PSID)) == []


def test_more_than_13_choices_become_numbered_lines_and_long_text_is_split() -> None:
    many = Reply(
        "Chọn một mục:", tuple(Button(f"Mục số {n}", action=f"g:x{n}:1") for n in range(15))
    )
    (message,) = render([many])
    assert "quick_replies" not in message.message
    assert " 15. Mục số 14" in message.message["text"]
    long = Reply("Một câu khá dài. " * 300, (Button("Một nút có nhãn rất rất dài", action="menu"),))
    messages = render([long])
    assert len(messages) > 1 and all(len(m.message["text"]) <= 2000 for m in messages)
    (quick,) = messages[-1].message["quick_replies"]
    assert len(quick["title"]) <= 20 and quick["payload"] == "menu"


async def test_meta_errors_mark_unreachable_people_and_say_when_the_token_is_bad(
    citizen: Citizen, meta: FakeMeta, sqlite_database: Database, caplog
) -> None:
    meta.fail(NOT_AVAILABLE)
    await citizen.say("menu")
    async with sqlite_database.session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.unreachable
    meta.fail(TOKEN_INVALID)
    await citizen.say("menu")
    assert "Meta rejects MESSENGER_PAGE_TOKEN" in caplog.text


async def test_a_campaign_skips_people_outside_the_24_hour_window(
    meta: FakeMeta, sqlite_database: Database, fixture_library: Library
) -> None:
    now = datetime.now(UTC)
    await add_contacts(sqlite_database, 3, "messenger", 7000, last_seen=now - timedelta(hours=2))
    await add_contacts(sqlite_database, 2, "messenger", 8000, last_seen=now - timedelta(hours=30))
    sender = MessengerSender(MessengerSettings())
    meta.fail(OUTSIDE_WINDOW, 2018278)  # Meta's own view of one person's window
    try:
        cid = await new_campaign(sqlite_database, fixture_library, channel="messenger")
        settings = Settings(campaign_concurrency=1)
        await campaigns.send(
            sqlite_database, fixture_library, {"messenger": sender}, cid, settings=settings
        )
    finally:
        await sender.close()
    got = Counter(c.recipient for c in meta.sends())
    assert set(got) == {"7000", "7001", "7002"} and max(got.values()) == 1
    assert all(c.body["messaging_type"] == "UPDATE" for c in meta.sends())
    assert await row_states(sqlite_database, cid) == {"outside_window": 3, "sent": 2}


async def test_deep_links_share_links_and_the_registry_know_messenger(
    meta: FakeMeta, full_library: Library
) -> None:
    assert page_link("ttpvhcc.hoaan", "g_vneid-cai-dat_TV05") == (
        "https://m.me/ttpvhcc.hoaan?ref=g_vneid-cai-dat_TV05"
    )
    guide = full_library.guides["vneid-cai-dat"]
    links = {link.channel: link.url for link in share_links(full_library, guide, "poster")}
    assert links["messenger"] == "https://m.me/ttpvhcc.hoaan?ref=g_vneid-cai-dat_poster"
    channel = get_channel("messenger")
    assert channel is not None and channel.reply_window == timedelta(hours=24)


async def test_posters_carry_the_messenger_qr_code(meta: FakeMeta, full_library: Library, tmp_path):
    from bot.posters import guide_poster, save
    from tests.test_posters import scan_png

    guide = full_library.guides["vneid-cai-dat"]
    [path] = save(guide_poster(full_library, guide), tmp_path / "vneid.png")
    assert "https://m.me/ttpvhcc.hoaan?ref=g_vneid-cai-dat_poster" in scan_png(path)


async def test_a_volunteers_messenger_link_brings_a_neighbour_counted_as_theirs(
    citizen: Citizen, meta: FakeMeta, sqlite_database: Database
) -> None:
    from storage.models import StaffMember
    from storage.reach import volunteer_reach

    async with sqlite_database.session() as session, session.begin():
        session.add(StaffMember(name="Lê Thị Hoa", role="volunteer", code="TV05",
                                channel="messenger", chat_id=PSID,
                                created_at=datetime.now(UTC)))  # fmt: skip
    await citizen.say("cai vneid the nao")
    shared = texts(await citizen.say("link chia sẻ"))
    link = next(w for w in shared.split() if w.startswith("https://m.me/"))
    assert link == "https://m.me/ttpvhcc.hoaan?ref=g_vneid-cai-dat_TV05"

    neighbour = Citizen(citizen.client, meta, psid="13572468000")
    neighbour.events = citizen.events  # Meta's message ids are unique across the page
    ref = link.split("ref=", 1)[1]
    opened = await neighbour.send(neighbour.events.postback(neighbour.psid, "GET_STARTED", ref))
    assert "Bước 1/" in texts(opened)
    async with sqlite_database.session() as session:
        reached = await volunteer_reach(session, "TV05")
    assert (reached.people, reached.guides_opened) == (1, 1)


async def troly(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_messenger_setup_and_doctor(meta: FakeMeta, monkeypatch, tmp_path) -> None:
    code, out = await troly("messenger", "setup")
    assert code == 0, out
    assert meta.profile["get_started"] == {"payload": "GET_STARTED"}
    assert meta.profile["greeting"][0]["text"].startswith("Xin chào")
    titles = [a["title"] for a in meta.profile["persistent_menu"][0]["call_to_actions"]]
    assert titles[0] == "🏠 Danh mục"

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'doctor.db'}")
    code, out = await troly("doctor")
    assert "OK    messenger: page token works" in out
    monkeypatch.setenv("MESSENGER_PAGE_TOKEN", "revoked")
    code, out = await troly("doctor")
    assert code == 1 and "FAIL  messenger: Meta rejects MESSENGER_PAGE_TOKEN (190" in out


async def test_a_messenger_citizen_reaches_staff_and_gets_the_answer_on_messenger(
    aiohttp_client, meta: FakeMeta, sqlite_database: Database, fixture_library: Library
) -> None:
    """Hand-off and feedback on Messenger, answered from the Telegram staff group."""
    from storage.staff import add_member
    from tests.fake_telegram import FakeTelegram, Updates
    from tests.test_handoff import MONDAY_9AM, SECRET, STAFF_GROUP, STAFF_USER
    from tests.test_sessions import Clock

    async with FakeTelegram() as telegram:
        telegram.on("sendMessage", lambda call: {
            "message_id": telegram.calls.index(call) + 1, "date": 0,
            "chat": {"id": call.chat_id, "type": "group"}, "text": call.params.get("text", ""),
        })  # fmt: skip
        telegram_env(telegram, SECRET)
        set_env(telegram_staff_chat_id=STAFF_GROUP)
        settings = Settings(database_url=sqlite_database.url)
        engine = Engine(fixture_library, sqlite_database, clock=Clock(MONDAY_9AM))
        async with sqlite_database.session() as session, session.begin():
            await add_member(session, name="Trần Thị Lan", role="staff", now=MONDAY_9AM,
                             channel="telegram", chat_id=str(STAFF_USER))  # fmt: skip
        client = await aiohttp_client(create_app(settings, engine))
        citizen = Citizen(client, meta)
        await citizen.say("gặp cán bộ")
        sent = await citizen.say("Tôi ở nước ngoài, làm căn cước cho con thế nào?")
        assert "Tôi đã chuyển câu hỏi cho cán bộ" in texts(sent)
        (post,) = telegram.sent_to(STAFF_GROUP)
        assert "messenger" in post.params["text"] and "căn cước cho con" in post.params["text"]

        reply = Updates().group(STAFF_GROUP, STAFF_USER, "Anh chị gọi 0274 3822 123 nhé",
                                reply_to_message_id=telegram.calls.index(post) + 1)  # fmt: skip
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await client.post("/webhook/telegram", json=reply, headers=headers)).status == 200
        answer = meta.messages_to(PSID)[-1]
        # An answer to the question the person asked: a RESPONSE, inside their 24 hours.
        assert "0274 3822 123" in answer.text and answer.body["messaging_type"] == "RESPONSE"

        await citizen.say("menu")
        await citizen.say("phản ánh")
        await citizen.say("Đèn đường ấp Hòa Long hỏng đã một tuần")
        filed = await citizen.tap("Bỏ qua")  # no name or phone: staff answer here
        assert "PA-" in texts(filed)
        assert "Đèn đường" in telegram.sent_to(STAFF_GROUP)[-1].params["text"]
