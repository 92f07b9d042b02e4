"""/staff/: today's picture, and where a question without a guide should go."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.console.live import hub_of
from bot.console.pages import db, engine_of, form, see_other
from bot.console.security import STAFF_ROLES, me, now, require
from storage.audit import audit
from storage.console_stats import (
    guides_opened_since,
    satisfaction_since,
    sessions_since,
    ticket_figures,
    unknown_questions,
)
from storage.inbox import waiting


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", today_page)
    router.add_post("/suggest", suggest)


@require(*STAFF_ROLES)
async def today_page(request: web.Request) -> web.Response:
    zone = ZoneInfo(request.config_dict[SETTINGS].timezone)
    at = now()
    local_today = at.astimezone(zone).date()
    midnight = datetime.combine(local_today, time(0), zone)
    week_ago = at - timedelta(days=7)
    async with db(request) as session:
        count, oldest = await waiting(session)
        due, late = await ticket_figures(session, local_today)
        satisfied, rated = await satisfaction_since(session, week_ago)
        context = {
            "conversations": await sessions_since(session, midnight),
            "guides_opened": await guides_opened_since(session, midnight),
            "waiting": count,
            "oldest": oldest,
            "tickets_due": due,
            "tickets_late": late,
            "satisfied": satisfied,
            "rated": rated,
            "satisfaction": round(100 * satisfied / rated) if rated else None,
            "unknown": await hub_of(request).memo(
                "unknown-questions", lambda: _unknown(request, week_ago), 60, versioned=False
            ),
            "today": local_today,
            "notice": request.query.get("notice", ""),
        }
    library = engine_of(request).library
    context["guides"] = sorted(library.guides.values(), key=lambda g: g.title)
    return aiohttp_jinja2.render_template("today.html", request, context)


async def _unknown(request: web.Request, since: datetime) -> list[tuple[str, int]]:
    """The week's questions without a guide: an aggregate worth computing once a minute."""
    async with db(request) as session:
        return await unknown_questions(session, since)


@require(*STAFF_ROLES)
async def suggest(request: web.Request) -> web.Response:
    """"Which guide should answer this?": noted for the content editor (audit log, admins)."""
    fields = await form(request)
    question, guide_id = fields.get("question", "")[:200], fields.get("guide", "")
    if question and guide_id in engine_of(request).library.guides:
        who = me(request)
        async with db(request) as session, session.begin():
            await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                        action="suggest_guide", target=f"guide:{guide_id}",
                        detail=question)  # fmt: skip
    return see_other("/staff/?notice=suggested")
