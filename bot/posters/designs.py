"""The three designs: counter poster, guide poster (normal or large print), procedure sheet.

Each returns a laid-out Document; nothing here draws. Every sentence printed comes from
content/texts.yaml or the commune profile, every link from bot.links.
"""

import dataclasses
import re
from datetime import date

from bot.large_print import ITEM, first_sentences
from bot.library import Guide, Library
from bot.links import code_text, share_links
from bot.posters.fonts import BOLD, REGULAR
from bot.posters.layout import (
    A4,
    ACCENT,
    MM,
    Box,
    Column,
    Document,
    Item,
    Page,
    Rect,
    TextLine,
    line_height,
    qr_block,
    text_width,
    wrap,
)
from bot.posters.procedures import Procedure
from bot.surveys.definitions import Survey
from bot.surveys.links import survey_code_text, survey_links

SOURCE = "poster"  # the start-payload source tag: scans of posters can be counted


def _printable() -> Box:
    return Page().printable


def _shift(items: list[Item], dy: float) -> list[Item]:
    return [dataclasses.replace(i, box=dataclasses.replace(i.box, y=i.box.y + dy)) for i in items]


def _rule(x: float, y: float, width: float, thickness: float = 1.5) -> Rect:
    return Rect(Box(x, y, width, thickness), fill=ACCENT)


# --- the counter poster ------------------------------------------------------------


def counter_poster(library: Library) -> Document:
    """Centre name, the big line, every channel's QR code side by side, hotline, hours."""
    return _counter_like(library, "counter", library.text("poster_tagline"),
                         _channel_codes(library, None))  # fmt: skip


def survey_poster(library: Library, survey: Survey) -> Document:
    """The counter poster's layout for a survey: its title, and QR codes that open it."""
    codes = []
    for link in survey_links(library, survey, SOURCE):
        label = library.texts.get(f"poster_{link.channel}", link.channel)
        caption = (
            library.text("poster_any_guide_code", code=survey_code_text(survey))
            if link.text_to_type
            else library.text("poster_survey_scan")
        )
        codes.append((label, link.url, caption))
    headline = library.text("poster_survey_headline", title=survey.title)
    return _counter_like(library, f"survey-{survey.id}", headline, codes)


def _counter_like(
    library: Library, name: str, headline: str, codes: list[tuple[str, str, str]]
) -> Document:
    area = _printable()
    for scale in (1.0, 0.92, 0.85, 0.78, 0.7, 0.6):
        items, height = _counter_items(library, area, scale, headline, codes)
        if height <= area.height:
            break
    # Centre the block vertically: a short poster looks deliberate, not unfinished.
    offset = area.y + max(0.0, (area.height - height) / 2)
    document = Document(name, [Page(_shift(items, offset))])
    if scale < 1:
        document.notes.append(f"text and QR codes drawn at {scale:.0%} to fit the page")
    return document


def _counter_items(
    library: Library, area: Box, scale: float, headline: str, codes: list[tuple[str, str, str]]
) -> tuple[list[Item], float]:
    profile = library.profile
    column = Column(area.x, area.width, 0)
    column.paragraph(str(profile.get("centre_name", "")), 24 * scale, BOLD, ACCENT, "center")
    column.space(10 * scale)
    column.items.append(_rule(area.x + area.width * 0.2, column.y, area.width * 0.6, 2))
    column.space(18 * scale)
    column.paragraph(headline, 32 * scale, BOLD, align="center")
    column.space(30 * scale)

    gap = 30.0
    width = (area.width - gap * (len(codes) - 1)) / max(1, len(codes))
    qr_size = min(width - 20, 75 * MM * scale)
    top, bottom = column.y, column.y
    for index, (label, url, caption) in enumerate(codes):
        cell = Column(area.x + index * (width + gap), width, top)
        cell.paragraph(label, 26 * scale, BOLD, align="center")
        cell.space(6 * scale)
        cell.items.append(qr_block(url, cell.x + (width - qr_size) / 2, cell.y, qr_size))
        cell.space(qr_size + 6 * scale)
        cell.paragraph(caption, 15 * scale, align="center")
        column.items.extend(cell.items)
        bottom = max(bottom, cell.y)
    column.y = bottom + 30 * scale
    hotline = _keep_phone_together(library.text("poster_hotline"), library)
    column.paragraph(hotline, 28 * scale, BOLD, align="center")
    column.space(12 * scale)
    column.paragraph(library.text("poster_hours"), 15 * scale, align="center")
    column.space(18 * scale)
    column.paragraph(library.text("poster_how_to_use"), 15 * scale, align="center")
    return column.items, column.y


def _keep_phone_together(text: str, library: Library) -> str:
    hotline = str(library.profile.get("hotline", ""))
    return text.replace(hotline, hotline.replace(" ", "\u00a0")) if hotline else text


