"""Replies as Bot Platform messages: numbered text (the platform has no buttons) and photos."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.channels.text_split import numbered_pieces, split_text
from bot.messages import Reply

log = logging.getLogger(__name__)

MAX_TEXT = 2000  # characters per text message


@dataclass(frozen=True)
class Outgoing:
    text: str = ""
    photo: str | None = None


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """Numbered text (as the console numbers it) and photos by URL, within 2,000 characters."""
    messages: list[Outgoing] = []
    for reply, text in zip(replies, numbered_pieces(replies), strict=True):
        if reply.image:
            if reply.image.startswith(("https://", "http://")):
                messages.append(Outgoing(photo=reply.image))
            else:
                log.info("zalo_bot: local image %s not sent (the API takes URLs)", reply.image)
        if text.strip():
            messages.extend(Outgoing(piece) for piece in split_text(text, MAX_TEXT))
    return messages
