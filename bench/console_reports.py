"""The console's reports page (/staff/reports) on a large commune: a year of 200,000 support
sessions and 2,000,000 messages (the seed of bench/reports.py) in SQLite, the app in this
process on loopback, one staff login. Prints the page's time for the first page after start
(March: matplotlib is imported, templates compiled), then June with nothing cached (June and May
counted with the year so far against the profile's targets, the charts drawn), June again (the
worker's cache), June's XLSX, and June once more without targets (no year so far to count).
Target (issue 14): the page in under 2 s.

    python bench/console_reports.py [--scale 1.0]
"""

import argparse
import asyncio
import re
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from reports import rows, tables  # noqa: E402  (bench/reports.py)
from seed import seed_sqlite  # noqa: E402  (bench/seed.py)

from storage.db import upgrade  # noqa: E402

PASSWORD = "mat-khau-dai-bench"
PAGE = "/staff/reports?kind=month&period=2026-06"


async def measure(path: Path) -> dict[str, float]:
    from bot.app import create_app
    from bot.console.security import hash_password
    from bot.engine import Engine
    from bot.library import load_library
    from bot.settings import Settings
    from handlers import load_handlers
    from storage.accounts import create_account
    from storage.db import Database

    load_handlers()
    url = f"sqlite+aiosqlite:///{path}"
    database = Database(url)
    async with database.session() as session, session.begin():
        await create_account(
            session, name="Bench", login="bench", role="staff",
            password_hash=hash_password(PASSWORD), now=datetime.now(UTC),
        )  # fmt: skip
    engine = Engine(load_library(ROOT / "content"), database)
    client = TestClient(TestServer(create_app(Settings(database_url=url), engine)))
    await client.start_server()
    try:
        page = await (await client.get("/staff/login")).text()
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = {"csrf": token, "username": "bench", "password": PASSWORD, "next": "/staff/"}
        await client.post("/staff/login", data=form)
        figures = {}
        first_ever = PAGE.replace("2026-06", "2026-03")  # imports matplotlib, compiles templates
        xlsx = PAGE.replace("reports?", "reports/xlsx?")
        # Without the profile's targets, the page counts no year so far: the cost of the targets.
        plain = replace(engine.library, profile={
            k: v for k, v in engine.library.profile.items() if k != "targets"
        })  # fmt: skip
        for name, target in (("March, first page after start", first_ever),
                             ("June, nothing cached", PAGE), ("June, again", PAGE),
                             ("June's XLSX", xlsx), ("June, no targets set", PAGE)):  # fmt: skip
            if name == "June, no targets set":
                engine.use_library(plain)  # another cache key: counted again, without the year
            started = time.perf_counter()
            response = await client.get(target)
            await response.read()
            assert response.status == 200, (target, response.status)
            figures[name] = time.perf_counter() - started
        return figures
    finally:
        await client.close()
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    sessions, messages = int(200_000 * args.scale), int(2_000_000 * args.scale)
    data = rows(sessions, messages)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        started = time.perf_counter()
        seed_sqlite(path, tables(data))
        print(f"seeded {sessions:,} sessions, {messages:,} messages in SQLite "
              f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
        for name, seconds in asyncio.run(measure(path)).items():
            print(f"/staff/reports, {name:<30} {seconds:5.2f} s   (target < 2 s)")


if __name__ == "__main__":
    main()