def _channel_codes(library: Library, guide: Guide | None) -> list[tuple[str, str, str]]:
    """(label, link, caption) per channel the centre runs, most used first. A channel whose
    link opens the guide says "scan"; one whose link cannot carry it says what to type."""
    codes = []
    for link in share_links(library, guide, SOURCE):
        kind = "guide" if guide else "counter"
        caption_key = f"poster_{link.channel}_{kind}"
        if caption_key not in library.texts:
            caption_key = (
                f"poster_any_{kind}_code" if guide and link.text_to_type else f"poster_any_{kind}"
            )
        values = {"code": code_text(guide)} if guide else {}
        label = library.texts.get(f"poster_{link.channel}", link.channel)
        codes.append((label, link.url, library.text(caption_key, **values)))
    return codes


# --- a guide poster ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Style:
    header: float
    title: float
    title_lines: int
    step_sizes: tuple[float, ...]  # body sizes to try, largest first
    qr: float
    caption: float
    help: float
    colour: str


NORMAL = _Style(11, 26, 3, (13, 12, 11, 10, 9), 40 * MM, 12, 14, ACCENT)
# Large print: at least 18 pt everywhere, black on white, so fewer words fit on a line.
LARGE = _Style(18, 30, 4, (20, 19, 18), 38 * MM, 18, 20, "#000000")

