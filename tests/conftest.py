"""Shared fixtures: real SQLite files, a real PostgreSQL, the fixture and the full library."""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.engine import Engine
from bot.library import Library, load_library
from bot.messages import Incoming, Reply
from handlers import load_handlers
from storage.db import Database, upgrade
from tests.channel_env import read_again

load_handlers()  # every feature registers on the router the engine uses, as `troly serve` does
ROOT = Path(__file__).resolve().parent.parent
FIXTURE_LIBRARY = ROOT / "tests" / "fixtures" / "library"
FULL_LIBRARY = ROOT / "content"
PG_ADMIN_DSN = os.environ.get("TROLY_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
# One database per test run, so two runs on one machine never truncate each other's tables.
PG_TEST_DB = f"troly_test_{os.getpid()}"
PG_URL = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
PG_URL = f"{PG_URL}/{PG_TEST_DB}"


CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: no browser is ever downloaded


@pytest.fixture(autouse=True)
def environment_put_back() -> Iterator[None]:
    """Channel settings a test set (tests/channel_env.py) end with it."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
    read_again()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: `apt-get install chromium` (.ci/run does it)", pytrace=False
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def fixture_library() -> Library:
    return load_library(FIXTURE_LIBRARY)


@pytest.fixture(scope="session")
def full_library() -> Library:
    return load_library(FULL_LIBRARY)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy, so migrations run once per session."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _drop_pg_database() -> None:
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)')
    finally:
        await admin.close()


async def _recreate_pg_database() -> None:
    try:
        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(
            f"PostgreSQL is required for the storage tests and is not reachable at {PG_ADMIN_DSN} "
            f"({error}). Start it (see README) or set TROLY_TEST_PG_ADMIN.",
            pytrace=False,
        )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database. Missing PostgreSQL fails loudly: never a skip."""
    asyncio.run(_recreate_pg_database())
    upgrade(PG_URL)
    yield PG_URL
    asyncio.run(_drop_pg_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "troly.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    if database_url.startswith("postgresql"):
        async with db.engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield db
    await db.close()


@pytest.fixture
async def sqlite_database(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """For tests about the conversation, not the database: SQLite only, fast."""
    path = tmp_path / "troly.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db
    await db.close()


@pytest.fixture
def engine(sqlite_database: Database, fixture_library: Library) -> Engine:
    return Engine(fixture_library, sqlite_database)


class Chat:
    """A person talking to the engine: say() or press(), then look at what came back."""

    def __init__(self, engine: Engine, channel: str = "test", chat_id: str = "citizen-1"):
        self.engine, self.channel, self.chat_id = engine, channel, chat_id
        self.last: list[Reply] = []

    async def send(self, **fields: object) -> list[Reply]:
        self.last = await self.engine.handle(Incoming(self.channel, self.chat_id, **fields))
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self.send(text=text)

    async def press(self, label_start: str) -> list[Reply]:
        """Press the button whose label starts with `label_start` in the last replies."""
        for reply in self.last:
            for button in reply.buttons:
                if button.label.startswith(label_start) and button.action:
                    return await self.send(action=button.action)
        labels = [b.label for r in self.last for b in r.buttons]
        raise AssertionError(f"no button {label_start!r} among {labels}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    @property
    def labels(self) -> list[str]:
        return [b.label for r in self.last for b in r.buttons]


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)
