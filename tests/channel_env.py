"""Channel settings in tests, set as a centre sets them: environment variables.

Each channel reads its own settings once per process (telegram_settings(), ...); `set_env`
changes variables and has them read again, and the conftest fixture `environment_put_back`
restores the environment after every test.
"""

import os

from bot.channels.messenger.settings import messenger_settings
from bot.channels.telegram.settings import TelegramSettings, telegram_settings
from bot.channels.zalo_bot.settings import zalo_bot_settings
from bot.channels.zalo_oa.settings import zalo_oa_settings

READ_ONCE = (messenger_settings, telegram_settings, zalo_bot_settings, zalo_oa_settings)


def set_env(**values: object) -> None:
    """set_env(telegram_token="...") sets TELEGRAM_TOKEN; None unsets it."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name.upper(), None)
        else:
            os.environ[name.upper()] = str(value)
    read_again()


def read_again() -> None:
    for accessor in READ_ONCE:
        accessor.cache_clear()


def telegram_env(telegram, secret: str | None = None) -> None:
    """The app's Telegram channel pointed at a FakeTelegram (tests/fake_telegram.py)."""
    set_env(telegram_token=telegram.token, telegram_api_url=telegram.base_url,
            telegram_secret=secret)  # fmt: skip


def telegram_of(telegram) -> TelegramSettings:
    """Telegram's settings for a FakeTelegram, for a sender on its own."""
    return TelegramSettings(token=telegram.token, api_url=telegram.base_url)
