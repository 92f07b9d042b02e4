"""Help: what the bot can do and how to talk to it."""

from bot import actions
from bot.messages import Button, Reply
from handlers.routing import Replies, Turn, router


@router.on_command("/help", "help", "trợ giúp", "hướng dẫn sử dụng", "giúp tôi")
@router.on_action(actions.HELP)
async def help_text(turn: Turn) -> Replies:
    turn.note("help")
    hotline = str(turn.library.profile.get("hotline", ""))
    buttons = (
        turn.button("btn_menu", actions.MENU),
        turn.button("btn_staff", actions.STAFF),
        Button(turn.text("btn_call"), phone=hotline),
        turn.button("btn_erase", actions.ERASE),
    )
    return [Reply(turn.text("help"), buttons)]
