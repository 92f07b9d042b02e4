"""The commune profile (content/profile.yaml): the rules it must follow, the same for
`troly content check` and the settings page, and writing it back from that page.

Each rule gives its message twice: in English for `troly content check` (file:line, like every
other problem of the library) and in Vietnamese beside the field on the settings page.
"""

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.content_files import Reader, load_yaml

PROFILE_REQUIRED = (
    "commune_name",
    "centre_name",
    "province_name",
    "address",
    "opening_hours",
    "hotline",
    "contacts",
)  # each channel's own profile fields (the OA id, the bot's name) are optional: see its share_link
LISTS = ("villages", "former_units")
# The year's targets an admin may set, by the report figure they are measured with
# (bot/reports/summary.py names them): shares in per cent, counts of people or sessions.
PERCENT_TARGETS = ("in_person_online_percent", "satisfaction_percent", "tickets_on_time_percent")
COUNT_TARGETS = ("sessions", "in_person_people")
TARGETS = (*PERCENT_TARGETS, *COUNT_TARGETS)
MAX_TEXT = 300  # one field of the profile, as the settings page and posters show it
PHONE = re.compile(r"^[0-9+().\- ]+$")


@dataclass(frozen=True)
class Issue:
    field: str  # "hotline", "villages", "targets.satisfaction_percent"
    message: str  # for `troly content check`
    vi: str  # for the settings page


def _text_issues(profile: dict[str, Any]) -> list[Issue]:
    issues = []
    for key in PROFILE_REQUIRED:
        value = profile.get(key)
        if not str(value or "").strip():
            issues.append(Issue(key, f"missing field '{key}'", "Không được để trống."))
        elif key != "contacts" and len(str(value)) > MAX_TEXT:
            issues.append(Issue(key, f"field '{key}' is longer than {MAX_TEXT} characters",
                                f"Dài quá {MAX_TEXT} ký tự."))  # fmt: skip
    hotline = str(profile.get("hotline") or "").strip()
    if hotline and (not PHONE.match(hotline) or sum(c.isdigit() for c in hotline) < 3):
        issues.append(Issue("hotline", f"field 'hotline': '{hotline}' is not a phone number",
                            "Chỉ gồm chữ số, dấu cách và + . - ( )."))  # fmt: skip
    return issues


def _list_issues(profile: dict[str, Any]) -> list[Issue]:
    issues = []
    for key in LISTS:
        value = profile.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or any(
            not isinstance(v, str | int) or not str(v).strip() for v in value
        ):
            issues.append(Issue(key, f"field '{key}' must be a list of names",
                                "Mỗi dòng một tên, không để dòng trống."))  # fmt: skip
            continue
        seen: set[str] = set()
        for item in (str(v).strip() for v in value):
            if item.casefold() in seen:
                issues.append(Issue(key, f"field '{key}': '{item}' is written twice",
                                    f"“{item}” bị ghi hai lần."))  # fmt: skip
            elif len(item) > MAX_TEXT:
                issues.append(Issue(key, f"field '{key}': a name is longer than {MAX_TEXT}",
                                    f"Một tên dài quá {MAX_TEXT} ký tự."))  # fmt: skip
            seen.add(item.casefold())
    return issues


def _target_issues(targets: Any) -> list[Issue]:
    if targets is None:
        return []
    if not isinstance(targets, dict):
        return [Issue("targets", "field 'targets' must map a figure to its target",
                      "Chỉ tiêu phải là các cặp tên: giá trị.")]  # fmt: skip
    issues = []
    for key, value in targets.items():
        where = f"targets.{key}"
        if key not in TARGETS:
            issues.append(Issue(where, f"unknown target '{key}' (known: {', '.join(TARGETS)})",
                                f"Không có chỉ tiêu “{key}”."))  # fmt: skip
        elif isinstance(value, bool) or not isinstance(value, int | float):
            issues.append(Issue(where, f"target '{key}': '{value}' is not a number",
                                "Nhập một số, ví dụ 80."))  # fmt: skip
        elif key in PERCENT_TARGETS and not 0 < value <= 100:
            issues.append(Issue(where, f"target '{key}' is a share: between 0 and 100",
                                "Tỷ lệ phần trăm: lớn hơn 0 và không quá 100."))  # fmt: skip
        elif key in COUNT_TARGETS and (value != int(value) or value < 1):
            issues.append(Issue(where, f"target '{key}' is a count: a whole number from 1",
                                "Số lượt: một số nguyên từ 1 trở lên."))  # fmt: skip
    return issues


