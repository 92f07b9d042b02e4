"""Staff at work: answering in the staff group, the in-person log and the weekly summary.

Only registered staff and volunteers (`troly staff add`, `troly volunteer add`) get anything
here; a citizen who types a staff command gets the ordinary menu, with no hint it exists.
"""

import logging
import re
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions
from bot.messages import Reply
from bot.outbound import AfterSent, Outbound
from bot.rating_question import ask_once
from handlers import campaign_staff
from handlers.handoff import in_staff_room
from handlers.menu import main_menu
from handlers.routing import Replies, Turn, router
from storage.accounts import account_of_member
from storage.conversations import log_events
from storage.inbox import claim
from storage.models import Handoff, StaffMember, Ticket
from storage.sessions import get_handoff, get_session, mark_first_response
from storage.staff import STAFF, member_by_chat
from storage.support_log import log_support
from storage.tickets import answer_ticket, close_ticket, list_tickets, thread_of

log = logging.getLogger(__name__)

CLOSE_WORDS = {"/xong", "/dong", "/đóng", "xong", "đóng"}
# Staff-facing lines (the staff group and staff members' own chats).
NOT_REGISTERED = (
    "Tài khoản {user_id} chưa được đăng ký là cán bộ. Người quản trị chạy: "
    'troly staff add "Họ tên" --channel {channel} --chat-id {user_id}'
)
RELAYED = "✅ Đã gửi cho người dân (#{id})."
NOT_DELIVERED = "⚠️ Chưa gửi được cho người dân (#{id}, kênh {channel}): {reason}"
HANDOFF_CLOSED = "✔️ Đã kết thúc #{id}."
TICKET_ANSWERED = "✅ Đã trả lời phản ánh {number}."
TICKET_CLOSED = "✔️ Đã đóng phản ánh {number}."
NO_OPEN_TICKETS = "Không có phản ánh nào đang chờ."
TICKET_LINE = "{mark} {number} · hạn {due:%d/%m} · {content}"
LOG_HELP = (
    "Ghi nhật ký hỗ trợ trực tiếp, một dòng:\n"
    "/nhatky chủ đề; nơi hỗ trợ; số người; có/không (đã nộp hồ sơ trực tuyến tại chỗ)\n"
    "Ví dụ: /nhatky Cài VNeID; chợ Hòa An; 12; có"
)
LOGGED = "📒 Đã ghi: {topic} · {place} · {people} người · nộp trực tuyến: {online} · {helper}"
YES_WORDS = {"có", "co", "c", "yes", "y", "rồi", "roi", "x"}


@router.before_turn
async def staff_room_first(turn: Turn) -> Replies | None:
    """The staff room answers for itself, whatever is said there."""
    return await staff_room(turn) if in_staff_room(turn) else None


@router.on_action(actions.STAFF_ROOM)
async def staff_room(turn: Turn) -> Replies:
    """Everything said in the staff group; silence for chatter that is not for the bot."""
    if not in_staff_room(turn):
        return main_menu(turn)  # a forged button payload from somebody else's chat
    turn.note("staffroom")
    incoming = turn.incoming
    text = incoming.text.strip()
    first_word = text.split(maxsplit=1)[0].lower().split("@", 1)[0] if text else ""
    member = await member_by_chat(turn.session, incoming.channel, incoming.user_id)
    if member is None:
        if incoming.reply_to or first_word.startswith("/"):
            return [
                Reply(NOT_REGISTERED.format(channel=incoming.channel, user_id=incoming.user_id))
            ]
        return []
    if first_word == campaign_staff.COMMAND:
        body = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
        return await campaign_staff.draft(turn, member, body)
    if (incoming.action or "").startswith(f"{campaign_staff.ACTION}:"):
        return await campaign_staff.decide(turn, member, incoming.action or "")
    if first_word in ("/phananh", "/phản_ánh"):
        return [Reply(await ticket_list(turn))]
    if first_word == "/baocao":
        return await weekly_summary(turn)
    thread = await thread_of(turn.session, incoming.channel, incoming.reply_to or "")
    if thread is None or not text:
        return []
    closing = first_word in CLOSE_WORDS and len(text.split()) == 1
    if thread.handoff_id is not None:
        handoff = await get_handoff(turn.session, thread.handoff_id)
        if handoff is not None:
            return await (
                close_handoff(turn, handoff) if closing else relay(turn, handoff, text, member)
            )
    if thread.ticket_id is not None:
        ticket = await turn.session.get(Ticket, thread.ticket_id)
        if ticket is not None:
            if closing:
                close_ticket(ticket, turn.now)
                return [Reply(TICKET_CLOSED.format(number=ticket.number))]
            return await answer(turn, ticket, text, member)
    return []


def notify(
    turn: Turn, channel: str, chat_id: str | None, replies: Replies, what: str,
    then: AfterSent | None = None,
) -> bool:  # fmt: skip
    """Queue a message for a citizen on their own channel, sent after this turn commits; if it
    cannot be delivered, the staff room is told. False when the person erased their data."""
    if chat_id is None:
        return False
    room = (turn.incoming.channel, turn.incoming.chat_id)

    def tell_staff(reason: str) -> Outbound:
        return Outbound(
            *room, [Reply(NOT_DELIVERED.format(id=what, channel=channel, reason=reason))]
        )

    turn.send_later(Outbound(channel, chat_id, replies, then=then, failed=tell_staff))
    return True


