"""Incoming, Reply, Button: the channel-neutral types handlers see."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Button:
    """A tap target: exactly one of action (back to the bot), url or phone."""

    label: str
    action: str | None = None
    url: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        targets = [t for t in (self.action, self.url, self.phone) if t]
        if len(targets) != 1:
            raise ValueError(f"button {self.label!r} needs exactly one of action, url, phone")


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    image: str | None = None  # a URL or a local file path

    def to_json(self) -> dict[str, Any]:
        buttons = [{k: v for k, v in vars(b).items() if v} for b in self.buttons]
        return {"text": self.text, "buttons": buttons, "image": self.image}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Reply":
        buttons = tuple(Button(**b) for b in data.get("buttons", []))
        return cls(data.get("text", ""), buttons, data.get("image"))


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text, pressed a button or sent a non-text item."""

    channel: str
    chat_id: str
    text: str = ""
    action: str | None = None  # the payload of a pressed button
    attachment: str | None = None  # "sticker", "voice", "photo", ... for non-text input
    referral: str | None = None  # deep-link start payload or a poster/volunteer code
    user_id: str | None = None  # the person, when chat_id is a group (the staff room)
    reply_to: str | None = None  # platform id of the message this one answers, if any
    message_id: str | None = None  # the client's own id: a retry of it is answered once
    # The display name the platform gave, if it gave one: personal data, so out of repr (logs).
    name: str | None = field(default=None, repr=False)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Read:
    """A platform's read receipt: the person has read what we sent them up to `until` (platforms
    that send a watermark), or the messages named in `message_ids` (platforms that name them).
    Not a turn: nothing answers it."""

    channel: str
    chat_id: str
    at: datetime  # when they read it
    until: datetime | None = None
    message_ids: tuple[str, ...] = ()
