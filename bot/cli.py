"""The `troly` command line (also `python -m bot`)."""

import json
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.campaigns.cli import register as register_campaign_commands
from bot.campaigns.volunteer_cli import register as register_volunteer_link_commands
from bot.channels.cli import register as register_channel_commands
from bot.cli_common import check_database_url_or_exit, load_library_or_exit
from bot.console.cli import register as register_console_commands
from bot.ops_cli import register as register_ops_commands
from bot.posters.cli import register as register_poster_commands
from bot.settings import get_settings
from bot.support_cli import register as register_support_commands
from bot.surveys.cli import register as register_survey_commands

if TYPE_CHECKING:
    from bot.library import Library

app = typer.Typer(help="TroLy: trợ lý của Trung tâm Phục vụ hành chính công.", no_args_is_help=True)
content_app = typer.Typer(help="The content library: check, stats, show.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")
register_support_commands(app)  # tickets, staff, volunteer, log-support, report, privacy
register_campaign_commands(app)  # campaign ...
register_volunteer_link_commands(app)  # volunteer links
register_ops_commands(app, db_app)  # doctor, backup, restore, db copy
register_channel_commands(app)  # troly <channel> ...: each channel's own verbs
register_survey_commands(app)  # survey list|open|close|status|results
register_poster_commands(app)  # poster counter|guide|all|procedures
register_console_commands(app)  # staff password, staff disable (console logins)


def _setup_logging() -> None:
    from bot.logs import setup_logging

    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format, settings.pseudonym_key)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes sharing the port (use PostgreSQL).")
    ] = 1,
    poll: Annotated[
        list[str] | None,
        typer.Option(
            "--poll",
            help="Fetch this channel's updates itself: no public HTTPS needed (repeatable).",
        ),
    ] = None,
) -> None:
    """Run the bot: web chat, health check and every configured channel."""
    from bot.channels.base import ChannelSetupError
    from bot.serve import ServeError
    from bot.serve import serve as run
    from storage.db import upgrade

    _setup_logging()
    settings = get_settings()
    library = load_library_or_exit()
    check_database_url_or_exit(settings.database_url)
    upgrade(settings.database_url)
    polling = list(poll or [])
    where = f"{host or settings.host}:{port or settings.port}"
    try:
        run(settings, library, host or settings.host, port or settings.port, polling, workers)
    except (ServeError, ChannelSetupError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    except OSError as error:  # the port is taken, or the address is not this machine's
        reason = error.strerror or error
        typer.echo(
            f"Cannot listen on {where}: {reason}. Set HOST/PORT or stop the other server.", err=True
        )
        raise typer.Exit(1) from error


@app.command()
def chat(
    as_chat: Annotated[str, typer.Option("--as", help="Conversation id to use.")] = "console",
) -> None:
    """Talk to the bot in the terminal: one message per line, type a number to press a button."""
    from bot.app import build_engine
    from bot.channels.console import chat as run_chat
    from storage.db import upgrade

    settings = get_settings()
    check_database_url_or_exit(settings.database_url)
    upgrade(settings.database_url)
    run_chat(build_engine(settings, load_library_or_exit()), as_chat)


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

    matcher = Matcher.for_library(load_library_or_exit())
    queries = (line.rstrip("\n") for line in sys.stdin) if jsonl else [query or ""]
    for text in queries:
        result = matcher.match(text)
        found = result.as_json()
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

    settings = get_settings()
    library, problems = read_library(
        path or settings.content_dir, review_months=settings.content_review_months
    )
    for problem in [*problems, *library.warnings]:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"OK: {len(library.guides)} guides, {len(library.alerts)} alerts, "
        f"{len(library.topics)} topics, {len(library.asked)} questions asked."
    )


@content_app.command("stats")
def content_stats() -> None:
    """Guides per topic, the longest step, and guides with fewer than 8 sample questions."""
    library = load_library_or_exit()
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
    _echo_guides_by_age(library)


def _echo_guides_by_age(library: "Library") -> None:
    """Oldest check first: the content team's review list (never checked ones at the top)."""
    from datetime import date

    from bot.library import months_before

    today = date.today()
    due = months_before(today, get_settings().content_review_months)
    typer.echo("Guides by last check (oldest first):")
    for guide in sorted(library.guides.values(), key=lambda g: (g.checked or date.min, g.id)):
        if guide.checked is None:
            typer.echo(f"  never checked          {guide.id}")
            continue
        days = (today - guide.checked).days
        mark = "  due for review" if guide.checked < due else ""
        typer.echo(f"  {guide.checked:%Y-%m-%d} {days:>5} days  {guide.id}{mark}")


@content_app.command("show")
def content_show(
    guide_id: Annotated[str, typer.Argument(help="Guide id, e.g. vneid-cai-dat.")],
    large: Annotated[bool, typer.Option("--large", help="Plain large-print text.")] = False,
) -> None:
    """Print a guide; with --large, plain numbered text for the large-print leaflet."""
    from bot.large_print import large_print

    library = load_library_or_exit()
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
    typer.echo(f"Nguồn: {', '.join(guide.sources)} (cập nhật {guide.updated:%d/%m/%Y})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to DATABASE_URL."""
    from storage.db import upgrade

    check_database_url_or_exit(get_settings().database_url)
    upgrade(get_settings().database_url)
    typer.echo("Database is up to date.")


def _polling_flags(args: list[str]) -> list[str]:
    """`--<channel>-polling`, as earlier READMEs wrote it, means `--poll <channel>`."""
    found = (re.fullmatch(r"--([a-z][a-z-]*)-polling", arg) for arg in args)
    return [
        part
        for arg, match in zip(args, found, strict=True)
        for part in (("--poll", match.group(1).replace("-", "_")) if match else (arg,))
    ]


def main() -> None:
    """The console script: a person sees one line saying what is wrong, never a traceback."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    try:
        app(args=_polling_flags(sys.argv[1:]))
    except ValidationError as error:
        problem = error.errors()[0]
        setting = ".".join(str(part) for part in problem["loc"]).upper()
        message = problem["msg"].removeprefix("Value error, ")  # pydantic's wording, not ours
        typer.echo(f"Setting {setting} is invalid: {message}.", err=True)
        sys.exit(1)
    except (DBAPIError, ArgumentError, OSError) as error:
        logging.getLogger("troly").debug("database error", exc_info=True)
        from bot.doctor import safe_url

        reason = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
        try:
            url = safe_url(get_settings().database_url)
        except ValidationError:
            url = "?"
        typer.echo(
            f"Cannot use the database {url}: {reason}. Check DATABASE_URL and that the "
            "database server runs (`troly doctor` checks everything).",
            err=True,
        )
        sys.exit(1)