_MARKUP = re.compile(r"\*\*|__|`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BULLET = re.compile(r"^\s*[-*+]\s+")


def lead_lines(body: str) -> list[str]:
    """The first paragraph of a step as plain lines: the poster's short form of the step."""
    found = paragraphs(body)
    return found[0] if found else []


def paragraphs(body: str) -> list[list[str]]:
    """A step's paragraphs as plain lines. A paragraph that ends by announcing a list (':')
    takes the list after the blank line, so the two are never split."""
    found: list[list[str]] = [[]]
    for raw in body.strip().splitlines():
        if not raw.strip():
            if found[-1] and not found[-1][-1].endswith(":"):
                found.append([])
            continue
        found[-1].append(_BULLET.sub(ITEM, _LINK.sub(r"\1", _MARKUP.sub("", raw))).strip())
    return [p for p in found if p]


def guide_poster(library: Library, guide: Guide, large: bool = False) -> Document:
    """Title, the steps in short form fitted to the page, QR codes that open the guide, hotline."""
    style = LARGE if large else NORMAL
    area = _printable()
    head = Column(area.x, area.width, area.y)
    head.paragraph(str(library.profile.get("centre_name", "")), style.header, BOLD, style.colour)
    head.space(4)
    head.items.append(_rule(area.x, head.y, area.width))
    head.space(12)
    notes = []
    title = library.text("poster_guide_title", code=guide.code, title=guide.title)
    if len(wrap(title, BOLD, style.title, area.width)) > style.title_lines:
        notes.append("title shortened")
    head.paragraph(title, style.title, BOLD, max_lines=style.title_lines)
    head.space(style.title * 0.6)

    footer = _guide_footer(library, guide, style, area)
    steps_bottom = min(i.box.y for i in footer) - 14
    steps, shortened = _fit_steps(guide, style, Column(area.x, area.width, head.y), steps_bottom)
    if shortened:
        notes.append(shortened)
    name = f"{guide.id}-large" if large else guide.id
    return Document(name, [Page(head.items + steps + footer)], notes)


def _steps(
    guide: Guide, start: Column, size: float, detail: str, title_lines: int, body_lines: int = 3
) -> Column:
    """detail: 'lead' (first paragraph), 'first' (whole sentences of its first line within
    `body_lines`, a single long one cut) or 'titles'."""
    column = Column(start.x, start.width, start.y)
    for number, step in enumerate(guide.steps, 1):
        column.paragraph(f"{number}. {step.title}", size + 1, BOLD, max_lines=title_lines)
        body = lead_lines(step.body)
        if detail == "lead":
            for text in body:
                column.paragraph(text, size, indent=size * 1.2)
        elif detail == "first" and body:
            width = column.width - size * 1.2

            def fits(text: str, size: float = size, width: float = width) -> bool:
                return len(wrap(text, REGULAR, size, width)) <= body_lines

            # Whole sentences that fit; a list's announcement never without its list: when
            # the two do not fit, both go and the next paragraph stands in for them.
            text = next((t for p in paragraphs(step.body) if (t := first_sentences(p, fits))), "")
            if text:
                column.paragraph(text, size, indent=size * 1.2, max_lines=body_lines)
        column.space(size * 0.6)
    return column


def _shortening(detail: str, cut: bool) -> str | None:
    if cut:
        return "step text cut to fit"
    return None if detail == "lead" else "steps shortened to their first sentences"


def _fit_steps(
    guide: Guide, style: _Style, start: Column, bottom: float
) -> tuple[list[Item], str | None]:
    """The most detail at the largest size that fits, never past `bottom`. Anything less than
    each step's first paragraph is reported: first sentences, text cut with '…', titles only."""
    levels = [("lead", 0), ("first", 3), ("first", 2), ("first", 1)]
    for allow_cut in (False, True):
        for detail, body_lines in levels:
            for size in style.step_sizes:
                column = _steps(guide, start, size, detail, 3, body_lines)
                if column.y <= bottom and (allow_cut or not column.cut):
                    return column.items, _shortening(detail, column.cut)
    smallest = style.step_sizes[-1]
    for title_lines in (3, 2, 1):
        column = _steps(guide, start, smallest, "titles", title_lines)
        if column.y <= bottom:
            return column.items, "steps shortened to their titles"
    # Only a page far smaller than A4 gets here: keep the steps that fit, and say so.
    column = Column(start.x, start.width, start.y)
    for number, step in enumerate(guide.steps, 1):
        if column.y + line_height(smallest + 1) > bottom:
            break
        column.paragraph(f"{number}. {step.title}", smallest + 1, BOLD, max_lines=1)
    return column.items, "steps cut to what fits on one page"


def _guide_footer(library: Library, guide: Guide, style: _Style, area: Box) -> list[Item]:
    """QR codes with captions, then the hotline line, anchored to the bottom margin."""
    codes = _channel_codes(library, guide)
    help_line = Column(area.x, area.width, 0)
    help_text = _keep_phone_together(library.text("poster_help"), library)
    help_line.paragraph(help_text, style.help, BOLD, align="center")
    cell_width = area.width / max(1, len(codes))
    captions_width = cell_width - style.qr - 12
    heights = []
    cells: list[list[Item]] = []
    for index, (label, url, caption) in enumerate(codes):
        x = area.x + index * cell_width
        text = Column(x + style.qr + 8, captions_width, 0)
        text.space(style.qr * 0.12)
        text.paragraph(label, style.caption + 2, BOLD, style.colour)
        text.space(4)
        text.paragraph(caption, style.caption)
        cells.append([qr_block(url, x, 0, style.qr), *text.items])
        heights.append(max(style.qr, text.y))
    block = max(heights, default=0.0)
    top = area.bottom - help_line.y - 10 - block
    items: list[Item] = [_rule(area.x, top - 10, area.width, 1)]
    for cell in cells:
        items.extend(_shift(cell, top))
    items.extend(_shift(help_line.items, top + block + 10))
    return items


# --- the procedure sheet ---------------------------------------------------------------


def procedure_sheet(library: Library, procedures: list[Procedure], today: date) -> Document:
    """One row per procedure with its QR code, as many pages as needed, header and page numbers."""
    area = _printable()
    qr_size = 30 * MM
    text_x = area.x + qr_size + 12
    text_width_ = area.right - text_x
    footer_height = line_height(10) + 6
    pages: list[list[Item]] = []

    def new_page() -> Column:
        column = Column(area.x, area.width, area.y)
        column.paragraph(str(library.profile.get("centre_name", "")), 13, BOLD, ACCENT)
        column.paragraph(library.text("procedures_title"), 20, BOLD)
        stamp = f"{library.text('procedures_date')} {today:%d/%m/%Y}"
        column.paragraph(f"{library.text('procedures_scan')} · {stamp}", 10.5)
        column.space(4)
        column.items.append(_rule(area.x, column.y, area.width))
        column.space(8)
        pages.append(column.items)
        return column

    column = new_page()
    rows_on_page = 0
    for number, procedure in enumerate(procedures, 1):
        row = _procedure_row(library, procedure, number, text_x, text_width_)
        height = max(qr_size, max((i.box.bottom for i in row), default=0.0))
        if rows_on_page and column.y + height > area.bottom - footer_height:
            column, rows_on_page = new_page(), 0
        row_items = [qr_block(procedure.url, area.x, 0, qr_size), *row]
        pages[-1].extend(_shift(row_items, column.y))
        column.y += height + 6
        pages[-1].append(Rect(Box(area.x, column.y - 3, area.width, 0.5), fill="#999999"))
        rows_on_page += 1

    total = len(pages)
    document = Document("procedures", [])
    for number, items in enumerate(pages, 1):
        label = library.text("procedures_page", number=number, total=total)
        size = 10
        width = text_width(label, REGULAR, size)
        top = area.bottom - line_height(size)
        box = Box(area.x + (area.width - width) / 2, top, width, line_height(size))
        document.pages.append(Page([*items, TextLine(box, label, REGULAR, size)], A4))
    return document


def _procedure_row(
    library: Library, procedure: Procedure, number: int, x: float, width: float
) -> list[Item]:
    text = Column(x, width, 0)
    text.paragraph(f"{number}. {procedure.name}", 13, BOLD, max_lines=4)
    if procedure.code:
        text.paragraph(library.text("procedures_code", code=procedure.code), 11)
    if procedure.note:
        text.paragraph(procedure.note, 11, max_lines=3)
    text.paragraph(procedure.url, 8, colour="#333333", max_lines=2)
    return text.items
