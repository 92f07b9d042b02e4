"""`troly survey list|open|close|status|results`: rounds and results from the command line."""

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_common import in_one_transaction
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.surveys.definitions import Survey


survey_app = typer.Typer(
    help="Citizen surveys (content/surveys): rounds and results.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")


def _surveys(settings: Settings) -> "dict[str, Survey]":
    """Every survey of the library; a broken file ends the command with what to run."""
    from bot.content_files import ContentError
    from bot.library import load_library
    from bot.surveys.definitions import load_surveys

    try:
        library = load_library(settings.content_dir)
        return load_surveys(settings.content_dir, library.profile)
    except ContentError as error:
        typer.echo(
            f"The content library has problems (run `troly content check`):\n{error}", err=True
        )
        raise typer.Exit(1) from error


def _survey(settings: Settings, survey_id: str) -> "Survey":
    found = _surveys(settings)
    survey = found.get(survey_id) or next(
        (s for s in found.values() if f"ks{s.code}" == survey_id.lower().lstrip("#")), None
    )
    if survey is None:
        known = ", ".join(sorted(found)) or "none"
        typer.echo(f"No survey '{survey_id}'. Surveys: {known}.", err=True)
        raise typer.Exit(1)
    return survey


@survey_app.command("list")
def list_command() -> None:
    """Every survey in the library, with its code and whether a round is open."""
    from storage.surveys import open_round_of

    found = _surveys(get_settings())

    async def work(session: AsyncSession, _: Settings) -> list[str]:
        lines = []
        for survey in found.values():
            round_ = await open_round_of(session, survey.id)
            state = f"round {round_.number} open" if round_ else "closed"
            lines.append(f"{survey.id:<16} #KS{survey.code:<3} {state:<16} {survey.title}")
        return lines

    for line in in_one_transaction(work):
        typer.echo(line)


@survey_app.command("open")
def open_command(
    survey_id: Annotated[str, typer.Argument(help="Survey id, e.g. ky-nang-so.")],
) -> None:
    """Open a new round: citizens can answer from now on, once each."""
    from storage.surveys import RoundError, open_round

    survey = _survey(get_settings(), survey_id)

    async def work(session: AsyncSession, _: Settings) -> str:
        round_ = await open_round(session, survey.id, survey.title, datetime.now(UTC))
        return f"Round {round_.number} of '{survey.id}' is open. Citizens type #KS{survey.code}."

    try:
        typer.echo(in_one_transaction(work))
    except RoundError as error:
        typer.echo(f"{error}.", err=True)
        raise typer.Exit(1) from error


@survey_app.command("close")
def close_command(survey_id: Annotated[str, typer.Argument(help="Survey id.")]) -> None:
    """Close the open round: answers stop being taken; results stay."""
    from storage.surveys import RoundError, close_round

    survey = _survey(get_settings(), survey_id)

    async def work(session: AsyncSession, _: Settings) -> str:
        round_ = await close_round(session, survey.id, datetime.now(UTC))
        return f"Round {round_.number} of '{survey.id}' is closed."

    try:
        typer.echo(in_one_transaction(work))
    except RoundError as error:
        typer.echo(f"{error}.", err=True)
        raise typer.Exit(1) from error


@survey_app.command("status")
def status_command(survey_id: Annotated[str, typer.Argument(help="Survey id.")]) -> None:
    """Every round: when it opened and closed, responses and how many were finished."""
    from bot.surveys.results import round_results
    from storage.surveys import rounds

    survey = _survey(get_settings(), survey_id)

    async def work(session: AsyncSession, _: Settings) -> list[str]:
        lines = [f"{survey.title} ({survey.id}, #KS{survey.code})"]
        for round_ in await rounds(session, survey.id):
            found = await round_results(session, survey, round_, with_previous=False)
            closed = f"{round_.closed_at:%Y-%m-%d %H:%M}" if round_.closed_at else "open"
            lines.append(
                f"round {round_.number}: {round_.opened_at:%Y-%m-%d %H:%M} – {closed}, "
                f"{found.responses} responses, {found.finished} finished"
            )
        if len(lines) == 1:
            lines.append(f"no round yet: `troly survey open {survey.id}`")
        return lines

    for line in in_one_transaction(work):
        typer.echo(line)


@survey_app.command("results")
def results_command(
    survey_id: Annotated[str, typer.Argument(help="Survey id.")],
    round_number: Annotated[
        int | None, typer.Option("--round", help="Round number (default: the latest).")
    ] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Also write an XLSX workbook here.")] = None,
    charts: Annotated[Path | None, typer.Option(help="Also write PNG charts here.")] = None,
) -> None:
    """Print the results to paste into a report; optionally the XLSX and the charts."""
    from bot.surveys.export import summary_text, write_charts, write_xlsx
    from bot.surveys.results import RoundResults, round_results
    from storage.surveys import get_round, rounds

    survey = _survey(get_settings(), survey_id)

    async def work(session: AsyncSession, _: Settings) -> RoundResults | None:
        if round_number is not None:
            round_ = await get_round(session, survey.id, round_number)
        else:
            round_ = next(iter(reversed(await rounds(session, survey.id))), None)
        return await round_results(session, survey, round_) if round_ else None

    results = in_one_transaction(work)
    if results is None:
        typer.echo(f"No such round of '{survey.id}'.", err=True)
        raise typer.Exit(1)
    typer.echo(summary_text(results))
    if xlsx:
        typer.echo(f"Written: {write_xlsx(results, xlsx)}")
    if charts:
        for path in write_charts(results, charts):
            typer.echo(f"Written: {path}")
