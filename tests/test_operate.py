"""Operating an installation through real `troly` processes: doctor, backup, restore, db copy,
JSON logs. The platforms are the fake servers on loopback; the databases are real."""

import asyncio
import itertools
import json
import os
import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlmodel import SQLModel

from bot.engine import Engine
from bot.library import Library
from bot.messages import Incoming
from storage.backup import table_counts
from storage.db import Database, make_engine, missing_migrations, upgrade
from storage.oauth_tokens import TokenPair, replace_tokens
from tests.conftest import FULL_LIBRARY, PG_ADMIN_DSN, ROOT
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.fake_zalo import APP_ID, APP_SECRET, FakeZalo

TROLY = [sys.executable, "-m", "bot"]
WEBHOOK = "https://troly.example.vn/webhook/telegram"


async def troly(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """A real `troly` process; the test's event loop keeps serving the fakes meanwhile."""
    process = await asyncio.create_subprocess_exec(
        *TROLY, *args,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def centre_content(tmp_path: Path) -> Path:
    """The bundled library with a real centre's profile, as a centre's own copy would be."""
    folder = tmp_path / "centre-library"
    shutil.copytree(FULL_LIBRARY, folder)
    profile = folder / "profile.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("Hòa An", "Tân Lập"), "utf-8")
    return folder


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'troly.db'}"
    upgrade(url)
    return url


def lines(output: str, status: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(status)]


async def test_doctor_passes_a_correct_telegram_set_up(
    tmp_path: Path, centre_content: Path, sqlite_url: str
) -> None:
    async with FakeTelegram() as telegram:
        telegram.webhook = {"url": WEBHOOK}
        env = {
            "DATABASE_URL": sqlite_url,
            "CONTENT_DIR": str(centre_content),
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_URL": telegram.base_url,
            "TELEGRAM_WEBHOOK_URL": WEBHOOK,
            "TELEGRAM_STAFF_CHAT_ID": "-1001234",
        }
        code, out, err = await troly("doctor", env=env, cwd=tmp_path)
    assert code == 0, out + err
    assert lines(out, "FAIL") == [] and lines(out, "WARN") == [], out
    for name in ("database", "schema", "content", "profile", "telegram", "telegram webhook",
                 "staff room", "time zone"):  # fmt: skip
        assert any(line.split(maxsplit=1)[1].startswith(f"{name}:") for line in lines(out, "OK")), (
            name,
            out,
        )
    assert "@troly_test_bot" in out


async def test_doctor_names_a_revoked_token_and_a_failing_webhook(
    tmp_path: Path, centre_content: Path, sqlite_url: str
) -> None:
    async with FakeTelegram() as telegram:
        env = {
            "DATABASE_URL": sqlite_url,
            "CONTENT_DIR": str(centre_content),
            "TELEGRAM_TOKEN": "123:revoked",
            "TELEGRAM_API_URL": telegram.base_url,
        }
        code, out, _ = await troly("doctor", env=env, cwd=tmp_path)
        assert code == 1
        assert "Telegram rejects TELEGRAM_TOKEN (401" in "\n".join(lines(out, "FAIL"))

        telegram.on(
            "getWebhookInfo",
            lambda call: {
                "url": WEBHOOK,
                "pending_update_count": 250,
                "last_error_date": 1_795_000_000,
                "last_error_message": "Connection timed out",
            },
        )
        env |= {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": WEBHOOK}
        code, out, _ = await troly("doctor", env=env, cwd=tmp_path)
        assert code == 0, out
        warnings = "\n".join(lines(out, "WARN"))
        assert "Connection timed out" in warnings and "250 updates waiting" in warnings

        env["TELEGRAM_WEBHOOK_URL"] = "http://troly.example.vn/webhook/telegram"
        code, out, _ = await troly("doctor", env=env, cwd=tmp_path)
        assert code == 1
        assert "is not HTTPS" in "\n".join(lines(out, "FAIL"))


async def test_doctor_checks_zalo_tokens(
    tmp_path: Path, centre_content: Path, sqlite_url: str
) -> None:
    async with FakeZalo() as zalo:
        env = {
            "DATABASE_URL": sqlite_url,
            "CONTENT_DIR": str(centre_content),
            "ZALO_APP_ID": APP_ID,
            "ZALO_APP_SECRET": APP_SECRET,
            "ZALO_OA_SECRET_KEY": "oa-secret",
            "ZALO_API_URL": zalo.base_url,
            "ZALO_OAUTH_URL": zalo.base_url,
            "ZALO_BOT_TOKEN": "12345:wrong",
            "ZALO_BOT_API_URL": zalo.base_url,
        }
        code, out, _ = await troly("doctor", env=env, cwd=tmp_path)
        failures = "\n".join(lines(out, "FAIL"))
        assert code == 1
        assert "zalo OA: no token stored: run `troly zalo login`" in failures
        assert "zalo bot: Zalo rejects ZALO_BOT_TOKEN" in failures

        database = Database(sqlite_url)
        now = datetime.now(UTC)
        pair = TokenPair("access", "refresh", now + timedelta(hours=24))
        await replace_tokens(database, APP_ID, pair, now)
        await database.close()
        env["ZALO_BOT_TOKEN"] = zalo.bot_token
        code, out, _ = await troly("doctor", env=env, cwd=tmp_path)
        assert code == 0, out
        assert "zalo OA: token refreshed 1.0 h ago" in out
        assert "zalo bot: token works" in out


async def test_wrong_settings_get_one_line_and_exit_1(tmp_path: Path) -> None:
    """`troly serve` says which setting is wrong and what to do, in one line: no traceback."""
    cases = {
        "postgresql://postgres@127.0.0.1:1/none": "Cannot use the database",
        "mysql://root@localhost/troly": "Setting DATABASE_URL is invalid: use sqlite:///",
        f"sqlite:///{tmp_path / 'no' / 'troly.db'}": "Setting DATABASE_URL: the folder",
    }
    for (url, message), command in itertools.product(cases.items(), (["serve"], ["db", "upgrade"])):
        code, out, err = await troly(*command, env={"DATABASE_URL": url}, cwd=tmp_path)
        assert code == 1
        assert message in err and "Traceback" not in err + out, err
        assert len(err.strip().splitlines()) == 1, err
    code, _, err = await troly("serve", env={"CONTENT_DIR": str(tmp_path / "no")}, cwd=tmp_path)
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"Setting CONTENT_DIR: content folder does not exist: {tmp_path / 'no'}. Point "
        "CONTENT_DIR at the centre's copy of the library, or unset it to use the bundled one."
    ]


async def test_zalo_bot_webhook_must_be_https(tmp_path: Path, sqlite_url: str) -> None:
    async with FakeZalo() as zalo:
        env = {"DATABASE_URL": sqlite_url, "ZALO_BOT_TOKEN": "12345:token",
               "ZALO_BOT_API_URL": zalo.base_url}  # fmt: skip
        url = "http://troly.example.vn/webhook/zalo_bot"
        code, _, err = await troly("zalo", "bot-webhook", url, env=env, cwd=tmp_path)
        assert code == 1 and err.strip().splitlines() == [
            f"{url} is not HTTPS: Zalo calls only a public https:// address "
            "(see the README's reverse proxy)."
        ]
        assert not zalo.calls_to("bot", "setWebhook")


async def test_doctor_names_the_wrong_setting(tmp_path: Path, centre_content: Path) -> None:
    """The same faults through `troly doctor`: one FAIL line each, naming the setting."""
    cases = {
        "DATABASE_URL": ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
                         "FAIL  database: cannot reach postgresql+asyncpg://postgres@127.0.0.1:1"),
        "SQLite folder": ({"DATABASE_URL": f"sqlite:///{tmp_path / 'no' / 'troly.db'}"},
                          "FAIL  database: Setting DATABASE_URL: the folder"),
        "CONTENT_DIR": ({"CONTENT_DIR": str(tmp_path / "no")},
                        "FAIL  content: Setting CONTENT_DIR: content folder does not exist"),
    }  # fmt: skip
    for name, (env, message) in cases.items():
        settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ok.db'}",
                    "CONTENT_DIR": str(centre_content)} | env  # fmt: skip
        code, out, err = await troly("doctor", env=settings, cwd=tmp_path)
        assert code == 1, (name, out)
        assert [line for line in lines(out, "FAIL") if line.startswith(message)], (name, out)
        assert len(lines(out, "FAIL")) == 1 and "Traceback" not in out + err, (name, out + err)


