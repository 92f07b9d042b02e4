"""/staff/guides: the guide library as citizens get it, step by step, with its sources, the date
it was last checked and how much it is used; "try a question" answers as `troly ask --json`."""

from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.console.pages import db, engine_of
from bot.console.security import STAFF_ROLES, now, require
from bot.library import Guide
from storage.console_stats import guide_usage

USAGE_DAYS = 30
MAX_QUESTION = 300


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guides", guides_page)
    router.add_get("/guides/ask.json", ask_json)
    router.add_get("/guides/{id}", guide_page)


def _ask(request: web.Request) -> dict[str, Any] | None:
    """The question tester: the engine's own matcher, so the page answers as the bot does."""
    question = request.query.get("q", "")[:MAX_QUESTION]
    if not question.strip():
        return None
    return engine_of(request).matcher.match(question).as_json()


async def _usage(request: web.Request) -> dict[str, tuple[int, int, int, int]]:
    async with db(request) as session:
        return await guide_usage(session, now() - timedelta(days=USAGE_DAYS))


def _satisfaction(usage: tuple[int, int, int, int] | None) -> int | None:
    if not usage or not usage[2]:
        return None
    return round(100 * usage[3] / usage[2])


@require(*STAFF_ROLES)
async def guides_page(request: web.Request) -> web.Response:
    library = engine_of(request).library
    usage = await _usage(request)
    topics = []
    for topic_id, topic in library.topics.items():
        guides = sorted((g for g in library.guides.values() if g.topic == topic_id),
                        key=lambda g: g.code)  # fmt: skip
        if guides:
            topics.append((topic, [(g, usage.get(g.id), _satisfaction(usage.get(g.id)))
                                   for g in guides]))  # fmt: skip
    context = {
        "topics": topics,
        "asked": _ask(request),
        "question": request.query.get("q", "")[:MAX_QUESTION],
        "days": USAGE_DAYS,
        "titles": {g.id: g for g in library.guides.values()},
    }
    return aiohttp_jinja2.render_template("guides.html", request, context)


@require(*STAFF_ROLES)
async def ask_json(request: web.Request) -> web.Response:
    """The same object as `troly ask QUESTION --json`."""
    found = _ask(request) or {"query": "", "outcome": "unknown", "results": []}
    return web.json_response(found, dumps=_dumps)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


@require(*STAFF_ROLES)
async def guide_page(request: web.Request) -> web.Response:
    library = engine_of(request).library
    guide: Guide | None = library.guides.get(request.match_info["id"])
    if guide is None:
        raise web.HTTPNotFound()
    usage = (await _usage(request)).get(guide.id)
    related = [library.guides[r] for r in guide.related if r in library.guides]
    topic = library.topics.get(guide.topic)
    context = {
        "guide": guide,
        "topic": topic,
        "usage": usage,
        "satisfaction": _satisfaction(usage),
        "related": related,
        "days": USAGE_DAYS,
        "sources": guide.sources or ((guide.source,) if guide.source else ()),
    }
    return aiohttp_jinja2.render_template("guide.html", request, context)
