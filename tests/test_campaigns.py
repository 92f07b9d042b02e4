"""Campaigns end to end: audience, the outbox sender against the fake Bot API, crash safety."""

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlmodel import SQLModel

from bot import campaigns
from bot.channels.telegram import make_sender
from bot.channels.telegram.settings import TelegramSettings
from bot.delivery import Sender
from bot.engine import Engine
from bot.library import Library
from bot.messages import Incoming
from bot.settings import Settings
from storage.campaigns import get_campaign
from storage.db import Database
from storage.models import Contact, OutboxMessage, Subscription
from tests.channel_env import set_env
from tests.conftest import FIXTURE_LIBRARY, ROOT
from tests.fake_telegram import Failure, FakeTelegram

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
TROLY = [sys.executable, "-m", "bot"]


class FakeTime:
    """The campaign clock and sleep: sleeping moves the clock, nothing waits for real."""

    def __init__(self, now: datetime = START):
        self.now = now
        self.naps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.naps.append(round(seconds, 3))
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def senders(telegram: FakeTelegram) -> AsyncIterator[dict[str, Sender]]:
    sender = make_sender(TelegramSettings(token=telegram.token, api_url=telegram.base_url))
    assert sender is not None
    yield {"telegram": sender}
    await sender.close()


SETTINGS = Settings(campaign_concurrency=4)


@pytest.fixture(autouse=True)
def no_rate_limit() -> None:
    set_env(campaign_telegram_rate=0, campaign_zalo_rate=0)


async def add_contacts(
    database: Database,
    count: int,
    channel: str = "telegram",
    first: int = 1000,
    last_seen: datetime = START,
    tags: list[str] | None = None,
) -> list[int]:
    """Contacts who talked to the bot; returns their ids."""
    rows = [
        {
            "channel": channel,
            "chat_id": str(first + n),
            "first_seen": last_seen,
            "last_seen": last_seen,
            "unreachable": False,
        }
        for n in range(count)
    ]
    async with database.session() as session, session.begin():
        await session.execute(insert(Contact), rows)
        ids = (await session.execute(
            select(Contact.id).where(Contact.channel == channel).order_by(Contact.id)
        )).scalars().all()  # fmt: skip
        ids = list(ids)[-count:]
        if tags:
            for contact_id in ids:
                session.add(Subscription(contact_id=contact_id, tags=tags, updated_at=START))
    return ids


def received(telegram: FakeTelegram) -> Counter[int]:
    """How many campaign messages each chat got, from the fake server's own record."""
    return Counter(c.chat_id for c in telegram.calls_to("sendMessage", "sendPhoto"))


async def row_states(database: Database, campaign_id: int) -> Counter[str]:
    async with database.session() as session:
        rows = await session.execute(
            select(OutboxMessage.state).where(OutboxMessage.campaign_id == campaign_id)
        )
        return Counter(rows.scalars())


async def new_campaign(database: Database, library: Library, **fields) -> int:
    fields.setdefault("title", "Tuần lễ DVC trực tuyến")
    fields.setdefault("text", "Tuần này Trung tâm hỗ trợ nộp hồ sơ trực tuyến.")
    campaign = await campaigns.create(database, library, now=START, **fields)
    assert campaign.id is not None
    return campaign.id


# -- audience ---------------------------------------------------------------------------------


