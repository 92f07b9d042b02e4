"""What citizens asked, each with the guide that answers it (or `unknown`): content/asked/*.tsv.

The matcher learns from these the words people really use for a subject ("mần giấy khai sanh
cho thằng nhỏ"), which no guide's text can foresee. Each file is one batch, written by one
author who had not read the guides; the tests and bench/matcher.py measure each batch on a
matcher built from the others, so a batch still tells how the bot does on unseen questions.
"""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.content_files import Reader

FOLDER = "asked"
HEADER = ["query", "expected"]
# A question out of every guide's scope: the matcher should answer "I don't know".
OUT_OF_SCOPE = "unknown"


@dataclass(frozen=True)
class Asked:
    batch: str  # the file's name without .tsv
    query: str
    expected: str  # a guide id, or OUT_OF_SCOPE


def read_asked(reader: Reader, guide_ids: Iterable[str]) -> tuple[Asked, ...]:
    """Every batch under content/asked/, each row checked against the library's guides."""
    known = {*guide_ids, OUT_OF_SCOPE}
    asked: list[Asked] = []
    for path in sorted((reader.root / FOLDER).glob("*.tsv"), key=_in_number_order):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle, delimiter="\t")
            if next(rows, None) != HEADER:
                reader.problem(path, 1, "the first line must be: query<TAB>expected")
                continue
            for row in rows:
                line = rows.line_num
                if not row:
                    continue
                if len(row) != 2 or not row[0].strip():
                    reader.problem(path, line, "each line is a question, a tab, a guide id")
                    continue
                query, expected = row
                if expected not in known:
                    reader.problem(
                        path, line, f"unknown guide '{expected}' (a guide id or {OUT_OF_SCOPE})"
                    )
                else:
                    asked.append(Asked(path.stem, query.strip(), expected))
    return tuple(asked)


def _in_number_order(path: Path) -> list[str | int]:
    """dev2 before dev10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]


def batches(asked: Iterable[Asked]) -> dict[str, list[tuple[str, str]]]:
    """The questions of each batch as (query, expected), in file order."""
    by_batch: dict[str, list[tuple[str, str]]] = {}
    for item in asked:
        by_batch.setdefault(item.batch, []).append((item.query, item.expected))
    return by_batch


def read_batch(path: Path) -> list[tuple[str, str]]:
    """One file of the same shape outside the library (the held-out test questions)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["query"], row["expected"]) for row in csv.DictReader(handle, delimiter="\t")]
