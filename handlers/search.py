"""Free text: a confident guide, a short "did you mean" list, or an honest "I don't know"."""

from bot import actions
from bot.actions import guide_step
from bot.messages import Button, Reply
from handlers.guides import step_reply
from handlers.menu import main_menu
from handlers.routing import Replies, Turn, router

MAX_QUERY_CHARS = 300  # a question is a sentence or two; the rest of a long paste is noise


def unknown_reply(turn: Turn) -> Replies:
    """Say plainly we have no guide, and give the menu and a person to ask."""
    hotline = str(turn.library.profile.get("hotline", ""))
    buttons = (
        turn.button("btn_menu", actions.MENU),
        turn.button("btn_staff", actions.STAFF),
        Button(turn.text("btn_call"), phone=hotline),
    )
    return [Reply(turn.text("unknown"), buttons)]


@router.on_search
async def search(turn: Turn) -> Replies:
    query = turn.incoming.text.strip()
    if not query:
        turn.note("search", outcome="empty")
        return main_menu(turn, turn.text("empty"))
    result = turn.matcher.match(query[:MAX_QUERY_CHARS])
    if result.outcome == "answer":
        guide = result.matches[0].guide
        replies = step_reply(turn, guide, 1)
        turn.note("search", guide_id=guide.id, step=1, outcome="answer")
        return replies
    if result.outcome == "suggest":
        turn.note("search", outcome="suggest")
        buttons = [Button(m.guide.title, action=guide_step(m.guide.id)) for m in result.matches]
        buttons.append(turn.button("btn_none_of_these", actions.STAFF))
        return [Reply(turn.text("suggest_prompt"), tuple(buttons))]
    turn.note("search", outcome="unknown")
    return unknown_reply(turn)
