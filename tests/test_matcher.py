"""The matcher: normalisation, learning from content/asked/, and accuracy on every batch there
(each on a matcher without it) and on the held-out file."""

import pytest

from bot.asked import OUT_OF_SCOPE, Asked, batches
from bot.library import Library
from bot.matcher import Matcher, normalize
from tests.matcher_eval import evaluate, read_queries, unseen_matcher

# Floors per batch of questions in content/asked/, each measured on a matcher that has not
# learnt from that batch (the others teach it), and for the held-out file, never learnt from,
# tuned on or read: there the issue-15 targets (95% top-1, 95% "unknown", at most 1%
# confident-wrong) are the floors. `python bench/matcher.py` prints the figures beside the
# reference. Each floor sits just under today's figure: below one is a regression.
FLOORS = {  # batch: (top-1 in scope, "unknown" for out-of-scope, most confident-wrong)
    "labelled": (0.95, 0.93, 0.015),
    # Phone typing (no tone marks, "ko", "dc", typos, one word, long stories), neighbours.
    "dev1": (0.95, 0.95, 0.01),
    # Each of these by another author who had read only the guides' ids and titles, in a style
    # of their own: rural typing; every subject a centre covers; countryside; teencode and
    # polite sentences; Mekong-delta words and stories (its out-of-scope questions sit right
    # beside guides: the post office's parcels, an ATM); older rural citizens; young people and
    # error messages; Northern politeness; search-box keywords; relatives' worried stories;
    # mountain communes; Southern traders; the 2025 merger; teencode; pasted messages.
    "dev2": (0.94, 0.95, 0.02),
    "dev3": (0.95, 0.94, 0.01),
    "dev4": (0.95, 0.94, 0.01),
    "dev5": (0.95, 0.95, 0.01),
    "dev6": (0.95, 0.90, 0.01),
    "dev7": (0.94, 0.95, 0.01),
    "dev8": (0.94, 0.94, 0.01),
    "dev9": (0.94, 0.92, 0.02),
    "dev10": (0.95, 0.93, 0.01),
    "dev11": (0.95, 0.89, 0.01),
    "dev12": (0.95, 0.92, 0.01),
    "dev13": (0.93, 0.89, 0.01),
    "dev14": (0.95, 0.90, 0.01),
    "dev15": (0.95, 0.93, 0.01),
    "dev16": (0.92, 0.95, 0.01),
    "holdout": (0.95, 0.95, 0.01),
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
def test_accuracy_on_questions_it_has_not_learnt_from(full_library: Library, name: str) -> None:
    if name == "holdout":
        matcher, queries = Matcher.for_library(full_library), read_queries("matcher_holdout.tsv")
    else:
        matcher, queries = unseen_matcher(full_library, name), batches(full_library.asked)[name]
    result = evaluate(matcher, queries)
    print("\n" + result.summary(name))
    assert result.in_scope >= 80 and result.out_of_scope >= 30
    min_top1, min_rejected, max_wrong = FLOORS[name]
    assert result.top1_rate >= min_top1, "\n".join(result.misses)
    assert result.rejection_rate >= min_rejected, "\n".join(result.misses)
    assert result.confident_wrong_rate <= max_wrong, "\n".join(result.misses)


def test_every_batch_is_measured_and_every_guide_has_examples(full_library: Library) -> None:
    by_batch = batches(full_library.asked)
    assert set(by_batch) == set(FLOORS) - {"holdout"}
    labelled = {expected for _, expected in by_batch["labelled"]}
    assert set(full_library.guides) | {OUT_OF_SCOPE} == labelled


def test_what_citizens_asked_teaches_the_matcher_their_words(full_library: Library) -> None:
    # Parents call the birth registration bundle "putting the baby in the household book".
    question = "dang ky khai sinh xong co nhap ho khau cho be luon ko"
    learnt = Asked("counter", "đứa nhỏ mới sinh nhập hộ khẩu sao", "tthc-khai-sinh")
    before = Matcher.for_library(full_library, asked=())
    after = Matcher.for_library(full_library, asked=[learnt])
    assert before.match(question).matches[0].guide.id != "tthc-khai-sinh"
    assert after.match(question).outcome == "answer"
    assert after.match(question).matches[0].guide.id == "tthc-khai-sinh"


def test_a_question_asked_out_of_scope_teaches_it_to_say_it_does_not_know(
    full_library: Library,
) -> None:
    # When the post office closes is the post office's business, not filing papers by post.
    question = "bưu điện xã mấy giờ đóng cửa"
    learnt = Asked("counter", "buu dien may gio dong cua", OUT_OF_SCOPE)
    before = Matcher.for_library(full_library, asked=())
    after = Matcher.for_library(full_library, asked=[learnt])
    assert before.match(question).outcome == "answer"
    assert after.match(question).outcome == "unknown"


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
