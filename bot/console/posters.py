"""/staff/posters: the counter poster and a poster per guide (normal and large print), previewed
on the page and downloaded as PDF or PNG: the same designs as `troly poster`."""

import asyncio
import os
import tempfile
import threading
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from bot.app import SETTINGS
from bot.console.pages import engine_of
from bot.console.security import STAFF_ROLES, require
from bot.library import Guide, Library

COUNTER = "counter"
PREVIEW_WIDTH = 720  # px: sharp on a phone, a fraction of the 300 dpi page's weight
TYPES = {"pdf": "application/pdf", "png": "image/png"}


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/posters", posters_page)
    router.add_get("/posters/preview.png", preview)
    router.add_get("/posters/download", download)


def _guides(library: Library) -> list[Guide]:
    return sorted(library.guides.values(), key=lambda g: g.code)


def _chosen(request: web.Request, field: str) -> tuple[Guide | None, bool]:
    """The poster named in the query: `counter` or a guide id (404 otherwise); large print
    only for guides."""
    name = request.query.get(field, COUNTER)
    large = request.query.get("large") == "1"
    if name == COUNTER:
        return None, False
    guide = engine_of(request).library.guides.get(name)
    if guide is None:
        raise web.HTTPNotFound()
    return guide, large


def _cached_png(library: Library, guide: Guide | None, cache_dir: Path, large: bool) -> Path:
    from bot.posters import cached_poster

    return cached_poster(library, guide, cache_dir, large=large)


def _preview_png(library: Library, guide: Guide | None, cache_dir: Path, large: bool) -> Path:
    """A smaller copy of the cached 300 dpi PNG, kept next to it."""
    from PIL import Image

    full = _cached_png(library, guide, cache_dir, large)
    small = full.with_name(f"{full.stem}-preview.png")
    if not small.exists():
        with Image.open(full) as image:
            height = round(image.height * PREVIEW_WIDTH / image.width)
            partial = small.with_name(f"{small.stem}.{os.getpid()}-{threading.get_ident()}.tmp.png")
            image.convert("RGB").resize((PREVIEW_WIDTH, height), Image.LANCZOS).save(partial)
        partial.replace(small)
    return small


def _notes(library: Library, guide: Guide | None, large: bool) -> list[str]:
    from bot.posters import counter_poster, guide_poster

    document = guide_poster(library, guide, large=large) if guide else counter_poster(library)
    return document.notes


@require(*STAFF_ROLES)
async def posters_page(request: web.Request) -> web.Response:
    library = engine_of(request).library
    guide, large = _chosen(request, "show")
    notes = await asyncio.to_thread(_notes, library, guide, large)
    shown = guide.id if guide else COUNTER
    context = {
        "guides": _guides(library),
        "guide": guide,
        "large": large,
        "shown": shown,
        "shortened": bool(notes),
        "query": f"poster={shown}&large={int(large)}",
        "failed": request.query.get("failed", ""),
    }
    return aiohttp_jinja2.render_template("posters.html", request, context)


@require(*STAFF_ROLES)
async def preview(request: web.Request) -> web.StreamResponse:
    from bot.posters import MissingGlyphs

    guide, large = _chosen(request, "poster")
    cache_dir = request.config_dict[SETTINGS].poster_cache_dir
    library = engine_of(request).library
    try:
        path = await asyncio.to_thread(_preview_png, library, guide, cache_dir, large)
    except MissingGlyphs as error:
        raise web.HTTPNotFound() from error
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


def _pdf_bytes(library: Library, guide: Guide | None, large: bool) -> tuple[str, bytes]:
    from bot.posters import counter_poster, guide_poster, save

    document = guide_poster(library, guide, large=large) if guide else counter_poster(library)
    with tempfile.TemporaryDirectory(prefix="troly-poster-") as folder:
        [path] = save(document, Path(folder) / f"{document.name}.pdf")
        return path.name, path.read_bytes()


@require(*STAFF_ROLES)
async def download(request: web.Request) -> web.StreamResponse:
    from bot.posters import MissingGlyphs

    guide, large = _chosen(request, "poster")
    fmt = request.query.get("format", "pdf")
    if fmt not in TYPES:
        raise web.HTTPNotFound()
    library = engine_of(request).library
    name = guide.id if guide else COUNTER
    try:
        if fmt == "pdf":
            filename, body = await asyncio.to_thread(_pdf_bytes, library, guide, large)
        else:
            cache_dir = request.config_dict[SETTINGS].poster_cache_dir
            path = await asyncio.to_thread(_cached_png, library, guide, cache_dir, large)
            filename, body = f"{name}{'-large' if large else ''}.png", path.read_bytes()
    except MissingGlyphs:
        # A character the font lacks: refused rather than printed as boxes (see README).
        raise web.HTTPFound(f"/staff/posters?show={name}&failed={name}") from None
    disposition = f'attachment; filename="{filename}"'
    return web.Response(body=body, content_type=TYPES[fmt],
                        headers={"Content-Disposition": disposition})  # fmt: skip
