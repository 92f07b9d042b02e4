"""/staff/campaigns against three fake platforms on loopback (Telegram, Zalo OA, Messenger):
compose, preview per channel, approval by a second account, the server's worker sending, live
progress, reach and its XLSX; a scheduled campaign under an injected clock; roles."""

import asyncio
import io
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from bot.app import create_app
from bot.campaigns import worker
from bot.channels.messenger.settings import messenger_settings
from bot.engine import Engine
from bot.settings import Settings
from storage.db import Database
from storage.models import AuditEvent, Campaign, Contact, StaffMember, Subscription
from tests.channel_env import set_env
from tests.console_helpers import SECRET, add_account, csrf_in, login
from tests.fake_meta import APP_SECRET, PAGE_TOKEN, FakeMeta
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import APP_ID, OA_SECRET_KEY, FakeZalo

NOW = datetime.now(UTC)
TEXT = "Tuần lễ DVC trực tuyến: Trung tâm hỗ trợ nộp hồ sơ tại chỗ từ thứ Hai."
VILLAGES = ["Ấp Hòa Thạnh", "Ấp Hòa Long", "Ấp Bình Phú"]
PER_CHANNEL = 100
CHANNELS = {"telegram": 1000, "zalo": 2000, "messenger": 3000}


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake


@pytest.fixture
async def meta(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeMeta]:
    async with FakeMeta() as fake:
        for name, value in {
            "MESSENGER_PAGE_TOKEN": PAGE_TOKEN,
            "MESSENGER_APP_SECRET": APP_SECRET,
            "MESSENGER_VERIFY_TOKEN": "xac-minh",
            "MESSENGER_API_URL": fake.base_url,
            "CAMPAIGN_MESSENGER_RATE": "0",
        }.items():
            monkeypatch.setenv(name, value)
        messenger_settings.cache_clear()
        yield fake
    messenger_settings.cache_clear()


def three_channel_env(
    database_url: str, telegram: FakeTelegram, zalo: FakeZalo, rate: float = 0
) -> dict[str, str]:
    """The three fake platforms as `troly serve`'s environment (Messenger's is the meta
    fixture's, already in os.environ); `rate` messages a second on Telegram and Zalo, 0: no
    limit."""
    return {
        "DATABASE_URL": database_url,
        "TELEGRAM_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_SECRET": SECRET,
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": zalo.app_secret,
        "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
        "ZALO_OA_ID": "1234567890",
        "ZALO_API_URL": zalo.base_url,
        "ZALO_OAUTH_URL": zalo.base_url,
        "ZALO_REFRESH_TOKEN": zalo.issue_refresh_token(),
        "CAMPAIGN_TELEGRAM_RATE": str(rate),
        "CAMPAIGN_ZALO_RATE": str(rate),
    }


def three_channel_settings(
    database_url: str, telegram: FakeTelegram, zalo: FakeZalo, tmp_path: Path,
    rate: float = 0, **extra: object,
) -> Settings:  # fmt: skip
    """The channels read their own settings from the environment (put back after the test)."""
    env = three_channel_env(database_url, telegram, zalo, rate)
    set_env(**{key.lower(): value for key, value in env.items()})
    return Settings(database_url=database_url, campaign_image_dir=tmp_path / "images", **extra)


async def add_subscribers(database: Database, per_channel: int = PER_CHANNEL) -> None:
    """`per_channel` people on each of the three channels, spread over three villages; plus on
    each channel one who opted out, and on Zalo one who last wrote 10 days ago (outside the
    window)."""
    rows = []
    for channel, first in CHANNELS.items():
        for n in range(per_channel + 1 + (channel == "zalo")):
            old = channel == "zalo" and n == per_channel + 1
            seen = NOW - (timedelta(days=10) if old else timedelta(hours=1))
            rows.append({"channel": channel, "chat_id": str(first + n), "first_seen": seen,
                         "last_seen": seen, "unreachable": False})  # fmt: skip
    async with database.session() as session, session.begin():
        await session.execute(insert(Contact), rows)
        contacts = (await session.execute(select(Contact))).scalars().all()
        for contact in contacts:
            n = int(contact.chat_id) % 1000
            session.add(Subscription(
                contact_id=contact.id, tags=[VILLAGES[n % 3]], updated_at=NOW,
                opted_out=n == per_channel, opted_out_at=NOW if n == per_channel else None,
            ))  # fmt: skip


