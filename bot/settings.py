"""The one settings class: environment variables and `.env`."""

from datetime import date, time
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.library import BUNDLED_CONTENT


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
    poster_cache_dir: Path = Path("posters")  # PNGs the staff `poster` command sends
    # Zalo Official Account: no app id, app secret and OA secret key, no Zalo OA channel.
    zalo_app_id: str | None = None
    zalo_app_secret: str | None = None  # the app's secret key: OAuth `secret_key` header
    zalo_oa_secret_key: str | None = None  # the OA secret key: webhook signatures
    zalo_oa_id: str | None = None
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_refresh_token: str | None = None  # seeds the token store once; then the database rules
    zalo_verifier_code: str | None = None  # domain verification: /zalo_verifier<code>.html
    # Zalo Bot Platform: no token, no channel. The secret guards POST /webhook/zalo_bot.
    zalo_bot_token: str | None = None
    zalo_bot_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_bot_secret: str | None = None  # X-Bot-Api-Secret-Token; derived from the token if unset
    # Support sessions, tickets, privacy, reports (issue 7).
    timezone: str = "Asia/Ho_Chi_Minh"  # opening hours, due dates and report periods
    session_gap_minutes: int = 30  # silence after which the next message opens a new session
    pseudonym_key: str = "troly"  # keys the contact pseudonyms in sessions; set your own
    ticket_prefix: str = "PA"
    ticket_deadline_days: int = 10  # working days to answer a ticket
    holidays: list[date] = []  # days off besides weekends, JSON: ["2026-09-02", ...]
    message_retention_months: int = 12  # raw message text older than this is deleted
    report_week_close_day: int = 4  # Monday 0 .. Sunday 6: the week closes on Friday
    report_week_close_time: time = time(16, 0)
    report_month_start_day: int = 1  # 1: calendar months; 26: 26th to 25th
    # Campaigns (issue 8): messages per second per channel (0: no limit) and sends in flight.
    campaign_telegram_rate: float = 29.0  # Telegram's broadcast limit is about 30/s
    campaign_zalo_rate: float = 5.0
    campaign_concurrency: int = 8  # per channel; also the most rows a crash can leave uncertain
    # Staff console (issue 13): a login ends after this much inactivity; behind a reverse proxy,
    # trust its X-Forwarded-For (brute-force counting) and X-Forwarded-Proto (Secure cookie).
    console_session_hours: float = 9.0
    console_trust_proxy: bool = False

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
