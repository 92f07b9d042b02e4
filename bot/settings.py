"""The common settings: environment variables and `.env`; each channel keeps its own."""

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
    content_review_months: int = 6  # `content check` warns on a guide checked longer ago
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object a line, for log shippers
    poster_cache_dir: Path = Path("posters")  # PNGs the staff `poster` command sends
    # Support sessions, tickets, privacy, reports (issue 7).
    timezone: str = "Asia/Ho_Chi_Minh"  # opening hours, due dates and report periods
    session_gap_minutes: int = 30  # silence after which the next message opens a new session
    pseudonym_key: str = "troly"  # keys the contact pseudonyms in sessions; set your own
    ticket_prefix: str = "PA"
    ticket_deadline_days: int = 10  # working days to answer a ticket
    # Public holidays (Tết included) come from the `holidays` package; these are the extra days
    # off and the Saturdays worked in exchange that the government announces each year.
    holidays: list[date] = []  # JSON: ["2026-12-31", ...]
    working_days: list[date] = []  # JSON: ["2027-02-20", ...]
    message_retention_months: int = 12  # raw message text older than this is deleted
    report_week_close_day: int = 4  # Monday 0 .. Sunday 6: the week closes on Friday
    report_week_close_time: time = time(16, 0)
    report_month_start_day: int = 1  # 1: calendar months; 26: 26th to 25th
    # Campaigns (issue 8): sends in flight per channel; each channel's settings hold its rate.
    campaign_concurrency: int = 8  # per channel; also the most rows a crash can leave uncertain
    # Above this many recipients a second staff member (not the author) approves first.
    campaign_approval_over: int = 200
    campaign_image_dir: Path = Path("campaign-images")  # images uploaded in the console
    campaign_worker_seconds: float = 2.0  # `troly serve` looks for due campaigns this often
    # Surveys (issue 16): a survey offered at the end of a support session instead of the
    # rating question (handlers/survey.py session_end_invitation), at most once per period.
    survey_after_session: str | None = None  # a survey id from content/surveys; None: rating
    survey_invite_days: int = 30  # nobody is invited again within this many days

    # Limits on the public web chat (issue 17): per chat session and per client address,
    # in messages a minute and the burst allowed at once. Shared by all workers with REDIS_URL.
    web_chat_per_minute: float = 30  # tapping "Tiếp" through a guide is a message too
    web_chat_burst: int = 15
    address_per_minute: float = 120  # a family or an office behind one address
    address_burst: int = 60
    trusted_proxies: list[str] = ["127.0.0.1/32", "::1/128"]  # their X-Forwarded-For is believed
    redis_url: str | None = None

    # Where hand-offs and tickets are posted for staff, "channel:chat id" (a channel's name and
    # the group's id there); unset, a staff group named in a channel's own settings.
    staff_room: str | None = None
    staff_channel: str = "telegram"  # where staff chat ids live when no staff room says otherwise

    def staff_room_address(self) -> tuple[str, str] | None:
        """(channel, chat id) of the staff room, or None when the centre has none."""
        if self.staff_room and ":" in self.staff_room:
            channel, chat_id = self.staff_room.split(":", 1)
            return channel.strip(), chat_id.strip()
        from bot.channels.base import default_staff_room

        return default_staff_room()

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
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite:///troly.db or postgresql://user:password@host/database")
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