def received(telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta) -> Counter[str]:
    """How many times each person got the campaign, from the fake platforms' own records."""
    got: Counter[str] = Counter()
    for call in telegram.calls_to("sendMessage", "sendPhoto"):
        if TEXT in call.params.get("text", call.params.get("caption", "")):
            got[f"telegram:{call.chat_id}"] += 1
    for call in zalo.calls_to("oa", "cs"):
        if call.ok and TEXT in call.text:
            got[f"zalo:{call.body['recipient']['user_id']}"] += 1
    for call in meta.sends():
        if call.ok and TEXT in call.text:
            got[f"messenger:{call.recipient}"] += 1
    return got


async def start(
    aiohttp_client, engine: Engine, settings: Settings, clock=None
) -> tuple[TestClient, TestClient]:
    """The app with its campaign worker; the author (lan) and a second staff member (minh)
    logged in, each in their own client."""
    app = create_app(settings, engine)
    worker.setup(app)
    if clock is not None:
        app[worker.CLOCK] = clock
    author = await aiohttp_client(app)
    second = await aiohttp_client(author.server)
    await add_account(engine.database, "lan", "staff", "Trần Thị Lan")
    await add_account(engine.database, "minh", "staff", "Lê Văn Minh")
    await login(author, "lan")
    await login(second, "minh")
    return author, second


async def draft(author: TestClient, **data: str) -> str:
    """A new campaign with TEXT (and `data`); its page's path."""
    created = await post(author, "/staff/campaigns/new", **{"text": TEXT, **data})
    return created.headers["Location"]


async def post(client: TestClient, path: str, **data: str):
    page = await client.get("/staff/campaigns")
    return await client.post(path, data={"csrf": csrf_in(await page.text()), **data},
                             allow_redirects=False)  # fmt: skip


async def progress(client: TestClient, campaign_id: int) -> dict:
    response = await client.get(f"/staff/campaigns/{campaign_id}/progress.json")
    assert response.status == 200
    return await response.json()


async def until_done(client: TestClient, campaign_id: int, timeout: float = 60) -> dict:
    async def wait() -> dict:
        while (shown := await progress(client, campaign_id))["state"] != "finished":
            await asyncio.sleep(0.2)
        return shown

    return await asyncio.wait_for(wait(), timeout)


