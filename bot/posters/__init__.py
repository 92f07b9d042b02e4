"""Printable QR posters: the counter poster, guide posters, large-print leaflets, procedure sheets.

    document = guide_poster(library, guide, large=True)
    save(document, Path("vneid.pdf"))      # .pdf: vector, A4; .png: 300 dpi A4

Layout (layout.py) is done once in points; render.py draws it. Fonts and their glyph check are
in fonts.py, the designs in designs.py, the CSV of procedures in procedures.py.
"""

import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.library import Guide, Library
from bot.posters.designs import (
    SOURCE,
    counter_poster,
    guide_poster,
    procedure_sheet,
    survey_poster,
)
from bot.posters.fonts import MissingGlyphs
from bot.posters.layout import Document
from bot.posters.procedures import Procedure, ProcedureFileError, Rejected, read_procedures
from bot.posters.render import save

FORMATS = ("pdf", "png")

__all__ = [
    "FORMATS",
    "SOURCE",
    "Document",
    "MissingGlyphs",
    "Procedure",
    "ProcedureFileError",
    "Rejected",
    "Written",
    "cached_poster",
    "counter_poster",
    "find_guide",
    "guide_poster",
    "procedure_sheet",
    "read_procedures",
    "save",
    "survey_poster",
    "write_all",
]


@dataclass
class Written:
    """What `write_all` did for one poster: files written, what was shortened, or why it failed."""

    name: str
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def find_guide(library: Library, reference: str) -> Guide | None:
    """A guide by id, '#12' or '12': what staff naturally type."""
    reference = reference.strip()
    code = reference.lstrip("#")
    if code.isdigit():
        return library.by_code.get(int(code))
    return library.guides.get(reference)


def write_all(library: Library, out_dir: Path, fmt: str = "pdf") -> Iterator[Written]:
    """The counter poster, then one poster per guide; a failure is reported and the rest go on."""
    jobs = [("counter", None)] + [(g.id, g) for g in sorted(library.guides.values(), key=_code)]
    for name, guide in jobs:
        written = Written(name)
        try:
            document = guide_poster(library, guide) if guide else counter_poster(library)
            written.notes = document.notes
            written.paths = save(document, Path(out_dir) / f"{name}.{fmt}")
        except MissingGlyphs as error:
            written.error = str(error)
        yield written


def _code(guide: Guide) -> int:
    return guide.code


def cached_poster(
    library: Library, guide: Guide | None, cache_dir: Path, large: bool = False
) -> Path:
    """The PNG of a guide's poster (or the counter poster), drawn once per content version;
    `large`: the guide's large-print poster."""
    document = guide_poster(library, guide, large=large) if guide else counter_poster(library)
    # The key covers what is printed, so an edited guide or profile gets a fresh file.
    printed = repr([page.items for page in document.pages]).encode()
    digest = hashlib.sha256(printed).hexdigest()[:16]
    path = Path(cache_dir) / f"{document.name}-{digest}.png"
    if not path.exists():
        partial = path.with_name(f"{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp.png")
        save(document, partial)
        partial.replace(path)  # atomic: a concurrent request never sees half a file
    return path
