"""Reaching a person at the centre: who to call and when they are there."""

from bot.messages import Button, Reply
from handlers.routing import Replies, Turn, router


@router.on_command("gặp cán bộ", "gap can bo", "/canbo", "cán bộ", "nhân viên", "người thật")
@router.on_action("staff")
async def contact_staff(turn: Turn) -> Replies:
    turn.note("handoff", outcome="contact")
    hotline = str(turn.library.profile.get("hotline", ""))
    buttons = (Button(turn.text("btn_call"), phone=hotline), turn.button("btn_menu", "menu"))
    return [Reply(turn.text("staff_contact"), buttons)]
