"""Real documents of every format, made by the tests themselves: scans (text rendered to an
image, wrapped in a PDF or a TIFF), slides, workbooks, CSV and a PDF with a text layer."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pptx
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pptx.util import Inches

SCANNED_PAGES = [
    [
        "Warehouse Safety Notice",
        "Forklifts may only be driven by staff",
        "holding a valid licence number FL-2291.",
        "The loading dock closes at 18:30.",
    ],
    ["Protective equipment", "Hard hats are required in zone C."],
]

BUDGETS = [
    ["Project", "Budget (EUR)", "Owner", "Deadline"],
    ["Apollo", 120000, "Ana Silva", "2027-03-31"],
    ["Hermes", 45500, "Joao Reis", "2026-12-15"],
    ["Vega", 88000, "Marta Costa", "2027-06-30"],
]


def scanned_page(lines: list[str]) -> Image.Image:
    """A page of printed text as a 200-dpi greyscale picture, the way a scanner makes one."""
    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)
    for row, line in enumerate(lines):
        draw.text((150, 200 + row * 80), line, fill=0, font=font)
    return image


def scanned_pdf(path: Path, pages: list[list[str]] = SCANNED_PAGES) -> Path:
    """A PDF of page images only: no text layer."""
    first, *rest = [scanned_page(lines) for lines in pages]
    first.save(path, save_all=True, append_images=rest, resolution=200)
    return path


def scanned_image(path: Path, pages: list[list[str]] = SCANNED_PAGES[:1]) -> Path:
    """A .png or .jpg of one page, or a multi-page .tiff."""
    first, *rest = [scanned_page(lines) for lines in pages]
    first.save(path, save_all=bool(rest), append_images=rest)
    return path


def text_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF with a text layer, a page per string."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def dense_pdf(
    path: Path, words: int = 60_000, word: str = "travel", last: str = "", per_line: int = 300
) -> Path:
    """One large page of `words` copies of `word` in 1-point print, then the sentence `last`:
    a page view's worst case (each cited word stands everywhere on the page)."""
    pdf = FPDF(format=(2400, 2400), unit="pt")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", size=1)
    rows = -(-words // per_line)
    for row in range(rows):
        count = min(per_line, words - row * per_line)
        pdf.text(5, 5 + row * 2300 / rows, " ".join([word] * count))
    pdf.text(5, 2350, last)
    pdf.output(str(path))
    return path


def large_scan(
    path: Path, size: tuple[int, int] = (10_000, 8_000), lines: list[str] = SCANNED_PAGES[0]
) -> Path:
    """A scan of `size` pixels (a page at ~1,200 dpi), its text in proportion, saved in the
    format `path`'s suffix names (a white page compresses to little)."""
    ratio = size[0] / 1700
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=round(44 * ratio))
    for row, line in enumerate(lines):
        draw.text((150 * ratio, (200 + row * 80) * ratio), line, fill=0, font=font)
    image.save(path)
    return path


def table_pdf(path: Path, rows: list[list[object]] = BUDGETS) -> Path:
    """A PDF page with a sentence, a ruled table and another sentence."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 7, "Project budgets for 2027 are listed below.")
    pdf.ln(4)
    with pdf.table() as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(str(value))
    pdf.ln(4)
    pdf.multi_cell(0, 7, "Budgets above 100000 need board approval.")
    pdf.output(str(path))
    return path


def slides(path: Path) -> Path:
    """Two slides: a title and text with speaker notes, then a table."""
    deck = pptx.Presentation()
    deck.core_properties.title = "Quarterly review"
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Quarterly review"
    first.placeholders[1].text = "Revenue grew 12% in the third quarter."
    first.notes_slide.notes_text_frame.text = "Mention that the Porto office opens in March."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "Headcount"
    shape = second.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2))
    for r, row in enumerate([["Team", "People"], ["Support", "14"], ["Research", "9"]]):
        for c, value in enumerate(row):
            shape.table.cell(r, c).text = value
    deck.save(str(path))
    return path


def workbook(path: Path, rows: list[list[object]] = BUDGETS) -> Path:
    """A workbook with a sheet of project budgets and an empty second sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Budgets"
    for row in rows:
        sheet.append(row)
    book.create_sheet("Notes")
    book.save(path)
    return path


def csv_file(path: Path, rows: list[list[object]] = BUDGETS, delimiter: str = ",") -> Path:
    path.write_text("\n".join(delimiter.join(str(v) for v in row) for row in rows) + "\n")
    return path
