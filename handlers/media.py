"""Stickers, voice notes, photos and other non-text input: say kindly what the bot understands."""

from bot.messages import Reply
from handlers.menu import menu_buttons
from handlers.routing import Replies, Turn, router


@router.on_media
async def non_text(turn: Turn) -> Replies:
    kind = turn.incoming.attachment or "other"
    turn.note("media", outcome=kind[:20])
    key = "media_sticker" if kind in {"sticker", "gif"} else "media"
    if kind == "unsupported":  # protected accounts (children): nothing readable arrives
        key = "media_unsupported"
    return [Reply(turn.text(key), menu_buttons(turn))]
