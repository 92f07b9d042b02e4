"""Answers people type instead of pressing a button: a number, a choice in their own words."""

import re

from bot.matcher import normalize
from bot.surveys.definitions import MULTI_SEPARATOR, NO, YES, Question

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
# Compared without tone marks, as people type them ("co", "ko").
_YES = {"co", "co a", "vang", "u", "yes", "dung", "roi", "co roi"}
_NO = {"khong", "ko", "k", "no", "chua", "khong co"}


def button_labels(question: Question, yes_no: tuple[str, str]) -> list[str]:
    """The button labels of a choice question, in the order of `question.values()`."""
    if question.kind == "yesno":
        return list(yes_no)
    if question.kind == "scale":
        words = question.labels
        return [f"{n} – {words[n]}" if n in words else str(n) for n in range(1, 6)]
    return list(question.options.values())


def typed_number(text: str, question: Question) -> float | None:
    """The first number in the text ("2", "khoảng 3 lần", "1,5"), if within the question's
    min and max; None otherwise."""
    found = _NUMBER.search(text)
    if found is None:
        return None
    number = float(found.group().replace(",", "."))
    if (question.min is not None and number < question.min) or (
        question.max is not None and number > question.max
    ):
        return None
    return number


def typed_choice(question: Question, labels: list[str], text: str) -> str | None:
    """The stored value of the option whose label (or id) the text is, tone marks optional;
    for several choices, their numbers: "1 3" or "1, 3"."""
    typed = normalize(text)
    if question.kind == "multi":
        picks = {int(n) - 1 for n in re.findall(r"\d+", text)}
        values = question.values()
        if picks and all(0 <= p < len(values) for p in picks):
            return MULTI_SEPARATOR.join(values[p] for p in sorted(picks))
        return None
    if question.kind == "yesno":
        return YES if typed in _YES else NO if typed in _NO else None
    for value, label in zip(question.values(), labels, strict=True):
        if typed in (normalize(label), normalize(value)):
            return value
    return None
