"""`troly staff ...` verbs for console logins: add (with --login), password, disable."""

import sys
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings

MIN_PASSWORD = 8

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def register(app: typer.Typer) -> None:
    from bot.support_cli import staff_app

    staff_app.command("password")(staff_password)
    staff_app.command("disable")(staff_disable)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        typer.echo(f"The password needs at least {MIN_PASSWORD} characters.", err=True)
        raise typer.Exit(1)
    return password


def add_login(
    name: str,
    login: str,
    role: str,
    password: str,
    channel: str | None = None,
    chat_id: str | None = None,
    code: str | None = None,
) -> None:
    """A console login for a (new, or existing by chat id or code) staff member or volunteer."""
    from bot.cli_common import in_one_transaction
    from bot.console.security import hash_password
    from bot.support_cli import _now
    from storage.accounts import ROLES, VOLUNTEER, create_account
    from storage.staff import add_member

    if role not in ROLES:
        typer.echo(f"--role must be one of: {', '.join(ROLES)}", err=True)
        raise typer.Exit(1)
    password_hash = hash_password(password)

    async def work(session: AsyncSession, settings: Settings) -> Any:
        member = None
        if chat_id or code:
            member = await add_member(
                session, name=name, role=VOLUNTEER if role == VOLUNTEER else "staff",
                now=_now(), channel=channel, chat_id=chat_id, code=code,
            )  # fmt: skip
        try:
            return await create_account(
                session, name=name, login=login, role=role, password_hash=password_hash,
                now=_now(), member=member,
            )  # fmt: skip
        except ValueError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from error

    account = in_one_transaction(work)
    typer.echo(f"{account.role} login {account.login!r} for {name} (staff #{account.staff_id}).")


def staff_password(
    login: Annotated[str, typer.Argument(help="The console login.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new console password; every open session of that login ends."""
    from bot.cli_common import in_one_transaction
    from bot.console.security import hash_password
    from bot.support_cli import _fail, _now
    from storage.accounts import account_by_login, set_password

    password_hash = hash_password(read_password(password_stdin))

    async def work(session: AsyncSession, settings: Settings) -> None:
        account = await account_by_login(session, login)
        if account is None:
            raise _fail(f"No login {login!r}.")
        await set_password(session, account, password_hash, _now())

    in_one_transaction(work)
    typer.echo(f"Password of {login!r} changed; its sessions are closed.")


def staff_disable(login: Annotated[str, typer.Argument(help="The console login.")]) -> None:
    """Stop a console login at once (its sessions end); the staff record stays."""
    from bot.cli_common import in_one_transaction
    from bot.support_cli import _fail
    from storage.accounts import account_by_login, end_sessions

    async def work(session: AsyncSession, settings: Settings) -> None:
        account = await account_by_login(session, login)
        if account is None:
            raise _fail(f"No login {login!r}.")
        account.disabled = True
        await end_sessions(session, account.id or 0)

    in_one_transaction(work)
    typer.echo(f"Login {login!r} disabled.")
