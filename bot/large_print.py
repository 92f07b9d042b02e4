"""Large-print plain text of a guide: numbered steps for the leaflet elderly citizens take home."""

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from bot.channels.base import label_of
from bot.library import Guide, Library
from bot.links import share_links

LINE_WIDTH = 38  # few words per line: the leaflet is printed at 18 pt or larger


def large_print(guide: Guide, library: Library) -> str:
    def wrap(text: str, indent: str = "") -> list[str]:
        lines: list[str] = []
        for paragraph in text.splitlines():
            lines.extend(
                textwrap.wrap(
                    paragraph, LINE_WIDTH, initial_indent=indent, subsequent_indent=indent
                )
                or [""]
            )
        return lines

    out = [*wrap(guide.title.upper()), "=" * LINE_WIDTH, ""]
    for number, step in enumerate(guide.steps, 1):
        out.append(f"BƯỚC {number}. {step.title.upper()}")
        out.extend(wrap(step.body, "   "))
        out.append("")
    channels = "/".join(
        dict.fromkeys(label_of(link.channel) for link in share_links(library, None, None))
    )
    out.extend(
        wrap(library.text("large_print_help", code=guide.code, channels=channels or "Trợ lý"))
    )
    return "\n".join(out)


# --- shortening a step to its first sentences (posters, large-print leaflets) -------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
ITEM = "• "  # how poster lines mark a list item (designs.lead_lines turns "- " into this)


@dataclass(frozen=True)
class Unit:
    """A piece a shortened step keeps whole or drops whole: a sentence, or a sentence that
    announces a list (ends with ':') together with its items."""

    text: str
    announces_list: bool = False


def lead_units(lines: list[str]) -> list[Unit]:
    """The sentences of a step's lead lines, in order; a list stays with its announcement."""
    units: list[Unit] = []
    for line in lines:
        if line.startswith(ITEM) and units and units[-1].announces_list:
            units[-1] = Unit(f"{units[-1].text} {line}", True)
            continue
        for sentence in _SENTENCE_END.split(line):
            if sentence.strip():
                units.append(Unit(sentence.strip(), sentence.rstrip().endswith(":")))
    return units


def first_sentences(lines: list[str], fits: Callable[[str], bool]) -> str:
    """As many whole units as `fits`, from the first. A sentence announcing a list is never
    kept without its list: when the two do not fit together, both are dropped and what
    follows is kept instead. A plain sentence too long to fit is returned for the caller to
    cut, as before."""
    kept = ""
    for unit in lead_units(lines):
        if unit.announces_list and (ITEM not in unit.text or not fits(unit.text)):
            if kept:
                break  # what came before stands on its own
            continue
        candidate = f"{kept} {unit.text}" if kept else unit.text
        if kept and not fits(candidate):
            break
        kept = candidate
    return kept
