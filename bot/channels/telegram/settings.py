"""Telegram's own settings: the BotFather token, the webhook, the Bot API address."""

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramSettings(BaseSettings):
    """TELEGRAM_* in the environment or `.env`; no token, no Telegram channel.

    The staff group (TELEGRAM_STAFF_CHAT_ID) is the staff room's setting: bot/settings.py."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_", env_file=".env", extra="ignore")

    token: str | None = None
    webhook_url: str | None = None  # public HTTPS URL ending in /webhook/telegram
    secret: str | None = None  # X-Telegram-Bot-Api-Secret-Token; derived if unset
    api_url: str = "https://api.telegram.org/bot"  # PTB's `base_url` (the token is appended)
    # Telegram's broadcast limit is about 30 messages a second.
    campaign_rate: float = Field(default=29.0, validation_alias="CAMPAIGN_TELEGRAM_RATE")


@cache
def telegram_settings() -> TelegramSettings:
    """Read once per process, as the common settings are (tests that change them clear this)."""
    return TelegramSettings()