async def write_turns(engine: Engine, people: int, stop: asyncio.Event) -> int:
    """Citizens keep chatting until told to stop; returns how many turns were written."""
    turns = 0
    while not stop.is_set():
        for person in range(people):
            await engine.handle(Incoming("web", f"citizen-{person}", text="cai vneid the nao"))
            turns += 1
    return turns


async def backup_under_load(
    url: str, backup_file: Path, restore_url: str, library: Library, tmp_path: Path
) -> dict[str, int]:
    """Turns keep being written while `troly backup` runs; `troly restore` of the file into an
    empty database; the restored rows per table."""
    database = Database(url)
    engine = Engine(library, database)
    stop = asyncio.Event()
    writer = asyncio.create_task(write_turns(engine, 5, stop))
    await asyncio.sleep(1.0)
    code, _, err = await troly("backup", str(backup_file), env={"DATABASE_URL": url}, cwd=tmp_path)
    await asyncio.sleep(0.5)
    stop.set()
    written = await writer
    assert code == 0, err
    assert written > 10

    code, _, err = await troly(
        "restore", str(backup_file), env={"DATABASE_URL": restore_url}, cwd=tmp_path
    )
    assert code == 0, err
    live, restored = make_engine(url), make_engine(restore_url)
    try:
        before, after = await table_counts(live), await table_counts(restored)
        async with restored.connect() as connection:
            by_direction = dict(
                (await connection.execute(text(
                    "SELECT direction, count(*) FROM messageevent GROUP BY direction"
                ))).all()
            )  # fmt: skip
        ins, outs = by_direction.get("in", 0), by_direction.get("out", 0)
        restored_database = Database(restore_url)
        assert await missing_migrations(restored_database) == set(), "the schema came along"
        await restored_database.close()
    finally:
        await live.dispose()
        await restored.dispose()
        await database.close()
    # A consistent snapshot: whole turns (one message in, its replies out), taken mid-stream.
    assert 0 < after["messageevent"] < before["messageevent"]
    assert ins and outs >= ins, "every turn in the restored copy is whole"
    assert after["conversation"] == before["conversation"] == 5
    assert set(after) == set(before)
    return after


