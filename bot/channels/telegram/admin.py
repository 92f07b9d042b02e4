"""One-off Bot API configuration: the webhook registration and the command menu."""

from telegram import BotCommand

from bot.channels.telegram import ALLOWED_UPDATES, make_bot, webhook_secret
from bot.channels.telegram.settings import TelegramSettings
from bot.library import Library

# Commands the engine knows (handlers/), each described by a texts.yaml sentence.
COMMANDS = (
    ("start", "tg_command_start"),
    ("menu", "tg_command_menu"),
    ("help", "tg_command_help"),
    ("canbo", "tg_command_canbo"),
)


def bot_commands(library: Library) -> list[BotCommand]:
    return [BotCommand(name, library.text(key)) for name, key in COMMANDS]


async def set_webhook(settings: TelegramSettings, library: Library) -> str:
    """Register TELEGRAM_WEBHOOK_URL with our secret, and the command menu; returns the URL."""
    if not settings.webhook_url:
        raise ValueError("TELEGRAM_WEBHOOK_URL is not set")
    async with make_bot(settings) as bot:
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=webhook_secret(settings),
            allowed_updates=ALLOWED_UPDATES,
        )
        await bot.set_my_commands(bot_commands(library))
    return settings.webhook_url


async def set_commands(settings: TelegramSettings, library: Library) -> None:
    async with make_bot(settings) as bot:
        await bot.set_my_commands(bot_commands(library))
