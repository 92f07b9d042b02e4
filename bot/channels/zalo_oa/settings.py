"""Zalo Official Account's own settings: the app (OAuth), the OA's secret key, the API addresses."""

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ZaloOASettings(BaseSettings):
    """ZALO_* in the environment or `.env`; without the app id, the app secret and the OA
    secret key, no Zalo OA channel."""

    model_config = SettingsConfigDict(env_prefix="ZALO_", env_file=".env", extra="ignore")

    app_id: str | None = None
    app_secret: str | None = None  # the app's secret key: OAuth `secret_key` header
    oa_secret_key: str | None = None  # the OA secret key: webhook signatures
    oa_id: str | None = None
    api_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    refresh_token: str | None = None  # seeds the token store once; then the database rules
    verifier_code: str | None = None  # domain verification: /zalo_verifier<code>.html
    campaign_rate: float = Field(default=5.0, validation_alias="CAMPAIGN_ZALO_RATE")

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.app_secret and self.oa_secret_key)


@cache
def zalo_oa_settings() -> ZaloOASettings:
    """Read once per process, as the common settings are (tests that change them clear this)."""
    return ZaloOASettings()
