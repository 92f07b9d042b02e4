"""Survey results as the centre uses them: text to paste, an XLSX workbook, PNG charts."""

from pathlib import Path
from typing import Any

from bot.surveys.results import QuestionResult, RoundResults

TEXTS_SHOWN = 10  # free-text answers printed; the XLSX has them all
CHOICE_KINDS = ("single", "multi", "yesno", "scale", "village")


def number_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)


def _change(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} điểm".replace(".", ",")


def _date(results: RoundResults) -> str:
    opened = f"mở {results.opened_at:%d/%m/%Y}"
    return opened + (f", đóng {results.closed_at:%d/%m/%Y}" if results.closed_at else ", đang mở")


def _joined(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "—"


def _ordered(results: RoundResults) -> list[QuestionResult]:
    return sorted(results.questions.values(), key=lambda q: (q.number == 0, q.number, q.id))


def summary_text(results: RoundResults) -> str:
    """Plain text for the centre's report."""
    before = results.previous
    lines = [
        f"KẾT QUẢ {results.title.upper()} – ĐỢT {results.number} ({_date(results)})",
        f"- Số phiếu: {results.responses}, hoàn thành {results.finished} "
        f"({number_text(results.completion_percent)}%), dừng giữa chừng {results.stopped}",
    ]
    if before is not None:
        lines.append(
            f"- Đợt {before.number}: {before.responses} phiếu, hoàn thành "
            f"{number_text(before.completion_percent)}%"
        )
    lines.append(f"- Theo kênh: {_joined(results.by_channel)}")
    lines.append(f"- Theo ấp: {_joined(results.by_village)}")
    for question in _ordered(results):
        lines.extend(_question_lines(results, question))
    return "\n".join(lines)


def _question_lines(results: RoundResults, question: QuestionResult) -> list[str]:
    head = f"Câu {question.number or '?'}. {question.text}"
    counted = f"{question.answered} trả lời, {question.skipped} bỏ qua"
    if question.kind == "text":
        lines = [f"{head} ({counted})"]
        lines += [f"  – “{text}”" for text, *_ in question.texts[:TEXTS_SHOWN]]
        if len(question.texts) > TEXTS_SHOWN:
            lines.append(f"  (và {len(question.texts) - TEXTS_SHOWN} ý kiến khác: xem tệp XLSX)")
        return lines
    if question.kind == "number":
        return [
            f"{head} ({counted}): trung bình {number_text(question.mean)}, "
            f"thấp nhất {number_text(question.low)}, cao nhất {number_text(question.high)}"
        ]
    lines = [f"{head} ({counted})"]
    for value, option in question.options.items():
        change = _change(results.change(question.id, value))
        lines.append(
            f"  • {option.label}: {option.count} ({number_text(question.percent(value))}%"
            + (f"; {change} so với đợt trước" if change else "")
            + ")"
        )
    if question.kind == "scale":
        lines.append(f"  Điểm trung bình: {number_text(question.mean)}/5")
    if question.indicator:
        before = results.previous.questions.get(question.id) if results.previous else None
        previous = before.indicator_percent if before else None
        now = question.indicator_percent
        change = (
            "" if now is None or previous is None else f" ({_change(round(now - previous, 1))})"
        )
        lines.append(f"  ▶ {question.indicator}: {number_text(now)}%{change}")
    return lines


# --- XLSX --------------------------------------------------------------------------------


def tables(results: RoundResults) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
    """(sheet title, headers, rows) for every sheet of the workbook."""
    before = results.previous
    summary: list[tuple[Any, ...]] = [
        ("Khảo sát", results.title),
        ("Đợt", results.number),
        ("Thời gian", _date(results)),
        ("Số phiếu", results.responses),
        ("Hoàn thành", results.finished),
        ("Tỷ lệ hoàn thành (%)", results.completion_percent),
        ("Dừng giữa chừng", results.stopped),
        ("Số phiếu đợt trước", before.responses if before else "—"),
    ]
    for question in _ordered(results):
        if question.indicator:
            summary.append((question.indicator + " (%)", question.indicator_percent))
    by_question, by_village, by_channel, texts = [], [], [], []
    for q in _ordered(results):
        label = f"Câu {q.number or '?'}"
        if q.kind in CHOICE_KINDS or q.options:
            for value, option in q.options.items():
                old = before.questions.get(q.id) if before else None
                by_question.append((
                    label, q.text, option.label, option.count, q.percent(value),
                    old.percent(value) if old and old.answered else None,
                    results.change(q.id, value),
                ))  # fmt: skip
                for village, answered in sorted(q.answered_by_village.items()):
                    count = option.by_village[village]
                    share = round(100 * count / answered, 1) if answered else None
                    by_village.append((label, option.label, village, count, share))
                for channel, answered in sorted(q.answered_by_channel.items()):
                    count = option.by_channel[channel]
                    share = round(100 * count / answered, 1) if answered else None
                    by_channel.append((label, option.label, channel, count, share))
        elif q.kind == "number":
            by_question.append((label, q.text, "Trung bình", q.numbers, q.mean, None, None))
        for text, channel, village, chat_id in q.texts:
            texts.append(
                (label, text, channel, village or "", *([chat_id] if results.named else []))
            )
        by_question.append((label, q.text, "Bỏ qua", q.skipped, None, None, None))
    answer_headers = ["Câu", "Lựa chọn"]
    return [
        ("Tổng hợp", ["Chỉ tiêu", "Giá trị"], summary),
        ("Theo câu hỏi", ["Câu", "Nội dung", "Trả lời", "Số lượng", "Tỷ lệ (%)",
                          "Đợt trước (%)", "Thay đổi (điểm %)"], by_question),
        ("Theo ấp", [*answer_headers, "Ấp", "Số lượng", "Tỷ lệ (%)"], by_village),
        ("Theo kênh", [*answer_headers, "Kênh", "Số lượng", "Tỷ lệ (%)"], by_channel),
        ("Ý kiến", ["Câu", "Ý kiến", "Kênh", "Ấp", *(["Tài khoản"] if results.named else [])],
         texts),
        ("Số phiếu", ["Theo", "Nhóm", "Số phiếu"],
         [("Kênh", k, n) for k, n in sorted(results.by_channel.items())]
         + [("Ấp", k, n) for k, n in sorted(results.by_village.items())]),
    ]  # fmt: skip


def write_xlsx(results: RoundResults, path: Path) -> Path:
    """One sheet per table, bold Vietnamese headers, columns wide enough to read."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, headers, rows in tables(results):
        sheet = workbook.create_sheet(title[:31])
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
        for column, header in enumerate(headers, 1):
            width = max([len(str(header))] + [len(str(r[column - 1])) for r in rows[:200]])
            sheet.column_dimensions[sheet.cell(1, column).column_letter].width = min(width + 2, 80)
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_charts(results: RoundResults, directory: Path) -> list[Path]:
    """One bar chart per choice question: this round's percentages, the previous round's too."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for question in _ordered(results):
        if question.kind not in CHOICE_KINDS or not question.options:
            continue
        labels = [o.label for o in question.options.values()][::-1]
        now = [question.percent(v) or 0 for v in question.options][::-1]
        figure, axes = pyplot.subplots(figsize=(8, 0.5 * len(labels) + 1.5), dpi=100)
        positions = range(len(labels))
        old = results.previous.questions.get(question.id) if results.previous else None
        height = 0.4 if old else 0.7
        axes.barh([p + (height / 2 if old else 0) for p in positions], now, height,
                  color="#1f6fb2", label=f"Đợt {results.number}")  # fmt: skip
        if old:
            before = [old.percent(v) or 0 for v in question.options][::-1]
            axes.barh([p - height / 2 for p in positions], before, height, color="#9bbcd8",
                      label=f"Đợt {results.number - 1}")  # fmt: skip
            axes.legend(fontsize=8)
        axes.set_yticks(list(positions), labels, fontsize=8)
        axes.set_xlabel("% người trả lời")
        title = f"Câu {question.number}. {question.text}"
        axes.set_title(title if len(title) <= 90 else title[:89] + "…", fontsize=9)
        figure.tight_layout()
        paths.append(directory / f"{results.survey_id}-dot-{results.number}-{question.id}.png")
        figure.savefig(paths[-1])
        pyplot.close(figure)
    return paths
