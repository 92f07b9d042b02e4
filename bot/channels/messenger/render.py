"""Replies -> Send API messages: text split at 2,000 characters, buttons as quick replies.

Quick replies belong to the last message only (Messenger hides them once another message
arrives), so every choice of a turn goes under its last text, in order, as the engine numbers
them. More than 13 choices become numbered lines instead: the person types the number. Links
and phone numbers are lines in the text, where Messenger makes them tappable.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.text_split import numbered_pieces, split_text
from bot.messages import Reply

MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000


@dataclass(frozen=True)
class Outgoing:
    message: dict[str, Any]
    image: str | None = None  # a local file, uploaded with the message


def _title(label: str) -> str:
    return label if len(label) <= MAX_TITLE else label[: MAX_TITLE - 1].rstrip() + "…"


def _with_links(reply: Reply) -> str:
    lines = [reply.text]
    for button in reply.buttons:
        if button.url:
            lines.append(f"🔗 {button.label}: {button.url}")
        elif button.phone:
            lines.append(f"{button.label}: {button.phone}")
    return "\n".join(lines)


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    buttons = [b for r in replies for b in r.buttons]
    quick = [b for b in buttons if b.action]
    if len(quick) > MAX_QUICK_REPLIES:
        texts = numbered_pieces(replies)
        quick = []
    else:
        texts = [_with_links(r) for r in replies]
    messages: list[Outgoing] = []
    for reply, text in zip(replies, texts, strict=True):
        if reply.image:
            messages.append(Outgoing({"attachment": {"type": "image", "payload": {}}}, reply.image))
        messages.extend(Outgoing({"text": piece}) for piece in split_text(text, MAX_TEXT) if piece)
    if quick:
        if not messages or "text" not in messages[-1].message:
            messages.append(Outgoing({"text": "👇"}))
        messages[-1].message["quick_replies"] = [
            {"content_type": "text", "title": _title(b.label), "payload": b.action[:MAX_PAYLOAD]}
            for b in quick
            if b.action
        ]
    return messages
