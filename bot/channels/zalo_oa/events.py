"""Zalo OA webhook events: the signature, and an event -> what the person did."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.channels.http import utc_now
from bot.messages import Incoming, Read

log = logging.getLogger(__name__)


CHANNEL = "zalo"
SEEN = "user_seen_message"
# oa.query.hide buttons come back as a text the person "sent": this prefix, which nobody
# types, tells a pressed button from a typed message.
ACTION_PREFIX = "#tl:"
ATTACHMENT_KINDS = {
    "user_send_image": "photo",
    "user_send_gif": "gif",
    "user_send_sticker": "sticker",
    "user_send_audio": "voice",
    "user_send_video": "video",
    "user_send_file": "document",
    "user_send_location": "location",
    "user_send_link": "link",
}


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's X-ZEvent-Signature: `mac=` + sha256(app id + raw body + timestamp + OA secret)."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode())
    return f"mac={digest.hexdigest()}"


@dataclass(frozen=True)
class Event:
    """What one webhook event means to us."""

    name: str
    chat_id: str
    event_id: str
    incoming: Incoming | None = None
    unfollowed: bool = False
    read: Read | None = None


def _timestamp(event: dict[str, Any]) -> datetime | None:
    """When Zalo says the event happened; None for what no clock can read (a forged
    "-62135596800001" is a valid number but no date)."""
    try:
        return datetime.fromtimestamp(int(event.get("timestamp")) / 1000, tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _user_id(event: dict[str, Any]) -> str:
    # In user_seen_message the OA is the sender: the person who read is the recipient.
    keys = ("recipient",) if event.get("event_name") == SEEN else ("sender", "follower")
    for key in keys:
        part = event.get(key)
        if isinstance(part, dict) and part.get("id"):
            return str(part["id"])
    return str(event.get("user_id") or "")


def parse_event(event: dict[str, Any]) -> Event:
    """An event as Incoming (or an unfollow); `incoming` is None for events we only log."""
    name = str(event.get("event_name") or "")
    chat_id = _user_id(event)
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    assert isinstance(message, dict)
    event_id = str(message.get("msg_id") or f"{name}:{chat_id}:{event.get('timestamp')}")
    when = _timestamp(event) or utc_now()
    base = {"channel": CHANNEL, "chat_id": chat_id, "timestamp": when}
    incoming = None
    if not chat_id:
        return Event(name, chat_id, event_id)
    if name == "user_send_text":
        text = str(message.get("text") or "")
        if text.startswith(ACTION_PREFIX):
            incoming = Incoming(**base, action=text[len(ACTION_PREFIX) :])
        else:
            incoming = Incoming(**base, text=text)
    elif name in ATTACHMENT_KINDS:
        incoming = Incoming(**base, text="", attachment=ATTACHMENT_KINDS[name])
    elif name in ("follow", "user_click_chatnow"):
        incoming = Incoming(**base, text="/start")  # the welcome and the menu
    elif name == "unfollow":
        return Event(name, chat_id, event_id, unfollowed=True)
    elif name == SEEN:
        seen = message.get("msg_ids")
        ids = tuple(str(i) for i in seen if i) if isinstance(seen, list) else ()
        read = Read(CHANNEL, chat_id, at=when, message_ids=ids) if ids else None
        return Event(name, chat_id, event_id, read=read)
    return Event(name, chat_id, event_id, incoming)
