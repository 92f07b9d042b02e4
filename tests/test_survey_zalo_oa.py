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
    await citizen.press("Không")
    sent = await citizen.say("dừng")
    assert "Đã dừng" in texts(sent)
    [response], answers = await stored(oa_engine.database)
    assert response.channel == "zalo" and response.source == "TV05" and response.stopped
    assert answers["tuoi"].choice == "tu-60" and answers["dien-thoai"].choice == "khong"
