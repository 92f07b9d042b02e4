"""`troly poster ...`: printable posters from the command line (the designs live in designs.py)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import load_library_or_exit

poster_app = typer.Typer(
    help="Printable QR posters: .pdf (vector A4) or .png (300 dpi A4).", no_args_is_help=True
)
PROCEDURES_REJECTED = 3  # exit code: the sheet was written, but some CSV rows were not on it


def _save_poster(document, out: Path) -> None:
    from bot.posters import MissingGlyphs, save

    try:
        paths = save(document, out)
    except (MissingGlyphs, ValueError) as error:
        typer.echo(f"Poster not written: {error}", err=True)
        raise typer.Exit(1) from error
    for note in document.notes:
        typer.echo(f"{document.name}: {note}", err=True)
    typer.echo("Written: " + ", ".join(str(p) for p in paths))


@poster_app.command("counter")
def poster_counter(
    out: Annotated[Path, typer.Option("--out", help="Output file, .pdf or .png.")],
) -> None:
    """The counter poster: every channel's QR code, hotline, opening hours."""
    from bot.posters import counter_poster

    _save_poster(counter_poster(load_library_or_exit()), out)


@poster_app.command("guide")
def poster_guide(
    guide_id: Annotated[str, typer.Argument(help="Guide id (vneid-cai-dat) or code (#11).")],
    out: Annotated[Path, typer.Option("--out", help="Output file, .pdf or .png.")],
    large: Annotated[bool, typer.Option("--large", help="Large print: 18 pt and up.")] = False,
) -> None:
    """One guide: title, short steps, a QR code that opens it in the bot, the hotline."""
    from bot.posters import find_guide, guide_poster

    library = load_library_or_exit()
    guide = find_guide(library, guide_id)
    if guide is None:
        typer.echo(f"No guide with id or code '{guide_id}'.", err=True)
        raise typer.Exit(1)
    _save_poster(guide_poster(library, guide, large=large), out)


@poster_app.command("survey")
def poster_survey(
    survey_id: Annotated[str, typer.Argument(help="Survey id, e.g. ky-nang-so.")],
    out: Annotated[Path, typer.Option("--out", help="Output file, .pdf or .png.")],
) -> None:
    """A survey's poster for the counter or a door-to-door visit: QR codes that open it."""
    from bot.posters import survey_poster
    from bot.settings import get_settings
    from bot.surveys.definitions import load_surveys

    library = load_library_or_exit()
    survey = load_surveys(get_settings().content_dir, library.profile).get(survey_id)
    if survey is None:
        typer.echo(f"No survey '{survey_id}' in content/surveys.", err=True)
        raise typer.Exit(1)
    _save_poster(survey_poster(library, survey), out)


@poster_app.command("all")
def poster_all(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    fmt: Annotated[str, typer.Option("--format", help="pdf or png.")] = "pdf",
) -> None:
    """The counter poster and one poster per guide; shortened or failed ones are listed."""
    from bot.posters import FORMATS, write_all

    if fmt not in FORMATS:
        typer.echo(f"--format must be one of: {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    library = load_library_or_exit()
    results = []
    with typer.progressbar(
        write_all(library, out, fmt),
        length=len(library.guides) + 1,
        label="Posters",
        file=sys.stderr,
    ) as progress:
        results.extend(progress)
    failed = [r for r in results if r.error]
    for result in results:
        for note in result.notes:
            typer.echo(f"{result.name}: {note}", err=True)
        if result.error:
            typer.echo(f"{result.name}: NOT WRITTEN: {result.error}", err=True)
    shortened = sum(1 for r in results if r.notes)
    typer.echo(
        f"{len(results) - len(failed)} posters written to {out} "
        f"({shortened} shortened, {len(failed)} failed)."
    )
    if failed:
        raise typer.Exit(1)


@poster_app.command("procedures")
def poster_procedures(
    csv_file: Annotated[Path, typer.Argument(help="CSV: name, code, url[, note].")],
    out: Annotated[Path, typer.Option("--out", help="Output file, .pdf or .png.")],
) -> None:
    """The notice-board sheet: a row and QR code per procedure; exit 3 if rows were rejected."""
    from datetime import date

    from bot.posters import ProcedureFileError, procedure_sheet, read_procedures

    try:
        procedures, rejected = read_procedures(csv_file)
    except (OSError, ProcedureFileError) as error:
        typer.echo(f"Cannot read {csv_file}: {error}", err=True)
        raise typer.Exit(1) from error
    for row in rejected:
        typer.echo(f"{csv_file}:{row.line}: rejected: {row.reason}", err=True)
    if not procedures:
        typer.echo("No usable procedure in the file: nothing written.", err=True)
        raise typer.Exit(1)
    _save_poster(procedure_sheet(load_library_or_exit(), procedures, date.today()), out)
    typer.echo(f"{len(procedures)} procedures on the sheet, {len(rejected)} rejected.")
    if rejected:
        raise typer.Exit(PROCEDURES_REJECTED)


def register(app: typer.Typer) -> None:
    app.add_typer(poster_app, name="poster")
