"""The report's figures and tables, from the period's rows (storage/report_figures.py)."""

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.library import Library
from bot.matcher import normalize
from bot.profile import PERCENT_TARGETS
from bot.reports.periods import Period
from bot.reports.summary import FIGURE_NAMES, figure_rows, summary_text
from bot.surveys.report import survey_section
from storage import report_figures as figures

TOP_UNKNOWN = 20
TARGETS_SHEET = "Chỉ tiêu năm"
SATISFACTION_LEVELS = {1: "Rất hài lòng", 2: "Hài lòng", 3: "Chưa hài lòng"}
OUTCOME_NAMES = {
    "self_served": "Tự làm được",
    "handoff": "Chuyển cán bộ",
    "feedback": "Gửi phản ánh",
    "abandoned": "Bỏ dở",
}


@dataclass
class Table:
    title: str  # also the sheet name (31 characters at most)
    headers: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Target:
    """One target of the profile and where the year stands against it."""

    key: str  # the figure it is measured with
    name: str
    target: float
    value: float | None  # None: nothing to measure yet (no rating, no ticket due)
    percent: bool

    @property
    def met(self) -> bool:
        return self.value is not None and self.value >= self.target


@dataclass
class Report:
    period: Period
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    daily: list[tuple[date, int]] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    summary: str = ""
    year: Period | None = None  # 1 January to the end of the period, when targets are set
    targets: list[Target] = field(default_factory=list)

    def table(self, title: str) -> Table:
        return next(t for t in self.tables if t.title == title)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


async def build_report(
    session: AsyncSession, period: Period, library: Library | None = None
) -> Report:
    report = Report(period)
    await _sessions(session, report, library)
    await _guides(session, report, library)
    await _unknown_questions(session, report)
    await _handoffs(session, report)
    await _tickets(session, report)
    await _in_person(session, report)
    report.tables.insert(0, Table("Tổng hợp", ["Chỉ tiêu", "Giá trị"], figure_rows(report)))
    targets = (library.profile.get("targets") if library else None) or {}
    if targets:
        await _year_so_far(session, report, targets)
    report.summary = summary_text(report)
    report.summary += await survey_section(session, period.start, period.end, library)
    return report


async def _sessions(session: AsyncSession, report: Report, library: Library | None) -> None:
    period = report.period
    rows = await figures.session_rows(session, period.start, period.end)
    channels: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    ratings: Counter[int] = Counter()
    referrals: Counter[str] = Counter()
    days: Counter[date] = Counter()
    for channel, started, session_topics, outcome, satisfaction, referral in rows:
        channels[channel] += 1
        topics.update(set(session_topics or []))
        outcomes[outcome] += 1
        if satisfaction is not None:
            ratings[satisfaction] += 1
        if referral:
            referrals[referral.upper()] += 1
        days[started.astimezone(period.zone).date()] += 1
    rated = sum(ratings.values())
    satisfied = ratings[1] + ratings[2]
    report.figures.update(
        sessions=len(rows),
        ratings=rated,
        satisfied=satisfied,
        satisfaction_percent=_percent(satisfied, rated),
    )
    report.daily = [
        (period.first_day + timedelta(days=n), days[period.first_day + timedelta(days=n)])
        for n in range((period.last_day - period.first_day).days + 1)
    ]

    def topic_title(topic_id: str) -> str:
        found = library.topics.get(topic_id) if library else None
        return found.title if found else topic_id

    report.topics = [(topic_title(t), n) for t, n in topics.most_common()]
    report.tables += [
        Table("Theo kênh", ["Kênh", "Số lượt hỗ trợ"], sorted(channels.items())),
        Table("Theo chủ đề", ["Chủ đề", "Số lượt hỗ trợ"], report.topics),
        Table(
            "Kết quả hỗ trợ",
            ["Kết quả", "Số lượt"],
            [(OUTCOME_NAMES.get(o, o), n) for o, n in outcomes.most_common()],
        ),
        Table(
            "Mức độ hài lòng",
            ["Mức độ", "Số đánh giá"],
            [(name, ratings[level]) for level, name in SATISFACTION_LEVELS.items()],
        ),
        Table("Theo ngày", ["Ngày", "Số lượt hỗ trợ"], report.daily),
    ]
    volunteers = await figures.volunteer_codes(session)
    report.tables.append(
        Table(
            "Nguồn giới thiệu",
            ["Nguồn", "Loại", "Số lượt hỗ trợ"],
            [
                (source, "Tình nguyện viên" if source in volunteers else "Áp phích, chiến dịch", n)
                for source, n in referrals.most_common()
            ],
        )
    )
    report.figures["referred_by_volunteers"] = sum(
        n for source, n in referrals.items() if source in volunteers
    )


async def _guides(session: AsyncSession, report: Report, library: Library | None) -> None:
    period = report.period
    rows = await figures.guide_counts(session, period.start, period.end)

    def title(guide_id: str) -> str:
        guide = library.guides.get(guide_id) if library else None
        return guide.title if guide else guide_id

    table = [(guide_id, title(guide_id), opened, int(done or 0)) for guide_id, opened, done in rows]
    report.figures["guides_opened"] = sum(r[2] for r in table)
    report.figures["guides_finished"] = sum(r[3] for r in table)
    report.tables.append(
        Table("Hướng dẫn", ["Mã hướng dẫn", "Tên hướng dẫn", "Số lần mở", "Số lần xem hết"], table)
    )


