"""/staff/surveys: the surveys, their rounds opened and closed here, and a round's results
(the text to paste into a report, the tables, the XLSX), as `troly survey` gives them."""

import asyncio
import tempfile
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db, engine_of, see_other
from bot.console.security import STAFF_ROLES, me, now, require
from bot.surveys.definitions import Survey, load_surveys
from bot.surveys.export import summary_text, tables, write_xlsx
from bot.surveys.results import round_results
from storage.audit import audit
from storage.surveys import RoundError, close_round, open_round, open_round_of, rounds

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/surveys", surveys_page)
    router.add_get("/surveys/{survey}", results_page)
    router.add_get("/surveys/{survey}/{number}.xlsx", results_xlsx)
    router.add_post("/surveys/{survey}/open", open_page)
    router.add_post("/surveys/{survey}/close", close_page)


def _surveys(request: web.Request) -> dict[str, Survey]:
    engine = engine_of(request)
    return load_surveys(engine.settings.content_dir, engine.library.profile)


def _survey(request: web.Request) -> Survey:
    found = _surveys(request).get(request.match_info["survey"])
    if found is None:
        raise web.HTTPNotFound()
    return found


@require(*STAFF_ROLES)
async def surveys_page(request: web.Request) -> web.Response:
    listed = []
    async with db(request) as session:
        for survey in _surveys(request).values():
            listed.append((survey, await open_round_of(session, survey.id)))
    return aiohttp_jinja2.render_template("surveys.html", request, {"surveys": listed})


async def _results(request: web.Request, survey: Survey, number: str | None):
    async with db(request) as session:
        known = await rounds(session, survey.id)
        chosen = next((r for r in known if str(r.number) == number), known[-1] if known else None)
        if chosen is None:
            return known, None
        return known, await round_results(session, survey, chosen)


@require(*STAFF_ROLES)
async def results_page(request: web.Request) -> web.Response:
    survey = _survey(request)
    known, results = await _results(request, survey, request.query.get("round"))
    context = {
        "survey": survey,
        "rounds": known,
        "results": results,
        "summary": summary_text(results) if results else "",
        "tables": tables(results) if results else [],
    }
    return aiohttp_jinja2.render_template("survey_results.html", request, context)


@require(*STAFF_ROLES)
async def results_xlsx(request: web.Request) -> web.Response:
    survey = _survey(request)
    number = request.match_info["number"]
    _, results = await _results(request, survey, number)
    if results is None or str(results.number) != number:
        raise web.HTTPNotFound()  # not the latest round instead: the link names a round

    def workbook() -> bytes:
        # Written in a folder removed at once: every download used to leave its own behind.
        with tempfile.TemporaryDirectory(prefix="troly-survey-") as folder:
            return write_xlsx(results, Path(folder) / "ket-qua.xlsx").read_bytes()

    body = await asyncio.to_thread(workbook)
    async with db(request) as session, session.begin():
        await audit(session, now=now(), account_id=me(request).account_id, actor=me(request).name,
                    action="export", target=f"survey:{survey.id}:{results.number}")  # fmt: skip
    name = f"khao-sat-{survey.id}-dot-{results.number}.xlsx"
    return web.Response(
        body=body,
        content_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _change_round(request: web.Request, opening: bool) -> web.Response:
    survey = _survey(request)
    try:
        async with db(request) as session, session.begin():
            if opening:
                await open_round(session, survey.id, survey.title, now())
            else:
                await close_round(session, survey.id, now())
            who = me(request)
            await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                        action="survey", target=f"survey:{survey.id}",
                        detail="open" if opening else "close")  # fmt: skip
    except RoundError:
        pass  # opened or closed meanwhile by somebody else: the page shows how it is now
    return see_other(f"/staff/surveys/{survey.id}")


@require(*STAFF_ROLES)
async def open_page(request: web.Request) -> web.Response:
    return await _change_round(request, opening=True)


@require(*STAFF_ROLES)
async def close_page(request: web.Request) -> web.Response:
    return await _change_round(request, opening=False)
