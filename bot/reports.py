"""Weekly and monthly figures for the centre's reports: tables, XLSX, PNG charts, a summary.

Everything is aggregated in the database or over one period's sessions, so a year of a large
commune's activity stays cheap (see bench/reports.py). Headers are Vietnamese: the sheets go
straight into the centre's report.
"""

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from bot.library import Library
from bot.matcher import normalize
from bot.settings import Settings
from bot.surveys.report import survey_section
from storage.models import (
    Handoff,
    MessageEvent,
    SessionGuide,
    StaffMember,
    SupportLogEntry,
    SupportSession,
    Ticket,
)
from storage.staff import VOLUNTEER

TOP_UNKNOWN = 20
SATISFACTION_LEVELS = {1: "Rất hài lòng", 2: "Hài lòng", 3: "Chưa hài lòng"}
OUTCOME_NAMES = {
    "self_served": "Tự làm được",
    "handoff": "Chuyển cán bộ",
    "feedback": "Gửi phản ánh",
    "abandoned": "Bỏ dở",
}


@dataclass(frozen=True)
class Period:
    kind: str  # "week" or "month"
    label: str
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    zone: ZoneInfo

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.zone).date()

    @property
    def last_day(self) -> date:
        """The last local day with activity in the period (a week closing Friday 16:00: Friday)."""
        return (self.end.astimezone(self.zone) - timedelta(microseconds=1)).date()


@dataclass
class Table:
    title: str  # also the sheet name (31 characters at most)
    headers: list[str]
    rows: list[tuple[Any, ...]]


@dataclass
class Report:
    period: Period
    figures: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    daily: list[tuple[date, int]] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    summary: str = ""

    def table(self, title: str) -> Table:
        return next(t for t in self.tables if t.title == title)


# --- periods ---------------------------------------------------------------------------------


def week_ending(closing_day: date, settings: Settings) -> Period:
    zone = ZoneInfo(settings.timezone)
    end = datetime.combine(closing_day, settings.report_week_close_time, zone)
    start = end - timedelta(days=7)
    year, week, _ = closing_day.isocalendar()
    label = f"Tuần {week:02d}/{year} ({start:%d/%m/%Y %H:%M} – {end:%d/%m/%Y %H:%M})"
    return Period("week", label, start.astimezone(UTC), end.astimezone(UTC), zone)


