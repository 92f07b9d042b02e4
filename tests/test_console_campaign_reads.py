"""'Read, where the platform says so' in a campaign's reach: Messenger's message_reads watermark
and Zalo OA's user_seen_message, posted signed to the real webhooks after a real send through
the fake platforms; the reach page and its XLSX count them per channel and per hamlet, and show
"—" for Telegram, which tells a bot nothing. Forged receipts and strangers change nothing."""

import asyncio
import io
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.engine import Engine
from storage.db import Database
from storage.models import Campaign, Contact, InboxEvent, OutboxMessage
from storage.reach import mark_read
from tests.fake_meta import FakeMeta, MessengerEvents
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo, OAEvents
from tests.test_console_campaigns import (  # noqa: F401 (fixtures)
    TEXT,
    VILLAGES,
    add_subscribers,
    meta,
    post,
    start,
    telegram,
    three_channel_settings,
    until_done,
    zalo,
)


async def read_count(engine: Engine) -> int:
    async with engine.database.session() as session:
        return (await session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.read_at.is_not(None))
        )).scalar_one()  # fmt: skip


async def inbox_done(engine: Engine) -> None:
    """Every stored webhook event processed (the forged ones were never stored)."""

    async def wait() -> None:
        while True:
            async with engine.database.session() as session:
                left = (await session.execute(
                    select(func.count()).select_from(InboxEvent)
                    .where(InboxEvent.processed_at.is_(None))
                )).scalar_one()  # fmt: skip
            if not left:
                return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(wait(), 20)


async def webhook(client: TestClient, path: str, signed: tuple[bytes, dict]) -> int:
    body, headers = signed
    response = await client.post(path, data=body, headers=headers)
    return response.status


async def test_reads_from_messenger_and_zalo_oa_count_per_channel_and_hamlet(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo,  # noqa: F811
    meta: FakeMeta, tmp_path: Path,  # noqa: F811
) -> None:  # fmt: skip
    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path)
    await add_subscribers(engine.database, per_channel=6)
    author, _ = await start(aiohttp_client, engine, settings)
    created = await post(author, "/staff/campaigns/new", title="DVC", text=TEXT)
    location = created.headers["Location"]
    campaign_id = int(location.rsplit("/", 1)[1])
    assert (await post(author, f"{location}/send")).headers["Location"].endswith("said=sending")
    assert (await until_done(author, campaign_id))["sent"] == 18

    # The Zalo ids the OA answered with, per person: a seen receipt names them.
    zalo_ids = {c.body["recipient"]["user_id"]: c.answer["data"]["message_id"]
                for c in zalo.calls_to("oa", "cs") if c.ok}  # fmt: skip
    assert len(zalo_ids) == 6
    messenger, oa = MessengerEvents(), OAEvents()
    after_send = int(time.time() * 1000) + 1000

    # Forged (wrong secret) or unsigned: refused, nothing stored.
    forged = messenger.signed(messenger.page(messenger.read("3002", after_send)), secret="x")
    assert await webhook(author, "/webhook/messenger", forged) == 403
    unsigned = messenger.signed(messenger.page(messenger.read("3002", after_send)))
    assert await webhook(author, "/webhook/messenger", (unsigned[0], {})) == 403
    forged = oa.signed(oa.seen("2003", [zalo_ids["2003"]]), secret="x")
    assert await webhook(author, "/webhook/zalo", forged) == 403
    # Strangers (and a message id nobody got): acknowledged, nothing marked.
    stranger = messenger.signed(messenger.page(messenger.read("999999", after_send)))
    assert await webhook(author, "/webhook/messenger", stranger) == 200
    assert await webhook(author, "/webhook/zalo", oa.signed(oa.seen("987654", ["m999"]))) == 200
    assert await webhook(author, "/webhook/zalo", oa.signed(oa.seen("2004", ["m999"]))) == 200
    # A watermark before the send covers nothing.
    early = messenger.signed(messenger.page(messenger.read("3003", after_send - 3_600_000)))
    assert await webhook(author, "/webhook/messenger", early) == 200
    await inbox_done(engine)
    assert await read_count(engine) == 0

    # Messenger 3000 (hamlet 0) and 3001 (hamlet 1); Zalo 2000 (hamlet 0) and 2002 (hamlet 2).
    # Meta's watermark is its own time of the last message read: a little before our sent_at.
    on_meta = after_send - 3000
    reads = messenger.page(messenger.read("3000", on_meta), messenger.read("3001", on_meta))
    assert await webhook(author, "/webhook/messenger", messenger.signed(reads)) == 200
    for user in ("2000", "2002"):
        seen = oa.signed(oa.seen(user, [zalo_ids[user]]))
        assert await webhook(author, "/webhook/zalo", seen) == 200
    await inbox_done(engine)
    assert await read_count(engine) == 4
    # Redelivered: the same receipts again change nothing.
    assert await webhook(author, "/webhook/messenger", messenger.signed(reads)) == 200
    await inbox_done(engine)
    assert await read_count(engine) == 4

    page = await (await author.get(location)).text()
    rows = dict(re.findall(r"<tr><th>([^<]+)</th>(?:<td[^>]*>[^<]*</td>){4}"
                           r"<td class=\"num\" data-read>([^<]+)</td>", page))  # fmt: skip
    assert rows["Messenger"] == "2" and rows["Zalo OA"] == "2" and rows["Telegram"] == "—"
    assert [rows[v] for v in VILLAGES] == ["2", "1", "1"]
    assert "không báo cho TroLy" in page

    xlsx = await author.get(f"{location}/reach.xlsx")
    book = load_workbook(io.BytesIO(await xlsx.read()))
    header = next(book["Theo kênh"].iter_rows(min_row=2, max_row=2, values_only=True))
    column = header.index("Đã xem")
    channels = {r[0]: r[column] for r in book["Theo kênh"].iter_rows(min_row=3, values_only=True)}
    assert channels == {"Messenger": 2, "Telegram": "—", "Zalo OA": 2}
    villages = {r[0]: r[column]
                for r in book["Theo thôn, ấp"].iter_rows(min_row=3, values_only=True)}  # fmt: skip
    assert [villages[v] for v in VILLAGES] == [2, 1, 1]