async def test_audience_by_channel_and_tag_leaves_out_opted_out_and_old_zalo_contacts(
    database: Database, fixture_library: Library
) -> None:
    hoa_long = await add_contacts(database, 2, "telegram", 100, tags=["Ấp Hòa Long"])
    await add_contacts(database, 3, "telegram", 200)
    await add_contacts(database, 1, "zalo", 300, tags=["ap hoa long"])
    await add_contacts(database, 2, "zalo", 400, last_seen=START - timedelta(days=8))
    await add_contacts(database, 4, "web", 500)  # the web chat cannot be sent to
    async with database.session() as session, session.begin():
        opted = await session.get(Subscription, hoa_long[0])
        assert opted is not None
        opted.opted_out = True
    channels = ["telegram", "zalo"]

    everyone = await new_campaign(database, fixture_library)
    shown = await campaigns.preview(database, fixture_library, everyone, channels, START)
    assert shown.will_send == {"telegram": 4, "zalo": 1}
    assert shown.held_back == {"outside_window": 2}

    only_telegram = await new_campaign(database, fixture_library, channel="telegram")
    shown = await campaigns.preview(database, fixture_library, only_telegram, channels, START)
    assert shown.will_send == {"telegram": 4} and not shown.held_back

    village = await new_campaign(database, fixture_library, tags=["Ấp Hòa Long"])
    shown = await campaigns.preview(database, fixture_library, village, channels, START)
    assert shown.will_send == {"telegram": 1, "zalo": 1}


def test_an_alert_becomes_a_campaign_with_guide_buttons_and_a_way_out(
    fixture_library: Library,
) -> None:
    fields = campaigns.alert_fields(fixture_library, "canh-bao-otp")
    assert "OTP" in fields["title"] and fields["alert_id"] == "canh-bao-otp"
    with pytest.raises(campaigns.CampaignError, match="canh-bao-otp"):
        campaigns.alert_fields(fixture_library, "khong-co")


# -- sending ----------------------------------------------------------------------------------


