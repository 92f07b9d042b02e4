"""/staff/settings (admins): the commune profile the bot uses, and a button that runs the checks
of `troly doctor` and shows their lines."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.console.pages import engine_of
from bot.console.security import ADMIN, require
from bot.doctor import FAIL, WARN, run_checks

PROFILE_FIELDS = {
    "centre_name": "Tên Trung tâm",
    "commune_name": "Xã / phường",
    "address": "Địa chỉ",
    "hotline": "Đường dây nóng",
    "opening_hours": "Giờ làm việc",
    "telegram_bot": "Bot Telegram",
    "zalo_oa_name": "Zalo OA",
}


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/settings", settings_page)
    router.add_post("/settings/doctor", doctor)


def _context(request: web.Request) -> dict[str, Any]:
    profile = engine_of(request).library.profile
    settings = request.config_dict[SETTINGS]
    return {
        "profile": [(label, profile.get(key)) for key, label in PROFILE_FIELDS.items()],
        "villages": [str(v) for v in profile.get("villages") or []],
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
