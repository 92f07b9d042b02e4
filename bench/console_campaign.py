"""bench/console.py, figure 4: the campaign page's live progress during an unthrottled send.

`troly serve`'s campaign worker sends to a fake Bot API in another process with no rate limit;
meanwhile this process polls /staff/campaigns/<id>/progress.json (what the page polls every
second) and, after each answer, counts the outbox's sent rows itself. Printed:
- the send rate the worker reached (target >= 1,000 msg/s),
- the progress endpoint's latency while it sends (target p99 < 100 ms),
- the lag between the outbox and what the page shows, in messages and in time at that rate
  (target p99 < 1 s; the page polls once a second on top of it).
"""

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, insert, select

from bot import campaigns
from bot.library import load_library
from storage.campaigns import change_state, start_sending
from storage.db import Database
from storage.models import Campaign, Contact, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 1.0  # as the page polls


def serve_fake_telegram(connection) -> None:
    """The fake Bot API, unthrottled, in its own process; answers 'stop' with what it got
    (a person counted twice: the same message to the same chat twice)."""
    from tests.fake_telegram import FakeTelegram

    async def main() -> None:
        async with FakeTelegram() as fake:
            connection.send((fake.port, fake.token))
            await asyncio.get_running_loop().run_in_executor(None, connection.recv)
            sent = Counter((c.chat_id, c.params.get("text")) for c in fake.calls_to("sendMessage"))
            connection.send({"sent": sum(sent.values()),
                             "twice": sum(n > 1 for n in sent.values())})  # fmt: skip

    asyncio.run(main())


async def seed_campaign(url: str, subscribers: int) -> list[int]:
    """Telegram subscribers and three draft campaigns to all of them (sent with no page open,
    sent with the page following it, the page's side alone); returns their ids."""
    database, now = Database(url), datetime.now(UTC)
    async with database.session() as session, session.begin():
        for start in range(0, subscribers, 5000):
            await session.execute(insert(Contact), [
                {"channel": "telegram", "chat_id": str(10_000_000 + n), "first_seen": now,
                 "last_seen": now, "unreachable": False}
                for n in range(start, min(start + 5000, subscribers))])  # fmt: skip
    library = load_library(ROOT / "content")
    made = [await campaigns.create(database, library, now=now, title=f"bench {n}",
                                   text=f"Tin thử {n}.") for n in (1, 2, 3)]  # fmt: skip
    await database.close()
    return [c.id or 0 for c in made]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def live_progress(
    base: str, url: str, campaign_id: int, http: aiohttp.ClientSession, follow: bool = True
) -> dict:
    """Send the campaign ('send now') and follow it as the page does (or not at all, for the
    send rate with no page open)."""
    database = Database(url)
    sent_rows = select(func.count()).where(
        OutboxMessage.campaign_id == campaign_id, OutboxMessage.state == "sent"
    )
    latencies: list[float] = []
    lags: list[int] = []
    await campaigns.schedule(database, campaign_id, datetime.now(UTC))
    try:
        while not follow:
            await asyncio.sleep(POLL_SECONDS)
            async with database.session() as session:
                state = (await session.execute(
                    select(Campaign.state).where(Campaign.id == campaign_id)
                )).scalar_one()  # fmt: skip
            if state == "finished":
                shown = {"sent": 0}
                break
        while follow:
            asked = time.perf_counter()
            async with http.get(f"{base}/staff/campaigns/{campaign_id}/progress.json") as answer:
                shown = await answer.json()
            latencies.append(time.perf_counter() - asked)
            async with database.session() as session:
                truth = (await session.execute(sent_rows)).scalar_one()
            if shown["sent"] > 0:
                lags.append(max(0, truth - shown["sent"]))
            if shown["state"] == "finished":
                break
            await asyncio.sleep(POLL_SECONDS)
        async with database.session() as session:
            first, last, count = (await session.execute(
                select(func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at),
                       func.count()).where(OutboxMessage.campaign_id == campaign_id)
            )).one()  # fmt: skip
    finally:
        await database.close()
    seconds = max((last - first).total_seconds(), 1e-3) if first and last else 0.0
    rate = count / seconds if seconds else 0.0
    return {"rate": rate, "sent": shown["sent"], "polls": len(latencies),
            "latency_p50": _pct(latencies, .5) * 1000, "latency_p99": _pct(latencies, .99) * 1000,
            "lag_p50": _pct(lags, .5), "lag_p99": _pct(lags, .99),
            "lag_ms_p99": _pct(lags, .99) / rate * 1000 if rate else 0.0}  # fmt: skip


