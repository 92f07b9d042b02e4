"""Queries of the survey area: rounds, one response per person and round, answers, aggregates."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.conversations import get_contact
from storage.db import dialect_of, upsert_insert
from storage.models import SurveyAnswer, SurveyResponse, SurveyRound
from storage.subscribers import get_subscription


class RoundError(Exception):
    """Opening a round while one is open, closing when none is."""


async def rounds(session: AsyncSession, survey_id: str) -> list[SurveyRound]:
    query = select(SurveyRound).where(SurveyRound.survey_id == survey_id)
    return list((await session.execute(query.order_by(SurveyRound.number))).scalars())


async def open_round_of(session: AsyncSession, survey_id: str) -> SurveyRound | None:
    """The round citizens can answer now, if any."""
    query = select(SurveyRound).where(
        SurveyRound.survey_id == survey_id, SurveyRound.closed_at.is_(None)
    )
    return (await session.execute(query)).scalars().first()


async def open_round(
    session: AsyncSession, survey_id: str, title: str, now: datetime
) -> SurveyRound:
    if await open_round_of(session, survey_id) is not None:
        raise RoundError(f"a round of '{survey_id}' is already open")
    last = await session.scalar(
        select(func.max(SurveyRound.number)).where(SurveyRound.survey_id == survey_id)
    )
    row = SurveyRound(survey_id=survey_id, number=(last or 0) + 1, title=title, opened_at=now)
    session.add(row)
    await session.flush()
    return row


async def close_round(session: AsyncSession, survey_id: str, now: datetime) -> SurveyRound:
    row = await open_round_of(session, survey_id)
    if row is None:
        raise RoundError(f"no round of '{survey_id}' is open")
    row.closed_at = now
    await session.flush()
    return row


async def get_round(session: AsyncSession, survey_id: str, number: int) -> SurveyRound | None:
    query = select(SurveyRound).where(
        SurveyRound.survey_id == survey_id, SurveyRound.number == number
    )
    return (await session.execute(query)).scalar_one_or_none()


async def find_response(
    session: AsyncSession, round_id: int, respondent: str
) -> SurveyResponse | None:
    query = select(SurveyResponse).where(
        SurveyResponse.round_id == round_id, SurveyResponse.respondent == respondent
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_response(session: AsyncSession, response_id: Any) -> SurveyResponse | None:
    if not isinstance(response_id, int):
        return None
    return await session.get(SurveyResponse, response_id)


async def start_response(session: AsyncSession, **values: Any) -> SurveyResponse:
    """The person's response in the round, created unless it exists: two workers handling two
    quick taps of one person still make one response (the unique pair decides)."""
    insert = upsert_insert(dialect_of(session), SurveyResponse).values(
        staff=False, stopped=False, **values
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=["round_id", "respondent"]))
    found = await find_response(session, values["round_id"], values["respondent"])
    assert found is not None
    return found


async def answers_of(session: AsyncSession, response_id: int) -> dict[str, SurveyAnswer]:
    query = select(SurveyAnswer).where(SurveyAnswer.response_id == response_id)
    return {a.question_id: a for a in (await session.execute(query)).scalars()}


async def save_answer(
    session: AsyncSession,
    response: SurveyResponse,
    question_id: str,
    *,
    choice: str | None = None,
    number: float | None = None,
    text: str | None = None,
    skipped: bool = False,
) -> None:
    """Write (or overwrite: an old button pressed again) one question's answer."""
    values = {"choice": choice, "number": number, "text": text, "skipped": skipped}
    insert = upsert_insert(dialect_of(session), SurveyAnswer).values(
        response_id=response.id,
        question_id=question_id,
        round_id=response.round_id,
        staff=response.staff,
        channel=response.channel,
        village=response.village,
        **values,
    )
    await session.execute(
        insert.on_conflict_do_update(index_elements=["response_id", "question_id"], set_=values)
    )


async def contact_village(
    session: AsyncSession, channel: str, chat_id: str, profile: dict[str, Any]
) -> str | None:
    """The contact's village tag (subscriptions) if it is one of the profile's villages."""
    villages = [str(v) for v in profile.get("villages") or []]
    contact = await get_contact(session, channel, chat_id)
    if not villages or contact is None or contact.id is None:
        return None
    subscription = await get_subscription(session, contact.id)
    return next((t for t in (subscription.tags if subscription else []) if t in villages), None)


