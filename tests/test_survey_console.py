"""/staff/surveys/<id>: the free-text answers staff read there are the redacted ones."""

from aiohttp.test_utils import TestClient

from bot.engine import Engine
from tests.conftest import Chat
from tests.test_console_surveys import console, post


async def test_the_results_page_lists_free_text_redacted(aiohttp_client, engine: Engine) -> None:
    client: TestClient = await console(aiohttp_client, engine)
    assert await post(client, "/staff/surveys/ky-nang-so/open") == 303
    chat = Chat(engine, "web", "citizen-text")
    await chat.say("#KS1")
    await chat.press("▶️ Bắt đầu")
    while not chat.text.startswith("Câu 12/13"):
        await chat.say("bỏ qua")
    await chat.say("số CCCD 079123456789, xin gọi lại giúp")
    page = await (await client.get("/staff/surveys/ky-nang-so")).text()
    assert "<h2>Ý kiến</h2>" in page
    assert "số CCCD [***], xin gọi lại giúp" in page
    assert "079123456789" not in page


async def test_the_xlsx_download_leaves_no_file_behind(
    aiohttp_client, engine: Engine, tmp_path, monkeypatch
) -> None:
    import io
    import tempfile

    from openpyxl import load_workbook

    client: TestClient = await console(aiohttp_client, engine)
    assert await post(client, "/staff/surveys/ky-nang-so/open") == 303
    chat = Chat(engine, "web", "citizen-x")
    await chat.say("#KS1")
    await chat.press("▶️ Bắt đầu")
    await chat.say("2")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for _ in range(2):
        response = await client.get("/staff/surveys/ky-nang-so/1.xlsx")
        assert response.status == 200
        assert response.content_type.endswith("spreadsheetml.sheet")
        assert "khao-sat-ky-nang-so-dot-1.xlsx" in response.headers["Content-Disposition"]
        workbook = load_workbook(io.BytesIO(await response.read()))
        summary = dict(workbook["Tổng hợp"].iter_rows(min_row=2, max_col=2, values_only=True))
        assert summary["Số phiếu"] == 1
    assert list(scratch.iterdir()) == []
    for missing in ("2", "0", "x"):  # no such round: never the latest one instead
        assert (await client.get(f"/staff/surveys/ky-nang-so/{missing}.xlsx")).status == 404
