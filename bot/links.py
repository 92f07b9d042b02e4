"""Deep links, start payloads and share links: the one place their format is defined.

A start payload is `g_<guide id>_<source>`, `g_<guide id>` or `<source>`, within what
every platform's deep links carry (A-Za-z0-9_-, at most 64 characters). Guide ids never
contain `_`. The source tag says who sent the person: `poster`, a volunteer code `TV05`,
`c12` for campaign 12. Some chat links carry no payload, so every link also comes with the
text to type there: `#<code> <source>`. Each channel builds its own link (bot/channels/).
"""

import re

from bot.channels.base import ShareLink
from bot.library import Guide, Library

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SOURCE = re.compile(r"^[A-Za-z0-9-]{1,32}$")


def start_payload(guide_id: str | None = None, source: str | None = None) -> str:
    if source is not None and not SOURCE.match(source):
        raise ValueError(f"source tag {source!r} must be 1-32 letters, digits or '-'")
    parts = (["g", guide_id] if guide_id else []) + ([source] if source else [])
    payload = "_".join(parts)
    if not PAYLOAD.match(payload):
        raise ValueError(f"start payload {payload!r} is empty or longer than 64 characters")
    return payload


def parse_start_payload(payload: str) -> tuple[str | None, str | None]:
    """(guide id, source tag) from a start payload; anything unexpected is dropped, not trusted."""
    if not PAYLOAD.match(payload or ""):
        return None, None
    if payload.startswith("g_"):
        _, guide_id, *rest = payload.split("_")
        source = rest[0] if rest and SOURCE.match(rest[0]) else None
        return guide_id or None, source
    return None, payload if SOURCE.match(payload) else None


def code_text(guide: Guide, source: str | None = None) -> str:
    """What to type as a first message to open the guide on any channel: '#12' or '#12 TV05'."""
    return f"#{guide.code} {source}" if source else f"#{guide.code}"


def share_links(library: Library, guide: Guide | None, source: str | None) -> list[ShareLink]:
    """Per channel the centre runs, the link that opens `guide` (or the bot), tagged `source`."""
    payload = start_payload(guide.id if guide else None, source) if guide or source else None
    return links_for(library, payload, code_text(guide, source) if guide else None)


def links_for(library: Library, payload: str | None, typed: str | None) -> list[ShareLink]:
    """Every channel's link for a start payload (or what to type where links carry none)."""
    from bot.channels.base import all_channels

    found = (c.share_link(library.profile, payload, typed) for c in all_channels())
    return [link for link in found if link is not None]
