"""`troly content check`: one broken copy of the fixture library per kind of mistake."""

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import FIXTURE_LIBRARY, FULL_LIBRARY

GUIDE = Path("guides") / "vneid-cai-dat.md"


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
    "key written twice": ("topic: vneid", "topic: vneid\ntitle: Một tiêu đề khác",
                          r"vneid-cai-dat.md:6: malformed YAML: key 'title' is written twice"),
    "unknown topic": (
        "topic: vneid",
        "topic: vneidd",
        r"vneid-cai-dat.md:5: unknown topic 'vneidd'",
    ),
    "bad source": (
        "source: https://vneid.gov.vn",
        "source: vneid.gov.vn",
        r"vneid-cai-dat.md:\d+: field 'source'",
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
