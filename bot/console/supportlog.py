"""/staff/log: the in-person log (nhật ký hỗ trợ) in one quick form; the same table as
`troly log-support` and `/nhatky`."""

from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.console.pages import db, engine_of, form, see_other
from bot.console.security import STAFF_ROLES, me, now, require
from storage.models import StaffMember
from storage.support_log import entries_between, log_support

COUNTER = "Tại quầy"  # the place when no village is picked
MAX_PEOPLE = 500


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/log", log_page)
    router.add_post("/log", add_entry)


def _choices(request: web.Request) -> tuple[list[str], list[str]]:
    library = engine_of(request).library
    topics = [t.title for t in library.topics.values()]
    topics += sorted(g.title for g in library.guides.values())
    villages = [str(v) for v in library.profile.get("villages") or []]
    return topics, villages


@require(*STAFF_ROLES)
async def log_page(request: web.Request) -> web.Response:
    today = now().astimezone(ZoneInfo(request.config_dict[SETTINGS].timezone)).date()
    async with db(request) as session:
        entries = list(reversed(await entries_between(session, today, today)))
    topics, villages = _choices(request)
    context = {
        "entries": entries,
        "topics": topics,
        "villages": villages,
        "counter": COUNTER,
        "today": today,
        "notice": request.query.get("notice", ""),
    }
    return aiohttp_jinja2.render_template("log.html", request, context)


@require(*STAFF_ROLES)
async def add_entry(request: web.Request) -> web.Response:
    fields = await form(request)
    topic = fields.get("topic", "").strip()
    place = fields.get("place", "").strip() or COUNTER
    people = fields.get("people", "1").strip()
    if not topic or not people.isdigit() or not 1 <= int(people) <= MAX_PEOPLE:
        return see_other("/staff/log?notice=invalid")
    at = now()
    today = at.astimezone(ZoneInfo(request.config_dict[SETTINGS].timezone)).date()
    async with db(request) as session, session.begin():
        member = await session.get(StaffMember, me(request).staff_id)
        await log_support(
            session,
            day=today,
            topic=topic,
            place=place,
            people=int(people),
            submitted_online=fields.get("online") == "1",
            helper=member,
            helper_name=me(request).name,
            now=at,
        )
    return see_other("/staff/log?notice=logged")
