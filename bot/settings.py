"""The one settings class: environment variables and `.env`."""

from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_CONTENT = Path(__file__).resolve().parent.parent / "content"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///troly.db"
    content_dir: Path = BUNDLED_CONTENT
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    # Telegram: no token, no Telegram channel. The API URL is PTB's `base_url` (token appended).
    telegram_token: str | None = None
    telegram_webhook_url: str | None = None  # public HTTPS URL ending in /webhook/telegram
    telegram_secret: str | None = None  # X-Telegram-Bot-Api-Secret-Token; derived if unset
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_staff_chat_id: int | None = None  # the centre's staff group

    @field_validator("database_url")
    @classmethod
    def use_async_driver(cls, url: str) -> str:
        """Accept the URLs people copy from docs and pick the async driver for them."""
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
