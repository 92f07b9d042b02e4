"""The `troly` command line as a script would use it: real processes, a real SQLite file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_LIBRARY, ROOT

TROLY = [sys.executable, "-m", "bot"]


def run(args: list[str], tmp_path: Path, stdin: str = "", library: Path = FIXTURE_LIBRARY):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "CONTENT_DIR": str(library),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        TROLY + args,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )


def test_piped_console_chat_walks_menu_topic_guide(tmp_path: Path) -> None:
    result = run(["chat"], tmp_path, stdin="menu\n1\n1\n2\n")
    assert result.returncode == 0, result.stderr
    assert "  1. 🪪 VNeID" in result.stdout
    assert "  1. Cài ứng dụng VNeID" in result.stdout
    assert "Bước 1/3: Mở kho ứng dụng" in result.stdout
    # On step 1 the buttons are "Tiếp" (1) and "Danh mục" (2): typing 2 goes to the menu.
    assert result.stdout.rstrip().endswith("  2. ⚠️ Cảnh báo lừa đảo")
    assert (tmp_path / "cli.db").exists(), "the console used the embedded SQLite default"


def test_console_shows_phone_buttons_with_their_number(tmp_path: Path) -> None:
    result = run(["chat"], tmp_path, stdin="giá vàng hôm nay\n")
    assert "3. ☎️ Gọi tổng đài: 0296 3 800 123" in result.stdout


def test_ask_json_prints_one_object(tmp_path: Path) -> None:
    result = run(["ask", "cài vneid thế nào", "--json"], tmp_path, library=ROOT / "content")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["query"] == "cài vneid thế nào"
    assert found["outcome"] == "answer"
    assert found["results"][0]["id"] == "vneid-cai-dat"
    assert set(found["results"][0]) == {"id", "title", "score"}


def test_ask_jsonl_answers_every_line_in_order(tmp_path: Path) -> None:
    questions = ["cai vneid the nao", "giá vàng hôm nay", "quen passcode vneid", ""]
    result = run(
        ["ask", "--jsonl"], tmp_path, stdin="\n".join(questions) + "\n", library=ROOT / "content"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == questions
    assert lines[1] == {"query": "giá vàng hôm nay", "outcome": "unknown", "results": []}
    assert lines[2]["results"][0]["id"] == "vneid-quen-passcode"
    scores = [r["score"] for r in lines[0]["results"]]
    assert scores == sorted(scores, reverse=True)


def test_content_show_large_prints_numbered_plain_steps(tmp_path: Path) -> None:
    result = run(["content", "show", "vneid-cai-dat", "--large"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "CÀI ỨNG DỤNG VNEID"
    assert "BƯỚC 1. MỞ KHO ỨNG DỤNG" in lines
    assert max(len(line) for line in lines) <= 40, "few words per line for large print"
    assert run(["content", "show", "khong-co", "--large"], tmp_path).returncode == 1


def test_content_stats_lists_topics_longest_step_and_thin_guides(tmp_path: Path) -> None:
    result = run(["content", "stats"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "vneid" in result.stdout and "2 guides" in result.stdout
    assert "Longest step: " in result.stdout
    assert (
        "Fewer than 8 sample questions: lua-dao-otp, vneid-cai-dat, vneid-kich-hoat"
        in result.stdout
    )


def test_a_broken_library_stops_the_bot_with_a_clear_message(tmp_path: Path) -> None:
    result = run(["chat"], tmp_path, stdin="menu\n", library=tmp_path / "nowhere")
    assert result.returncode == 1
    assert "content folder does not exist" in result.stderr


@pytest.mark.parametrize("command", [["--help"], ["content", "--help"], ["db", "upgrade"]])
def test_basic_commands_run(tmp_path: Path, command: list[str]) -> None:
    assert run(command, tmp_path).returncode == 0
