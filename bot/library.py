"""Loads and validates content/: the only code that reads the library folder."""

import re
import string
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

import content

BUNDLED_CONTENT = Path(content.__file__).resolve().parent
MAX_STEP_CHARS = 700  # one phone screen at a readable size
MAX_STEPS = 7
MAX_ALERT_CHARS = 600
REVIEW_MONTHS = 6  # default age after which `content check` asks for a guide to be re-checked
GUIDE_LINK = re.compile(r"\[([^\]]+)\]\(guide:([a-z0-9-]+)\)")
GUIDE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PROFILE_REQUIRED = (
    "commune_name",
    "centre_name",
    "province_name",
    "address",
    "opening_hours",
    "hotline",
    "contacts",
)  # each channel's own profile fields (the OA id, the bot's name) are optional: see its share_link


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Step:
    title: str
    body: str


@dataclass(frozen=True)
class Guide:
    id: str
    code: int
    title: str
    topic: str
    summary: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]
    related: tuple[str, ...]
    updated: date
    source: str  # the first of `sources`: what a reply shows as "Nguồn"
    steps: tuple[Step, ...]
    sources: tuple[str, ...] = ()
    checked: date | None = None  # when someone last checked every step against the sources


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    icon: str = ""


@dataclass(frozen=True)
class Alert:
    id: str
    title: str
    body: str
    updated: date
    source: str


@dataclass(frozen=True)
class NotCovered:
    """A subject citizens ask about that has no guide yet: the matcher says so honestly."""

    title: str
    keywords: tuple[str, ...]


@dataclass
class Library:
    profile: dict[str, Any]
    topics: dict[str, Topic]
    guides: dict[str, Guide]
    alerts: dict[str, Alert]
    texts: dict[str, str]
    not_covered: list[NotCovered] = field(default_factory=list)
    # What `content check` reports without failing (guides due for review).
    warnings: list[Problem] = field(default_factory=list)
    by_code: dict[int, Guide] = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {g.code: g for g in self.guides.values()}

    def text(self, key: str, **values: object) -> str:
        """A sentence of the bot's own, from texts.yaml, with runtime values filled in."""
        template = self.texts[key]
        return template.format(**values) if values else template

    def guides_in(self, topic_id: str) -> list[Guide]:
        return sorted((g for g in self.guides.values() if g.topic == topic_id), key=_by_code)


def _by_code(guide: Guide) -> int:
    return guide.code


