"""Replies as Telegram messages: escaped HTML, one-button-per-row keyboards, photos, splitting."""

import html
from dataclasses import dataclass
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.text_split import split_text as split_by
from bot.messages import Button, Reply

MAX_TEXT = 4096  # Bot API limit for a message, counted after entity parsing
MAX_CAPTION = 1024  # ... and for a photo caption
MAX_CALLBACK_BYTES = 64
URL_SCHEMES = ("https://", "http://", "tg://")
PHONE_ICON = "☎️"


@dataclass(frozen=True)
class Outgoing:
    """One Bot API message: HTML text (the caption when `photo` is set) and its keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: str | Path | None = None  # an http(s) URL or a local file


def callback_data(button: Button) -> str:
    """The button's action as callback data; Telegram silently rejects more than 64 bytes."""
    data = button.action or ""
    size = len(data.encode("utf-8"))
    if not 1 <= size <= MAX_CALLBACK_BYTES:
        raise ValueError(
            f"button {button.label!r}: callback data {data[:80]!r} is {size} bytes; "
            f"Telegram allows 1-{MAX_CALLBACK_BYTES}"
        )
    return data


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: big targets for thumbs and older eyes. Phone buttons become text."""
    rows = []
    for button in buttons:
        if button.action:
            rows.append([InlineKeyboardButton(button.label, callback_data=callback_data(button))])
        elif button.url:
            if not button.url.startswith(URL_SCHEMES):
                raise ValueError(f"button {button.label!r}: Telegram cannot open {button.url!r}")
            rows.append([InlineKeyboardButton(button.label, url=button.url)])
    return InlineKeyboardMarkup(rows) if rows else None


def phone_lines(buttons: tuple[Button, ...]) -> list[str]:
    """Telegram has no tel: buttons; a number written out in the text is tappable instead."""
    lines = []
    for button in buttons:
        if button.phone:
            label = (
                button.label
                if button.label.startswith(PHONE_ICON)
                else f"{PHONE_ICON} {button.label}"
            )
            lines.append(f"{label}: {button.phone}")
    return lines


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units: most emoji count twice."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces within Telegram's limit, counted the way Telegram counts (UTF-16 units)."""
    return split_by(text, limit, utf16_length)


def _photo(image: str) -> str | Path:
    return image if image.startswith(("https://", "http://")) else Path(image)


def render(reply: Reply) -> list[Outgoing]:
    """The messages for one reply; the keyboard goes under the last one."""
    markup = keyboard(reply.buttons)
    plain = "\n\n".join(p for p in (reply.text, "\n".join(phone_lines(reply.buttons))) if p)
    if reply.image:
        photo = _photo(reply.image)
        if utf16_length(plain) <= MAX_CAPTION:
            return [Outgoing(html.escape(plain), markup, photo)]
        messages = [Outgoing("", None, photo)]
    else:
        messages = []
    if not plain.strip():
        if markup is None:
            return messages
        raise ValueError("a reply with buttons needs text on Telegram")
    pieces = split_text(plain)
    messages.extend(Outgoing(html.escape(piece)) for piece in pieces[:-1])
    messages.append(Outgoing(html.escape(pieces[-1]), markup))
    return messages
