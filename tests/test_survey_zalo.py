"""A survey on the fake Zalo Bot Platform: no buttons, numbered text, typing the numbers."""

from bot.engine import Engine
from tests.test_survey_channels import open_ky_nang_so, stored
from tests.test_zalo_bot import Person, bot_engine, client, person, zalo  # noqa: F401


async def test_on_zalo_bot_by_typing_numbers(person: Person, bot_engine: Engine) -> None:  # noqa: F811
    await open_ky_nang_so(bot_engine.database)
    sent = await person.say("khảo sát")
    assert "  1. ▶️ Bắt đầu" in sent
    sent = await person.say("1")
    assert "Câu 1/13" in sent and "  1. Dưới 30 tuổi" in sent and "  5. ⏭ Bỏ qua" in sent
    await person.say("1")
    await person.say("1")  # Có
    sent = await person.say("2")  # "Làm được nếu có người chỉ"
    assert "Câu 4/13" in sent  # VNeID level 2: asked, the condition holds
    sent = await person.say("5")  # ⏹ Dừng (3 options, skip, stop)
    assert "Đã dừng" in sent
    sent = await person.say("#KS1")
    assert "đang làm dở" in sent and "Câu 4/13" in sent
    [response], answers = await stored(bot_engine.database)
    assert response.channel == "zalo_bot" and answers["vneid"].choice == "can-giup"
