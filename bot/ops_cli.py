"""Operating an installation: `troly doctor`, `troly backup`, `troly restore`, `troly db copy`."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import get_settings


def doctor() -> None:
    """Check the set-up: database, content, channels, staff group, clock. Exit 1 on any FAIL."""
    from bot.doctor import FAIL, run_checks

    checks = asyncio.run(run_checks(get_settings()))
    for check in checks:
        typer.echo(str(check))
    failed = sum(1 for c in checks if c.status == FAIL)
    if failed:
        typer.echo(f"{failed} check(s) failed.", err=True)
        raise typer.Exit(1)


def backup(
    file: Annotated[Path, typer.Argument(help="New file: a SQLite copy or a pg_dump archive.")],
) -> None:
    """A consistent copy of the database, taken while the bot runs."""
    from storage.backup import BackupError
    from storage.backup import backup as take_backup

    try:
        take_backup(get_settings().database_url, file)
    except (BackupError, OSError) as error:
        typer.echo(f"Backup failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Backup written: {file} ({file.stat().st_size:,} bytes)")


def restore(
    file: Annotated[Path, typer.Argument(help="A file made by `troly backup`.")],
) -> None:
    """Restore a backup into the (empty) database of DATABASE_URL."""
    from storage.backup import BackupError
    from storage.backup import restore as restore_backup

    try:
        restore_backup(file, get_settings().database_url)
    except (BackupError, OSError) as error:
        typer.echo(f"Restore failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo("Restored. Run `troly doctor` to check the result.")


def db_copy(
    source: Annotated[str, typer.Option("--from", help="Database URL to copy from.")],
    target: Annotated[str, typer.Option("--to", help="Empty database URL to copy into.")],
) -> None:
    """Copy every row to another database, e.g. from the SQLite file to PostgreSQL."""
    from bot.settings import Settings
    from storage.backup import BackupError, copy_database

    def driver_url(url: str) -> str:
        return Settings(database_url=url).database_url

    try:
        counts = copy_database(driver_url(source), driver_url(target))
    except (BackupError, OSError) as error:
        typer.echo(f"Copy failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Copied {sum(counts.values()):,} rows in {len(counts)} tables.")


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    app.command()(doctor)
    app.command()(backup)
    app.command()(restore)
    db_app.command("copy")(db_copy)
