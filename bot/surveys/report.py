"""The surveys section of the weekly and monthly reports (bot/reports.py calls this)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content_files import ContentError
from bot.library import Library
from bot.settings import get_settings
from bot.surveys.definitions import load_surveys
from bot.surveys.export import number_text
from bot.surveys.results import round_results
from storage.surveys import responses_between


async def survey_section(
    session: AsyncSession, start: datetime, end: datetime, library: Library | None = None
) -> str:
    """Lines to add to the report's text: responses in the period per survey round, and the
    round's indicators so far (e.g. satisfaction for Decision 766); "" without any."""
    found = await responses_between(session, start, end)
    if not found:
        return ""
    surveys = {}
    if library is not None:
        try:
            surveys = load_surveys(get_settings().content_dir, library.profile)
        except ContentError:
            surveys = {}  # the report still goes out; `troly content check` tells what is wrong
    lines = ["", "- Khảo sát người dân:"]
    for round_, responses, finished in found:
        lines.append(
            f"  • {round_.title}, đợt {round_.number}: {responses} phiếu trong kỳ "
            f"({finished} hoàn thành)"
        )
        survey = surveys.get(round_.survey_id)
        if survey is None or not any(q.indicator for q in survey.questions):
            continue
        results = await round_results(session, survey, round_, with_previous=False)
        for question in results.questions.values():
            if question.indicator and question.answered:
                lines.append(
                    f"    {question.indicator}: {number_text(question.indicator_percent)}% "
                    f"(cả đợt, {question.answered} người trả lời)"
                )
    return "\n".join(lines)
