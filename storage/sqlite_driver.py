"""SQLite through aiosqlite's thread, one trip to that thread per statement.

SQLAlchemy's aiosqlite adapter goes to the database thread four times for one statement (open
a cursor, execute, fetch the rows, close the cursor). Each trip hands the GIL from the event
loop's thread to aiosqlite's and back; under load those hand-offs took a third of the server's
CPU (py-spy on bench/load.py). Here the whole statement runs in one trip. It still runs on
aiosqlite's thread, so a long query (a year's report) never stalls the event loop, and a
connection waiting for the write lock (another process writing) waits there too.

A connection that holds the write lock, though, cannot be made to wait, and the few short
statements a turn writes take less time than the trip to the thread and back, during which
the turn, holding the lock, waits behind every other request to be resumed. So once in a
transaction, statements and the commit run on the event loop's thread: 64 chats' turns through
the engine on a SQLite file, the two ways in alternating blocks in one process, went from a
median of 283-328 to 367-371 turns/s, and from 2.9-3.2 to 2.6 ms of CPU a turn.
"""

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """On aiosqlite's thread: the statement, its rows and counts, the cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement, rows and counts come back from the thread together."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection):
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # no driver cursor is kept between statements
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount, self._lastrowid = -1, None
        self._arraysize = 1  # what fetchmany() without a size takes, as in sqlite3

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # nothing is open on the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._go(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        return self._go(operation, seq_of_parameters, many=True)

    def _go(self, operation: Any, parameters: Any, many: bool) -> Any:
        try:
            return await_(self._trip(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> "OneTripCursor":
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if _holds_write_lock(connection):
            outcome = _run(connection._conn, operation, parameters, many)
        else:
            async with self._adapt_connection._execute_mutex:
                outcome = await connection._execute(
                    _run, connection._conn, operation, parameters, many
                )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)
        return self


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    def commit(self) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if not _holds_write_lock(connection):
            super().commit()
            return
        try:
            connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)


def _holds_write_lock(connection: aiosqlite.Connection) -> bool:
    """Only a write opens a transaction here: sqlite3 begins one before INSERT, UPDATE and
    DELETE, and our own BEGINs are IMMEDIATE (storage.db.begin_writing)."""
    raw = connection._connection
    return raw is not None and raw.in_transaction


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy's adapter sees it, with one-trip cursors."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    """For create_async_engine(module=...): the SQLite dialect keeps everything else."""
    return OneTripDBAPI(aiosqlite, sqlite3)
