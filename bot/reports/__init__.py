"""Weekly and monthly figures for the centre's reports: tables, XLSX, PNG charts, a summary.

periods.py (which week, which month), figures.py (rows -> figures and tables; the queries are in
storage/report_figures.py), summary.py (the text to paste), files.py (XLSX and charts).
Headers are Vietnamese: the sheets go straight into the centre's report.
"""

from bot.reports.figures import Report, Table, build_report
from bot.reports.files import write_charts, write_xlsx
from bot.reports.periods import (
    Period,
    last_closed_month,
    last_closed_week,
    month_starting,
    parse_period,
    week_ending,
)
from bot.reports.summary import summary_text

__all__ = [
    "Period",
    "Report",
    "Table",
    "build_report",
    "last_closed_month",
    "last_closed_week",
    "month_starting",
    "parse_period",
    "summary_text",
    "week_ending",
    "write_charts",
    "write_xlsx",
]