async def test_compose_preview_approve_send_and_reach_on_three_channels(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path)
    await add_subscribers(engine.database)
    author, second = await start(aiohttp_client, engine, settings)

    compose = await author.get("/staff/campaigns/new")
    assert compose.status == 200
    page = await compose.text()
    assert 'data-limit="4096"' in page and 'data-limit="2000"' in page  # Telegram, Zalo, ...
    alert = engine.library.alerts["canh-bao-otp"]
    filled = await (await author.get("/staff/campaigns/new?alert=canh-bao-otp")).text()
    assert escape(alert.title) in filled and escape(alert.body.splitlines()[0]) in filled
    created = await post(author, "/staff/campaigns/new", title="DVC", text=TEXT,
                         guide="vneid-cai-dat")  # fmt: skip
    assert created.status == 303
    location = created.headers["Location"]
    campaign_id = int(location.rsplit("/", 1)[1])

    shown = await (await author.get(location)).text()
    assert re.search(r"data-recipients>300<", shown), "300 will get it"
    assert re.search(r'data-held="opted_out">Bỏ qua <b>3</b>', shown)
    assert re.search(r'data-held="outside_window">Bỏ qua <b>1</b>', shown)
    for channel in ("telegram", "zalo", "messenger", "web"):
        assert f'data-preview="{channel}"' in shown
    assert "Cài ứng dụng VNeID" in shown and "Ngừng nhận tin" in shown
    assert "data-approval" in shown and "Duyệt chiến dịch" not in shown, "the author can't"

    # The author cannot send it, nor approve it, even by posting the form directly.
    refused = await post(author, f"{location}/send")
    assert refused.headers["Location"].endswith("said=need_approval")
    refused = await post(author, f"{location}/approve")
    assert refused.headers["Location"].endswith("said=own")
    await asyncio.sleep(0.3)
    assert not received(telegram, zalo, meta), "nothing went out before the approval"

    # The second staff member sees the approve button and approves; then the author sends.
    assert "Duyệt chiến dịch" in await (await second.get(location)).text()
    approved = await post(second, f"{location}/approve")
    assert approved.headers["Location"].endswith("said=approved")
    sending = await post(author, f"{location}/send")
    assert sending.headers["Location"].endswith("said=sending")

    done = await until_done(author, campaign_id)
    assert done["percent"] == 100 and done["sent"] == 300 and done["uncertain"] == 0
    got = received(telegram, zalo, meta)
    assert len(got) == 300 and set(got.values()) == {1}, "everyone once, nobody twice"

    finished = await (await author.get(location)).text()
    assert 'data-reach="villages"' in finished and "Ấp Hòa Long" in finished
    xlsx = await author.get(f"{location}/reach.xlsx")
    assert xlsx.status == 200
    book = load_workbook(io.BytesIO(await xlsx.read()))
    channels = {row[0]: row[1:] for row in book["Theo kênh"].iter_rows(min_row=3, values_only=True)}
    assert channels["Telegram"][:2] == (100, 100) and channels["Zalo OA"][:3] == (101, 100, 1)
    villages = book["Theo thôn, ấp"]
    assert sum(row[2] for row in villages.iter_rows(min_row=3, values_only=True)) == 300
    async with engine.database.session() as session:
        actions = (await session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.target == f"campaign:{campaign_id}")
        )).all()  # fmt: skip
    assert ("Lê Văn Minh", "campaign", "approve: approved") in actions
    assert ("Trần Thị Lan", "export", "reach.xlsx") in actions


async def test_test_to_myself_goes_to_my_own_chat_or_says_there_is_none(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path)
    author, _ = await start(aiohttp_client, engine, settings)
    location = await draft(author)
    tested = await post(author, f"{location}/test")
    assert tested.headers["Location"].endswith("said=no_chat")
    page = await (await author.get(tested.headers["Location"])).text()
    assert "chưa gắn với kênh chat nào" in page
    async with engine.database.session() as session, session.begin():
        member = (await session.execute(
            select(StaffMember).where(StaffMember.name == "Trần Thị Lan")
        )).scalar_one()  # fmt: skip
        member.channel, member.chat_id = "telegram", "777"
    tested = await post(author, f"{location}/test")
    assert tested.headers["Location"].endswith("said=test_sent")
    assert TEXT in telegram.sent_to(777)[0].params["text"]
    async with engine.database.session() as session:
        state = (await session.execute(select(Campaign.state))).scalar_one()
    assert state == "draft", "a test is not the campaign"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_a_scheduled_campaign_fires_at_its_time_under_an_injected_clock(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    clock = FakeClock(NOW)
    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path,
                                      campaign_worker_seconds=0.1)  # fmt: skip
    await add_subscribers(engine.database, per_channel=10)
    author, _ = await start(aiohttp_client, engine, settings, clock)
    location = await draft(author)
    # In 90 minutes, typed in the centre's time zone (Asia/Ho_Chi_Minh, UTC+7): inside
    # Messenger's 24 hours after the subscribers last wrote, whatever the time of day the
    # test runs (08:00 tomorrow was outside it after 17:00 UTC).
    local = (NOW + timedelta(hours=7, minutes=90)).replace(second=0, microsecond=0)
    scheduled = await post(author, f"{location}/schedule", at=f"{local:%Y-%m-%dT%H:%M}")
    assert scheduled.headers["Location"].endswith("said=scheduled")
    async with engine.database.session() as session:
        at = (await session.execute(select(Campaign.scheduled_at))).scalar_one()
    assert at == (local - timedelta(hours=7)).replace(tzinfo=UTC)

    clock.now = at - timedelta(minutes=1)
    await asyncio.sleep(0.5)  # several worker ticks: a minute early, nothing goes
    assert not received(telegram, zalo, meta)
    assert (await progress(author, int(location.rsplit("/", 1)[1])))["state"] == "scheduled"

    clock.now = at + timedelta(seconds=1)
    done = await until_done(author, int(location.rsplit("/", 1)[1]))
    assert done["sent"] == 30 and sum(received(telegram, zalo, meta).values()) == 30


