"""The `troly` command line (also `python -m bot`)."""

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.campaigns.cli import register as register_campaign_commands
from bot.console.cli import register as register_console_commands
from bot.settings import get_settings
from bot.support_cli import register as register_support_commands

if TYPE_CHECKING:
    from bot.library import Library

app = typer.Typer(help="TroLy: trợ lý của Trung tâm Phục vụ hành chính công.", no_args_is_help=True)
content_app = typer.Typer(help="The content library: check, stats, show.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")
telegram_app = typer.Typer(help="The Telegram bot: webhook and command menu.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")
register_support_commands(app)  # tickets, staff, volunteer, log-support, report, privacy
register_campaign_commands(app)  # campaign ..., volunteer links
register_console_commands(app)  # staff password, staff disable (console logins)
zalo_app = typer.Typer(help="Zalo: OA authorisation, Bot Platform webhook.", no_args_is_help=True)
app.add_typer(zalo_app, name="zalo")


def _setup_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _library() -> "Library":
    """The library, or a clear message and exit 1: the bot never serves a broken library."""
    from bot.library import ContentError, load_library

    try:
        return load_library(get_settings().content_dir)
    except ContentError as error:
        typer.echo(
            f"The content library has problems (run `troly content check`):\n{error}", err=True
        )
        raise typer.Exit(1) from error


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    telegram_polling: Annotated[
        bool, typer.Option(help="Fetch Telegram updates (no public HTTPS address needed).")
    ] = False,
    zalo_bot_polling: Annotated[
        bool, typer.Option(help="Fetch Zalo Bot Platform updates instead of its webhook.")
    ] = False,
) -> None:
    """Run the bot: web chat, health check and every configured channel."""
    from aiohttp import web

    from bot.app import build_engine, create_app
    from storage.db import upgrade

    _setup_logging()
    settings = get_settings()
    upgrade(settings.database_url)
    if telegram_polling and not settings.telegram_token:
        typer.echo("--telegram-polling needs TELEGRAM_TOKEN.", err=True)
        raise typer.Exit(1)
    application = create_app(settings, build_engine(settings, _library()))
    if telegram_polling:
        from bot.channels.telegram import enable_polling

        enable_polling(application)
    if zalo_bot_polling:
        if not settings.zalo_bot_token:
            typer.echo("--zalo-bot-polling needs ZALO_BOT_TOKEN.", err=True)
            raise typer.Exit(1)
        from bot.channels.zalo_bot import enable_polling as enable_zalo_bot_polling

        enable_zalo_bot_polling(application)
    web.run_app(application, host=host or settings.host, port=port or settings.port)


@app.command()
def chat(
    as_chat: Annotated[str, typer.Option("--as", help="Conversation id to use.")] = "console",
) -> None:
    """Talk to the bot in the terminal: one message per line, type a number to press a button."""
    from bot.app import build_engine
    from bot.channels.console import chat as run_chat
    from storage.db import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    run_chat(build_engine(settings, _library()), as_chat)


@app.command()
def ask(
    query: Annotated[
        str | None, typer.Argument(help="The question, as a citizen would type it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read queries from stdin, one per line.")
    ] = False,
) -> None:
    """Show which guide a question finds, without touching the database."""
    from bot.matcher import Matcher

    matcher = Matcher.for_library(_library())
    queries = (line.rstrip("\n") for line in sys.stdin) if jsonl else [query or ""]
    for text in queries:
        result = matcher.match(text)
        found = {
            "query": text,
            "outcome": result.outcome,
            "results": [
                {"id": m.guide.id, "title": m.guide.title, "score": round(m.score, 3)}
                for m in result.matches
            ],
        }
        if as_json or jsonl:
            typer.echo(json.dumps(found, ensure_ascii=False))
        else:
            typer.echo(
                f"{result.outcome}: "
                + ", ".join(f"{m['id']} ({m['score']})" for m in found["results"])
                if found["results"]
                else "unknown"
            )


@content_app.command("check")
def content_check(
    path: Annotated[
        Path | None, typer.Argument(help="Library folder (default CONTENT_DIR).")
    ] = None,
) -> None:
    """Validate the whole library; exit 1 with file:line messages if anything is wrong."""
    from bot.library import read_library

    library, problems = read_library(path or get_settings().content_dir)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"OK: {len(library.guides)} guides, {len(library.alerts)} alerts, "
        f"{len(library.topics)} topics."
    )


@content_app.command("stats")
def content_stats() -> None:
    """Guides per topic, the longest step, and guides with fewer than 8 sample questions."""
    library = _library()
    for topic in library.topics.values():
        typer.echo(f"{topic.id:<12} {len(library.guides_in(topic.id)):>3} guides  {topic.title}")
    steps = [
        (len(s.body), g.id, i) for g in library.guides.values() for i, s in enumerate(g.steps, 1)
    ]
    if steps:
        length, guide_id, number = max(steps)
        typer.echo(f"Longest step: {guide_id} step {number}, {length} characters")
    few = sorted(g.id for g in library.guides.values() if len(g.questions) < 8)
    typer.echo("Fewer than 8 sample questions: " + (", ".join(few) if few else "none"))


