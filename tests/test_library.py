"""The shipped guide library: every required guide is there, written the way the product needs."""

import re

from bot.library import MAX_STEPS, Library

REQUIRED_GUIDES = {
    "dvc": "dvc-gioi-thieu dvc-dang-nhap dvc-nop-ho-so dvc-tra-cuu-ho-so dvc-nhan-ket-qua "
    "dvc-khong-phu-thuoc-dia-gioi dvc-buu-chinh-cong-ich dvc-ho-tro-tai-cho",
    "tthc": "tthc-khai-sinh tthc-ket-hon tthc-thuong-tru tthc-ly-lich-tu-phap tthc-chung-thuc",
    "vneid": "vneid-cai-dat vneid-dang-ky-muc-2 vneid-kich-hoat vneid-quen-passcode "
    "vneid-doi-thiet-bi vneid-tich-hop-giay-to vneid-tai-khoan-bi-khoa",
    "thanh-toan": "thanh-toan-le-phi thanh-toan-phuong-thuc thanh-toan-bien-lai thanh-toan-su-co",
    "lua-dao": "lua-dao-gia-danh-cong-an lua-dao-ung-dung-gia lua-dao-website-gia lua-dao-otp "
    "lua-dao-thong-bao-gia lua-dao-da-bi-lua",
    "du-lieu": "du-lieu-ca-nhan",
    "trung-tam": "lien-he-trung-tam phan-anh-kien-nghi",
}


def test_every_required_guide_exists_in_its_topic(full_library: Library) -> None:
    for topic, ids in REQUIRED_GUIDES.items():
        for guide_id in ids.split():
            assert guide_id in full_library.guides, guide_id
            assert full_library.guides[guide_id].topic == topic, guide_id


def test_guides_are_short_sourced_and_end_with_human_help(full_library: Library) -> None:
    hotline = full_library.profile["hotline"]
    for guide in full_library.guides.values():
        assert 1 <= len(guide.steps) <= MAX_STEPS, guide.id
        assert len(guide.questions) >= 8, guide.id
        assert guide.source.startswith("https://"), guide.id
        assert hotline in guide.steps[-1].body, f"{guide.id}: last step must say where to get help"


def test_codes_are_unique_small_numbers(full_library: Library) -> None:
    codes = [g.code for g in full_library.guides.values()]
    assert len(codes) == len(set(codes))
    assert max(codes) < 1000


def test_five_forwardable_alerts_under_600_characters(full_library: Library) -> None:
    assert len(full_library.alerts) >= 5
    for alert in full_library.alerts.values():
        assert len(alert.body) < 600, alert.id
        assert full_library.profile["hotline"] in alert.body, alert.id


def test_no_placeholder_is_left_unfilled(full_library: Library) -> None:
    leftover = re.compile(r"\{[a-z_]+\}")
    for guide in full_library.guides.values():
        for step in guide.steps:
            assert not leftover.search(step.body), (guide.id, step.title)
