"""Support sessions: which visit a turn belongs to, what it did, and when to ask for a rating."""

from datetime import timedelta

from bot.privacy import pseudonym
from handlers.handoff import in_staff_room
from handlers.rating import ask_once
from handlers.routing import Replies, Turn, router
from handlers.survey import session_end_invitation
from storage.models import SupportSession
from storage.sessions import get_session, open_session, record_guide

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
    return replies


async def current_session(turn: Turn) -> SupportSession | None:
    return await get_session(turn.session, turn.state.data.get("session"))


async def track(turn: Turn) -> SupportSession:
    """The session this turn belongs to, opened after a silence, updated with what happened."""
    gap = timedelta(minutes=turn.settings.session_gap_minutes)
    found = None
    if turn.now - turn.state.updated_at <= gap:
        found = await current_session(turn)
    if found is None:
        incoming = turn.incoming
        ref = pseudonym(turn.settings.pseudonym_key, incoming.channel, incoming.chat_id)
        found = await open_session(turn.session, incoming.channel, ref, turn.now, turn.referral)
        turn.state.data["session"] = found.id
    found.ended_at = turn.now
    if turn.referral and not found.referral:
        found.referral = turn.referral
    outcome = session_outcome(turn)
    if outcome and OUTCOMES.index(outcome) > OUTCOMES.index(found.outcome):
        found.outcome = outcome
    topic = turn_topic(turn)
    if topic and topic not in found.topics:
        found.topics = [*found.topics, topic]
    guide = turn.library.guides.get(turn.log.get("guide_id") or "")
    step = turn.log.get("step")
    if guide is not None and isinstance(step, int) and step >= 1:
        await record_guide(
            turn.session, found.id, guide.id, step, finished=step == len(guide.steps)
        )
    return found


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
