"""`troly zalo login`: authorise the app on the Official Account once."""

from typing import Annotated

import typer

from bot.channels.zalo_oa.settings import zalo_oa_settings
from bot.settings import get_settings


def register(group: typer.Typer) -> None:
    group.command("login")(zalo_login)


def zalo_login(
    redirect_uri: Annotated[
        str | None,
        typer.Option(help="The app's callback URL, exactly as registered on developers.zalo.me."),
    ] = None,
    refresh_token: Annotated[
        str | None,
        typer.Option(help="Store this refresh token (e.g. from the OA's API explorer) instead."),
    ] = None,
) -> None:
    """Authorise the app on the OA once: open the permission page, paste the code back."""
    import asyncio
    from urllib.parse import parse_qs, urlparse

    from bot.channels.zalo_oa.oauth import (
        Pkce,
        login_with_code,
        login_with_refresh_token,
        permission_url,
    )
    from bot.delivery import DeliveryError
    from storage.db import Database, upgrade

    settings, database_url = zalo_oa_settings(), get_settings().database_url
    if not (settings.app_id and settings.app_secret):
        typer.echo("Set ZALO_APP_ID and ZALO_APP_SECRET first.", err=True)
        raise typer.Exit(1)
    upgrade(database_url)

    async def store(action) -> object:
        database = Database(database_url)
        try:
            return await action(database)
        finally:
            await database.close()

    if refresh_token:
        try:
            asyncio.run(store(lambda db: login_with_refresh_token(settings, db, refresh_token)))
        except DeliveryError as error:
            typer.echo(f"Zalo refused the refresh token: {error}", err=True)
            raise typer.Exit(1) from error
        typer.echo("Refresh token accepted; the new token pair is stored.")
        return
    if not redirect_uri:
        redirect_uri = typer.prompt("Callback URL registered for the app")
    pkce = Pkce.new()
    typer.echo("1. Log in to Zalo as an administrator of the OA and open this page:")
    typer.echo(permission_url(settings, redirect_uri, pkce))
    typer.echo("2. Allow the permissions. Zalo sends the browser to the callback URL.")
    answer = typer.prompt("3. Paste that whole address (or just its code)").strip()
    query = parse_qs(urlparse(answer).query)
    code = query.get("code", [answer])[0]
    if query.get("state") and query["state"][0] != pkce.state:
        typer.echo("That address belongs to another login attempt; start again.", err=True)
        raise typer.Exit(1)
    try:
        pair = asyncio.run(store(lambda db: login_with_code(settings, db, code, pkce)))
    except Exception as error:
        typer.echo(f"Zalo refused the code: {error}", err=True)
        raise typer.Exit(1) from error
    until = f"{pair.access_expires_at:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"Done: tokens stored; access token valid until {until}.")