async def _unknown_questions(session: AsyncSession, report: Report) -> None:
    """The content team's to-do list: what people asked that no guide answers."""
    period = report.period
    rows = await figures.unknown_question_counts(session, period.start, period.end)
    counts: Counter[str] = Counter()
    shown: dict[str, tuple[int, int, str]] = {}
    for text, count in rows:
        key = normalize(text)
        counts[key] += count
        # Shown as people wrote it most often; on a tie, the spelling with tone marks.
        candidate = (count, sum(ord(c) > 127 for c in text), text)
        shown[key] = max(shown.get(key, candidate), candidate)
    top = [(shown[key][2], n) for key, n in counts.most_common(TOP_UNKNOWN)]
    report.figures["unknown_questions"] = sum(counts.values())
    report.tables.append(Table("Câu hỏi chưa có hướng dẫn", ["Câu hỏi", "Số lần hỏi"], top))


async def _handoffs(session: AsyncSession, report: Report) -> None:
    period = report.period
    rows = await figures.handoff_times(session, period.start, period.end)
    waits = [(first - opened).total_seconds() / 60 for opened, first, _ in rows if first]
    median = round(statistics.median(waits), 1) if waits else None
    report.figures.update(
        handoffs=len(rows),
        handoffs_answered=len(waits),
        handoffs_closed=sum(1 for *_, closed in rows if closed),
        median_first_response_minutes=median,
    )


async def _tickets(session: AsyncSession, report: Report) -> None:
    period = report.period
    tickets = await figures.tickets_received(session, period.start, period.end)
    rows, on_time, late, overdue, pending = [], 0, 0, 0, 0
    for ticket in tickets:
        answered_day = (
            ticket.answered_at.astimezone(period.zone).date() if ticket.answered_at else None
        )
        if answered_day is not None:
            state = "Đúng hạn" if answered_day <= ticket.due else "Trễ hạn"
            on_time += answered_day <= ticket.due
            late += answered_day > ticket.due
        elif ticket.due < period.last_day:
            state, overdue = "Quá hạn, chưa trả lời", overdue + 1
        else:
            state, pending = "Đang xử lý, còn hạn", pending + 1
        rows.append((ticket.number, ticket.created_at.astimezone(period.zone).date(), ticket.due,
                     answered_day, state))  # fmt: skip
    due_by_now = on_time + late + overdue
    report.figures.update(
        tickets=len(rows),
        tickets_on_time=on_time,
        tickets_late=late,
        tickets_overdue=overdue,
        tickets_pending=pending,
        tickets_on_time_percent=_percent(on_time, due_by_now),
    )
    report.tables.append(
        Table(
            "Phản ánh kiến nghị",
            ["Số phản ánh", "Ngày nhận", "Hạn trả lời", "Ngày trả lời", "Tình trạng"],
            rows,
        )
    )


async def _in_person(session: AsyncSession, report: Report) -> None:
    period = report.period
    entries = await figures.support_log_entries(session, period.first_day, period.last_day)
    by_place: dict[str, list[int]] = {}
    by_helper: dict[str, list[int]] = {}
    total = people = online = 0
    for entry in entries:
        total += 1
        people += entry.people
        online += entry.submitted_online
        for key, table in ((entry.place, by_place), (entry.helper_name, by_helper)):
            counts = table.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += entry.people
    report.figures.update(in_person=total, in_person_people=people, in_person_online=online,
                          in_person_online_percent=_percent(online, total))  # fmt: skip
    headers = ["Số buổi", "Số người được hỗ trợ"]
    report.tables += [
        Table("Trực tiếp theo nơi", ["Nơi hỗ trợ", *headers],
              [(k, *v) for k, v in sorted(by_place.items())]),
        Table("Trực tiếp theo người", ["Người hỗ trợ", *headers],
              [(k, *v) for k, v in sorted(by_helper.items())]),
    ]  # fmt: skip


def year_to(period: Period) -> Period:
    """From 1 January (the centre's time) to the end of `period`: "the year so far"."""
    last = period.last_day
    start = datetime.combine(date(last.year, 1, 1), time(0), period.zone)
    label = f"Từ đầu năm {last.year} ({start:%d/%m} – {last:%d/%m/%Y})"
    return Period("year", label, start.astimezone(period.start.tzinfo), period.end, period.zone)


async def _year_so_far(session: AsyncSession, report: Report, targets: dict[str, float]) -> None:
    """The year so far against the profile's targets, counted as the report counts a period."""
    year = Report(year_to(report.period))
    sessions, rated, satisfied = await figures.session_totals(session, year.period.start,
                                                              year.period.end)  # fmt: skip
    year.figures.update(sessions=sessions, satisfaction_percent=_percent(satisfied, rated))
    await _tickets(session, year)
    await _in_person(session, year)
    report.year = year.period
    report.targets = [
        Target(key, FIGURE_NAMES[key], goal, year.figures.get(key), key in PERCENT_TARGETS)
        for key, goal in targets.items()
        if key in FIGURE_NAMES
    ]
    report.tables.insert(1, Table(
        TARGETS_SHEET,
        ["Chỉ tiêu", "Chỉ tiêu năm", year.period.label, "Đánh giá"],
        [(t.name, t.target, "—" if t.value is None else t.value, "Đạt" if t.met else "Chưa đạt")
         for t in report.targets],
    ))  # fmt: skip
