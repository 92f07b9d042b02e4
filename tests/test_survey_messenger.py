"""A survey on Messenger, against the fake Graph API: opened from an m.me link, quick replies."""

from storage.db import Database
from tests.test_messenger import PSID, Citizen, citizen, client, meta, texts  # noqa: F401
from tests.test_survey_channels import open_ky_nang_so, stored


async def test_on_messenger_with_quick_replies(
    citizen: Citizen,  # noqa: F811
    sqlite_database: Database,
) -> None:
    """The whole survey: skip, stop, continue later, a condition, and a free-text ID number."""
    await open_ky_nang_so(sqlite_database)
    # The poster's QR code: m.me/<page>?ref=s_ky-nang-so_poster, a Get Started with a ref.
    opened = citizen.events.postback(PSID, "GET_STARTED", "s_ky-nang-so_poster")
    assert "KHẢO SÁT KỸ NĂNG SỐ" in texts(await citizen.send(opened))
    sent = await citizen.tap("▶️ Bắt đầu")
    assert texts(sent).startswith("Câu 1/13")
    [question] = sent
    assert [q["title"] for q in question.quick_replies][-2:] == ["⏭ Bỏ qua", "⏹ Dừng"]
    await citizen.tap("Dưới 30")
    await citizen.tap("Có")
    sent = await citizen.tap("Tự làm")
    assert "Câu 4/13" in texts(sent)  # can use VNeID: its level is asked
    sent = await citizen.say("bỏ qua")
    assert "Câu 5/13" in texts(sent)
    sent = await citizen.tap("⏹ Dừng")
    assert "Đã dừng" in texts(sent)
    sent = await citizen.say("khảo sát")  # later
    assert "đang làm dở" in texts(sent) and "Câu 5/13" in texts(sent)
    await citizen.tap("Chưa làm")
    sent = await citizen.tap("Không")  # never applied online: "how many times" not asked
    assert "Câu 8/13" in texts(sent)
    for _ in range(4):  # paying online, scams, confidence, what to learn
        await citizen.tap("⏭ Bỏ qua")
    sent = await citizen.say("CCCD của tôi 079123456789 bị sai ngày sinh")
    assert "Câu 13/13" in texts(sent)
    sent = await citizen.tap("Ấp Hòa Thạnh")
    assert "Cảm ơn bạn đã trả lời" in texts(sent)

    [response], answers = await stored(sqlite_database)
    assert response.channel == "messenger" and response.source == "poster"
    assert response.finished_at is not None and response.village == "Ấp Hòa Thạnh"
    assert answers["vneid"].choice == "tu-lam" and answers["muc-2"].skipped
    assert answers["dvc"].choice == "chua-duoc" and "so-lan-nop" not in answers
    assert all(answers[q].skipped for q in ("thanh-toan", "lua-dao", "tu-tin", "muon-hoc"))
    assert answers["gop-y"].text == "CCCD của tôi [***] bị sai ngày sinh"
