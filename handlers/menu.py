"""Start, the main menu (topics as buttons) and the list of guides in a topic."""

from bot import actions
from bot.messages import Button, Reply
from handlers.routing import Replies, Turn, router
from handlers.subscription import subscribed_notice


def menu_buttons(turn: Turn) -> tuple[Button, ...]:
    topics = turn.library.topics.values()
    return tuple(Button(f"{t.icon} {t.title}".strip(), action=actions.topic(t.id)) for t in topics)


def main_menu(turn: Turn, lead: str | None = None) -> Replies:
    """The menu, optionally after a sentence saying why we are back here."""
    turn.state.mode = None
    turn.state.guide_id = None
    turn.state.step = 0
    text = turn.text("menu_prompt") if lead is None else f"{lead}\n\n{turn.text('menu_prompt')}"
    return [Reply(text, menu_buttons(turn))]


@router.on_command("/start", "start", "bắt đầu", "xin chào", "chào", "hi", "hello")
async def start(turn: Turn) -> Replies:
    turn.note("start")
    notice = await subscribed_notice(turn)  # first conversation: they get news, how to stop
    return main_menu(turn, "\n".join(t for t in (turn.text("welcome"), notice) if t))


@router.on_command("menu", "/menu", "0", "trang chủ", "về menu", "trở về", "danh mục")
@router.on_action(actions.MENU)
async def menu(turn: Turn) -> Replies:
    turn.note("menu")
    return main_menu(turn)


@router.on_action(actions.TOPIC)
async def topic(turn: Turn, topic_id: str = "") -> Replies:
    found = turn.library.topics.get(topic_id)
    guides = turn.library.guides_in(topic_id)
    if found is None or not guides:
        turn.note("stale", outcome="stale")
        return main_menu(turn, turn.text("stale_button"))
    turn.note("topic", outcome=topic_id)
    buttons = [Button(g.title, action=actions.guide_step(g.id)) for g in guides]
    buttons.append(turn.button("btn_menu", actions.MENU))
    return [Reply(turn.text("topic_prompt", title=found.title), tuple(buttons))]
