"""Draws a laid-out Document to PDF (vector text, embedded font) or PNG (300 dpi), by extension."""

from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from bot.posters.fonts import FONT_NAMES, font_path
from bot.posters.layout import Document, Page, QRCode, Rect, TextLine

PNG_DPI = 300


def output_paths(document: Document, path: Path) -> list[Path]:
    """A PDF holds every page; a PNG is one page, so page 2 on goes to `name-2.png`, ..."""
    if path.suffix.lower() == ".pdf" or len(document.pages) == 1:
        return [path]
    return [path] + [
        path.with_name(f"{path.stem}-{number}{path.suffix}")
        for number in range(2, len(document.pages) + 1)
    ]


def save(document: Document, path: Path) -> list[Path]:
    """Write the document; the format is the file's extension. Returns the files written."""
    path = Path(path)
    renderer = RENDERERS.get(path.suffix.lower())
    if renderer is None:
        raise ValueError(f"cannot write '{path.name}': the file name must end in .pdf or .png")
    document.check_glyphs()
    path.parent.mkdir(parents=True, exist_ok=True)
    paths = output_paths(document, path)
    renderer(document, paths)
    return paths


# --- PDF ---------------------------------------------------------------------------


@cache
def _register_pdf_fonts() -> None:
    for name in FONT_NAMES:
        # reportlab subsets the TrueType font and embeds it: text stays selectable vector text.
        pdfmetrics.registerFont(TTFont(name, str(font_path(name))))


def _pdf(document: Document, paths: list[Path]) -> None:
    _register_pdf_fonts()
    width, height = document.pages[0].size
    canvas = Canvas(str(paths[0]), pagesize=(width, height), pageCompression=1)
    canvas.setTitle(document.name)
    canvas.setCreator("TroLy")
    for page in document.pages:
        canvas.setPageSize(page.size)
        _pdf_page(canvas, page)
        canvas.showPage()
    canvas.save()


def _pdf_page(canvas: Canvas, page: Page) -> None:
    height = page.size[1]
    for item in page.items:
        if isinstance(item, Rect):
            box = item.box
            if item.fill:
                canvas.setFillColor(item.fill)
            if item.stroke:
                canvas.setStrokeColor(item.stroke)
                canvas.setLineWidth(item.line_width)
            canvas.rect(
                box.x,
                height - box.bottom,
                box.width,
                box.height,
                stroke=int(bool(item.stroke)),
                fill=int(bool(item.fill)),
            )
        elif isinstance(item, TextLine):
            canvas.setFillColor(item.colour)
            canvas.setFont(item.font, item.size)
            canvas.drawString(item.box.x, height - item.baseline, item.text)
        elif isinstance(item, QRCode):
            _pdf_qr(canvas, item, height)


def _pdf_qr(canvas: Canvas, qr: QRCode, page_height: float) -> None:
    module = qr.box.width / len(qr.modules)
    canvas.setFillColor("#ffffff")
    canvas.rect(qr.box.x, page_height - qr.box.bottom, qr.box.width, qr.box.height, 0, 1)
    canvas.setFillColor("#000000")
    path = canvas.beginPath()
    for row_number, row in enumerate(qr.modules):
        top = page_height - qr.box.y - (row_number + 1) * module
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            # One rectangle per run of dark modules: fewer operators, no hairline seams.
            path.rect(qr.box.x + start * module, top, (column - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


# --- PNG ---------------------------------------------------------------------------


@cache
def _png_font(name: str, size_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size_px)


def _png(document: Document, paths: list[Path]) -> None:
    for page, path in zip(document.pages, paths, strict=True):
        _png_page(page).save(path, dpi=(PNG_DPI, PNG_DPI), compress_level=1)


def _png_page(page: Page) -> Image.Image:
    scale = PNG_DPI / 72
    size = (round(page.size[0] * scale), round(page.size[1] * scale))
    image = Image.new("RGB", size, "#ffffff")
    draw = ImageDraw.Draw(image)
    for item in page.items:
        box = item.box
        if isinstance(item, Rect):
            corners = [box.x * scale, box.y * scale, box.right * scale, box.bottom * scale]
            draw.rectangle(
                corners,
                fill=item.fill,
                outline=item.stroke,
                width=max(1, round(item.line_width * scale)) if item.stroke else 0,
            )
        elif isinstance(item, TextLine):
            font = _png_font(item.font, item.size * scale)
            draw.text(
                (box.x * scale, item.baseline * scale),
                item.text,
                font=font,
                fill=item.colour,
                anchor="ls",
            )
        elif isinstance(item, QRCode):
            image.paste(_qr_image(item, scale), (round(box.x * scale), round(box.y * scale)))
    return image


def _qr_image(qr: QRCode, scale: float) -> Image.Image:
    count = len(qr.modules)
    # Whole pixels per module keep every module the same size: scanners like that best.
    module_px = max(1, int(qr.box.width * scale // count))
    small = Image.new("L", (count, count), 255)
    small.putdata([0 if dark else 255 for row in qr.modules for dark in row])
    sharp = small.resize((count * module_px, count * module_px), Image.Resampling.NEAREST)
    side = round(qr.box.width * scale)
    framed = Image.new("L", (side, side), 255)
    offset = (side - sharp.width) // 2
    framed.paste(sharp, (offset, offset))
    return framed.convert("RGB")


RENDERERS: dict[str, Callable[[Document, list[Path]], None]] = {".pdf": _pdf, ".png": _png}
