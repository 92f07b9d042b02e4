"""The shipped guide library: every required guide is there, written the way the product needs."""

import re
from urllib.parse import urlsplit

from bot.library import MAX_STEPS, Library

REQUIRED_GUIDES = {
    "dvc": "dvc-gioi-thieu dvc-dang-nhap dvc-nop-ho-so dvc-tra-cuu-ho-so dvc-nhan-ket-qua "
    "dvc-khong-phu-thuoc-dia-gioi dvc-buu-chinh-cong-ich dvc-ho-tro-tai-cho "
    "dvc-thu-tuc-chi-truc-tuyen",
    "tthc": "tthc-khai-sinh tthc-ket-hon tthc-thuong-tru tthc-ly-lich-tu-phap tthc-chung-thuc "
    "tthc-tam-tru tthc-khai-tu",
    "vneid": "vneid-cai-dat vneid-dang-ky-muc-2 vneid-kich-hoat vneid-quen-passcode "
    "vneid-doi-thiet-bi vneid-tich-hop-giay-to vneid-tai-khoan-bi-khoa vneid-muc-1-muc-2 "
    "vneid-tai-khoan-an-sinh",
    "thanh-toan": "thanh-toan-le-phi thanh-toan-phuong-thuc thanh-toan-bien-lai thanh-toan-su-co "
    "thanh-toan-phat-giao-thong",
    "lua-dao": "lua-dao-gia-danh-cong-an lua-dao-ung-dung-gia lua-dao-website-gia lua-dao-otp "
    "lua-dao-thong-bao-gia lua-dao-da-bi-lua lua-dao-to-giac-vneid lua-dao-xac-thuc-khuon-mat "
    "lua-dao-deepfake lua-dao-viec-nhe-luong-cao",
    "du-lieu": "du-lieu-ca-nhan",
    "trung-tam": "lien-he-trung-tam phan-anh-kien-nghi trung-tam-sau-sap-nhap",
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
        assert guide.sources and guide.source == guide.sources[0], guide.id
        # A page, not a home page: vanban.chinhphu.vn names its documents in the query.
        pages = [urlsplit(s) for s in guide.sources]
        assert all(p.path.strip("/") or p.query for p in pages), guide.id
        assert guide.checked is not None, f"{guide.id}: no checked date"
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


def test_no_guide_names_a_provincial_portal(full_library: Library) -> None:
    """Since 1/7/2025 dichvucong.gov.vn is the single entry (Official letter 623/TTg-KSTT)."""
    assert "province_portal" not in full_library.profile
    for guide in full_library.guides.values():
        for step in guide.steps:
            assert "dichvucong." + "angiang" not in step.body, guide.id


def test_the_merger_guide_names_the_former_units_and_is_found_by_them(
    full_library: Library,
) -> None:
    from bot.matcher import Matcher

    guide = full_library.guides["trung-tam-sau-sap-nhap"]
    former = full_library.profile["former_units"]
    assert isinstance(former, list) and former
    assert all(unit in guide.steps[0].body for unit in former)
    matcher = Matcher.for_library(full_library)
    for unit in former:
        result = matcher.match(f"toi o {unit} cu thi gio lam thu tuc o dau")
        assert result.matches and result.matches[0].guide.id == guide.id, (unit, result)
