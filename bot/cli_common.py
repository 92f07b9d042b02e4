"""What many `troly` commands need: the library (valid, or one clear message and exit 1) and
one transaction against DATABASE_URL."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content_files import ContentError
from bot.library import Library, load_library
from bot.settings import Settings, get_settings

T = TypeVar("T")


def check_database_url_or_exit(url: str) -> None:
    from bot.doctor import sqlite_folder_problem

    if problem := sqlite_folder_problem(url):
        typer.echo(problem, err=True)
        raise typer.Exit(1)


def load_library_or_exit() -> Library:
    """The bot never serves, prints or sends from a broken library."""
    from bot.doctor import missing_content_dir

    folder = get_settings().content_dir
    if problem := missing_content_dir(folder):
        typer.echo(problem, err=True)
        raise typer.Exit(1)
    try:
        return load_library(folder)
    except ContentError as error:
        typer.echo(
            f"The content library has problems (run `troly content check`):\n{error}", err=True
        )
        raise typer.Exit(1) from error


def in_one_transaction(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one transaction against DATABASE_URL, the schema brought up to date first."""
    from storage.db import Database, upgrade

    settings = get_settings()
    check_database_url_or_exit(settings.database_url)
    upgrade(settings.database_url)

    async def main() -> T:
        database = Database(settings.database_url)
        try:
            async with database.session() as session, session.begin():
                return await work(session, settings)
        finally:
            await database.close()

    return asyncio.run(main())
