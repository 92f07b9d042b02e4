"""Storage on both SQLite and PostgreSQL: the same engine code, the same results."""

import asyncio
import sqlite3

from sqlalchemy import text as sql
from sqlmodel import func, select

from bot.engine import Engine
from bot.library import Library
from bot.messages import Incoming
from storage.db import Database
from storage.models import Contact, Conversation, MessageEvent
from tests.conftest import Chat


async def test_a_guide_walk_is_stored_the_same_on_both_databases(
    database: Database, fixture_library: Library
) -> None:
    chat = Chat(Engine(fixture_library, database), channel="web", chat_id="s1")
    await chat.say("#11 TV05")
    await chat.press("Tiếp")
    async with database.session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        state = await session.get(Conversation, ("web", "s1"))
        events = (await session.execute(select(func.count()).select_from(MessageEvent))).scalar()
    assert (contact.channel, contact.chat_id, contact.referral) == ("web", "s1", "TV05")
    assert contact.first_seen <= contact.last_seen
    assert contact.first_seen.tzinfo is not None
    assert state is not None and (state.mode, state.guide_id, state.step) == (
        "guide",
        "vneid-cai-dat",
        2,
    )
    assert state.choices[0] == "g:vneid-cai-dat:3"
    assert events == 4


async def test_many_people_at_once_each_keep_their_own_place(
    database: Database, fixture_library: Library
) -> None:
    engine = Engine(fixture_library, database)

    async def walk(person: int) -> str:
        chat = Chat(engine, chat_id=f"p{person}")
        await chat.say("#11")
        for _ in range(person % 3):
            await chat.say("tiếp")
        return chat.text

    texts = await asyncio.gather(*(walk(n) for n in range(12)))
    for person, text in enumerate(texts):
        assert f"Bước {person % 3 + 1}/3" in text
    async with database.session() as session:
        contacts = (await session.execute(select(func.count()).select_from(Contact))).scalar()
    assert contacts == 12


async def test_two_workers_racing_on_one_new_contact_create_it_once(
    database: Database, fixture_library: Library
) -> None:
    workers = [Engine(fixture_library, database), Engine(fixture_library, database)]
    await asyncio.gather(*(w.handle(Incoming("web", "same", text="menu")) for w in workers))
    async with database.session() as session:
        contacts = (await session.execute(select(Contact))).scalars().all()
    assert len(contacts) == 1


async def test_odd_text_is_stored_as_typed(database: Database, fixture_library: Library) -> None:
    engine = Engine(fixture_library, database)
    odd = "Robert'); DROP TABLE contact;-- \u200b\u200d 👵🏽 <b>x</b> \x00?"
    await engine.handle(Incoming("web", "odd", text=odd))
    async with database.session() as session:
        logged = (
            await session.execute(select(MessageEvent.text).where(MessageEvent.direction == "in"))
        ).scalar_one()
        assert (await session.execute(select(func.count()).select_from(Contact))).scalar() == 1
    assert logged == odd.replace("\x00", "")


async def test_a_contact_marked_unreachable_is_reachable_again_when_they_write(
    database: Database, fixture_library: Library
) -> None:
    from storage.conversations import mark_unreachable

    engine = Engine(fixture_library, database)
    await engine.handle(Incoming("telegram", "42", text="menu"))
    async with database.session() as session, session.begin():
        await mark_unreachable(session, "telegram", "42")
    async with database.session() as session:
        assert (await session.execute(select(Contact.unreachable))).scalar_one() is True
    await engine.handle(Incoming("telegram", "42", text="menu"))
    async with database.session() as session:
        assert (await session.execute(select(Contact.unreachable))).scalar_one() is False


async def test_sqlite_results_come_whole_in_parts_and_streamed(sqlite_database: Database) -> None:
    """The one-trip SQLite driver (storage/sqlite_driver.py) answers as a DBAPI cursor must."""
    async with sqlite_database.engine.connect() as connection:
        await connection.execute(sql("CREATE TABLE numbers (n INTEGER PRIMARY KEY, x INT)"))
        await connection.execute(
            sql("INSERT INTO numbers (x) VALUES (:x)"), [{"x": i} for i in range(10)]
        )
        result = await connection.execute(sql("SELECT x FROM numbers ORDER BY x"))
        assert result.fetchmany() == [(0,)]
        assert result.fetchmany(3) == [(1,), (2,), (3,)]
        assert [x for (x,) in result.fetchall()] == [4, 5, 6, 7, 8, 9]
        inserted = await connection.execute(sql("INSERT INTO numbers (x) VALUES (99)"))
        assert (inserted.rowcount, inserted.lastrowid) == (1, 11)
        changed = await connection.execute(sql("UPDATE numbers SET x = x + 1 WHERE x < 5"))
        assert changed.rowcount == 5
        streamed = await connection.stream(sql("SELECT x FROM numbers ORDER BY n"))
        assert [x async for (x,) in streamed][:3] == [1, 2, 3]


async def test_a_turn_waits_for_another_process_writing_without_stalling_the_others(
    sqlite_database: Database, engine: Engine
) -> None:
    """Statements run on the event loop's thread only once their connection holds SQLite's
    write lock (storage/sqlite_driver.py); waiting for that lock happens on aiosqlite's."""
    path = sqlite_database.url.split("///", 1)[1]
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # as `troly campaign send` in another process
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    turn = asyncio.create_task(engine.handle(Incoming("web", "waiting", "menu")))
    await asyncio.sleep(0.5)
    assert not turn.done() and ticks >= 20  # the loop kept serving while the turn waited
    other_process.execute("COMMIT")
    other_process.close()
    replies = await asyncio.wait_for(turn, 5)
    ticker.cancel()
    assert replies and replies != [engine.fallback()]
    async with sqlite_database.session() as session:
        logged = await session.scalar(
            select(func.count()).select_from(MessageEvent).where(MessageEvent.chat_id == "waiting")
        )
    assert logged == 2  # what they wrote and what they were answered, written once
