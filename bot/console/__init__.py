"""The staff web console under /staff/: accounts, the hand-off inbox, tickets, the in-person
log, today's figures, citizen records and the audit log; plus the web chat's live answers.

`setup_console(app)` mounts it all on the main application.
"""

from pathlib import Path

from aiohttp import web

HERE = Path(__file__).resolve().parent


def setup_console(app: web.Application) -> None:
    import aiohttp_jinja2
    import jinja2

    from bot.console import live, pages, security, webchat
    from bot.console.filters import FILTERS

    console = web.Application(middlewares=[security.console_middleware])
    aiohttp_jinja2.setup(
        console,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        context_processors=[pages.context],
        filters=FILTERS,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    console.on_response_prepare.append(security.security_headers)
    console.router.add_static("/static/", HERE / "static", append_version=True)
    pages.add_routes(console)
    app.add_subapp("/staff/", console)
    live.setup(app)
    webchat.setup(app)
