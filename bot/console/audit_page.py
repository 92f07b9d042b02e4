"""/staff/audit: the audit log, for admins (who opened, answered, exported, erased what)."""

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db
from bot.console.security import ADMIN, require
from storage.audit import latest

PAGE = 200


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/audit", audit_page)


@require(ADMIN)
async def audit_page(request: web.Request) -> web.Response:
    action = request.query.get("action") or None
    before = request.query.get("before", "")
    async with db(request) as session:
        before_id = int(before) if before.isdigit() else None
        rows = await latest(session, PAGE, action[:32] if action else None, before_id)
    context = {
        "rows": rows,
        "action": action or "",
        "more": rows[-1].id if len(rows) == PAGE else None,
        "notice": request.query.get("notice", ""),
    }
    return aiohttp_jinja2.render_template("audit.html", request, context)
