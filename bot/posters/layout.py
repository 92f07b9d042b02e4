"""The page model both renderers draw: positioned text lines, QR codes and rectangles in points.

Layout happens once, here, with the font's own advance widths; the PDF and PNG renderers only
draw the boxes they are given. Coordinates are points (1/72 inch) from the top-left corner.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

import qrcode
from fontTools.ttLib import TTFont

from bot.posters.fonts import FONT_NAMES, check_glyphs, font_path

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
MARGIN = 15 * MM  # print-ready: inside what office printers can reach
LEADING = 1.25  # line height as a multiple of the font size
QUIET_ZONE = 4  # modules of white around a QR code, as the standard asks
INK = "#000000"
ACCENT = "#0b4f9c"  # dark blue: still high contrast on white


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def inside(self, other: "Box", tolerance: float = 0.01) -> bool:
        return (
            self.x >= other.x - tolerance
            and self.y >= other.y - tolerance
            and self.right <= other.right + tolerance
            and self.bottom <= other.bottom + tolerance
        )


@dataclass(frozen=True)
class TextLine:
    box: Box
    text: str
    font: str
    size: float
    colour: str = INK

    @property
    def baseline(self) -> float:
        return self.box.y + (self.box.height - self.size) / 2 + ascent(self.font) * self.size


@dataclass(frozen=True)
class QRCode:
    box: Box  # square, quiet zone included
    data: str
    modules: tuple[tuple[bool, ...], ...]  # quiet zone included


@dataclass(frozen=True)
class Rect:
    box: Box
    fill: str | None = None
    stroke: str | None = None
    line_width: float = 1.0


Item = TextLine | QRCode | Rect


@dataclass
class Page:
    items: list[Item] = field(default_factory=list)
    size: tuple[float, float] = A4

    @property
    def printable(self) -> Box:
        return Box(MARGIN, MARGIN, self.size[0] - 2 * MARGIN, self.size[1] - 2 * MARGIN)

    def texts(self) -> list[TextLine]:
        return [i for i in self.items if isinstance(i, TextLine)]

    def qr_codes(self) -> list[QRCode]:
        return [i for i in self.items if isinstance(i, QRCode)]


@dataclass
class Document:
    """One poster or sheet: its pages, and what had to give way to make it fit."""

    name: str
    pages: list[Page]
    notes: list[str] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        return [q.data for page in self.pages for q in page.qr_codes()]

    def check_glyphs(self) -> None:
        texts: dict[str, list[str]] = {name: [] for name in FONT_NAMES}
        for page in self.pages:
            for line in page.texts():
                texts[line.font].append(line.text)
        check_glyphs(texts)


# --- measuring and wrapping ----------------------------------------------------


@dataclass(frozen=True)
class _Metrics:
    units_per_em: int
    ascent: float
    advances: dict[int, int]
    fallback: int


@cache
def _metrics(font: str) -> _Metrics:
    with TTFont(font_path(font)) as tt:
        hmtx = tt["hmtx"].metrics
        advances = {cp: hmtx[glyph][0] for cp, glyph in tt.getBestCmap().items()}
        units = tt["head"].unitsPerEm
        return _Metrics(units, tt["hhea"].ascent / units, advances, hmtx[".notdef"][0])


def ascent(font: str) -> float:
    return _metrics(font).ascent


def text_width(text: str, font: str, size: float) -> float:
    metrics = _metrics(font)
    units = sum(metrics.advances.get(ord(c), metrics.fallback) for c in text)
    return units * size / metrics.units_per_em


_SPACES = re.compile(r"[ \t\r\n]+")


def clean(text: str) -> str:
    """NFC, so every Vietnamese letter is one precomposed glyph; whitespace runs become spaces.
    No-break spaces stay: they hold a phone number together."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap by measured width; a word wider than the line (a URL) is cut."""
    lines: list[str] = []
    current = ""
    for word in clean(text).split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while text_width(current, font, size) > width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and text_width(current[:cut], font, size) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def line_height(size: float) -> float:
    return size * LEADING


@dataclass
class Column:
    """Stacks wrapped paragraphs downwards from `y` in a column; `items` collects the lines."""

    x: float
    width: float
    y: float
    items: list[Item] = field(default_factory=list)
    cut: bool = False  # some paragraph lost words to `max_lines`

    def paragraph(
        self,
        text: str,
        size: float,
        font: str = FONT_NAMES[0],
        colour: str = INK,
        align: str = "left",
        indent: float = 0.0,
        max_lines: int | None = None,
    ) -> int:
        """Add a wrapped paragraph; returns how many lines it took."""
        lines = wrap(text, font, size, self.width - indent)
        if align == "center" and len(lines) > 1:
            lines = _balanced(text, font, size, self.width, len(lines))
        if max_lines is not None and len(lines) > max_lines:
            self.cut = True
            lines = _ellipsis(lines[:max_lines], font, size, self.width - indent)
        for line in lines:
            width = text_width(line, font, size)
            x = self.x + indent
            if align == "center":
                x = self.x + (self.width - width) / 2
            box = Box(x, self.y, width, line_height(size))
            self.items.append(TextLine(box, line, font, size, colour))
            self.y += line_height(size)
        return len(lines)

    def space(self, points: float) -> None:
        self.y += points


def _balanced(text: str, font: str, size: float, width: float, count: int) -> list[str]:
    """The narrowest wrap with the same number of lines: no lonely last word under a headline."""
    low, high = width / count, width
    while high - low > 1:
        middle = (low + high) / 2
        if len(wrap(text, font, size, middle)) > count:
            low = middle
        else:
            high = middle
    return wrap(text, font, size, high)


def _ellipsis(lines: list[str], font: str, size: float, width: float) -> list[str]:
    last = lines[-1]
    while last and text_width(last + "…", font, size) > width:
        last = last[:-1].rstrip()
    return [*lines[:-1], last + "…"]


# --- QR codes --------------------------------------------------------------------


@cache
def qr_modules(data: str) -> tuple[tuple[bool, ...], ...]:
    """The module matrix, quiet zone included, at error correction Q (25% may be damaged)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_block(data: str, x: float, y: float, size: float) -> QRCode:
    return QRCode(Box(x, y, size, size), data, qr_modules(data))
