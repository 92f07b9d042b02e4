"""Share links: "link chia sẻ" gives the guide being read as a message ready to forward.

A registered volunteer's links carry their code (TV05), so the people they bring are counted
as theirs; anybody else gets the same links without a code. A QR image comes on request.
"""

import hashlib
import tempfile
from pathlib import Path

import qrcode

from bot import actions
from bot.library import Guide
from bot.links import ShareLink, share_links
from bot.messages import Reply
from handlers.routing import Replies, Turn, router
from storage.reach import volunteer_for_chat

QR_FOLDER = Path(tempfile.gettempdir()) / "troly-share-qr"


async def _links(turn: Turn) -> tuple[Guide | None, str | None, list[ShareLink]]:
    incoming = turn.incoming
    guide = turn.library.guides.get(turn.state.guide_id or "")
    volunteer = await volunteer_for_chat(turn.session, incoming.channel, incoming.chat_id)
    source = volunteer.code if volunteer is not None else None
    return guide, source, share_links(turn.library, guide, source)


@router.on_command("link chia sẻ", "chia sẻ", "/chiase", "lấy link chia sẻ", "gửi link chia sẻ")
async def share(turn: Turn) -> Replies:
    guide, source, links = await _links(turn)
    turn.note("share", guide_id=guide.id if guide else None, outcome=source or "citizen")
    title = guide.title if guide else ""
    lines = [turn.text("share_message", title=title) if guide else turn.text("share_message_bot")]
    for link in links:
        lines.append(link.url)
        if link.text_to_type:
            lines.append(turn.text("share_type_code", code=link.text_to_type))
    intro = turn.text("share_intro", title=title) if guide else turn.text("share_intro_bot")
    buttons = (
        turn.button("btn_share_qr", f"{actions.SHARE}:qr"),
        turn.button("btn_menu", actions.MENU),
    )
    return [Reply(intro, buttons), Reply("\n".join(lines))]


@router.on_action(actions.SHARE)
async def share_button(turn: Turn, kind: str = "") -> Replies:
    if kind != "qr":
        return await share(turn)
    guide, _, links = await _links(turn)
    turn.note("share", guide_id=guide.id if guide else None, outcome="qr")
    # The QR of a link that opens the guide itself; one that needs a code typed is no QR.
    direct = next((link for link in links if not link.text_to_type), None)
    if direct is None:
        return await share(turn)
    title = guide.title if guide else turn.library.profile.get("centre_name", "")
    buttons = (turn.button("btn_menu", actions.MENU),)
    return [Reply(turn.text("share_qr", title=title), buttons, str(qr_image(direct.url)))]


def qr_image(url: str) -> Path:
    """A PNG of the link, made once per link and kept in the temp folder."""
    path = QR_FOLDER / f"{hashlib.sha256(url.encode()).hexdigest()[:20]}.png"
    if not path.exists():
        QR_FOLDER.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        qrcode.make(url).save(partial, format="PNG")
        partial.replace(path)  # never a half-written image for a concurrent turn
    return path