async def test_volunteers_get_403_on_every_campaign_page(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path)
    author, _ = await start(aiohttp_client, engine, settings)
    location = await draft(author)
    volunteer = await aiohttp_client(author.server)
    await add_account(engine.database, "mai", "volunteer", "Phạm Thị Mai")
    await login(volunteer, "mai")
    for path in ("/staff/campaigns", "/staff/campaigns/new", location,
                 f"{location}/progress.json", f"{location}/reach.xlsx"):  # fmt: skip
        assert (await volunteer.get(path, allow_redirects=False)).status == 403, path
    token = csrf_in(await (await volunteer.get("/staff/me")).text())
    for verb in ("approve", "send", "cancel"):
        answer = await volunteer.post(f"{location}/{verb}", data={"csrf": token},
                                      allow_redirects=False)  # fmt: skip
        assert answer.status == 403, verb


async def test_audience_by_hamlet_and_by_who_opened_a_guide_lately(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    from storage.models import MessageEvent

    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path)
    await add_subscribers(engine.database, per_channel=30)
    async with engine.database.session() as session, session.begin():
        # Three Telegram people opened the VNeID guide: two this week, one 40 days ago.
        for chat_id, days in (("1000", 2), ("1003", 5), ("1006", 40)):
            session.add(MessageEvent(at=NOW - timedelta(days=days), channel="telegram",
                                     chat_id=chat_id, direction="in", handler="guide",
                                     guide_id="vneid-cai-dat", step=1))  # fmt: skip
    author, _ = await start(aiohttp_client, engine, settings)
    page = await author.get("/staff/campaigns")
    token = csrf_in(await page.text())

    async def recipients(**fields: object) -> int:
        data = [("csrf", token), ("text", TEXT), *[
            (name, v) for name, value in fields.items()
            for v in (value if isinstance(value, list) else [value])
        ]]  # fmt: skip
        created = await author.post("/staff/campaigns/new", data=data, allow_redirects=False)
        assert created.status == 303, await created.text()
        shown = await (await author.get(created.headers["Location"])).text()
        return int(re.search(r"data-recipients>(\d+)<", shown).group(1))  # type: ignore[union-attr]

    assert await recipients() == 90
    assert await recipients(village=[VILLAGES[0]]) == 30  # chat ids ending 0, 3, 6, ...
    assert await recipients(village=[VILLAGES[0], VILLAGES[1]], channel="zalo") == 20
    assert await recipients(channel=["zalo", "messenger"]) == 60  # several channels at once
    assert await recipients(channel=["zalo", "messenger", "telegram"]) == 90
    again = await author.get(f"/staff/campaigns/new?copy={await newest_id(engine)}")
    assert len(re.findall(r'name="channel" value="[a-z_]+" checked', await again.text())) == 3
    refused = await author.post("/staff/campaigns/new",
                                data={"csrf": token, "text": TEXT, "channel": "fax"})  # fmt: skip
    assert refused.status == 400 and "Kênh đã chọn" in await refused.text()
    assert await recipients(opened_guide="vneid-cai-dat", opened_days="30") == 2
    assert await recipients(opened_guide="vneid-cai-dat", opened_days="60") == 3
    refused = await author.post("/staff/campaigns/new", data={"csrf": token, "text": " "})
    assert refused.status == 400 and "Chưa có nội dung tin nhắn" in await refused.text()