async def test_everyone_gets_it_once_with_guide_buttons_and_the_opt_out_button(
    database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    await add_contacts(database, 6)
    cid = await new_campaign(database, fixture_library, guide_ids=["vneid-cai-dat"])
    clock = FakeTime()
    campaign = await campaigns.send(
        database, fixture_library, senders, cid, settings=SETTINGS, clock=clock, sleep=clock.sleep
    )
    assert campaign.state == "finished"
    assert received(telegram) == {1000 + n: 1 for n in range(6)}
    message = telegram.calls_to("sendMessage")[0]
    assert "Tuần này Trung tâm" in message.params["text"] and "dừng" in message.params["text"]
    assert [b["callback_data"] for b in message.buttons] == [f"c:{cid}:vneid-cai-dat", "sub:off"]
    # Sending again sends nothing: each (campaign, contact) has one outbox row, now 'sent'.
    await campaigns.send(database, fixture_library, senders, cid, settings=SETTINGS)
    assert sum(received(telegram).values()) == 6
    _, figures = await campaigns.reach(database, cid)
    assert (figures.audience, figures.count("sent")) == (6, 6)


async def test_429_waits_retry_after_and_403_marks_the_person_blocked(
    sqlite_database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    database = sqlite_database
    await add_contacts(database, 5)
    telegram.fail("sendMessage", Failure.rate_limited(retry_after=7))
    telegram.fail("sendMessage", Failure.blocked())
    cid = await new_campaign(database, fixture_library)
    clock = FakeTime()
    one_at_a_time = Settings(campaign_concurrency=1)
    await campaigns.send(
        database, fixture_library, senders, cid, settings=one_at_a_time, clock=clock,
        sleep=clock.sleep,
    )  # fmt: skip
    assert 7.0 in clock.naps
    # The first person: 429, the wait, then 403 (they blocked the bot): never tried again.
    assert received(telegram) == {1001: 1, 1002: 1, 1003: 1, 1004: 1}
    assert [c.chat_id for c in telegram.attempts("sendMessage")].count(1000) == 2
    assert await row_states(database, cid) == {"sent": 4, "blocked": 1}
    async with database.session() as session:
        blocked = (await session.execute(
            select(Contact.unreachable).where(Contact.chat_id == "1000")
        )).scalar_one()  # fmt: skip
    assert blocked
    # The next campaign does not even try them.
    again = await new_campaign(database, fixture_library)
    await campaigns.send(database, fixture_library, senders, again, settings=SETTINGS)
    assert await row_states(database, again) == {"sent": 4, "blocked": 1}
    assert [c.chat_id for c in telegram.attempts("sendMessage")].count(1000) == 2


async def test_server_errors_are_retried_with_backoff_then_given_up(
    sqlite_database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    database = sqlite_database
    await add_contacts(database, 2)
    telegram.fail("sendMessage", Failure.server_error(502), times=2)
    cid = await new_campaign(database, fixture_library, channel="telegram")
    clock = FakeTime()
    serial = Settings(campaign_concurrency=1)
    await campaigns.send(
        database, fixture_library, senders, cid, settings=serial, clock=clock, sleep=clock.sleep
    )
    assert received(telegram) == {1000: 1, 1001: 1}
    assert await row_states(database, cid) == {"sent": 2}

    telegram.fail("sendMessage", Failure.server_error(500), times=50)
    failing = await new_campaign(database, fixture_library)
    await campaigns.send(
        database, fixture_library, senders, failing, settings=serial, clock=clock,
        sleep=clock.sleep,
    )  # fmt: skip
    assert await row_states(database, failing) == {"failed": 2}
    assert len(telegram.attempts("sendMessage")) == 4 + 2 * 5  # 5 attempts each, then failed


async def test_scheduled_campaign_fires_at_its_time_and_honours_a_later_opt_out(
    sqlite_database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    database = sqlite_database
    await add_contacts(database, 3)
    cid = await new_campaign(database, fixture_library)
    at = START + timedelta(hours=2)
    await campaigns.schedule(database, cid, at)
    # After scheduling, one person says "dừng" to the bot.
    engine = Engine(fixture_library, database, clock=lambda: START + timedelta(hours=1))
    replies = await engine.handle(Incoming("telegram", "1001", text="dừng"))
    assert "ngừng nhận tin" in replies[0].text

    early = FakeTime(at - timedelta(minutes=1))
    assert await campaigns.run_due(
        database, fixture_library, senders, settings=SETTINGS, clock=early
    ) == []  # fmt: skip
    assert received(telegram) == {}

    on_time = FakeTime(at)
    (campaign,) = await campaigns.run_due(
        database, fixture_library, senders, settings=SETTINGS, clock=on_time, sleep=on_time.sleep
    )
    assert campaign.state == "finished" and campaign.started_at == at
    assert received(telegram) == {1000: 1, 1002: 1}


async def test_pause_stops_sending_and_resume_carries_on_without_resending(
    database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    await add_contacts(database, 10)
    cid = await new_campaign(database, fixture_library)
    serial = Settings(campaign_concurrency=1)
    sent: list[str] = []

    async def pause_after_three(outcomes) -> None:
        sent.extend(o.state for o in outcomes)
        if len(sent) == 3:
            await campaigns.pause(database, cid)

    await campaigns.start(database, cid, ["telegram"], START)
    clock = FakeTime()
    sender = campaigns.CampaignSender(
        database, senders, {}, concurrency=1, clock=clock, sleep=clock.sleep,
        on_progress=pause_after_three,
    )  # fmt: skip
    async with database.session() as session:
        stored = await get_campaign(session, cid)
    assert stored is not None
    await sender.run(cid, campaigns.campaign_replies(stored, fixture_library))
    states = await row_states(database, cid)
    assert states["sent"] in (3, 4) and states["pending"] == 10 - states["sent"]
    async with database.session() as session:
        assert (await get_campaign(session, cid)).state == "paused"  # type: ignore[union-attr]

    with pytest.raises(campaigns.CampaignError, match="paused"):
        await campaigns.pause(database, cid)
    await campaigns.resume(database, cid)
    done = await campaigns.send(
        database, fixture_library, senders, cid, settings=serial, clock=clock, sleep=clock.sleep
    )
    assert done.state == "finished"
    assert received(telegram) == {1000 + n: 1 for n in range(10)}


async def test_cancel_stops_a_campaign_for_good(
    sqlite_database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    database = sqlite_database
    await add_contacts(database, 3)
    cid = await new_campaign(database, fixture_library)
    await campaigns.start(database, cid, ["telegram"], START)
    await campaigns.cancel(database, cid)
    done = await campaigns.send(database, fixture_library, senders, cid, settings=SETTINGS)
    assert done.state == "cancelled" and received(telegram) == {}
    assert await row_states(database, cid) == {"cancelled": 3}


# -- reach ------------------------------------------------------------------------------------


async def test_reach_counts_guide_opens_within_7_days_and_opt_outs_within_24_hours(
    sqlite_database: Database, fixture_library: Library, senders, telegram: FakeTelegram
) -> None:
    database = sqlite_database
    await add_contacts(database, 5)
    cid = await new_campaign(database, fixture_library, guide_ids=["vneid-cai-dat"])
    clock = FakeTime()
    await campaigns.send(
        database, fixture_library, senders, cid, settings=SETTINGS, clock=clock, sleep=clock.sleep
    )
    sent_at = clock.now

    async def act(chat_id: str, after: timedelta, **fields) -> str:
        engine = Engine(fixture_library, database, clock=lambda: sent_at + after)
        replies = await engine.handle(Incoming("telegram", chat_id, **fields))
        return replies[0].text

    button = f"c:{cid}:vneid-cai-dat"
    assert "Bước 1/3" in await act("1000", timedelta(hours=1), action=button)
    await act("1000", timedelta(hours=2), action=button)  # the same person again: one person
    await act("1001", timedelta(days=6), action=button)
    await act("1002", timedelta(days=9), action=button)  # too late to count
    await act("1003", timedelta(hours=3), action="sub:off")  # the button under the message
    await act("1004", timedelta(days=3), text="/dunglai")  # too late to count
    _, figures = await campaigns.reach(database, cid)
    assert (figures.opened, figures.opted_out_after) == (2, 1)


# -- crash safety, several workers ------------------------------------------------------------


def troly_env(database_url: str, telegram: FakeTelegram, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CONTENT_DIR": str(FIXTURE_LIBRARY),
        "TELEGRAM_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "PYTHONPATH": str(ROOT),
        "CAMPAIGN_TELEGRAM_RATE": "0",
        **extra,
    }


async def troly(env: dict[str, str], *args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *TROLY, *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finished(process: asyncio.subprocess.Process) -> str:
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_kill_9_in_the_middle_then_restart_never_sends_twice(
    tmp_path: Path, sqlite_database: Database, fixture_library: Library, telegram: FakeTelegram
) -> None:
    database = sqlite_database
    await add_contacts(database, 2000)
    env = troly_env(database.url, telegram, CAMPAIGN_CONCURRENCY="8")
    created = await finished(await troly(env, "campaign", "create", "--from-alert",
                                         "canh-bao-otp", cwd=tmp_path))  # fmt: skip
    assert "Campaign 1 created" in created

    first = await troly(env, "campaign", "send", "1", cwd=tmp_path)
    await telegram.wait_for("sendMessage", count=600, timeout=60)
    first.kill()  # SIGKILL: no cleanup of any kind
    await first.wait()
    assert first.returncode == -signal.SIGKILL
    assert 600 <= sum(received(telegram).values()) < 2000, "killed in the middle"

    report = await finished(await troly(env, "campaign", "send", "1", cwd=tmp_path))
    states = await row_states(database, 1)
    got = received(telegram)
    assert max(got.values()) == 1, "somebody got the campaign twice"
    async with database.session() as session:
        rows = (await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.state)
            .where(OutboxMessage.campaign_id == 1)
        )).all()  # fmt: skip
    for chat_id, state in rows:
        if state != "uncertain":
            assert state == "sent" and got[int(chat_id)] == 1, (chat_id, state)
    # Uncertain: claimed by the killed worker; at most the sends one worker has in flight.
    assert states["uncertain"] <= 8 and states["sent"] + states["uncertain"] == 2000
    assert f"uncertain       {states['uncertain']}" in report and "state finished" in report


async def test_two_workers_on_postgresql_share_a_campaign_without_double_sends(
    tmp_path: Path, postgres_url: str, fixture_library: Library, telegram: FakeTelegram
) -> None:
    database = Database(postgres_url)
    try:
        async with database.engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await add_contacts(database, 1200)
        cid = await new_campaign(database, fixture_library)
        await campaigns.start(database, cid, ["telegram"], datetime.now(UTC))
        # Each worker alone would need several seconds: the second joins well before the end.
        env = troly_env(postgres_url, telegram, CAMPAIGN_TELEGRAM_RATE="150")
        first = await troly(env, "campaign", "send", str(cid), cwd=tmp_path)
        await telegram.wait_for("sendMessage", count=50, timeout=60)
        second = await troly(env, "campaign", "send", str(cid), cwd=tmp_path)
        await asyncio.gather(finished(first), finished(second))
        assert received(telegram) == {1000 + n: 1 for n in range(1200)}
        async with database.session() as session:
            workers = (await session.execute(
                select(OutboxMessage.worker).distinct().where(OutboxMessage.campaign_id == cid)
            )).scalars().all()  # fmt: skip
            state = (await get_campaign(session, cid)).state  # type: ignore[union-attr]
        assert len(workers) == 2 and state == "finished"
    finally:
        await database.close()


async def test_zalo_sends_only_inside_the_7_day_window_and_never_retries_outside_it(
    sqlite_database: Database, fixture_library: Library
) -> None:
    from bot.channels.zalo_oa import make_sender as make_zalo_sender
    from tests.fake_zalo import FakeZalo
    from tests.test_zalo_oa import oa_settings, store_expired_pair

    database = sqlite_database
    now = datetime.now(UTC)
    await add_contacts(database, 2, "zalo", 500, last_seen=now - timedelta(days=1))
    await add_contacts(database, 1, "zalo", 600, last_seen=now - timedelta(days=8))
    async with FakeZalo() as zalo:
        await store_expired_pair(database, zalo)
        sender = make_zalo_sender(oa_settings(zalo), database.url)
        assert sender is not None
        zalo.fail("cs", -230)  # Zalo: no interaction within 7 days, as far as it knows
        serial = Settings(campaign_concurrency=1)
        try:
            cid = await new_campaign(database, fixture_library, channel="zalo")
            await campaigns.send(database, fixture_library, {"zalo": sender}, cid, settings=serial)
        finally:
            await sender.close()
        attempts = Counter(
            c.body.get("recipient", {}).get("user_id") for c in zalo.calls_to("oa", "cs")
        )
        assert attempts == {"500": 1, "501": 1}  # never the one silent for 8 days; no retry
        assert len(zalo.messages_to("501")) == 1 and zalo.messages_to("500") == []
    assert await row_states(database, cid) == {"outside_window": 2, "sent": 1}


async def test_a_send_that_timed_out_is_uncertain_and_never_sent_again(
    sqlite_database: Database, fixture_library: Library, telegram: FakeTelegram
) -> None:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.channels.telegram import TelegramSender

    impatient = Bot(telegram.token, base_url=telegram.base_url,
                    request=HTTPXRequest(read_timeout=0.2))  # fmt: skip
    await add_contacts(sqlite_database, 2)
    telegram.fail("sendMessage", Failure.slow(1.0))  # the first one arrives, its answer does not
    cid = await new_campaign(sqlite_database, fixture_library, channel="telegram")
    clock = FakeTime()
    serial = Settings(campaign_concurrency=1)
    await campaigns.send(
        sqlite_database, fixture_library, {"telegram": TelegramSender(impatient)}, cid,
        settings=serial, clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    assert received(telegram) == {1000: 1, 1001: 1}, "the slow one was delivered, once"
    assert await row_states(sqlite_database, cid) == {"uncertain": 1, "sent": 1}