def profile_issues(profile: Any) -> list[Issue]:
    """Everything wrong with a profile, in the order of its fields."""
    if not isinstance(profile, dict):
        return [Issue("", "the profile must be a mapping", "Hồ sơ phải là các cặp tên: giá trị.")]
    return [*_text_issues(profile), *_list_issues(profile), *_target_issues(profile.get("targets"))]


def field_line(text: str, field: str) -> int:
    """The line of `key` (or of `parent.key`, inside the parent's block) in the profile's text."""
    parent, _, child = field.partition(".")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if line.startswith(f"{parent}:"):
            if not child:
                return number
            for offset, inner in enumerate(lines[number:], number + 1):
                if inner.strip() and not inner[0].isspace():
                    break
                if inner.strip().startswith(f"{child}:"):
                    return offset
            return number
    return 1


def read_profile(reader: Reader, text: str | None = None) -> dict[str, Any]:
    """The profile of the library `reader` reads; `text`: this text instead of the file's
    (the settings page checks a change with the whole library before writing it)."""
    path = reader.root / "profile.yaml"
    if text is None:
        profile = reader.yaml_file(path)
    else:
        try:
            profile = load_yaml(text)
        except yaml.YAMLError as exc:
            reader.problem(path, 1, f"malformed YAML: {exc}")
            return {}
    if profile is None:
        return {}
    source = text if text is not None else path.read_text(encoding="utf-8")
    for issue in profile_issues(profile):
        line = field_line(source, issue.field) if issue.field else 1
        reader.problem(path, line, issue.message)
    return profile if isinstance(profile, dict) else {}


# --- writing ----------------------------------------------------------------


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """Where the top-level `key` is written: its line and the indented lines under it."""
    for start, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            end = start + 1
            while end < len(lines) and (not lines[end].strip() or lines[end][0].isspace()):
                end += 1
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1  # a blank line before the next key stays where it is
            return start, end
    return None


def _dumped(key: str, value: Any) -> list[str]:
    # None writes a list of names on one line ("villages: [Ấp A, Ấp B]", as the example does).
    flow = None if isinstance(value, list) else False
    text = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=10_000,
                          default_flow_style=flow)  # fmt: skip
    return text.rstrip("\n").splitlines()


def _mapping_lines(block: list[str], key: str, value: dict[str, Any]) -> list[str]:
    """A mapping's block with each value changed where it is written, its comment kept;
    keys no longer set are dropped, new ones added at the end."""
    kept = [block[0]]
    left = dict(value)
    for line in block[1:]:
        found = re.match(r"^(\s+)([A-Za-z_][\w-]*):\s*([^#]*?)(\s*#.*)?$", line)
        if not found:
            kept.append(line)  # a comment or a blank line of the block
        elif found.group(2) in left:
            shown = _dumped(found.group(2), left.pop(found.group(2)))[0]
            kept.append(found.group(1) + shown + (found.group(4) or ""))
    kept += ["  " + line for name, item in left.items() for line in _dumped(name, item)]
    return kept


def updated_text(text: str, changes: dict[str, Any]) -> str:
    """The profile's text with `changes` written in (None removes a key), every other line,
    comments included, as it was; checked by reading it back."""
    lines = text.splitlines()
    for key, value in changes.items():
        found = _block(lines, key)
        if found and isinstance(value, dict) and value:
            lines[found[0] : found[1]] = _mapping_lines(lines[found[0] : found[1]], key, value)
            continue
        new = [] if value is None else _dumped(key, value)
        if found:
            lines[found[0] : found[1]] = new
        else:
            lines.extend(new)
    result = "\n".join(lines) + "\n"
    expected = {k: v for k, v in {**(load_yaml(text) or {}), **changes}.items() if v is not None}
    try:
        same = load_yaml(result) == expected
    except yaml.YAMLError:
        same = False
    if not same:  # a layout the line editing did not foresee: the whole file, comments lost
        result = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=10_000)
    return result


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one (a crash included)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".profile-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
