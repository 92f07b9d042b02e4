"""Replies -> OA messages: template buttons (at most 5), numbered text beyond, 2,000 characters."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.text_split import numbered_pieces, split_text
from bot.channels.zalo_oa.events import ACTION_PREFIX
from bot.messages import Button, Reply

MAX_TEXT = 2000  # characters per text message

MAX_BUTTONS = 5  # per OA message; more choices become numbered text
MAX_BUTTON_TITLE = 100


@dataclass(frozen=True)
class Outgoing:
    """One OA message: text (with template buttons) or an image (URL or local file)."""

    text: str = ""
    buttons: tuple[dict[str, Any], ...] = ()
    image: str | None = None


def button_json(button: Button) -> dict[str, Any]:
    title = button.label[:MAX_BUTTON_TITLE]
    if button.action:
        return {"title": title, "type": "oa.query.hide", "payload": ACTION_PREFIX + button.action}
    if button.url:
        return {"title": title, "type": "oa.open.url", "payload": {"url": button.url}}
    phone = "".join(ch for ch in button.phone or "" if ch.isdigit() or ch == "+")
    return {"title": title, "type": "oa.open.phone", "payload": {"phone_code": phone}}


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """OA messages for a turn: template buttons, or numbered text when any reply has more
    than five choices (numbered across all replies, as the engine maps typed numbers)."""
    numbered = any(len(r.buttons) > MAX_BUTTONS for r in replies)
    texts = numbered_pieces(replies) if numbered else [r.text for r in replies]
    messages: list[Outgoing] = []
    for reply, text in zip(replies, texts, strict=True):
        if reply.image:
            messages.append(Outgoing(image=reply.image))
        buttons = () if numbered else tuple(button_json(b) for b in reply.buttons)
        if not text.strip():
            if buttons:
                raise ValueError("a reply with buttons needs text on Zalo")
            continue
        pieces = split_text(text, MAX_TEXT)
        messages.extend(Outgoing(piece) for piece in pieces[:-1])
        messages.append(Outgoing(pieces[-1], buttons))
    return messages


def message_json(message: Outgoing, attachment_id: str | None = None) -> dict[str, Any]:
    if message.image:
        element: dict[str, Any] = {"media_type": "image"}
        if attachment_id:
            element["attachment_id"] = attachment_id
        else:
            element["url"] = message.image
        payload = {"template_type": "media", "elements": [element]}
        return {"attachment": {"type": "template", "payload": payload}}
    body: dict[str, Any] = {"text": message.text}
    if message.buttons:
        body["attachment"] = {"type": "template", "payload": {"buttons": list(message.buttons)}}
    return body
