"""/staff/settings (admins): the commune profile the bot uses, edited in a form and saved to
content/profile.yaml (checked by the rules of `troly content check` first, written atomically,
its comments kept), then served by this process at once; and a button that runs the checks of
`troly doctor` and shows their lines."""

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import yaml
from aiohttp import web

from bot.app import SETTINGS
from bot.channels.base import label_of
from bot.console.pages import db, engine_of, form, see_other
from bot.console.security import ADMIN, me, now, require
from bot.content_files import load_yaml
from bot.doctor import FAIL, WARN, run_checks
from bot.library import BUNDLED_CONTENT, read_library
from bot.links import share_links
from bot.profile import (
    LISTS,
    PERCENT_TARGETS,
    TARGETS,
    profile_issues,
    updated_text,
    write_atomically,
)
from bot.reports.summary import FIGURE_NAMES
from storage.audit import audit

TEXTS = {
    "centre_name": "Tên Trung tâm",
    "address": "Địa chỉ",
    "hotline": "Đường dây nóng",
    "opening_hours": "Giờ làm việc",
}
LIST_LABELS = {"villages": "Các ấp, thôn", "former_units": "Các xã, phường cũ (trước sáp nhập)"}
_FIELDS = {*TEXTS, *LISTS, "targets", *(f"targets.{k}" for k in TARGETS)}
NUMBER = re.compile(r"^\d+([.,]\d+)?$")
MAX_FIELD = 4000  # a form field longer than any profile's


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/settings", settings_page)
    router.add_post("/settings/profile", save_profile)
    router.add_post("/settings/doctor", doctor)


def _profile_path(request: web.Request) -> Path:
    return Path(request.config_dict[SETTINGS].content_dir) / "profile.yaml"


def _values(profile: dict[str, Any]) -> dict[str, str]:
    """The profile as the form's fields show it: lists one name a line, targets as typed."""
    values = {key: str(profile.get(key) or "") for key in TEXTS}
    values.update({key: "\n".join(str(v) for v in profile.get(key) or []) for key in LISTS})
    targets = profile.get("targets") if isinstance(profile.get("targets"), dict) else {}
    values.update({f"targets.{k}": str(targets.get(k, "")).replace(".", ",") for k in TARGETS})
    return values


def _context(
    request: web.Request, values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    engine = engine_of(request)
    profile = engine.library.profile
    content_dir = Path(request.config_dict[SETTINGS].content_dir)
    return {
        "texts": TEXTS,
        "lists": LIST_LABELS,
        "targets": [(k, FIGURE_NAMES[k], k in PERCENT_TARGETS) for k in TARGETS],
        "values": values if values is not None else _values(profile),
        "errors": errors or {},
        "saved": request.query.get("saved") == "1",
        "bundled": content_dir.resolve() == BUNDLED_CONTENT,
        # Each channel the centre runs, with the link that opens it (its own profile fields).
        "channels": [
            (label_of(link.channel), link.url) for link in share_links(engine.library, None, None)
        ],
        "content_dir": content_dir,
        "checks": None,
    }


@require(ADMIN)
async def settings_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("settings.html", request, _context(request))


def _number(text: str) -> int | float | str:
    if not NUMBER.match(text):
        return text  # the rules say it is not a number, beside the field
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _changes(fields: dict[str, str]) -> dict[str, Any]:
    """The form as profile values; a list or targets left empty removes the key."""
    changes: dict[str, Any] = {k: " ".join(fields.get(k, "").split())[:MAX_FIELD] for k in TEXTS}
    for key in LISTS:
        names = [" ".join(line.split()) for line in fields.get(key, "")[:MAX_FIELD].splitlines()]
        changes[key] = [n for n in names if n] or None
    targets = {}
    for key in TARGETS:
        typed = fields.get(f"targets.{key}", "").strip()[:20]
        if typed:
            targets[key] = _number(typed)
    changes["targets"] = targets or None
    return changes


def _check(path: Path, changes: dict[str, Any]) -> tuple[str, Any, dict[str, list[str]]]:
    """The new text, the library read with it, and the problems by field ("" for the rest):
    the profile's rules, then the whole library as `troly content check` reads it."""
    old_text = path.read_text(encoding="utf-8")
    try:
        current = load_yaml(old_text)
    except yaml.YAMLError as error:  # edited by hand since the server started
        return old_text, None, {"": [f"{path}: malformed YAML: {error}"]}
    if not isinstance(current, dict):
        return old_text, None, {"": [f"{path}: the profile must be a mapping"]}
    profile = {k: v for k, v in {**current, **changes}.items() if v is not None}
    errors: dict[str, list[str]] = {}
    for issue in profile_issues(profile):
        errors.setdefault(issue.field if issue.field in _FIELDS else "", []).append(issue.vi)
    if errors:
        return old_text, None, errors
    text = updated_text(old_text, changes)
    library, problems = read_library(path.parent, profile_text=text)
    if problems:  # a survey or a guide that needs what was removed: said as content check says it
        errors[""] = [str(p) for p in problems]
    return text, library, errors


def _differences(before: dict[str, Any], changes: dict[str, Any]) -> str:
    changed = [k for k, v in changes.items() if before.get(k) != v]
    return ", ".join(changed)


@require(ADMIN)
async def save_profile(request: web.Request) -> web.Response:
    """Nothing is written unless the whole library reads without a problem with the new profile;
    then the file is replaced in one step and this process answers with the new values."""
    fields = await form(request)
    path = _profile_path(request)
    changes = _changes(fields)
    text, library, errors = await asyncio.to_thread(_check, path, changes)
    if errors:
        context = _context(request, {k: fields.get(k, "") for k in _values({})}, errors)
        return aiohttp_jinja2.render_template("settings.html", request, context, status=422)
    engine = engine_of(request)
    changed = _differences(engine.library.profile, changes)
    await asyncio.to_thread(write_atomically, path, text)
    engine.use_library(library)
    who = me(request)
    async with db(request) as session, session.begin():
        await audit(session, now=now(), account_id=who.account_id, actor=who.name,
                    action="profile_edit", target="profile", detail=changed or "-")  # fmt: skip
    return see_other("/staff/settings?saved=1#profile")


@require(ADMIN)
async def doctor(request: web.Request) -> web.Response:
    """The same checks as `troly doctor`, with this server's settings (each is time-limited)."""
    checks = await run_checks(request.config_dict[SETTINGS])
    context = _context(request)
    context["checks"] = checks
    context["failed"] = sum(1 for c in checks if c.status == FAIL)
    context["warned"] = sum(1 for c in checks if c.status == WARN)
    return aiohttp_jinja2.render_template("settings.html", request, context)
