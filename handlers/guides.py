"""Guide navigation: one step per message, next/back/repeat, related guides at the end."""

from bot import actions
from bot.guide_steps import step_replies
from bot.library import Guide
from bot.matcher import normalize
from handlers.menu import main_menu
from handlers.routing import Replies, Turn, router

NEXT_WORDS = {"tiep", "tiep theo", "tiep di", "next", "ok", "xong", "roi", "buoc tiep", ">"}
BACK_WORDS = {"quay lai", "lui", "lui lai", "back", "truoc", "buoc truoc", "<"}
REPEAT_WORDS = {"lap lai", "nhac lai", "doc lai", "xem lai", "lai"}


def step_reply(turn: Turn, guide: Guide, number: int) -> Replies:
    """Show step `number` (1-based) and remember it as the place to continue from."""
    turn.state.mode = "guide"
    turn.state.guide_id = guide.id
    turn.state.step = number
    turn.note(
        "guide",
        guide_id=guide.id,
        step=number,
        outcome="finished" if number == len(guide.steps) else None,
    )
    return step_replies(turn.library, guide, number)


def open_guide(turn: Turn, guide_id: str, number: int = 1) -> Replies:
    guide = turn.library.guides.get(guide_id)
    if guide is None or not 1 <= number <= len(guide.steps):
        turn.note("stale", outcome="stale")
        return main_menu(turn, turn.text("stale_button"))
    return step_reply(turn, guide, number)


@router.on_action(actions.GUIDE)
async def guide_step(turn: Turn, guide_id: str = "", number: str = "1") -> Replies:
    return open_guide(turn, guide_id, int(number) if number.isdigit() else 0)


@router.on_pattern(r"^\s*#\s*(\d{1,4})(?:\s+([A-Za-z0-9_-]{1,32}))?\s*$")
async def guide_by_code(turn: Turn, code: str, referral: str | None = None) -> Replies:
    """'#12' from a poster or a shared message; '#12 TV05' also says who sent them."""
    guide = turn.library.by_code.get(int(code))
    if referral:
        turn.referral = referral.upper()
    if guide is None:
        turn.note("code", outcome="unknown")
        return main_menu(turn, turn.text("unknown_code", code=code))
    return step_reply(turn, guide, 1)


@router.on_mode("guide")
async def navigate(turn: Turn) -> Replies | None:
    """Words such as 'tiếp' or 'quay lại' move within the open guide; anything else is a search."""
    word = normalize(turn.incoming.text)
    guide = turn.library.guides.get(turn.state.guide_id or "")
    if guide is None:
        return None
    current = min(max(turn.state.step, 1), len(guide.steps))
    if word in NEXT_WORDS:
        return step_reply(turn, guide, min(current + 1, len(guide.steps)))
    if word in BACK_WORDS:
        return step_reply(turn, guide, max(current - 1, 1))
    if word in REPEAT_WORDS:
        return step_reply(turn, guide, current)
    return None
