"""`troly doctor`: is this installation ready to serve citizens, and if not, what to do.

Each check gives one line: OK, WARN (works, but look at it) or FAIL (something citizens or staff
will notice), with what to do about it. Each channel adds its own checks (`Channel.doctor`).
"""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
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


async def check_database(settings: Settings, database: Database) -> list[Check]:
    where = safe_url(settings.database_url)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        missing = await missing_migrations(database)
    except Exception as error:
        reason = str(error).splitlines()[0][:160]
        return [Check(FAIL, "database", f"cannot reach {where} ({reason}): check DATABASE_URL")]
    checks = [Check(OK, "database", f"{where} reachable")]
    if not missing:
        checks.append(Check(OK, "schema", "up to date"))
    else:
        checks.append(
            Check(WARN, "schema", "behind the code: run `troly db upgrade` (serve does it too)")
        )
    return checks


def check_content(settings: Settings) -> list[Check]:
    library, problems = read_library(settings.content_dir)
    if problems:
        return [
            Check(FAIL, "content", f"{len(problems)} problem(s): run `troly content check`"),
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
