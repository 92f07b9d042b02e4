"""Results equal a hand count of a seeded round of 500 responses, on SQLite and PostgreSQL."""

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.surveys.definitions import MULTI_SEPARATOR, Survey, load_surveys
from bot.surveys.export import summary_text, write_charts, write_xlsx
from bot.surveys.results import NO_VILLAGE, RoundResults, round_results
from storage.db import Database
from storage.models import SurveyAnswer, SurveyResponse
from storage.surveys import close_round, open_round, start_response
from tests.conftest import FULL_LIBRARY

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
CHANNELS = ["telegram", "zalo", "web", "messenger"]
VILLAGES = ["Ấp Hòa Long", "Ấp Bình Phú", None]
PROFILE = {
    "centre_name": "Trung tâm",
    "hotline": "0296 3 800 123",
    "villages": ["Ấp Hòa Long", "Ấp Bình Phú"],
}


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_surveys(FULL_LIBRARY, PROFILE)["ky-nang-so"]


class HandCount:
    """What the results must say, counted one response at a time in plain Python."""

    def __init__(self) -> None:
        self.responses = self.finished = self.stopped = 0
        self.by_channel: Counter = Counter()
        self.by_village: Counter = Counter()
        self.answered: Counter = Counter()
        self.skipped: Counter = Counter()
        self.options: dict[str, Counter] = defaultdict(Counter)
        self.option_village: dict[tuple[str, str], Counter] = defaultdict(Counter)
        self.numbers: dict[str, list[float]] = defaultdict(list)
        self.texts: Counter = Counter()


def answer_for(question, rng: random.Random) -> dict:
    if question.kind == "number":
        return {"number": float(rng.randint(1, 9))}
    if question.kind == "text":
        return {"text": f"ý kiến {rng.randint(1, 999)}"}
    values = question.values()
    if question.kind == "multi":
        return {
            "choice": MULTI_SEPARATOR.join(v for v in values if rng.random() < 0.4) or values[0]
        }
    return {"choice": rng.choice(values)}


async def seed(database: Database, survey: Survey, round_id: int, people: int, seed_: int):
    """`people` responses (plus staff ones, never counted); returns the hand count."""
    rng, count = random.Random(seed_), HandCount()
    responses, plans = [], []
    for person in range(people + 15):
        staff = person >= people
        finished, stopped = rng.random() < 0.8, rng.random() < 0.1
        channel, village = rng.choice(CHANNELS), rng.choice(VILLAGES)
        responses.append({
            "round_id": round_id, "respondent": f"r{round_id}-{person}", "channel": channel,
            "village": village, "staff": staff, "started_at": NOW, "updated_at": NOW,
            "finished_at": NOW + timedelta(minutes=3) if finished else None,
            "stopped": stopped and not finished,
        })  # fmt: skip
        plan = []
        for question in survey.questions:
            roll = rng.random()
            if roll < 0.15:
                continue  # not asked (a condition) or not reached
            plan.append((question, roll < 0.25, answer_for(question, rng)))
        plans.append(plan)
        if staff:
            continue
        count.responses += 1
        count.finished += finished
        count.stopped += stopped and not finished
        count.by_channel[channel] += 1
        count.by_village[village or NO_VILLAGE] += 1
        for question, skipped, answer in plan:
            if skipped:
                count.skipped[question.id] += 1
                continue
            count.answered[question.id] += 1
            for value in (answer.get("choice") or "").split(MULTI_SEPARATOR):
                if value:
                    count.options[question.id][value] += 1
                    count.option_village[question.id, value][village or NO_VILLAGE] += 1
            if "number" in answer:
                count.numbers[question.id].append(answer["number"])
            if "text" in answer:
                count.texts[question.id] += 1
    async with database.session() as session, session.begin():
        ids = (
            await session.scalars(
                insert(SurveyResponse).returning(SurveyResponse.id, sort_by_parameter_order=True),
                responses,
            )
        ).all()
        rows = [
            {"response_id": rid, "question_id": q.id, "skipped": skipped,
             "choice": None, "number": None, "text": None, **({} if skipped else answer),
             **{k: response[k] for k in ("round_id", "staff", "channel", "village")}}
            for rid, response, plan in zip(ids, responses, plans, strict=True)
            for q, skipped, answer in plan
        ]  # fmt: skip
        await session.execute(insert(SurveyAnswer), rows)
    return count


async def results_of(database: Database, survey: Survey, number: int) -> RoundResults:
    from storage.surveys import get_round

    async with database.session() as session:
        round_ = await get_round(session, survey.id, number)
        return await round_results(session, survey, round_)


async def two_rounds(database: Database, survey: Survey) -> tuple[HandCount, HandCount]:
    async with database.session() as session, session.begin():
        first = await open_round(session, survey.id, survey.title, NOW - timedelta(days=365))
        await close_round(session, survey.id, NOW - timedelta(days=300))
        second = await open_round(session, survey.id, survey.title, NOW)
    before = await seed(database, survey, first.id, 120, seed_=1)
    now = await seed(database, survey, second.id, 500, seed_=2)
    return before, now


