"""What staff do to a hand-off from the console: claim, answer, send a guide, close.

Each action is one transaction (the record, the event log, the audit row), committed before
anything is sent; then `send_to_contact` delivers, and a second small transaction notes the
first response when the send worked. Returns None when done, else a short problem code.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions
from bot.app import DATABASE, ENGINE
from bot.console.live import HUB
from bot.console.outbound import Config, send_to_contact, tell_staff_room
from bot.console.security import Me, now
from bot.guide_steps import step_replies
from bot.messages import Button, Incoming, Reply
from bot.opening_hours import next_opening
from bot.privacy import redact
from bot.rating_question import ask_once
from bot.turn import Turn
from storage.audit import audit
from storage.conversations import load_conversation, log_events, save_conversation
from storage.inbox import claim
from storage.models import Conversation, Handoff, HandoffClaim
from storage.sessions import get_session

CONSOLE = "console"  # the handler name of console messages in the event log
# Staff-facing lines posted in the staff room (STAFF_ROOM), so it sees what the console did.
ROOM_CLAIMED = "👤 {name} nhận xử lý #{id} (trang cán bộ)."
ROOM_ANSWERED = "✅ {name} đã trả lời #{id} (trang cán bộ):\n{text}"
ROOM_GUIDE = "📘 {name} đã gửi hướng dẫn “{title}” cho #{id}."
ROOM_CLOSED = "✔️ {name} đã kết thúc #{id} (trang cán bộ)."
MAX_ANSWER_CHARS = 4000


def _turn(app: Config, session: AsyncSession, handoff: Handoff, at: datetime) -> Turn:
    """A stand-in turn, so the conversation's own reply builders can be reused."""
    engine = app[ENGINE]
    chat_id = handoff.chat_id or ""
    state = Conversation(channel=handoff.channel, chat_id=chat_id, updated_at=at)
    return Turn(
        Incoming(handoff.channel, chat_id), state, engine.library, engine.matcher, session, at,
        settings=engine.settings,
    )  # fmt: skip


def came_out_of_hours(app: Config, handoff: Handoff) -> bool:
    """Whether the centre was closed when it came in (the citizen was told when staff answer),
    by the same schedule and holidays as the conversation's own note."""
    engine = app[ENGINE]
    return next_opening(handoff.opened_at, engine.library.profile, engine.settings) is not None


def _event(handoff: Handoff, at: datetime, text: str, **extra: object) -> dict:
    return {
        "at": at, "channel": handoff.channel, "chat_id": handoff.chat_id, "direction": "out",
        "handler": CONSOLE, "guide_id": extra.get("guide_id"), "step": extra.get("step"),
        "outcome": extra.get("outcome", "staff"), "text": text,
    }  # fmt: skip


async def _open_handoff(session: AsyncSession, handoff_id: int) -> Handoff | None:
    handoff = await session.get(Handoff, handoff_id)
    if handoff is None or handoff.closed_at is not None or handoff.chat_id is None:
        return None
    return handoff


async def _claim_if_free(session: AsyncSession, handoff_id: int, me: Me, at: datetime) -> None:
    if await session.get(HandoffClaim, handoff_id) is None:
        await claim(session, handoff_id, me.account_id, at)


async def claim_handoff(app: Config, me: Me, handoff_id: int) -> str | None:
    at = now()
    async with app[DATABASE].session() as session, session.begin():
        if await _open_handoff(session, handoff_id) is None:
            return "closed"
        await claim(session, handoff_id, me.account_id, at)
        await audit(session, now=at, account_id=me.account_id, actor=me.name,
                    action="claim", target=f"handoff:{handoff_id}")  # fmt: skip
    _poke(app)
    await tell_staff_room(app, ROOM_CLAIMED.format(name=me.name, id=handoff_id))
    return None


