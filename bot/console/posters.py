"""/staff/posters: the counter poster and a poster per guide (normal and large print), previewed
on the page and downloaded as PDF or PNG: the same designs as `troly poster`."""

import asyncio
import json
import logging
import os
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from aiohttp.web_request import FileField

from bot.app import SETTINGS
from bot.console.pages import engine_of, form, see_other
from bot.console.security import STAFF_ROLES, require
from bot.library import Guide, Library

log = logging.getLogger(__name__)

COUNTER = "counter"
SHEETS = "sheets"  # under POSTER_CACHE_DIR: procedure sheets made from uploaded CSV files
SHEET_FILE = re.compile(r"[A-Za-z0-9_-]{16}(-\d{1,3})?\.(pdf|png)")
MAX_CSV = 512 * 1024
KEEP_SECONDS = 24 * 3600  # sheets and ZIP files are kept a day, for the download
REASONS = {
    "missing URL": "thiếu đường dẫn",
    "URL is not": "đường dẫn không phải http(s)",
    "empty name": "thiếu tên thủ tục",
    "unreadable CSV": "dòng CSV không đọc được",
}
PREVIEW_WIDTH = 720  # px: sharp on a phone, a fraction of the 300 dpi page's weight
TYPES = {"pdf": "application/pdf", "png": "image/png"}


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/posters", posters_page)
    router.add_get("/posters/preview.png", preview)
    router.add_get("/posters/download", download)
    router.add_post("/posters/procedures", procedures)
    router.add_get("/posters/sheet/{name}", sheet_file)
    router.add_post("/posters/all", start_all)
    router.add_get("/posters/all/{token}.json", all_progress)
    router.add_get("/posters/all/{token}.zip", all_zip)


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


async def _page_context(request: web.Request) -> dict[str, Any]:
    library = engine_of(request).library
    guide, large = _chosen(request, "show")
    notes = await asyncio.to_thread(_notes, library, guide, large)
    shown = guide.id if guide else COUNTER
    return {
        "guides": _guides(library),
        "guide": guide,
        "large": large,
        "shown": shown,
        "shortened": bool(notes),
        "query": f"poster={shown}&large={int(large)}",
        "failed": request.query.get("failed", ""),
        "sheet": None,
        "job": _job_or_none(request, request.query.get("job", "")),
        "formats": FORMATS,
    }


@require(*STAFF_ROLES)
async def posters_page(request: web.Request) -> web.Response:
    context = await _page_context(request)
    return aiohttp_jinja2.render_template("posters.html", request, context)


@dataclass(frozen=True)
class Sheet:
    """What became of an uploaded CSV: the sheet's files (if any row was usable) and the rows
    left out, with their line in the file."""

    token: str | None
    pages: int
    rows: int
    rejected: list[tuple[int, str, str]]  # line, reason in Vietnamese, the reason as written
    error: str | None = None


def _reason(text: str) -> str:
    for start, said in REASONS.items():
        if text.startswith(start):
            return said
    return "không dùng được"


def prune(folder: Path, keep_seconds: float = KEEP_SECONDS) -> None:
    """Forget what earlier uploads and ZIP jobs left in `folder` after a day."""
    import shutil
    import time

    if not folder.is_dir():
        return
    limit = time.time() - keep_seconds
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError:
            pass  # another worker got there first


def _make_sheet(library: Library, data: bytes, cache_dir: Path, today: date) -> Sheet:
    from bot.posters import ProcedureFileError, procedure_sheet, read_procedures, save

    with tempfile.TemporaryDirectory(prefix="troly-csv-") as folder:
        path = Path(folder) / "thu-tuc.csv"
        path.write_bytes(data)
        try:
            found, rejected = read_procedures(path)
        except ProcedureFileError as error:
            return Sheet(None, 0, 0, [], str(error).replace(str(path), "CSV"))
    bad = [(r.line, _reason(r.reason), r.reason) for r in rejected]
    if not found:
        return Sheet(None, 0, 0, bad)
    document = procedure_sheet(library, found, today)
    token = secrets.token_urlsafe(12)
    folder = Path(cache_dir) / SHEETS
    prune(folder)
    save(document, folder / f"{token}.pdf")
    save(document, folder / f"{token}.png")
    return Sheet(token, len(document.pages), len(found), bad)


@require(*STAFF_ROLES)
async def procedures(request: web.Request) -> web.Response:
    """The notice-board sheet from an uploaded CSV (as `troly poster procedures`)."""
    data = await request.post()
    upload = data.get("csv")
    context = await _page_context(request)
    if not isinstance(upload, FileField):
        context["sheet"] = Sheet(None, 0, 0, [], "chưa chọn tệp")
    else:
        body = upload.file.read(MAX_CSV + 1)
        if len(body) > MAX_CSV:
            context["sheet"] = Sheet(None, 0, 0, [], "tệp quá lớn")
        else:
            settings = request.config_dict[SETTINGS]
            today = datetime.now(ZoneInfo(settings.timezone)).date()
            library = engine_of(request).library
            context["sheet"] = await asyncio.to_thread(
                _make_sheet, library, body, settings.poster_cache_dir, today
            )
    return aiohttp_jinja2.render_template("posters.html", request, context)


