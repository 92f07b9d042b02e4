"""Bot Platform updates as Incoming: what a person did, or nothing for events the bot ignores."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.channels.http import utc_now
from bot.messages import Incoming

CHANNEL = "zalo_bot"
ATTACHMENT_KINDS = {
    "message.image.received": "photo",
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    # Protected accounts (children) send nothing readable: the engine answers kindly.
    "message.unsupported.received": "unsupported",
}


@dataclass(frozen=True)
class Update:
    name: str
    chat_id: str
    event_id: str
    incoming: Incoming | None = None


def unwrap(data: dict[str, Any]) -> dict[str, Any] | None:
    """Webhooks send {"ok": true, "result": update}; some deliveries send the update bare."""
    update = data.get("result") if "result" in data else data
    return update if isinstance(update, dict) and update.get("event_name") else None


def parse_update(update: dict[str, Any]) -> Update:
    name = str(update.get("event_name") or "")
    message = update.get("message") if isinstance(update.get("message"), dict) else {}
    assert isinstance(message, dict)
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat_id = str((chat or {}).get("id") or (sender or {}).get("id") or "")
    event_id = str(message.get("message_id") or f"{name}:{chat_id}:{message.get('date')}")
    if not chat_id:
        return Update(name, chat_id, event_id)
    when = _when(message.get("date"))
    # The sender's name as Zalo shows it ("display_name" in the Bot Platform's updates); a
    # group's contact is the group, not whoever spoke in it.
    shown = None if (chat or {}).get("chat_type") == "GROUP" else (sender or {}).get("display_name")
    base = {"channel": CHANNEL, "chat_id": chat_id, "timestamp": when,
            "name": str(shown or "").strip() or None}  # fmt: skip
    if name == "message.text.received":
        return Update(
            name, chat_id, event_id, Incoming(**base, text=str(message.get("text") or ""))
        )
    if name in ATTACHMENT_KINDS:
        caption = str(message.get("caption") or "")
        return Update(
            name,
            chat_id,
            event_id,
            Incoming(**base, text=caption, attachment=ATTACHMENT_KINDS[name]),
        )
    return Update(name, chat_id, event_id)


def _when(millis: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return utc_now()
