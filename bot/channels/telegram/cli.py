"""`troly telegram ...`: one-off Bot API configuration from the command line."""

import typer

from bot.channels.telegram.settings import telegram_settings


def register(group: typer.Typer) -> None:
    group.command("set-webhook")(telegram_set_webhook)


def telegram_set_webhook() -> None:
    """Register TELEGRAM_WEBHOOK_URL (with the secret) and the Vietnamese command menu."""
    import asyncio

    from telegram.error import TelegramError

    from bot.channels.telegram.admin import set_webhook
    from bot.cli_common import load_library_or_exit

    settings = telegram_settings()
    if not settings.token or not settings.webhook_url:
        typer.echo("Set TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_URL first.", err=True)
        raise typer.Exit(1)
    try:
        url = asyncio.run(set_webhook(settings, load_library_or_exit()))
    except TelegramError as error:
        typer.echo(f"Telegram refused: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Webhook set: {url} (commands: /start /menu /help /canbo)")
