"""/staff/guides: the guide library as citizens get it, step by step on each channel the centre
runs (through that channel's own rendering), with its sources, the date it was last checked and
how much it is used; "try a question" answers as `troly ask --json`."""

import csv
import io
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.asked import HEADER
from bot.channels.base import Channel, Shown, all_channels
from bot.console.pages import db, engine_of, form, see_other
from bot.console.security import ADMIN, STAFF_ROLES, me, now, require
from bot.guide_steps import step_replies
from bot.library import Guide
from bot.matcher import normalize
from storage.audit import audit, latest
from storage.console_stats import guide_usage
from storage.report_figures import unknown_question_counts

USAGE_DAYS = 30
MAX_QUESTION = 300
SIMILAR = 80  # rapidfuzz score from which two questions are "the same question"
MAX_GROUPS = 30
MAX_SUGGESTIONS = 2000
SUGGEST = "suggest_guide"  # the audit action of Today's "which guide should answer this?" too


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guides", guides_page)
    router.add_get("/guides/ask.json", ask_json)
    router.add_post("/guides/suggest", suggest)
    router.add_get("/guides/suggestions.yaml", suggestions_file)
    router.add_get("/guides/suggestions.tsv", suggestions_batch)
    router.add_get("/guides/{id}", guide_page)


@dataclass(frozen=True)
class Group:
    """Questions without a guide that say the same thing, however they were typed."""

    shown: str  # the most asked spelling
    count: int
    variants: list[tuple[str, int]]
    nearest: str | None = None  # the guide the matcher ranks first, though below its threshold


def group_questions(rows: list[tuple[str, int]], threshold: float = SIMILAR) -> list[Group]:
    """Greedy grouping, most asked first: a question joins the first group whose first
    question it resembles (rapidfuzz token_set_ratio of the normalised texts)."""
    from rapidfuzz import fuzz

    groups: list[tuple[str, list[tuple[str, int]]]] = []
    for text, count in sorted(rows, key=lambda r: (-r[1], r[0])):
        key = normalize(text)
        if not key:
            continue
        for head, members in groups:
            if fuzz.token_set_ratio(key, head) >= threshold:
                members.append((text, count))
                break
        else:
            groups.append((key, [(text, count)]))
    found = [Group(m[0][0], sum(n for _, n in m), m) for _, m in groups]
    return sorted(found, key=lambda g: (-g.count, g.shown))[:MAX_GROUPS]


async def _unknown_groups(request: web.Request) -> list[Group]:
    at = now()
    async with db(request) as session:
        rows = await unknown_question_counts(session, at - timedelta(days=USAGE_DAYS), at)
    groups = group_questions([(str(text), int(n)) for text, n in rows])
    matcher = engine_of(request).matcher
    return [replace(g, nearest=next((m.guide.id for m in matcher.scores(g.shown)), None))
            for g in groups]  # fmt: skip


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
        "groups": await _unknown_groups(request),
        "guides": sorted(library.guides.values(), key=lambda g: g.code),
        "notice": request.query.get("notice", ""),
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


@dataclass(frozen=True)
class SeenStep:
    number: int
    messages: list[Shown]
    problem: str = ""  # the channel refuses to send it as it is (its renderer says why)


def _as_seen(request: web.Request, guide: Guide) -> tuple[list[Channel], Channel, list[SeenStep]]:
    """The channels to switch between (the web first, then each the centre runs), the one asked
    for, and every step as that channel renders it."""
    settings = request.config_dict[SETTINGS]
    channels = sorted((c for c in all_channels() if c.configured(settings)),
                      key=lambda c: (c.name != "web", c.name))  # fmt: skip
    chosen = next((c for c in channels if c.name == request.query.get("channel")), channels[0])
    library = engine_of(request).library
    steps = []
    for number in range(1, len(guide.steps) + 1):
        try:
            steps.append(SeenStep(number, chosen.show(step_replies(library, guide, number))))
        except ValueError as error:
            steps.append(SeenStep(number, [], str(error)))
    return channels, chosen, steps


@require(*STAFF_ROLES)
async def guide_page(request: web.Request) -> web.Response:
    library = engine_of(request).library
    guide: Guide | None = library.guides.get(request.match_info["id"])
    if guide is None:
        raise web.HTTPNotFound()
    usage = (await _usage(request)).get(guide.id)
    related = [library.guides[r] for r in guide.related if r in library.guides]
    topic = library.topics.get(guide.topic)
    channels, chosen, steps = _as_seen(request, guide)
    context = {
        "channels": channels,
        "chosen": chosen,
        "seen": steps,
        "guide": guide,
        "topic": topic,
        "usage": usage,
        "satisfaction": _satisfaction(usage),
        "related": related,
        "days": USAGE_DAYS,
        "sources": guide.sources or ((guide.source,) if guide.source else ()),
    }
    return aiohttp_jinja2.render_template("guide.html", request, context)


@require(*STAFF_ROLES)
async def suggest(request: web.Request) -> web.Response:
    """ "Add as a sample question to guide X": a suggestion for the content editor, never an edit
    of the guide (`troly content check` guards every change to content/)."""
    fields = await form(request)
    question = " ".join(fields.get("question", "").split())[:200]
    guide_id = fields.get("guide", "")
    if not question or guide_id not in engine_of(request).library.guides:
        return see_other("/staff/guides?notice=invalid#unknown")
    who = me(request)
    async with db(request) as session, session.begin():
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action=SUGGEST, target=f"guide:{guide_id}", detail=question)  # fmt: skip
    return see_other("/staff/guides?notice=suggested#unknown")


@require(ADMIN)
async def suggestions_file(request: web.Request) -> web.Response:
    """Every suggested sample question, newest first, as YAML for the content editor."""
    import yaml

    async with db(request) as session:
        rows = await latest(session, MAX_SUGGESTIONS, SUGGEST)
    library = engine_of(request).library
    items = []
    for row in rows:
        guide_id = row.target.removeprefix("guide:")
        guide = library.guides.get(guide_id)
        items.append({
            "guide": guide_id,
            "title": guide.title if guide else None,
            "question": row.detail,
            "by": row.actor,
            "at": row.at.isoformat(timespec="minutes"),
        })  # fmt: skip
    head = (
        "# Câu hỏi mẫu cán bộ đề xuất thêm vào hướng dẫn (mới nhất trước).\n"
        "# Xem từng dòng; chép câu hợp lý vào `questions:` của hướng dẫn trong content/guides/,\n"
        "# rồi chạy `troly content check`.\n"
    )
    body = head + yaml.safe_dump(items, allow_unicode=True, sort_keys=False)
    return web.Response(
        text=body,
        content_type="application/x-yaml",
        headers={"Content-Disposition": 'attachment; filename="goi-y-cau-hoi-mau.yaml"'},
    )


@require(ADMIN)
async def suggestions_batch(request: web.Request) -> web.Response:
    """The suggested questions as a batch for content/asked/ (the matcher learns from it once
    saved there): each question once, with the guide suggested last for it."""
    async with db(request) as session:
        rows = await latest(session, MAX_SUGGESTIONS, SUGGEST)
    newest: dict[str, str] = {}
    for row in rows:
        newest.setdefault(row.detail, row.target.removeprefix("guide:"))
    lines = io.StringIO()
    writer = csv.writer(lines, delimiter="\t", lineterminator="\n")
    writer.writerows([HEADER, *newest.items()])
    return web.Response(
        text=lines.getvalue(),
        content_type="text/tab-separated-values",
        headers={"Content-Disposition": 'attachment; filename="cau-hoi-de-xuat.tsv"'},
    )
