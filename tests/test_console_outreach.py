"""The console's outreach pages against the CLI they replace: reports (`troly report`),
posters (`troly poster`)."""

import io
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import create_app
from bot.engine import Engine
from bot.reports.summary import FIGURE_NAMES
from tests.conftest import FIXTURE_LIBRARY, ROOT
from tests.console_helpers import add_account, login, telegram_settings
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


def troly(engine: Engine, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `troly` command on the test's own SQLite file and library, as a real process."""
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite:///" + engine.database.url.split(":///", 1)[1],
        "CONTENT_DIR": str(FIXTURE_LIBRARY),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)  # fmt: skip


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
