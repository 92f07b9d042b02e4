"""The poster fonts: DejaVu Sans as shipped by matplotlib, and the check that it has every glyph.

DejaVu Sans covers the whole Vietnamese alphabet with precomposed letters (Latin Extended
Additional), so tone marks stack correctly in Pillow and in PDF viewers alike. The files come
with an installed dependency; nothing is downloaded at run time.
"""

import importlib.util
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FONT_NAMES = (REGULAR, BOLD)
# Characters that are layout, not glyphs: they are never drawn.
NOT_DRAWN = {"\n", "\r", "\t"}


class MissingGlyphs(ValueError):
    """Text the poster font cannot draw: the poster is refused rather than printed with boxes."""


@dataclass(frozen=True)
class Missing:
    character: str
    text: str

    def __str__(self) -> str:
        return f"'{self.character}' (U+{ord(self.character):04X}) in \"{self.text[:60]}\""


def font_dir() -> Path:
    # Located without importing matplotlib itself: only its data files are used.
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise MissingGlyphs("matplotlib (which ships the DejaVu Sans font) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@cache
def font_path(name: str) -> Path:
    path = font_dir() / f"{name}.ttf"
    if not path.is_file():
        raise MissingGlyphs(f"font file {path} is missing: reinstall matplotlib")
    return path


@cache
def covered(name: str) -> frozenset[int]:
    """Code points the font has a glyph for."""
    with TTFont(font_path(name), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(name: str, texts: Iterable[str]) -> list[Missing]:
    have = covered(name)
    missing: dict[str, Missing] = {}
    for text in texts:
        for character in unicodedata.normalize("NFC", text):
            if character not in NOT_DRAWN and ord(character) not in have:
                missing.setdefault(character, Missing(character, text))
    return list(missing.values())


def check_glyphs(texts_by_font: dict[str, list[str]]) -> None:
    """Raise MissingGlyphs naming every character the fonts cannot draw, and where it is."""
    problems = [
        f"{name} has no glyph for {item}"
        for name, texts in texts_by_font.items()
        for item in missing_glyphs(name, texts)
    ]
    if problems:
        raise MissingGlyphs("cannot draw this text:\n  " + "\n  ".join(problems))
