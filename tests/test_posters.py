"""Posters as a person checks them: scan every QR code with a real decoder, read the PDF's text,
look for ink outside the margins, and ask for a poster in the chat as staff and as a citizen."""

import itertools
import os
import shutil
import subprocess
import sys
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from bot.engine import Engine
from bot.library import MAX_STEP_CHARS, MAX_STEPS, Guide, Library, Step
from bot.messages import Incoming
from bot.posters import (
    MissingGlyphs,
    Procedure,
    counter_poster,
    guide_poster,
    procedure_sheet,
    read_procedures,
    save,
)
from bot.posters.fonts import BOLD, REGULAR, missing_glyphs
from bot.posters.layout import MARGIN, QRCode, TextLine
from bot.settings import get_settings
from handlers import load_handlers
from handlers.poster import poster as poster_handler
from handlers.routing import Router
from storage.db import Database
from storage.models import StaffMember
from tests.conftest import FULL_LIBRARY, ROOT, Chat

DATA = ROOT / "tests" / "data"
BOT = "troly_hoa_an_bot"
ZALO = "https://zalo.me/1234567890123456789"


def telegram_link(bot: str, guide_id: str, source: str) -> str:
    """What a guide's Telegram QR must open, written out as a person would check it."""
    return f"https://t.me/{bot}?start=g_{guide_id}_{source}"


PNG_DPI = 300