def last_closed_week(now: datetime, settings: Settings) -> Period:
    """The most recent week that has closed (by default on Friday 16:00) at `now`."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    day = local.date()
    while True:
        closes = datetime.combine(day, settings.report_week_close_time, zone)
        if day.weekday() == settings.report_week_close_day and closes <= local:
            return week_ending(day, settings)
        day -= timedelta(days=1)


def month_starting(year: int, month: int, settings: Settings) -> Period:
    zone = ZoneInfo(settings.timezone)
    first = settings.report_month_start_day
    start = datetime.combine(date(year, month, first), time(0), zone)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = datetime.combine(date(next_year, next_month, first), time(0), zone)
    label = f"Tháng {month:02d}/{year}"
    if first != 1:
        label += f" ({start:%d/%m/%Y} – {end - timedelta(days=1):%d/%m/%Y})"
    return Period("month", label, start.astimezone(UTC), end.astimezone(UTC), zone)


def last_closed_month(now: datetime, settings: Settings) -> Period:
    local = now.astimezone(ZoneInfo(settings.timezone))
    year, month = local.year, local.month
    while True:
        period = month_starting(year, month, settings)
        if period.end <= now:
            return period
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)


def parse_period(kind: str, text: str | None, now: datetime, settings: Settings) -> Period:
    """week: '2026-W47' or a date in it ('2026-11-18'); month: '2026-11'. None: the last closed."""
    if kind == "week":
        if not text:
            return last_closed_week(now, settings)
        iso = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.IGNORECASE)
        if iso:
            closing = date.fromisocalendar(
                int(iso.group(1)), int(iso.group(2)), settings.report_week_close_day + 1
            )
            return week_ending(closing, settings)
        day = date.fromisoformat(text.strip())
        while day.weekday() != settings.report_week_close_day:
            day += timedelta(days=1)
        return week_ending(day, settings)
    if kind == "month":
        if not text:
            return last_closed_month(now, settings)
        found = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not found:
            raise ValueError(f"month period must look like 2026-11, not {text!r}")
        return month_starting(int(found.group(1)), int(found.group(2)), settings)
    raise ValueError(f"unknown period kind {kind!r}")


# --- figures ---------------------------------------------------------------------------------


def _in_period(column: Any, period: Period) -> Any:
    return (column >= period.start) & (column < period.end)


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
    report.tables.insert(0, Table("Tổng hợp", ["Chỉ tiêu", "Giá trị"], _figure_rows(report)))
    report.summary = summary_text(report)
    report.summary += await survey_section(session, period.start, period.end, library)
    return report


async def _sessions(session: AsyncSession, report: Report, library: Library | None) -> None:
    period = report.period
    rows = (
        await session.execute(
            select(
                SupportSession.channel,
                SupportSession.started_at,
                SupportSession.topics,
                SupportSession.outcome,
                SupportSession.satisfaction,
                SupportSession.referral,
            ).where(
                SupportSession.started_at >= period.start, SupportSession.started_at < period.end
            )
        )
    ).all()
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
    volunteers = set(
        (
            await session.execute(
                select(StaffMember.code).where(
                    StaffMember.role == VOLUNTEER, StaffMember.code.is_not(None)
                )
            )
        ).scalars()
    )
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
    finished = func.sum(case((SessionGuide.finished.is_(True), 1), else_=0))
    rows = (
        await session.execute(
            select(SessionGuide.guide_id, func.count(), finished)
            .join(SupportSession, SupportSession.id == SessionGuide.session_id)
            .where(
                SupportSession.started_at >= period.start, SupportSession.started_at < period.end
            )
            .group_by(SessionGuide.guide_id)
            .order_by(func.count().desc(), SessionGuide.guide_id)
        )
    ).all()

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
    rows = (
        await session.execute(
            select(MessageEvent.text, func.count())
            .where(
                MessageEvent.at >= period.start,
                MessageEvent.at < period.end,
                MessageEvent.direction == "in",
                MessageEvent.handler == "search",
                MessageEvent.outcome == "unknown",
                MessageEvent.text.is_not(None),
            )
            .group_by(MessageEvent.text)
        )
    ).all()
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
    rows = (
        await session.execute(
            select(Handoff.opened_at, Handoff.first_response_at, Handoff.closed_at).where(
                Handoff.opened_at >= period.start, Handoff.opened_at < period.end
            )
        )
    ).all()
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
    tickets = (
        await session.execute(
            select(Ticket)
            .where(Ticket.created_at >= period.start, Ticket.created_at < period.end)
            .order_by(Ticket.number)
        )
    ).scalars()
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
    entries = (
        await session.execute(
            select(SupportLogEntry).where(
                SupportLogEntry.day >= period.first_day, SupportLogEntry.day <= period.last_day
            )
        )
    ).scalars()
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
    report.figures.update(in_person=total, in_person_people=people, in_person_online=online)
    headers = ["Số buổi", "Số người được hỗ trợ"]
    report.tables += [
        Table("Trực tiếp theo nơi", ["Nơi hỗ trợ", *headers],
              [(k, *v) for k, v in sorted(by_place.items())]),
        Table("Trực tiếp theo người", ["Người hỗ trợ", *headers],
              [(k, *v) for k, v in sorted(by_helper.items())]),
    ]  # fmt: skip


FIGURE_NAMES = {
    "sessions": "Số lượt hỗ trợ qua Trợ lý",
    "guides_opened": "Số lần mở hướng dẫn",
    "guides_finished": "Số lần xem hết hướng dẫn",
    "unknown_questions": "Câu hỏi chưa có hướng dẫn",
    "ratings": "Số đánh giá",
    "satisfaction_percent": "Tỷ lệ hài lòng (%)",
    "handoffs": "Số lần chuyển cán bộ",
    "median_first_response_minutes": "Thời gian phản hồi đầu tiên, trung vị (phút)",
    "tickets": "Phản ánh, kiến nghị nhận được",
    "tickets_on_time": "Trả lời đúng hạn",
    "tickets_late": "Trả lời trễ hạn",
    "tickets_overdue": "Quá hạn, chưa trả lời",
    "tickets_on_time_percent": "Tỷ lệ trả lời đúng hạn (%)",
    "in_person": "Số buổi hỗ trợ trực tiếp",
    "in_person_people": "Số người được hỗ trợ trực tiếp",
    "in_person_online": "Hồ sơ nộp trực tuyến tại chỗ",
    "referred_by_volunteers": "Lượt do tình nguyện viên giới thiệu",
}


def _figure_rows(report: Report) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("Kỳ báo cáo", report.period.label)]
    for key, name in FIGURE_NAMES.items():
        value = report.figures.get(key)
        rows.append((name, "—" if value is None else value))
    return rows


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)


def summary_text(report: Report) -> str:
    """Plain text a staff member pastes into the centre's report."""
    f = report.figures
    channels = ", ".join(f"{k} {n}" for k, n in report.table("Theo kênh").rows) or "—"
    unknown = report.table("Câu hỏi chưa có hướng dẫn").rows[:3]
    lines = [
        f"BÁO CÁO {report.period.label.upper()}",
        f"- Số lượt hỗ trợ qua Trợ lý: {f['sessions']} ({channels})",
        f"- Hướng dẫn được mở: {f['guides_opened']}, xem hết: {f['guides_finished']}",
        f"- Mức độ hài lòng: {_number(f['satisfaction_percent'])}% "
        f"({f['satisfied']}/{f['ratings']} đánh giá hài lòng)",
        f"- Chuyển cán bộ: {f['handoffs']}, thời gian phản hồi trung vị: "
        f"{_number(f['median_first_response_minutes'])} phút",
        f"- Phản ánh, kiến nghị: nhận {f['tickets']}, trả lời đúng hạn {f['tickets_on_time']}, "
        f"trễ hạn {f['tickets_late']}, quá hạn chưa trả lời {f['tickets_overdue']}",
        f"- Hỗ trợ trực tiếp: {f['in_person']} buổi, {f['in_person_people']} người, "
        f"{f['in_person_online']} hồ sơ nộp trực tuyến tại chỗ",
    ]
    if unknown:
        asked = "; ".join(f"“{text}” ({n})" for text, n in unknown)
        lines.append(f"- Câu hỏi chưa có hướng dẫn hay gặp: {asked}")
    return "\n".join(lines)


