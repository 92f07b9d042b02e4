"""`troly content check`: one broken copy of the fixture library per kind of mistake."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.library import months_before
from bot.settings import get_settings
from tests.conftest import FIXTURE_LIBRARY, FULL_LIBRARY

GUIDE = Path("guides") / "vneid-cai-dat.md"
SOURCE = "https://cafef.vn/bo-cong-an-khuyen-cao-4-dieu-nguoi-dan-can-luu-y-de-tranh-bi-chiem-doat-tai-khoan-ngan-hang-188240208104440651.chn"


def check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["content", "check", str(path)])
    return result.exit_code, result.output


@pytest.fixture
def library(tmp_path: Path) -> Path:
    copy = tmp_path / "library"
    shutil.copytree(FIXTURE_LIBRARY, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_fixture_library_and_the_shipped_library_pass() -> None:
    assert check(FIXTURE_LIBRARY)[0] == 0
    code, output = check(FULL_LIBRARY)
    assert code == 0, output
    assert re.search(r"OK: \d+ guides", output)


BREAKAGES = {
    "missing field": (
        "title: Cài ứng dụng VNeID\n",
        "",
        r"vneid-cai-dat.md:1: field 'title': Field required",
    ),
    "invalid field": ("code: 11", "code: mười một", r"vneid-cai-dat.md:3: field 'code'"),
    "invalid date": (
        "updated: 2026-10-01",
        "updated: hôm qua",
        r"vneid-cai-dat.md:\d+: field 'updated'",
    ),
    "unknown related guide": (
        "related: [vneid-kich-hoat, lua-dao-otp]",
        "related: [vneid-kich-hoat, khong-co]",
        r"vneid-cai-dat.md:\d+: link to a guide that does not exist: 'khong-co'",
    ),
    "unknown inline link": (
        "(guide:vneid-kich-hoat)",
        "(guide:vneid-kich-hoat-2)",
        r"vneid-cai-dat.md:23: link to a guide that does not exist: 'vneid-kich-hoat-2'",
    ),
    "unknown placeholder": (
        "Gọi {hotline}.",
        "Gọi {hot_line}.",
        r"vneid-cai-dat.md:24: unknown placeholder \{hot_line\}",
    ),
    "step too long": (
        "Mở CH Play (Android)",
        "Mở CH Play " + "rất dài " * 100,
        r"vneid-cai-dat.md:16: step 'Mở kho ứng dụng' is \d+ characters",
    ),
    "malformed yaml": (
        "keywords: [vneid, cài vneid",
        "keywords: [vneid, cài vneid:: [",
        r"vneid-cai-dat.md:\d+: malformed YAML",
    ),
    "key written twice": (
        "topic: vneid",
        "topic: vneid\ntitle: Một tiêu đề khác",
        r"vneid-cai-dat.md:6: malformed YAML: key 'title' is written twice",
    ),
    "unknown topic": (
        "topic: vneid",
        "topic: vneidd",
        r"vneid-cai-dat.md:5: unknown topic 'vneidd'",
    ),
    "bad source": (
        "source: https://cafef.vn/",
        "source: cafef.vn/",
        r"vneid-cai-dat.md:14: field 'source'.*not an http",
    ),
    "bare-domain source": (
        f"source: {SOURCE}",
        "source: https://vneid.gov.vn",
        r"vneid-cai-dat.md:14: field 'source'.*'https://vneid.gov.vn' is a bare domain",
    ),
    "bare domain among several sources": (
        f"source: {SOURCE}",
        f"source:\n  - {SOURCE}\n  - https://vneid.gov.vn/",
        r"vneid-cai-dat.md:14: field 'source'.*'https://vneid.gov.vn/' is a bare domain",
    ),
}


@pytest.mark.parametrize("kind", BREAKAGES)
def test_each_kind_of_mistake_is_reported_with_file_and_line(library: Path, kind: str) -> None:
    old, new, expected = BREAKAGES[kind]
    edit(library / GUIDE, old, new)
    code, output = check(library)
    assert code == 1
    assert re.search(expected, output), output


def test_duplicate_id_and_code_are_reported(library: Path) -> None:
    twin = library / "guides" / "twin.md"
    shutil.copy(library / GUIDE, twin)
    code, output = check(library)
    assert code == 1
    assert re.search(r"(twin|vneid-cai-dat).md:2: duplicate guide id 'vneid-cai-dat'", output)
    edit(twin, "id: vneid-cai-dat", "id: vneid-cai-dat-2")
    code, output = check(library)
    assert re.search(r"\.md:3: code 11 already used by 'vneid-cai-dat(-2)?'", output), output


def test_malformed_profile_and_too_many_steps_are_reported(library: Path) -> None:
    (library / "profile.yaml").write_text("commune_name: [unclosed\n", encoding="utf-8")
    guide = library / GUIDE
    guide.write_text(guide.read_text(encoding="utf-8") + "\n## Thêm\nx\n" * 5, encoding="utf-8")
    code, output = check(library)
    assert code == 1
    assert re.search(r"profile.yaml:\d+: malformed YAML", output), output
    assert "more than 7 steps" in output


def test_every_problem_is_listed_not_just_the_first(library: Path) -> None:
    edit(library / GUIDE, "Gọi {hotline}.", "Gọi {hot_line}.")
    edit(library / "guides" / "lua-dao-otp.md", "code: 43", "code: 0")
    code, output = check(library)
    assert code == 1
    assert "hot_line" in output and "lua-dao-otp.md:3" in output
    # The invalid guide is left out, so the link to it breaks too: three problems, all listed.
    assert "link to a guide that does not exist: 'lua-dao-otp'" in output
    assert "3 problem(s) found." in output


def test_several_specific_sources_are_accepted(library: Path) -> None:
    edit(
        library / GUIDE,
        f"source: {SOURCE}",
        f"source:\n  - https://dean06.hanam.gov.vn/tailieu/dk_t5.html\n  - {SOURCE}",
    )
    code, output = check(library)
    assert code == 0, output


# --- review dates: a warning with file:line, never a failure ---------------------------


def checked_today(path: Path) -> None:
    edit(path, "updated: 2026-10-01", f"updated: {date.today()}\nchecked: {date.today()}")


def test_a_guide_never_checked_is_a_warning_not_a_failure(library: Path) -> None:
    code, output = check(library)
    assert code == 0, output
    assert re.search(r"vneid-cai-dat.md:1: warning: no 'checked:' date", output), output


def test_a_guide_checked_long_ago_is_a_warning_with_its_line(library: Path) -> None:
    edit(library / GUIDE, "updated: 2026-10-01", "updated: 2026-10-01\nchecked: 2020-01-15")
    checked_today(library / "guides" / "lua-dao-otp.md")
    code, output = check(library)
    assert code == 0, output
    assert re.search(r"vneid-cai-dat.md:14: warning: last checked 2020-01-15", output), output
    assert "lua-dao-otp.md" not in output


def test_the_review_age_is_a_setting(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = months_before(date.today(), 3)
    edit(library / GUIDE, "updated: 2026-10-01", f"updated: 2026-10-01\nchecked: {checked}")
    assert "last checked" not in check(library)[1]  # 3 months < the default 6
    monkeypatch.setenv("CONTENT_REVIEW_MONTHS", "2")
    get_settings.cache_clear()
    try:
        output = check(library)[1]
        assert re.search(rf"vneid-cai-dat.md:14: warning: last checked {checked}", output)
    finally:
        get_settings.cache_clear()


def test_content_stats_lists_guides_oldest_check_first(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(library / GUIDE, "updated: 2026-10-01", "updated: 2026-10-01\nchecked: 2020-01-15")
    checked_today(library / "guides" / "lua-dao-otp.md")
    monkeypatch.setenv("CONTENT_DIR", str(library))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["content", "stats"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    listing = result.output.split("Guides by last check (oldest first):\n", 1)[1].splitlines()
    assert "never checked" in listing[0] and listing[0].endswith("vneid-kich-hoat")
    assert listing[1].startswith("  2020-01-15") and "vneid-cai-dat  due for review" in listing[1]
    assert listing[2].endswith("0 days  lua-dao-otp")


def test_profile_fields_and_targets_are_checked_with_their_lines(library: Path) -> None:
    profile = library / "profile.yaml"
    edit(profile, 'hotline: "0296 3 800 123"', 'hotline: "gọi anh Bình"')
    lines = [line for line in profile.read_text(encoding="utf-8").splitlines()
             if not line.startswith("villages:")]  # fmt: skip
    hotline = next(n for n, line in enumerate(lines, 1) if line.startswith("hotline:"))
    profile.write_text(
        "\n".join(lines) + "\nvillages: [Ấp A, Ấp A]\ntargets:\n  satisfaction_percent: 150\n"
        "  online_dossiers: 80\n  in_person_people: nhiều\n",
        encoding="utf-8",
    )
    end = len(lines)
    code, output = check(library)
    assert code == 1
    for line, message in [
        (hotline, "field 'hotline': 'gọi anh Bình' is not a phone number"),
        (end + 1, "field 'villages': 'Ấp A' is written twice"),
        (end + 3, "target 'satisfaction_percent' is a share: between 0 and 100"),
        (end + 4, "unknown target 'online_dossiers'"),
        (end + 5, "target 'in_person_people': 'nhiều' is not a number"),
    ]:
        assert f"profile.yaml:{line}: {message}" in output, output


def test_a_question_filed_under_a_guide_that_does_not_exist_is_reported(library: Path) -> None:
    asked = library / "asked"
    asked.mkdir(exist_ok=True)
    (asked / "counter.tsv").write_text(
        "query\texpected\n"
        "cai vneid the nao\tvneid-cai-dat\n"
        "lam so do o dau\tunknown\n"
        "doi bang lai\tdoi-bang-lai\n"
        "một câu không có tab\n",
        encoding="utf-8",
    )
    (asked / "no-header.tsv").write_text("cai vneid\tvneid-cai-dat\n", encoding="utf-8")
    code, output = check(library)
    assert code == 1
    assert re.search(r"counter.tsv:4: unknown guide 'doi-bang-lai'", output), output
    assert re.search(r"counter.tsv:5: each line is a question, a tab, a guide id", output)
    assert re.search(r"no-header.tsv:1: the first line must be: query<TAB>expected", output)
    assert "counter.tsv:2" not in output and "counter.tsv:3" not in output
