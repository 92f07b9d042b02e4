"""Benchmark: a monthly report over one year of a large commune, on SQLite and on PostgreSQL.

Seeds 200,000 support sessions and 2,000,000 message events (plus their guides, hand-offs,
tickets and in-person log entries) spread over 2026, then builds the report for one month in a
fresh process and prints the time and that process's peak memory. Target (issue 7): under
10 s and 500 MB on both databases.

    python bench/reports.py                      # both databases, full size
    python bench/reports.py --scale 0.1 --only sqlite
"""

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import Tables, recreate_postgres, seed_postgres, seed_sqlite  # noqa: E402
from storage.db import upgrade  # noqa: E402

PG_DB = "troly_bench"
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
SECONDS_IN_YEAR = 365 * 24 * 3600
CHANNELS = ["zalo_oa", "zalo_bot", "telegram", "web"]
TOPICS = ["dvc", "vneid", "thanh-toan", "lua-dao", "tthc", "trung-tam", "du-lieu"]
GUIDES = [f"guide-{n:03d}" for n in range(60)]
OUTCOMES = ["self_served", "abandoned", "handoff", "feedback"]
UNKNOWN = [f"cau hoi chua co huong dan so {n}" for n in range(400)]


def when(rng: random.Random) -> datetime:
    return YEAR_START + timedelta(seconds=rng.randrange(SECONDS_IN_YEAR))


def rows(sessions: int, messages: int):
    """The seed as plain tuples per table, deterministic."""
    rng = random.Random(7)
    data: dict[str, list[tuple]] = {k: [] for k in ("s", "g", "m", "h", "t", "l")}
    for sid in range(1, sessions + 1):
        started = when(rng)
        satisfaction = rng.choice([None, None, 1, 2, 2, 3])
        data["s"].append((
            sid, rng.choice(CHANNELS), f"ref{rng.randrange(60_000)}", started,
            started + timedelta(minutes=rng.randrange(1, 20)),
            json.dumps(rng.sample(TOPICS, rng.randrange(0, 3))), rng.choice(OUTCOMES),
            rng.choice([None, None, None, "poster", "TV05", "TV12"]), satisfaction is not None,
            None if satisfaction is None else satisfaction < 3, satisfaction, None,
        ))  # fmt: skip
        for guide in rng.sample(GUIDES, rng.randrange(0, 3)):
            step = rng.randrange(1, 6)
            data["g"].append((sid, guide, step, step == 5))
    for _ in range(messages):
        unknown = rng.random() < 0.05
        data["m"].append((
            when(rng), rng.choice(CHANNELS), f"chat{rng.randrange(60_000)}",
            rng.choice(["in", "out"]),
            "search", None, None, "unknown" if unknown else "answer",
            rng.choice(UNKNOWN) if unknown else "mot cau hoi binh thuong ve dich vu cong",
        ))  # fmt: skip
    for hid in range(1, sessions // 100 + 1):
        opened = when(rng)
        first = opened + timedelta(minutes=rng.randrange(1, 240)) if rng.random() < 0.9 else None
        data["h"].append((hid, None, "telegram", "c", "câu hỏi", opened, first, first))
    for tid in range(1, sessions // 200 + 1):
        created = when(rng)
        due = (created + timedelta(days=14)).date()
        answered = created + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.8 else None
        data["t"].append((
            tid, f"PA-2026-{tid:06d}", "telegram", "c", "nội dung", None,
            "answered" if answered else "open", created, due, "trả lời" if answered else None,
            answered, "Lan" if answered else None, None,
        ))  # fmt: skip
    for lid in range(1, sessions // 100 + 1):
        day = when(rng).date()
        data["l"].append((
            lid, day, "Cài VNeID", rng.choice(["Quầy 1", "Chợ Hòa An", "Họp ấp Bình Phú"]),
            rng.randrange(1, 30), rng.random() < 0.6, None, rng.choice(["Lan", "Tư", "Bình"]),
            YEAR_START,
        ))  # fmt: skip
    return data


COLUMNS = {
    "supportsession": ("s", "id, channel, contact_ref, started_at, ended_at, topics, outcome, "
                       "referral, rating_asked, helpful, satisfaction, comment"),
    "sessionguide": ("g", "session_id, guide_id, furthest_step, finished"),
    "messageevent": ("m", "at, channel, chat_id, direction, handler, guide_id, step, outcome, "
                     "text"),
    "handoff": ("h", "id, session_id, channel, chat_id, question, opened_at, "
                "first_response_at, closed_at"),
    "ticket": ("t", "id, number, channel, chat_id, content, reply_contact, status, created_at, "
               "due, answer, answered_at, answered_by, closed_at"),
    "supportlogentry": ("l", "id, day, topic, place, people, submitted_online, helper_id, "
                        "helper_name, created_at"),
}  # fmt: skip


def tables(data: dict[str, list[tuple]]) -> Tables:
    return {table: (columns, data[key]) for table, (key, columns) in COLUMNS.items()}


def peak_memory_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: on Linux it survives exec, so a
    child forked from the seeding process would report the parent's seed data too."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_report(url: str, out: str) -> None:
    """In a fresh process: build June's report, write the XLSX and charts, print the figures."""
    from bot.library import load_library
    from bot.reports import build_report, parse_period, write_charts, write_xlsx
    from bot.settings import Settings
    from storage.db import Database

    settings = Settings(database_url=url)
    library = load_library(ROOT / "content")
    period = parse_period("month", "2026-06", datetime(2026, 12, 1, tzinfo=UTC), settings)

    async def build():
        database = Database(settings.database_url)
        try:
            async with database.session() as session:
                return await build_report(session, period, library)
        finally:
            await database.close()

    started = time.perf_counter()
    report = asyncio.run(build())
    built = time.perf_counter() - started
    write_xlsx(report, Path(out) / "report.xlsx")
    write_charts(report, Path(out))
    total = time.perf_counter() - started
    peak_mb = peak_memory_mb()
    print(json.dumps({"build_s": built, "with_files_s": total, "peak_mb": peak_mb,
                      "sessions": report.figures["sessions"]}))  # fmt: skip


def measure(name: str, url: str) -> None:
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            [sys.executable, __file__, "--run-report", url, "--out", out],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"{name:<10} month report: build {figures['build_s']:.2f} s, with XLSX + charts "
        f"{figures['with_files_s']:.2f} s, peak memory {figures['peak_mb']:.0f} MB "
        f"({figures['sessions']:,} sessions in the month)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--run-report")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.run_report:
        run_report(args.run_report, args.out)
        return
    sessions, messages = int(200_000 * args.scale), int(2_000_000 * args.scale)
    started = time.perf_counter()
    data = rows(sessions, messages)
    print(f"seed: {sessions:,} sessions, {messages:,} messages "
          f"(generated in {time.perf_counter() - started:.0f} s)")  # fmt: skip
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.db"
            upgrade(f"sqlite+aiosqlite:///{path}")
            started = time.perf_counter()
            seed_sqlite(path, tables(data))
            print(f"sqlite     seeded in {time.perf_counter() - started:.0f} s")
            measure("sqlite", f"sqlite:///{path}")
    if args.only in (None, "postgresql"):
        url = asyncio.run(recreate_postgres(PG_DB))
        upgrade(url.replace("postgresql://", "postgresql+asyncpg://"))
        started = time.perf_counter()
        asyncio.run(seed_postgres(url, tables(data)))
        print(f"postgresql seeded in {time.perf_counter() - started:.0f} s")
        measure("postgresql", url)


if __name__ == "__main__":
    main()