# --- files -----------------------------------------------------------------------------------


def write_xlsx(report: Report, path: Path) -> Path:
    """One sheet per table, bold Vietnamese headers, columns wide enough to read."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in report.tables:
        sheet = workbook.create_sheet(table.title[:31])
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        for column, header in enumerate(table.headers, 1):
            width = max([len(str(header))] + [len(str(r[column - 1])) for r in table.rows[:200]])
            sheet.column_dimensions[sheet.cell(1, column).column_letter].width = min(width + 2, 80)
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_charts(report: Report, directory: Path) -> list[Path]:
    """Sessions per day (the trend) and sessions per topic (the split), as PNG files."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
    days = [d for d, _ in report.daily]
    axes.bar(days, [n for _, n in report.daily], color="#1f6fb2")
    axes.set_title(f"Lượt hỗ trợ theo ngày – {report.period.label}", fontsize=10)
    axes.set_ylabel("Lượt hỗ trợ")
    figure.autofmt_xdate()
    figure.tight_layout()
    paths.append(directory / f"luot-ho-tro-theo-ngay-{report.period.first_day}.png")
    figure.savefig(paths[-1])
    pyplot.close(figure)

    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
    topics = report.topics[:10][::-1]
    axes.barh([t for t, _ in topics], [n for _, n in topics], color="#2e8b57")
    axes.set_title("Lượt hỗ trợ theo chủ đề", fontsize=10)
    axes.set_xlabel("Lượt hỗ trợ")
    figure.tight_layout()
    paths.append(directory / f"luot-ho-tro-theo-chu-de-{report.period.first_day}.png")
    figure.savefig(paths[-1])
    pyplot.close(figure)
    return paths
