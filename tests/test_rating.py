"""The rating: asked at the end of a guide, once per session, with an optional comment."""

from sqlmodel import select

from bot.engine import Engine
from bot.library import Library
from bot.settings import Settings
from storage.db import Database
from storage.models import SupportSession
from tests.conftest import Chat
from tests.test_sessions import START, Clock

QUESTION = "Hướng dẫn này có giúp được bạn không?"


async def test_the_rating_is_asked_once_per_session_and_recorded(
    sqlite_database: Database, fixture_library: Library
) -> None:
    clock = Clock(START)
    chat = Chat(Engine(fixture_library, sqlite_database, clock=clock, settings=Settings()))
    await chat.say("#11")
    await chat.press("Tiếp")
    assert QUESTION not in chat.text  # not before the end
    await chat.press("Tiếp")
    assert "Bạn đã xem hết" in chat.text and QUESTION in chat.text
    # A message of its own, after the last step.
    assert "Bước 3/3" in chat.last[0].text and chat.last[-1].text == QUESTION
    assert [b.label for b in chat.last[-1].buttons] == ["👍 Có", "👎 Chưa"]

    await chat.press("👍 Có")
    assert chat.labels == ["😀 Rất hài lòng", "🙂 Hài lòng", "🙁 Chưa hài lòng"]
    await chat.press("🙂 Hài lòng")
    assert "góp thêm ý kiến" in chat.text
    await chat.say("Hướng dẫn dễ hiểu, cảm ơn")
    assert "Cảm ơn bạn đã đánh giá" in chat.text

    # Another guide finished in the same visit: no second prompt.
    await chat.say("#13")
    await chat.press("Tiếp")
    assert "Bạn đã xem hết" in chat.text and QUESTION not in chat.text
    # Pressing an old rating button again changes nothing.
    await chat.send(action="rate:s:3")
    async with sqlite_database.session() as session:
        (visit,) = (await session.execute(select(SupportSession))).scalars()
    assert (visit.helpful, visit.satisfaction, visit.comment) == (
        True,
        2,
        "Hướng dẫn dễ hiểu, cảm ơn",
    )

    # A new visit the next day may be asked again.
    clock.advance(days=1)
    await chat.say("#13")
    await chat.press("Tiếp")
    assert QUESTION in chat.text


async def test_not_answering_the_rating_never_brings_it_back(
    sqlite_database: Database, fixture_library: Library
) -> None:
    chat = Chat(Engine(fixture_library, sqlite_database, clock=Clock(START), settings=Settings()))
    await chat.say("#13")
    await chat.press("Tiếp")
    assert QUESTION in chat.text
    await chat.say("#13")  # ignores the question and reads the guide again
    await chat.press("Tiếp")
    assert QUESTION not in chat.text
    await chat.press("🏠")
    async with sqlite_database.session() as session:
        (visit,) = (await session.execute(select(SupportSession))).scalars()
    assert visit.rating_asked and visit.satisfaction is None
