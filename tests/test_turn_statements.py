"""How many SQL statements a turn costs (issue 17, item 4): at most 3 for an ordinary one.

Counted with SQLAlchemy's `before_cursor_execute` on the engine, on SQLite and PostgreSQL.
An ordinary turn is a citizen in an ongoing session pressing "Tiếp" through a guide or typing
a question; the first message of a session, the last step of a guide (it asks for a rating)
and a guide opened for the first time in a session write what the reports count, so they
may cost more.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import select

from bot.engine import Engine
from bot.library import Library
from bot.settings import Settings
from storage.db import Database
from storage.models import SessionGuide
from tests.conftest import Chat
from tests.test_sessions import START, Clock, sessions_of

ORDINARY = 3


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    """The statements sent to the database inside the block, first words only."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()[:4]))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


class CountedChat(Chat):
    def __init__(self, engine: Engine, database: Database, clock: Clock):
        super().__init__(engine)
        self.database, self.clock = database, clock
        self.counts: dict[str, list[str]] = {}

    async def turn(self, kind: str, text: str | None = None, press: str | None = None) -> None:
        self.clock.advance(seconds=20)
        with counting(self.database) as statements:
            if press is not None:
                await self.press(press)
            else:
                await self.say(text or "")
        self.counts[kind] = statements


async def test_an_ordinary_turn_costs_at_most_three_statements(
    database: Database, fixture_library: Library
) -> None:
    clock = Clock(START)
    engine = Engine(fixture_library, database, clock=clock, settings=Settings())
    chat = CountedChat(engine, database, clock)
    await chat.turn("first message", "#11")  # vneid-cai-dat, 3 steps
    assert "Bước 1/3" in chat.text
    await chat.turn("Tiếp", press="Tiếp")
    assert "Bước 2/3" in chat.text
    await chat.turn("question", "cài vneid thế nào")  # the guide this visit already opened
    assert "Bước 1/3" in chat.text
    await chat.turn("typed tiếp", "tiếp")
    await chat.turn("last step", press="Tiếp")
    assert "Hướng dẫn này có giúp được bạn không?" in chat.text
    await chat.turn("question opening a guide", "kích hoạt tài khoản vneid")
    assert "Kích hoạt tài khoản VNeID" in chat.text
    await chat.turn("question opening a topic", "bị lừa lấy mã otp")
    assert "OTP" in chat.text
    await chat.turn("question without a guide", "giá vàng hôm nay")

    counts = {kind: len(statements) for kind, statements in chat.counts.items()}
    for kind in ("Tiếp", "typed tiếp", "question", "question without a guide"):
        assert counts[kind] <= ORDINARY, (kind, chat.counts[kind])
    # What the reports count is written in the turn it happens: a session (with the contact),
    # a guide opened, a guide finished (with the rating question), a topic.
    assert counts["first message"] <= 6, chat.counts["first message"]
    assert counts["last step"] <= 5, chat.counts["last step"]
    assert counts["question opening a guide"] <= 4, chat.counts["question opening a guide"]
    assert counts["question opening a topic"] <= 5, chat.counts["question opening a topic"]

    # ... and the session says what the turns did, as before.
    (visit,) = await sessions_of(database)
    assert (visit.topics, visit.outcome, visit.rating_asked) == (
        ["vneid", "lua-dao"],
        "self_served",
        True,
    )
    assert visit.ended_at == clock.now - timedelta(seconds=20)  # written with the last topic
    assert await guides_of(database) == {
        "vneid-cai-dat": (3, True),
        "vneid-kich-hoat": (1, False),
        "lua-dao-otp": (1, False),
    }


async def test_a_web_chat_message_with_its_id_costs_one_more_to_be_answered_once(
    database: Database, fixture_library: Library
) -> None:
    """The page sends each message with an id so a retry gets the same answer (issue 17, item
    2): the earlier answer is looked up in the same statement as the state, and the answer is
    remembered in one INSERT of its own."""
    clock = Clock(START)
    engine = Engine(fixture_library, database, clock=clock, settings=Settings())
    chat = Chat(engine, channel="web", chat_id="w1")
    await chat.send(text="#11", message_id="m1")
    clock.advance(seconds=20)
    with counting(database) as statements:
        await chat.send(action="g:vneid-cai-dat:2", message_id="m2")
    assert "Bước 2/3" in chat.text
    assert len(statements) <= ORDINARY + 1, statements
    answered = chat.text
    with counting(database) as statements:
        await chat.send(text="tiếp", message_id="m2")  # the same message again: same answer
    assert chat.text == answered and len(statements) == 1, statements


async def guides_of(database: Database) -> dict[str, tuple[int, bool]]:
    async with database.session() as session:
        rows = (await session.execute(select(SessionGuide))).scalars()
        return {g.guide_id: (g.furthest_step, g.finished) for g in rows}


async def test_what_an_ordinary_turn_kept_waiting_is_written_when_the_session_closes(
    database: Database, fixture_library: Library
) -> None:
    clock = Clock(START)
    chat = Chat(Engine(fixture_library, database, clock=clock, settings=Settings()))
    await chat.say("#11")
    clock.advance(minutes=3)
    await chat.say("tiếp")
    clock.advance(minutes=2)
    await chat.say("tiếp")  # the last step: written
    clock.advance(minutes=1)
    await chat.say("#13")  # another guide: written
    clock.advance(minutes=4)
    await chat.say("tiếp")  # step 2 of 2... finished, written; now the guide again from 1
    await chat.say("#11")
    clock.advance(minutes=5)
    await chat.say("tiếp")  # step 2 of vneid-cai-dat again: nothing new to write
    last = clock.now
    (visit,) = await sessions_of(database)
    assert visit.ended_at < last  # waiting in the conversation row

    clock.advance(minutes=31)
    await chat.say("menu")  # a new visit: the previous one is closed with its true end
    first, second = await sessions_of(database)
    assert first.ended_at == last and second.started_at == clock.now
    assert await guides_of(database) == {"vneid-cai-dat": (3, True), "vneid-kich-hoat": (2, True)}


async def test_a_step_read_but_not_yet_written_reaches_the_report_tables_at_the_close(
    database: Database, fixture_library: Library
) -> None:
    clock = Clock(START)
    chat = Chat(Engine(fixture_library, database, clock=clock, settings=Settings()))
    await chat.say("#11")
    clock.advance(minutes=1)
    await chat.say("tiếp")
    assert await guides_of(database) == {"vneid-cai-dat": (1, False)}  # step 2 waits
    clock.advance(minutes=45)
    await chat.say("menu")
    assert await guides_of(database) == {"vneid-cai-dat": (2, False)}
    first, _ = await sessions_of(database)
    assert first.ended_at == START + timedelta(minutes=1)
