"""Cutting a long text into messages a platform accepts, at paragraph breaks where possible."""

from collections.abc import Callable


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Pieces within `limit` as `measure` counts; cut at paragraphs, else lines, else spaces."""
    if measure(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        parts = text.split(separator)
        if len(parts) > 1:
            break
    else:
        return _hard_split(text, limit, measure)
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if measure(part) <= limit:
            current = part
        else:
            *whole, current = split_text(part, limit, measure)
            pieces.extend(whole)
    if current:
        pieces.append(current)
    return pieces


def _hard_split(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """One long word: cut it anywhere, a character at a time."""
    pieces, current = [], ""
    for char in text:
        if measure(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current] if current else pieces
