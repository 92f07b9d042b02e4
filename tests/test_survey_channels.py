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
    # A whole survey is some twenty taps in a row: more than the per-session burst allows a
    # test that does not wait (the limit itself is tested in test_web.py).
    settings = Settings(database_url=engine.database.url, web_chat_burst=100)
    return await aiohttp_client(create_app(settings, engine))


class WebPerson:
    """Somebody on the web chat page: what the page posts to /api/chat, and what came back."""

    def __init__(self, web: TestClient, session: str = "w1") -> None:
        self.client, self.session, self.replies = web, session, []

    async def post(self, **body: object) -> str:
        response = await self.client.post("/api/chat", json={"session": self.session, **body})
        assert response.status == 200, await response.text()
        self.replies = (await response.json())["replies"]
        return self.text

    async def say(self, text: str) -> str:
        return await self.post(text=text)

    async def press(self, label_start: str) -> str:
        for reply in self.replies:
            for button in reply["buttons"]:
                if button["label"].startswith(label_start) and "action" in button:
                    return await self.post(action=button["action"])
        raise AssertionError(f"no button {label_start!r} in {self.replies}")

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)


async def test_a_whole_survey_on_the_web_chat(web: TestClient, engine: Engine) -> None:
    """Skip, stop, continue later, a condition both ways, and a free-text answer whose ID
    number and OTP are stored redacted, through the page's JSON API."""
    await open_ky_nang_so(engine.database)
    person = WebPerson(web)
    await person.post(action=survey_action("ky-nang-so", "poster"))
    assert "KHẢO SÁT KỸ NĂNG SỐ" in person.text and "ẩn danh" in person.text
    assert person.replies[0]["buttons"][0] == {
        "label": "▶️ Bắt đầu", "action": "svb:ky-nang-so:poster",
    }  # fmt: skip
    assert (await person.press("▶️ Bắt đầu")).startswith("Câu 1/13")
    assert (await person.say("4")).startswith("Câu 2/13")  # the fourth button, typed
    assert (await person.press("Có")).startswith("Câu 3/13")
    # Can install VNeID with help: the VNeID level question (4) is asked.
    assert (await person.press("Làm được nếu")).startswith("Câu 4/13")
    assert (await person.say("bỏ qua")).startswith("Câu 5/13")
    assert "Đã dừng khảo sát" in await person.say("dừng")

    await person.say("xin chào")  # leaves for something else, comes back later
    resumed = await person.say("khảo sát")
    assert "đang làm dở" in resumed and "Câu 5/13" in resumed
    await person.press("Tự làm được")
    # Has never applied online: "how many times" (7) is not asked.
    assert (await person.press("Không")).startswith("Câu 8/13")
    await person.press("⏭ Bỏ qua")
    await person.press("Nhận ra ngay")
    await person.press("4")
    await person.say("2 3")
    assert person.text.startswith("Câu 12/13")
    typed = "CCCD 079123456789, mã OTP là 482913, nhờ cán bộ gọi lại"
    assert "Câu 13/13" in await person.say(typed)
    assert "Cảm ơn bạn đã trả lời" in await person.press("Ấp Bình Phú")
    assert "đã trả lời" in await person.say("khảo sát")  # once per round

    [response], answers = await stored(engine.database)
    assert response.channel == "web" and response.source == "poster"
    assert response.finished_at is not None and not response.stopped
    assert response.chat_id is None and response.village == "Ấp Bình Phú"
    assert {k: (a.choice, a.skipped) for k, a in answers.items() if k != "gop-y"} == {
        "tuoi": ("tu-60", False), "dien-thoai": ("co", False), "vneid": ("can-giup", False),
        "muc-2": (None, True), "dvc": ("tu-lam", False), "nop-truc-tuyen": ("khong", False),
        "thanh-toan": (None, True), "lua-dao": ("nhan-ra", False), "tu-tin": ("4", False),
        "muon-hoc": ("nop-ho-so|thanh-toan", False), "ap": ("Ấp Bình Phú", False),
    }  # fmt: skip
    assert answers["gop-y"].text == "CCCD [***], mã OTP là [***], nhờ cán bộ gọi lại"


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
