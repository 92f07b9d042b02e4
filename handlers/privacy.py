"""Privacy in the conversation: the warning when a secret was typed (and redacted), and
/xoadulieu, a person erasing their own contact, state, messages and sessions after a yes."""

from bot import actions
from bot.messages import Reply
from bot.privacy import ERASED, pseudonym
from handlers.menu import main_menu
from handlers.routing import Replies, Turn, router
from storage.sessions import erase_person
from storage.surveys import erase_chat


@router.on_command("/xoadulieu", "xoadulieu", "xoá dữ liệu", "xóa dữ liệu", "xoá dữ liệu của tôi")
@router.on_action(actions.ERASE)
async def ask_to_erase(turn: Turn) -> Replies:
    turn.note("privacy", outcome="asked")
    buttons = (
        turn.button("btn_erase_yes", actions.ERASE_YES),
        turn.button("btn_erase_no", actions.ERASE_NO),
    )
    return [Reply(turn.text("erase_confirm"), buttons)]


@router.on_action(actions.ERASE_YES)
async def erase(turn: Turn) -> Replies:
    incoming = turn.incoming
    ref = pseudonym(turn.settings.pseudonym_key, incoming.channel, incoming.chat_id)
    await erase_person(turn.session, incoming.channel, incoming.chat_id, ref)
    await erase_chat(turn.session, incoming.channel, incoming.chat_id)  # named survey answers
    turn.note("privacy", outcome=ERASED)  # the engine then writes nothing about this turn
    return [Reply(turn.text("erase_done"), (turn.button("btn_menu", actions.MENU),))]


@router.on_action(actions.ERASE_NO)
async def keep(turn: Turn) -> Replies:
    turn.note("privacy", outcome="kept")
    return main_menu(turn, turn.text("erase_kept"))


@router.after_turn
async def warn_about_secrets(turn: Turn, replies: Replies) -> Replies:
    """The engine took an ID number or code out of the message: say so, kindly, first."""
    if turn.secrets:
        return [Reply(turn.text("privacy_warning")), *replies]
    return replies