async def test_a_sqlite_backup_taken_under_load_restores_completely(
    tmp_path: Path, sqlite_url: str, fixture_library: Library
) -> None:
    restore_url = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    backup_file = tmp_path / "backup.sqlite"
    restored = await backup_under_load(
        sqlite_url, backup_file, restore_url, fixture_library, tmp_path
    )
    with sqlite3.connect(backup_file) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    in_the_file = make_engine(f"sqlite+aiosqlite:///{backup_file}")
    assert restored == await table_counts(in_the_file), "every row of the backup restored"
    await in_the_file.dispose()


async def _fresh_pg(name: str) -> str:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + (
        f"/{name}"
    )


async def test_a_postgresql_backup_taken_under_load_restores_completely(
    tmp_path: Path, fixture_library: Library
) -> None:
    live_url = await _fresh_pg(f"troly_backup_live_{os.getpid()}")
    restore_url = await _fresh_pg(f"troly_backup_restored_{os.getpid()}")
    await asyncio.to_thread(upgrade, live_url)
    await backup_under_load(
        live_url, tmp_path / "backup.pgdump", restore_url, fixture_library, tmp_path
    )


async def test_a_postgresql_backup_without_pg_dump_says_what_to_install(tmp_path: Path) -> None:
    env = {"DATABASE_URL": PG_ADMIN_DSN, "PATH": str(tmp_path)}  # no pg_dump on this PATH
    code, out, err = await troly("backup", str(tmp_path / "b.pgdump"), env=env, cwd=tmp_path)
    assert code == 1 and "Traceback" not in out + err
    assert err.strip() == (
        "Backup failed: pg_dump not found: install PostgreSQL's client tools "
        "(Debian: apt-get install postgresql-client)"
    )
    assert not (tmp_path / "b.pgdump").exists()


def fill_every_table(url: str) -> None:
    """One row in every table, ids 1, foreign keys pointing at those rows."""
    values = {
        "INTEGER": 1, "BIGINT": 1, "SMALLINT": 1, "FLOAT": 1.5, "BOOLEAN": True,
        "DATE": datetime(2026, 11, 20).date(), "TIME": datetime(2026, 1, 1, 8).time(),
    }  # fmt: skip

    def value(column):
        kind = str(column.type).split("(")[0].upper()
        if "DATETIME" in kind or "TIMESTAMP" in kind or kind == "UTCDATETIME":
            return datetime(2026, 11, 20, 3, tzinfo=UTC)
        if kind in ("JSON",):
            return {"k": "v"}
        return values.get(kind, "x")

    async def fill() -> None:
        engine = make_engine(url)
        async with engine.begin() as connection:
            for table in SQLModel.metadata.sorted_tables:
                row = {c.name: value(c) for c in table.columns}
                await connection.execute(insert(table).values(**row))
        await engine.dispose()

    asyncio.run(fill())


