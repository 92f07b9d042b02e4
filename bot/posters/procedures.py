"""Reads the notice-board procedure list from CSV, keeping bad rows with their line numbers."""

import csv
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

COLUMNS = ("name", "code", "url", "note")
# Header names a centre may type, in English or Vietnamese (with or without tone marks).
HEADER_NAMES = {
    "name": {"name", "tên", "tên thủ tục", "ten", "ten thu tuc", "thủ tục", "thu tuc"},
    "code": {"code", "mã", "mã thủ tục", "ma", "ma thu tuc", "mã tthc", "ma tthc"},
    "url": {"url", "link", "đường dẫn", "duong dan", "địa chỉ", "dia chi"},
    "note": {"note", "ghi chú", "ghi chu"},
}


class ProcedureFileError(ValueError):
    """The file as a whole cannot be read (encoding, header); row problems are Rejected rows."""


@dataclass(frozen=True)
class Procedure:
    line: int
    name: str
    code: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def _header_map(row: list[str]) -> dict[str, int] | None:
    """Column positions if `row` is a header row, else None (the file has no header)."""
    found = {}
    for position, cell in enumerate(row):
        for column, names in HEADER_NAMES.items():
            if cell.strip().lower() in names:
                found.setdefault(column, position)
    return found or None


def _problem(name: str, url: str) -> str | None:
    if not name:
        return "empty name"
    if not url:
        return "missing URL"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        return f"URL is not an http(s) address: '{url[:80]}'"
    return None


def read_procedures(path: Path) -> tuple[list[Procedure], list[Rejected]]:
    """Good rows and rejected rows, each with the line of the file where its record starts."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProcedureFileError(
            f"{path}: not UTF-8 text (byte {error.start}); save the CSV as 'CSV UTF-8'"
        ) from error
    # Excel writes ';' where the decimal mark is ','; the first line shows which one is used.
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    columns: dict[str, int] | None = None
    procedures: list[Procedure] = []
    rejected: list[Rejected] = []
    first = True
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            rejected.append(Rejected(line, f"unreadable CSV: {error}"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if first:
            first = False
            columns = _header_map(row)
            if columns is not None:
                if "name" not in columns or "url" not in columns:
                    raise ProcedureFileError(
                        f"{path}:{line}: the header needs at least the columns name and url"
                    )
                continue
        positions = columns or {column: i for i, column in enumerate(COLUMNS)}
        values = {column: row[i].strip() if i < len(row) else "" for column, i in positions.items()}
        problem = _problem(values.get("name", ""), values.get("url", ""))
        if problem:
            rejected.append(Rejected(line, problem))
            continue
        procedures.append(
            Procedure(
                line, values["name"], values.get("code", ""), values["url"], values.get("note", "")
            )
        )
    return procedures, rejected
