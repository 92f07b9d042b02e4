"""The console's outreach pages against the CLI they replace: reports (`troly report`),
posters (`troly poster`), volunteers' links (`troly volunteer links`) and the guide library's
question tester (`troly ask --json`)."""

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from html import escape, unescape
from pathlib import Path

import pytest
import yaml
from aiohttp import FormData
from openpyxl import load_workbook
from sqlmodel import select

from bot.app import create_app
from bot.asked import read_batch
from bot.console.security import hash_password
from bot.engine import Engine
from bot.posters import read_procedures
from bot.reports.summary import FIGURE_NAMES
from storage.accounts import create_account
from storage.models import AuditEvent, Contact, StaffMember
from tests.conftest import FIXTURE_LIBRARY, ROOT
from tests.console_helpers import (
    PASSWORD,
    SECRET,
    TelegramCitizen,
    add_account,
    csrf_in,
    login,
    page_csrf,
    telegram_settings,
)
from tests.fake_telegram import FakeTelegram
from tests.test_posters import BOT, ZALO, read_pdf, scan_png, telegram_link
from tests.test_reports import seed

FIGURE = re.compile(r'data-figure="(\w+)">([^<]*)<')
BEFORE = re.compile(r'data-before="(\w+)">([^<]*)<')


@pytest.fixture
async def telegram() -> FakeTelegram:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def client(aiohttp_client, engine: Engine, telegram: FakeTelegram, tmp_path: Path):
    settings = telegram_settings(
        engine.database.url, telegram, poster_cache_dir=tmp_path / "posters"
    )
    app = create_app(settings, engine)
    client = await aiohttp_client(app)
    await add_account(engine.database, "lan", "staff", "Trần Thị Lan")
    await login(client, "lan")
    return client


def troly(
    engine: Engine, tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The `troly` command on the test's own SQLite file and library, as a real process."""
    environment = {
        **os.environ,
        "DATABASE_URL": "sqlite:///" + engine.database.url.split(":///", 1)[1],
        "CONTENT_DIR": str(FIXTURE_LIBRARY),
        "PYTHONPATH": str(ROOT),
    }
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=environment, cwd=tmp_path, timeout=60, input=stdin)  # fmt: skip


def figure(shown: str) -> float | None:
    """A figure as the page shows it (66,7; — for none), as a number."""
    return None if shown == "—" else float(shown.replace(",", "."))


async def test_report_page_equals_the_cli_for_a_seeded_month(
    client, engine: Engine, aiohttp_client, tmp_path: Path
) -> None:
    await seed(engine.database)
    cli = troly(engine, tmp_path, "report", "month", "--period", "2026-11",
                "--xlsx", str(tmp_path / "cli.xlsx"))  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    cli_sheet = load_workbook(tmp_path / "cli.xlsx")["Tổng hợp"]
    cli_figures = {name: value for name, value in cli_sheet.iter_rows(min_row=2, values_only=True)}

    response = await client.get("/staff/reports?kind=month&period=2026-11")
    assert response.status == 200
    page = await response.text()
    assert "Tháng 11/2026" in page
    shown = dict(FIGURE.findall(page))
    assert set(shown) == set(FIGURE_NAMES)
    for key, name in FIGURE_NAMES.items():
        assert figure(shown[key]) == (None if cli_figures[name] == "—" else cli_figures[name])
    assert shown["sessions"] == "4" and shown["satisfaction_percent"] == "66,7"
    # October had one session: November's four are an increase, shown with an arrow up.
    assert dict(BEFORE.findall(page))["sessions"] == "1"
    assert 'class="trend up"><span aria-label="tăng">▲' in page
    # The summary to paste is what the CLI printed; two charts drawn on the page.
    summary = unescape(page.split("readonly>", 1)[1].split("</textarea>", 1)[0])
    assert summary.strip() == cli.stdout.split("\nXLSX:", 1)[0].strip()
    assert page.count('src="data:image/png;base64,') == 2

    download = await client.get("/staff/reports/xlsx?kind=month&period=2026-11")
    assert download.status == 200
    assert "bao-cao-thang-2026-11-01.xlsx" in download.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(await download.read()))
    expected = load_workbook(tmp_path / "cli.xlsx")
    assert workbook.sheetnames == expected.sheetnames
    for name in expected.sheetnames:
        assert list(workbook[name].values) == list(expected[name].values), name

    # A week, and a period that cannot be read (falls back, says so).
    week = await (await client.get("/staff/reports?kind=week&period=2026-W45")).text()
    assert "Tuần 45/2026" in week
    bad = await (await client.get("/staff/reports?kind=month&period=tháng-mười")).text()
    assert 'role="alert"' in bad

    volunteer = await aiohttp_client(client.server)
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    await login(volunteer, "tv05")
    assert (await volunteer.get("/staff/reports")).status == 403
    assert (await volunteer.get("/staff/reports/xlsx?kind=month&period=2026-11")).status == 403


