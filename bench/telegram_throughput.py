"""Telegram webhook throughput: TroLy against a bare PTB echo bot on the same fake Bot API.

TroLy sends through aiohttp (bot/channels/telegram/transport.py), the echo bot through PTB's
default httpx client; a third line shows the echo bot on aiohttp too, so the reader sees how
much of the difference is the HTTP client and how much is TroLy's own turn.

Each bot runs alone in a child process pinned to one core; the fake Telegram server and the
load (N updates POSTed to the webhook, C at a time) run in this process on another core.
A webhook answers once its replies are sent, so updates/s covers the whole round trip.
The two bots take turns for a few rounds and the ratio printed is the median of the rounds':
one round's ratio on this small machine swings by a third (a slow fsync, a noisy neighbour).

    python bench/telegram_throughput.py [--updates 2000] [--concurrency 20] [--rounds 3]
"""

import argparse
import asyncio
import itertools
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from tests.fake_telegram import FakeTelegram, Updates  # noqa: E402

SECRET = "bench-secret"
QUESTIONS = [
    "cai vneid the nao",
    "menu",
    "#11",
    "nộp hồ sơ trực tuyến thế nào",
    "lam sao kich hoat tai khoan dinh danh",
    "bị lừa chuyển tiền rồi phải làm gì",
    "tiếp",
    "thanh toán lệ phí online",
]


def pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core % (os.cpu_count() or 1)})


async def _serve(app: web.Application, ready: "multiprocessing.connection.Connection") -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ready.send(runner.addresses[0][1])
    await asyncio.Event().wait()


def run_troly(api_url: str, token: str, ready) -> None:
    pin(0)
    from bot.app import build_engine, create_app
    from bot.settings import Settings
    from storage.db import upgrade

    folder = tempfile.mkdtemp(prefix="troly-bench-")
    # A process of its own: the channel reads TELEGRAM_* from its environment.
    os.environ.update(TELEGRAM_TOKEN=token, TELEGRAM_API_URL=api_url, TELEGRAM_SECRET=SECRET)
    settings = Settings(database_url=f"sqlite:///{folder}/troly.db")
    upgrade(settings.database_url)
    asyncio.run(_serve(create_app(settings, build_engine(settings)), ready))


def run_echo(api_url: str, token: str, ready, transport: str = "httpx") -> None:
    """The smallest PTB webhook bot: a handler that repeats the text, on PTB's own HTTP client
    (httpx) or on the aiohttp one TroLy uses, to show what the client alone is worth."""
    pin(0)
    from telegram import Update
    from telegram.ext import Application, MessageHandler, filters

    async def echo(update: Update, context: object) -> None:
        await update.message.reply_text(update.message.text)

    builder = Application.builder().token(token).base_url(api_url).updater(None)
    if transport == "aiohttp":
        from bot.channels.telegram.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest())
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=403)
        await application.process_update(Update.de_json(await request.json(), application.bot))
        return web.Response(text="ok")

    async def lifecycle(app: web.Application):
        async with application:
            yield

    app = web.Application()
    app.router.add_post("/webhook/telegram", webhook)
    app.cleanup_ctx.append(lifecycle)
    asyncio.run(_serve(app, ready))


def run_echo_on_aiohttp(api_url: str, token: str, ready) -> None:
    run_echo(api_url, token, ready, transport="aiohttp")


async def measure(name: str, target, telegram: FakeTelegram, total: int, concurrency: int) -> float:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=target, args=(telegram.base_url, telegram.token, child), daemon=True
    )
    process.start()
    loop = asyncio.get_running_loop()
    port = await loop.run_in_executor(None, parent.recv)
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    updates = Updates()
    texts = itertools.cycle(QUESTIONS)
    chats = itertools.cycle(range(10_000, 10_200))  # 200 people talking at once
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        async with ClientSession(connector=TCPConnector(limit=concurrency)) as session:

            async def post_many(count: int) -> None:
                queue = [updates.private(next(chats), next(texts)) for _ in range(count)]

                async def worker() -> None:
                    while queue:
                        async with session.post(url, json=queue.pop(), headers=headers) as reply:
                            assert reply.status == 200, await reply.text()

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            await post_many(100)  # warm up: imports, connections, SQLite pages
            telegram.reset()
            bot_cpu, load_cpu = psutil.Process(process.pid), psutil.Process()
            bot_before, load_before = sum(bot_cpu.cpu_times()[:2]), sum(load_cpu.cpu_times()[:2])
            started = time.perf_counter()
            await post_many(total)
            elapsed = time.perf_counter() - started
            bot_busy = (sum(bot_cpu.cpu_times()[:2]) - bot_before) / elapsed
            load_busy = (sum(load_cpu.cpu_times()[:2]) - load_before) / elapsed
    finally:
        process.terminate()
        process.join()
    sent = len(telegram.calls_to("sendMessage"))
    assert sent >= total, f"{name}: only {sent} replies for {total} updates"
    rate = total / elapsed
    print(
        f"{name:<9} {total} updates in {elapsed:6.2f}s = {rate:7.1f} updates/s "
        f"({sent} replies; bot core busy {bot_busy:.0%}, fake+load core {load_busy:.0%})"
    )
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pin(1)
    print(f"{args.updates} updates, {args.concurrency} at a time, bot pinned to one core")
    ratios = []
    async with FakeTelegram() as telegram:
        for number in range(1, args.rounds + 1):
            print(f"round {number}")
            echo = await measure("PTB echo", run_echo, telegram, args.updates, args.concurrency)
            troly = await measure("TroLy", run_troly, telegram, args.updates, args.concurrency)
            # Not part of the ratio: the echo bot on TroLy's HTTP client, for what it is worth.
            await measure("echo+aio", run_echo_on_aiohttp, telegram, args.updates, args.concurrency)
            ratios.append(troly / echo)
    each = ", ".join(f"{ratio:.0%}" for ratio in ratios)
    print(f"ratio TroLy/echo: median {statistics.median(ratios):.0%} of rounds {each} "
          "(target >= 60%, issue 17)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
