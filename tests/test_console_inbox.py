"""The inbox over HTTP: a Telegram citizen's hand-off, claimed, answered, guided and closed from
the console (fake Telegram shows what the citizen got); the web chat's stored live answers; the
reply window; live events."""

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.app import create_app
from bot.engine import Engine
from bot.settings import Settings
from storage.models import AuditEvent, Contact, Conversation, Handoff, Subscription
from tests import console_helpers
from tests.console_helpers import (
    SECRET,
    TelegramCitizen,
    add_account,
    login,
    page_csrf,
    read_event,
    telegram_settings,
)
from tests.fake_telegram import Failure, FakeTelegram

QUESTION = "Tôi 70 tuổi, không có điện thoại thông minh thì làm căn cước sao?"


telegram, client = console_helpers.telegram, console_helpers.client


async def handoff_ids(engine: Engine) -> list[int]:
    async with engine.database.session() as session:
        return list((await session.execute(select(Handoff.id).order_by(Handoff.id))).scalars())


async def post(client, path: str, **fields: str):
    token = await page_csrf(client, "/staff/inbox")
    return await client.post(path, data={"csrf": token, **fields}, allow_redirects=False)


async def test_telegram_citizen_is_answered_guided_and_closed_from_the_console(
    client, engine: Engine, telegram: FakeTelegram
) -> None:
    citizen = TelegramCitizen(client, telegram)
    assert "cán bộ" in "\n".join(await citizen.say("gặp cán bộ"))
    sent = await citizen.say(QUESTION)
    assert "Tôi đã chuyển câu hỏi cho cán bộ" in "\n".join(sent)
    (handoff_id,) = await handoff_ids(engine)

    inbox = await (await client.get("/staff/inbox")).text()
    assert "1</b> người đang chờ" in inbox
    assert "Tôi 70 tuổi" in inbox and "Telegram" in inbox
    page = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    assert 'name="text"' in page and ">Gửi</button>" in page

    response = await post(client, f"/staff/inbox/{handoff_id}/answer",
                          text="Bác mang giấy tờ ra Trung tâm, cán bộ làm giúp ạ")  # fmt: skip
    assert response.status == 303 and "notice=sent" in response.headers["Location"]
    answer = citizen.received()[-1]
    assert "Bác mang giấy tờ ra Trung tâm" in answer and "trả lời" in answer

    # The citizen's next message lands in the same thread; the staff answer is in it too.
    await citizen.say("Cảm ơn, mấy giờ Trung tâm mở cửa?")
    thread = await (await client.get(f"/staff/inbox/{handoff_id}/thread")).text()
    assert "mấy giờ Trung tâm mở cửa" in thread and "Bác mang giấy tờ" in thread
    assert await handoff_ids(engine) == [handoff_id]

    response = await post(client, f"/staff/inbox/{handoff_id}/guide", guide="vneid-cai-dat")
    assert "notice=guide_sent" in response.headers["Location"]
    step = telegram.sent_to(citizen.chat_id)[-1]
    assert "Bước 1/3" in step.params["text"]
    assert any(b["text"].startswith("Tiếp") for b in step.buttons)

    response = await post(client, f"/staff/inbox/{handoff_id}/close")
    assert response.headers["Location"] == "/staff/inbox?notice=closed"
    closing = "\n".join(citizen.received()[-2:])
    assert "kết thúc" in closing and "giúp được bạn" in closing
    async with engine.database.session() as session:
        handoff = await session.get(Handoff, handoff_id)
        assert handoff.closed_at is not None and handoff.first_response_at is not None
        state = await session.get(Conversation, ("telegram", str(citizen.chat_id)))
        assert state.mode is None
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert {"open", "answer", "send_guide", "close"} <= set(actions)
    assert "0</b> người đang chờ" in await (await client.get("/staff/inbox")).text()


