"""The OAuth token store of a channel whose refresh tokens work once: one row per app,
refreshed under a database lock so two workers never spend the same refresh token."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database, upsert_insert
from storage.models import OAuthToken

TOKENS = OAuthToken.__table__


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True)
class StoredToken:
    app_id: str
    access_token: str
    refresh_token: str
    access_expires_at: datetime


def _stored(row: object | None) -> StoredToken | None:
    if row is None:
        return None
    m = row._mapping  # type: ignore[attr-defined]
    return StoredToken(m["app_id"], m["access_token"], m["refresh_token"], m["access_expires_at"])


# -- token store -----------------------------------------------------------------------------


async def load_token(database: Database, app_id: str) -> StoredToken | None:
    """The stored pair without any lock: fine for using an access token, never for refreshing."""
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(TOKENS).where(TOKENS.c.app_id == app_id))).first()
    return _stored(row)


async def seed_refresh_token(
    database: Database, app_id: str, refresh_token: str, now: datetime
) -> bool:
    """Store a seed refresh token only if the store is empty: afterwards the database rules."""
    async with database.engine.begin() as connection:
        statement = upsert_insert(connection.dialect.name, OAuthToken).values(
            app_id=app_id,
            access_token="",
            refresh_token=refresh_token,
            access_expires_at=now,
            updated_at=now,
        )
        result = await connection.execute(statement.on_conflict_do_nothing())
    return bool(result.rowcount)


async def replace_tokens(database: Database, app_id: str, pair: TokenPair, now: datetime) -> None:
    """Store a pair from a fresh authorisation (the channel's login verb), replacing any."""
    values = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "access_expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
        "updated_at": now,
    }
    async with database.engine.begin() as connection:
        statement = upsert_insert(connection.dialect.name, OAuthToken).values(
            app_id=app_id, **values
        )
        await connection.execute(
            statement.on_conflict_do_update(index_elements=["app_id"], set_=values)
        )


class LockedToken:
    """The token row under an exclusive database lock; `store` writes inside the same lock."""

    def __init__(self, connection: AsyncConnection, app_id: str, current: StoredToken | None):
        self._connection = connection
        self.app_id = app_id
        self.current = current

    async def store(self, pair: TokenPair, now: datetime) -> None:
        """Write the new pair and commit before anyone uses it: the old refresh token is spent."""
        await self._connection.execute(
            update(TOKENS)
            .where(TOKENS.c.app_id == self.app_id)
            .values(
                access_token=pair.access_token,
                refresh_token=pair.refresh_token,
                access_expires_at=pair.access_expires_at,
                refresh_expires_at=pair.refresh_expires_at,
                updated_at=now,
            )
        )
        await self._connection.commit()
        self.current = StoredToken(
            self.app_id, pair.access_token, pair.refresh_token, pair.access_expires_at
        )


@asynccontextmanager
async def locked_token(database: Database, app_id: str) -> AsyncIterator[LockedToken]:
    """Serialise refreshes across processes: SELECT ... FOR UPDATE, or BEGIN IMMEDIATE on SQLite.

    Whoever holds the lock reads the refresh token, spends it and stores the new pair; the
    others wait, then find a fresh access token and do not refresh at all.
    """
    async with database.engine.connect() as connection:
        query = select(TOKENS).where(TOKENS.c.app_id == app_id)
        if connection.dialect.name == "sqlite":
            # SQLite has no row locks; an immediate transaction takes the write lock up front.
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            query = query.with_for_update()
        try:
            row = (await connection.execute(query)).first()
            yield LockedToken(connection, app_id, _stored(row))
        finally:
            if connection.in_transaction():
                await connection.rollback()


# -- webhook inbox ---------------------------------------------------------------------------
