"""The library as every `troly` command loads it: valid, or one clear message and exit 1."""

import typer

from bot.library import ContentError, Library, load_library
from bot.settings import get_settings


def load_library_or_exit() -> Library:
    """The bot never serves, prints or sends from a broken library."""
    try:
        return load_library(get_settings().content_dir)
    except ContentError as error:
        typer.echo(
            f"The content library has problems (run `troly content check`):\n{error}", err=True
        )
        raise typer.Exit(1) from error
