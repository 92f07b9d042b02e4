"""The rating: was it helpful, how satisfied, an optional comment; asked once per session."""

from bot import actions
from bot.messages import Reply
from handlers.menu import main_menu
from handlers.routing import Replies, Turn, router
from storage.sessions import get_session

# Satisfaction levels as stored, with their button text keys; 1 and 2 count as satisfied.
LEVELS = {1: "btn_very_satisfied", 2: "btn_satisfied", 3: "btn_unsatisfied"}
SATISFIED = (1, 2)


@router.on_action(actions.RATE)
async def rate(turn: Turn, kind: str = "", value: str = "") -> Replies:
    session = await get_session(turn.session, turn.state.session_id)
    turn.note("rating", outcome=kind[:20])
    if session is None or session.satisfaction is not None:
        return main_menu(turn, turn.text("rating_thanks"))
    session.rating_asked = True  # a rating given is never asked for again in this session
    if kind == "h":
        session.helpful = value == "1"
        buttons = tuple(
            turn.button(key, f"{actions.RATE}:s:{level}") for level, key in LEVELS.items()
        )
        return [Reply(turn.text("rating_scale"), buttons)]
    if kind == "s" and value.isdigit() and int(value) in LEVELS:
        session.satisfaction = int(value)
        turn.state.mode = "rating_comment"
        return [Reply(turn.text("rating_comment_prompt"), (turn.button("btn_skip", actions.MENU),))]
    return main_menu(turn)


@router.on_mode("rating_comment")
async def comment(turn: Turn) -> Replies | None:
    session = await get_session(turn.session, turn.state.session_id)
    text = turn.incoming.text.strip()
    if session is None or not text:
        return None
    session.comment = text[:1000]
    turn.note("rating", outcome="comment")
    return main_menu(turn, turn.text("rating_thanks"))
