"""The inbox on the channels the other console tests leave out: a Messenger citizen and a Zalo Bot
citizen ask for staff through the signed webhooks, their hand-offs reach the open inbox live with
their channel's name, and the console's answer reaches each on the fake platform."""

from sqlmodel import select

from bot.app import create_app
from bot.engine import Engine
from bot.settings import Settings
from storage.models import Handoff
from tests import test_messenger, test_zalo_bot
from tests.console_helpers import add_account, login, page_csrf, read_event
from tests.fake_meta import FakeMeta
from tests.fake_zalo import FakeZalo
from tests.test_console_inbox import shows_within
from tests.test_messenger import PSID, Citizen
from tests.test_zalo_bot import CHAT, Person

# The fakes as those channels' own tests set them up (their environment variables).
meta = test_messenger.meta
zalo = test_zalo_bot.zalo


async def test_messenger_and_zalo_bot_hand_offs_are_answered_from_the_console(
    aiohttp_client, engine: Engine, meta: FakeMeta, zalo: FakeZalo
) -> None:
    client = await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    events = await client.get("/staff/events")
    assert (await read_event(events))[0] == "inbox"
    messenger, zalo_bot = Citizen(client, meta), Person(client, zalo)

    await messenger.say("gặp cán bộ")
    await messenger.say("Tôi ở nước ngoài, làm căn cước cho con thế nào?")
    assert await shows_within(events, "căn cước cho con", 1.0)
    await zalo_bot.say("gặp cán bộ")
    await zalo_bot.say("Cho hỏi đăng ký kết hôn cần giấy gì?")
    assert await shows_within(events, "đăng ký kết hôn", 1.0)
    events.close()
    listing = await (await client.get("/staff/inbox/list")).text()
    assert "Messenger" in listing and "Zalo Bot" in listing

    async with engine.database.session() as session:
        rows = (await session.execute(select(Handoff.channel, Handoff.id))).all()
    assert sorted(channel for channel, _ in rows) == ["messenger", "zalo_bot"]
    handoffs = dict(rows)
    token = await page_csrf(client, "/staff/inbox")
    for channel, text in (("messenger", "Anh chị gọi đường dây nóng nhé"),
                          ("zalo_bot", "Bạn mang CCCD hai người ra quầy 1")):  # fmt: skip
        response = await client.post(f"/staff/inbox/{handoffs[channel]}/answer",
                                     data={"csrf": token, "text": text},
                                     allow_redirects=False)  # fmt: skip
        assert "notice=sent" in response.headers["Location"], response.headers["Location"]
    answer = meta.messages_to(PSID)[-1]
    assert "đường dây nóng" in answer.text and answer.body["messaging_type"] == "RESPONSE"
    assert "quầy 1" in zalo.bot_messages_to(CHAT)[-1].body["text"]

    # Each citizen's reply lands in their thread, next to the answer.
    await messenger.say("Dạ cảm ơn")
    thread = await (await client.get(f"/staff/inbox/{handoffs['messenger']}/thread")).text()
    assert "Dạ cảm ơn" in thread and "đường dây nóng" in thread
