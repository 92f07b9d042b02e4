"""Reading the files of content/: strict YAML, front matter, and every problem found kept with
its file and line (`troly content check` prints them as path:line: message)."""

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


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


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_StrictLoader)  # safe: _StrictLoader is a SafeLoader


class Reader:
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
            return load_yaml(path.read_text(encoding="utf-8"))
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
            meta = load_yaml("\n".join(lines[1:end]))
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
                self.problem(path, key_line(path, key), f"{where}: {err['msg']}")
            return None


def _yaml_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark else 1


def _yaml_reason(exc: yaml.YAMLError) -> str:
    return getattr(exc, "problem", None) or str(exc).splitlines()[0]


def key_line(path: Path, key: str) -> int:
    if key:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith(f"{key}:"):
                return number
    return 1


def placeholders(text: str) -> set[str]:
    """The `{names}` a text asks for; literal braces are written `{{` and `}}`."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced brace>"}


class Filler:
    """Fills profile placeholders and reports unknown ones with their line."""

    def __init__(self, reader: Reader, profile: dict[str, Any]):
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
