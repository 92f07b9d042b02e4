"""`troly survey ...` as staff would run it: real processes, a real SQLite file."""

from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import ROOT
from tests.test_cli import run


def survey(args: list[str], tmp_path: Path):
    return run(["survey", *args], tmp_path, library=ROOT / "content")


def test_open_status_results_close(tmp_path: Path) -> None:
    opened = survey(["open", "ky-nang-so"], tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert "Round 1 of 'ky-nang-so' is open" in opened.stdout
    again = survey(["open", "ky-nang-so"], tmp_path)
    assert again.returncode == 1 and "already open" in again.stderr

    answered = run(["chat"], tmp_path, stdin="#KS1\n1\n1\n2\n", library=ROOT / "content")
    assert "Câu 2/13" in answered.stdout, answered.stdout

    status = survey(["status", "ky-nang-so"], tmp_path)
    assert "round 1:" in status.stdout and "1 responses, 0 finished" in status.stdout
    results = survey(
        ["results", "#KS1", "--xlsx", str(tmp_path / "kq.xlsx"), "--charts", str(tmp_path / "png")],
        tmp_path,
    )
    assert results.returncode == 0, results.stderr
    assert "Số phiếu: 1" in results.stdout
    assert "• Dưới 30 tuổi: 1 (100,0%)" in results.stdout
    assert load_workbook(tmp_path / "kq.xlsx")["Tổng hợp"]["B5"].value == 1
    assert list((tmp_path / "png").glob("*.png"))

    assert survey(["close", "ky-nang-so"], tmp_path).returncode == 0
    closed = survey(["close", "ky-nang-so"], tmp_path)
    assert closed.returncode == 1 and "no round" in closed.stderr
    unknown = survey(["results", "nothing"], tmp_path)
    assert unknown.returncode == 1 and "No survey 'nothing'. Surveys: hai-long" in unknown.stderr


def test_a_campaign_carries_a_survey_and_its_button_opens_it(tmp_path: Path) -> None:
    """`troly campaign create --survey`: the message invites, its button opens the survey, and
    the campaign is the response's source."""
    assert survey(["open", "ky-nang-so"], tmp_path).returncode == 0
    created = run(["campaign", "create", "--survey", "ky-nang-so"], tmp_path,
                  library=ROOT / "content")  # fmt: skip
    assert created.returncode == 0, created.stderr
    campaign_id = created.stdout.split()[1]
    shown = run(["campaign", "preview", campaign_id], tmp_path, library=ROOT / "content")
    assert "chỉ vài câu ngắn" in shown.stdout and "1. ▶️ Bắt đầu" in shown.stdout, shown.stdout
    wrong = run(["campaign", "create", "--survey", "khong-co"], tmp_path, library=ROOT / "content")
    assert wrong.returncode == 1 and "No survey 'khong-co'" in wrong.stderr


def test_poster_survey_writes_the_poster(tmp_path: Path) -> None:
    """`troly poster survey <id>`: the process writes the PDF (its QR codes are read back in
    test_posters.py); an unknown survey is said, with exit code 1."""
    out = tmp_path / "khao-sat.pdf"
    made = run(["poster", "survey", "ky-nang-so", "--out", str(out)], tmp_path,
               library=ROOT / "content")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert f"Written: {out}" in made.stdout and out.read_bytes()[:5] == b"%PDF-"
    wrong = run(["poster", "survey", "khong-co", "--out", str(tmp_path / "x.pdf")], tmp_path,
                library=ROOT / "content")  # fmt: skip
    assert wrong.returncode == 1 and "No survey 'khong-co'" in wrong.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_a_broken_survey_file_is_reported_not_a_traceback(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import FIXTURE_LIBRARY

    library = tmp_path / "library"
    shutil.copytree(FIXTURE_LIBRARY, library)
    (library / "surveys").mkdir()
    source = (ROOT / "content" / "surveys" / "ky-nang-so.yaml").read_text(encoding="utf-8")
    broken = source.replace("kind: yesno", "kind: có-không", 1)
    (library / "surveys" / "ky-nang-so.yaml").write_text(broken, encoding="utf-8")
    listed = run(["survey", "list"], tmp_path, library=library)
    assert listed.returncode == 1, listed.stderr
    assert "Traceback" not in listed.stderr
    assert "run `troly content check`" in listed.stderr and "ky-nang-so.yaml:" in listed.stderr