async def test_a_poster_pdf_downloads_and_its_qr_opens_the_guide(
    client, engine: Engine, aiohttp_client, tmp_path: Path
) -> None:
    page = await (await client.get("/staff/posters?show=vneid-cai-dat")).text()
    assert "Cài ứng dụng VNeID" in page and "preview.png?poster=vneid-cai-dat&amp;large=0" in page
    preview = await client.get("/staff/posters/preview.png?poster=vneid-cai-dat&large=0")
    assert preview.status == 200 and (await preview.read()).startswith(b"\x89PNG")

    for large, name in ((0, "vneid-cai-dat.pdf"), (1, "vneid-cai-dat-large.pdf")):
        response = await client.get(
            f"/staff/posters/download?poster=vneid-cai-dat&large={large}&format=pdf"
        )
        assert response.status == 200 and response.content_type == "application/pdf"
        assert name in response.headers["Content-Disposition"]
        path = tmp_path / name
        path.write_bytes(await response.read())
        [(codes, text)] = read_pdf(path)
        assert sorted(codes) == sorted([telegram_link(BOT, "vneid-cai-dat", "poster"), ZALO])
        assert "VNeID" in text

    counter = await client.get("/staff/posters/download?poster=counter&format=png")
    assert counter.status == 200 and counter.content_type == "image/png"
    (tmp_path / "quay.png").write_bytes(await counter.read())
    counter_links = sorted([f"https://t.me/{BOT}?start=poster", ZALO])
    assert scan_png(tmp_path / "quay.png") == counter_links
    assert (await client.get("/staff/posters/download?poster=khong-co")).status == 404

    volunteer = await aiohttp_client(client.server)
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    await login(volunteer, "tv05")
    assert (await volunteer.get("/staff/posters")).status == 403
    assert (await volunteer.get("/staff/posters/download?poster=counter")).status == 403


async def volunteer_login(engine: Engine, login_name: str, name: str, code: str) -> int:
    """A volunteer with a share-link code and a console login; returns their staff id."""
    async with engine.database.session() as session, session.begin():
        member = StaffMember(name=name, role="volunteer", code=code, created_at=datetime.now(UTC))
        session.add(member)
        await session.flush()
        await create_account(session, name=name, login=login_name, role="volunteer",
                             password_hash=hash_password(PASSWORD), now=datetime.now(UTC),
                             member=member)  # fmt: skip
        return member.id or 0