async def set_village(session: AsyncSession, response: SurveyResponse, village: str) -> None:
    """The village the person named: results by village count their earlier answers too."""
    response.village = village
    await session.execute(
        update(SurveyAnswer).where(SurveyAnswer.response_id == response.id).values(village=village)
    )


async def set_staff(session: AsyncSession, response_id: int, staff: bool) -> None:
    """Count the response, or not, with every answer it has (they carry the flag)."""
    await session.execute(
        update(SurveyResponse).where(SurveyResponse.id == response_id).values(staff=staff)
    )
    await session.execute(
        update(SurveyAnswer).where(SurveyAnswer.response_id == response_id).values(staff=staff)
    )


# --- aggregates for results: a handful of grouped rows, whatever the number of responses ----


@dataclass(frozen=True)
class ResponseGroup:
    channel: str
    village: str | None
    responses: int
    finished: int
    stopped: int


@dataclass(frozen=True)
class AnswerGroup:
    question_id: str
    choice: str | None
    skipped: bool
    channel: str
    village: str | None
    count: int
    numbers: int  # how many had a number, and their sum, min and max
    total: float | None
    low: float | None
    high: float | None


def _counted(round_id: int) -> Any:
    return (SurveyResponse.round_id == round_id) & SurveyResponse.staff.is_(False)


async def response_groups(session: AsyncSession, round_id: int) -> list[ResponseGroup]:
    query = (
        select(
            SurveyResponse.channel,
            SurveyResponse.village,
            func.count(),
            func.count(SurveyResponse.finished_at),
            func.sum(case((SurveyResponse.stopped, 1), else_=0)),
        )
        .where(_counted(round_id))
        .group_by(SurveyResponse.channel, SurveyResponse.village)
    )
    rows = (await session.execute(query)).all()
    return [ResponseGroup(c, v, n, f, int(s or 0)) for c, v, n, f, s in rows]


async def answer_groups(session: AsyncSession, round_id: int) -> list[AnswerGroup]:
    """Answers of counted responses grouped by question, choice, channel and village: one scan
    of ix_surveyanswer_results. Free-text rows group under choice None (see text_answers)."""
    columns = (
        SurveyAnswer.question_id,
        SurveyAnswer.choice,
        SurveyAnswer.skipped,
        SurveyAnswer.channel,
        SurveyAnswer.village,
    )
    query = (
        select(
            *columns,
            func.count(),
            func.count(SurveyAnswer.number),
            func.sum(SurveyAnswer.number),
            func.min(SurveyAnswer.number),
            func.max(SurveyAnswer.number),
        )
        .where(SurveyAnswer.round_id == round_id, SurveyAnswer.staff.is_(False))
        .group_by(*columns)
    )
    return [AnswerGroup(*row) for row in (await session.execute(query)).all()]


async def text_answers(
    session: AsyncSession, round_id: int, limit: int | None = None
) -> list[tuple[str, str, str, str | None, str | None]]:
    """(question id, text, channel, village, chat id of named surveys), newest first."""
    query = (
        select(
            SurveyAnswer.question_id,
            SurveyAnswer.text,
            SurveyResponse.channel,
            SurveyResponse.village,
            SurveyResponse.chat_id,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyAnswer.round_id == round_id,
            SurveyAnswer.staff.is_(False),
            SurveyAnswer.text.is_not(None),
        )
        .order_by(SurveyAnswer.id.desc())
        .limit(limit)
    )
    return [tuple(row) for row in (await session.execute(query)).all()]


async def responses_between(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[SurveyRound, int, int]]:
    """Rounds with counted responses started in [start, end): (round, responses, finished)."""
    query = (
        select(SurveyRound, func.count(), func.count(SurveyResponse.finished_at))
        .join(SurveyResponse, SurveyResponse.round_id == SurveyRound.id)
        .where(
            SurveyResponse.staff.is_(False),
            SurveyResponse.started_at >= start,
            SurveyResponse.started_at < end,
        )
        .group_by(SurveyRound.id)
        .order_by(SurveyRound.survey_id, SurveyRound.number)
    )
    return [(r, n, f) for r, n, f in (await session.execute(query)).all()]


async def erase_chat(session: AsyncSession, channel: str, chat_id: str) -> int:
    """A person erasing their data: named responses lose the chat id and stay as anonymous
    counts, like support sessions. Returns how many responses were touched."""
    result = await session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.channel == channel, SurveyResponse.chat_id == chat_id)
        .values(chat_id=None)
    )
    return result.rowcount or 0