async def answer_handoff(app: Config, me: Me, handoff_id: int, text: str) -> str | None:
    text = text.strip()[:MAX_ANSWER_CHARS]
    if not text:
        return "empty"
    at = now()
    library = app[ENGINE].library
    async with app[DATABASE].session() as session, session.begin():
        handoff = await _open_handoff(session, handoff_id)
        if handoff is None:
            return "closed"
        await _claim_if_free(session, handoff_id, me, at)
        # Staff may paste a secret too: the log keeps what the citizen is told, redacted.
        await log_events(session, [_event(handoff, at, redact(text).text)])
        await audit(session, now=at, account_id=me.account_id, actor=me.name,
                    action="answer", target=f"handoff:{handoff_id}")  # fmt: skip
        channel, chat_id = handoff.channel, handoff.chat_id
    message = Reply(
        f"{library.text('handoff_staff_says')}\n{text}",
        (Button(library.text("btn_menu"), action=actions.MENU),),
    )
    problem = await _deliver(app, handoff_id, channel, chat_id, [message], at)
    if problem is None:
        await tell_staff_room(app, ROOM_ANSWERED.format(name=me.name, id=handoff_id, text=text))
    return problem


async def send_guide(app: Config, me: Me, handoff_id: int, guide_id: str) -> str | None:
    at = now()
    guide = app[ENGINE].library.guides.get(guide_id)
    if guide is None:
        return "no_guide"
    async with app[DATABASE].session() as session, session.begin():
        handoff = await _open_handoff(session, handoff_id)
        if handoff is None:
            return "closed"
        replies = step_replies(app[ENGINE].library, guide, 1)
        await _claim_if_free(session, handoff_id, me, at)
        await log_events(session, [_event(handoff, at, replies[0].text, guide_id=guide.id, step=1)])
        await audit(
            session, now=at, account_id=me.account_id, actor=me.name,
            action="send_guide", target=f"handoff:{handoff_id}", detail=guide.id,
        )  # fmt: skip
        channel, chat_id = handoff.channel, handoff.chat_id
    problem = await _deliver(app, handoff_id, channel, chat_id, replies, at)
    if problem is None:
        line = ROOM_GUIDE.format(name=me.name, title=guide.title, id=handoff_id)
        await tell_staff_room(app, line)
    return problem


async def close_handoff(app: Config, me: Me, handoff_id: int) -> str | None:
    """Close it; the citizen is told and asked for a rating (once per session), as /xong does."""
    at = now()
    async with app[DATABASE].session() as session, session.begin():
        handoff = await _open_handoff(session, handoff_id)
        if handoff is None:
            return "closed"
        handoff.closed_at = at
        turn = _turn(app, session, handoff, at)
        support_session = await get_session(session, handoff.session_id)
        replies = [Reply(turn.text("handoff_closed")), *ask_once(turn, support_session)]
        state = await load_conversation(session, handoff.channel, handoff.chat_id or "", at)
        if state.mode == "handoff":
            state.mode = None
            await save_conversation(session, state)
        await log_events(session, [_event(handoff, at, replies[0].text, outcome="closed")])
        await audit(session, now=at, account_id=me.account_id, actor=me.name,
                    action="close", target=f"handoff:{handoff_id}")  # fmt: skip
        channel, chat_id = handoff.channel, handoff.chat_id
    problem = await send_to_contact(app, channel, chat_id, replies)
    _poke(app)
    await tell_staff_room(app, ROOM_CLOSED.format(name=me.name, id=handoff_id))
    return problem


async def _deliver(
    app: Config, handoff_id: int, channel: str, chat_id: str | None,
    replies: list[Reply], at: datetime,
) -> str | None:  # fmt: skip
    problem = await send_to_contact(app, channel, chat_id, replies)
    if problem is None:
        async with app[DATABASE].session() as session, session.begin():
            handoff = await session.get(Handoff, handoff_id)
            if handoff is not None and handoff.first_response_at is None:
                handoff.first_response_at = at
    _poke(app)
    return problem


def _poke(app: Config) -> None:
    hub = app.get(HUB)
    if hub is not None:
        hub.poke()
