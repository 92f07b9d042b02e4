"""A survey on the fake Zalo OA: template buttons up to five, numbered lines beyond."""

from bot.engine import Engine
from tests.test_survey_channels import open_ky_nang_so, stored
from tests.test_zalo_oa import (  # noqa: F401
    Citizen,
    citizen,
    client,
    naps,
    oa_engine,
    texts,
    titles,
    zalo,
)


async def test_on_zalo_oa_buttons_and_numbers(citizen: Citizen, oa_engine: Engine) -> None:  # noqa: F811
    """The whole survey: skip, stop, continue later, a condition, and a free-text OTP."""
    await open_ky_nang_so(oa_engine.database)
    sent = await citizen.say("#KS1 TV05")  # what a poster tells Zalo users to type
    assert "KHẢO SÁT KỸ NĂNG SỐ" in texts(sent)
    sent = await citizen.press("▶️ Bắt đầu")
    # Four ages, skip and stop: more than five buttons, so numbered lines.
    assert "Câu 1/13" in texts(sent) and not titles(sent)
    assert "  4. Từ 60 tuổi trở lên" in texts(sent)
    sent = await citizen.say("4")
    assert "Câu 2/13" in texts(sent)
    assert titles(sent) == ["Có", "Không", "⏭ Bỏ qua", "⏹ Dừng"]
    sent = await citizen.press("Không")  # no smartphone: the phone questions are not asked
    assert "Câu 6/13" in texts(sent)
    sent = await citizen.say("dừng")
    assert "Đã dừng" in texts(sent)
    [response], answers = await stored(oa_engine.database)
    assert response.channel == "zalo" and response.source == "TV05" and response.stopped

    sent = await citizen.press("▶️ Làm tiếp")  # later, from the stop message's button
    assert "Câu 6/13" in texts(sent)
    await citizen.press("Có")
    sent = await citizen.say("2")  # a number question: no buttons, 2 is the answer
    assert "Câu 9/13" in texts(sent)  # paying online (8) needs a smartphone
    sent = await citizen.press("Không chắc")
    assert "Câu 10/13" in texts(sent) and "  3. 3" in texts(sent)
    sent = await citizen.say("3")
    assert "Câu 11/13" in texts(sent) and not titles(sent)  # five choices and three more
    sent = await citizen.say("bỏ qua")
    assert "Câu 12/13" in texts(sent)
    sent = await citizen.say("mã xác thực 123456 gửi về máy tôi, có cần đưa không?")
    assert "Câu 13/13" in texts(sent)
    sent = await citizen.say("2")
    assert "Cảm ơn bạn đã trả lời" in texts(sent)

    [response], answers = await stored(oa_engine.database)
    assert response.finished_at is not None and not response.stopped
    assert response.village == "Ấp Hòa Long"
    assert answers["tuoi"].choice == "tu-60" and answers["dien-thoai"].choice == "khong"
    assert "vneid" not in answers and "thanh-toan" not in answers
    assert answers["so-lan-nop"].number == 2 and answers["tu-tin"].choice == "3"
    assert answers["lua-dao"].choice == "khong-chac" and answers["muon-hoc"].skipped
    assert answers["gop-y"].text == "mã xác thực [***] gửi về máy tôi, có cần đưa không?"
