"""/staff/inbox: every open hand-off from every channel, live; a thread to answer in."""

import asyncio

import aiohttp_jinja2
from aiohttp import web

from bot.console import handoffs
from bot.console.live import hub_of, next_item, open_stream, send_event
from bot.console.outbound import reply_window, window_closed
from bot.console.pages import db, engine_of, form, int_or_404, see_other
from bot.console.security import STAFF_ROLES, me, now, require, still_logged_in
from storage.audit import audit
from storage.inbox import canned_answers, open_items, thread, waiting


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/inbox", inbox_page)
    router.add_get("/inbox/list", list_fragment)
    router.add_get("/inbox/{id}", thread_page)
    router.add_get("/inbox/{id}/thread", thread_fragment)
    router.add_post("/inbox/{id}/claim", claim)
    router.add_post("/inbox/{id}/answer", answer)
    router.add_post("/inbox/{id}/guide", guide)
    router.add_post("/inbox/{id}/close", close)
    router.add_get("/events", events)


LIST_TTL = 5.0  # seconds; the list is also recomputed at once when the inbox changes


async def _list_context(request: web.Request, shared: bool = False) -> dict:
    """The open hand-offs. Whole pages query afresh (and carry the live version they saw);
    the fragment that every open inbox fetches at each event is computed once per worker."""
    hub = hub_of(request)
    version = hub.version

    async def compute() -> tuple:
        async with db(request) as session:
            items = await open_items(session)
            overnight = {
                i.handoff.id for i in items
                if handoffs.came_out_of_hours(request.config_dict, i.handoff)
            }  # fmt: skip
            return items, overnight, *await waiting(session)

    if shared:
        items, overnight, count, oldest = await hub.memo("inbox-list", compute, LIST_TTL)
    else:
        items, overnight, count, oldest = await compute()
    return {"items": items, "overnight": overnight, "waiting": count, "oldest": oldest,
            "now": now(), "notice": request.query.get("notice", ""), "version": version,
            "villages": _villages(request)}  # fmt: skip


def _villages(request: web.Request) -> list[str]:
    """The commune's villages: a citizen's tag that is one of them is where they live."""
    return [str(v) for v in engine_of(request).library.profile.get("villages") or []]


async def _thread_context(request: web.Request, handoff_id: int) -> dict:
    async with db(request) as session:
        found = await open_items(session, handoff_id)
        if not found:
            raise web.HTTPNotFound()
        item = found[0]
        handoff = item.handoff
        events = []
        if handoff.chat_id is not None:
            events = await thread(session, handoff.channel, handoff.chat_id)
    at = now()
    window = reply_window(handoff.channel)
    closed_window = window_closed(handoff.channel, item.last_seen, at)
    library = engine_of(request).library
    return {
        "item": item,
        "events": events,
        "window_hours": int(window.total_seconds() // 3600) if window else None,
        "window_closed": closed_window,
        "hotline": library.profile.get("hotline", ""),
        "villages": _villages(request),
    }


@require(*STAFF_ROLES)
async def inbox_page(request: web.Request) -> web.Response:
    context = await _list_context(request)
    return aiohttp_jinja2.render_template("inbox.html", request, context)


@require(*STAFF_ROLES)
async def list_fragment(request: web.Request) -> web.Response:
    context = await _list_context(request, shared=True)
    context["current"] = int(request.query.get("current", "0") or 0)
    return aiohttp_jinja2.render_template("_inbox_list.html", request, context)


@require(*STAFF_ROLES)
async def thread_page(request: web.Request) -> web.Response:
    handoff_id = int_or_404(request.match_info["id"])
    context = await _list_context(request)
    context.update(await _thread_context(request, handoff_id))
    who = me(request)
    async with db(request) as session, session.begin():
        context["canned"] = await canned_answers(session)
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="open", target=f"handoff:{handoff_id}")  # fmt: skip
    library = engine_of(request).library
    context["guides"] = sorted(library.guides.values(), key=lambda g: g.title)
    context["current"] = handoff_id
    return aiohttp_jinja2.render_template("inbox.html", request, context)


@require(*STAFF_ROLES)
async def thread_fragment(request: web.Request) -> web.Response:
    context = await _thread_context(request, int_or_404(request.match_info["id"]))
    return aiohttp_jinja2.render_template("_thread.html", request, context)


def _back(handoff_id: int, problem: str | None, done: str) -> web.Response:
    notice = problem or done
    return see_other(f"/staff/inbox/{handoff_id}?notice={notice}")


@require(*STAFF_ROLES)
async def claim(request: web.Request) -> web.Response:
    handoff_id = int_or_404(request.match_info["id"])
    problem = await handoffs.claim_handoff(request.config_dict, me(request), handoff_id)
    return _back(handoff_id, problem, "claimed")


@require(*STAFF_ROLES)
async def answer(request: web.Request) -> web.Response:
    handoff_id = int_or_404(request.match_info["id"])
    text = (await form(request)).get("text", "")
    problem = await handoffs.answer_handoff(request.config_dict, me(request), handoff_id, text)
    return _back(handoff_id, problem, "sent")


@require(*STAFF_ROLES)
async def guide(request: web.Request) -> web.Response:
    handoff_id = int_or_404(request.match_info["id"])
    guide_id = (await form(request)).get("guide", "")
    problem = await handoffs.send_guide(request.config_dict, me(request), handoff_id, guide_id)
    return _back(handoff_id, problem, "guide_sent")


@require(*STAFF_ROLES)
async def close(request: web.Request) -> web.Response:
    handoff_id = int_or_404(request.match_info["id"])
    problem = await handoffs.close_handoff(request.config_dict, me(request), handoff_id)
    if problem is None:
        return see_other("/staff/inbox?notice=closed")
    return _back(handoff_id, problem, "closed")


STREAM_SECONDS = 300  # then the browser reconnects, and its session is checked again
# Before an event, at most this often: is the session still live? A password changed, a login
# disabled or a logout elsewhere then stops the list within seconds, not at the reconnect.
SESSION_CHECK_SECONDS = 10.0


async def _list_event(request: web.Request) -> dict:
    """The list as every open inbox shows it, rendered once per worker and change."""
    hub = hub_of(request)

    async def compute() -> dict:
        context = await _list_context(request, shared=True)
        context["current"] = 0
        html = aiohttp_jinja2.render_string("_inbox_list.html", request, context)
        return {"version": hub.version, "html": html}

    return await hub.memo("inbox-event", compute, LIST_TTL)


@require(*STAFF_ROLES)
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent `inbox` events carrying the fresh list, so open inboxes need not ask for it;
    a page with a thread open fetches that thread."""
    hub = hub_of(request)
    queue = hub.listen_inbox()
    response = await open_stream(request)
    loop = asyncio.get_running_loop()
    until = loop.time() + STREAM_SECONDS
    checked = loop.time()
    try:
        await send_event(response, "inbox", await _list_event(request))
        while True:
            alive, _ = await next_item(queue, response, until)
            if not alive:
                break
            if loop.time() - checked >= SESSION_CHECK_SECONDS:
                if not await still_logged_in(request):
                    break  # the browser reconnects, gets 401 and stops
                checked = loop.time()
            await send_event(response, "inbox", await _list_event(request))
    except ConnectionResetError:
        pass
    finally:
        hub.forget(queue)
    return response
