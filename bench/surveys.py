"""Benchmark: the results of a survey round of 100,000 responses, on SQLite and on PostgreSQL.

Seeds the digital-skills survey (content/surveys/ky-nang-so.yaml) with a previous round of
50,000 responses and a current round of 100,000 (about 900,000 answer rows each 100,000,
10% with a free-text comment, 1% from staff), then times `round_results` for the current
round (its change since the previous round included), the printed text and the XLSX.
Target (issue 16): results under 2 s on both databases.

    python bench/surveys.py                       # both databases, full size
    python bench/surveys.py --responses 20000 --only sqlite
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import Tables, drop_postgres, recreate_postgres, seed_postgres, seed_sqlite  # noqa: E402
from storage.db import upgrade  # noqa: E402

PG_DB = "troly_bench_surveys"
TARGET_S = 2.0
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
CHANNELS = ["zalo_oa", "zalo_bot", "telegram", "web", "messenger"]
VILLAGES = ["Ấp Hòa Thạnh", "Ấp Hòa Long", "Ấp Hòa Lợi", "Ấp Bình Phú", "Ấp Bình Thành", None]


def survey():
    from bot.library import load_library
    from bot.surveys.definitions import load_surveys

    library = load_library(ROOT / "content")
    return load_surveys(ROOT / "content", library.profile)["ky-nang-so"]


def rows(definition, round_sizes: list[int]):
    """(rounds, responses, answers) as plain tuples, deterministic."""
    from bot.surveys.definitions import MULTI_SEPARATOR

    rng = random.Random(16)
    rounds, responses, answers = [], [], []
    response_id = 0
    for number, size in enumerate(round_sizes, 1):
        opened = NOW - timedelta(days=365 * (len(round_sizes) - number))
        closed = opened + timedelta(days=30) if number < len(round_sizes) else None
        rounds.append((number, definition.id, number, definition.title, opened, closed))
        for person in range(size):
            response_id += 1
            finished = rng.random() < 0.85
            responses.append((
                response_id, number, f"p{number}-{person}", rng.choice(CHANNELS),
                rng.choice(VILLAGES), None, rng.random() < 0.01, None, opened, opened,
                opened + timedelta(minutes=3) if finished else None,
                not finished and rng.random() < 0.5,
            ))  # fmt: skip
            for question in definition.questions:
                if rng.random() < 0.1:
                    continue  # a condition did not hold, or they stopped before it
                skipped = rng.random() < 0.05
                choice = number_ = text = None
                if skipped:
                    pass
                elif question.kind == "number":
                    number_ = float(rng.randint(1, 12))
                elif question.kind == "text":
                    if rng.random() > 0.1:
                        continue
                    text = f"Góp ý số {rng.randrange(1000)}: cần hướng dẫn thêm"
                elif question.kind == "multi":
                    values = question.values()
                    choice = MULTI_SEPARATOR.join(v for v in values if rng.random() < 0.3)
                    choice = choice or values[0]
                else:
                    choice = rng.choice(question.values())
                answers.append((
                    response_id, number, responses[-1][6], responses[-1][3], responses[-1][4],
                    question.id, choice, number_, text, skipped,
                ))  # fmt: skip
    return rounds, responses, answers


COLUMNS = {
    "surveyround": "id, survey_id, number, title, opened_at, closed_at",
    "surveyresponse": "id, round_id, respondent, channel, village, source, staff, chat_id, "
    "started_at, updated_at, finished_at, stopped",
    "surveyanswer": "response_id, round_id, staff, channel, village, question_id, choice, "
    "number, text, skipped",
}


def tables(data: tuple[list, list, list]) -> Tables:
    return {
        table: (columns, rows) for (table, columns), rows in zip(COLUMNS.items(), data, strict=True)
    }


async def time_results(url: str, definition, number: int, out: Path) -> dict[str, float]:
    from bot.surveys.export import summary_text, write_xlsx
    from bot.surveys.results import round_results
    from storage.db import Database
    from storage.surveys import get_round

    database = Database(url)
    times: list[float] = []
    try:
        for _ in range(3):
            async with database.session() as session:
                started = time.perf_counter()
                round_ = await get_round(session, definition.id, number)
                results = await round_results(session, definition, round_)
                times.append(time.perf_counter() - started)
    finally:
        await database.close()
    started = time.perf_counter()
    summary_text(results)
    write_xlsx(results, out / "ket-qua.xlsx")
    files = time.perf_counter() - started
    return {
        "first": times[0],
        "median": statistics.median(times),
        "files": files,
        "responses": results.responses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    definition = survey()
    sizes = [args.responses // 2, args.responses]
    started = time.perf_counter()
    data = rows(definition, sizes)
    print(
        f"Seed: rounds of {sizes[0]:,} and {sizes[1]:,} responses, {len(data[2]):,} answers "
        f"({time.perf_counter() - started:.1f} s to generate)"
    )
    with tempfile.TemporaryDirectory() as folder:
        folder_path = Path(folder)
        targets = []
        if args.only in (None, "sqlite"):
            path = folder_path / "bench.db"
            url = f"sqlite+aiosqlite:///{path}"
            upgrade(url)
            seed_sqlite(path, tables(data))
            targets.append(("SQLite", url))
        if args.only in (None, "postgresql"):
            dsn = asyncio.run(recreate_postgres(PG_DB))
            url = dsn.replace("postgresql://", "postgresql+asyncpg://")
            upgrade(url)
            asyncio.run(seed_postgres(dsn, tables(data), vacuum=True))
            targets.append(("PostgreSQL", url))
        try:
            for name, url in targets:
                figures = asyncio.run(time_results(url, definition, len(sizes), folder_path))
                verdict = "OK" if figures["median"] < TARGET_S else "SLOWER THAN TARGET"
                print(
                    f"{name:<10}: results of round 2 ({figures['responses']:,} counted "
                    f"responses, with the change since round 1): first {figures['first']:.2f} s, "
                    f"median of 3 {figures['median']:.2f} s (target < {TARGET_S:.0f} s: "
                    f"{verdict}); text + XLSX {figures['files']:.2f} s"
                )
        finally:
            if args.only in (None, "postgresql"):
                asyncio.run(drop_postgres(PG_DB))


if __name__ == "__main__":
    main()
