"""The matcher: normalisation, and accuracy on the labelled query files with the full library."""

import pytest

from bot.library import Library
from bot.matcher import Matcher, normalize
from tests.matcher_eval import evaluate, read_queries

# Floors per file: the labelled and development files (tuned on) must meet the issue-15
# targets; the held-out file (never tuned on) sits a little above its floors.
# `python bench/matcher.py` prints the figures beside the reference. Dropping below a floor
# is a regression.
FLOORS = {  # file: (top-1 in scope, "unknown" for out-of-scope, most confident-wrong)
    "matcher_queries.tsv": (0.95, 0.95, 0.01),
    # Written for issue 15 the way people type on a phone (no tone marks, "ko", "dc", typos,
    # one word, long stories) and out-of-scope subjects next to the guides'.
    "matcher_dev.tsv": (0.93, 0.95, 0.01),
    # Written before its author read the guides' sample questions, labelled from ids and titles:
    # rural phone typing, a third out of scope.
    "matcher_dev2.tsv": (0.95, 0.95, 0.01),
    # The same way, a third time: every subject a commune centre's bot covers, by a third author.
    "matcher_dev3.tsv": (0.95, 0.95, 0.01),
    # Two more authors, the same way, each in a style of their own (countryside phone typing;
    # teencode, polite long sentences, relatives asking for a parent); measured before tuning
    # (top-1 94.7% and 94.5%, "unknown" 86.2% and 88.6%), then tuned on.
    "matcher_dev4.tsv": (0.95, 0.95, 0.01),
    "matcher_dev5.tsv": (0.95, 0.95, 0.01),
    # A sixth author: Mekong-delta and central words, stories pasted before the question; measured
    # before tuning at 90.9% / 87.5% (4f1446a) and 94.1% / 88.8% after tuning on dev4 and dev5.
    "matcher_dev6.tsv": (0.95, 0.95, 0.01),
    "matcher_holdout.tsv": (0.90, 0.87, 0.01),
}


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Cài VNeID thế nào?", "cai vneid the nao"),
        ("ĐĂNG KÝ KHAI SINH", "dang ki khai sinh"),
        # Both spellings are correct Vietnamese and both are typed.
        ("đăng kí lí lịch", "dang ki li lich"),
        ("dky tỷ giá", "dang ki ti gia"),
        ("y tế, quy định", "y te quy dinh"),
        ("ad ơiiii, vneiddd", "ad oi vneid"),
        ("dki hso bằng dth", "dang ki ho so bang dien thoai"),
        ("đc ko", "duoc khong"),
        ("cccd", "can cuoc cong dan"),
        ("dvctt", "dich vu cong truc tuyen"),
        ("bhyt, otp!!", "bao hiem y te otp"),
        ("vn eid", "vneid"),
        ("ko nhớ mk vneid", "quen mat khau vneid"),
        ("t7 trung tâm hcc có làm ko", "thu 7 trung tam hanh chinh cong co lam khong"),
        ("phí bn", "phi bao nhieu"),
        ("ca\u0300i", "cai"),  # decomposed tone mark
        ("ｖｎｅｉｄ", "vneid"),  # full-width letters
        ("  \u200b  ", ""),
    ],
)
def test_normalize_folds_what_people_type(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


@pytest.fixture(scope="module")
def matcher(full_library: Library) -> Matcher:
    return Matcher.for_library(full_library)


@pytest.mark.parametrize("name", list(FLOORS))
def test_accuracy_on_labelled_queries(matcher: Matcher, name: str) -> None:
    queries = read_queries(name)
    result = evaluate(matcher, queries)
    print("\n" + result.summary(name))
    assert result.in_scope >= 80 and result.out_of_scope >= 30
    min_top1, min_rejected, max_wrong = FLOORS[name]
    assert result.top1_rate >= min_top1, "\n".join(result.misses)
    assert result.rejection_rate >= min_rejected, "\n".join(result.misses)
    assert result.confident_wrong_rate <= max_wrong, "\n".join(result.misses)


def test_every_library_guide_is_labelled_in_the_query_file(full_library: Library) -> None:
    labelled = {expected for _, expected in read_queries("matcher_queries.tsv")}
    assert set(full_library.guides) <= labelled
    assert labelled - {"unknown"} <= set(full_library.guides)


@pytest.mark.parametrize(
    "question, guide_id",
    [
        ("cai vneid the nao", "vneid-cai-dat"),
        ("quên passcode vneid", "vneid-quen-passcode"),
        ("làm giấy khai sinh cho con trên mạng", "tthc-khai-sinh"),
        ("có người gọi xưng công an bảo cài ứng dụng", "lua-dao-gia-danh-cong-an"),
        # Issue 15's reported failures.
        ("tải vneid ở đâu", "vneid-cai-dat"),
        ("trung tâm hành chính công ở đâu", "lien-he-trung-tam"),
        ("thứ 7 có làm việc không", "lien-he-trung-tam"),
        ("tôi ở xã cũ Bình Phú thì giờ làm thủ tục ở đâu", "trung-tam-sau-sap-nhap"),
        # How someone addresses the bot, or a spelling variant, does not weaken the answer.
        ("chau hoi cach tai vneid gium", "vneid-cai-dat"),
        ("e muon xin li lich tu phap", "tthc-ly-lich-tu-phap"),
        # Syllables run together on a phone keyboard.
        ("dangky khaisinh cho con", "tthc-khai-sinh"),
        ("quenmatkhau vneid", "vneid-quen-passcode"),
        # "hướng dẫn" asks about the subject that follows; it is not in-person help.
        ("hướng dẫn cài vneid", "vneid-cai-dat"),
        # Neighbours: the post office owns the post; paid but still shown unpaid is a payment
        # problem, not how to pay.
        ("bưu điện có giao giấy tờ tận nhà không", "dvc-buu-chinh-cong-ich"),
        ("trả tiền rồi mà hồ sơ vẫn chờ thanh toán", "thanh-toan-su-co"),
    ],
)
def test_plain_questions_get_a_confident_answer(
    matcher: Matcher, question: str, guide_id: str
) -> None:
    result = matcher.match(question)
    assert result.outcome == "answer", result
    assert result.matches[0].guide.id == guide_id


def test_asking_what_something_is_finds_its_guide(matcher: Matcher) -> None:
    # "là gì" belongs to a keyword of the portal's guide; it must not make "vneid" unknown.
    result = matcher.match("vneid la gi")
    assert result.outcome != "unknown"
    assert result.matches[0].guide.id.startswith("vneid-")


def test_the_portals_own_address_ranks_the_portal_before_the_fake_site_guide(
    matcher: Matcher,
) -> None:
    # The fake-site guide quotes the real address too; asked what it is, the portal comes first.
    result = matcher.match("dichvucong.gov.vn là trang gì")
    assert result.outcome != "unknown"
    assert result.matches[0].guide.id == "dvc-gioi-thieu"


@pytest.mark.parametrize(
    "question",
    [
        "thời tiết mai thế nào",
        "kết quả bóng đá",
        "giá vàng hôm nay",
        "",
        "🙂",
        "mua điện thoại trả góp",
        # Another app's account is not a VNeID account.
        "zalo bi khoa mo lai the nao",
        "xin viec lam cong nhan o khu cong nghiep",
    ],
)
def test_off_topic_questions_are_unknown(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).outcome == "unknown"


def test_a_not_covered_subject_inside_a_vneid_question_still_finds_the_guide(
    matcher: Matcher,
) -> None:
    # "hộ chiếu" has no guide, but putting papers into VNeID has one: "vneid" names it.
    result = matcher.match("dua so ho chieu vao vneid")
    assert result.outcome != "unknown"
    assert result.matches[0].guide.id == "vneid-tich-hop-giay-to"
    # Without the anchor, the subject without a guide is still "unknown".
    assert matcher.match("lam ho chieu o dau").outcome == "unknown"
