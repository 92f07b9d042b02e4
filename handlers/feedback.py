"""Feedback tickets (phản ánh, kiến nghị): the guided flow, the number, the due date, lookup."""

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions
from bot.messages import Reply
from bot.workdays import WorkCalendar
from handlers.handoff import post_to_staff, reachable_staff_room
from handlers.routing import Replies, Turn, router
from storage.models import Ticket
from storage.tickets import ANSWERED, CLOSED, create_ticket, find_ticket, remember_thread

MAX_CONTENT = 4000
# Staff-facing lines in the staff group.
TICKET_POST = "📝 Phản ánh {number} · hạn {due:%d/%m/%Y} · {channel}\n{content}\n{contact}"
CONTACT_LINE = "Liên hệ: {contact}"
HOW_TO_ANSWER = "↩️ Trả lời (reply) tin này để trả lời người dân; /xong để đóng phản ánh."


@router.on_command(
    "phản ánh", "phan anh", "/phananh", "kiến nghị", "kien nghi", "phản ánh kiến nghị",
    "phan anh kien nghi", "gửi phản ánh", "gui phan anh", "/kiennghi",
)  # fmt: skip
@router.on_action(actions.FEEDBACK)
async def start_feedback(turn: Turn) -> Replies:
    turn.note("feedback", outcome="asked")
    turn.state.mode = "feedback"
    turn.state.guide_id = None
    return [Reply(turn.text("feedback_prompt"), (turn.button("btn_menu", actions.MENU),))]


@router.on_mode("feedback")
async def feedback_content(turn: Turn) -> Replies | None:
    content = turn.incoming.text.strip()
    if not content:
        return None
    turn.state.data["feedback"] = content[:MAX_CONTENT]
    turn.state.mode = "feedback_contact"
    turn.note("feedback", outcome="content")
    return [
        Reply(
            turn.text("feedback_contact_prompt"), (turn.button("btn_skip", actions.FEEDBACK_SKIP),)
        )
    ]


@router.on_mode("feedback_contact")
async def feedback_contact(turn: Turn) -> Replies | None:
    contact = turn.incoming.text.strip()
    if not contact:
        return None
    return await file_ticket(turn, contact[:200])


@router.on_action(actions.FEEDBACK_SKIP)
async def feedback_without_contact(turn: Turn) -> Replies:
    return await file_ticket(turn, None)


async def file_ticket(turn: Turn, contact: str | None) -> Replies:
    content = turn.state.data.pop("feedback", None)
    turn.state.mode = None
    if not content:  # an old button pressed twice
        return await start_feedback(turn)
    settings = turn.settings
    today = turn.now.astimezone(ZoneInfo(settings.timezone)).date()
    ticket = await create_ticket(
        turn.session,
        channel=turn.incoming.channel,
        chat_id=turn.incoming.chat_id,
        content=content,
        reply_contact=contact,
        now=turn.now,
        year=today.year,
        due=WorkCalendar(settings.holidays, settings.working_days).add_working_days(
            today, settings.ticket_deadline_days
        ),
        prefix=settings.ticket_prefix,
    )
    turn.note("feedback", outcome="filed")
    ticket_id, room = ticket.id, reachable_staff_room(turn)

    async def remember(session: AsyncSession, ids: list[str]) -> None:
        if room is not None:
            await remember_thread(session, room[0], ids, ticket_id=ticket_id)

    post_to_staff(turn, staff_post(ticket), remember)  # the ticket stands even if this fails
    text = turn.text("feedback_filed", code=ticket.number, due=f"{ticket.due:%d/%m/%Y}")
    return [Reply(text, (turn.button("btn_menu", actions.MENU),))]


def staff_post(ticket: Ticket) -> str:
    contact = CONTACT_LINE.format(contact=ticket.reply_contact) if ticket.reply_contact else ""
    post = TICKET_POST.format(
        number=ticket.number,
        due=ticket.due,
        channel=ticket.channel,
        content=ticket.content,
        contact=contact,
    )
    return f"{post.rstrip()}\n{HOW_TO_ANSWER}"


@router.on_pattern(r"^\s*([A-Za-z]{1,6}-\d{4}-\d{1,8})\s*$")
async def ticket_status(turn: Turn, number: str) -> Replies:
    """A citizen types their ticket number; the answer is shown only in the chat that filed it."""
    turn.note("feedback", outcome="lookup")
    ticket = await find_ticket(turn.session, number)
    menu = (turn.button("btn_menu", actions.MENU),)
    if ticket is None:
        return [Reply(turn.text("ticket_not_found", code=number.upper()), menu)]
    own = (ticket.channel, ticket.chat_id) == (turn.incoming.channel, turn.incoming.chat_id)
    if ticket.answer and own:
        text = f"{turn.text('ticket_status_answered', code=ticket.number)}\n{ticket.answer}"
    elif ticket.status in (ANSWERED, CLOSED):
        text = turn.text("ticket_status_closed", code=ticket.number)
    else:
        text = turn.text("ticket_status_open", code=ticket.number, due=f"{ticket.due:%d/%m/%Y}")
    return [Reply(text, menu)]
