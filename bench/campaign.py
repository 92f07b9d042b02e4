"""Campaign sending speed against the fake Bot API (run it; it prints its figures).

1. The fake enforces Telegram's 30 messages/s: how close to that ceiling a 3,000-subscriber
   campaign gets (target >= 95%).
2. The limit lifted: the sender's ceiling in messages/s, with the fake Bot API in another
   process so the sender has its core to itself (target >= 1,000/s); then the same with a
   sender that sends nothing, which is TroLy's own part (outbox claims, records, pacing)
   without python-telegram-bot's HTTP stack.

    python bench/campaign.py [--subscribers 3000] [--unlimited 5000] [--survey ky-nang-so]

With --survey the message is a survey invitation (`troly campaign create --survey`): issue 16's
"a survey campaign to 10,000 subscribers at the channel ceiling" is
`python bench/campaign.py --survey ky-nang-so --subscribers 10000 --unlimited 10000`.
"""

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot import campaigns  # noqa: E402
from bot.channels.telegram import make_sender  # noqa: E402
from bot.channels.telegram.settings import TelegramSettings, telegram_settings  # noqa: E402
from bot.library import load_library  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.models import Contact  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402


def serve_fake(rate_limit: float | None, connection) -> None:
    """The fake Bot API in its own process; answers 'stop' with what it recorded."""

    async def main() -> None:
        async with FakeTelegram(rate_limit_per_second=rate_limit) as fake:
            connection.send(fake.port)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, connection.recv)
            sent = Counter(c.chat_id for c in fake.calls_to("sendMessage"))
            limited = sum(1 for c in fake.attempts("sendMessage") if c.answered == 429)
            connection.send({"sent": sum(sent.values()), "twice": sum(n > 1 for n in sent.values()),
                             "429": limited})  # fmt: skip

    asyncio.run(main())


class NullSender:
    """Delivers nowhere: what is left is the outbox, the pacing and the database."""

    channel = "telegram"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, chat_id: str, replies: list) -> list[str]:
        await asyncio.sleep(0)
        self.sent += 1
        return [str(self.sent)]

    async def close(self) -> None:
        pass


def telegram_rate(per_second: float) -> None:
    """CAMPAIGN_TELEGRAM_RATE, as a centre sets it; Telegram reads its settings once."""
    os.environ["CAMPAIGN_TELEGRAM_RATE"] = str(per_second)
    telegram_settings.cache_clear()


async def run_null(url: str, subscribers: int) -> dict:
    database, library, now = Database(url), load_library(ROOT / "content"), datetime.now(UTC)
    await add_contacts(database, subscribers, now)
    telegram_rate(0)
    settings = Settings(database_url=url, campaign_concurrency=16)
    campaign = await campaigns.create(database, library, now=now, title="bench", text="x")
    null = NullSender()
    wall, cpu = time.perf_counter(), time.process_time()
    await campaigns.send(database, library, {"telegram": null}, campaign.id, settings=settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await database.close()
    return {"wall": wall, "cpu": cpu, "sent": null.sent}


async def add_contacts(database: Database, subscribers: int, now: datetime) -> None:
    async with database.session() as session, session.begin():
        rows = [
            {"channel": "telegram", "chat_id": str(10_000 + n), "first_seen": now,
             "last_seen": now, "unreachable": False}
            for n in range(subscribers)
        ]  # fmt: skip
        await session.execute(insert(Contact), rows)


async def run(
    url: str, subscribers: int, rate_limit: float | None, send_rate: float, survey: str | None
) -> dict:
    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.Process(target=serve_fake, args=(rate_limit, child), daemon=True)
    fake.start()
    port = parent.recv()
    base_url = f"http://127.0.0.1:{port}/bot"
    token = FakeTelegram().token
    database = Database(url)
    library = load_library(ROOT / "content")
    now = datetime.now(UTC)
    await add_contacts(database, subscribers, now)
    telegram_rate(send_rate)
    settings = Settings(database_url=url, campaign_concurrency=16 if send_rate <= 0 else 8)
    sender = make_sender(TelegramSettings(token=token, api_url=base_url))
    assert sender is not None
    fields = (
        {"title": "Khảo sát", "text": library.text("survey_invitation", title=survey)}
        if survey
        else campaigns.alert_fields(library, "canh-bao-otp")
    )
    campaign = await campaigns.create(database, library, now=now, survey_id=survey, **fields)
    await sender.send("1", [])  # connect and getMe before the clock starts
    wall, cpu = time.perf_counter(), time.process_time()
    await campaigns.send(database, library, {"telegram": sender}, campaign.id, settings=settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await sender.close()
    await database.close()
    parent.send("stop")
    recorded = parent.recv()
    fake.join(5)
    return {"wall": wall, "cpu": cpu, **recorded}


def fresh_sqlite() -> str:
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument("--unlimited", type=int, default=5000, help="contacts, limit lifted")
    parser.add_argument("--survey", help="send a survey invitation (its button opens it)")
    args = parser.parse_args()
    if args.survey:
        print(f"a survey campaign: '{args.survey}', its button opens the survey")

    limited = asyncio.run(run(fresh_sqlite(), args.subscribers, 30, 29.0, args.survey))
    rate = limited["sent"] / limited["wall"]
    print(f"30 msg/s enforced, {args.subscribers} subscribers: {limited['sent']} sent in "
          f"{limited['wall']:.1f} s = {rate:.2f} msg/s = {rate / 30:.1%} of the ceiling "
          f"({limited['429']} answered 429, {limited['twice']} got it twice)")  # fmt: skip

    free = asyncio.run(run(fresh_sqlite(), args.unlimited, None, 0, args.survey))
    print(f"limit lifted, {args.unlimited} subscribers (SQLite): {free['sent']} sent in "
          f"{free['wall']:.2f} s = {free['sent'] / free['wall']:.0f} msg/s wall; sender CPU "
          f"{free['cpu']:.2f} s = {free['sent'] / free['cpu']:.0f} msg/s per core "
          f"({free['twice']} got it twice)")  # fmt: skip

    own = asyncio.run(run_null(fresh_sqlite(), args.unlimited))
    print(f"limit lifted, a sender that sends nothing (TroLy's own part, SQLite): {own['sent']} "
          f"in {own['wall']:.2f} s = {own['sent'] / own['wall']:.0f} msg/s")  # fmt: skip


if __name__ == "__main__":
    main()
