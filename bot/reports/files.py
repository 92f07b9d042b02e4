"""The report as files: an XLSX workbook (one sheet per table) and PNG charts."""

from pathlib import Path

from bot.reports.figures import Report


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
