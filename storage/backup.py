"""Backups, restores and copies between databases, while the bot keeps running.

SQLite: the online backup API gives a consistent copy of a file that is being written.
PostgreSQL: `pg_dump --format=custom`, restored with `pg_restore`. Across dialects (moving a
centre from its SQLite file to PostgreSQL) rows are copied table by table through the models.
"""

import asyncio
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (the tables copied and counted: not only those the caller loaded)
from storage.db import make_engine, upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
COPY_BATCH = 1000


class BackupError(Exception):
    """Something the operator can fix: the message says what."""


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _libpq_url(url: str) -> str:
    """pg_dump speaks libpq: postgresql+asyncpg://... -> postgresql://..."""
    return "postgresql://" + url.split("://", 1)[1]


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[:500]}")


def backup(url: str, target: Path) -> None:
    if target.exists():
        raise BackupError(f"{target} exists: choose a new file name")
    if url.startswith("sqlite"):
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"no database file at {source}")
        with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        return
    _run([_binary("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)])


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in every table of the models that exists: how backups and copies are checked."""
    counts = {}
    async with engine.connect() as connection:
        existing = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing:
                continue
            counts[table.name] = (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


async def _require_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        filled = {name: n for name, n in (await table_counts(engine)).items() if n}
    finally:
        await engine.dispose()
    if filled:
        names = ", ".join(sorted(filled)[:5])
        raise BackupError(f"the target database is not empty ({names}...): use an empty one")


def _kind(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    raise BackupError(f"{path} is neither a SQLite file nor a pg_dump custom-format file")


def restore(backup_file: Path, url: str) -> None:
    """Into an empty database: never over a centre's live data."""
    if not backup_file.exists():
        raise BackupError(f"no backup file at {backup_file}")
    kind = _kind(backup_file)
    if url.startswith("sqlite"):
        if kind != "sqlite":
            raise BackupError("a pg_dump file restores into PostgreSQL only; use `troly db copy`")
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size:
            asyncio.run(_require_empty(url))
        with sqlite3.connect(backup_file) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    asyncio.run(_require_empty(url))
    if kind == "sqlite":  # SQLite -> PostgreSQL: row by row through the models
        copy_database(f"sqlite+aiosqlite:///{backup_file}", url)
        return
    _run([_binary("pg_restore"), "--no-owner", "--clean", "--if-exists",
          f"--dbname={_libpq_url(url)}", str(backup_file)])  # fmt: skip


def copy_database(source_url: str, target_url: str) -> dict[str, int]:
    """Every row of every table, source -> target (migrated here; must be empty); row counts.

    Synchronous, like the CLI that calls it: the schema upgrade runs an event loop of its own.
    """
    upgrade(target_url)
    return asyncio.run(_copy_rows(source_url, target_url))


async def _copy_rows(source_url: str, target_url: str) -> dict[str, int]:
    await _require_empty(target_url)
    source, target = make_engine(source_url), make_engine(target_url)
    try:
        async with source.connect() as reading, target.begin() as writing:
            for table in SQLModel.metadata.sorted_tables:
                rows = await reading.stream(select(table))
                async for batch in rows.partitions(COPY_BATCH):
                    await writing.execute(insert(table), [dict(row._mapping) for row in batch])
            if target.dialect.name == "postgresql":
                await _reset_sequences(writing)
        return await table_counts(target)
    finally:
        await source.dispose()
        await target.dispose()


async def _reset_sequences(connection: object) -> None:
    """Rows arrived with their ids: the next id PostgreSQL hands out must come after them."""
    for table in SQLModel.metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not column.autoincrement:
            continue
        await connection.execute(  # type: ignore[attr-defined]
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )
