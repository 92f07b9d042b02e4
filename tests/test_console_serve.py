"""The live inbox through a real `troly serve --workers 2` (SQLite and PostgreSQL): two consoles
open on the inbox stream, citizens on the web chat and the fake Telegram asking for staff one
after another, each request landing on either worker; every hand-off shows in both open inboxes
within a second, and the answers reach the fake Telegram and the web-chat page's open stream,
whichever worker holds it."""

import asyncio
import json
import os
import time
from pathlib import Path

import aiohttp
from sqlmodel import select

from storage.db import Database
from storage.models import Handoff
from tests.conftest import FIXTURE_LIBRARY, ROOT
from tests.console_helpers import SECRET, add_account, csrf_in, read_event
from tests.console_helpers import telegram as telegram  # the fixture, re-exported by name
from tests.fake_telegram import FakeTelegram, Updates
from tests.test_campaign_serve import TROLY, free_port, logged_in

WORKERS = "2"


async def next_event(stream: aiohttp.ClientResponse, deadline: float) -> tuple[str, str] | None:
    """The next server-sent event (name, data), or None once the deadline (monotonic) passes
    or the stream ends."""
    try:
        return await read_event(stream, max(0.0, deadline - time.monotonic()))
    except (TimeoutError, EOFError):
        return None


async def shows_within(stream: aiohttp.ClientResponse, marker: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while (event := await next_event(stream, deadline)) is not None:
        if event[0] == "inbox" and marker in json.loads(event[1])["html"]:
            return True
    return False


async def csrf_of(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as page:
        return csrf_in(await page.text())


async def test_hand_offs_reach_every_open_inbox_through_troly_serve_with_two_workers(
    tmp_path: Path, database: Database, telegram: FakeTelegram
) -> None:
    await add_account(database, "lan", "admin", "Trần Thị Lan")
    await add_account(database, "binh", "staff", "Nguyễn Văn Bình")
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database.url, "TELEGRAM_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url, "TELEGRAM_SECRET": SECRET,
        "CONTENT_DIR": str(FIXTURE_LIBRARY), "PYTHONPATH": str(ROOT), "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    process = await serve_workers(env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    sessions: list[aiohttp.ClientSession] = []
    try:
        sessions = [await logged_in(base, "lan"), await logged_in(base, "binh")]
        # A connection per request: the kernel hands each to either worker (SO_REUSEPORT).
        citizen_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        sessions.append(citizen_http)
        streams = [await s.get(f"{base}/staff/events") for s in sessions[:2]]
        for stream in streams:
            assert stream.status == 200
            assert await next_event(stream, time.monotonic() + 5) is not None
        updates = Updates()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for n in range(6):
            marker = f"hỏi-số-{n}-xã"
            for text in ("gặp cán bộ", f"Cho hỏi {marker} ạ"):
                if n % 2:
                    update = updates.private(5550800 + n, text)
                    url, body = f"{base}/webhook/telegram", {"json": update, "headers": headers}
                else:
                    url, body = f"{base}/api/chat", {"json": {"session": f"w{n}", "text": text}}
                async with citizen_http.post(url, **body) as answer:
                    assert answer.status == 200, await answer.text()
            for stream in streams:
                assert await shows_within(stream, marker, 2.0), marker

        async with database.session() as session:
            rows = (await session.execute(select(Handoff.chat_id, Handoff.id))).all()
        handoff = dict(rows)
        assert len(handoff) == 6
        # The web-chat page of citizen w0 is open (on either worker) while staff answer.
        page = await citizen_http.get(f"{base}/api/chat/events?session=w0")
        lan = sessions[0]
        for chat_id, text in (("w0", "Bạn ra quầy số 2 nhé"), ("5550801", "Bác ra quầy 1 ạ")):
            token = await csrf_of(lan, f"{base}/staff/inbox/{handoff[chat_id]}")
            async with lan.post(f"{base}/staff/inbox/{handoff[chat_id]}/answer",
                                data={"csrf": token, "text": text},
                                allow_redirects=False) as answer:  # fmt: skip
                assert "notice=sent" in answer.headers["Location"]
        event = await next_event(page, time.monotonic() + 3)
        assert event is not None and "quầy số 2" in json.loads(event[1])["text"]
        sent = [c.params.get("text", "") for c in telegram.sent_to(5550801)]
        assert "Bác ra quầy 1 ạ" in sent[-1]
    finally:
        for http in sessions:
            await http.close()
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def serve_workers(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *TROLY, "serve", "--workers", WORKERS, env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
