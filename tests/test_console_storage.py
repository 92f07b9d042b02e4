"""The console's queries on SQLite and PostgreSQL: accounts and sessions, failed logins,
claims and assignments (upserts), the inbox, today's figures, erasing, and the live hub."""

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.console.live import Hub
from storage.accounts import (
    account_by_login,
    clear_failures,
    console_staff_exists,
    create_account,
    live_session,
    open_session,
    recent_failures,
    record_failure,
    set_password,
)
from storage.citizens import erase, record
from storage.console_stats import (
    satisfaction_since,
    sessions_since,
    ticket_figures,
    unknown_questions,
)
from storage.console_tickets import assign, assignee_of, filtered
from storage.db import Database
from storage.inbox import claim, open_items, thread, waiting
from storage.models import (
    Contact,
    Handoff,
    MessageEvent,
    SupportSession,
    WebChatMessage,
)
from storage.tickets import create_ticket

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_accounts_sessions_and_failures(database: Database) -> None:
    async with database.session() as session, session.begin():
        assert not await console_staff_exists(session)
        volunteer = await create_account(
            session, name="Tư", login="TV05", role="volunteer", password_hash="h", now=NOW
        )
        assert not await console_staff_exists(session)
        lan = await create_account(
            session, name="Lan", login="lan", role="admin", password_hash="h", now=NOW
        )
        assert await console_staff_exists(session)
        await open_session(session, lan, "token-1", "csrf-1", NOW)
    assert volunteer.login == "tv05"
    async with database.session() as session, session.begin():
        found = await live_session(session, "token-1", NOW + timedelta(hours=1), timedelta(hours=9))
        assert found is not None and found[1].login == "lan" and found[2] == "Lan"
        assert await live_session(session, "token-1", NOW + timedelta(hours=10),
                                  timedelta(hours=9)) is None  # fmt: skip
    async with database.session() as session, session.begin():
        assert await live_session(session, "token-1", NOW, timedelta(hours=9)) is None  # deleted
        await open_session(session, lan, "token-2", "csrf-2", NOW)
        account = await account_by_login(session, "LAN")
        await set_password(session, account, "h2", NOW)
        assert await live_session(session, "token-2", NOW, timedelta(hours=9)) is None
    async with database.session() as session, session.begin():
        for n in range(3):
            await record_failure(session, "lan", "10.0.0.1", NOW + timedelta(seconds=n))
        await record_failure(session, "binh", "10.0.0.2", NOW)
        count, last = await recent_failures(session, "lan", "10.0.0.9", NOW - timedelta(hours=1))
        assert (count, last) == (3, NOW + timedelta(seconds=2))
        count, _ = await recent_failures(session, "x", "10.0.0.2", NOW - timedelta(hours=1))
        assert count == 1
        await clear_failures(session, "lan", NOW - timedelta(days=2))
        count, _ = await recent_failures(session, "lan", "10.0.0.1", NOW - timedelta(hours=1))
        assert count == 0