# --- front matter schemas -------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _specific_sources(value: str | list[str]) -> list[str]:
    """One URL or several, each naming a page: a home page is nothing a step can be checked
    against ("https://dichvucong.gov.vn" says nothing about what a step claims)."""
    urls = [value] if isinstance(value, str) else value
    if not urls:
        raise ValueError("name at least one page")
    for url in urls:
        parts = urlsplit(str(url).strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in str(url).strip():
            raise ValueError(f"'{url}' is not an http(s) address")
        if parts.path.strip("/") == "" and not parts.query:
            raise ValueError(
                f"'{url}' is a bare domain: name the page a step can be checked against"
            )
    return [str(u).strip() for u in urls]


class GuideMeta(_Strict):
    id: str = Field(pattern=GUIDE_ID.pattern)
    code: int = Field(ge=1, le=9999)
    title: str = Field(min_length=3, max_length=120)
    topic: str
    summary: str = Field(min_length=3)
    keywords: list[str] = Field(min_length=1)
    questions: list[str] = Field(min_length=1)
    related: list[str] = []
    updated: date
    checked: date | None = None
    source: list[str]

    @field_validator("source", mode="before")
    @classmethod
    def specific_sources(cls, value: str | list[str]) -> list[str]:
        return _specific_sources(value)

    @field_validator("keywords", "questions", "related")
    @classmethod
    def no_blank_items(cls, items: list[str]) -> list[str]:
        if any(not str(i).strip() for i in items):
            raise ValueError("contains an empty item")
        return [str(i).strip() for i in items]


class AlertMeta(_Strict):
    id: str = Field(pattern=GUIDE_ID.pattern)
    title: str = Field(min_length=3)
    updated: date
    checked: date | None = None
    source: list[str]

    @field_validator("source", mode="before")
    @classmethod
    def specific_sources(cls, value: str | list[str]) -> list[str]:
        return _specific_sources(value)


# --- reading --------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key written twice: plain YAML would silently keep the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_StrictLoader)  # safe: _StrictLoader is a SafeLoader


class _Reader:
    """Collects every problem in the library instead of stopping at the first one."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.warnings.append(Problem(path, line, f"warning: {message}"))

    def yaml_file(self, path: Path) -> Any:
        try:
            return _load_yaml(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problem(path, 1, "file is missing")
        except yaml.YAMLError as exc:
            self.problem(path, _yaml_line(exc), f"malformed YAML: {_yaml_reason(exc)}")
        return None

    def front_matter(self, path: Path) -> tuple[dict | None, str, int]:
        """Split a Markdown file into (front matter, body, line number where the body starts)."""
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            self.problem(path, 1, "missing front matter: the file must start with '---'")
            return None, text, 1
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            self.problem(path, 1, "front matter is not closed with '---'")
            return None, "", 1
        try:
            meta = _load_yaml("\n".join(lines[1:end]))
        except yaml.YAMLError as exc:
            self.problem(path, _yaml_line(exc) + 1, f"malformed YAML: {_yaml_reason(exc)}")
            return None, "", end + 2
        if not isinstance(meta, dict):
            self.problem(path, 2, "front matter must be a mapping of fields")
            return None, "", end + 2
        return meta, "\n".join(lines[end + 1 :]), end + 2

    def validated(self, schema: type[BaseModel], meta: dict, path: Path) -> Any:
        try:
            return schema.model_validate(meta)
        except ValidationError as exc:
            for err in exc.errors():
                key = str(err["loc"][0]) if err["loc"] else ""
                where = f"field '{key}'" if key else "front matter"
                self.problem(path, _key_line(path, key), f"{where}: {err['msg']}")
            return None


def _yaml_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark else 1


def _yaml_reason(exc: yaml.YAMLError) -> str:
    return getattr(exc, "problem", None) or str(exc).splitlines()[0]


def _key_line(path: Path, key: str) -> int:
    if key:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(f"{key}:"):
                return number
    return 1


def _split_steps(body: str, first_line: int) -> list[tuple[int, str, str]]:
    """Return (line, heading, text) per `## ` section; text before the first heading is ignored."""
    steps: list[tuple[int, str, list[str]]] = []
    for offset, line in enumerate(body.splitlines()):
        if line.startswith("## "):
            steps.append((first_line + offset, line[3:].strip(), []))
        elif steps:
            steps[-1][2].append(line)
    return [(line, title, "\n".join(text)) for line, title, text in steps]


def placeholders(text: str) -> set[str]:
    """The `{names}` a text asks for; literal braces are written `{{` and `}}`."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced brace>"}


class _Filler:
    """Fills profile placeholders and reports unknown ones with their line."""

    def __init__(self, reader: _Reader, profile: dict[str, Any]):
        self.reader = reader
        self.values = {k: str(v) for k, v in profile.items() if isinstance(v, str | int)}
        # A list (e.g. former_units) reads as one phrase: "xã A, xã B, xã C".
        self.values.update(
            {k: ", ".join(map(str, v)) for k, v in profile.items() if isinstance(v, list)}
        )

    def unknown(self, text: str, path: Path, line: int) -> set[str]:
        unknown = placeholders(text) - set(self.values)
        for name in sorted(unknown):
            shown = name if name.startswith("<") else "{" + name + "}"
            self.reader.problem(path, line, f"unknown placeholder {shown}")
        return unknown

    def __call__(self, text: str, path: Path, line: int) -> str:
        return text if self.unknown(text, path, line) else text.format_map(self.values)

    def lines(self, text: str, path: Path, first_line: int) -> str:
        """Fill a multi-line text, reporting each problem on the line where it is."""
        bad = [self.unknown(t, path, first_line + n) for n, t in enumerate(text.splitlines())]
        return text if any(bad) else text.format_map(self.values)


def _read_profile(reader: _Reader) -> dict[str, Any]:
    path = reader.root / "profile.yaml"
    profile = reader.yaml_file(path)
    if profile is None:
        return {}
    if not isinstance(profile, dict):
        reader.problem(path, 1, "the profile must be a mapping")
        return {}
    for key in PROFILE_REQUIRED:
        if not str(profile.get(key) or "").strip():
            reader.problem(path, 1, f"missing field '{key}'")
    return profile


