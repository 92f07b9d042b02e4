"""Survey definitions: content/surveys/<id>.yaml, read and validated with file:line problems.

A survey is data a centre can edit: a title, an intro, questions, a closing text. Every
question and option has a stable id, so results of two rounds compare even after wording
changes. What an answer is stored as (SurveyAnswer.choice): the option id for `single`,
the chosen ids joined by "|" for `multi`, "co"/"khong" for `yesno`, "1".."5" for `scale`,
the village's name for `village` (its options are profile.yaml's `villages`, and the answer
also becomes the response's village); `number` and `text` answers have their own columns.
"""

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.content_files import ContentError, Problem
from bot.library import BUNDLED_CONTENT

ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
KINDS = ("single", "multi", "scale", "yesno", "number", "text", "village")
YES, NO = "co", "khong"
SCALE = tuple(str(n) for n in range(1, 6))
MULTI_SEPARATOR = "|"
MAX_OPTIONS = 10
MAX_LABEL = 60  # one big button on a phone
MAX_QUESTIONS = 30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Question(_Strict):
    id: str = Field(pattern=ID, max_length=40)
    kind: Literal["single", "multi", "scale", "yesno", "number", "text", "village"]
    text: str = Field(min_length=3, max_length=500)
    options: dict[str, str] = {}  # id -> button label, in the order shown
    labels: dict[int, str] = {}  # scale: words for some points, e.g. {1: ..., 5: ...}
    min: float | None = None  # number
    max: float | None = None
    # Ask only if every listed earlier question was answered with one of the values.
    when: dict[str, str | int | list[str | int]] = Field(default={}, alias="if")
    # The official indicator this question measures, and which answers count as positive.
    indicator: str | None = Field(default=None, max_length=200)
    positive: list[str | int] = []

    @model_validator(mode="after")
    def _fits_its_kind(self) -> "Question":
        if self.kind in ("single", "multi"):
            if not 2 <= len(self.options) <= MAX_OPTIONS:
                raise ValueError(f"a {self.kind} question needs 2 to {MAX_OPTIONS} options")
        elif self.options:
            raise ValueError(f"a {self.kind} question takes no options")
        for key, label in self.options.items():
            if not _is_id(key):
                raise ValueError(f"option id '{key}' must be lower-case letters, digits and '-'")
            if not str(label).strip() or len(str(label)) > MAX_LABEL:
                raise ValueError(f"option '{key}' needs a label of 1 to {MAX_LABEL} characters")
        if self.labels and (self.kind != "scale" or not set(self.labels) <= {1, 2, 3, 4, 5}):
            raise ValueError("labels are for scale questions, keyed 1 to 5")
        if (self.min is not None or self.max is not None) and self.kind != "number":
            raise ValueError("min and max are for number questions")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        if self.positive:
            if not self.indicator:
                raise ValueError("positive answers need an indicator")
            unknown = {str(p) for p in self.positive} - set(self.values())
            if unknown:
                raise ValueError(f"positive answers that are not options: {sorted(unknown)}")
        return self

    def values(self) -> tuple[str, ...]:
        """The stored values of a choice question, in button order; () for number and text,
        and for a village question before the profile's villages are filled in."""
        if self.kind in ("single", "multi", "village"):
            return tuple(self.options)
        if self.kind == "yesno":
            return (YES, NO)
        if self.kind == "scale":
            return SCALE
        return ()

    def condition(self) -> dict[str, set[str]]:
        return {
            qid: {str(v) for v in (allowed if isinstance(allowed, list) else [allowed])}
            for qid, allowed in self.when.items()
        }


class Survey(_Strict):
    id: str = Field(pattern=ID, max_length=40)
    code: int = Field(ge=1, le=99)  # typed as "#KS<code>" where links carry no payload
    title: str = Field(min_length=3, max_length=120)
    intro: str = Field(min_length=3, max_length=700)
    closing: str = Field(min_length=3, max_length=700)
    named: bool = False  # False: answers are never linked to the person (the default)
    sources: list[str] = []  # where the questions come from (public documents)
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def applies(self, question: Question, answers: dict[str, str | None]) -> bool:
        """Whether `question` is asked, given the choices stored so far (None: skipped)."""
        for target, allowed in question.condition().items():
            given = answers.get(target)
            if given is None or not set(given.split(MULTI_SEPARATOR)) & allowed:
                return False
        return True

    def filled(self, profile: dict[str, Any]) -> "Survey":
        """The texts with the commune profile's placeholders ({centre_name}, ...) filled in,
        and the profile's villages as the options of village questions."""
        values = _profile_values(profile)
        villages = {str(v): str(v) for v in profile.get("villages") or []}

        def fill(q: Question) -> Question:
            update: dict[str, Any] = {"text": q.text.format_map(values)}
            if q.kind == "village":
                update["options"] = villages
            return q.model_copy(update=update)

        texts = {k: getattr(self, k).format_map(values) for k in ("title", "intro", "closing")}
        return self.model_copy(update=texts | {"questions": [fill(q) for q in self.questions]})


def _is_id(text: str) -> bool:
    return re.match(ID, str(text)) is not None


def _profile_values(profile: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in profile.items() if isinstance(v, str | int)}


# --- reading, with a line number for every key and list item ---------------------------------


class _Lined(dict):
    """A YAML mapping that remembers where it and each of its keys are."""

    line: int = 1
    key_lines: dict[Any, int]