async def test_inbox_claims_tickets_and_figures(database: Database) -> None:
    async with database.session() as session, session.begin():
        lan = await create_account(
            session, name="Lan", login="lan", role="staff", password_hash="h", now=NOW
        )
        binh = await create_account(
            session, name="Bình", login="binh", role="staff", password_hash="h", now=NOW
        )
        session.add(Contact(channel="zalo", chat_id="z1", first_seen=NOW, last_seen=NOW))
        old = Handoff(channel="zalo", chat_id="z1", question="a", opened_at=NOW)
        new = Handoff(channel="web", chat_id="w1", question="b", opened_at=NOW + timedelta(1))
        done = Handoff(channel="web", chat_id="w2", question="c", opened_at=NOW,
                       closed_at=NOW)  # fmt: skip
        session.add_all([old, new, done])
        await session.flush()
        await claim(session, old.id, lan.id, NOW)
        await claim(session, old.id, binh.id, NOW)  # taken over: one row, the last claimant
        ticket = await create_ticket(
            session, channel="zalo", chat_id="z1", content="x", reply_contact=None, now=NOW,
            year=2026, due=date(2026, 11, 20),
        )  # fmt: skip
        await assign(session, ticket.id, lan.id, NOW)
        await assign(session, ticket.id, binh.id, NOW)
        session.add_all(
            [
                SupportSession(channel="web", started_at=NOW, ended_at=NOW, satisfaction=1),
                SupportSession(channel="web", started_at=NOW, ended_at=NOW, satisfaction=3),
            ]
        )
        for text in ("con bò bị lạc", "Con bò bị lạc", "hỏi khác"):
            session.add(MessageEvent(at=NOW, channel="web", chat_id="w1", direction="in",
                                     handler="search", outcome="unknown", text=text))  # fmt: skip
    async with database.session() as session:
        items = await open_items(session)
        assert [i.handoff.question for i in items] == ["a", "b"]
        assert items[0].claimed_by == "Bình" and items[0].contact_id is not None
        assert await waiting(session) == (2, NOW)
        texts = [e.text for e in await thread(session, "web", "w1")]
        assert texts == ["con bò bị lạc", "Con bò bị lạc", "hỏi khác"]
        assert await assignee_of(session, ticket.id) == binh.id
        rows = await filtered(session, date(2026, 11, 23), "open", overdue=True)
        assert [(t.number, name) for t, name in rows] == [(ticket.number, "Bình")]
        assert await ticket_figures(session, date(2026, 11, 23)) == (0, 1)
        assert await satisfaction_since(session, NOW - timedelta(days=1)) == (1, 2)
        assert await sessions_since(session, NOW) == 2
        assert (await unknown_questions(session, NOW))[0] == ("con bò bị lạc", 2)


async def test_erase_takes_the_person_and_their_web_messages(database: Database) -> None:
    async with database.session() as session, session.begin():
        contact = Contact(channel="web", chat_id="w9", first_seen=NOW, last_seen=NOW)
        session.add(contact)
        session.add(MessageEvent(at=NOW, channel="web", chat_id="w9", direction="in", text="hi"))
        session.add(WebChatMessage(chat_id="w9", at=NOW, payload={"text": "staff"}))
        session.add(WebChatMessage(chat_id="w8", at=NOW, payload={"text": "other"}))
        await session.flush()
        found = await record(session, contact.id, "ref")
        assert [e.text for e in found.events] == ["hi"]
        await erase(session, contact, "ref")
    async with database.session() as session:
        left = (await session.execute(select(WebChatMessage.chat_id))).scalars().all()
        assert left == ["w8"]
        assert await session.get(Contact, contact.id) is None


async def test_the_hub_hears_other_workers_writes(database: Database) -> None:
    hub = Hub(database, interval=0.05)
    await hub.start()
    try:
        inbox = hub.listen_inbox()
        page = hub.listen_web("w1")
        async with database.session() as session, session.begin():  # "another worker"
            session.add(Handoff(channel="web", chat_id="w1", question="?", opened_at=NOW))
            session.add(WebChatMessage(chat_id="w1", at=NOW, payload={"text": "xin chào"}))
        assert await asyncio.wait_for(inbox.get(), 2) == 1
        message_id, payload = await asyncio.wait_for(page.get(), 2)
        assert payload == {"text": "xin chào"} and message_id > 0
        # A follow-up message of a chat with an open hand-off refreshes the inbox too.
        async with database.session() as session, session.begin():
            session.add(MessageEvent(at=NOW, channel="web", chat_id="w1", direction="in",
                                     handler="search", text="thêm"))  # fmt: skip
        assert await asyncio.wait_for(inbox.get(), 2) == 2
        # Unrelated chatter does not.
        async with database.session() as session, session.begin():
            session.add(MessageEvent(at=NOW, channel="web", chat_id="w7", direction="in",
                                     handler="search", text="khác"))  # fmt: skip
        await asyncio.sleep(0.3)
        assert inbox.empty()
    finally:
        await hub.stop()
