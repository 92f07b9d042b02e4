"""The citizen's name "if known" (issue 13): the name Telegram and the Zalo Bot Platform give in
each update is kept on the contact, shown (escaped) in the inbox, its live list, the thread and
the citizen record, and goes when the person is erased."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import create_app
from bot.channels.messenger import MESSENGER
from bot.engine import Engine
from bot.settings import Settings
from storage.conversations import touch_contact
from storage.db import Database
from storage.models import Contact, Handoff
from tests import console_helpers, test_messenger, test_zalo_bot
from tests.conftest import Chat
from tests.console_helpers import (
    TelegramCitizen,
    add_account,
    login,
    page_csrf,
    read_event,
)
from tests.fake_meta import FakeMeta
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo, bot_update
from tests.test_console_inbox import shows_within
from tests.test_messenger import PSID, Citizen
from tests.test_zalo_bot import CHAT, Person

# The fakes as those channels' own tests set them up (their environment variables).
zalo = test_zalo_bot.zalo
meta = test_messenger.meta


telegram, client = console_helpers.telegram, console_helpers.client


async def contact_of(engine: Engine, channel: str, chat_id: str) -> Contact | None:
    async with engine.database.session() as session:
        found = await session.execute(
            select(Contact).where(Contact.channel == channel, Contact.chat_id == chat_id)
        )
        return found.scalar_one_or_none()


async def test_touch_contact_keeps_a_name_and_takes_a_new_one(database: Database) -> None:
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        await touch_contact(session, "telegram", "1", now, None, "  Nguyễn   Văn An ")
        await touch_contact(session, "telegram", "2", now, None)
    async with database.session() as session, session.begin():
        # A turn without a name (a platform that sent none this time) keeps the one we have.
        await touch_contact(session, "telegram", "1", now + timedelta(minutes=9), None)
    async with database.session() as session:
        names = dict((await session.execute(select(Contact.chat_id, Contact.display_name))).all())
    assert names == {"1": "Nguyễn Văn An", "2": None}
    async with database.session() as session, session.begin():
        await touch_contact(session, "telegram", "1", now, None, "An " + "x" * 300)
    async with database.session() as session:
        found = await session.execute(select(Contact.display_name).where(Contact.chat_id == "1"))
        name = found.scalar_one()
    assert name.startswith("An xxx") and len(name) == 100


async def test_a_telegram_name_shows_in_the_inbox_thread_and_record(
    client, engine: Engine, telegram: FakeTelegram
) -> None:
    events = await client.get("/staff/events")
    assert (await read_event(events))[0] == "inbox"
    citizen = TelegramCitizen(client, telegram, 5550801, "Nguyễn Văn", "An")
    await citizen.say("gặp cán bộ")
    await citizen.say("Cho tôi hỏi làm căn cước cho con")
    # The live list every open inbox receives names the citizen.
    assert await shows_within(events, "Nguyễn Văn An", 1.0)
    events.close()
    async with engine.database.session() as session:
        (handoff_id,) = (await session.execute(select(Handoff.id))).scalars().all()

    inbox = await (await client.get("/staff/inbox")).text()
    assert '<b class="citizen-name">Nguyễn Văn An</b>' in inbox
    thread = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    assert '· <span class="citizen-name">Nguyễn Văn An</span></h1>' in thread
    contact = await contact_of(engine, "telegram", "5550801")
    assert contact is not None and contact.display_name == "Nguyễn Văn An"
    record = await (await client.get(f"/staff/contacts/{contact.id}")).text()
    assert f'Người dân #{contact.id} · <span class="citizen-name">Nguyễn Văn An</span>' in record

    # Erased from the console: the name goes with the contact.
    token = await page_csrf(client, f"/staff/contacts/{contact.id}")
    done = await client.post(f"/staff/contacts/{contact.id}/erase", allow_redirects=False,
                             data={"csrf": token, "confirm": "yes"})  # fmt: skip
    assert done.headers["Location"] == "/staff/audit?notice=erased"
    assert await contact_of(engine, "telegram", "5550801") is None
    async with engine.database.session() as session:
        names = (await session.execute(select(Contact.display_name))).scalars().all()
    assert "Nguyễn Văn An" not in names
    inbox = await (await client.get("/staff/inbox")).text()
    assert "Nguyễn Văn An" not in inbox


async def test_a_name_with_markup_is_shown_as_text_and_no_name_as_before(
    client, engine: Engine, telegram: FakeTelegram
) -> None:
    marked = TelegramCitizen(client, telegram, 5550802, "<b>x</b>")
    await marked.say("gặp cán bộ")
    await marked.say("Câu hỏi thứ nhất về hộ khẩu")
    inbox = await (await client.get("/staff/inbox")).text()
    assert "&lt;b&gt;x&lt;/b&gt;" in inbox and "<b>x</b>" not in inbox
    async with engine.database.session() as session:
        (handoff_id,) = (await session.execute(select(Handoff.id))).scalars().all()
    thread = await (await client.get(f"/staff/inbox/{handoff_id}")).text()
    assert "&lt;b&gt;x&lt;/b&gt;" in thread and "<b>x</b>" not in thread
    contact = await contact_of(engine, "telegram", "5550802")
    assert contact is not None
    record = await (await client.get(f"/staff/contacts/{contact.id}")).text()
    assert "&lt;b&gt;x&lt;/b&gt;" in record and "<b>x</b>" not in record

    # Without a name (the web chat gives none) the pages show what they showed before.
    async with engine.database.session() as session, session.begin():
        await session.execute(
            Contact.__table__.update().where(Contact.id == contact.id).values(display_name=None)
        )
    inbox = await (await client.get("/staff/inbox")).text()
    assert "citizen-name" not in inbox and "hộ khẩu" in inbox
    record = await (await client.get(f"/staff/contacts/{contact.id}")).text()
    assert f"<h1>Người dân #{contact.id}</h1>" in record


async def test_a_zalo_bot_display_name_shows_in_the_inbox_and_record(
    aiohttp_client, engine: Engine, zalo: FakeZalo
) -> None:
    client = await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    person = Person(client, zalo)

    def named(text: str) -> dict:
        update = bot_update(CHAT, text)
        update["result"]["message"]["from"]["display_name"] = "Trần Thị Bình"
        return update

    await person.send(named("gặp cán bộ"))
    await person.send(named("Đăng ký kết hôn cần giấy gì?"))
    inbox = await (await client.get("/staff/inbox")).text()
    assert '<b class="citizen-name">Trần Thị Bình</b>' in inbox and "Zalo Bot" in inbox
    contact = await contact_of(engine, "zalo_bot", CHAT)
    assert contact is not None and contact.display_name == "Trần Thị Bình"
    record = await (await client.get(f"/staff/contacts/{contact.id}")).text()
    assert '<span class="citizen-name">Trần Thị Bình</span>' in record


async def test_a_messenger_name_is_asked_once_after_the_reply_and_shown(
    aiohttp_client, engine: Engine, meta: FakeMeta
) -> None:
    client = await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(client, "lan")
    meta.people[PSID] = {"first_name": "Phạm Minh", "last_name": "Tuấn"}
    citizen, lookups = Citizen(client, meta), client.app[MESSENGER].names

    assert "cán bộ" in "\n".join(c.text for c in await citizen.say("gặp cán bộ"))
    await lookups.wait()
    await citizen.say("Tôi muốn hỏi về giấy khai sinh")
    await lookups.wait()
    assert meta.lookups == [PSID]  # once for the new contact, not at every message
    inbox = await (await client.get("/staff/inbox")).text()
    assert '<b class="citizen-name">Phạm Minh Tuấn</b>' in inbox and "Messenger" in inbox

    # A person Meta gives no profile for stays without a name; the bot answers them all the same.
    other = Citizen(client, meta, "13579086420")
    other.events = citizen.events  # its message ids go on from the first citizen's
    assert await other.say("xin chào")
    await lookups.wait()
    assert await other.say("giờ làm việc")
    await lookups.wait()
    assert meta.lookups == [PSID, "13579086420"]
    contact = await contact_of(engine, "messenger", "13579086420")
    assert contact is not None and contact.display_name is None


async def test_xoadulieu_erases_the_name(engine: Engine) -> None:
    chat = Chat(engine, "telegram", "5550803")
    await chat.send(text="xin chào", name="Lê Thị Hoa")
    contact = await contact_of(engine, "telegram", "5550803")
    assert contact is not None and contact.display_name == "Lê Thị Hoa"
    await chat.send(text="/xoadulieu", name="Lê Thị Hoa")
    assert "không hoàn tác" in chat.text
    await chat.press("🗑️")
    assert "Đã xoá dữ liệu" in chat.text
    assert await contact_of(engine, "telegram", "5550803") is None