async def test_results_equal_a_hand_count_of_500_responses(
    database: Database, survey: Survey
) -> None:
    before, count = await two_rounds(database, survey)
    results = await results_of(database, survey, 2)

    assert (results.responses, results.finished, results.stopped) == (
        count.responses, count.finished, count.stopped,
    )  # fmt: skip
    assert results.responses == 500
    assert results.by_channel == count.by_channel
    assert results.by_village == count.by_village
    for question in survey.questions:
        got = results.questions[question.id]
        assert (got.answered, got.skipped) == (
            count.answered[question.id],
            count.skipped[question.id],
        )
        for value, option in got.options.items():
            assert option.count == count.options[question.id][value], (question.id, value)
            assert option.by_village == count.option_village[question.id, value]
            expected = round(100 * option.count / got.answered, 1)
            assert got.percent(value) == expected
            assert sum(option.by_channel.values()) == option.count
        if question.kind == "number":
            numbers = count.numbers[question.id]
            assert got.mean == round(sum(numbers) / len(numbers), 2)
            assert (got.low, got.high) == (min(numbers), max(numbers))
        if question.kind == "text":
            assert len(got.texts) == count.texts[question.id] == got.answered

    assert results.previous is not None and results.previous.responses == before.responses == 120
    old = before.options["tuoi"]["tu-60"] / before.answered["tuoi"]
    new = count.options["tuoi"]["tu-60"] / count.answered["tuoi"]
    assert results.change("tuoi", "tu-60") == pytest.approx(100 * (new - old), abs=0.11)


async def test_a_person_who_answers_twice_is_counted_once(database: Database, survey: Survey):
    async with database.session() as session, session.begin():
        round_ = await open_round(session, survey.id, survey.title, NOW)
        values = {"round_id": round_.id, "respondent": "same-person", "channel": "telegram",
                  "started_at": NOW, "updated_at": NOW}  # fmt: skip
        first = await start_response(session, **values)
        second = await start_response(session, **{**values, "channel": "web"})
        assert first.id == second.id
    results = await results_of(database, survey, 1)
    assert results.responses == 1 and results.by_channel == {"telegram": 1}


async def test_the_xlsx_reads_back_and_the_charts_are_drawn(
    sqlite_database: Database, survey: Survey, tmp_path: Path
) -> None:
    await two_rounds(sqlite_database, survey)
    results = await results_of(sqlite_database, survey, 2)
    workbook = load_workbook(write_xlsx(results, tmp_path / "kq.xlsx"))
    assert workbook.sheetnames == [
        "Tổng hợp", "Theo câu hỏi", "Theo ấp", "Theo kênh", "Ý kiến", "Số phiếu",
    ]  # fmt: skip
    summary = {row[0]: row[1] for row in workbook["Tổng hợp"].iter_rows(values_only=True)}
    assert summary["Số phiếu"] == 500 and summary["Số phiếu đợt trước"] == 120
    rows = list(workbook["Theo câu hỏi"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Câu", "Nội dung", "Trả lời", "Số lượng", "Tỷ lệ (%)")
    over_60 = next(r for r in rows if r[2] == "Từ 60 tuổi trở lên")
    assert over_60[3] == results.questions["tuoi"].options["tu-60"].count
    assert over_60[6] == results.change("tuoi", "tu-60")
    texts = list(workbook["Ý kiến"].iter_rows(values_only=True))[1:]
    assert len(texts) == len(results.questions["gop-y"].texts)
    charts = write_charts(results, tmp_path / "charts")
    assert len(charts) == 11 and all(p.read_bytes()[:4] == b"\x89PNG" for p in charts)
    text = summary_text(results)
    assert text.startswith("KẾT QUẢ KHẢO SÁT KỸ NĂNG SỐ – ĐỢT 2")
    assert "Số phiếu: 500" in text and "so với đợt trước" in text


async def test_the_weekly_and_monthly_reports_have_a_surveys_section(
    sqlite_database: Database, full_library
) -> None:
    from datetime import date

    from bot.reports import build_report, month_starting
    from bot.reports.periods import week_ending
    from bot.settings import Settings

    satisfaction = load_surveys(FULL_LIBRARY, full_library.profile)["hai-long"]
    await two_rounds(sqlite_database, satisfaction)
    results = await results_of(sqlite_database, satisfaction, 2)
    expected = results.questions["hai-long-tthc"].indicator_percent
    async with sqlite_database.session() as session:
        report = await build_report(session, month_starting(2026, 11, Settings()), full_library)
        quiet = await build_report(session, month_starting(2026, 10, Settings()), full_library)
        # The week closing Friday 27/11 holds NOW; the week before holds nothing.
        week, week_before = [
            await build_report(session, week_ending(date(2026, 11, day), Settings()), full_library)
            for day in (27, 20)
        ]
    assert "- Khảo sát người dân:" in report.summary
    assert "Khảo sát mức độ hài lòng, đợt 2: 500 phiếu trong kỳ" in report.summary
    percent = f"{expected:.1f}".replace(".", ",")
    assert f"Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC (QĐ 766/QĐ-TTg): {percent}%" in (
        report.summary
    )
    assert "Khảo sát" not in quiet.summary
    assert "Khảo sát mức độ hài lòng, đợt 2: 500 phiếu trong kỳ" in week.summary
    assert f"(QĐ 766/QĐ-TTg): {percent}%" in week.summary
    assert "Khảo sát" not in week_before.summary