class _LinedList(list):
    line: int = 1
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is written twice", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        mapping = _Lined(super().construct_mapping(node, deep=True))
        mapping.line, mapping.key_lines = node.start_mark.line + 1, seen
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> list:
        items = _LinedList(super().construct_sequence(node, deep=True))
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


def _line_of(tree: Any, location: tuple[Any, ...]) -> int:
    """The line of the deepest part of `location` (a pydantic error path) found in the tree."""
    line, node = getattr(tree, "line", 1), tree
    for part in location:
        if isinstance(node, _Lined) and part in node:
            line, node = node.key_lines.get(part, line), node[part]
        elif isinstance(node, _LinedList) and isinstance(part, int) and part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            break
    return line


@dataclass
class _Checker:
    path: Path
    tree: Any
    problems: list[Problem]

    def add(self, location: tuple[Any, ...], message: str, near: str | None = None) -> None:
        """A problem at the key's line, or at the line below it where `near` is written
        (a folded text spans several lines)."""
        line = _line_of(self.tree, location)
        if near:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            line = next((n for n in range(line, len(lines) + 1) if near in lines[n - 1]), line)
        self.problems.append(Problem(self.path, line, message))


def read_survey(path: Path, profile: dict[str, Any]) -> tuple[Survey | None, list[Problem]]:
    """One survey file: the survey (None if unusable) and every problem found in it."""
    try:
        tree = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return None, [Problem(path, mark.line + 1 if mark else 1, f"malformed YAML: {reason}")]
    check = _Checker(path, tree, [])
    if not isinstance(tree, dict):
        check.add((), "a survey file must be a mapping of fields")
        return None, check.problems
    try:
        survey = Survey.model_validate(tree)
    except ValidationError as error:
        for err in error.errors():
            where = ".".join(str(p) for p in err["loc"]) or "survey"
            check.add(tuple(err["loc"]), f"{where}: {err['msg'].removeprefix('Value error, ')}")
        return None, check.problems
    if path.stem != survey.id:
        check.add(("id",), f"the file must be named after the id: {survey.id}.yaml")
    _check_questions(survey, check)
    _check_placeholders(survey, profile, check)
    return (None if check.problems else survey), check.problems


def _check_questions(survey: Survey, check: _Checker) -> None:
    earlier: dict[str, Question] = {}
    for index, question in enumerate(survey.questions):
        here = ("questions", index)
        if question.id in earlier:
            check.add((*here, "id"), f"question id '{question.id}' is used twice")
        for target, allowed in question.condition().items():
            source = earlier.get(target)
            if source is None:
                check.add((*here, "if"), f"condition on '{target}', not an earlier question")
            elif not source.values():
                check.add((*here, "if"), f"condition on '{target}': {source.kind} answers vary")
            elif allowed - set(source.values()):
                unknown = ", ".join(sorted(allowed - set(source.values())))
                check.add((*here, "if"), f"condition on '{target}': no such answer {unknown}")
        earlier[question.id] = question


def _check_placeholders(survey: Survey, profile: dict[str, Any], check: _Checker) -> None:
    known = set(_profile_values(profile))
    texts = [((k,), getattr(survey, k)) for k in ("title", "intro", "closing")]
    texts += [(("questions", i, "text"), q.text) for i, q in enumerate(survey.questions)]
    for location, text in texts:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
        except ValueError:
            check.add(location, "unbalanced { or }")
            continue
        for name in sorted(names - known):
            check.add(location, f"unknown placeholder {{{name}}}", near=f"{{{name}}}")


def read_surveys(
    directory: Path, profile: dict[str, Any]
) -> tuple[dict[str, Survey], list[Problem]]:
    """Every *.yaml in `directory`: surveys by id, and the problems (ids and codes unique)."""
    surveys: dict[str, Survey] = {}
    codes: dict[int, str] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        survey, found = read_survey(path, profile)
        problems.extend(found)
        if survey is None:
            continue
        if survey.code in codes:
            tree = yaml.load(path.read_text("utf-8"), Loader=_LineLoader)
            used = f"code {survey.code} already used by '{codes[survey.code]}'"
            problems.append(Problem(path, _line_of(tree, ("code",)), used))
            continue
        codes[survey.code] = survey.id
        surveys[survey.id] = survey
    return surveys, problems


def survey_dir(content_dir: Path) -> Path:
    """The library's own surveys, or the bundled ones when the library has none."""
    own = Path(content_dir) / "surveys"
    return own if own.is_dir() else BUNDLED_CONTENT / "surveys"


def survey_problems(content_dir: Path, profile: dict[str, Any]) -> list[Problem]:
    """What `troly content check` reports about the library's surveys (none: no problems)."""
    own = Path(content_dir) / "surveys"
    return read_surveys(own, profile)[1] if own.is_dir() else []


_cache: dict[tuple[Any, ...], dict[str, Survey]] = {}


def load_surveys(content_dir: Path, profile: dict[str, Any]) -> dict[str, Survey]:
    """The surveys, filled with the profile; ContentError if any file is broken.

    Cached per folder and file modification times: a handler calls this every turn.
    """
    directory = survey_dir(content_dir)
    files = sorted(directory.glob("*.yaml"))
    used = (tuple(sorted(_profile_values(profile).items())), str(profile.get("villages")))
    key = (str(directory), tuple((p.name, p.stat().st_mtime_ns) for p in files), used)
    if key not in _cache:
        surveys, problems = read_surveys(directory, profile)
        if problems:
            raise ContentError(problems)
        _cache.clear()
        _cache[key] = {sid: s.filled(profile) for sid, s in surveys.items()}
    return _cache[key]