def _read_topics(reader: _Reader) -> dict[str, Topic]:
    path = reader.root / "topics.yaml"
    raw = reader.yaml_file(path) or []
    topics: dict[str, Topic] = {}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("id") or not item.get("title"):
            reader.problem(path, 1, f"each topic needs an id and a title: {item!r}")
            continue
        topics[item["id"]] = Topic(str(item["id"]), str(item["title"]), str(item.get("icon", "")))
    if not topics:
        reader.problem(path, 1, "no topics defined")
    return topics


def _read_texts(reader: _Reader, fill: _Filler) -> dict[str, str]:
    """The bundled sentences, overridden by the library's own texts.yaml where it has one.

    A commune that changes two sentences writes only those two; new bot features bring
    their sentences with them instead of breaking every library that lacks the new keys.
    """
    texts: dict[str, str] = {}
    for path in dict.fromkeys((BUNDLED_CONTENT / "texts.yaml", reader.root / "texts.yaml")):
        if not path.exists() and path != BUNDLED_CONTENT / "texts.yaml":
            continue
        raw = reader.yaml_file(path)
        if not isinstance(raw, dict):
            if raw is not None:
                reader.problem(path, 1, "texts.yaml must map names to sentences")
            continue
        for key, value in raw.items():
            line = _key_line(path, str(key))
            # Runtime values such as {title} are filled later by Library.text, so only the
            # profile's placeholders are filled here; the rest must be declared runtime ones.
            runtime = {n for n in placeholders(str(value)) if n in RUNTIME_PLACEHOLDERS}
            escaped = str(value)
            for name in runtime:
                escaped = escaped.replace("{" + name + "}", "{{" + name + "}}")
            texts[str(key)] = fill(escaped, path, line)
    return texts


# Placeholders texts.yaml may use that the code fills at reply time.
RUNTIME_PLACEHOLDERS = {
    "title", "number", "total", "heading", "code", "query", "hours", "due", "channels",
}  # fmt: skip


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the 28th at most, so every month has it)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, 28))


def _check_review(reader: _Reader, path: Path, checked: date | None, due_before: date) -> None:
    if checked is None:
        reader.warn(path, 1, "no 'checked:' date: nobody has checked it against its sources")
    elif checked < due_before:
        reader.warn(
            path,
            _key_line(path, "checked"),
            f"last checked {checked:%Y-%m-%d}, before {due_before:%Y-%m-%d}: check it again",
        )


def _read_guides(
    reader: _Reader, topics: dict[str, Topic], fill: _Filler, due_before: date
) -> dict[str, Guide]:
    guides: dict[str, Guide] = {}
    codes: dict[int, str] = {}
    links: list[tuple[Path, int, str]] = []
    for path in sorted((reader.root / "guides").rglob("*.md")):
        meta_raw, body, body_line = reader.front_matter(path)
        if meta_raw is None:
            continue
        meta = reader.validated(GuideMeta, meta_raw, path)
        if meta is None:
            continue
        if meta.id in guides:
            reader.problem(path, _key_line(path, "id"), f"duplicate guide id '{meta.id}'")
            continue
        if meta.code in codes:
            reader.problem(
                path,
                _key_line(path, "code"),
                f"code {meta.code} already used by '{codes[meta.code]}'",
            )
        if meta.topic not in topics:
            reader.problem(path, _key_line(path, "topic"), f"unknown topic '{meta.topic}'")
        for related in meta.related:
            links.append((path, _key_line(path, "related"), related))
        raw_steps = _split_steps(body, body_line)
        if not raw_steps:
            reader.problem(path, body_line, "a guide needs at least one '## ' step")
        if len(raw_steps) > MAX_STEPS:
            reader.problem(path, raw_steps[MAX_STEPS][0], f"more than {MAX_STEPS} steps")
        steps = []
        for line, title, text in raw_steps:
            for offset, text_line in enumerate(text.splitlines(), 1):
                links.extend((path, line + offset, t) for _, t in GUIDE_LINK.findall(text_line))
            filled = fill.lines(text, path, line + 1).strip()
            if not filled:
                reader.problem(path, line, f"step '{title}' is empty")
            if len(filled) > MAX_STEP_CHARS:
                reader.problem(
                    path,
                    line,
                    f"step '{title}' is {len(filled)} characters; "
                    f"at most {MAX_STEP_CHARS} fit on one phone screen",
                )
            steps.append(Step(fill(title, path, line), filled))
        codes[meta.code] = meta.id
        _check_review(reader, path, meta.checked, due_before)
        guides[meta.id] = Guide(
            id=meta.id,
            code=meta.code,
            title=fill(meta.title, path, _key_line(path, "title")),
            topic=meta.topic,
            summary=fill(meta.summary, path, _key_line(path, "summary")),
            # Filled too, so a guide can match the commune's own names (former_units).
            keywords=tuple(fill(k, path, _key_line(path, "keywords")) for k in meta.keywords),
            questions=tuple(fill(q, path, _key_line(path, "questions")) for q in meta.questions),
            related=tuple(meta.related),
            updated=meta.updated,
            source=meta.source[0],
            steps=tuple(steps),
            sources=tuple(meta.source),
            checked=meta.checked,
        )
    for path, line, target in links:
        if target not in guides:
            reader.problem(path, line, f"link to a guide that does not exist: '{target}'")
    return {gid: _resolve_links(g, guides) for gid, g in guides.items()}


