"""The web chat API and page through a real aiohttp server on loopback."""

import pytest
from aiohttp.test_utils import TestClient

from bot.app import SENDERS, create_app
from bot.channels.base import get_channel
from bot.engine import Engine
from bot.messages import Reply
from bot.settings import Settings


@pytest.fixture
async def client(aiohttp_client, engine: Engine) -> TestClient:
    settings = Settings(database_url=engine.database.url)
    return await aiohttp_client(create_app(settings, engine))


async def post(client: TestClient, **body: object) -> dict:
    response = await client.post("/api/chat", json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_guide_walked_through_the_json_api(client: TestClient) -> None:
    body = await post(client, session="s1", text="/start")
    assert "Xin chào" in body["replies"][0]["text"]
    assert body["replies"][0]["buttons"][0] == {"label": "🪪 VNeID", "action": "t:vneid"}
    body = await post(client, session="s1", text="cai vneid the nao")
    assert "Bước 1/3" in body["replies"][0]["text"]
    next_step = body["replies"][0]["buttons"][0]
    body = await post(client, session="s1", action=next_step["action"])
    assert "Bước 2/3" in body["replies"][0]["text"]


async def test_phone_buttons_are_rendered_as_phone_numbers(client: TestClient) -> None:
    body = await post(client, session="s2", text="bóng đá tối nay")
    buttons = body["replies"][0]["buttons"]
    assert {"label": "☎️ Gọi tổng đài", "phone": "0296 3 800 123"} in buttons


async def test_start_payload_from_a_link_opens_the_guide(client: TestClient) -> None:
    body = await post(client, session="s3", start="g_lua-dao-otp_poster")
    assert body["replies"][0]["text"].startswith("Không đưa mã OTP cho ai\nBước 1/2")


@pytest.mark.parametrize(
    "raw, why",
    [
        (b"{not json", "body must be JSON"),
        (b"\xff\xfe", "body must be JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (b'{"text": "hi"}', "session must be"),
        (b'{"session": "a b", "text": "hi"}', "session must be"),
        (b'{"session": "' + b"x" * 65 + b'", "text": "hi"}', "session must be"),
        (b'{"session": "s", "text": 5}', "text must be a string"),
        (b'{"session": "s", "action": ["menu"]}', "action must be a string"),
        (b'{"session": "s"}', "send text, action or start"),
    ],
)
async def test_malformed_requests_get_400_with_a_json_error(
    client: TestClient, raw: bytes, why: str
) -> None:
    response = await client.post(
        "/api/chat", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert why in (await response.json())["error"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a" * 10_000,
        "cài vneid " * 1000,
        "😀😀😀🙏",
        "\u200b\u200c\u200d\ufeff",
        "'; DROP TABLE contact; --",
        "<script>alert(1)</script>",
        "ca\u0300i vneid the\u0302\u0301 na\u0300o",  # decomposed tone marks (NFD)
        "\x00\x01\x02",
        "ｃａｉ ｖｎｅｉｄ",
    ],
)
async def test_odd_input_gets_a_polite_answer(client: TestClient, text: str) -> None:
    body = await post(client, session="odd", text=text)
    assert body["replies"] and body["replies"][0]["text"]
    assert body["replies"][0]["buttons"], "always something to tap next"


async def test_decomposed_tone_marks_find_the_guide(client: TestClient) -> None:
    body = await post(client, session="nfd", text="ca\u0300i vneid the\u0302\u0301 na\u0300o")
    assert "Cài ứng dụng VNeID" in body["replies"][0]["text"]


async def test_health_and_page_and_assets_are_served_by_the_app(client: TestClient) -> None:
    health = await client.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200 and 'lang="vi"' in html
    assert "http://" not in html and "https://" not in html, "no external CDN"
    for asset in ("/static/app.js", "/static/app.css"):
        assert (await client.get(asset)).status == 200


async def test_a_script_flooding_the_chat_is_slowed_politely_and_a_person_is_not(
    aiohttp_client, engine: Engine
) -> None:
    settings = Settings(database_url=engine.database.url, web_chat_burst=5, address_burst=12)
    client = await aiohttp_client(create_app(settings, engine))
    statuses = []
    for _ in range(8):
        response = await client.post("/api/chat", json={"session": "flood", "text": "menu"})
        statuses.append(response.status)
    assert statuses == [200] * 5 + [429] * 3
    body = await response.json()
    assert int(response.headers["Retry-After"]) >= 1
    assert "gửi nhanh quá" in body["replies"][0]["text"], "the page shows a kind line"

    # Another person on the same network still gets answers, until the address's own bucket
    # (a whole office behind one address) runs out too.
    response = await client.post("/api/chat", json={"session": "neighbour", "text": "menu"})
    assert response.status == 200
    for n in range(5):
        await client.post("/api/chat", json={"session": f"other-{n}", "text": "menu"})
    response = await client.post("/api/chat", json={"session": "late", "text": "menu"})
    assert response.status == 429


async def test_a_message_sent_again_with_its_id_is_answered_once(
    client: TestClient, engine: Engine
) -> None:
    from sqlalchemy import func, select

    from storage.models import MessageEvent

    first = await post(client, session="s9", text="cai vneid the nao", id="m-1")
    again = await post(client, session="s9", text="cai vneid the nao", id="m-1")
    assert again == first and "Bước 1/3" in first["replies"][0]["text"]
    nxt = await post(
        client, session="s9", action=first["replies"][0]["buttons"][0]["action"], id="m-2"
    )
    assert "Bước 2/3" in nxt["replies"][0]["text"]
    async with engine.database.session() as session:
        count = select(func.count()).select_from(MessageEvent).where(MessageEvent.direction == "in")
        assert (await session.execute(count)).scalar_one() == 2, "one turn per message id"
    response = await client.post("/api/chat", json={"session": "s9", "text": "x", "id": "a b"})
    assert response.status == 400


async def test_a_message_for_a_web_page_waits_in_its_history(
    client: TestClient, engine: Engine
) -> None:
    """A staff answer or a notice from another process: the web channel's own sender."""
    assert "web" in client.app[SENDERS]  # registered by the web channel itself
    web = get_channel("web")
    assert web is not None
    sender = web.make_sender(Settings(database_url=engine.database.url))
    assert sender is not None
    try:
        await sender.send("s9", [Reply("Phiếu PA-2026-000001 đã có trả lời.")])
    finally:
        await sender.close()
    history = await (await client.get("/api/chat/history?session=s9")).json()
    assert [m["text"] for m in history["messages"]] == ["Phiếu PA-2026-000001 đã có trả lời."]
