"""Tickets, the in-person log, Today, a citizen's record and its erasure, the audit log."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.engine import Engine
from storage.models import (
    AuditEvent,
    Contact,
    Conversation,
    Handoff,
    MessageEvent,
    SupportLogEntry,
    SupportSession,
    Ticket,
    WebChatMessage,
)
from storage.tickets import create_ticket
from tests import console_helpers
from tests.console_helpers import (
    TelegramCitizen,
    add_account,
    login,
    page_csrf,
)

telegram, client = console_helpers.telegram, console_helpers.client


async def new_ticket(engine: Engine, chat_id: str, due: date, content: str) -> str:
    async with engine.database.session() as session, session.begin():
        ticket = await create_ticket(
            session, channel="telegram", chat_id=chat_id, content=content, reply_contact=None,
            now=datetime.now(UTC), year=2026, due=due,
        )  # fmt: skip
        return ticket.number


async def test_tickets_filter_answer_reassign_and_close(client, engine, telegram) -> None:
    today = date.today()
    late = await new_ticket(engine, "5550777", today - timedelta(days=2), "Đường ấp ngập nước")
    fresh = await new_ticket(engine, "5550778", today + timedelta(days=5), "Xin cấp lại sổ")
    listing = await (await client.get("/staff/tickets")).text()
    assert late in listing and fresh in listing and "Quá hạn" in listing
    assert listing.index(late) < listing.index(fresh)  # overdue first
    overdue = await (await client.get("/staff/tickets?overdue=1")).text()
    assert late in overdue and fresh not in overdue

    await add_account(engine.database, "binh", "staff", "Nguyễn Văn Bình")
    token = await page_csrf(client, f"/staff/tickets/{late}")
    response = await client.post(f"/staff/tickets/{late}/answer", allow_redirects=False,
                                 data={"csrf": token, "text": "Xã đã cho bơm nước."})  # fmt: skip
    assert "notice=answered" in response.headers["Location"]
    notice = telegram.sent_to(5550777)[-1].params["text"]
    assert late in notice and "Xã đã cho bơm nước." in notice
    accounts = await (await client.get(f"/staff/tickets/{late}")).text()
    binh_id = accounts.split("Nguyễn Văn Bình")[0].rsplit('value="', 1)[1].split('"')[0]
    await client.post(f"/staff/tickets/{late}/assign", data={"csrf": token, "account": binh_id})
    assert "Nguyễn Văn Bình" in await (await client.get("/staff/tickets?status=all")).text()
    await client.post(f"/staff/tickets/{late}/close", data={"csrf": token})
    async with engine.database.session() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == late))).scalar_one()
    assert ticket.status == "closed" and ticket.answer == "Xã đã cho bơm nước."
    assert ticket.answered_by == "Trần Thị Lan"
    closed = await (await client.get("/staff/tickets?status=closed")).text()
    assert late in closed and fresh not in closed


async def test_in_person_log_is_one_quick_form(client, engine) -> None:
    token = await page_csrf(client, "/staff/log")
    response = await client.post("/staff/log", allow_redirects=False, data={
        "csrf": token, "topic": "Cài VNeID", "people": "12", "online": "1",
        "place": "Ấp Hòa Long"})  # fmt: skip
    assert response.headers["Location"] == "/staff/log?notice=logged"
    bad = await client.post("/staff/log", allow_redirects=False,
                            data={"csrf": token, "topic": "", "people": "0"})  # fmt: skip
    assert "invalid" in bad.headers["Location"]
    async with engine.database.session() as session:
        (entry,) = (await session.execute(select(SupportLogEntry))).scalars().all()
    assert (entry.topic, entry.place, entry.people, entry.submitted_online) == (
        "Cài VNeID", "Ấp Hòa Long", 12, True,
    )  # fmt: skip
    assert entry.helper_name == "Trần Thị Lan" and entry.helper_id is not None
    assert "Ấp Hòa Long" in await (await client.get("/staff/log")).text()


async def test_today_shows_the_figures_and_unknown_questions(client, engine, telegram) -> None:
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("cai vneid the nao")
    await citizen.say("con bò nhà tôi bị lạc")
    zone = ZoneInfo(engine.settings.timezone)
    today = datetime.now(zone).date()
    await new_ticket(engine, "5550777", today, "Đèn đường hỏng")  # due this week
    await new_ticket(engine, "5550777", today - timedelta(days=3), "Cống nghẹt")  # overdue
    long_ago = datetime.now(UTC) - timedelta(hours=2, minutes=5)
    async with engine.database.session() as session, session.begin():
        session.add(Handoff(channel="telegram", chat_id="5550999", question="Hỏi cán bộ",
                            opened_at=long_ago))  # fmt: skip
        for satisfaction in (1, 2, 3, None):
            session.add(SupportSession(channel="web", started_at=long_ago, ended_at=long_ago,
                                       satisfaction=satisfaction))  # fmt: skip
    page = await (await client.get("/staff/")).text()
    assert 'id="fig-conversations">' in page and "con bò nhà tôi bị lạc" in page
    assert 'id="fig-guides">1<' in page  # the VNeID guide, opened by the first question
    assert 'id="fig-waiting">1<' in page and 'id="fig-oldest">2 giờ 5 phút<' in page
    assert 'id="fig-due">1<' in page and re.search(r'id="fig-late"[^>]*>1<', page)
    assert 'id="fig-satisfaction">67%<' in page and "3 lượt đánh giá" in page
    token = await page_csrf(client)
    await client.post("/staff/suggest", data={"csrf": token, "question": "con bò nhà tôi bị lạc",
                                              "guide": "vneid-cai-dat"})  # fmt: skip
    audit = await (await client.get("/staff/audit?action=suggest_guide")).text()
    assert "guide:vneid-cai-dat" in audit


async def test_admin_erases_a_citizen_like_xoadulieu_and_it_is_audited(
    client, aiohttp_client, engine, telegram
) -> None:
    citizen = TelegramCitizen(client, telegram)
    await citizen.say("cai vneid the nao")
    await client.post("/api/chat", json={"session": "wweb1", "text": "xin chào"})
    async with engine.database.session() as session, session.begin():
        contact = (
            await session.execute(select(Contact).where(Contact.channel == "telegram"))
        ).scalar_one()
        session.add(WebChatMessage(chat_id="wweb1", at=datetime.now(UTC), payload={"text": "x"}))
    record = await (await client.get(f"/staff/contacts/{contact.id}")).text()
    assert "cai vneid the nao" in record and "Xoá dữ liệu" in record

    staff = await aiohttp_client(client.server)
    await add_account(engine.database, "binh", "staff")
    await login(staff, "binh")
    staff_view = await (await staff.get(f"/staff/contacts/{contact.id}")).text()
    assert "Xoá dữ liệu</button>" not in staff_view
    staff_token = await page_csrf(staff, f"/staff/contacts/{contact.id}")
    denied = await staff.post(f"/staff/contacts/{contact.id}/erase",
                              data={"csrf": staff_token, "confirm": "yes"})  # fmt: skip
    assert denied.status == 403

    token = await page_csrf(client, f"/staff/contacts/{contact.id}")
    unconfirmed = await client.post(f"/staff/contacts/{contact.id}/erase",
                                    data={"csrf": token}, allow_redirects=False)  # fmt: skip
    assert "confirm" in unconfirmed.headers["Location"]
    done = await client.post(f"/staff/contacts/{contact.id}/erase", allow_redirects=False,
                             data={"csrf": token, "confirm": "yes"})  # fmt: skip
    assert done.headers["Location"] == "/staff/audit?notice=erased"
    async with engine.database.session() as session:
        assert await session.get(Contact, contact.id) is None
        assert await session.get(Conversation, ("telegram", str(citizen.chat_id))) is None
        left = await session.execute(
            select(MessageEvent).where(MessageEvent.chat_id == str(citizen.chat_id))
        )
        assert left.first() is None
        audit = (await session.execute(select(AuditEvent).where(AuditEvent.action == "erase")))
        (row,) = audit.scalars().all()
    assert row.actor == "Trần Thị Lan" and row.target == f"contact:{contact.id}"
    assert (await client.get(f"/staff/contacts/{contact.id}")).status == 404
    log_page = await (await client.get("/staff/audit")).text()
    assert "Xoá dữ liệu" in log_page and f"contact:{contact.id}" in log_page
