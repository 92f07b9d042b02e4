"""`troly doctor`: is this installation ready to serve citizens, and if not, what to do.

Each check gives one line: OK, WARN (works, but look at it) or FAIL (something citizens or staff
will notice), with what to do about it. Each channel adds its own checks (`Channel.doctor`).
"""

import asyncio
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text

from bot.channels.base import all_channels, label_of
from bot.library import read_library
from bot.settings import Settings
from storage.db import Database, missing_migrations

OK, WARN, FAIL = "OK", "WARN", "FAIL"
EXAMPLE_COMMUNE = "Hòa An"  # the bundled profile's commune: a real centre must put its own
CLOCK_SKEW_SECONDS = 60
CHECK_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def missing_content_dir(folder: Path) -> str | None:
    """One line naming CONTENT_DIR when it points nowhere, else None."""
    if folder.is_dir():
        return None
    return (
        f"Setting CONTENT_DIR: content folder does not exist: {folder}. Point CONTENT_DIR at "
        "the centre's copy of the library, or unset it to use the bundled one."
    )


def sqlite_folder_problem(url: str) -> str | None:
    """One line naming DATABASE_URL when its SQLite file cannot be created, else None.

    Checked before the first connection: aiosqlite's failed connect leaves a thread that prints
    a traceback after the command has already said what is wrong.
    """
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    folder = Path(path).parent
    if not folder.is_dir():
        problem = "does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = "is not writable by this user"
    else:
        return None
    return (
        f"Setting DATABASE_URL: the folder {folder} of the SQLite file {problem}. Create it, "
        "or point DATABASE_URL at a file in a folder the bot may write."
    )


async def check_database(settings: Settings, database: Database) -> list[Check]:
    where = safe_url(settings.database_url)
    if problem := sqlite_folder_problem(settings.database_url):
        return [Check(FAIL, "database", problem)]
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        missing = await missing_migrations(database)
    except Exception as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0][:160]
        return [
            Check(
                FAIL,
                "database",
                f"cannot reach {where} ({reason}): check DATABASE_URL and that the database "
                "server runs",
            )
        ]
    checks = [Check(OK, "database", f"{where} reachable")]
    if not missing:
        checks.append(Check(OK, "schema", "up to date"))
    else:
        checks.append(
            Check(WARN, "schema", "behind the code: run `troly db upgrade` (serve does it too)")
        )
    return checks


def check_content(settings: Settings) -> list[Check]:
    if problem := missing_content_dir(settings.content_dir):
        return [Check(FAIL, "content", problem)]
    library, problems = read_library(settings.content_dir)
    if problems:
        return [
            Check(
                FAIL,
                "content",
                f"{len(problems)} problem(s), the first {problems[0]}: "
                "run `troly content check` for all",
            ),
        ]
    checks = [Check(OK, "content", f"{len(library.guides)} guides in {settings.content_dir}")]
    commune = str(library.profile.get("commune_name", ""))
    if EXAMPLE_COMMUNE in commune:
        checks.append(
            Check(
                WARN,
                "profile",
                f"still the bundled example ({commune}): copy content/ to a folder of the "
                "centre's, edit profile.yaml and set CONTENT_DIR",
            )
        )
    else:
        checks.append(Check(OK, "profile", commune))
    return checks


def check_staff_room(settings: Settings) -> list[Check]:
    room = settings.staff_room_address()
    if room is None:
        return [
            Check(
                WARN,
                "staff room",
                "not set: hand-offs reach only the staff console, or the hotline when nobody "
                "has a console login (set STAFF_ROOM, see the README)",
            )
        ]
    return [Check(OK, "staff room", f"{label_of(room[0])} {room[1]}")]


async def check_clock(settings: Settings, database: Database) -> list[Check]:
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return [Check(FAIL, "time zone", f"unknown TIMEZONE {settings.timezone!r}")]
    now = datetime.now(UTC)
    checks = [
        Check(OK, "time zone", f"{settings.timezone}, now {now.astimezone(zone):%H:%M %d/%m/%Y}")
    ]
    if database.url.startswith("postgresql"):
        try:
            async with database.engine.connect() as connection:
                server_now = (await connection.execute(text("SELECT now()"))).scalar_one()
        except Exception:
            return checks  # the database check already says why
        skew = abs((server_now - now).total_seconds())
        if skew > CLOCK_SKEW_SECONDS:
            checks.append(
                Check(WARN, "clock", f"{skew:.0f} s off the database server's: enable NTP")
            )
        else:
            checks.append(Check(OK, "clock", "agrees with the database server"))
    return checks


async def _guarded(name: str, checks: Awaitable[list[Check]]) -> list[Check]:
    """A check that hangs or breaks is itself a finding, never a traceback."""
    try:
        return await asyncio.wait_for(checks, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return [Check(FAIL, name, f"no answer within {CHECK_TIMEOUT_SECONDS} s")]
    except Exception as error:
        return [Check(FAIL, name, f"check failed: {error}")]


async def run_checks(settings: Settings) -> list[Check]:
    try:
        database = Database(settings.database_url)
    except Exception as error:
        return [Check(FAIL, "database", f"DATABASE_URL is not usable: {error}")]
    try:
        results = await _guarded("database", check_database(settings, database))
        results += check_content(settings)
        results += check_staff_room(settings)
        for channel in all_channels():
            if channel.configured(settings):
                results += await _guarded(channel.name, channel.doctor(settings, database))
        results += await _guarded("clock", check_clock(settings, database))
        return results
    finally:
        await database.close()
