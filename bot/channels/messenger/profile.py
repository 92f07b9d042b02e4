"""The page's Messenger profile (`troly messenger setup`) and `troly doctor`'s checks."""

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
import typer

from bot import actions
from bot.channels.http import HTTP_TIMEOUT
from bot.channels.messenger.events import GET_STARTED
from bot.channels.messenger.settings import MessengerSettings, messenger_settings
from bot.library import Library

if TYPE_CHECKING:
    from bot.doctor import Check

NAME = "messenger"
GREETING_CHARS = 160  # Meta's limit for the greeting text


def profile_fields(library: Library) -> dict[str, Any]:
    """Get Started, the greeting shown before the first message, and a persistent menu."""
    greeting = library.text("messenger_greeting")
    menu = [
        {"type": "postback", "title": library.text(key), "payload": action}
        for key, action in (
            ("btn_menu", actions.MENU),
            ("btn_staff", actions.STAFF),
            ("btn_feedback", actions.FEEDBACK),
        )
    ]
    return {
        "get_started": {"payload": GET_STARTED},
        "greeting": [{"locale": "default", "text": greeting[:GREETING_CHARS]}],
        "persistent_menu": [
            {"locale": "default", "composer_input_disabled": False, "call_to_actions": menu}
        ],
    }


async def set_profile(settings: MessengerSettings, library: Library) -> dict[str, Any]:
    url = f"{settings.api_url}/me/messenger_profile"
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.post(
            url, params={"access_token": settings.page_token or ""}, json=profile_fields(library)
        ) as response,
    ):
        body = await response.json(content_type=None)
    if not isinstance(body, dict) or "error" in body:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise RuntimeError(f"{error.get('code')}: {error.get('message', body)}")
    return body


def messenger_setup() -> None:
    """Set the page's Get Started button, greeting text and persistent menu."""
    from bot.cli_common import load_library_or_exit

    settings = messenger_settings()
    if not settings.page_token:
        typer.echo("Set MESSENGER_PAGE_TOKEN first.", err=True)
        raise typer.Exit(1)
    try:
        asyncio.run(set_profile(settings, load_library_or_exit()))
    except (RuntimeError, aiohttp.ClientError, TimeoutError) as error:
        typer.echo(f"Meta refused: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo("Messenger profile set: Get Started button, greeting, persistent menu.")


def register(group: typer.Typer) -> None:
    group.command("setup")(messenger_setup)


async def doctor_checks(settings: MessengerSettings) -> list["Check"]:
    """The page token works (GET /me)."""
    from bot.doctor import FAIL, OK, WARN, Check

    try:
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.get(
                f"{settings.api_url}/me", params={"access_token": settings.page_token or ""}
            ) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return [Check(FAIL, NAME, f"cannot reach {settings.api_url} ({error!r})")]
    if not isinstance(body, dict) or "error" in body:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return [
            Check(
                FAIL,
                NAME,
                f"Meta rejects MESSENGER_PAGE_TOKEN ({error.get('code')}: "
                f"{error.get('message', '')}): generate a new page token",
            )
        ]
    checks = [Check(OK, NAME, f"page token works: {body.get('name', body.get('id'))}")]
    if not settings.page_username:
        checks.append(
            Check(WARN, NAME, "MESSENGER_PAGE_USERNAME not set: no m.me links or QR codes")
        )
    return checks