@content_app.command("show")
def content_show(
    guide_id: Annotated[str, typer.Argument(help="Guide id, e.g. vneid-cai-dat.")],
    large: Annotated[bool, typer.Option("--large", help="Plain large-print text.")] = False,
) -> None:
    """Print a guide; with --large, plain numbered text for the large-print leaflet."""
    from bot.large_print import large_print

    library = _library()
    guide = library.guides.get(guide_id)
    if guide is None:
        typer.echo(f"No guide with id '{guide_id}'.", err=True)
        raise typer.Exit(1)
    if large:
        typer.echo(large_print(guide, library))
        return
    typer.echo(f"#{guide.code} {guide.title}\n{guide.summary}\n")
    for number, step in enumerate(guide.steps, 1):
        typer.echo(f"## {number}. {step.title}\n{step.body}\n")
    typer.echo(f"Nguồn: {guide.source} (cập nhật {guide.updated:%d/%m/%Y})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to DATABASE_URL."""
    from storage.db import upgrade

    upgrade(get_settings().database_url)
    typer.echo("Database is up to date.")


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register TELEGRAM_WEBHOOK_URL (with the secret) and the Vietnamese command menu."""
    import asyncio

    from telegram.error import TelegramError

    from bot.channels.telegram.admin import set_webhook

    settings = get_settings()
    if not settings.telegram_token or not settings.telegram_webhook_url:
        typer.echo("Set TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_URL first.", err=True)
        raise typer.Exit(1)
    try:
        url = asyncio.run(set_webhook(settings, _library()))
    except TelegramError as error:
        typer.echo(f"Telegram refused: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Webhook set: {url} (commands: /start /menu /help /canbo)")


poster_app = typer.Typer(
    help="Printable QR posters: .pdf (vector A4) or .png (300 dpi A4).", no_args_is_help=True
)
app.add_typer(poster_app, name="poster")
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
    """The counter poster: Zalo and Telegram QR codes, hotline, opening hours."""
    from bot.posters import counter_poster

    _save_poster(counter_poster(_library()), out)


@poster_app.command("guide")
def poster_guide(
    guide_id: Annotated[str, typer.Argument(help="Guide id (vneid-cai-dat) or code (#11).")],
    out: Annotated[Path, typer.Option("--out", help="Output file, .pdf or .png.")],
    large: Annotated[bool, typer.Option("--large", help="Large print: 18 pt and up.")] = False,
) -> None:
    """One guide: title, short steps, a QR code that opens it in the bot, the hotline."""
    from bot.posters import find_guide, guide_poster

    library = _library()
    guide = find_guide(library, guide_id)
    if guide is None:
        typer.echo(f"No guide with id or code '{guide_id}'.", err=True)
        raise typer.Exit(1)
    _save_poster(guide_poster(library, guide, large=large), out)


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
    library = _library()
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
    _save_poster(procedure_sheet(_library(), procedures, date.today()), out)
    typer.echo(f"{len(procedures)} procedures on the sheet, {len(rejected)} rejected.")
    if rejected:
        raise typer.Exit(PROCEDURES_REJECTED)


@zalo_app.command("login")
def zalo_login(
    redirect_uri: Annotated[
        str | None,
        typer.Option(help="The app's callback URL, exactly as registered on developers.zalo.me."),
    ] = None,
    refresh_token: Annotated[
        str | None,
        typer.Option(help="Store this refresh token (e.g. from the OA's API explorer) instead."),
    ] = None,
) -> None:
    """Authorise the app on the OA once: open the permission page, paste the code back."""
    import asyncio
    from urllib.parse import parse_qs, urlparse

    from bot.channels.zalo_oa import Pkce, login_with_code, login_with_refresh_token, permission_url
    from bot.delivery import DeliveryError
    from storage.db import Database, upgrade

    settings = get_settings()
    if not (settings.zalo_app_id and settings.zalo_app_secret):
        typer.echo("Set ZALO_APP_ID and ZALO_APP_SECRET first.", err=True)
        raise typer.Exit(1)
    upgrade(settings.database_url)

    async def store(action) -> object:
        database = Database(settings.database_url)
        try:
            return await action(database)
        finally:
            await database.close()

    if refresh_token:
        try:
            asyncio.run(store(lambda db: login_with_refresh_token(settings, db, refresh_token)))
        except DeliveryError as error:
            typer.echo(f"Zalo refused the refresh token: {error}", err=True)
            raise typer.Exit(1) from error
        typer.echo("Refresh token accepted; the new token pair is stored.")
        return
    if not redirect_uri:
        redirect_uri = typer.prompt("Callback URL registered for the app")
    pkce = Pkce.new()
    typer.echo("1. Log in to Zalo as an administrator of the OA and open this page:")
    typer.echo(permission_url(settings, redirect_uri, pkce))
    typer.echo("2. Allow the permissions. Zalo sends the browser to the callback URL.")
    answer = typer.prompt("3. Paste that whole address (or just its code)").strip()
    query = parse_qs(urlparse(answer).query)
    code = query.get("code", [answer])[0]
    if query.get("state") and query["state"][0] != pkce.state:
        typer.echo("That address belongs to another login attempt; start again.", err=True)
        raise typer.Exit(1)
    try:
        pair = asyncio.run(store(lambda db: login_with_code(settings, db, code, pkce)))
    except Exception as error:
        typer.echo(f"Zalo refused the code: {error}", err=True)
        raise typer.Exit(1) from error
    until = f"{pair.access_expires_at:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"Done: tokens stored; access token valid until {until}.")


@zalo_app.command("bot-webhook")
def zalo_bot_webhook(
    url: Annotated[str, typer.Argument(help="Public HTTPS URL ending in /webhook/zalo_bot.")],
) -> None:
    """Register the Zalo Bot Platform webhook (with the secret the bot checks)."""
    import asyncio

    from bot.channels.zalo_bot import set_webhook
    from bot.delivery import DeliveryError

    settings = get_settings()
    if not settings.zalo_bot_token:
        typer.echo("Set ZALO_BOT_TOKEN first.", err=True)
        raise typer.Exit(1)
    try:
        asyncio.run(set_webhook(settings, url))
    except DeliveryError as error:
        typer.echo(f"Zalo refused: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Webhook set: {url}")


def main() -> None:
    app()
