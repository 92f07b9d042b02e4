"""Help: what the bot can do and how to talk to it."""

from bot.messages import Button, Reply
from handlers.routing import Replies, Turn, router


@router.on_command("/help", "help", "trợ giúp", "hướng dẫn sử dụng", "giúp tôi")
@router.on_action("help")
async def help_text(turn: Turn) -> Replies:
    turn.note("help")
    hotline = str(turn.library.profile.get("hotline", ""))
    buttons = (
        turn.button("btn_menu", "menu"),
        turn.button("btn_staff", "staff"),
        Button(turn.text("btn_call"), phone=hotline),
        turn.button("btn_erase", "erase"),
    )
    return [Reply(turn.text("help"), buttons)]
