"""Support sessions: opened after 30 minutes of silence, with what happened in them."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.engine import Engine
from bot.library import Library
from bot.settings import Settings
from storage.db import Database
from storage.models import SessionGuide, SupportSession
from tests.conftest import Chat


class Clock:
    """The engine's clock, moved by the test instead of slept."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hòa An


async def sessions_of(database: Database) -> list[SupportSession]:
    async with database.session() as session:
        rows = await session.execute(select(SupportSession).order_by(SupportSession.id))
        return list(rows.scalars())


async def test_a_new_session_opens_only_after_thirty_minutes_of_silence(
    database: Database, fixture_library: Library
) -> None:
    clock = Clock(START)
    chat = Chat(Engine(fixture_library, database, clock=clock, settings=Settings()))
    await chat.say("menu")
    clock.advance(minutes=29)
    await chat.say("#11")
    clock.advance(minutes=30)  # exactly 30 minutes: still the same visit
    await chat.say("tiếp")
    assert len(await sessions_of(database)) == 1

    clock.advance(minutes=30, seconds=1)
    await chat.say("menu")
    first, second = await sessions_of(database)
    assert (first.started_at, first.ended_at) == (START, START + timedelta(minutes=59))
    assert second.started_at == second.ended_at == clock.now
    assert first.contact_ref == second.contact_ref and "citizen-1" not in first.contact_ref


async def test_a_session_records_guides_steps_topics_outcome_and_referral(
    database: Database, fixture_library: Library
) -> None:
    clock = Clock(START)
    chat = Chat(Engine(fixture_library, database, clock=clock, settings=Settings()))
    await chat.say("#13 TV05")  # vneid-kich-hoat, 2 steps, sent by volunteer TV05
    await chat.say("menu")
    await chat.press("🪪 VNeID")
    await chat.press("Cài ứng dụng VNeID")
    await chat.press("Tiếp")
    await chat.say("#13")
    await chat.press("Tiếp")  # finished

    (visit,) = await sessions_of(database)
    assert visit.referral == "TV05"
    assert visit.topics == ["vneid"]
    assert visit.outcome == "self_served"
    async with database.session() as session:
        guides = {
            g.guide_id: (g.furthest_step, g.finished)
            for g in (await session.execute(select(SessionGuide))).scalars()
        }
    assert guides == {"vneid-cai-dat": (2, False), "vneid-kich-hoat": (2, True)}


async def test_an_unfinished_visit_is_abandoned_and_others_have_their_own_sessions(
    database: Database, fixture_library: Library
) -> None:
    engine = Engine(fixture_library, database, clock=Clock(START), settings=Settings())
    await Chat(engine, chat_id="a").say("#11")
    await Chat(engine, channel="zalo_oa", chat_id="b").say("menu")
    visits = await sessions_of(database)
    assert [(v.channel, v.outcome) for v in visits] == [
        ("test", "abandoned"),
        ("zalo_oa", "abandoned"),
    ]
    assert visits[0].contact_ref != visits[1].contact_ref
