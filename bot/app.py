"""The aiohttp application factory: web chat, channel webhooks and health, on one server."""

import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.channels.base import all_channels
from bot.console import setup_console
from bot.engine import DatabaseUnavailable, Engine
from bot.library import Library, load_library
from bot.reply_outbox import ReplyOutbox
from bot.settings import Settings
from bot.turn import load_features
from storage.db import Database

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
DATABASE = web.AppKey("database", Database)
# Senders of every configured channel, for messages that answer no incoming one.
SENDERS = web.AppKey("senders", dict)
# Citizens' replies a platform refused for a moment, sent again by a worker of this process.
REPLY_OUTBOX = web.AppKey("reply_outbox", ReplyOutbox)


def build_engine(settings: Settings, library: Library | None = None) -> Engine:
    load_features()  # the features register themselves on the router the engine runs
    library = library or load_library(settings.content_dir)
    return Engine(library, Database(settings.database_url), settings=settings)


def create_app(settings: Settings, engine: Engine | None = None) -> web.Application:
    """Every channel in the registry mounts itself here."""
    engine = engine or build_engine(settings)
    app = web.Application(client_max_size=256 * 1024, middlewares=[database_unavailable])
    app[SETTINGS] = settings
    app[ENGINE] = engine
    app[DATABASE] = engine.database
    # The engine sends on its own too (hand-offs, ticket notices): it shares the app's senders.
    engine.settings = settings
    app[SENDERS] = engine.senders
    app[REPLY_OUTBOX] = outbox = ReplyOutbox(engine.database, engine.senders)
    app.router.add_get("/healthz", healthz)
    for channel in all_channels():
        channel.setup(app)  # each decides from its own settings whether it runs

    async def run_outbox(app: web.Application) -> AsyncIterator[None]:
        await outbox.start()
        yield
        await outbox.stop()  # before the channels close their senders

    app.cleanup_ctx.append(run_outbox)
    setup_console(app)  # /staff/ console; the web chat's live staff answers

    async def close_database(app: web.Application) -> None:
        await app[DATABASE].close()

    app.on_cleanup.append(close_database)
    return app


@web.middleware
async def database_unavailable(request: web.Request, handler: Any) -> web.StreamResponse:
    """A webhook that could not keep its event asks the platform to deliver it again."""
    try:
        return await handler(request)
    except DatabaseUnavailable:
        return web.json_response(
            {"error": "database unavailable, deliver again"}, status=503,
            headers={"Retry-After": "5"},
        )  # fmt: skip


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[DATABASE].session() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    guides = len(request.app[ENGINE].library.guides)
    return web.json_response({"status": "ok", "guides": guides, "worker": os.getpid()})