async def relay(turn: Turn, handoff: Handoff, text: str, member: StaffMember) -> Replies:
    message = Reply(
        f"{turn.text('handoff_staff_says')}\n{text}", (turn.button("btn_menu", actions.MENU),)
    )
    # The console shows the same thread and who took it, whichever place the answer came from.
    await log_events(turn.session, [{
        "at": turn.now, "channel": handoff.channel, "chat_id": handoff.chat_id,
        "direction": "out", "handler": "staff", "guide_id": None, "step": None,
        "outcome": "answered", "text": message.text,
    }])  # fmt: skip
    account = await account_of_member(turn.session, member.id)
    if account is not None and account.id is not None and handoff.id is not None:
        await claim(turn.session, handoff.id, account.id, turn.now)
    handoff_id, now = handoff.id, turn.now

    async def first_response(session: AsyncSession, ids: list[str]) -> None:
        await mark_first_response(session, handoff_id, now)

    if not notify(
        turn, handoff.channel, handoff.chat_id, [message], f"#{handoff.id}", first_response
    ):
        return [
            Reply(NOT_DELIVERED.format(id=handoff.id, channel=handoff.channel, reason="erased"))
        ]
    return [Reply(RELAYED.format(id=handoff.id))]


async def close_handoff(turn: Turn, handoff: Handoff) -> Replies:
    if handoff.closed_at is None:
        handoff.closed_at = turn.now
        session = await get_session(turn.session, handoff.session_id)
        replies = [Reply(turn.text("handoff_closed")), *ask_once(turn, session)]
        notify(turn, handoff.channel, handoff.chat_id, replies, f"#{handoff.id}")
    return [Reply(HANDOFF_CLOSED.format(id=handoff.id))]


async def answer(turn: Turn, ticket: Ticket, text: str, member: StaffMember) -> Replies:
    answer_ticket(ticket, text, member.name, turn.now)
    notice = Reply(f"{turn.text('ticket_answer_notice', code=ticket.number)}\n{text}")
    reply = TICKET_ANSWERED.format(number=ticket.number)
    if not notify(turn, ticket.channel, ticket.chat_id, [notice], ticket.number):
        reply += "\n" + NOT_DELIVERED.format(
            id=ticket.number, channel=ticket.channel, reason="erased"
        )
    return [Reply(reply)]


async def ticket_list(turn: Turn) -> str:
    today = turn.now.astimezone(ZoneInfo(turn.settings.timezone)).date()
    tickets = await list_tickets(turn.session, today)
    if not tickets:
        return NO_OPEN_TICKETS
    return "\n".join(
        TICKET_LINE.format(
            mark="🔴" if t.due < today else "🟢", number=t.number, due=t.due, content=t.content[:60]
        )
        for t in tickets[:30]
    )


async def weekly_summary(turn: Turn) -> Replies:
    """This week's figures and charts, as the report command would give them."""
    from bot.reports import build_report, last_closed_week, write_charts

    period = last_closed_week(turn.now, turn.settings)
    report = await build_report(turn.session, period, turn.library)
    charts = write_charts(report, Path(tempfile.mkdtemp(prefix="troly-charts-")))
    return [Reply(report.summary)] + [Reply("", image=str(path)) for path in charts]


async def staff_member(turn: Turn) -> StaffMember | None:
    return await member_by_chat(turn.session, turn.incoming.channel, turn.incoming.chat_id)


@router.on_pattern(r"^\s*/nhatky\b\s*(.*)$")
async def support_log(turn: Turn, line: str) -> Replies:
    """Staff and volunteers log in-person help in one line; anybody else sees the menu."""
    member = await staff_member(turn)
    if member is None:
        turn.note("menu")
        return main_menu(turn)
    turn.note("staff", outcome="log")
    parts = [p.strip() for p in re.split(r"[;|]", line)]
    if len(parts) < 3 or not parts[0] or not parts[1] or not parts[2].isdigit():
        return [Reply(LOG_HELP)]
    online = len(parts) > 3 and parts[3].lower() in YES_WORDS
    local_day = turn.now.astimezone(ZoneInfo(turn.settings.timezone)).date()
    entry = await log_support(
        turn.session,
        day=local_day,
        topic=parts[0],
        place=parts[1],
        people=max(int(parts[2]), 1),
        submitted_online=online,
        helper=member,
        helper_name=None,
        now=turn.now,
    )
    return [
        Reply(
            LOGGED.format(
                topic=entry.topic,
                place=entry.place,
                people=entry.people,
                online="có" if online else "không",
                helper=entry.helper_name,
            )
        )
    ]


@router.on_command("/baocao")
async def report_command(turn: Turn) -> Replies:
    member = await staff_member(turn)
    if member is None or member.role != STAFF:
        turn.note("menu")
        return main_menu(turn)
    turn.note("staff", outcome="report")
    return await weekly_summary(turn)
