"""/staff/reports: the weekly or monthly report (the same as `troly report`): its figures with
the previous period beside them, the charts, the summary to paste, and the XLSX to download."""

import asyncio
import base64
import tempfile
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.app import DATABASE, SETTINGS
from bot.console.pages import db, engine_of
from bot.console.security import STAFF_ROLES, me, now, require
from bot.reports import (
    Period,
    Report,
    build_report,
    month_starting,
    parse_period,
    week_ending,
    write_charts,
    write_xlsx,
)
from bot.reports.figures import TARGETS_SHEET
from bot.reports.summary import FIGURE_NAMES
from bot.settings import Settings
from storage.audit import audit

KINDS = {"week": "Tuần", "month": "Tháng"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_SECONDS = 120  # how long a built report is reused by the pages of this worker
CACHED = 8
CHART_NAMES = ("Lượt hỗ trợ theo ngày", "Lượt hỗ trợ theo chủ đề")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/reports", reports_page)
    router.add_get("/reports/xlsx", download_xlsx)


@dataclass(frozen=True)
class Compared:
    """One figure of the report next to the previous period's."""

    key: str
    name: str
    value: Any
    before: Any
    arrow: str  # "up", "down", "same" or "" when either side has no number


def previous(period: Period, settings: Settings) -> Period:
    """The period just before: the week before, or the month before."""
    if period.kind == "week":
        return week_ending(closing_day(period) - timedelta(days=7), settings)
    first = period.first_day
    year, month = (first.year - 1, 12) if first.month == 1 else (first.year, first.month - 1)
    return month_starting(year, month, settings)


def closing_day(period: Period) -> date:
    return period.end.astimezone(period.zone).date()


def week_value(period: Period) -> str:
    """'2026-W47': what `<input type="week">` and `--period` take."""
    year, week, _ = closing_day(period).isocalendar()
    return f"{year}-W{week:02d}"


def period_value(period: Period) -> str:
    return week_value(period) if period.kind == "week" else f"{period.first_day:%Y-%m}"


def compare(report: Report, before: Report) -> list[Compared]:
    rows = []
    for key, name in FIGURE_NAMES.items():
        value, old = report.figures.get(key), before.figures.get(key)
        arrow = ""
        if isinstance(value, int | float) and isinstance(old, int | float):
            arrow = "up" if value > old else "down" if value < old else "same"
        rows.append(Compared(key, name, value, old, arrow))
    return rows


def _chosen(request: web.Request) -> tuple[Period, str]:
    """The period asked for in the query (?kind=week|month&period=...), else the last closed
    month; a period that cannot be read falls back to the last closed one, with a word."""
    settings = request.config_dict[SETTINGS]
    kind = request.query.get("kind", "month")
    if kind not in KINDS:
        kind = "month"
    text = request.query.get("period", "").strip()[:20] or None
    try:
        return parse_period(kind, text, now(), settings), ""
    except ValueError:
        return parse_period(kind, None, now(), settings), "bad-period"


async def _build(request: web.Request, period: Period) -> Report:
    """The report of a period, shared by this worker's pages for a few minutes: a month of a
    large commune takes a second or two to count, and the page needs two periods."""

    library = engine_of(request).library

    async def build() -> Report:
        async with db(request) as session:
            return await build_report(session, period, library)

    # The targets in the key: a report built before an admin changed them is not reused.
    targets = sorted((library.profile.get("targets") or {}).items())
    key = f"report:{period.kind}:{period.start.isoformat()}:{targets}"
    return await _cached(request, key, build)


# Built reports and charts per database (so two apps in one process never share them), at most
# CACHED of them, each for REPORT_SECONDS: a few months of a large commune, not every one asked.
_CACHES: "weakref.WeakKeyDictionary[Any, OrderedDict[str, tuple[float, Any]]]" = (
    weakref.WeakKeyDictionary()
)


async def _cached(request: web.Request, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
    cache = _CACHES.setdefault(request.config_dict[DATABASE], OrderedDict())
    found = cache.get(key)
    if found and time.monotonic() - found[0] < REPORT_SECONDS:
        cache.move_to_end(key)
        return found[1]
    value = await compute()
    cache[key] = (time.monotonic(), value)
    cache.move_to_end(key)
    while len(cache) > CACHED:
        cache.popitem(last=False)
    return value


def _chart_images(report: Report) -> list[str]:
    """The PNGs of `troly report --charts`, as data: URLs (allowed by the console's CSP)."""
    with tempfile.TemporaryDirectory(prefix="troly-charts-") as folder:
        return [
            "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
            for path in write_charts(report, Path(folder))
        ]


@require(*STAFF_ROLES)
async def reports_page(request: web.Request) -> web.Response:
    period, problem = _chosen(request)
    report = await _build(request, period)
    # The charts are drawn in a thread while the previous period is counted.
    charts_task = asyncio.ensure_future(_cached(
        request,
        f"charts:{period.kind}:{period.start.isoformat()}",
        lambda: asyncio.to_thread(_chart_images, report),
    ))  # fmt: skip
    try:
        before = await _build(request, previous(period, request.config_dict[SETTINGS]))
    finally:
        charts = await charts_task
    context = {
        "period": period,
        "report": report,
        "before": before,
        "rows": compare(report, before),
        "targets_sheet": TARGETS_SHEET,  # shown in its own section above the tables
        "charts": list(zip(CHART_NAMES, charts, strict=True)),
        "kinds": KINDS,
        "problem": problem,
        "week_value": week_value(period) if period.kind == "week" else "",
        "month_value": f"{period.first_day:%Y-%m}" if period.kind == "month" else "",
        "query": f"kind={period.kind}&period={period_value(period)}",
    }
    return aiohttp_jinja2.render_template("reports.html", request, context)


@require(*STAFF_ROLES)
async def download_xlsx(request: web.Request) -> web.Response:
    period, _ = _chosen(request)
    report = await _build(request, period)

    def workbook() -> bytes:
        with tempfile.TemporaryDirectory(prefix="troly-xlsx-") as folder:
            return write_xlsx(report, Path(folder) / "bao-cao.xlsx").read_bytes()

    body = await asyncio.to_thread(workbook)
    who = me(request)
    async with db(request) as session, session.begin():
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="export", target=f"report:{period.kind}:{period.first_day}",
                    detail=period.label)  # fmt: skip
    name = f"bao-cao-{'tuan' if period.kind == 'week' else 'thang'}-{period.first_day}.xlsx"
    return web.Response(
        body=body,
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
