"""`troly zalo bot-webhook URL` (register the webhook) and the `troly doctor` check of the token."""

from typing import TYPE_CHECKING, Annotated

import aiohttp
import typer

from bot.channels.zalo_bot.settings import ZaloBotSettings, zalo_bot_settings

if TYPE_CHECKING:
    from bot.doctor import Check


def register(group: typer.Typer) -> None:
    group.command("bot-webhook")(zalo_bot_webhook)


def zalo_bot_webhook(
    url: Annotated[str, typer.Argument(help="Public HTTPS URL ending in /webhook/zalo_bot.")],
) -> None:
    """Register the Zalo Bot Platform webhook (with the secret the bot checks)."""
    import asyncio

    from bot.channels.zalo_bot.sender import set_webhook
    from bot.delivery import DeliveryError

    settings = zalo_bot_settings()
    if not settings.configured:
        typer.echo("Set ZALO_BOT_TOKEN first.", err=True)
        raise typer.Exit(1)
    if not url.startswith("https://"):
        typer.echo(f"{url} is not HTTPS: Zalo calls only a public https:// address "
                   "(see the README's reverse proxy).", err=True)  # fmt: skip
        raise typer.Exit(1)
    try:
        asyncio.run(set_webhook(settings, url))
    except DeliveryError as error:
        typer.echo(f"Zalo refused: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Webhook set: {url}")


async def doctor_checks(settings: ZaloBotSettings) -> list["Check"]:
    """The bot token works (getMe)."""
    from bot.doctor import FAIL, OK, Check

    if not settings.configured:
        return []
    name = "zalo bot"
    url = f"{settings.api_url}/bot{settings.token}/getMe"
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(url, json={}) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return [Check(FAIL, name, f"cannot reach {settings.api_url} ({error!r})")]
    if not body.get("ok"):
        refused = f"{body.get('error_code')} {body.get('description', '')}".strip()
        return [Check(FAIL, name, f"Zalo rejects ZALO_BOT_TOKEN ({refused}): copy it again")]
    return [Check(OK, name, f"token works: {body['result'].get('account_name', '')}")]