async def test_mark_read_by_watermark_and_by_message_ids(database: Database) -> None:
    """The query on both databases: a watermark covers what was sent before it, ids find their
    row among several, a read is never moved, and other people's rows are untouched."""
    now = datetime.now(UTC)
    async with database.session() as session, session.begin():
        campaign = Campaign(title="x", text="x", state="finished", started_at=now, created_at=now)
        session.add(campaign)
        people = [Contact(channel=ch, chat_id=c, first_seen=now, last_seen=now)
                  for ch, c in (("messenger", "1"), ("zalo", "2"), ("zalo", "3"))]  # fmt: skip
        session.add_all(people)
        await session.flush()
        for person, ids in zip(people, ("m.a", "z1 z2", "z3"), strict=True):
            session.add(OutboxMessage(
                campaign_id=campaign.id or 0, contact_id=person.id or 0, channel=person.channel,
                chat_id=person.chat_id, state="sent", sent_at=now, next_attempt_at=now,
                message_ids=ids,
            ))  # fmt: skip
    later = now + timedelta(minutes=5)
    async with database.session() as session, session.begin():
        before = now - timedelta(seconds=1)
        assert await mark_read(session, "messenger", "1", later, until=before) == 0
        assert await mark_read(session, "messenger", "1", later, until=later) == 1
        again = later + timedelta(hours=1)
        assert await mark_read(session, "messenger", "1", again, until=later) == 0
        assert await mark_read(session, "zalo", "2", later, message_ids=["z3"]) == 0
        assert await mark_read(session, "zalo", "2", later, message_ids=["z2"]) == 1
    async with database.session() as session:
        read = dict((await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.read_at)
        )).all())  # fmt: skip
    assert read == {"1": later, "2": later, "3": None}
