"""Hand-off to staff: the citizen's question goes to the staff group, and answers come back."""

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.delivery import DeliveryError
from bot.messages import Button, Reply
from handlers.rating import ask_once
from handlers.routing import Replies, Turn, router
from storage.accounts import console_staff_exists
from storage.models import SessionGuide
from storage.sessions import get_handoff, get_session, open_handoff
from storage.tickets import remember_thread

log = logging.getLogger(__name__)

STAFF_CHANNEL = "telegram"  # where the staff group lives
# Staff-facing lines in the staff group (citizen-facing text lives in content/texts.yaml).
HANDOFF_POST = "🙋 Người dân hỏi · #{id} · {channel}\n{question}\n\n{summary}"
FOLLOW_UP_POST = "🙋 #{id} hỏi thêm:\n{question}"
HOW_TO_ANSWER = "↩️ Trả lời (reply) tin này để gửi cho người dân; /xong để kết thúc."
NO_SUMMARY = "Chưa xem hướng dẫn nào."
GUIDE_LINE = "• {title}: bước {step}/{total}{done}"


def in_staff_room(turn: Turn) -> bool:
    """A message in the centre's staff group, not a citizen's chat."""
    chat_id = turn.settings.telegram_staff_chat_id
    incoming = turn.incoming
    return chat_id is not None and (incoming.channel, incoming.chat_id) == (
        STAFF_CHANNEL,
        str(chat_id),
    )


def staff_chat_id(turn: Turn) -> str | None:
    chat_id = turn.settings.telegram_staff_chat_id
    if chat_id is None or STAFF_CHANNEL not in turn.senders:
        return None
    return str(chat_id)


async def post_to_staff(turn: Turn, text: str) -> list[str] | None:
    """Post in the staff group; None when there is no staff group or the post failed."""
    chat_id = staff_chat_id(turn)
    if chat_id is None:
        return None
    try:
        return await turn.senders[STAFF_CHANNEL].send(chat_id, [Reply(text)])
    except DeliveryError as error:
        log.warning("staff group unreachable: %s", error)
        return None


def next_opening(turn: Turn) -> datetime | None:
    """None while the centre is open (profile `schedule`), else when it opens next."""
    zone = ZoneInfo(turn.settings.timezone)
    local = turn.now.astimezone(zone)
    schedule = turn.library.profile.get("schedule") or {}
    holidays = set(turn.settings.holidays)
    for days_ahead in range(15):
        day = (local + timedelta(days=days_ahead)).date()
        if day in holidays:
            continue
        for start, end in schedule.get(day.isoweekday(), []):
            opens = datetime.combine(day, _clock(start), zone)
            closes = datetime.combine(day, _clock(end), zone)
            if days_ahead == 0 and opens <= local < closes:
                return None
            if opens > local:
                return opens
    return None


def _clock(hhmm: str) -> time:
    return datetime.strptime(str(hhmm), "%H:%M").time()


def out_of_hours_note(turn: Turn) -> str | None:
    opening = next_opening(turn)
    if opening is None:
        return None
    return turn.text("handoff_out_of_hours", hours=f"{opening:%H:%M}, {opening:%d/%m/%Y}")


@router.on_command("gặp cán bộ", "gap can bo", "/canbo", "cán bộ", "nhân viên", "người thật")
@router.on_action("staff")
async def contact_staff(turn: Turn) -> Replies:
    hotline = str(turn.library.profile.get("hotline", ""))
    call = Button(turn.text("btn_call"), phone=hotline)
    if staff_chat_id(turn) is None and not await console_staff_exists(turn.session):
        turn.note("handoff", outcome="contact")
        return [Reply(turn.text("handoff_unavailable"), (call, turn.button("btn_menu", "menu")))]
    turn.note("handoff", outcome="asked")
    turn.state.mode = "handoff"
    turn.state.guide_id = None
    text = "\n\n".join(filter(None, [turn.text("handoff_prompt"), out_of_hours_note(turn)]))
    return [Reply(text, (turn.button("btn_menu", "menu"), call))]


@router.on_mode("handoff")
async def hand_off(turn: Turn) -> Replies | None:
    """Every message in hand-off mode goes to the staff group, in the same thread."""
    question = turn.incoming.text.strip()
    if not question:
        return None
    handoff = await get_handoff(turn.session, turn.state.data.get("handoff"))
    if handoff is None or handoff.closed_at is not None:
        session_id = turn.state.data.get("session")
        handoff = await open_handoff(
            turn.session, turn.incoming.channel, turn.incoming.chat_id,
            session_id if isinstance(session_id, int) else None, question, turn.now,
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
    ids = await post_to_staff(turn, f"{post}\n{HOW_TO_ANSWER}")
    # The staff console's inbox shows every hand-off: without the group it still gets answered.
    if ids is None and not await console_staff_exists(turn.session):
        turn.note("handoff", outcome="failed")
        turn.state.mode = None
        hotline = str(turn.library.profile.get("hotline", ""))
        call = Button(turn.text("btn_call"), phone=hotline)
        return [Reply(turn.text("handoff_unavailable"), (call, turn.button("btn_menu", "menu")))]
    await remember_thread(turn.session, STAFF_CHANNEL, ids or [], handoff_id=handoff.id)
    turn.note("handoff", outcome="handed")
    text = "\n\n".join(filter(None, [turn.text("handoff_sent"), out_of_hours_note(turn)]))
    buttons = (turn.button("btn_end_handoff", "handoff_end"), turn.button("btn_menu", "menu"))
    return [Reply(text, buttons)]


@router.on_action("handoff_end")
async def end_handoff(turn: Turn) -> Replies:
    """The citizen says they are done: close it, and ask for a rating if not asked yet."""
    handoff = await get_handoff(turn.session, turn.state.data.get("handoff"))
    if handoff is not None and handoff.closed_at is None:
        handoff.closed_at = turn.now
    turn.note("handoff", outcome="closed")
    turn.state.mode = None
    session = await get_session(turn.session, turn.state.data.get("session"))
    replies = [Reply(turn.text("handoff_ended"), (turn.button("btn_menu", "menu"),))]
    return replies + ask_once(turn, session)


async def session_summary(turn: Turn, session_id: int | None) -> str:
    """What the citizen already went through, so staff need not ask again."""
    if session_id is None:
        return NO_SUMMARY
    rows = await turn.session.execute(
        select(SessionGuide).where(SessionGuide.session_id == session_id)
    )
    lines = []
    for row in rows.scalars():
        guide = turn.library.guides.get(row.guide_id)
        if guide is not None:
            done = " ✅" if row.finished else ""
            lines.append(
                GUIDE_LINE.format(
                    title=guide.title, step=row.furthest_step, total=len(guide.steps), done=done
                )
            )
    return "\n".join(lines) or NO_SUMMARY
