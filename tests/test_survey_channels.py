"""A survey on real channels: the fake Telegram Bot API and the web chat's JSON API (the fake
Zalo Bot Platform is in test_survey_zalo.py); plus the links that open a survey."""

from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.app import create_app
from bot.engine import Engine
from bot.links import parse_start_payload
from bot.settings import Settings
from bot.surveys.definitions import load_surveys
from bot.surveys.links import (
    parse_survey_payload,
    survey_action,
    survey_code_text,
    survey_links,
    survey_payload,
)
from storage.db import Database
from storage.models import SurveyAnswer, SurveyResponse
from storage.surveys import open_round
from tests.conftest import FULL_LIBRARY
from tests.test_telegram import Citizen, citizen, client, naps, telegram, texts  # noqa: F401

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def open_ky_nang_so(database: Database) -> None:
    async with database.session() as session, session.begin():
        await open_round(session, "ky-nang-so", "Khảo sát kỹ năng số", NOW)


async def stored(database: Database) -> tuple[list[SurveyResponse], dict[str, SurveyAnswer]]:
    async with database.session() as session:
        responses = list((await session.execute(select(SurveyResponse))).scalars())
        answers = {
            a.question_id: a for a in (await session.execute(select(SurveyAnswer))).scalars()
        }
    return responses, answers


async def test_on_telegram_with_inline_buttons(citizen: Citizen, engine: Engine) -> None:  # noqa: F811
    await open_ky_nang_so(engine.database)
    sent = await citizen.say("#KS1 TV05")
    assert "KHẢO SÁT KỸ NĂNG SỐ" in texts(sent)
    await citizen.press("▶️ Bắt đầu")
    question = citizen.telegram.sent_to(citizen.chat_id)[-1]
    assert question.params["text"].startswith("Câu 1/13")
    assert all(len(row) == 1 for row in question.keyboard)  # one big button per row
    await citizen.press("Từ 45")
    await citizen.press("Không")  # no smartphone: the phone questions are skipped
    assert citizen.last_text.startswith("Câu 6/13")
    await citizen.say("dừng")
    assert "Đã dừng khảo sát" in citizen.last_text
    await citizen.press("▶️ Làm tiếp")
    assert "Câu 6/13" in citizen.last_text
    await citizen.press("Có")
    sent = await citizen.say("3")  # a number question has no keyboard: 3 is the answer
    assert citizen.last_text.startswith("Câu 9/13")
    for _ in range(3):
        await citizen.press("⏭ Bỏ qua")
    assert citizen.last_text.startswith("Câu 12/13")
    await citizen.say("Số căn cước 0791 2345 6789 của tôi bị khoá")
    await citizen.press("Ấp Bình Phú")
    assert "Cảm ơn bạn đã trả lời" in citizen.last_text
    [response], answers = await stored(engine.database)
    assert response.channel == "telegram" and response.source == "TV05"
    assert response.village == "Ấp Bình Phú"
    assert answers["so-lan-nop"].number == 3
    assert answers["gop-y"].text == "Số căn cước [***] của tôi bị khoá"


@pytest.fixture
async def web(aiohttp_client, engine: Engine) -> TestClient:
    return await aiohttp_client(create_app(Settings(database_url=engine.database.url), engine))


async def post(web: TestClient, **body: object) -> dict:
    response = await web.post("/api/chat", json=body)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_on_the_web_chat_api(web: TestClient, engine: Engine) -> None:
    await open_ky_nang_so(engine.database)
    body = await post(web, session="w1", action=survey_action("ky-nang-so", "poster"))
    begin = body["replies"][0]["buttons"][0]
    assert begin == {"label": "▶️ Bắt đầu", "action": "svb:ky-nang-so:poster"}
    body = await post(web, session="w1", action=begin["action"])
    assert body["replies"][0]["text"].startswith("Câu 1/13")
    body = await post(web, session="w1", text="4")
    assert body["replies"][0]["text"].startswith("Câu 2/13")
    [response], answers = await stored(engine.database)
    assert response.channel == "web" and response.source == "poster"
    assert answers["tuoi"].choice == "tu-60"


def test_links_that_open_a_survey(full_library) -> None:
    survey = load_surveys(FULL_LIBRARY, full_library.profile)["hai-long"]
    payload = survey_payload(survey.id, "TV05")
    assert payload == "s_hai-long_TV05"
    assert parse_survey_payload(payload) == ("hai-long", "TV05")
    assert parse_survey_payload("s_hai-long") == ("hai-long", None)
    assert parse_survey_payload("g_vneid-cai-dat_poster") is None
    assert parse_start_payload(payload) == (None, None)  # guides never take it for theirs
    assert survey_code_text(survey, "TV05") == "#KS2 TV05"
    links = {link.channel: link for link in survey_links(full_library, survey, "poster")}
    assert links["telegram"].url.endswith("?start=s_hai-long_poster")
    assert links["zalo"].text_to_type == "#KS2 poster"
    with pytest.raises(ValueError):
        survey_payload(survey.id, "bad_tag")
