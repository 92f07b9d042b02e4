"""The database engine, sessions and schema upgrades (SQLite file or PostgreSQL)."""

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import Insert

from storage.sqlite_driver import one_trip_dbapi

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_SECONDS = 15  # a briefly locked SQLite file waits instead of failing the message


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            # A connection that holds the write lock runs its statements on the event loop's
            # thread, the rest on aiosqlite's (storage/sqlite_driver.py).
            connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
            module=one_trip_dbapi(),
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            # WAL lets readers and one writer work at once; several workers share the file.
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    """One engine per process; `session()` gives a unit of work."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite takes one writer at a time. Turns that wait for each other here queue in
        # order; waiting inside SQLite instead means its busy handler's sleeps (up to 100 ms
        # each), which made the slowest turns under load wait for a lock that was long free.
        self.one_writer = asyncio.Lock() if url.startswith("sqlite") else contextlib.nullcontext()

    def session(self) -> AsyncSession:
        return self._sessions()

    async def close(self) -> None:
        await self.engine.dispose()


def dialect_of(session: AsyncSession) -> str:
    """'sqlite' or 'postgresql': the few statements that differ ask this."""
    return session.bind.dialect.name if session.bind else "sqlite"


async def begin_writing(session: AsyncSession) -> None:
    """Take SQLite's write lock at the start (BEGIN IMMEDIATE): no two processes read the same
    rows to change them, no deferred transaction fails halfway on a busy file, and every
    statement after it runs without a trip to aiosqlite's thread. Nothing to do on PostgreSQL."""
    if dialect_of(session) == "sqlite":
        connection = await session.connection()
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_insert(dialect: str, table: Any) -> Insert:
    """An INSERT that takes ON CONFLICT clauses, in the dialect's own flavour."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest migrations (one branch per feature area is fine).

    Runs its own event loop: call it from sync code, never from inside a running loop.
    """
    command.upgrade(alembic_config(url), "heads")


async def missing_migrations(database: Database) -> set[str]:
    """The newest revisions of the code that the database has not had yet (empty: current)."""
    script = ScriptDirectory.from_config(alembic_config(database.url))
    async with database.engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: tuple(MigrationContext.configure(sync).get_current_heads())
        )
    # A head another branch depends on is applied without being listed as a head itself.
    applied = {r.revision for r in script.iterate_revisions(current, "base")} if current else set()
    return set(script.get_heads()) - applied
