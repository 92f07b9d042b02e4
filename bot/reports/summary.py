"""The report as text to paste into the centre's report, and its figures as a table."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.reports.figures import Report

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
    "in_person_online_percent": "Tỷ lệ hồ sơ nộp trực tuyến khi hỗ trợ trực tiếp (%)",
    "referred_by_volunteers": "Lượt do tình nguyện viên giới thiệu",
}


def figure_rows(report: "Report") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("Kỳ báo cáo", report.period.label)]
    for key, name in FIGURE_NAMES.items():
        value = report.figures.get(key)
        rows.append((name, "—" if value is None else value))
    return rows


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)


def summary_text(report: "Report") -> str:
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
    if report.year and report.targets:
        lines.append(f"KẾT QUẢ SO VỚI CHỈ TIÊU NĂM – {report.year.label.upper()}")
        lines += [
            f"- {t.name}: {_number(t.value)} / chỉ tiêu {_number(t.target)}: "
            + ("đạt" if t.met else "chưa đạt")
            for t in report.targets
        ]
    return "\n".join(lines)
