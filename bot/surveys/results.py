"""Results of a survey round: responses, completion, per question counts and percentages, by
village and by channel, free-text answers, and the change since the previous round.

The database returns a few grouped rows (storage/surveys.py), whatever the number of
responses; everything else is arithmetic over those rows. Staff responses are never counted,
and a person has at most one response per round, so nobody is counted twice.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.surveys.definitions import MULTI_SEPARATOR, NO, YES, Question, Survey
from storage.models import SurveyRound
from storage.surveys import answer_groups, get_round, response_groups, text_answers

# Staff-facing words (the results go into the centre's report, in Vietnamese).
YES_NO = {YES: "Có", NO: "Không"}
NO_VILLAGE = "Chưa rõ ấp"


@dataclass
class Option:
    value: str
    label: str
    count: int = 0
    by_village: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)


@dataclass
class QuestionResult:
    id: str
    number: int  # position in the survey, 1-based; 0 for a question no longer in it
    text: str
    kind: str
    answered: int = 0
    skipped: int = 0
    options: dict[str, Option] = field(default_factory=dict)
    answered_by_village: Counter = field(default_factory=Counter)
    answered_by_channel: Counter = field(default_factory=Counter)
    numbers: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None
    indicator: str | None = None
    positive: tuple[str, ...] = ()
    texts: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)

    def percent(self, value: str) -> float | None:
        """Share of those who answered the question; several choices can add up past 100."""
        option = self.options.get(value)
        return _percent(option.count if option else 0, self.answered)

    @property
    def mean(self) -> float | None:
        if self.kind == "scale":
            weights = [(int(v), o.count) for v, o in self.options.items() if v.isdigit()]
            count = sum(n for _, n in weights)
            return round(sum(v * n for v, n in weights) / count, 2) if count else None
        return round(self.total / self.numbers, 2) if self.numbers else None

    @property
    def indicator_percent(self) -> float | None:
        if not self.indicator:
            return None
        hits = sum(self.options[v].count for v in self.positive if v in self.options)
        return _percent(hits, self.answered)


@dataclass
class RoundResults:
    survey_id: str
    title: str
    number: int
    opened_at: datetime
    closed_at: datetime | None
    named: bool = False
    responses: int = 0
    finished: int = 0
    stopped: int = 0
    by_village: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)
    questions: dict[str, QuestionResult] = field(default_factory=dict)
    previous: "RoundResults | None" = None

    @property
    def completion_percent(self) -> float | None:
        return _percent(self.finished, self.responses)

    def change(self, question_id: str, value: str) -> float | None:
        """Percentage points since the previous round; None without one."""
        before = self.previous.questions.get(question_id) if self.previous else None
        now = self.questions.get(question_id)
        if before is None or now is None or not before.answered or not now.answered:
            return None
        return round((now.percent(value) or 0) - (before.percent(value) or 0), 1)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def village_name(village: str | None) -> str:
    return village or NO_VILLAGE


def option_labels(question: Question) -> dict[str, str]:
    if question.kind == "yesno":
        return dict(YES_NO)
    if question.kind == "scale":
        return {str(n): f"{n} – {question.labels[n]}" if n in question.labels else str(n)
                for n in range(1, 6)}  # fmt: skip
    return dict(question.options)


def _empty(survey: Survey) -> dict[str, QuestionResult]:
    questions = {}
    for number, q in enumerate(survey.questions, 1):
        result = QuestionResult(q.id, number, q.text, q.kind, indicator=q.indicator)
        result.positive = tuple(str(p) for p in q.positive)
        result.options = {v: Option(v, label) for v, label in option_labels(q).items()}
        questions[q.id] = result
    return questions


async def round_results(
    session: AsyncSession, survey: Survey, round_: SurveyRound, with_previous: bool = True
) -> RoundResults:
    assert round_.id is not None
    results = RoundResults(
        survey.id, round_.title, round_.number, round_.opened_at, round_.closed_at, survey.named
    )
    results.questions = _empty(survey)
    for group in await response_groups(session, round_.id):
        results.responses += group.responses
        results.finished += group.finished
        results.stopped += group.stopped
        results.by_village[village_name(group.village)] += group.responses
        results.by_channel[group.channel] += group.responses
    for row in await answer_groups(session, round_.id):
        question = results.questions.get(row.question_id)
        if question is None:  # asked in this round, since removed from the file
            question = QuestionResult(row.question_id, 0, row.question_id, "single")
            results.questions[row.question_id] = question
        if row.skipped:
            question.skipped += row.count
            continue
        village = village_name(row.village)
        question.answered += row.count
        question.answered_by_village[village] += row.count
        question.answered_by_channel[row.channel] += row.count
        values = row.choice.split(MULTI_SEPARATOR) if row.choice else []
        for value in values:
            option = question.options.setdefault(value, Option(value, value))
            option.count += row.count
            option.by_village[village] += row.count
            option.by_channel[row.channel] += row.count
        if row.numbers:
            question.numbers += row.numbers
            question.total += row.total or 0.0
            question.low = row.low if question.low is None else min(question.low, row.low)
            question.high = row.high if question.high is None else max(question.high, row.high)
    for question_id, text, channel, village, chat_id in await text_answers(session, round_.id):
        question = results.questions.get(question_id)
        if question is not None:  # already counted as answered by the groups above
            question.texts.append((text, channel, village, chat_id))
    if with_previous and round_.number > 1:
        before = await get_round(session, survey.id, round_.number - 1)
        if before is not None:
            results.previous = await round_results(session, survey, before, with_previous=False)
    return results
