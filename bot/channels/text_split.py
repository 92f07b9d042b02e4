"""Cutting a long text into messages a platform accepts, at paragraph breaks where possible;
numbered choices for platforms without buttons."""

from collections.abc import Callable, Sequence

from bot.messages import Reply


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


def numbered_pieces(replies: Sequence[Reply]) -> list[str]:
    """Each reply's text with its buttons as numbered lines, numbered across all the replies.

    The engine maps a typed number to the n-th button of all the replies together, and the
    console's render_numbered numbers them that way: each reply's piece is what rendering one
    more reply adds, so the numbers here are exactly the console's. Images go separately.
    """
    from bot.channels.console import render_numbered

    pieces, previous = [], ""
    without_images = [Reply(r.text, r.buttons) for r in replies]
    for count in range(1, len(replies) + 1):
        rendered = render_numbered(without_images[:count])
        pieces.append(rendered[len(previous) :].strip("\n"))
        previous = rendered
    return pieces