@require(*STAFF_ROLES)
async def sheet_file(request: web.Request) -> web.StreamResponse:
    """A sheet made from a CSV: `<token>.pdf`, `<token>.png`, `<token>-2.png`, ..."""
    name = request.match_info["name"]
    if not SHEET_FILE.fullmatch(name):
        raise web.HTTPNotFound()
    path = Path(request.config_dict[SETTINGS].poster_cache_dir) / SHEETS / name
    if not path.is_file():
        raise web.HTTPNotFound()
    kind = TYPES[path.suffix[1:]]
    disposition = "inline" if request.query.get("view") else f'attachment; filename="{name}"'
    return web.FileResponse(path, headers={"Content-Type": kind,
                                           "Content-Disposition": disposition})  # fmt: skip


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


# --- every poster as one ZIP, built in the background --------------------------------------
# The job's state is a file under POSTER_CACHE_DIR/zips/, so any worker can report its progress.

ZIPS = "zips"
TOKEN = re.compile(r"[A-Za-z0-9_-]{16}")
FORMATS = {"pdf": "PDF (để in)", "png": "PNG (300 dpi)"}
_RUNNING: set[asyncio.Task[None]] = set()


def _job_dir(request: web.Request, token: str) -> Path:
    if not TOKEN.fullmatch(token):
        raise web.HTTPNotFound()
    return Path(request.config_dict[SETTINGS].poster_cache_dir) / ZIPS / token


def _read_state(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "progress.json").read_text())
    except (OSError, ValueError):
        return None


def _job_or_none(request: web.Request, token: str) -> dict[str, Any] | None:
    if not token or not TOKEN.fullmatch(token):
        return None
    state = _read_state(_job_dir(request, token))
    return {"token": token, **state} if state else None


def _write_state(folder: Path, **state: Any) -> None:
    partial = folder / f"progress.{threading.get_ident()}.tmp"
    partial.write_text(json.dumps(state, ensure_ascii=False))
    partial.replace(folder / "progress.json")  # atomic: a poll never reads half a file


def build_zip(library: Library, folder: Path, fmt: str) -> None:
    """Every poster (`troly poster all`) into folder/posters.zip, progress.json kept current."""
    import zipfile

    from bot.posters import write_all

    total = len(library.guides) + 1
    done, failed = 0, []
    files = folder / "files"
    _write_state(folder, state="running", done=0, total=total, failed=[], format=fmt)
    for written in write_all(library, files, fmt):
        done += 1
        if written.error:
            failed.append(written.name)
        _write_state(folder, state="running", done=done, total=total, failed=failed, format=fmt)
    partial = folder / "posters.zip.tmp"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files.iterdir()):
            archive.write(path, path.name)
    partial.replace(folder / "posters.zip")
    _write_state(folder, state="done", done=done, total=total, failed=failed, format=fmt)


@require(*STAFF_ROLES)
async def start_all(request: web.Request) -> web.Response:
    fields = await form(request)
    fmt = fields.get("format", "pdf")
    if fmt not in FORMATS:
        fmt = "pdf"
    token = secrets.token_urlsafe(12)
    folder = _job_dir(request, token)
    await asyncio.to_thread(prune, folder.parent)
    folder.mkdir(parents=True)
    library = engine_of(request).library
    _write_state(folder, state="running", done=0, total=len(library.guides) + 1, failed=[],
                 format=fmt)  # fmt: skip

    async def run() -> None:
        try:
            await asyncio.to_thread(build_zip, library, folder, fmt)
        except Exception:
            log.exception("console: the ZIP of every poster failed")
            _write_state(folder, state="failed", done=0, total=0, failed=[], format=fmt)

    task = asyncio.create_task(run())
    _RUNNING.add(task)  # a reference, so the task is not collected while it runs
    task.add_done_callback(_RUNNING.discard)
    return see_other(f"/staff/posters?job={token}#all")


@require(*STAFF_ROLES)
async def all_progress(request: web.Request) -> web.Response:
    state = _read_state(_job_dir(request, request.match_info["token"]))
    if state is None:
        raise web.HTTPNotFound()
    return web.json_response(state)


@require(*STAFF_ROLES)
async def all_zip(request: web.Request) -> web.StreamResponse:
    path = _job_dir(request, request.match_info["token"]) / "posters.zip"
    if not path.is_file():
        raise web.HTTPNotFound()
    headers = {"Content-Type": "application/zip",
               "Content-Disposition": 'attachment; filename="ap-phich.zip"'}  # fmt: skip
    return web.FileResponse(path, headers=headers)
