"""Messenger's own settings: a Facebook Page's token, the Meta app's secret, the verify token."""

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MessengerSettings(BaseSettings):
    """MESSENGER_* in the environment or `.env`; no page token, no Messenger channel."""

    model_config = SettingsConfigDict(env_prefix="MESSENGER_", env_file=".env", extra="ignore")

    page_token: str | None = None  # Page access token (Meta app -> Messenger -> Settings)
    app_secret: str | None = None  # signs every webhook event (X-Hub-Signature-256)
    verify_token: str | None = None  # any secret string, typed again in Meta's webhook form
    page_username: str | None = None  # m.me/<username>: links and QR codes
    api_url: str = "https://graph.facebook.com/v21.0"
    # Meta counts calls per page; a broadcast well below its ceiling leaves room for replies.
    campaign_rate: float = Field(default=20.0, validation_alias="CAMPAIGN_MESSENGER_RATE")

    @property
    def configured(self) -> bool:
        return bool(self.page_token and self.app_secret and self.verify_token)


@cache
def messenger_settings() -> MessengerSettings:
    """Read once per process, as the common settings are (tests that change them clear this)."""
    return MessengerSettings()
