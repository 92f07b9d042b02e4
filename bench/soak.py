"""Soak: mixed traffic for ten minutes against one `troly serve` on SQLite, watching for leaks.

Prints the server's resident memory and open file descriptors after warm-up and at the end
(target of issue 17: no growth beyond 10%), and the database's size per 10,000 turns.

    python bench/soak.py [--minutes 10] [--concurrency 16]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402

from bench.load import citizen, start_server  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

WARM_UP_SECONDS = 30
GROWTH_LIMIT = 0.10
KEEP_ALIVE_SECONDS = 15  # aiohttp's TCPConnector default


def sample(process: psutil.Process) -> tuple[float, int, str]:
    """(resident MB, open descriptors, what they are) of the server and its children."""
    members = [process, *process.children(recursive=True)]
    memory = sum(p.memory_info().rss for p in members) / 2**20
    descriptors = sum(p.num_fds() for p in members)
    files = sum(len(p.open_files()) for p in members)
    sockets = sum(len(p.net_connections()) for p in members)
    kinds = f"{files} files, {sockets} sockets, {descriptors - files - sockets} other"
    return memory, descriptors, kinds


async def traffic(base: str, concurrency: int, seconds: float, out: dict) -> None:
    """Citizens for `seconds`, then quiet until idle connections are gone: the load generator's
    keep-alive sockets, and the server's pooled ones to the Bot API (as many as were busy at
    once), would otherwise count as they happen to be. aiohttp closes an idle connection at
    its next clean-up, one keep-alive period apart: within two of them."""
    async with aiohttp.ClientSession() as http:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(citizen(n, base, http, stop, out) for n in range(concurrency)))
    await asyncio.sleep(2 * KEEP_ALIVE_SECONDS + 2)


def database_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "soak.db"
    async with FakeTelegram() as telegram:
        server, base = await start_server(f"sqlite:///{path}", 1, telegram)
        watched = psutil.Process(server.pid)
        out: dict = {"latency": [], "errors": 0}
        try:
            await traffic(base, args.concurrency, WARM_UP_SECONDS, out)
            start_memory, start_fds, start_kinds = sample(watched)
            turns_before, size_before = len(out["latency"]), database_bytes(path)
            await traffic(base, args.concurrency, args.minutes * 60, out)
            end_memory, end_fds, end_kinds = sample(watched)
            turns = len(out["latency"]) - turns_before
            growth = database_bytes(path) - size_before
        finally:
            server.terminate()
            server.wait(30)
    memory_growth = end_memory / start_memory - 1
    fd_growth = end_fds / start_fds - 1
    print(f"{args.minutes:.0f} min of mixed traffic, {args.concurrency} citizens, {turns} turns, "
          f"{out['errors']} errors")  # fmt: skip
    print(f"{'':<22}{'after warm-up':>14}{'at the end':>12}{'growth':>9}   target")
    print(f"{'resident memory, MB':<22}{start_memory:>14.1f}{end_memory:>12.1f}"
          f"{memory_growth:>9.1%}   <= {GROWTH_LIMIT:.0%}")  # fmt: skip
    limit = f"<= {GROWTH_LIMIT:.0%}"
    print(f"{'open descriptors':<22}{start_fds:>14}{end_fds:>12}{fd_growth:>9.1%}   {limit}")
    print(f"  after warm-up: {start_kinds}; at the end: {end_kinds}")
    per_10k = growth / max(turns, 1) * 10_000 / 2**20
    print(f"database growth: {per_10k:.1f} MB per 10,000 turns (SQLite, messages logged)")


if __name__ == "__main__":
    asyncio.run(main())
