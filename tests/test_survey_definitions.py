"""Survey files: the shipped ones load, broken ones are reported with their file and line."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.content_files import ContentError
from bot.surveys.definitions import load_surveys, read_surveys
from tests.conftest import FIXTURE_LIBRARY, FULL_LIBRARY

SURVEYS = FULL_LIBRARY / "surveys"
PROFILE = {"centre_name": "Trung tâm", "hotline": "0296 3 800 123"}


def test_the_shipped_surveys_cover_every_kind_and_a_condition() -> None:
    surveys, problems = read_surveys(SURVEYS, PROFILE)
    assert problems == []
    assert set(surveys) == {"ky-nang-so", "hai-long"}
    kinds = {q.kind for s in surveys.values() for q in s.questions}
    assert kinds == {"single", "multi", "scale", "yesno", "number", "text", "village"}
    assert all(not s.named for s in surveys.values())
    assert any(q.when for s in surveys.values() for q in s.questions)
    satisfaction = surveys["hai-long"]
    assert satisfaction.sources and all(u.startswith("https://") for u in satisfaction.sources)
    indicators = [q.indicator for q in satisfaction.questions if q.indicator]
    assert any("766" in i for i in indicators)


def test_profile_placeholders_are_filled() -> None:
    surveys = load_surveys(FULL_LIBRARY, {**PROFILE, "centre_name": "Trung tâm xã Hòa An"})
    assert surveys["ky-nang-so"].intro.startswith("Trung tâm xã Hòa An hỏi")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    copy = tmp_path / "library"
    shutil.copytree(FIXTURE_LIBRARY, copy)
    (copy / "surveys").mkdir()
    shutil.copy(SURVEYS / "ky-nang-so.yaml", copy / "surveys")
    return copy


def check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["content", "check", str(path)])
    return result.exit_code, result.output


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


BREAKAGES = {
    "unknown kind": ("kind: yesno", "kind: có-không", "questions.1.kind: Input should be"),
    "condition on a later question": (
        "if: {dien-thoai: co}",
        "if: {muon-hoc: vneid}",
        "condition on 'muon-hoc', not an earlier question",
    ),
    "condition on an answer that does not exist": (
        "if: {vneid: [tu-lam, can-giup]}",
        "if: {vneid: [tu-lam, biet]}",
        "condition on 'vneid': no such answer biet",
    ),
    "too few options": (
        "      khong-ro: Không rõ\n",
        "",
        None,
    ),
    "unknown placeholder": ("{centre_name} hỏi", "{ten_xa} hỏi", "unknown placeholder {ten_xa}"),
    "duplicate key": ("      tu-60: Từ 60 tuổi trở lên\n", "      duoi-30: Lặp\n", "written twice"),
    "extra field": ("    min: 1\n", "    minimum: 1\n", "questions.6.minimum: Extra inputs"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_content_check_reports_a_broken_survey_with_its_line(library: Path, name: str) -> None:
    path = library / "surveys" / "ky-nang-so.yaml"
    old, new, message = BREAKAGES[name]
    text = path.read_text(encoding="utf-8")
    assert old in text
    line = line_of(path, old.strip())
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, output = check(library)
    if message is None:  # this one breaks nothing: two options are enough
        assert code == 0, output
        return
    assert code == 1, output
    assert f"ky-nang-so.yaml:{line}: " in output, output
    assert message in output


def test_a_wrong_file_name_and_a_reused_code(library: Path) -> None:
    source = (library / "surveys" / "ky-nang-so.yaml").read_text(encoding="utf-8")
    (library / "surveys" / "khac.yaml").write_text(source, encoding="utf-8")
    code, output = check(library)
    assert code == 1
    assert "khac.yaml:4: the file must be named after the id: ky-nang-so.yaml" in output


def test_a_broken_survey_stops_the_bot_loading_it(library: Path) -> None:
    path = library / "surveys" / "ky-nang-so.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"ky-nang-so.yaml:\d+: malformed YAML"):
        load_surveys(library, PROFILE)
