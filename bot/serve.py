"""`troly serve`: one process, or several sharing the port (SO_REUSEPORT) on PostgreSQL.

Everything that runs in the background is safe across processes: the webhook inbox claims each
event in the database, the campaign worker's rows are claimed before they are sent, OAuth tokens are
refreshed under a database lock, and rate limits share Redis when REDIS_URL is set. Polling a
platform is the exception: a platform gives its updates to one poller only.
"""

import logging
import multiprocessing
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from aiohttp import web

from bot.app import build_engine, create_app
from bot.channels.base import ChannelSetupError, get_channel
from bot.library import Library
from bot.settings import Settings

log = logging.getLogger(__name__)


class ServeError(Exception):
    """A set-up that cannot serve; the message says what to change."""


def make_app(settings: Settings, library: Library, polling: Sequence[str]) -> web.Application:
    from bot.campaigns import worker

    application = create_app(settings, build_engine(settings, library))
    worker.setup(application)  # campaigns scheduled in the console or the staff group go out
    for name in polling:
        channel = get_channel(name)
        if channel is None or not channel.configured(settings):
            raise ServeError(f"--poll {name} needs that channel's settings (see the README)")
        channel.enable_polling(application)
    return application


def serve(
    settings: Settings, library: Library, host: str, port: int, polling: Sequence[str], workers: int
) -> None:
    if workers > 1 and polling:
        raise ServeError("a platform gives its updates to one poller: poll with --workers 1")
    if workers > 1 and settings.database_url.startswith("sqlite"):
        log.warning("%d workers on one SQLite file take turns to write: use PostgreSQL", workers)
    if workers == 1:
        web.run_app(make_app(settings, library, polling), host=host, port=port)
        return
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(settings, host, port), name=f"worker-{n}")
        for n in range(1, workers + 1)
    ]
    for process in processes:
        process.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: aiohttp finishes its requests and cleans up

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
    failed = [p.name for p in processes if p.exitcode not in (0, -signal.SIGTERM)]
    if failed:
        raise ServeError(f"{', '.join(failed)} stopped with an error: see the log above")


def _worker(settings: Settings, host: str, port: int) -> None:
    from bot.library import load_library
    from bot.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format, settings.pseudonym_key)
    library = load_library(settings.content_dir)  # checked by the parent already
    try:
        web.run_app(make_app(settings, library, ()), host=host, port=port, reuse_port=True)
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", host, port, error)
        sys.exit(1)
    except ChannelSetupError as error:
        log.error("%s", error)
        sys.exit(1)
