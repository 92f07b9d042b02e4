"""`troly staff add --login`, `staff password`, `staff disable`: real processes, a real file."""

import asyncio
from pathlib import Path

from bot.console.security import check_password
from storage.accounts import account_by_login
from storage.db import Database
from tests.test_cli import run


def account(tmp_path: Path, login: str):
    async def read():
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        try:
            async with database.session() as session:
                return await account_by_login(session, login)
        finally:
            await database.close()

    return asyncio.run(read())


def test_console_logins_from_the_command_line(tmp_path: Path) -> None:
    added = run(
        ["staff", "add", "Trần Thị Lan", "--login", "Lan", "--role", "admin", "--password-stdin"],
        tmp_path,
        stdin="mat-khau-dai-1\n",
    )
    assert added.returncode == 0, added.stderr
    lan = account(tmp_path, "lan")
    assert lan.role == "admin" and check_password(lan.password_hash, "mat-khau-dai-1")
    assert "Trần Thị Lan" in run(["staff", "list"], tmp_path).stdout

    again = run(["staff", "add", "X", "--login", "lan", "--password-stdin"], tmp_path, "abcdefgh\n")
    assert again.returncode == 1 and "exists" in again.stderr
    short = run(["staff", "add", "Y", "--login", "y", "--password-stdin"], tmp_path, "ngan\n")
    assert short.returncode == 1
    bad_role = run(
        ["staff", "add", "Z", "--login", "z", "--role", "boss", "--password-stdin"],
        tmp_path,
        "abcdefgh1\n",
    )
    assert bad_role.returncode == 1

    changed = run(["staff", "password", "lan", "--password-stdin"], tmp_path, "mat-khau-moi-2\n")
    assert changed.returncode == 0, changed.stderr
    assert check_password(account(tmp_path, "lan").password_hash, "mat-khau-moi-2")

    assert run(["staff", "disable", "lan"], tmp_path).returncode == 0
    assert account(tmp_path, "lan").disabled
    assert run(["staff", "disable", "nobody"], tmp_path).returncode == 1

    # The chat-id registration keeps working, and a login can join it.
    chat = run(["staff", "add", "Lê Văn Tư", "--chat-id", "123456"], tmp_path)
    assert chat.returncode == 0, chat.stderr
    linked = run(
        ["staff", "add", "Lê Văn Tư", "--chat-id", "123456", "--login", "tu", "--password-stdin"],
        tmp_path,
        "abcdefgh1\n",
    )
    assert linked.returncode == 0, linked.stderr
    listing = run(["staff", "list"], tmp_path).stdout
    assert listing.count("Lê Văn Tư") == 1, listing


def test_a_volunteer_login_keeps_their_code(tmp_path: Path) -> None:
    added = run(
        ["staff", "add", "Lê Văn Tư", "--login", "tv05", "--role", "volunteer", "--code", "tv05",
         "--password-stdin"],
        tmp_path,
        stdin="mat-khau-dai-1\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listing = run(["staff", "list"], tmp_path).stdout
    assert "volunteer" in listing and "TV05" in listing
