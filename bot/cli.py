"""The `troly` command line (also `python -m bot`)."""

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import get_settings

app = typer.Typer(help="TroLy: trợ lý của Trung tâm Phục vụ hành chính công.", no_args_is_help=True)
content_app = typer.Typer(help="The content library: check, stats, show.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")
telegram_app = typer.Typer(help="The Telegram bot: webhook and command menu.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


def _setup_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _library():
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


def main() -> None:
    app()
