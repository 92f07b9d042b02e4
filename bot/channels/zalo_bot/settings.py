"""The Zalo Bot Platform's own settings: the bot's token, the API address, the webhook secret."""

import hashlib
from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ZaloBotSettings(BaseSettings):
    """ZALO_BOT_* in the environment or `.env`; no token, no Zalo Bot channel."""

    model_config = SettingsConfigDict(env_prefix="ZALO_BOT_", env_file=".env", extra="ignore")

    token: str | None = None
    api_url: str = "https://bot-api.zaloplatforms.com"
    secret: str | None = None  # guards POST /webhook/zalo_bot; derived from the token if unset
    # One Zalo campaign rate for the OA and the bot, as the README documents it.
    campaign_rate: float = Field(default=5.0, validation_alias="CAMPAIGN_ZALO_RATE")

    @property
    def configured(self) -> bool:
        return bool(self.token)


def webhook_secret(settings: ZaloBotSettings) -> str:
    """ZALO_BOT_SECRET, or one derived from the token so the webhook is never left open."""
    if settings.secret:
        return settings.secret
    token = settings.token or ""
    return hashlib.sha256(f"troly-zalo-bot:{token}".encode()).hexdigest()[:48]


@cache
def zalo_bot_settings() -> ZaloBotSettings:
    """Read once per process, as the common settings are (tests that change them clear this)."""
    return ZaloBotSettings()
