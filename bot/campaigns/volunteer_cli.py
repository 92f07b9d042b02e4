"""`troly volunteer links`: a volunteer's personal share links (and QR codes) from the shell."""

from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_common import in_one_transaction, load_library_or_exit
from bot.settings import Settings, get_settings


def register(app: typer.Typer) -> None:
    """Add `links` to the existing `troly volunteer`."""
    from bot.support_cli import volunteer_app

    volunteer_app.command("links")(volunteer_links)


def volunteer_links(
    code: Annotated[str, typer.Argument(help="Volunteer code, e.g. TV05.")],
    guide: Annotated[
        str | None, typer.Option(help="Only this guide (id or code); default every guide.")
    ] = None,
    qr: Annotated[
        Path | None, typer.Option(help="Also write a QR image per link into this folder.")
    ] = None,
    survey: Annotated[
        str | None, typer.Option(help="Links that open this survey instead (door to door).")
    ] = None,
) -> None:
    """A volunteer's personal links: open the guide and record the volunteer as the referral."""
    from bot.links import share_links
    from storage.reach import volunteer_by_code, volunteer_reach

    library = load_library_or_exit()

    async def work(session: Any, settings: Settings) -> tuple[Any, Any]:
        member = await volunteer_by_code(session, code)
        return member, await volunteer_reach(session, code)

    member, reached = in_one_transaction(work)
    if member is None:
        typer.echo(f"No volunteer with code {code}: add one with `troly volunteer add`.", err=True)
        raise typer.Exit(1)
    source = str(member.code)
    if survey:
        _survey_links(library, survey, source, qr)
        return
    guides = sorted(library.guides.values(), key=lambda g: g.code)
    if guide:
        wanted = guide.lstrip("#")
        guides = [g for g in guides if g.id == wanted or str(g.code) == wanted]
        if not guides:
            typer.echo(f"No guide '{guide}'.", err=True)
            raise typer.Exit(1)
    typer.echo(f"{member.name} ({source}): {reached.people} people reached, "
               f"{reached.guides_opened} guides opened")  # fmt: skip
    for each in [None, *guides] if not guide else guides:
        title = f"#{each.code} {each.title}" if each else "Trợ lý (menu)"
        typer.echo(f"\n{title}")
        _print_links(
            share_links(library, each, source), f"{source}-{each.id if each else 'bot'}", qr
        )


def _survey_links(library: Any, survey_id: str, source: str, qr: Path | None) -> None:
    from bot.surveys.definitions import load_surveys
    from bot.surveys.links import survey_links

    survey = load_surveys(get_settings().content_dir, library.profile).get(survey_id)
    if survey is None:
        typer.echo(f"No survey '{survey_id}' in content/surveys.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{survey.title}: links that record {source} as who brought the person")
    _print_links(survey_links(library, survey, source), f"{source}-{survey.id}", qr)


def _print_links(links: list[Any], name: str, qr: Path | None) -> None:
    """Each channel's link, what to type where a link carries no payload, and its QR image."""
    for link in links:
        typer.echo(f"  {link.channel:<9} {link.url}")
        if link.text_to_type:
            typer.echo(f"  {'':<9} then type: {link.text_to_type}")
        if qr is not None:
            path = qr / f"{name}-{link.channel}.png"
            _write_qr(link.url, path)
            typer.echo(f"  {'':<9} QR: {path}")


def _write_qr(url: str, path: Path) -> None:
    import qrcode

    path.parent.mkdir(parents=True, exist_ok=True)
    qrcode.make(url).save(path)