def _resolve_links(guide: Guide, guides: dict[str, Guide]) -> Guide:
    """Turn `[label](guide:id)` into text every channel can show: "label (#code)"."""

    def shown(match: re.Match[str]) -> str:
        target = guides.get(match.group(2))
        return f"{match.group(1)} (#{target.code})" if target else match.group(1)

    steps = tuple(Step(s.title, GUIDE_LINK.sub(shown, s.body)) for s in guide.steps)
    return Guide(**{**guide.__dict__, "steps": steps})


def _read_alerts(reader: _Reader, fill: _Filler) -> dict[str, Alert]:
    alerts: dict[str, Alert] = {}
    for path in sorted((reader.root / "alerts").glob("*.md")):
        meta_raw, body, body_line = reader.front_matter(path)
        if meta_raw is None:
            continue
        meta = reader.validated(AlertMeta, meta_raw, path)
        if meta is None:
            continue
        if meta.id in alerts:
            reader.problem(path, _key_line(path, "id"), f"duplicate alert id '{meta.id}'")
            continue
        text = fill(body.strip(), path, body_line)
        if len(text) > MAX_ALERT_CHARS:
            reader.problem(
                path, body_line, f"alert is {len(text)} characters; at most {MAX_ALERT_CHARS}"
            )
        alerts[meta.id] = Alert(
            meta.id, fill(meta.title, path, 2), text, meta.updated, meta.source[0]
        )
    return alerts


def _read_not_covered(reader: _Reader) -> list[NotCovered]:
    path = reader.root / "not_covered.yaml"
    if not path.exists():
        return []
    raw = reader.yaml_file(path)
    subjects = []
    for item in raw if isinstance(raw, list) else []:
        keywords = item.get("keywords") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not item.get("title") or not isinstance(keywords, list):
            reader.problem(path, 1, f"each entry needs a title and a list of keywords: {item!r}")
            continue
        subjects.append(NotCovered(str(item["title"]), tuple(str(k) for k in keywords)))
    return subjects


def read_library(
    root: Path, review_months: int = REVIEW_MONTHS, today: date | None = None
) -> tuple[Library, list[Problem]]:
    """Read everything, returning the library and every problem found on the way.

    Guides last checked more than `review_months` before `today` are `library.warnings`:
    worth a look, never a reason to stop serving the library."""
    reader = _Reader(Path(root))
    if not reader.root.is_dir():
        reader.problem(reader.root, 1, "content folder does not exist")
        return Library({}, {}, {}, {}, {}), reader.problems
    profile = _read_profile(reader)
    fill = _Filler(reader, profile)
    topics = _read_topics(reader)
    texts = _read_texts(reader, fill)
    due_before = months_before(today or date.today(), review_months)
    guides = _read_guides(reader, topics, fill, due_before)
    alerts = _read_alerts(reader, fill)
    library = Library(profile, topics, guides, alerts, texts, _read_not_covered(reader))
    from bot.surveys.definitions import survey_problems  # imported here: it imports this module

    reader.problems.extend(survey_problems(reader.root, profile))
    library.warnings = reader.warnings
    return library, reader.problems


def load_library(root: Path) -> Library:
    """The library, or ContentError listing every problem: the bot never serves a broken one."""
    library, problems = read_library(root)
    if problems:
        raise ContentError(problems)
    return library