async def test_volunteers_ranked_and_a_volunteer_sees_only_their_own(
    client, engine: Engine, telegram: FakeTelegram, aiohttp_client, tmp_path: Path
) -> None:
    tu = await volunteer_login(engine, "tu", "Lê Văn Tư", "TV05")
    hoa = await volunteer_login(engine, "hoa", "Lê Thị Hoa", "TV07")
    # Three people come through Tư's links this month (one stops the messages), one through
    # Hoa's; one person came through Tư's link last year (counted only "from the start").
    for chat_id, payload in ((5551, "g_vneid-cai-dat_TV05"), (5552, "g_lua-dao-otp_TV05"),
                             (5553, "TV05"), (5554, "g_vneid-cai-dat_TV07")):  # fmt: skip
        await TelegramCitizen(client, telegram, chat_id).say(f"/start {payload}")
    await TelegramCitizen(client, telegram, 5553).say("/dunglai")
    async with engine.database.session() as session, session.begin():
        long_ago = datetime(2025, 3, 1, tzinfo=UTC)
        session.add(Contact(channel="telegram", chat_id="5550", first_seen=long_ago,
                            last_seen=long_ago, referral="TV05"))  # fmt: skip

    listing = await (await client.get("/staff/volunteers")).text()
    assert listing.index("Lê Văn Tư") < listing.index("Lê Thị Hoa")  # ranked
    assert 'data-people="TV05">3 người mới' in listing
    assert 'data-people="TV07">1 người mới' in listing
    staff_view = await (await client.get(f"/staff/volunteers/{tu}")).text()
    assert 'id="fig-people">3<' in staff_view and 'id="fig-total">4<' in staff_view
    assert 'id="fig-opened">2<' in staff_view and 'id="fig-subscribed">2<' in staff_view
    # The all-time figure is the CLI's.
    cli = troly(engine, tmp_path, "volunteer", "links", "TV05")
    assert cli.returncode == 0, cli.stderr
    assert "Lê Văn Tư (TV05): 4 people reached, 2 guides opened" in cli.stdout

    volunteer = await aiohttp_client(client.server)
    await login(volunteer, "tu")
    own = await (await volunteer.get("/staff/me")).text()
    assert "<h1>Lê Văn Tư</h1>" in own and 'id="fig-people">3<' in own
    link = f"https://t.me/{BOT}?start=g_vneid-cai-dat_TV05"
    assert f'value="{link}"' in own and "Rồi gõ: <b>#11 TV05</b>" in own
    assert (await volunteer.get(f"/staff/volunteers/{tu}")).status == 200
    qr = await volunteer.get(f"/staff/volunteers/{tu}/qr.png?guide=vneid-cai-dat&channel=telegram")
    assert qr.status == 200
    (tmp_path / "qr.png").write_bytes(await qr.read())
    assert scan_png(tmp_path / "qr.png") == [link]
    for path in (f"/staff/volunteers/{hoa}", f"/staff/volunteers/{hoa}/qr.png?channel=telegram",
                 "/staff/volunteers"):  # fmt: skip
        response = await volunteer.get(path)
        assert response.status == 403, path
        assert "Lê Thị Hoa" not in await response.text()


QUESTIONS = ["cai vneid the nao", "Kích hoạt tài khoản định danh", "ai hỏi mã otp",
             "giá vàng hôm nay", "vneid", "cài  VNEID  mức 2???"]  # fmt: skip


async def test_the_question_tester_agrees_with_troly_ask_json(
    client, engine: Engine, telegram: FakeTelegram, aiohttp_client, tmp_path: Path
) -> None:
    cli = troly(engine, tmp_path, "ask", "--jsonl", stdin="\n".join(QUESTIONS) + "\n")
    assert cli.returncode == 0, cli.stderr
    expected = [json.loads(line) for line in cli.stdout.splitlines()]
    assert {e["outcome"] for e in expected} >= {"answer", "unknown"}
    for question, wanted in zip(QUESTIONS, expected, strict=True):
        response = await client.get("/staff/guides/ask.json", params={"q": question})
        assert await response.json() == wanted, question
        page = await (await client.get("/staff/guides", params={"q": question})).text()
        assert f'data-outcome="{wanted["outcome"]}"' in page
        for result in wanted["results"]:
            assert f'data-score="{result["id"]}">{result["score"]}<' in page

    # The library with its use: a citizen opens a guide, the page counts it.
    await TelegramCitizen(client, telegram, 5561).say("/start g_vneid-cai-dat")
    listing = await (await client.get("/staff/guides")).text()
    assert 'data-opened="vneid-cai-dat">1 lượt mở' in listing
    assert 'data-opened="lua-dao-otp">0 lượt mở' in listing
    guide = engine.library.guides["vneid-cai-dat"]
    page = await (await client.get("/staff/guides/vneid-cai-dat")).text()
    assert 'id="fig-opened">1<' in page
    for number, step in enumerate(guide.steps, 1):
        assert f"Bước {number}/{len(guide.steps)}" in page and escape(step.title) in page
    assert escape(guide.source) in page
    assert (await client.get("/staff/guides/khong-co")).status == 404

    volunteer = await aiohttp_client(client.server)
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    await login(volunteer, "tv05")
    assert (await volunteer.get("/staff/guides")).status == 403
    assert (await volunteer.get("/staff/guides/ask.json?q=vneid")).status == 403


