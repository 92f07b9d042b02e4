"""/staff/settings (admins): the commune profile the bot uses, and a button that runs the checks
of `troly doctor` and shows their lines."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.channels.base import label_of
from bot.console.pages import engine_of
from bot.console.security import ADMIN, require
from bot.doctor import FAIL, WARN, run_checks
from bot.links import share_links

PROFILE_FIELDS = {
    "centre_name": "Tên Trung tâm",
    "commune_name": "Xã / phường",
    "address": "Địa chỉ",
    "hotline": "Đường dây nóng",
    "opening_hours": "Giờ làm việc",
}


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/settings", settings_page)
    router.add_post("/settings/doctor", doctor)


def _context(request: web.Request) -> dict[str, Any]:
    engine = engine_of(request)
    profile = engine.library.profile
    settings = request.config_dict[SETTINGS]
    return {
        "profile": [(label, profile.get(key)) for key, label in PROFILE_FIELDS.items()],
        "villages": [str(v) for v in profile.get("villages") or []],
        # Each channel the centre runs, with the link that opens it (its own profile fields).
        "channels": [
            (label_of(link.channel), link.url) for link in share_links(engine.library, None, None)
        ],
        "content_dir": settings.content_dir,
        "checks": None,
    }


@require(ADMIN)
async def settings_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("settings.html", request, _context(request))


@require(ADMIN)
async def doctor(request: web.Request) -> web.Response:
    """The same checks as `troly doctor`, with this server's settings (each is time-limited)."""
    checks = await run_checks(request.config_dict[SETTINGS])
    context = _context(request)
    context["checks"] = checks
    context["failed"] = sum(1 for c in checks if c.status == FAIL)
    context["warned"] = sum(1 for c in checks if c.status == WARN)
    return aiohttp_jinja2.render_template("settings.html", request, context)
