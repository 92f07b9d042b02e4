"""`troly zalo bot-webhook URL`: register the Zalo Bot Platform webhook."""

from typing import Annotated

import typer

from bot.settings import get_settings


def register(group: typer.Typer) -> None:
    group.command("bot-webhook")(zalo_bot_webhook)


def zalo_bot_webhook(
    url: Annotated[str, typer.Argument(help="Public HTTPS URL ending in /webhook/zalo_bot.")],
) -> None:
    """Register the Zalo Bot Platform webhook (with the secret the bot checks)."""
    import asyncio

    from bot.channels.zalo_bot import set_webhook
    from bot.delivery import DeliveryError

    settings = get_settings()
    if not settings.zalo_bot_token:
        typer.echo("Set ZALO_BOT_TOKEN first.", err=True)
        raise typer.Exit(1)
    try:
        asyncio.run(set_webhook(settings, url))
    except DeliveryError as error:
        typer.echo(f"Zalo refused: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Webhook set: {url}")
