"""A survey answered through the engine: skip, stop, continue later, conditions, redaction."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.engine import Engine
from storage.db import Database
from storage.models import MessageEvent, SurveyAnswer, SurveyResponse
from storage.staff import add_member
from storage.subscribers import contact_id_for, is_opted_out, toggle_tag
from storage.surveys import close_round, open_round
from tests.conftest import Chat

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def open_survey(database: Database, survey_id: str = "ky-nang-so") -> None:
    async with database.session() as session, session.begin():
        await open_round(session, survey_id, "Khảo sát kỹ năng số", NOW)


async def answers(database: Database) -> dict[str, SurveyAnswer]:
    async with database.session() as session:
        rows = (await session.execute(select(SurveyAnswer))).scalars()
        return {a.question_id: a for a in rows}


async def responses(database: Database) -> list[SurveyResponse]:
    async with database.session() as session:
        return list((await session.execute(select(SurveyResponse))).scalars())


@pytest.fixture
async def survey_open(engine: Engine) -> Database:
    await open_survey(engine.database)
    return engine.database


async def test_a_whole_survey_with_skip_stop_continue_and_a_condition(
    chat: Chat, survey_open: Database
) -> None:
    await chat.say("khảo sát")
    assert "KHẢO SÁT KỸ NĂNG SỐ" in chat.text
    assert "ẩn danh" in chat.text  # anonymous by default, and it says so
    await chat.press("▶️ Bắt đầu")
    assert chat.text.startswith("Câu 1/13: Bạn thuộc nhóm tuổi nào?")
    assert chat.labels[-2:] == ["⏭ Bỏ qua", "⏹ Dừng"]
    await chat.press("Từ 60")
    assert chat.text.startswith("Câu 2/13")
    await chat.say("có")  # typed, without pressing
    assert chat.text.startswith("Câu 3/13")
    await chat.press("⏭ Bỏ qua")
    # Question 4 (VNeID level 2) is asked only to those who can use VNeID: skipped here.
    assert chat.text.startswith("Câu 5/13")

    await chat.say("dừng")
    assert "Đã dừng khảo sát" in chat.text
    [response] = await responses(survey_open)
    assert response.stopped and response.finished_at is None
    async with survey_open.session() as session:  # "dừng" in a survey is not the opt-out
        contact = await contact_id_for(session, "test", "citizen-1", NOW)
        assert not await is_opted_out(session, contact)

    await chat.say("khảo sát")  # later: continues where they stopped
    assert "đang làm dở" in chat.text and "Câu 5/13" in chat.text
    await chat.press("Tự làm được")
    await chat.press("Có")
    assert chat.text.startswith("Câu 7/13") and chat.labels == []  # a number: no buttons
    await chat.say("2")
    assert chat.text.startswith("Câu 8/13")
    await chat.say("menu")  # leaves in the middle
    await chat.say("#KS1")  # the code a Zalo poster prints
    assert "Câu 8/13" in chat.text
    await chat.press("Chưa làm được")
    await chat.say("1")  # the first button, by its number
    assert chat.text.startswith("Câu 10/13")
    await chat.press("5")
    assert chat.text.startswith("Câu 11/13")
    await chat.press("Dùng VNeID")
    await chat.press("Nhận biết lừa đảo")
    assert "✅ Dùng VNeID" in chat.labels and "✅ Nhận biết lừa đảo" in chat.labels
    await chat.press("✔️ Xong")
    assert chat.text.startswith("Câu 12/13")
    await chat.say("CCCD của tôi là 079123456789, nhờ chỉ cách dùng VNeID")
    assert chat.text.startswith("🔒")  # the usual privacy warning
    assert "Câu 13/13: Bạn ở ấp nào?" in chat.text  # no village tag: asked
    assert chat.labels[:2] == ["Ấp Hòa Thạnh", "Ấp Hòa Long"]
    await chat.press("Ấp Hòa Lợi")
    assert "Cảm ơn bạn đã trả lời" in chat.text

    stored = await answers(survey_open)
    assert stored["tuoi"].choice == "tu-60"
    assert stored["dien-thoai"].choice == "co"
    assert stored["vneid"].skipped and "muc-2" not in stored
    assert stored["so-lan-nop"].number == 2
    assert stored["lua-dao"].choice == "nhan-ra"
    assert stored["tu-tin"].choice == "5"
    assert stored["muon-hoc"].choice == "vneid|lua-dao"
    assert stored["gop-y"].text == "CCCD của tôi là [***], nhờ chỉ cách dùng VNeID"
    assert {a.village for a in stored.values()} == {"Ấp Hòa Lợi"}  # earlier answers too
    [response] = await responses(survey_open)
    assert response.village == "Ấp Hòa Lợi"
    assert response.finished_at is not None and not response.stopped
    assert response.chat_id is None and response.respondent != "citizen-1"

    async with survey_open.session() as session:
        logged = [e.text or "" for e in (await session.execute(select(MessageEvent))).scalars()]
    assert not any("079123456789" in t or "nhờ chỉ cách" in t for t in logged)
    # No answer in the log, not even the options marked among several choices.
    assert not any(t.startswith("[svq:") or t in ("có", "2", "1") for t in logged), logged

    await chat.say("khảo sát")  # once per person and round
    assert "đã trả lời" in chat.text
    await chat.send(action="svb:ky-nang-so")
    assert "đã trả lời" in chat.text
    assert len(await responses(survey_open)) == 1


async def test_staff_answers_are_marked_and_villages_recorded(
    engine: Engine, survey_open: Database
) -> None:
    async with survey_open.session() as session, session.begin():
        await add_member(session, name="Lan", role="staff", now=NOW, channel="test", chat_id="s1")
        contact = await contact_id_for(session, "test", "c2", NOW)
        await toggle_tag(session, contact, "Ấp Hòa Long", NOW)
    staff, citizen = Chat(engine, chat_id="s1"), Chat(engine, chat_id="c2")
    for person in (staff, citizen):
        await person.send(action="sv:ky-nang-so:TV05")
        await person.press("▶️ Bắt đầu")
        await person.press("Dưới 30")
    by_staff = {r.staff: r for r in await responses(survey_open)}
    assert by_staff[False].village == "Ấp Hòa Long" and by_staff[False].source == "TV05"
    assert by_staff[True].village is None
    async with survey_open.session() as session:
        rows = (await session.execute(select(SurveyAnswer))).scalars()
        flags = {a.response_id: (a.staff, a.village) for a in rows}
    assert flags == {
        by_staff[True].id: (True, None),
        by_staff[False].id: (False, "Ấp Hòa Long"),
    }


async def test_a_closed_or_unknown_survey_says_so(chat: Chat, survey_open: Database) -> None:
    await chat.send(action="sv:ky-nang-so")
    await chat.press("▶️ Bắt đầu")
    async with survey_open.session() as session, session.begin():
        await close_round(session, "ky-nang-so", NOW)
    await chat.press("Dưới 30")
    assert "chưa mở hoặc đã kết thúc" in chat.text
    await chat.send(action="sv:khong-co")
    assert "Nút này đã cũ" in chat.text
    await chat.say("khảo sát")
    assert "chưa có khảo sát nào" in chat.text


async def test_stop_and_skip_words_outside_a_survey_keep_their_old_meaning(
    chat: Chat, survey_open: Database
) -> None:
    await chat.say("dừng")
    assert "ngừng nhận tin" in chat.text
    await chat.say("bỏ qua")  # nothing to skip: an ordinary message
    assert chat.last


async def test_typed_answers_that_do_not_fit_are_asked_again(
    chat: Chat, survey_open: Database
) -> None:
    await chat.send(action="svb:ky-nang-so")
    await chat.say("abc")
    assert "bấm một nút" in chat.text and "Câu 1/13" in chat.text
    await chat.press("Dưới 30")
    await chat.say("không")
    # No smartphone: the phone-skill questions are not asked.
    assert chat.text.startswith("Câu 6/13")
    await chat.say("có")
    await chat.say("nhiều lắm")
    assert "một con số" in chat.text and "Câu 7/13" in chat.text
    async with survey_open.session() as session:
        logged = [e.text for e in (await session.execute(select(MessageEvent))).scalars()]
    assert "nhiều lắm" not in logged and "[answer]" in logged
    # The question asked next shows which way the smartphone condition went: not logged either.
    assert not [t for t in logged if t and t.startswith("Câu 6/13")]
    await chat.say("bỏ qua")
    assert chat.text.startswith("Câu 9/13")
    await chat.send(action="svq:1:10:d")  # a button of another question: asks this one again
    assert "Câu 9/13" in chat.text
    assert "muon-hoc" not in await answers(survey_open)


async def test_several_choices_typed_as_numbers(chat: Chat, survey_open: Database) -> None:
    await chat.send(action="svb:ky-nang-so")
    while not chat.text.startswith("Câu 11/13"):  # skip to the several-choices question
        await chat.press("⏭ Bỏ qua")
    assert chat.text.startswith("Câu 11/13")
    await chat.say("1, 4")
    assert chat.text.startswith("Câu 12/13")
    assert (await answers(survey_open))["muon-hoc"].choice == "vneid|lua-dao"


def test_typed_answers_in_plain_words() -> None:
    from bot.surveys.definitions import load_surveys
    from bot.surveys.typed import typed_choice, typed_number
    from tests.conftest import FULL_LIBRARY

    survey = load_surveys(FULL_LIBRARY, {"centre_name": "x", "hotline": "1"})["ky-nang-so"]
    age, phone, times = (
        survey.question("tuoi"),
        survey.question("dien-thoai"),
        survey.question("so-lan-nop"),
    )
    labels = list(age.options.values())
    assert typed_choice(age, labels, "tu 60 tuoi tro len") == "tu-60"
    assert typed_choice(phone, ["Có", "Không"], "ko") == "khong"
    assert typed_choice(phone, ["Có", "Không"], "Có ạ") == "co"
    assert typed_number("khoảng 3 lần", times) == 3
    assert typed_number("0", times) is None  # below min: 1
    assert typed_number("nhiều", times) is None


async def test_invited_at_the_end_of_a_session_at_most_once_a_month(
    engine: Engine, survey_open: Database
) -> None:
    from datetime import timedelta

    from bot.messages import Incoming
    from bot.settings import Settings
    from handlers.routing import Turn
    from handlers.survey import session_end_invitation
    from storage.conversations import load_conversation

    settings = Settings(survey_after_session="ky-nang-so")
    async with survey_open.session() as session:
        state = await load_conversation(session, "test", "c9", NOW)

        def turn(now: datetime, chosen: Settings = settings) -> Turn:
            incoming = Incoming("test", "c9", text="cảm ơn")
            return Turn(incoming, state, engine.library, engine.matcher, session, now,
                        settings=chosen)  # fmt: skip

        [invitation] = await session_end_invitation(turn(NOW))
        assert "Khảo sát kỹ năng số" in invitation.text
        assert invitation.buttons[0].action == "sv:ky-nang-so"
        assert await session_end_invitation(turn(NOW + timedelta(days=20))) == []
        assert await session_end_invitation(turn(NOW + timedelta(days=31)))
        assert await session_end_invitation(turn(NOW + timedelta(days=90), Settings())) == []


async def test_erasing_a_person_unnames_their_responses(database: Database) -> None:
    from storage.surveys import erase_chat, start_response

    async with database.session() as session, session.begin():
        round_ = await open_round(session, "hai-long", "Khảo sát mức độ hài lòng", NOW)
        response = await start_response(
            session, round_id=round_.id, respondent="x", channel="zalo", chat_id="u1",
            started_at=NOW, updated_at=NOW,
        )  # fmt: skip
        assert await erase_chat(session, "zalo", "u1") == 1
        await session.refresh(response)
        assert response.chat_id is None


async def test_stop_after_the_round_closed_does_not_unsubscribe(
    chat: Chat, survey_open: Database
) -> None:
    await chat.send(action="svb:ky-nang-so")
    async with survey_open.session() as session, session.begin():
        await close_round(session, "ky-nang-so", NOW)
    await chat.say("dừng")
    assert "ngừng nhận tin" not in chat.text
    async with survey_open.session() as session:
        contact = await contact_id_for(session, "test", "citizen-1", NOW)
        assert not await is_opted_out(session, contact)


async def test_a_campaign_button_opens_the_survey_and_the_campaign_is_its_source(
    chat: Chat, survey_open: Database
) -> None:
    from bot import campaigns

    library = chat.engine.library
    campaign = await campaigns.create(survey_open, library, title="Khảo sát", text="Mời bạn",
                                      now=NOW, survey_id="ky-nang-so")  # fmt: skip
    (message,) = campaigns.campaign_replies(campaign, library)
    begin = message.buttons[0]
    assert begin.action == f"sv:ky-nang-so:c{campaign.id}"
    await chat.send(action=begin.action)
    assert "KHẢO SÁT KỸ NĂNG SỐ" in chat.text
    await chat.press("▶️ Bắt đầu")
    (response,) = await responses(survey_open)
    assert response.source == f"c{campaign.id}"


async def test_a_finished_guide_invites_to_the_survey_instead_of_the_rating_once_a_month(
    sqlite_database: Database, fixture_library
) -> None:
    """SURVEY_AFTER_SESSION through the engine: the end of a guide asks the survey instead of
    the rating, at most once in SURVEY_INVITE_DAYS, and never once the person has answered."""
    from datetime import timedelta

    from bot.settings import Settings

    now = [NOW]
    settings = Settings(survey_after_session="ky-nang-so", survey_invite_days=30)
    engine = Engine(fixture_library, sqlite_database, clock=lambda: now[0], settings=settings)
    await open_survey(sqlite_database)
    chat = Chat(engine)

    async def finish_a_guide(days_later: int) -> None:
        now[0] = NOW + timedelta(days=days_later)  # a new support session
        await chat.say("cai vneid the nao")
        while "Bước 3/3" not in chat.text:
            await chat.press("Tiếp")

    await finish_a_guide(0)
    assert "Khảo sát kỹ năng số" in chat.text and "▶️ Bắt đầu" in chat.labels
    assert "Hướng dẫn này có giúp được bạn không?" not in chat.text
    await finish_a_guide(10)  # within the month: the usual rating
    assert "Hướng dẫn này có giúp được bạn không?" in chat.text
    assert "▶️ Bắt đầu" not in chat.labels
    await finish_a_guide(31)
    assert "▶️ Bắt đầu" in chat.labels
    await chat.press("▶️ Bắt đầu")
    assert "KHẢO SÁT KỸ NĂNG SỐ" in chat.text
    await chat.press("▶️ Bắt đầu")
    while "Cảm ơn bạn đã trả lời" not in chat.text:
        await chat.say("bỏ qua")
    await finish_a_guide(70)  # answered this round: never invited again
    assert "Hướng dẫn này có giúp được bạn không?" in chat.text
    assert "▶️ Bắt đầu" not in chat.labels
    [response] = await responses(sqlite_database)
    assert response.finished_at is not None


async def test_the_staff_group_never_starts_a_response(
    sqlite_database: Database, fixture_library
) -> None:
    """Staff trying the survey out in their group: the links, codes and buttons that open it
    elsewhere start nothing there, so nothing from the group can be counted."""
    from bot.settings import Settings

    settings = Settings(staff_room="test:staff-group")
    engine = Engine(fixture_library, sqlite_database, settings=settings)
    await open_survey(sqlite_database)
    async with sqlite_database.session() as session, session.begin():
        await add_member(session, name="Lan", role="staff", now=NOW, channel="test", chat_id="s1")
    group = Chat(engine, chat_id="staff-group")
    for fields in (
        {"text": "#KS1"},
        {"text": "khảo sát"},
        {"action": "sv:ky-nang-so"},
        {"action": "svb:ky-nang-so"},
        {"text": "/start", "referral": "s_ky-nang-so_poster"},
    ):
        await group.send(user_id="s1", **fields)
        assert "Câu 1/13" not in group.text
    await group.send(user_id="s1", text="1")
    assert await responses(sqlite_database) == []


async def test_a_named_survey_says_so_and_keeps_the_chat(
    sqlite_database: Database, tmp_path
) -> None:
    """`named: true` in the file: the intro says the chat is recorded, and the response keeps
    it (the results list it with the free text); anonymous surveys keep nothing of the kind."""
    import shutil

    from bot.library import load_library
    from bot.settings import Settings
    from tests.conftest import FIXTURE_LIBRARY, FULL_LIBRARY

    folder = tmp_path / "library"
    shutil.copytree(FIXTURE_LIBRARY, folder)
    (folder / "surveys").mkdir()
    source = (FULL_LIBRARY / "surveys" / "hai-long.yaml").read_text(encoding="utf-8")
    named = source.replace("\ncode: 2\n", "\ncode: 2\nnamed: true\n")
    assert named != source
    (folder / "surveys" / "hai-long.yaml").write_text(named, encoding="utf-8")
    settings = Settings(content_dir=folder)
    engine = Engine(load_library(folder), sqlite_database, settings=settings)
    await open_survey(sqlite_database, "hai-long")

    chat = Chat(engine, chat_id="u7")
    await chat.say("#KS2")
    assert "ghi lại tài khoản chat" in chat.text and "ẩn danh" not in chat.text
    await chat.press("▶️ Bắt đầu")
    await chat.press("Chưa làm lần nào")  # nothing done: the questions about it are not asked
    assert chat.text.startswith("Câu 7/11")
    await chat.press("Không")  # no complaint sent: its satisfaction is not asked
    assert chat.text.startswith("Câu 9/11")
    [response] = await responses(sqlite_database)
    assert response.chat_id == "u7" and response.channel == "test"
