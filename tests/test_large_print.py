"""Shortened steps (posters, large-print leaflets) never keep a sentence that announces a list
without the list: "Mang theo:" alone tells an elderly reader nothing."""

import pytest

from bot.large_print import ITEM, first_sentences, lead_units
from bot.library import Library
from bot.posters.designs import guide_poster, paragraphs

LIMITS = (30, 60, 120, 240, 10_000)  # characters a shortened step may take


def shortened(body: str, limit: int) -> str:
    """The poster's chain: the first paragraph whose whole sentences fit, lists kept whole."""

    def fits(text: str) -> bool:
        return len(text) <= limit

    return next((t for p in paragraphs(body) if (t := first_sentences(p, fits))), "")


def test_a_list_is_kept_with_its_announcement_or_both_are_dropped() -> None:
    body = "Mang theo:\n- Thẻ căn cước.\n- Điện thoại.\n\nNếu số đứng tên người khác, đổi trước."
    assert shortened(body, 10_000) == "Mang theo: • Thẻ căn cước. • Điện thoại."
    assert shortened(body, 30) == "Nếu số đứng tên người khác, đổi trước."


def test_an_announcement_followed_by_a_blank_line_still_takes_its_list() -> None:
    body = "Tìm mã ở:\n\n- Tin nhắn báo đã nộp.\n- Giấy hẹn.\n\nMất mã? Vẫn xem được."
    assert paragraphs(body)[0] == ["Tìm mã ở:", f"{ITEM}Tin nhắn báo đã nộp.", f"{ITEM}Giấy hẹn."]
    assert shortened(body, 10_000).startswith("Tìm mã ở: • Tin nhắn")


def test_a_lone_announcement_without_items_is_dropped() -> None:
    assert first_sentences(["Xem các bước sau:"], lambda t: True) == ""
    assert first_sentences(["Một câu.", "Danh sách:"], lambda t: True) == "Một câu."


def test_no_step_in_the_library_is_left_announcing_a_missing_list(full_library: Library) -> None:
    for guide in full_library.guides.values():
        for step in guide.steps:
            for limit in LIMITS:
                text = shortened(step.body, limit)
                where = (guide.id, step.title, limit, text)
                assert not text.rstrip().endswith(":"), where
                for paragraph in paragraphs(step.body):
                    for unit in lead_units(paragraph):
                        head = unit.text.split(f" {ITEM}")[0]
                        if unit.announces_list and text.startswith(head):
                            assert unit.text in text, where


@pytest.mark.parametrize("large", [True, False])
def test_the_mang_theo_step_prints_its_list_or_nothing_of_it(
    full_library: Library, large: bool
) -> None:
    """The reported case: `vneid-dang-ky-muc-2 --large` printed "Mang theo:" and nothing after."""
    poster = guide_poster(full_library, full_library.guides["vneid-dang-ky-muc-2"], large=large)
    printed = " ".join(t.text for t in poster.pages[0].texts())
    if "Mang theo:" in printed:
        assert "Thẻ căn cước" in printed.split("Mang theo:", 1)[1].split("3. ")[0], printed
