"""Telegram's own settings: the BotFather token, the webhook, the Bot API address."""

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramSettings(BaseSettings):
    """TELEGRAM_* in the environment or `.env`; no token, no Telegram channel."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_", env_file=".env", extra="ignore")

    token: str | None = None
    webhook_url: str | None = None  # public HTTPS URL ending in /webhook/telegram
    secret: str | None = None  # X-Telegram-Bot-Api-Secret-Token; derived if unset
    api_url: str = "https://api.telegram.org/bot"  # PTB's `base_url` (the token is appended)
    # The centre's staff group (a negative number): the staff room unless STAFF_ROOM says another.
    staff_chat_id: int | None = None
    # Telegram's broadcast limit is about 30 messages a second.
    campaign_rate: float = Field(default=29.0, validation_alias="CAMPAIGN_TELEGRAM_RATE")


@cache
def telegram_settings() -> TelegramSettings:
    """Read once per process, as the common settings are (tests that change them clear this)."""
    return TelegramSettings()