async def test_a_citizen_who_blocked_the_bot_is_named_and_the_log_keeps_no_chat_id(
    client, engine: Engine, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    (handoff_id,) = await handoff_ids(engine)
    telegram.fail("sendMessage", Failure.blocked())
    with caplog.at_level(logging.INFO):
        response = await post(client, f"/staff/inbox/{handoff_id}/answer", text="Dạ, bác đợi chút")
    assert "notice=blocked" in response.headers["Location"]
    page = await (await client.get(response.headers["Location"])).text()
    assert "Người dân đã chặn hoặc bỏ theo dõi" in page
    assert "unreachable" in caplog.text and str(citizen.chat_id) not in caplog.text


async def test_claims_show_who_has_it_and_canned_answers_are_offered(
    client, aiohttp_client, engine: Engine, telegram: FakeTelegram
) -> None:
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    (handoff_id,) = await handoff_ids(engine)
    token = await page_csrf(client, "/staff/canned")
    await client.post("/staff/canned", data={"csrf": token, "title": "Giờ mở cửa",
                                             "text": "Trung tâm mở cửa 7:30-17:00."})  # fmt: skip
    await post(client, f"/staff/inbox/{handoff_id}/claim")

    other = await aiohttp_client(client.server)
    await add_account(engine.database, "binh", "staff", "Nguyễn Văn Bình")
    await login(other, "binh")
    listing = await (await other.get("/staff/inbox/list")).text()
    assert "Trần Thị Lan đang xử lý" in listing
    page = await (await other.get(f"/staff/inbox/{handoff_id}")).text()
    assert 'data-insert="Trung tâm mở cửa 7:30-17:00."' in page


async def test_web_chat_citizen_gets_the_answer_live_and_in_the_history(
    client, engine: Engine
) -> None:
    session = "wtest123"
    for text in ("gặp cán bộ", QUESTION):
        await client.post("/api/chat", json={"session": session, "text": text})
    (handoff_id,) = await handoff_ids(engine)
    events = await client.get(f"/api/chat/events?session={session}")
    assert events.headers["Content-Type"].startswith("text/event-stream")
    await post(client, f"/staff/inbox/{handoff_id}/answer", text="Bác ra quầy số 2 nhé")
    name, data = await read_event(events)
    assert name == "message"
    message = json.loads(data)
    assert "Bác ra quầy số 2 nhé" in message["text"] and message["from"] == "staff"
    events.close()
    history = await (await client.get(f"/api/chat/history?session={session}")).json()
    assert [m["id"] for m in history["messages"]] == [message["id"]]
    assert (await client.get("/api/chat/history?session=../x")).status == 400
    # Another page (another session) sees nothing of it.
    other = await (await client.get("/api/chat/history?session=wother")).json()
    assert other["messages"] == []


async def test_the_open_inbox_hears_of_a_new_hand_off_at_once(
    client, engine: Engine, telegram: FakeTelegram
) -> None:
    events = await client.get("/staff/events")
    name, first = await read_event(events)
    assert name == "inbox"
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    started = asyncio.get_running_loop().time()
    await citizen.say(QUESTION)
    name, later = await read_event(events, timeout=3)
    while "Tôi 70 tuổi" not in json.loads(later)["html"]:  # "gặp cán bộ" made an event too
        name, later = await read_event(events, timeout=3)
    assert name == "inbox" and json.loads(later)["version"] > json.loads(first)["version"]
    assert asyncio.get_running_loop().time() - started < 1.5
    events.close()


async def shows_within(events, marker: str, seconds: float) -> bool:
    """Whether an `inbox` event whose list carries `marker` comes on this stream in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            name, data = await read_event(events, timeout=left)
        except TimeoutError:
            return False
        if name == "inbox" and marker in json.loads(data)["html"]:
            return True
    return False


async def test_hand_offs_in_a_row_from_web_and_telegram_reach_every_open_inbox(
    client, aiohttp_client, engine: Engine, telegram: FakeTelegram
) -> None:
    """As bench/console.py does it: consoles open, citizens asking for staff one after another,
    each hand-off in every open inbox within a second (issue 13's target)."""
    await add_account(engine.database, "binh", "staff", "Nguyễn Văn Bình")
    other = await aiohttp_client(client.server)
    await login(other, "binh")
    streams = [await client.get("/staff/events"), await other.get("/staff/events")]
    for events in streams:
        assert (await read_event(events))[0] == "inbox"
    for n in range(6):
        marker = f"hỏi-số-{n}-xã"
        if n % 3 == 2:
            citizen = TelegramCitizen(client, telegram, chat_id=5550800 + n)
            await citizen.say("gặp cán bộ")
            await citizen.say(f"Cho hỏi {marker} ạ")
        else:
            for text in ("gặp cán bộ", f"Cho hỏi {marker} ạ"):
                response = await client.post(
                    "/api/chat", json={"session": f"wrow{n}", "text": text}
                )
                assert response.status == 200
        for events in streams:
            assert await shows_within(events, marker, 1.0), marker
    assert len(await handoff_ids(engine)) == 6
    for events in streams:
        events.close()


async def test_the_inbox_says_which_village_the_citizen_lives_in(
    client, engine: Engine, telegram: FakeTelegram
) -> None:
    """The village is the citizen's own tag that is one of the commune's villages."""
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    (handoff_id,) = await handoff_ids(engine)
    async with engine.database.session() as session, session.begin():
        contact = (await session.execute(select(Contact))).scalar_one()
        session.add(Subscription(contact_id=contact.id, tags=["nông nghiệp", "Ấp Hòa Long"],
                                 updated_at=datetime.now(UTC)))  # fmt: skip
    events = await client.get("/staff/events")
    _, data = await read_event(events)
    events.close()
    for html in (
        json.loads(data)["html"],
        await (await client.get("/staff/inbox/list")).text(),
        await (await client.get(f"/staff/inbox/{handoff_id}/thread")).text(),
    ):
        assert re.search(r'class="village">📍 Ấp Hòa Long<', html), html
        assert "· nông nghiệp" in html and "nông nghiệp, Ấp Hòa Long" not in html


async def test_a_new_password_ends_an_open_inbox_stream_before_its_next_event(
    client, engine: Engine, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log out everywhere: an inbox left open elsewhere gets no more citizens' questions."""
    from bot.console import inbox
    from storage.accounts import account_by_login, set_password

    monkeypatch.setattr(inbox, "SESSION_CHECK_SECONDS", 0.0)  # look before every event
    events = await client.get("/staff/events")
    assert (await read_event(events))[0] == "inbox"
    async with engine.database.session() as session, session.begin():
        account = await account_by_login(session, "lan")
        await set_password(session, account, account.password_hash, datetime.now(UTC))
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    rest = await asyncio.wait_for(events.content.read(), 3)  # the stream ends
    assert b"event: inbox" not in rest and "Tôi 70 tuổi".encode() not in rest
    again = await client.get("/staff/events", headers={"Accept": "text/event-stream"})
    assert again.status == 401


async def test_hand_offs_that_came_out_of_hours_are_marked_and_lead_the_list(
    client, engine: Engine
) -> None:
    """In the morning the overnight questions are on top, each marked: those people were told
    when staff would answer."""
    from tests.test_handoff import MONDAY_9AM, SATURDAY_8PM

    async with engine.database.session() as session, session.begin():
        session.add(Handoff(channel="web", chat_id="wday", question="Hỏi trong giờ",
                            opened_at=MONDAY_9AM + timedelta(days=7)))  # fmt: skip
        session.add(Handoff(channel="web", chat_id="wnight", question="Hỏi tối thứ Bảy",
                            opened_at=SATURDAY_8PM))  # fmt: skip
    listing = await (await client.get("/staff/inbox/list")).text()
    assert listing.index("Hỏi tối thứ Bảy") < listing.index("Hỏi trong giờ")
    assert listing.count("🌙 ngoài giờ") == 1
    night = listing.split("Hỏi tối thứ Bảy")[0].rsplit('<li class="item', 1)[1]
    assert "🌙 ngoài giờ" in night


async def test_outside_the_zalo_window_the_console_offers_the_hotline(
    client, engine: Engine
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=8)
    async with engine.database.session() as session, session.begin():
        session.add(Contact(channel="zalo", chat_id="z1", first_seen=long_ago, last_seen=long_ago))
        handoff = Handoff(channel="zalo", chat_id="z1", question="Hỏi về hộ tịch",
                          opened_at=long_ago)  # fmt: skip
        session.add(handoff)
        await session.flush()
        handoff_id = handoff.id
    page = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    assert 'id="window-notice"' in page and "Zalo OA" in page and "Đã quá 7 ngày" in page
    hotline = engine.library.profile["hotline"]
    assert str(hotline) in page
    assert 'name="text"' not in page
    async with engine.database.session() as session, session.begin():
        await session.execute(update(Contact).values(last_seen=datetime.now(UTC)))
    page = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    assert 'id="window-notice"' not in page and 'name="text"' in page

    # Messenger's window is a day: two days of silence close it.
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    async with engine.database.session() as session, session.begin():
        session.add(Contact(channel="messenger", chat_id="m1", first_seen=two_days_ago,
                            last_seen=two_days_ago))  # fmt: skip
        handoff = Handoff(channel="messenger", chat_id="m1", question="Hỏi về đất đai",
                          opened_at=two_days_ago)  # fmt: skip
        session.add(handoff)
        await session.flush()
        handoff_id = handoff.id
    page = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    assert "Đã quá 24 giờ" in page and "Messenger" in page and 'name="text"' not in page


async def test_without_console_staff_or_group_the_hotline_is_given_as_before(
    aiohttp_client, engine: Engine
) -> None:
    client = await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))
    response = await client.post("/api/chat", json={"session": "wnobody", "text": "gặp cán bộ"})
    replies = (await response.json())["replies"]
    assert any(re.search(r"\d{4}", r["text"]) for r in replies)  # the hotline, no hand-off
    assert await handoff_ids(engine) == []


async def test_the_telegram_staff_group_and_the_console_see_the_same_hand_offs(
    aiohttp_client, engine: Engine, telegram: FakeTelegram
) -> None:
    group = -1001112223334
    settings = telegram_settings(engine.database.url, telegram, staff_room=f"telegram:{group}")
    client = await aiohttp_client(create_app(settings, engine))
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    (handoff_id,) = await handoff_ids(engine)
    assert QUESTION in telegram.sent_to(group)[-1].params["text"]
    assert "Tôi 70 tuổi" in await (await client.get("/staff/inbox/list")).text()

    await post(client, f"/staff/inbox/{handoff_id}/claim")
    assert telegram.sent_to(group)[-1].params["text"].startswith("👤 Trần Thị Lan nhận xử lý")
    await post(client, f"/staff/inbox/{handoff_id}/answer", text="Bác ra quầy 2")
    assert "Bác ra quầy 2" in telegram.sent_to(group)[-1].params["text"]
    assert "Bác ra quầy 2" in citizen.received()[-1]
    await post(client, f"/staff/inbox/{handoff_id}/close")
    assert "đã kết thúc" in telegram.sent_to(group)[-1].params["text"]


async def test_an_answer_from_the_staff_group_shows_in_the_console_thread_and_claim(
    aiohttp_client, engine: Engine, telegram: FakeTelegram
) -> None:
    from bot.console.security import hash_password
    from storage.accounts import create_account
    from storage.staff import add_member
    from tests.fake_telegram import Updates

    group, staff_user = -1001112223334, 4440001
    settings = telegram_settings(engine.database.url, telegram, staff_room=f"telegram:{group}")
    client = await aiohttp_client(create_app(settings, engine))
    now = datetime.now(UTC)
    async with engine.database.session() as session, session.begin():
        member = await add_member(session, name="Lê Văn Tư", role="staff", now=now,
                                  channel="telegram", chat_id=str(staff_user))  # fmt: skip
        await create_account(session, name="Lê Văn Tư", login="tu", role="staff",
                             password_hash=hash_password("mat-khau-dai-1"), now=now,
                             member=member)  # fmt: skip
    await login(client, "tu")
    telegram.on("sendMessage", lambda call: {  # ids the test can reply to: 1 + call position
        "message_id": telegram.calls.index(call) + 1, "date": 0,
        "chat": {"id": call.chat_id, "type": "private"}, "text": call.params.get("text", ""),
    })  # fmt: skip
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("gặp cán bộ")
    await citizen.say(QUESTION)
    post_id = telegram.calls.index(telegram.sent_to(group)[-1]) + 1
    (handoff_id,) = await handoff_ids(engine)
    reply = Updates().group(group, staff_user, "Bác mang căn cước cũ ra quầy 2 ạ",
                            reply_to_message_id=post_id)  # fmt: skip
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert (await client.post("/webhook/telegram", json=reply, headers=headers)).status == 200
    assert "quầy 2" in citizen.received()[-1]

    listing = await (await client.get("/staff/inbox/list")).text()
    assert "Lê Văn Tư đang xử lý" in listing
    thread = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    # Shown as staff's words (not the bot's), like an answer from the console.
    assert re.search(
        r'class="bubble staff">\s*<span class="who">Cán bộ[^<]*</span>\s*'
        r'<span class="text">[^<]*Bác mang căn cước cũ ra quầy 2',
        thread,
    ), thread
