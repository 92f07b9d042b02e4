"""Loads and validates content/: the only code that reads the library folder (the files'
reading machinery is bot/content_files.py, the commune profile's rules bot/profile.py)."""

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

import content
from bot.asked import Asked, read_asked
from bot.content_files import ContentError, Filler, Problem, Reader, key_line, placeholders
from bot.profile import read_profile

BUNDLED_CONTENT = Path(content.__file__).resolve().parent
MAX_STEP_CHARS = 700  # one phone screen at a readable size
MAX_STEPS = 7
MAX_ALERT_CHARS = 600
REVIEW_MONTHS = 6  # default age after which `content check` asks for a guide to be re-checked
GUIDE_LINK = re.compile(r"\[([^\]]+)\]\(guide:([a-z0-9-]+)\)")
GUIDE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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
    # Citizens' questions with the guide that answers each: the matcher's examples.
    asked: tuple[Asked, ...] = ()
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


def _split_steps(body: str, first_line: int) -> list[tuple[int, str, str]]:
    """Return (line, heading, text) per `## ` section; text before the first heading is ignored."""
    steps: list[tuple[int, str, list[str]]] = []
    for offset, line in enumerate(body.splitlines()):
        if line.startswith("## "):
            steps.append((first_line + offset, line[3:].strip(), []))
        elif steps:
            steps[-1][2].append(line)
    return [(line, title, "\n".join(text)) for line, title, text in steps]


def _read_topics(reader: Reader) -> dict[str, Topic]:
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


def _read_texts(reader: Reader, fill: Filler) -> dict[str, str]:
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
            line = key_line(path, str(key))
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


def _check_review(reader: Reader, path: Path, checked: date | None, due_before: date) -> None:
    if checked is None:
        reader.warn(path, 1, "no 'checked:' date: nobody has checked it against its sources")
    elif checked < due_before:
        reader.warn(
            path,
            key_line(path, "checked"),
            f"last checked {checked:%Y-%m-%d}, before {due_before:%Y-%m-%d}: check it again",
        )


def _read_guides(
    reader: Reader, topics: dict[str, Topic], fill: Filler, due_before: date
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
            reader.problem(path, key_line(path, "id"), f"duplicate guide id '{meta.id}'")
            continue
        if meta.code in codes:
            reader.problem(
                path,
                key_line(path, "code"),
                f"code {meta.code} already used by '{codes[meta.code]}'",
            )
        if meta.topic not in topics:
            reader.problem(path, key_line(path, "topic"), f"unknown topic '{meta.topic}'")
        for related in meta.related:
            links.append((path, key_line(path, "related"), related))
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
            title=fill(meta.title, path, key_line(path, "title")),
            topic=meta.topic,
            summary=fill(meta.summary, path, key_line(path, "summary")),
            # Filled too, so a guide can match the commune's own names (former_units).
            keywords=tuple(fill(k, path, key_line(path, "keywords")) for k in meta.keywords),
            questions=tuple(fill(q, path, key_line(path, "questions")) for q in meta.questions),
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


def _read_alerts(reader: Reader, fill: Filler) -> dict[str, Alert]:
    alerts: dict[str, Alert] = {}
    for path in sorted((reader.root / "alerts").glob("*.md")):
        meta_raw, body, body_line = reader.front_matter(path)
        if meta_raw is None:
            continue
        meta = reader.validated(AlertMeta, meta_raw, path)
        if meta is None:
            continue
        if meta.id in alerts:
            reader.problem(path, key_line(path, "id"), f"duplicate alert id '{meta.id}'")
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


def _read_not_covered(reader: Reader) -> list[NotCovered]:
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
    root: Path,
    review_months: int = REVIEW_MONTHS,
    today: date | None = None,
    profile_text: str | None = None,
) -> tuple[Library, list[Problem]]:
    """Read everything, returning the library and every problem found on the way
    (`profile_text`: that profile instead of profile.yaml's, to check a change before writing).

    Guides last checked more than `review_months` before `today` are `library.warnings`:
    worth a look, never a reason to stop serving the library."""
    reader = Reader(Path(root))
    if not reader.root.is_dir():
        reader.problem(reader.root, 1, "content folder does not exist")
        return Library({}, {}, {}, {}, {}), reader.problems
    profile = read_profile(reader, profile_text)
    fill = Filler(reader, profile)
    topics = _read_topics(reader)
    texts = _read_texts(reader, fill)
    due_before = months_before(today or date.today(), review_months)
    guides = _read_guides(reader, topics, fill, due_before)
    alerts = _read_alerts(reader, fill)
    asked = read_asked(reader, guides)
    library = Library(profile, topics, guides, alerts, texts, _read_not_covered(reader), asked)
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
