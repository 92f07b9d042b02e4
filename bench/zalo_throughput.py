"""Zalo OA webhook throughput: signed events per second through the whole pipeline, one core.

TroLy runs alone in a child process pinned to one core (SQLite file, the full library); the
fake Zalo (OA API + OAuth) and the load run in this process on another core. Each of C
citizens posts signed events one after another (#11, then "1" three times: one reply each).
The webhook acknowledges before the work is done, so two figures matter: events/s until the
last reply reached the fake Zalo, and the acknowledgement latency under that load (Zalo
wants an answer within 2 seconds; the target is p99 < 50 ms).

    python bench/zalo_throughput.py [--events 2000] [--concurrency 20] [--rate 60]
"""

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from tests.fake_zalo import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, FakeZalo, OAEvents  # noqa: E402

SCRIPT = ["#11", "1", "1", "1"]  # a guide opened, then three steps: one OA message each


def pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core % (os.cpu_count() or 1)})


def run_troly(api_url: str, refresh_token: str, database: str, ready) -> None:
    pin(0)
    from bot.app import build_engine, create_app
    from bot.settings import Settings
    from storage.db import upgrade

    # A process of its own: the channel reads ZALO_* from its environment.
    os.environ.update(
        ZALO_APP_ID=APP_ID,
        ZALO_APP_SECRET=APP_SECRET,
        ZALO_OA_SECRET_KEY=OA_SECRET_KEY,
        ZALO_OA_ID=OA_ID,
        ZALO_API_URL=api_url,
        ZALO_OAUTH_URL=api_url,
        ZALO_REFRESH_TOKEN=refresh_token,
    )
    settings = Settings(database_url=f"sqlite:///{database}", log_level="WARNING")
    upgrade(settings.database_url)

    async def serve() -> None:
        runner = web.AppRunner(create_app(settings, build_engine(settings)), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(serve())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--rate", type=float, default=0, help="offered events/s (0: as fast as acknowledged)"
    )
    args = parser.parse_args()
    pin(1)
    per_citizen = max(1, args.events // args.concurrency)
    total = per_citizen * args.concurrency
    with tempfile.TemporaryDirectory() as folder:
        async with FakeZalo() as zalo:
            receive, send = multiprocessing.Pipe(duplex=False)
            child = multiprocessing.Process(
                target=run_troly,
                args=(zalo.base_url, zalo.issue_refresh_token(), f"{folder}/bench.db", send),
                daemon=True,
            )
            child.start()
            port = await asyncio.get_running_loop().run_in_executor(None, receive.recv)
            url = f"http://127.0.0.1:{port}/webhook/zalo"
            events = OAEvents()
            acks: list[float] = []

            async def citizen(http: ClientSession, number: int) -> None:
                user = f"10000000000000{number:05d}"
                for i in range(per_citizen):
                    if args.rate:  # each citizen's share of the offered rate
                        await asyncio.sleep(args.concurrency / args.rate)
                    body, headers = events.signed(events.text(user, SCRIPT[i % len(SCRIPT)]))
                    started = time.perf_counter()
                    async with http.post(url, data=body, headers=headers) as response:
                        assert response.status == 200, await response.text()
                    acks.append(time.perf_counter() - started)

            async with ClientSession(connector=TCPConnector(limit=args.concurrency)) as http:
                # Warm up: the first event spends the seeded refresh token for an access token.
                body, headers = events.signed(events.text("warm-up", "#11"))
                await http.post(url, data=body, headers=headers)
                await zalo.wait_for(lambda: len(zalo.calls_to("oa", "cs")) >= 1)
                baseline = len(zalo.calls_to("oa", "cs"))
                started = time.perf_counter()
                await asyncio.gather(*(citizen(http, n) for n in range(args.concurrency)))
                acknowledged = time.perf_counter() - started
                await zalo.wait_for(lambda: len(zalo.calls_to("oa", "cs")) - baseline >= total)
                finished = time.perf_counter() - started
            child.kill()
            delivered = len(zalo.calls_to("oa", "cs")) - baseline
    print(f"events: {total} from {args.concurrency} citizens, replies delivered: {delivered}")
    print(f"throughput: {total / finished:.0f} events/s through the pipeline ({finished:.2f} s)")
    print(f"acknowledged: {total / acknowledged:.0f} events/s ({acknowledged:.2f} s)")
    print(
        "ack latency: "
        f"p50 {statistics.median(acks) * 1000:.1f} ms, "
        f"p99 {percentile(acks, 0.99) * 1000:.1f} ms, "
        f"max {max(acks) * 1000:.1f} ms (target p99 < 50 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
