"""Reports on a seeded month: every figure checked against a hand count, the XLSX read back."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

from openpyxl import load_workbook

from bot.library import Library
from bot.reports import build_report, parse_period, write_charts, write_xlsx
from bot.settings import Settings
from storage.db import Database
from storage.models import (
    Handoff,
    MessageEvent,
    SessionGuide,
    StaffMember,
    SupportLogEntry,
    SupportSession,
    Ticket,
)

LOCAL = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh has no daylight saving time


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL).astimezone(UTC)


def session_row(
    id_: int,
    channel: str,
    started: datetime,
    topics: list[str],
    outcome: str,
    satisfaction: int | None = None,
    referral: str | None = None,
) -> SupportSession:
    return SupportSession(
        id=id_, channel=channel, contact_ref=f"ref{id_}", started_at=started, ended_at=started,
        topics=topics, outcome=outcome, satisfaction=satisfaction, referral=referral,
        rating_asked=satisfaction is not None,
    )  # fmt: skip


def event(when: datetime, text: str, outcome: str = "unknown", direction: str = "in"):
    return MessageEvent(at=when, channel="telegram", chat_id="c", direction=direction,
                        handler="search", outcome=outcome, text=text)  # fmt: skip


def ticket(n: int, created: datetime, due: date, answered: datetime | None) -> Ticket:
    return Ticket(number=f"PA-2026-{n:06d}", channel="telegram", chat_id="c", content=f"#{n}",
                  created_at=created, due=due, answered_at=answered,
                  status="answered" if answered else "open")  # fmt: skip


async def seed(database: Database) -> None:
    async with database.session() as session, session.begin():
        volunteer = StaffMember(
            name="Lê Văn Tư", role="volunteer", code="TV05", created_at=at(1, 1, 8)
        )
        session.add(volunteer)
        session.add_all([
            session_row(1, "telegram", at(11, 2, 9), ["vneid"], "self_served", 1, "TV05"),
            session_row(2, "telegram", at(11, 2, 10), ["vneid", "lua-dao"], "handoff", 2, "poster"),
            session_row(3, "zalo_oa", at(11, 15, 8), ["lua-dao"], "abandoned", 3),
            session_row(4, "web", at(11, 30, 23, 50), [], "feedback", None, "tv05"),
            session_row(5, "telegram", at(10, 31, 23, 30), ["vneid"], "self_served", 3),  # October
            session_row(6, "telegram", at(12, 1, 0, 10), ["vneid"], "abandoned", 3),  # December
        ])  # fmt: skip
        await session.flush()
        session.add_all([
            SessionGuide(session_id=1, guide_id="vneid-cai-dat", furthest_step=3, finished=True),
            SessionGuide(session_id=2, guide_id="vneid-cai-dat", furthest_step=2, finished=False),
            SessionGuide(session_id=2, guide_id="lua-dao-otp", furthest_step=2, finished=True),
            SessionGuide(session_id=5, guide_id="vneid-cai-dat", furthest_step=3, finished=True),
            event(at(11, 3, 9), "giá vàng hôm nay"),
            event(at(11, 4, 9), "Gia vang hom nay?"),
            event(at(11, 5, 9), "xe buýt mấy giờ"),
            event(at(11, 5, 9, 1), "xe buýt mấy giờ", direction="out"),
            event(at(11, 6, 9), "cài vneid", outcome="answer"),
            event(at(10, 31, 9), "giá vàng hôm nay"),
            Handoff(channel="telegram", chat_id="c", opened_at=at(11, 2, 10, 5),
                    first_response_at=at(11, 2, 10, 15), closed_at=at(11, 2, 11)),
            Handoff(channel="telegram", chat_id="c", opened_at=at(11, 20, 14),
                    first_response_at=at(11, 20, 14, 30)),
            Handoff(channel="zalo_oa", chat_id="d", opened_at=at(11, 21, 9)),
            ticket(1, at(11, 2, 9), date(2026, 11, 10), at(11, 9, 15)),
            ticket(2, at(11, 3, 9), date(2026, 11, 12), at(11, 13, 8)),
            ticket(3, at(11, 6, 9), date(2026, 11, 20), None),
            ticket(4, at(11, 25, 9), date(2026, 12, 10), None),
            ticket(5, at(10, 20, 9), date(2026, 11, 3), None),  # October's
        ])  # fmt: skip
        await session.flush()
        entry = dict(topic="Cài VNeID", created_at=at(11, 1, 8))
        session.add_all([
            SupportLogEntry(day=date(2026, 11, 5), place="Chợ Hòa An", people=12,
                            submitted_online=True, helper_id=volunteer.id,
                            helper_name="Lê Văn Tư", **entry),
            SupportLogEntry(day=date(2026, 11, 21), place="Quầy 1", people=3,
                            submitted_online=False, helper_name="Trần Thị Lan", **entry),
            SupportLogEntry(day=date(2026, 11, 21), place="Chợ Hòa An", people=8,
                            submitted_online=True, helper_name="Lê Văn Tư", **entry),
            SupportLogEntry(day=date(2026, 12, 1), place="Quầy 1", people=5,
                            submitted_online=True, helper_name="Trần Thị Lan", **entry),
        ])  # fmt: skip


async def test_a_seeded_month_matches_the_hand_count(
    database: Database, fixture_library: Library, tmp_path
) -> None:
    await seed(database)
    settings = Settings()
    period = parse_period("month", "2026-11", datetime(2026, 12, 5, tzinfo=UTC), settings)
    async with database.session() as session:
        report = await build_report(session, period, fixture_library)

    assert report.figures == {
        "sessions": 4,
        "ratings": 3,
        "satisfied": 2,
        "satisfaction_percent": 66.7,
        "referred_by_volunteers": 2,
        "guides_opened": 3,
        "guides_finished": 2,
        "unknown_questions": 3,
        "handoffs": 3,
        "handoffs_answered": 2,
        "handoffs_closed": 1,
        "median_first_response_minutes": 20.0,
        "tickets": 4,
        "tickets_on_time": 1,
        "tickets_late": 1,
        "tickets_overdue": 1,
        "tickets_pending": 1,
        "tickets_on_time_percent": 33.3,
        "in_person": 3,
        "in_person_people": 23,
        "in_person_online": 2,
        "in_person_online_percent": 66.7,
    }
    assert report.table("Theo kênh").rows == [("telegram", 2), ("web", 1), ("zalo_oa", 1)]
    assert sorted(report.table("Theo chủ đề").rows) == [("Cảnh báo lừa đảo", 2), ("VNeID", 2)]
    assert report.table("Hướng dẫn").rows == [
        ("vneid-cai-dat", "Cài ứng dụng VNeID", 2, 1),
        ("lua-dao-otp", "Không đưa mã OTP cho ai", 1, 1),
    ]
    assert report.table("Câu hỏi chưa có hướng dẫn").rows == [
        ("giá vàng hôm nay", 2),
        ("xe buýt mấy giờ", 1),
    ]
    assert report.table("Mức độ hài lòng").rows == [
        ("Rất hài lòng", 1), ("Hài lòng", 1), ("Chưa hài lòng", 1),
    ]  # fmt: skip
    assert report.table("Nguồn giới thiệu").rows == [
        ("TV05", "Tình nguyện viên", 2),
        ("POSTER", "Áp phích, chiến dịch", 1),
    ]
    assert [r[4] for r in report.table("Phản ánh kiến nghị").rows] == [
        "Đúng hạn", "Trễ hạn", "Quá hạn, chưa trả lời", "Đang xử lý, còn hạn",
    ]  # fmt: skip
    assert report.table("Trực tiếp theo nơi").rows == [("Chợ Hòa An", 2, 20), ("Quầy 1", 1, 3)]
    assert report.table("Trực tiếp theo người").rows == [
        ("Lê Văn Tư", 2, 20),
        ("Trần Thị Lan", 1, 3),
    ]
    daily = dict(report.daily)
    assert len(daily) == 30 and daily[date(2026, 11, 2)] == 2 and daily[date(2026, 11, 30)] == 1
    assert "Mức độ hài lòng: 66,7% (2/3" in report.summary
    assert "Số lượt hỗ trợ qua Trợ lý: 4 (telegram 2, web 1, zalo_oa 1)" in report.summary

    path = write_xlsx(report, tmp_path / "bao-cao.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames[:3] == ["Tổng hợp", "Theo kênh", "Theo chủ đề"]
    summary = {
        row[0]: row[1] for row in workbook["Tổng hợp"].iter_rows(min_row=2, values_only=True)
    }
    assert summary["Kỳ báo cáo"] == "Tháng 11/2026"
    assert summary["Số lượt hỗ trợ qua Trợ lý"] == 4
    assert summary["Tỷ lệ hài lòng (%)"] == 66.7
    assert summary["Thời gian phản hồi đầu tiên, trung vị (phút)"] == 20.0
    rows = list(workbook["Hướng dẫn"].iter_rows(values_only=True))
    assert rows[0] == ("Mã hướng dẫn", "Tên hướng dẫn", "Số lần mở", "Số lần xem hết")
    assert rows[1] == ("vneid-cai-dat", "Cài ứng dụng VNeID", 2, 1)

    charts = write_charts(report, tmp_path / "charts")
    assert len(charts) == 2
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in charts)


def test_the_week_closes_on_friday_at_four() -> None:
    settings = Settings()
    friday_355pm = datetime(2026, 11, 27, 15, 55, tzinfo=LOCAL)
    week = parse_period("week", None, friday_355pm, settings)
    assert week.end == datetime(2026, 11, 20, 16, 0, tzinfo=LOCAL)  # this week is not closed yet
    week = parse_period("week", None, friday_355pm + timedelta(minutes=5), settings)
    assert (week.start, week.end) == (
        datetime(2026, 11, 20, 16, 0, tzinfo=LOCAL),
        datetime(2026, 11, 27, 16, 0, tzinfo=LOCAL),
    )
    assert parse_period("week", "2026-W48", friday_355pm, settings) == week
    custom = Settings(report_week_close_day=3, report_month_start_day=26)
    assert parse_period("week", "2026-11-25", friday_355pm, custom).end == datetime(
        2026, 11, 26, 16, 0, tzinfo=LOCAL
    )
    month = parse_period("month", "2026-11", friday_355pm, custom)
    assert (month.start, month.end) == (
        datetime(2026, 11, 26, tzinfo=LOCAL),
        datetime(2026, 12, 26, tzinfo=LOCAL),
    )


async def test_the_year_so_far_against_the_profile_targets(
    database: Database, full_library: Library
) -> None:
    await seed(database)
    period = parse_period("month", "2026-11", datetime(2026, 12, 5, tzinfo=UTC), Settings())
    async with database.session() as session:
        report = await build_report(session, period, full_library)
        # A centre whose targets the year has reached (a share and a count, both at the mark).
        reached = replace(full_library, profile={
            **full_library.profile, "targets": {"satisfaction_percent": 50, "sessions": 5},
        })  # fmt: skip
        easy = await build_report(session, period, reached)

    assert report.year is not None and report.year.label == "Từ đầu năm 2026 (01/01 – 30/11/2026)"
    # 1 January to 30 November: October's session, ticket and rating count as well.
    assert {t.key: (t.value, t.target, t.met) for t in report.targets} == {
        "in_person_online_percent": (66.7, 80, False),
        "satisfaction_percent": (50.0, 95, False),
        "tickets_on_time_percent": (25.0, 100, False),
        "in_person_people": (23, 1200, False),
    }
    assert report.table("Chỉ tiêu năm").rows[1] == (
        "Tỷ lệ hài lòng (%)", 95, 50.0, "Chưa đạt"
    )  # fmt: skip
    assert "- Tỷ lệ hài lòng (%): 50,0 / chỉ tiêu 95: chưa đạt" in report.summary
    assert [(t.key, t.value, t.met) for t in easy.targets] == [
        ("satisfaction_percent", 50.0, True), ("sessions", 5, True),
    ]  # fmt: skip
    assert "- Số lượt hỗ trợ qua Trợ lý: 5 / chỉ tiêu 5: đạt" in easy.summary
    # A library without targets: no year, no sheet, the summary as before.
    async with database.session() as session:
        plain = await build_report(session, period, replace(full_library, profile={
            k: v for k, v in full_library.profile.items() if k != "targets"
        }))  # fmt: skip
    assert plain.year is None and "Chỉ tiêu năm" not in [t.title for t in plain.tables]
