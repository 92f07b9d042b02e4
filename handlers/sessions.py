"""Support sessions: which visit a turn belongs to, what it did, and when to ask for a rating."""

from datetime import timedelta

from bot.privacy import pseudonym
from bot.rating_question import ask_once
from handlers.handoff import in_staff_room
from handlers.routing import Replies, Turn, router
from handlers.survey import session_end_invitation
from storage.models import SupportSession
from storage.sessions import get_session, new_session, open_session, record_guides

# The strongest thing that happened in a session is its outcome.
OUTCOMES = ("abandoned", "self_served", "feedback", "handoff")
# Turns that are not a citizen being helped: staff at work, a person erasing their data.
UNTRACKED = {"staffroom", "staff", "privacy", "survey"}


@router.after_turn
async def track_session(turn: Turn, replies: Replies) -> Replies:
    """Record the turn in its session; ask for a rating when a guide was finished."""
    if in_staff_room(turn) or turn.log.get("handler") in UNTRACKED:
        return replies
    session = await track(turn)
    if finished_guide(turn):
        # A message of its own after the last step: the step keeps its buttons (some platforms show
        # at most 5 per message) and the question comes once the guide is read.
        invitation = await session_end_invitation(turn) if not session.rating_asked else []
        if invitation:  # a survey of the centre's instead of the one-question rating
            session.rating_asked = True
        replies = [*replies, *(invitation or ask_once(turn, session))]
    move_end(turn, session)
    return replies


async def current_session(turn: Turn) -> SupportSession | None:
    # Read with the conversation (storage.conversations.load_state): no query of its own.
    return await get_session(turn.session, turn.state.session_id)


async def track(turn: Turn) -> SupportSession:
    """The session this turn belongs to, opened after a silence, updated with what happened.

    An ordinary turn writes nothing of the session (issue 17): its end and the furthest step
    in a guide already opened wait in the conversation row. What the reports count (a session,
    its topics, outcome and referral, a guide opened or finished, a rating) is written in the
    turn it happens, with whatever was waiting.
    """
    gap = timedelta(minutes=turn.settings.session_gap_minutes)
    state = turn.state
    found = None
    if turn.now - state.updated_at <= gap:
        found = await current_session(turn)
    opened = found is None
    if found is None:
        await close_session(turn)
        incoming = turn.incoming
        ref = pseudonym(turn.settings.pseudonym_key, incoming.channel, incoming.chat_id)
        found = new_session(incoming.channel, ref, turn.now, turn.referral)
    if turn.referral and not found.referral:
        found.referral = turn.referral
    outcome = session_outcome(turn)
    if outcome and OUTCOMES.index(outcome) > OUTCOMES.index(found.outcome):
        found.outcome = outcome
    topic = turn_topic(turn)
    if topic and topic not in found.topics:
        found.topics = [*found.topics, topic]
    if opened:  # one INSERT with what this first turn did
        await open_session(turn.session, found)
        turn.support_session = found  # held for the turn: get_session finds it without a query
        state.session_id, state.session_seen_at, state.session_guides = found.id, turn.now, {}
    # No autoflush: the session's changes go in one UPDATE with those of the rating, if any.
    with turn.session.no_autoflush:
        await record_step(turn, found)
    return found


async def record_step(turn: Turn, found: SupportSession) -> None:
    """The guide step of this turn: written when the guide is opened or finished in this
    session, else kept in the conversation row until the session is next written."""
    guide = turn.library.guides.get(turn.log.get("guide_id") or "")
    step = turn.log.get("step")
    if guide is None or not isinstance(step, int) or step < 1:
        return
    guides = {g: list(progress) for g, progress in turn.state.session_guides.items()}
    furthest, written, finished = guides.get(guide.id) or [0, 0, 0]
    opened_now = guide.id not in guides
    finished_now = step == len(guide.steps) and not finished
    guides[guide.id] = [max(furthest, step), written, int(finished or finished_now)]
    if opened_now or finished_now:
        await record_guides(turn.session, found.id, unwritten(guides, also=guide.id))
        guides = {g: [reached, reached, done] for g, (reached, _, done) in guides.items()}
    turn.state.session_guides = guides


def unwritten(guides: dict[str, list[int]], also: str | None = None) -> list[tuple[str, int, bool]]:
    """(guide, furthest step, finished) of the guides whose progress waits to be written."""
    return [
        (g, reached, bool(done))
        for g, (reached, written, done) in guides.items()
        if reached > written or g == also
    ]


async def close_session(turn: Turn) -> None:
    """Write what the previous session of this conversation kept waiting: its end, its steps."""
    state, previous = turn.state, turn.support_session
    if previous is None or previous.id != state.session_id:
        return  # no session yet, or one that no longer exists
    seen = state.session_seen_at
    if seen is not None and seen > previous.ended_at:
        previous.ended_at = seen
    await record_guides(turn.session, previous.id, unwritten(state.session_guides))


def move_end(turn: Turn, found: SupportSession) -> None:
    """The session ends with this turn: written now if the row is written anyway, else when
    the session closes (or with its next change)."""
    turn.state.session_seen_at = turn.now
    if turn.session.is_modified(found):
        found.ended_at = turn.now


def finished_guide(turn: Turn) -> bool:
    guide = turn.library.guides.get(turn.log.get("guide_id") or "")
    return guide is not None and turn.log.get("step") == len(guide.steps)


def session_outcome(turn: Turn) -> str | None:
    handler, outcome = turn.log.get("handler"), turn.log.get("outcome")
    if handler == "handoff" and outcome == "handed":
        return "handoff"
    if handler == "feedback" and outcome == "filed":
        return "feedback"
    if finished_guide(turn):
        return "self_served"
    return None


def turn_topic(turn: Turn) -> str | None:
    if turn.log.get("handler") == "topic":
        return turn.log.get("outcome")
    guide = turn.library.guides.get(turn.log.get("guide_id") or "")
    return guide.topic if guide else None
