"""The campaign worker inside `troly serve`: sends campaigns whose time has come, and carries on
any that a crash or a restart left half-sent.

Every worker process runs one. They share campaigns safely because nothing here decides who
sends what: starting a campaign is one conditional UPDATE (draft/scheduled -> sending) and each
outbox row is claimed atomically before it is sent (storage/outbox.py: FOR UPDATE SKIP LOCKED
on PostgreSQL, BEGIN IMMEDIATE on SQLite), so two workers never claim the same row.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.campaigns.control import reply_windows, run_due
from bot.delivery import Sender

log = logging.getLogger(__name__)

# The worker's clock: tests put a fake one here to fire a scheduled campaign without waiting.
CLOCK = web.AppKey("campaign_clock", Callable)  # type: ignore[type-abstract]
WAKE = web.AppKey("campaign_wake", asyncio.Event)


def _now() -> datetime:
    return datetime.now(UTC)


def campaign_senders(app: web.Application) -> dict[str, Sender]:
    """The app's senders of channels that take campaigns (the web chat does not)."""
    from bot.app import SENDERS

    sendable = reply_windows()
    return {name: sender for name, sender in app[SENDERS].items() if name in sendable}


def wake(config: Mapping[Any, Any]) -> None:
    """Look for due campaigns now rather than at the next tick ('send now' in the console);
    `config` is the app or a request's config_dict."""
    event = config.get(WAKE)
    if event is not None:
        event.set()


async def run_worker(app: web.Application) -> None:
    from bot.app import DATABASE, ENGINE, SETTINGS

    settings = app[SETTINGS]
    event = app[WAKE]
    while True:
        clock = app.get(CLOCK, _now)
        senders = campaign_senders(app)
        try:
            # No channel configured: a due campaign waits rather than 'finish' with nobody.
            if senders:
                library = app[ENGINE].library  # the profile saved in the console, at once
                await run_due(app[DATABASE], library, senders, settings=settings, clock=clock)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database or a platform is down: the outbox keeps every row; try again later.
            log.exception("campaign worker: sending due campaigns failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), settings.campaign_worker_seconds)
        event.clear()


def setup(app: web.Application) -> None:
    """Run the worker for the app's lifetime (cancelled on shutdown: rows in flight become
    'uncertain' at the next start, never resent)."""

    app[WAKE] = asyncio.Event()

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run_worker(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(lifetime)
