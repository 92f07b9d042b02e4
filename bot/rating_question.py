"""The question a support session ends with, asked at most once: the session tracker, the staff
room's /xong and the console's "close" all ask it; the answers are handled in handlers/rating.py."""

from bot import actions
from bot.messages import Reply
from bot.turn import Replies, Turn
from storage.models import SupportSession


def rating_prompt(turn: Turn) -> Reply:
    """The first question; the session tracker decides whether it may be asked."""
    buttons = (
        turn.button("btn_rating_yes", f"{actions.RATE}:h:1"),
        turn.button("btn_rating_no", f"{actions.RATE}:h:0"),
    )
    return Reply(turn.text("rating_question"), buttons)


def ask_once(turn: Turn, session: SupportSession | None) -> Replies:
    """The rating question, unless this session was already asked: never nag."""
    if session is None or session.rating_asked:
        return []
    session.rating_asked = True
    return [rating_prompt(turn)]