async def page_side(
    base: str, url: str, campaign_id: int, http: aiohttp.ClientSession, rate: float = 1000.0
) -> dict:
    """The page's side alone at `rate`: this process marks the campaign's outbox rows 'sent' at
    that rate, in 20 ms batches (as the sender's exchanges record them), while the campaign is
    paused so the server's worker leaves it alone; the page's polls follow it. Staleness of an
    answer: how long before it arrived the outbox already had more sent rows than it showed."""
    from sqlalchemy import update

    database = Database(url)
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        # Started and paused in one transaction: the server's worker never sees it sending.
        await start_sending(session, campaign_id, {"telegram": None}, now)
        await change_state(session, campaign_id, "paused", ("sending",))
    async with database.session() as session:
        ids = list((await session.execute(
            select(OutboxMessage.id).where(OutboxMessage.campaign_id == campaign_id)
            .order_by(OutboxMessage.id)
        )).scalars())  # fmt: skip
    commits: list[tuple[float, int]] = []  # (when committed, sent rows so far)
    batch = max(1, round(rate * 0.02))

    async def writer() -> None:
        start = time.perf_counter()
        for done in range(0, len(ids), batch):
            chunk = ids[done : done + batch]
            async with database.session() as session, session.begin():
                await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(chunk))
                                      .values(state="sent", sent_at=datetime.now(UTC)))  # fmt: skip
            commits.append((time.perf_counter(), done + len(chunk)))
            wait = start + (done + len(chunk)) / rate - time.perf_counter()
            await asyncio.sleep(max(0.0, wait))

    latencies: list[float] = []
    stale: list[float] = []
    writing = asyncio.create_task(writer())
    try:
        while not writing.done():
            asked = time.perf_counter()
            async with http.get(f"{base}/staff/campaigns/{campaign_id}/progress.json") as answer:
                shown = (await answer.json())["sent"]
            arrived = time.perf_counter()
            latencies.append(arrived - asked)
            newer = next((at for at, count in commits if count > shown), None)
            stale.append(max(0.0, arrived - newer) if newer is not None else 0.0)
            await asyncio.sleep(POLL_SECONDS / 10)  # ten pages open, each polling once a second
        await writing
        seconds = commits[-1][0] - commits[0][0] if len(commits) > 1 else 0.0
    finally:
        await database.close()
    return {"rows": len(ids), "rate": len(ids) / seconds if seconds else 0.0,
            "polls": len(latencies), "latency_p50": _pct(latencies, .5) * 1000,
            "latency_p99": _pct(latencies, .99) * 1000, "stale_p50": _pct(stale, .5) * 1000,
            "stale_p99": _pct(stale, .99) * 1000}  # fmt: skip


def report_page_side(figures: dict) -> None:
    print(f"\n4b. the page's side alone: {figures['rows']:,} outbox rows marked sent at "
          f"{figures['rate']:,.0f} msg/s (ten pages polling, {figures['polls']} polls):")
    print(f"   progress endpoint p50 {figures['latency_p50']:.1f} ms, p99 "
          f"{figures['latency_p99']:.1f} ms (target p99 < 100 ms); what it shows is behind the "
          f"outbox by p50 {figures['stale_p50']:.0f} ms, p99 {figures['stale_p99']:.0f} ms "
          "(target p99 < 1000 ms)")  # fmt: skip


def report(alone: dict, figures: dict, recorded: dict) -> None:
    print(f"\n4. campaign live progress, two unthrottled sends of {figures['sent']:,} messages "
          f"({recorded['sent']:,} received by the fake, {recorded['twice']} twice):")  # fmt: skip
    print(f"   send rate {alone['rate']:,.0f} msg/s with no page open, {figures['rate']:,.0f} "
          "msg/s with the page following it (target >= 1,000)")  # fmt: skip
    print(f"   progress endpoint, {figures['polls']} polls while sending: "
          f"p50 {figures['latency_p50']:.1f} ms, p99 {figures['latency_p99']:.1f} ms "
          "(target p99 < 100 ms)")  # fmt: skip
    print(f"   page behind the outbox: p50 {figures['lag_p50']:.0f} msgs, p99 "
          f"{figures['lag_p99']:.0f} msgs = {figures['lag_ms_p99']:.0f} ms at that rate "
          "(target p99 < 1000 ms)")  # fmt: skip