async def newest_id(engine: Engine) -> int:
    async with engine.database.session() as session:
        return (await session.execute(select(func.max(Campaign.id)))).scalar_one()


async def test_pause_resume_and_cancel_from_the_page(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings = three_channel_settings(
        engine.database.url, telegram, zalo, tmp_path, rate=20,
        campaign_worker_seconds=0.2, campaign_approval_over=1000,
    )  # fmt: skip
    await add_subscribers(engine.database, per_channel=40)
    author, _ = await start(aiohttp_client, engine, settings)
    location = await draft(author, channel="telegram")
    campaign_id = int(location.rsplit("/", 1)[1])
    await post(author, f"{location}/send")
    while (await progress(author, campaign_id))["sent"] < 5:
        await asyncio.sleep(0.1)
    paused = await post(author, f"{location}/pause")
    assert paused.headers["Location"].endswith("said=pause")
    await asyncio.sleep(1.0)  # the sends already on their way finish
    held = sum(received(telegram, zalo, meta).values())
    await asyncio.sleep(1.0)
    assert sum(received(telegram, zalo, meta).values()) == held < 40, "paused: nothing more"
    assert (await progress(author, campaign_id))["state"] == "paused"
    await post(author, f"{location}/resume")
    done = await until_done(author, campaign_id)
    assert done["sent"] == 40 and set(received(telegram, zalo, meta).values()) == {1}

    # A second campaign cancelled while waiting for its time: nobody gets it.
    second = (await post(author, "/staff/campaigns/new", text=TEXT + " (2)",
                         channel="telegram")).headers["Location"]  # fmt: skip
    await post(author, f"{second}/schedule", at="2099-01-01T08:00")
    cancelled = await post(author, f"{second}/cancel")
    assert cancelled.headers["Location"].endswith("said=cancel")
    assert "Đã huỷ" in await (await author.get(second)).text()


async def test_an_image_is_kept_only_if_it_is_a_real_picture_in_the_image_folder(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, zalo: FakeZalo, meta: FakeMeta,
    tmp_path: Path,
) -> None:  # fmt: skip
    from aiohttp import FormData
    from PIL import Image

    settings = three_channel_settings(engine.database.url, telegram, zalo, tmp_path)
    author, _ = await start(aiohttp_client, engine, settings)
    token = csrf_in(await (await author.get("/staff/campaigns")).text())

    async def create(image: bytes | None = None, kept: str = "") -> int:
        form = FormData()
        form.add_field("csrf", token)
        form.add_field("text", TEXT)
        form.add_field("kept_image", kept)
        if image is not None:
            form.add_field("image", image, filename="anh.png", content_type="image/png")
        return (await author.post("/staff/campaigns/new", data=form,
                                  allow_redirects=False)).status  # fmt: skip

    assert await create(b"not a picture") == 400
    assert await create(kept="/etc/passwd") == 303
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 0, 0)).save(picture, "PNG")
    assert await create(picture.getvalue()) == 303
    async with engine.database.session() as session:
        images = (await session.execute(select(Campaign.image).order_by(Campaign.id))).scalars()
        images = list(images)
    assert images[0] is None, "a path from the form is never taken as the image"
    assert images[1] and Path(images[1]).parent == (tmp_path / "images").resolve()
    assert await create(kept=images[1]) == 303  # "write a new one from this one" keeps it
    served = await author.get("/staff/campaigns/3/image")
    assert served.status == 200 and (await served.read()) == picture.getvalue()
