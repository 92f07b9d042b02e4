"""A survey on the fake Zalo Bot Platform: no buttons, numbered text, typing the numbers."""

from bot.engine import Engine
from tests.test_survey_channels import open_ky_nang_so, stored
from tests.test_zalo_bot import Person, bot_engine, client, person, zalo  # noqa: F401


async def test_on_zalo_bot_by_typing_numbers(person: Person, bot_engine: Engine) -> None:  # noqa: F811
    """The whole survey: skip, stop, continue later, a condition, and a free-text ID number."""
    await open_ky_nang_so(bot_engine.database)
    sent = await person.say("khảo sát")
    assert "  1. ▶️ Bắt đầu" in sent and "ẩn danh" in sent
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
    sent = await person.say("bỏ qua")
    assert "Câu 5/13" in sent
    await person.say("1")  # Tự làm được
    sent = await person.say("1")  # Có, has applied online: "how many times" is asked
    assert "Câu 7/13" in sent and "  1." not in sent  # a number: nothing numbered
    sent = await person.say("3")
    assert "Câu 8/13" in sent
    await person.say("4")  # ⏭ Bỏ qua
    await person.say("3")  # Không nhận ra
    sent = await person.say("5")
    assert "Câu 11/13" in sent
    sent = await person.say("1 3")  # several choices by their numbers
    assert "Câu 12/13" in sent
    sent = await person.say("Số định danh 079 123 456 789, tôi chưa biết đăng nhập")
    assert "Câu 13/13" in sent and "  4. Ấp Bình Phú" in sent
    sent = await person.say("4")
    assert "Cảm ơn bạn đã trả lời" in sent

    [response], answers = await stored(bot_engine.database)
    assert response.channel == "zalo_bot" and response.finished_at is not None
    assert response.village == "Ấp Bình Phú" and response.chat_id is None
    assert answers["vneid"].choice == "can-giup" and answers["muc-2"].skipped
    assert answers["so-lan-nop"].number == 3 and answers["thanh-toan"].skipped
    assert answers["lua-dao"].choice == "khong-nhan-ra" and answers["tu-tin"].choice == "5"
    assert answers["muon-hoc"].choice == "vneid|thanh-toan"
    assert answers["gop-y"].text == "Số định danh [***], tôi chưa biết đăng nhập"
