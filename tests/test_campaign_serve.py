"""The campaign worker of a real `troly serve`: kill -9 in the middle of a campaign to three fake
platforms, restart, and the platforms' own records show everybody got it once and nobody twice;
the rows whose fate the kill left unknown are reported as uncertain, never resent."""

import asyncio
import os
import re
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot import campaigns
from bot.library import Library
from storage.db import Database
from storage.models import Campaign, OutboxMessage
from tests.conftest import FIXTURE_LIBRARY, ROOT
from tests.console_helpers import PASSWORD, add_account
from tests.fake_meta import FakeMeta
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.test_console_campaigns import TEXT, add_subscribers, received, three_channel_env
from tests.test_console_campaigns import meta as meta  # the fixtures, re-exported by name
from tests.test_console_campaigns import telegram as telegram
from tests.test_console_campaigns import zalo as zalo

TROLY = [sys.executable, "-m", "bot"]
RATE = "40"  # per channel: ~2.5 s for 100 people each, time enough to be killed halfway
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def serve(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *TROLY, "serve", env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return process


async def logged_in(base: str, login: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    for _ in range(300):
        try:
            async with http.get(f"{base}/staff/login") as page:
                token = CSRF.search(await page.text())
                break
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    assert token, "troly serve did not come up"
    form = {"csrf": token.group(1), "username": login, "password": PASSWORD, "next": "/staff/"}
    async with http.post(f"{base}/staff/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status
    return http


async def test_kill_9_of_troly_serve_mid_campaign_then_restart_sends_nobody_anything_twice(
    tmp_path: Path, sqlite_database: Database, fixture_library: Library,
    telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
) -> None:  # fmt: skip
    database = sqlite_database
    await add_subscribers(database)
    await add_account(database, "lan", "staff", "Trần Thị Lan")
    created = await campaigns.create(database, fixture_library, title="DVC", text=TEXT,
                                     now=datetime.now(UTC), created_by_staff=1)  # fmt: skip
    cid = created.id or 0
    await campaigns.approve(database, cid, 2, "Lê Văn Minh", datetime.now(UTC))
    await campaigns.schedule(database, cid, datetime.now(UTC))  # "send now" in the console

    port = free_port()
    env = {
        **os.environ, **three_channel_env(database.url, telegram, zalo),
        "CONTENT_DIR": str(FIXTURE_LIBRARY), "PYTHONPATH": str(ROOT), "PORT": str(port),
        "CAMPAIGN_TELEGRAM_RATE": RATE, "CAMPAIGN_ZALO_RATE": RATE,
        "CAMPAIGN_MESSENGER_RATE": RATE, "CAMPAIGN_WORKER_SECONDS": "0.5", "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    first = await serve(env, tmp_path)

    async def until(count: int) -> None:
        while sum(received(telegram, zalo, meta).values()) < count:
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(until(60), 60)
    finally:
        first.send_signal(signal.SIGKILL)  # no cleanup of any kind
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    assert 60 <= sum(received(telegram, zalo, meta).values()) < 300, "killed in the middle"

    second = await serve(env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    http = None
    try:
        http = await logged_in(base, "lan")

        async def finished() -> dict:
            while True:
                async with http.get(f"{base}/staff/campaigns/{cid}/progress.json") as answer:
                    shown = await answer.json()
                if shown["state"] == "finished":
                    return shown
                await asyncio.sleep(0.2)

        shown = await asyncio.wait_for(finished(), 90)
        async with http.get(f"{base}/staff/campaigns/{cid}") as page:
            html = await page.text()
    finally:
        if http is not None:
            await http.close()
        second.terminate()
        await asyncio.wait_for(second.wait(), 30)

    got = received(telegram, zalo, meta)
    assert max(got.values()) == 1, "somebody got the campaign twice"
    async with database.session() as session:
        rows = (await session.execute(
            select(OutboxMessage.channel, OutboxMessage.chat_id, OutboxMessage.state)
            .where(OutboxMessage.campaign_id == cid, OutboxMessage.state != "outside_window")
        )).all()  # fmt: skip
    uncertain = [(ch, chat) for ch, chat, state in rows if state == "uncertain"]
    for channel, chat_id, state in rows:
        if state != "uncertain":
            assert state == "sent" and got[f"{channel}:{chat_id}"] == 1, (channel, chat_id, state)
    # Uncertain: claimed by the killed worker, at most the sends in flight per channel (8).
    assert len(rows) == 300 and len(uncertain) <= 3 * 8
    assert shown["sent"] + shown["uncertain"] == 300 and shown["uncertain"] == len(uncertain)
    assert shown["percent"] == 100
    assert f'data-live-field="uncertain">{len(uncertain)}<' in html, "reported on the page"


async def test_two_serve_workers_on_postgresql_share_a_campaign_and_nobody_gets_it_twice(
    tmp_path: Path, postgres_url: str, fixture_library: Library,
    telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
) -> None:  # fmt: skip
    """`troly serve --workers 2`: both processes run the campaign worker; each outbox row is
    claimed by one of them (FOR UPDATE SKIP LOCKED), so both send and nobody gets it twice."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    database = Database(postgres_url)
    try:
        async with database.engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await add_subscribers(database)
        created = await campaigns.create(database, fixture_library, title="DVC", text=TEXT,
                                         now=datetime.now(UTC))  # fmt: skip
        cid = created.id or 0
        await campaigns.approve(database, cid, 2, "Lê Văn Minh", datetime.now(UTC))
        await campaigns.schedule(database, cid, datetime.now(UTC))
        env = {
            **os.environ, **three_channel_env(postgres_url, telegram, zalo),
            "CONTENT_DIR": str(FIXTURE_LIBRARY), "PYTHONPATH": str(ROOT),
            "PORT": str(free_port()), "CAMPAIGN_TELEGRAM_RATE": RATE, "CAMPAIGN_ZALO_RATE": RATE,
            "CAMPAIGN_MESSENGER_RATE": RATE, "CAMPAIGN_WORKER_SECONDS": "0.3",
            "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        server = await asyncio.create_subprocess_exec(
            *TROLY, "serve", "--workers", "2", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:

            async def finished() -> None:
                while True:
                    async with database.session() as session:
                        state = (await session.execute(
                            select(Campaign.state)
                            .where(Campaign.id == cid)
                        )).scalar_one()  # fmt: skip
                    if state == "finished":
                        return
                    await asyncio.sleep(0.2)

            await asyncio.wait_for(finished(), 90)
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 30)
        got = received(telegram, zalo, meta)
        assert len(got) == 300 and set(got.values()) == {1}
        async with database.session() as session:
            workers = (await session.execute(
                select(OutboxMessage.worker).distinct()
                .where(OutboxMessage.campaign_id == cid, OutboxMessage.state == "sent")
            )).scalars().all()  # fmt: skip
        pids = {w.split(":")[1] for w in workers}
        assert len(pids) == 2, f"both serve workers sent: {workers}"
    finally:
        await database.close()
