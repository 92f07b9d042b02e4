"""Hand-off to staff: the citizen's question goes to the staff group, and answers come back."""

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from bot import actions
from bot.messages import Button, Reply
from bot.opening_hours import next_opening
from bot.outbound import AfterSent, Outbound
from bot.rating_question import ask_once
from handlers.routing import Replies, Turn, router
from storage.accounts import console_staff_exists
from storage.models import SessionGuide
from storage.sessions import get_handoff, get_session, open_handoff
from storage.tickets import remember_thread

log = logging.getLogger(__name__)

# Staff-facing lines in the staff group (citizen-facing text lives in content/texts.yaml).
HANDOFF_POST = "🙋 Người dân hỏi · #{id} · {channel}\n{question}\n\n{summary}"
FOLLOW_UP_POST = "🙋 #{id} hỏi thêm:\n{question}"
HOW_TO_ANSWER = "↩️ Trả lời (reply) tin này để gửi cho người dân; /xong để kết thúc."
NO_SUMMARY = "Chưa xem hướng dẫn nào."
GUIDE_LINE = "• {title}: bước {step}/{total}{done}"


def in_staff_room(turn: Turn) -> bool:
    """A message in the centre's staff room (a group, usually), not a citizen's chat."""
    incoming = turn.incoming
    return turn.settings.staff_room_address() == (incoming.channel, incoming.chat_id)


def reachable_staff_room(turn: Turn) -> tuple[str, str] | None:
    """The staff room, when its channel can post there."""
    address = turn.settings.staff_room_address()
    return address if address is not None and address[0] in turn.senders else None


def post_to_staff(
    turn: Turn, text: str, then: AfterSent | None = None, failed: Replies | None = None
) -> bool:
    """Queue a post in the staff room, sent once the turn is committed; False without a room.

    `then` records the post's ids (staff reply to it to answer); `failed` is told to the
    citizen of this turn if the post cannot be delivered.
    """
    address = reachable_staff_room(turn)
    if address is None:
        return False
    citizen = (turn.incoming.channel, turn.incoming.chat_id)

    def tell_citizen(reason: str) -> Outbound | None:
        return Outbound(*citizen, failed) if failed else None

    turn.send_later(Outbound(*address, [Reply(text)], then=then, failed=tell_citizen))
    return True


def out_of_hours_note(turn: Turn) -> str | None:
    opening = next_opening(turn.now, turn.library.profile, turn.settings)
    if opening is None:
        return None
    return turn.text("handoff_out_of_hours", hours=f"{opening:%H:%M}, {opening:%d/%m/%Y}")


@router.on_command("gặp cán bộ", "gap can bo", "/canbo", "cán bộ", "nhân viên", "người thật")
@router.on_action(actions.STAFF)
async def contact_staff(turn: Turn) -> Replies:
    hotline = str(turn.library.profile.get("hotline", ""))
    call = Button(turn.text("btn_call"), phone=hotline)
    if reachable_staff_room(turn) is None and not await console_staff_exists(turn.session):
        turn.note("handoff", outcome="contact")
        return [
            Reply(turn.text("handoff_unavailable"), (call, turn.button("btn_menu", actions.MENU)))
        ]
    turn.note("handoff", outcome="asked")
    turn.state.mode = "handoff"
    turn.state.guide_id = None
    text = "\n\n".join(filter(None, [turn.text("handoff_prompt"), out_of_hours_note(turn)]))
    return [Reply(text, (turn.button("btn_menu", actions.MENU), call))]


@router.on_mode("handoff")
async def hand_off(turn: Turn) -> Replies | None:
    """Every message in hand-off mode goes to the staff group, in the same thread."""
    question = turn.incoming.text.strip()
    if not question:
        return None
    handoff = await get_handoff(turn.session, turn.state.data.get("handoff"))
    if handoff is None or handoff.closed_at is not None:
        handoff = await open_handoff(
            turn.session, turn.incoming.channel, turn.incoming.chat_id, turn.state.session_id,
            question, turn.now,
        )  # fmt: skip
        turn.state.data["handoff"] = handoff.id
        post = HANDOFF_POST.format(
            id=handoff.id,
            channel=handoff.channel,
            question=question,
            summary=await session_summary(turn, handoff.session_id),
        )
    else:
        post = FOLLOW_UP_POST.format(id=handoff.id, question=question)
    hotline = str(turn.library.profile.get("hotline", ""))
    call = Button(turn.text("btn_call"), phone=hotline)
    unavailable = [
        Reply(turn.text("handoff_unavailable"), (call, turn.button("btn_menu", actions.MENU)))
    ]
    handoff_id = handoff.id
    room = reachable_staff_room(turn)

    async def remember(session: AsyncSession, ids: list[str]) -> None:
        if room is not None:
            await remember_thread(session, room[0], ids, handoff_id=handoff_id)

    # The staff console's inbox shows every hand-off: without the group it still gets answered.
    console = await console_staff_exists(turn.session)
    text = f"{post}\n{HOW_TO_ANSWER}"
    if (
        not post_to_staff(turn, text, remember, failed=None if console else unavailable)
        and not console
    ):
        turn.note("handoff", outcome="failed")
        turn.state.mode = None
        return unavailable
    turn.note("handoff", outcome="handed")
    text = "\n\n".join(filter(None, [turn.text("handoff_sent"), out_of_hours_note(turn)]))
    buttons = (
        turn.button("btn_end_handoff", actions.HANDOFF_END),
        turn.button("btn_menu", actions.MENU),
    )
    return [Reply(text, buttons)]


@router.on_action(actions.HANDOFF_END)
async def end_handoff(turn: Turn) -> Replies:
    """The citizen says they are done: close it, and ask for a rating if not asked yet."""
    handoff = await get_handoff(turn.session, turn.state.data.get("handoff"))
    if handoff is not None and handoff.closed_at is None:
        handoff.closed_at = turn.now
    turn.note("handoff", outcome="closed")
    turn.state.mode = None
    session = await get_session(turn.session, turn.state.session_id)
    replies = [Reply(turn.text("handoff_ended"), (turn.button("btn_menu", actions.MENU),))]
    return replies + ask_once(turn, session)


async def session_summary(turn: Turn, session_id: int | None) -> str:
    """What the citizen already went through, so staff need not ask again."""
    if session_id is None:
        return NO_SUMMARY
    rows = await turn.session.execute(
        select(SessionGuide).where(SessionGuide.session_id == session_id)
    )
    # Steps read in this session's guides since they were written wait in the state.
    waiting = turn.state.session_guides if session_id == turn.state.session_id else {}
    lines = []
    for row in rows.scalars():
        guide = turn.library.guides.get(row.guide_id)
        if guide is not None:
            done = " ✅" if row.finished else ""
            step = max(row.furthest_step, (waiting.get(row.guide_id) or [0])[0])
            lines.append(
                GUIDE_LINE.format(title=guide.title, step=step, total=len(guide.steps), done=done)
            )
    return "\n".join(lines) or NO_SUMMARY