def scan(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def scan_png(path: Path) -> list[str]:
    with Image.open(path) as image:
        return sorted(code.text for code in scan(image))


def read_pdf(path: Path, dpi: int = 200) -> list[tuple[list[str], str]]:
    """Per page: the QR codes found in the rendered page, and the page's text layer."""
    pages = []
    pdf = pypdfium2.PdfDocument(path)
    try:
        for page in pdf:
            image = page.render(scale=dpi / 72).to_pil()
            text = page.get_textpage().get_text_range()
            pages.append(([code.text for code in scan(image)], text))
    finally:
        pdf.close()
    return pages


def long_guide(title: str = "Hướng dẫn dài nhất mà thư viện cho phép", code: int = 999) -> Guide:
    """A guide at every limit of the library: MAX_STEPS steps of MAX_STEP_CHARS characters."""
    sentence = "Bà con mang căn cước đến quầy, cán bộ kiểm tra giấy tờ và hướng dẫn từng bước. "
    body = (sentence * 20)[:MAX_STEP_CHARS].strip()
    steps = tuple(
        Step(f"Bước làm việc số {n} với tiêu đề dài để thử xuống dòng đúng chỗ", body)
        for n in range(1, MAX_STEPS + 1)
    )
    return Guide(
        id="huong-dan-dai",
        code=code,
        title=title,
        topic="vneid",
        summary="Thử bố cục.",
        keywords=("thử",),
        questions=("thử",),
        related=(),
        updated=date(2026, 12, 1),
        source="https://example.gov.vn",
        steps=steps,
    )


def assert_inside_margins(document) -> None:
    for page in document.pages:
        area = page.printable
        for item in page.items:
            assert item.box.inside(area), f"{item} is outside the margins {area}"
        drawn = [i for i in page.items if isinstance(i, TextLine | QRCode)]
        for first, second in itertools.combinations(drawn, 2):
            a, b = first.box, second.box
            overlap = min(a.right, b.right) - max(a.x, b.x), min(a.bottom, b.bottom) - max(a.y, b.y)
            assert min(overlap) <= 0.01, f"{first} overlaps {second}"


def assert_no_ink_in_margins(path: Path) -> None:
    with Image.open(path) as image:
        width, height = image.size
        inset = round(MARGIN / 72 * PNG_DPI) - 2  # 2 px for anti-aliasing at the edge
        bands = [
            (0, 0, width, inset),
            (0, height - inset, width, height),
            (0, 0, inset, height),
            (width - inset, 0, width, height),
        ]
        for band in bands:
            extrema = image.convert("L").crop(band).getextrema()
            assert extrema == (255, 255), f"ink in the margin {band}: {extrema}"


# --- guide posters ------------------------------------------------------------------


def test_guide_poster_png_scans_to_the_guide_deep_link_with_the_poster_tag(
    full_library: Library, tmp_path: Path
) -> None:
    guide = full_library.guides["vneid-cai-dat"]
    [path] = save(guide_poster(full_library, guide), tmp_path / "vneid.png")
    expected = f"https://t.me/{BOT}?start=g_vneid-cai-dat_poster"
    assert expected == telegram_link(BOT, "vneid-cai-dat", "poster")
    assert scan_png(path) == sorted([expected, ZALO])
    with Image.open(path) as image:
        assert image.size == (2480, 3508), "A4 at 300 dpi"
        assert round(image.info["dpi"][0]) == PNG_DPI
    assert_no_ink_in_margins(path)


def test_guide_poster_pdf_scans_and_has_vector_text(full_library: Library, tmp_path: Path) -> None:
    guide = full_library.guides["tthc-khai-sinh"]
    [path] = save(guide_poster(full_library, guide), tmp_path / "khai-sinh.pdf")
    [(codes, text)] = read_pdf(path)
    assert sorted(codes) == sorted([telegram_link(BOT, guide.id, "poster"), ZALO])
    # The text layer is real text (selectable, searchable), tone marks and all.
    assert "Đăng ký khai sinh cho" in text
    assert "Cần giúp? Gọi 0296 3 800 123" in text
    assert f"Quét mã, rồi gõ #{guide.code}" in text


def test_qr_codes_use_error_correction_q_and_keep_their_quiet_zone(
    full_library: Library, tmp_path: Path
) -> None:
    [path] = save(counter_poster(full_library), tmp_path / "counter.png")
    with Image.open(path) as image:
        gray = image.convert("L")
        codes = scan(image)
    assert len(codes) == 2
    sizes = {q.data: len(q.modules) - 8 for q in counter_poster(full_library).pages[0].qr_codes()}
    for code in codes:
        assert code.ec_level == "Q"
        corners = code.position  # the symbol's outer edges, the quiet zone outside them
        left, top = corners.top_left.x, corners.top_left.y
        right, bottom = corners.bottom_right.x, corners.bottom_right.y
        module = (right - left) / sizes[code.text]
        zone = round(4 * module) - 1
        ring = gray.crop((left - zone, top - zone, right + zone, bottom + zone))
        # Blank the symbol itself; what is left is the quiet zone, which must be white.
        ring.paste(255, (zone, zone, zone + right - left, zone + bottom - top))
        assert ring.getextrema() == (255, 255), f"ink in the quiet zone of {code.text}"


def test_counter_poster_has_both_channels_hotline_and_hours(
    full_library: Library, tmp_path: Path
) -> None:
    [path] = save(counter_poster(full_library), tmp_path / "counter.pdf")
    [(codes, text)] = read_pdf(path)
    assert sorted(codes) == sorted([ZALO, f"https://t.me/{BOT}?start=poster"])
    flat = " ".join(text.split())
    for expected in (
        "Hỏi đáp thủ tục, VNeID, thanh toán trực tuyến 24/7",
        "Trung tâm Phục vụ hành chính công xã Hòa An",
        "0296 3 800 123",
        "sáng 7h00–11h30",
        "Zalo",
        "Telegram",
    ):
        assert expected in flat.replace("\xa0", " ")
    assert_inside_margins(counter_poster(full_library))


def test_large_print_is_18_pt_or_more_black_and_has_fewer_words_per_line(
    full_library: Library, tmp_path: Path
) -> None:
    guide = full_library.guides["vneid-cai-dat"]
    large, normal = guide_poster(full_library, guide, large=True), guide_poster(full_library, guide)
    lines = large.pages[0].texts()
    assert min(line.size for line in lines) >= 18
    assert {line.colour for line in lines} == {"#000000"}

    def widest(document) -> int:
        return max(len(line.text.split()) for line in document.pages[0].texts())

    assert widest(large) < widest(normal)
    [path] = save(large, tmp_path / "large.png")
    assert scan_png(path) == sorted([telegram_link(BOT, guide.id, "poster"), ZALO])


def test_every_guide_of_the_library_fits_inside_the_margins(full_library: Library) -> None:
    for guide in full_library.guides.values():
        for large in (False, True):
            document = guide_poster(full_library, guide, large=large)
            assert_inside_margins(document)
            assert len(document.links) == 2


def test_longest_allowed_guide_still_fits_and_says_it_was_shortened(
    full_library: Library, tmp_path: Path
) -> None:
    guide = long_guide(title="Tiêu đề dài " * 10)
    for large in (False, True):
        document = guide_poster(full_library, guide, large=large)
        assert_inside_margins(document)
        assert document.notes, "a guide that cannot fit whole is reported"
        numbers = [line.text.split(".")[0] for line in document.pages[0].texts()]
        assert [str(n) for n in range(1, MAX_STEPS + 1)] == [n for n in numbers if n.isdigit()]
        [path] = save(document, tmp_path / f"long-{large}.png")
        assert_no_ink_in_margins(path)
        assert telegram_link(BOT, guide.id, "poster") in scan_png(path)


# --- fonts ----------------------------------------------------------------------------

VOWELS = "aăâeêioôơuưy"
TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc huyền hỏi ngã nặng


def tone_groups(letters: str) -> list[str]:
    return ["".join(unicodedata.normalize("NFC", v + tone) for tone in TONES) for v in letters]


def test_every_vietnamese_vowel_and_tone_mark_is_in_the_font_and_in_the_pdf(
    full_library: Library, tmp_path: Path
) -> None:
    lower = [*tone_groups(VOWELS), "đ"]
    upper = [*tone_groups(VOWELS.upper()), "Đ"]
    assert len("".join(lower + upper)) == 2 * (len(VOWELS) * len(TONES) + 1)
    for font in (REGULAR, BOLD):
        assert missing_glyphs(font, lower + upper) == []
    # Typed decomposed (as some keyboards and Macs produce): the poster prints it composed.
    title = unicodedata.normalize("NFD", " ".join(lower))
    guide = long_guide(title=title)
    guide = Guide(**{**guide.__dict__, "steps": (Step(" ".join(upper), " ".join(upper)),)})
    document = guide_poster(full_library, guide, large=True)
    assert not any("…" in line.text for line in document.pages[0].texts())
    [path] = save(document, tmp_path / "vowels.pdf")
    [(_, text)] = read_pdf(path)
    words = text.split()
    for group in lower + upper:
        assert group in words, f"{group} missing from the PDF text"
    save(document, tmp_path / "vowels.png")


def test_a_character_outside_the_font_is_refused_before_drawing(
    full_library: Library, tmp_path: Path
) -> None:
    guide = long_guide(title="Hướng dẫn 漢字")
    with pytest.raises(MissingGlyphs, match=r"U\+6F22"):
        save(guide_poster(full_library, guide), tmp_path / "bad.pdf")
    assert not (tmp_path / "bad.pdf").exists()


# --- procedure sheets -------------------------------------------------------------------


def test_procedure_csv_keeps_good_rows_and_reports_bad_ones_with_line_numbers() -> None:
    procedures, rejected = read_procedures(DATA / "procedures_mixed.csv")
    assert [(p.line, p.name) for p in procedures] == [
        (2, "Đăng ký khai sinh"),
        (6, "Chứng thực bản sao từ bản chính"),
        (9, "Đăng ký thường trú"),
    ]
    assert procedures[1].note == "Mang bản chính\nvà bản sao đến quầy số 2"
    assert [(r.line, r.reason.split(":")[0]) for r in rejected] == [
        (3, "missing URL"),
        (4, "URL is not an http(s) address"),
        (5, "empty name"),
        (10, "URL is not an http(s) address"),
        (11, "URL is not an http(s) address"),
    ]


def test_forty_procedures_make_several_pages_with_every_qr_code(
    full_library: Library, tmp_path: Path
) -> None:
    url = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc="
    procedures = [
        Procedure(n + 1, f"Thủ tục hành chính số {n} về hộ tịch", f"1.00{n:04d}", f"{url}1.{n:06d}")
        for n in range(1, 41)
    ]
    document = procedure_sheet(full_library, procedures, date(2026, 12, 1))
    assert len(document.pages) > 1
    assert_inside_margins(document)
    pages = read_pdf(save(document, tmp_path / "sheet.pdf")[0])
    assert len(pages) == len(document.pages)
    scanned = [code for codes, _ in pages for code in codes]
    assert sorted(scanned) == sorted(p.url for p in procedures)
    for number, (_, text) in enumerate(pages, 1):
        assert f"Trang {number}/{len(pages)}" in text
        assert "Cập nhật ngày 01/12/2026" in text
        assert "Trung tâm Phục vụ hành chính công xã Hòa An" in text
    paths = save(document, tmp_path / "sheet.png")
    assert [p.name for p in paths][:2] == ["sheet.png", "sheet-2.png"]
    assert all(p.exists() for p in paths) and len(paths) == len(document.pages)


# --- the command line -----------------------------------------------------------------


def troly(args: list[str], cwd: Path, content: Path = ROOT / "content"):
    env = {**os.environ, "CONTENT_DIR": str(content), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "poster", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_cli_procedures_writes_good_rows_and_exits_3_listing_bad_lines(tmp_path: Path) -> None:
    csv_path = DATA / "procedures_mixed.csv"
    result = troly(["procedures", str(csv_path), "--out", "sheet.pdf"], tmp_path)
    assert result.returncode == 3, result.stderr
    for line in (3, 4, 5, 10, 11):
        assert f"{csv_path}:{line}: rejected:" in result.stderr
    assert f"{csv_path}:3: rejected: missing URL" in result.stderr
    assert f"{csv_path}:5: rejected: empty name" in result.stderr
    [(codes, text)] = read_pdf(tmp_path / "sheet.pdf")
    good, _ = read_procedures(csv_path)
    assert sorted(codes) == sorted(p.url for p in good)
    assert "Chứng thực bản sao từ bản chính" in text
    assert "Đăng ký kết hôn" not in text
    assert f"Cập nhật ngày {date.today():%d/%m/%Y}" in text


def test_cli_guide_counter_and_their_errors(tmp_path: Path) -> None:
    result = troly(["guide", "#11", "--out", "g.png", "--large"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert scan_png(tmp_path / "g.png") == sorted(
        [telegram_link(BOT, "vneid-cai-dat", "poster"), ZALO]
    )
    result = troly(["counter", "--out", "out/c.pdf"], tmp_path)
    assert result.returncode == 0, result.stderr
    [(codes, _)] = read_pdf(tmp_path / "out" / "c.pdf")
    assert sorted(codes) == sorted([ZALO, f"https://t.me/{BOT}?start=poster"])
    result = troly(["guide", "khong-co", "--out", "x.pdf"], tmp_path)
    assert result.returncode == 1 and "No guide" in result.stderr
    result = troly(["counter", "--out", "c.svg"], tmp_path)
    assert result.returncode == 1 and ".pdf or .png" in result.stderr
    assert not (tmp_path / "c.svg").exists()


def test_cli_all_writes_every_poster_and_reports_the_shortened_one(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    guide = long_guide()
    steps = "\n\n".join(f"## {s.title}\n{s.body}" for s in guide.steps)
    (content / "guides" / "vneid" / "huong-dan-dai.md").write_text(
        "---\nid: huong-dan-dai\ncode: 999\ntitle: Hướng dẫn dài nhất\ntopic: vneid\n"
        "summary: Thử bố cục.\nkeywords: [thử]\nquestions: [thử bố cục]\n"
        "updated: 2026-12-01\nsource: https://example.gov.vn/huong-dan-dai\n---\n" + steps + "\n",
        encoding="utf-8",
    )
    result = troly(["all", "--out", "posters", "--format", "pdf"], tmp_path, content)
    assert result.returncode == 0, result.stderr
    written = sorted(p.stem for p in (tmp_path / "posters").glob("*.pdf"))
    guides = sorted(p.stem for p in (content / "guides").rglob("*.md"))
    assert written == sorted([*guides, "counter"])
    reported = [line for line in result.stderr.splitlines() if line.startswith("huong-dan-dai:")]
    assert reported and ("shortened" in reported[0] or "cut" in reported[0]), result.stderr
    assert "posters written" in result.stdout and "0 failed" in result.stdout


# --- the staff chat command ---------------------------------------------------------------


@pytest.fixture
def poster_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("POSTER_CACHE_DIR", str(cache))
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()


def at_noon() -> datetime:
    return datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


@pytest.fixture
async def staff_engine(sqlite_database: Database, full_library: Library) -> Engine:
    now = at_noon()
    async with sqlite_database.session() as session, session.begin():
        session.add(
            StaffMember(
                name="Chị Lan", role="staff", channel="test", chat_id="staff-1", created_at=now
            )
        )
        session.add(
            StaffMember(name="Anh Bình", role="staff", channel="tg", chat_id="u-7", created_at=now)
        )
        session.add(
            StaffMember(
                name="Cũ", role="staff", channel="test", chat_id="old", active=False, created_at=now
            )
        )
    return Engine(full_library, sqlite_database, clock=at_noon)


async def test_staff_gets_the_poster_png_and_it_scans(
    staff_engine: Engine, poster_cache: Path
) -> None:
    chat = Chat(staff_engine, chat_id="staff-1")
    [reply] = await chat.say("poster #11")
    assert reply.text == "Áp phích hướng dẫn #11: Cài ứng dụng VNeID chính thức"
    path = Path(reply.image)
    assert path.parent == poster_cache and path.suffix == ".png"
    assert scan_png(path) == sorted([telegram_link(BOT, "vneid-cai-dat", "poster"), ZALO])
    made = path.stat().st_mtime_ns
    [again] = await chat.say("/poster vneid-cai-dat")
    assert again.image == reply.image and path.stat().st_mtime_ns == made, "drawn once, then cached"

    [counter] = await chat.say("/poster")
    assert scan_png(Path(counter.image)) == sorted([ZALO, f"https://t.me/{BOT}?start=poster"])
    [unknown] = await chat.say("poster #9876")
    assert unknown.image is None and "#9876" in unknown.text


async def test_staff_in_a_group_is_known_by_their_user_id(
    staff_engine: Engine, poster_cache: Path
) -> None:
    [reply] = await staff_engine.handle(Incoming("tg", "-100123", "/poster 11", user_id="u-7"))
    assert reply.image and Path(reply.image).exists()


async def test_citizens_and_former_staff_get_the_ordinary_answer(
    staff_engine: Engine, sqlite_database: Database, full_library: Library, poster_cache: Path
) -> None:
    without = Router()
    without.__dict__.update(load_handlers().__dict__)
    without.patterns = [p for p in without.patterns if p[1] is not poster_handler]
    plain = Engine(full_library, sqlite_database, clock=at_noon, router=without)
    for text in ("poster #11", "/poster", "poster vneid-cai-dat"):
        for person in ("citizen-9", "old"):
            replies = await Chat(staff_engine, chat_id=person).say(text)
            expected = await Chat(plain, chat_id=f"{person}-plain").say(text)
            assert replies == expected
            assert all(r.image is None for r in replies)
            assert "Áp phích" not in "\n".join(r.text for r in replies)
    assert not poster_cache.exists(), "nothing was drawn for a citizen"


def test_procedure_csv_from_excel_with_semicolons_vietnamese_header_or_no_header(
    tmp_path: Path,
) -> None:
    excel = tmp_path / "excel.csv"
    excel.write_text(
        "\ufeffTên thủ tục;Mã;Đường dẫn;Ghi chú\n"
        "Khai sinh, khai tử;1.1;https://a.gov.vn/x?a=1,2;ghi chú\n"
        ";;;\n"
        "Kết hôn;;http://b.gov.vn;\n",
        encoding="utf-8",
    )
    procedures, rejected = read_procedures(excel)
    assert [(p.line, p.name, p.url) for p in procedures] == [
        (2, "Khai sinh, khai tử", "https://a.gov.vn/x?a=1,2"),
        (4, "Kết hôn", "http://b.gov.vn"),
    ]
    assert rejected == []
    bare = tmp_path / "bare.csv"
    bare.write_text("Khai sinh,1.1,https://a.gov.vn/x\nKết hôn,,www.b.gov.vn\n", encoding="utf-8")
    procedures, rejected = read_procedures(bare)
    assert [p.line for p in procedures] == [1] and [r.line for r in rejected] == [2]


def test_a_survey_poster_opens_the_survey_from_its_qr_codes(
    full_library: Library, tmp_path: Path
) -> None:
    from bot.posters import survey_poster
    from bot.surveys.definitions import load_surveys

    survey = load_surveys(FULL_LIBRARY, full_library.profile)["ky-nang-so"]
    [path] = save(survey_poster(full_library, survey), tmp_path / "khao-sat.pdf")
    [(codes, text)] = read_pdf(path)
    assert sorted(codes) == sorted([ZALO, f"https://t.me/{BOT}?start=s_ky-nang-so_poster"])
    flat = " ".join(text.split()).replace("\xa0", " ")
    assert f"Khảo sát: {survey.title}" in flat and f"gõ #KS{survey.code}" in flat
    assert_inside_margins(survey_poster(full_library, survey))
