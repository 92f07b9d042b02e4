"""Seeding a benchmark database fast: rows as plain tuples, straight into the tables.

Each table is `{name: (columns, rows)}`, the columns as one comma-separated string. SQLite gets
`executemany`, PostgreSQL gets COPY; both end with fresh statistics, as a database that has
stopped growing has them. A scratch PostgreSQL database per benchmark, dropped after.
"""

import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

PG_ADMIN = os.environ.get("TROLY_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime in SQLite

Tables = Mapping[str, tuple[str, Iterable[tuple]]]


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIME)
    if isinstance(value, date):
        return value.isoformat()
    return value


def seed_sqlite(path: Path, tables: Tables) -> None:
    connection = sqlite3.connect(path)
    for table, (columns, rows) in tables.items():
        marks = ", ".join("?" for _ in columns.split(","))
        connection.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            ([_sqlite_value(v) for v in row] for row in rows),
        )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


async def seed_postgres(dsn: str, tables: Tables, vacuum: bool = False) -> None:
    """COPY each table; then ANALYZE, or VACUUM ANALYZE for the visibility map that lets a
    query read an index alone (what autovacuum leaves behind)."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for table, (columns, rows) in tables.items():
            names = [c.strip() for c in columns.split(",")]
            await connection.copy_records_to_table(table, records=rows, columns=names)
        await connection.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    finally:
        await connection.close()


async def recreate_postgres(name: str) -> str:
    """An empty database `name` (dropped first if there); returns its DSN."""
    await _as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def drop_postgres(name: str) -> None:
    await _as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _as_admin(*statements: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()