CHECK = re.compile(
    r'<li class="check \w+"><span class="status">(\w+)</span> <b>([^<]*)</b>: '
    r'<span class="detail">([^<]*)</span></li>'
)


def same_minute(lines: list[str]) -> list[str]:
    """The time zone check prints the time: the page and the CLI may be a minute apart."""
    return [re.sub(r"now \d\d:\d\d", "now HH:MM", line) for line in lines]


async def test_settings_runs_the_checks_of_troly_doctor(
    aiohttp_client, engine: Engine, telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = telegram_settings(engine.database.url, telegram, content_dir=FIXTURE_LIBRARY)
    admin = await aiohttp_client(create_app(settings, engine))
    await add_account(engine.database, "lan", "admin", "Trần Thị Lan")
    await login(admin, "lan")
    page = await (await admin.get("/staff/settings")).text()
    assert "Trung tâm Phục vụ hành chính công xã Hòa An" in page and "Ấp Bình Phú" in page
    token = csrf_in(page)
    assert (await admin.post("/staff/settings/doctor", data={"csrf": "forged"})).status == 403
    response = await admin.post("/staff/settings/doctor", data={"csrf": token})
    assert response.status == 200
    shown = [f"{s:<4}  {n}: {unescape(d)}" for s, n, d in CHECK.findall(await response.text())]

    # `troly doctor` as a process, while this event loop goes on serving the fake Telegram.
    environment = {**os.environ, "DATABASE_URL": "sqlite:///" + engine.database.url.split(":///")[1],
                   "CONTENT_DIR": str(FIXTURE_LIBRARY), "PYTHONPATH": str(ROOT),
                   "TELEGRAM_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.base_url,
                   "TELEGRAM_SECRET": SECRET}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor", env=environment, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    expected = out.decode().splitlines()
    assert shown and same_minute(shown) == same_minute(expected), err.decode()
    assert any(line.startswith("OK    telegram: token works") for line in shown)

    staff = await aiohttp_client(admin.server)
    await add_account(engine.database, "binh", "staff")
    await login(staff, "binh")
    assert (await staff.get("/staff/settings")).status == 403
    staff_token = csrf_in(await (await staff.get("/staff/")).text())
    assert (await staff.post("/staff/settings/doctor", data={"csrf": staff_token})).status == 403


async def add(client, token: str, **fields: str):
    """The "Thêm tình nguyện viên" form, posted."""
    data = {"csrf": token, **fields}
    return await client.post("/staff/volunteers", data=data, allow_redirects=False)


async def test_staff_add_a_volunteer_and_a_code_is_never_taken_twice(
    client, engine: Engine, aiohttp_client
) -> None:
    token = await page_csrf(client, "/staff/volunteers")
    added = await add(client, token, name="  Lê   Thị Hoa ", code="tv07")
    assert added.status == 303 and added.headers["Location"].endswith("?notice=added")
    page = await (await client.get(added.headers["Location"])).text()
    assert "<h1>Lê Thị Hoa</h1>" in page and "<b>TV07</b>" in page
    assert f"https://t.me/{BOT}?start=g_vneid-cai-dat_TV07" in page
    taken = await add(client, token, name="Người khác", code="TV07")
    assert taken.headers["Location"] == "/staff/volunteers?notice=taken"
    for bad in ({"name": "", "code": "TV08"}, {"name": "Ai đó", "code": "TV 08"},
                {"name": "Ai đó", "code": "Tư05"}):  # fmt: skip
        refused = await add(client, token, **bad)
        assert refused.headers["Location"] == "/staff/volunteers?notice=invalid", bad
    async with engine.database.session() as session:
        members = (await session.execute(select(StaffMember))).scalars().all()
        audited = (await session.execute(select(AuditEvent))).scalars().all()
    assert [(m.name, m.code, m.role) for m in members if m.code] == [
        ("Lê Thị Hoa", "TV07", "volunteer")
    ]
    assert [(a.action, a.detail) for a in audited if a.action == "volunteer"] == [
        ("volunteer", "TV07 Lê Thị Hoa")
    ]

    volunteer = await aiohttp_client(client.server)
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    await login(volunteer, "tv05")
    own_token = await page_csrf(volunteer, "/staff/me")
    denied = await add(volunteer, own_token, name="X", code="TV09")
    assert denied.status == 403


async def test_procedure_sheet_from_an_uploaded_csv_reports_bad_rows_by_line(
    client, engine: Engine, aiohttp_client, tmp_path: Path
) -> None:
    csv_path = ROOT / "tests" / "data" / "procedures_mixed.csv"
    token = await page_csrf(client, "/staff/posters")
    upload = FormData()
    upload.add_field("csrf", token)
    upload.add_field("csv", csv_path.read_bytes(), filename="thu-tuc.csv", content_type="text/csv")
    response = await client.post("/staff/posters/procedures", data=upload)
    assert response.status == 200
    page = await response.text()
    assert re.findall(r'<tr data-line="(\d+)">', page) == ["3", "4", "5", "10", "11"]
    assert "thiếu đường dẫn" in page and "thiếu tên thủ tục" in page
    assert "Đã tạo bảng 3 thủ tục, 1 trang" in page
    pdf_link = re.search(r'href="(/staff/posters/sheet/[\w-]+\.pdf)"', page).group(1)
    download = await client.get(pdf_link)
    assert download.status == 200 and download.content_type == "application/pdf"
    (tmp_path / "tthc.pdf").write_bytes(await download.read())
    [(codes, text)] = read_pdf(tmp_path / "tthc.pdf")
    good, _ = read_procedures(csv_path)
    assert sorted(codes) == sorted(p.url for p in good)
    assert "Chứng thực bản sao từ bản chính" in text and "Đăng ký kết hôn" not in text
    preview = await client.get(pdf_link.replace(".pdf", ".png") + "?view=1")
    assert preview.status == 200 and (await preview.read()).startswith(b"\x89PNG")
    assert (await client.get("/staff/posters/sheet/..%2F..%2Fsecret.pdf")).status == 404

    nothing = FormData()
    nothing.add_field("csrf", token)
    nothing.add_field("csv", b"name,url\nChi co ten,\n", filename="x.csv", content_type="text/csv")
    empty = await (await client.post("/staff/posters/procedures", data=nothing)).text()
    assert "Không có dòng nào dùng được" in empty and '<tr data-line="2">' in empty

    volunteer = await aiohttp_client(client.server)
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    await login(volunteer, "tv05")
    assert (await volunteer.get(pdf_link)).status == 403


async def finished(client, location: str) -> int:
    """Wait for the ZIP job the redirect names; returns how many posters it drew."""
    job = re.search(r"job=([\w-]+)#all", location).group(1)
    for _ in range(240):
        state = await (await client.get(f"/staff/posters/all/{job}.json")).json()
        if state["state"] != "running":
            return state["done"]
        await asyncio.sleep(0.25)
    raise AssertionError("the ZIP never finished")


async def test_every_poster_as_one_zip_with_its_progress(
    client, engine: Engine, aiohttp_client, tmp_path: Path
) -> None:
    token = await page_csrf(client, "/staff/posters")
    started = await client.post("/staff/posters/all", allow_redirects=False,
                                data={"csrf": token, "format": "pdf"})  # fmt: skip
    assert started.status == 303
    job = re.search(r"job=([\w-]+)#all", started.headers["Location"]).group(1)
    states = []
    for _ in range(240):
        state = await (await client.get(f"/staff/posters/all/{job}.json")).json()
        states.append(state["done"])
        if state["state"] == "done":
            break
        await asyncio.sleep(0.25)
    total = len(engine.library.guides) + 1
    assert state == {"state": "done", "done": total, "total": total, "failed": [], "format": "pdf"}
    assert states == sorted(states)
    page = await (await client.get(started.headers["Location"])).text()
    assert f'href="/staff/posters/all/{job}.zip"' in page
    download = await client.get(f"/staff/posters/all/{job}.zip")
    assert download.status == 200 and download.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(await download.read())) as archive:
        names = sorted(archive.namelist())
        (tmp_path / "lua-dao-otp.pdf").write_bytes(archive.read("lua-dao-otp.pdf"))
    assert names == sorted(["counter.pdf"] + [f"{g}.pdf" for g in engine.library.guides])
    [(codes, _)] = read_pdf(tmp_path / "lua-dao-otp.pdf")
    assert telegram_link(BOT, "lua-dao-otp", "poster") in codes
    assert (await client.get("/staff/posters/all/not-a-token.json")).status == 404
    # A day later, the next ZIP asked for clears the old one away.
    old_job = tmp_path / "posters" / "zips" / job
    os.utime(old_job, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    again = await client.post("/staff/posters/all", allow_redirects=False,
                              data={"csrf": token, "format": "png"})  # fmt: skip
    assert not old_job.exists()
    assert await finished(client, again.headers["Location"]) == total
    assert (await client.get(f"/staff/posters/all/{job}.zip")).status == 404

    volunteer = await aiohttp_client(client.server)
    await add_account(engine.database, "tv05", "volunteer", "Lê Văn Tư")
    await login(volunteer, "tv05")
    assert (await volunteer.get(f"/staff/posters/all/{job}.zip")).status == 403


async def test_questions_without_a_guide_grouped_and_suggested_as_sample_questions(
    client, engine: Engine, telegram: FakeTelegram, aiohttp_client, tmp_path: Path
) -> None:
    asked = [(5571, "giá vàng hôm nay"), (5572, "Gia vang hom nay?"), (5573, "giá vàng hôm nay"),
             (5574, "hôm nay giá vàng bao nhiêu"), (5575, "xe buýt mấy giờ chạy")]  # fmt: skip
    for chat_id, text in asked:
        await TelegramCitizen(client, telegram, chat_id).say(text)
    page = await (await client.get("/staff/guides")).text()
    groups = re.findall(r'<li class="group">\s*<p><b>([^<]*)</b> <span class="tag" '
                        r"data-group-count>(\d+) lần", page)  # fmt: skip
    assert groups == [("giá vàng hôm nay", "4"), ("xe buýt mấy giờ chạy", "1")]
    assert "“Gia vang hom nay?” (1)" in page

    token = await page_csrf(client, "/staff/guides")
    done = await client.post("/staff/guides/suggest", allow_redirects=False, data={
        "csrf": token, "question": "xe buýt mấy giờ chạy", "guide": "vneid-cai-dat"})  # fmt: skip
    assert done.headers["Location"] == "/staff/guides?notice=suggested#unknown"
    bad = await client.post("/staff/guides/suggest", allow_redirects=False,
                            data={"csrf": token, "question": "x", "guide": "khong-co"})  # fmt: skip
    assert "notice=invalid" in bad.headers["Location"]
    assert (await client.get("/staff/guides/suggestions.yaml")).status == 403  # staff, not admin

    admin = await aiohttp_client(client.server)
    await add_account(engine.database, "an", "admin", "Phan Văn An")
    await login(admin, "an")
    response = await admin.get("/staff/guides/suggestions.yaml")
    assert response.status == 200
    items = yaml.safe_load(await response.text())
    assert [(i["guide"], i["question"], i["by"]) for i in items] == [
        ("vneid-cai-dat", "xe buýt mấy giờ chạy", "Trần Thị Lan")
    ]
    # The same, as a batch the matcher learns from once saved in content/asked/.
    assert (await client.get("/staff/guides/suggestions.tsv")).status == 403
    batch = await admin.get("/staff/guides/suggestions.tsv")
    saved = tmp_path / "asked.tsv"
    saved.write_text(await batch.text(), encoding="utf-8")
    assert read_batch(saved) == [("xe buýt mấy giờ chạy", "vneid-cai-dat")]
