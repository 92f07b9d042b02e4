"""Benchmark: engine reply latency on a synthetic 300-guide library, and `troly serve` memory.

Prints p50/p99 per reply without the database (routing, matching, handler) and with a real
SQLite file, for 10,000 mixed searches and navigation steps, then the resident memory of an
idle `troly serve`. Targets (issue 2): p99 < 5 ms without the database, RSS < 150 MB; with
SQLite p99 < 8 ms (issue 17, was 15 ms), and the SQL statements a turn costs are counted.

    python bench/engine.py
"""

import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.library import load_library  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from handlers import load_handlers  # noqa: E402
from handlers.routing import Turn  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.models import Conversation  # noqa: E402

load_handlers()
GUIDES = 300
REPLIES = 10_000
SUBJECTS = [
    "khai sinh",
    "kết hôn",
    "thường trú",
    "lý lịch tư pháp",
    "chứng thực",
    "VNeID",
    "mật khẩu",
    "thanh toán",
    "lệ phí",
    "biên lai",
    "hồ sơ",
    "bưu điện",
    "căn cước",
    "bảo hiểm y tế",
    "giấy phép",
    "đất đai",
    "hộ kinh doanh",
    "trợ cấp",
    "học bổng",
    "điện thoại",
    "tài khoản",
]
ACTIONS = [
    "đăng ký",
    "tra cứu",
    "nộp",
    "nhận",
    "cấp lại",
    "sửa",
    "hủy",
    "gia hạn",
    "kiểm tra",
    "đổi",
]
PLACES = ["trực tuyến", "tại xã", "qua bưu điện", "trên VNeID", "cho con", "cho người già"]


def write_synthetic_library(target: Path) -> list[str]:
    """Copy the real profile, topics and texts; write 300 generated guides. Returns questions."""
    for name in ("profile.yaml", "topics.yaml", "texts.yaml"):
        shutil.copy(ROOT / "content" / name, target / name)
    (target / "guides").mkdir()
    rng = random.Random(7)
    questions = []
    combos = [(a, s, p) for a in ACTIONS for s in SUBJECTS for p in PLACES]
    rng.shuffle(combos)
    for number, (action, subject, place) in enumerate(combos[:GUIDES], 1):
        asked = [
            f"{action} {subject} {place} thế nào",
            f"muốn {action} {subject} {place}",
            f"{action} {subject} ở đâu",
            f"lam sao de {action} {subject}",
        ]
        questions.extend(asked)
        steps = "\n\n".join(
            f"## Việc {n}\nBạn {action} {subject} {place}: bước {n}, làm theo hướng dẫn. "
            f"Cần giúp? Gọi {{hotline}}."
            for n in range(1, 6)
        )
        (target / "guides" / f"g{number}.md").write_text(
            f"---\nid: g{number}\ncode: {number}\ntitle: {action.capitalize()} {subject} {place}\n"
            f"topic: dvc\nsummary: Cách {action} {subject} {place}.\n"
            f"keywords: [{action} {subject}, {subject} {place}]\n"
            f"questions: [{', '.join(asked)}]\nupdated: 2026-11-01\nchecked: 2026-11-01\n"
            "source: https://dichvucong.gov.vn/p/home/dvc-gioi-thieu.html\n"
            f"---\n{steps}\n",
            encoding="utf-8",
        )
    return questions


def workload(questions: list[str]) -> list[dict]:
    """Searches (half of them without tone marks), button presses and navigation words."""
    rng = random.Random(11)
    from bot.matcher import strip_tones

    items: list[dict] = []
    while len(items) < REPLIES:
        question = rng.choice(questions)
        items.append({"text": strip_tones(question) if rng.random() < 0.5 else question})
        items.append({"text": "tiếp"})
        items.append({"action": f"g:g{rng.randint(1, GUIDES)}:{rng.randint(1, 5)}"})
        items.append({"text": rng.choice(["menu", "quay lại", "giá vàng hôm nay", "1"])})
    return items[:REPLIES]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


async def without_database(engine: Engine, items: list[dict]) -> list[float]:
    """Routing, matching and the handler: the engine's own work, with state kept in memory."""
    state = Conversation(channel="bench", chat_id="1", updated_at=datetime.now(UTC))
    timings = []
    for item in items:
        incoming = Incoming("bench", "1", **item)
        turn = Turn(incoming, state, engine.library, engine.matcher, None, datetime.now(UTC))  # type: ignore[arg-type]
        started = time.perf_counter()
        replies = await engine._dispatch(turn)
        state.choices = [b.action for r in replies for b in r.buttons]
        timings.append(time.perf_counter() - started)
    return timings


async def with_sqlite(engine: Engine, items: list[dict]) -> tuple[list[float], list[int]]:
    """Reply times, and the SQL statements of each turn (issue 17: 3 for an ordinary one)."""
    timings, statements = [], []
    counted = [0]

    def count(*_args: object) -> None:
        counted[0] += 1

    event.listen(engine.database.engine.sync_engine, "before_cursor_execute", count)
    for n, item in enumerate(items):
        counted[0] = 0
        started = time.perf_counter()
        await engine.handle(Incoming("bench", f"citizen-{n % 50}", **item))
        timings.append(time.perf_counter() - started)
        statements.append(counted[0])
    event.remove(engine.database.engine.sync_engine, "before_cursor_execute", count)
    return timings, statements


def serve_rss(workdir: Path) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'serve.db'}", "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        return psutil.Process(process.pid).memory_info().rss / 2**20
    finally:
        process.terminate()
        process.wait(10)


async def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        library_dir = workdir / "library"
        library_dir.mkdir()
        questions = write_synthetic_library(library_dir)
        library = load_library(library_dir)
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        engine = Engine(library, database)
        items = workload(questions)
        print(f"library: {len(library.guides)} guides; workload: {len(items)} replies")
        print(
            "without database:",
            percentiles(await without_database(engine, items)),
            "(target p99 < 5 ms)",
        )
        # A fresh engine: the SQLite run ranks its questions anew, as the first run did.
        timings, statements = await with_sqlite(Engine(library, database), items)
        print("with SQLite file: ", percentiles(timings), "(target p99 < 8 ms, issue 17)")
        mean = sum(statements) / len(statements)
        ordinary = sum(n <= 3 for n in statements) / len(statements)
        print(
            f"SQL statements a turn: mean {mean:.2f}, at most 3 in {ordinary:.0%} of turns, "
            f"max {max(statements)}"
        )
        await database.close()
        print(f"troly serve RSS at rest: {serve_rss(workdir):.0f} MB (target < 150 MB)")


if __name__ == "__main__":
    asyncio.run(main())