async def test_db_copy_moves_every_table_from_sqlite_to_postgresql(
    tmp_path: Path, sqlite_url: str
) -> None:
    with sqlite3.connect(sqlite_url.split(":///", 1)[1]) as migrated:
        schema = {row[0] for row in migrated.execute("SELECT name FROM sqlite_master "
                                                     "WHERE type = 'table'")}  # fmt: skip
    assert schema - {"alembic_version"} == set(SQLModel.metadata.tables), (
        "every table the migrations make is a model's, so copies and backups see it"
    )
    await asyncio.to_thread(fill_every_table, sqlite_url)
    target = await _fresh_pg(f"troly_copy_{os.getpid()}")
    code, out, err = await troly(
        "db", "copy", "--from", sqlite_url, "--to", target, env={}, cwd=tmp_path
    )
    assert code == 0, err
    source_engine, target_engine = make_engine(sqlite_url), make_engine(target)
    source, copied = await table_counts(source_engine), await table_counts(target_engine)
    await source_engine.dispose()
    await target_engine.dispose()
    assert copied == source and all(copied.values()), copied
    assert f"in {len(SQLModel.metadata.sorted_tables)} tables" in out

    code, _, err = await troly(
        "db", "copy", "--from", sqlite_url, "--to", target, env={}, cwd=tmp_path
    )
    assert code == 1 and "not empty" in err, "a second copy never mixes into live data"


async def test_restore_alone_never_overwrites_data(tmp_path: Path, sqlite_url: str) -> None:
    """A script that imports only storage.backup (no CLI loading the models first) still sees
    the live tables, and refuses to restore over them."""
    await asyncio.to_thread(fill_every_table, sqlite_url)
    empty = tmp_path / "empty.sqlite"
    with sqlite3.connect(empty) as other:
        other.execute("CREATE TABLE other (x)")
    script = (
        "import sys; from pathlib import Path; from storage.backup import BackupError, restore\n"
        "try: restore(Path(sys.argv[1]), sys.argv[2])\n"
        "except BackupError as error: print(error)"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, str(empty), sqlite_url, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert "the target database is not empty" in out.decode()
    engine = make_engine(sqlite_url)
    counts = await table_counts(engine)
    await engine.dispose()
    assert all(counts.values()) and len(counts) == len(SQLModel.metadata.tables)


async def test_json_logs_carry_a_hashed_chat_and_the_turn_duration(
    tmp_path: Path, sqlite_url: str
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": sqlite_url,
           "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", "PORT": "0"}  # fmt: skip
    script = (
        "import asyncio; from bot.settings import get_settings; from bot.logs import "
        "setup_logging; from bot.app import build_engine; from bot.messages import Incoming\n"
        "s = get_settings(); setup_logging(s.log_level, s.log_format, s.pseudonym_key)\n"
        "asyncio.run(build_engine(s).handle(Incoming('web', 'secret-session-42', text='menu')))"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    records = [json.loads(line) for line in err.decode().splitlines()]
    turn = next(r for r in records if "duration_ms" in r)
    assert turn["channel"] == "web" and turn["level"] == "INFO"
    assert turn["chat"].startswith("web:") and len(turn["chat"]) == len("web:") + 8
    assert {"time", "logger", "message"} <= turn.keys()
    assert "secret-session-42" not in err.decode()


async def test_two_workers_share_the_port_and_the_database(tmp_path: Path, centre_content) -> None:
    """`troly serve --workers 2` on PostgreSQL: both processes answer, and a conversation goes
    on whichever worker takes the next message (its state is in the database)."""
    import socket

    import aiohttp

    url = await _fresh_pg(f"troly_workers_{os.getpid()}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "PORT": str(port),
           "CONTENT_DIR": str(centre_content), "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = await asyncio.create_subprocess_exec(
        *TROLY, "serve", "--workers", "2", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            workers = set()
            for _ in range(300):  # a new connection each time: the kernel spreads them
                async with aiohttp.ClientSession() as fresh, fresh.get(f"{base}/healthz") as r:
                    workers.add((await r.json())["worker"])
                if len(workers) == 2:
                    break
                await asyncio.sleep(0.05)  # the second worker may still be starting
            assert len(workers) == 2, workers
            steps = []
            for text in ("cai vneid the nao", "tiếp", "tiếp"):
                async with aiohttp.ClientSession() as fresh:
                    body = {"session": "two-workers", "text": text}
                    async with fresh.post(f"{base}/api/chat", json=body) as response:
                        steps.append((await response.json())["replies"][0]["text"])
            assert "Bước 1/" in steps[0] and "Bước 2/" in steps[1] and "Bước 3/" in steps[2]
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert server.returncode in (0, -15), (await server.stderr.read()).decode()[-2000:]


async def test_serve_with_a_token_telegram_rejects_says_so_in_one_line(tmp_path: Path) -> None:
    async with FakeTelegram() as telegram:
        env = {"TELEGRAM_TOKEN": "123:revoked", "TELEGRAM_API_URL": telegram.base_url,
               "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "PORT": "0"}  # fmt: skip
        code, out, err = await troly("serve", env=env, cwd=tmp_path)
    assert code == 1
    assert "Telegram rejects TELEGRAM_TOKEN" in err
    assert "Traceback" not in out + err and "123:revoked" not in out + err, "no secret in the log"
