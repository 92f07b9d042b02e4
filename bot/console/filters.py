"""Jinja filters of the console: local times, minutes since, channel names."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context

from bot.channels.base import label_of


@pass_context
def local(context: Any, value: datetime | None, pattern: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(context.get("tz") or "UTC")).strftime(pattern)


def minutes_since(value: datetime) -> int:
    """Whole minutes from then to now (the `age` macro in _macros.html puts it in words)."""
    return max(0, int((datetime.now(UTC) - value).total_seconds() // 60))


def channel_name(value: str | None) -> str:
    """The channel's own label, as it declares it (bot/channels/base.py)."""
    return label_of(value) if value else "—"


def number(value: object) -> str:
    """A figure as Vietnamese write it: 66,7 (a decimal comma); None is a dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


FILTERS = {
    "local": local,
    "minutes_since": minutes_since,
    "channel": channel_name,
    "number": number,
}
