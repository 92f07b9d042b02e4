"""How many SQL statements a turn costs (issue 17, item 4): at most 3 for an ordinary one.

Counted with SQLAlchemy's `before_cursor_execute` on the engine, on SQLite and PostgreSQL.
An ordinary turn is a citizen in an ongoing session pressing "Tiếp" through a guide or typing
a question; the first message of a session, the last step of a guide (it asks for a rating)
and a guide opened for the first time in a session write what the reports count, so they
may cost more.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.engine import Engine
from bot.library import Library
from bot.settings import Settings
from storage.db import Database
from tests.conftest import Chat
from tests.test_sessions import START, Clock

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
    print(counts)
    for kind, statements in chat.counts.items():
        print(kind, statements)
    for kind in ("Tiếp", "typed tiếp", "question", "question without a guide"):
        assert counts[kind] <= ORDINARY, (kind, chat.counts[kind])
