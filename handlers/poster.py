"""The staff command `poster <guide>` (or `/poster`): replies with the poster as a PNG.

Only staff get a poster; for anybody else the words are an ordinary question and go to search,
so citizens never learn the command exists.
"""

import asyncio

from bot.messages import Reply
from bot.settings import get_settings
from handlers.routing import Replies, Turn, router
from handlers.search import search
from storage import staff


@router.on_pattern(r"(?i)^\s*/?poster(?:\s+(\S+))?\s*$")
async def poster(turn: Turn, reference: str | None = None) -> Replies:
    incoming = turn.incoming
    if not await staff.is_staff(
        turn.session, incoming.channel, incoming.user_id or incoming.chat_id
    ):
        return await search(turn)
    # Imported here: reportlab and Pillow load only in a process where staff ask for a poster.
    from bot.posters import cached_poster, find_guide

    guide = find_guide(turn.library, reference) if reference else None
    if reference and guide is None:
        turn.note("poster", outcome="unknown")
        return [Reply(turn.text("poster_staff_unknown", query=reference))]
    cache_dir = get_settings().poster_cache_dir
    # Drawing takes a fraction of a second of CPU: off the event loop, other chats go on.
    path = await asyncio.to_thread(cached_poster, turn.library, guide, cache_dir)
    if guide is None:
        turn.note("poster", outcome="counter")
        return [Reply(turn.text("poster_staff_counter"), image=str(path))]
    turn.note("poster", guide_id=guide.id, outcome="poster")
    return [
        Reply(turn.text("poster_staff_guide", code=guide.code, title=guide.title), image=str(path))
    ]
