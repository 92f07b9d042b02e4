"""Jinja filters of the console: local times, ages, channel names."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context

CHANNELS = {
    "telegram": "Telegram",
    "zalo": "Zalo OA",
    "zalo_bot": "Zalo Bot",
    "messenger": "Messenger",
    "web": "Web",
    "test": "Thử",
}


@pass_context
def local(context: Any, value: datetime | None, pattern: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(context.get("tz") or "UTC")).strftime(pattern)


def age(value: datetime | None) -> str:
    """'5 phút', '2 giờ 10 phút', '3 ngày': how long ago."""
    if value is None:
        return "—"
    minutes = max(0, int((datetime.now(UTC) - value).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} giờ {rest} phút" if rest else f"{hours} giờ"
    return f"{minutes // (24 * 60)} ngày"


def channel_name(value: str | None) -> str:
    return CHANNELS.get(value or "", value or "—")


FILTERS = {"local": local, "age": age, "channel": channel_name}
