"""What PDFium sees on each page of a PDF (drawn rules, pictures), and the tables inside PDFs
kept as rows with their header instead of run-together text.

`page_layout` is cheap: plain pages keep pypdf's fast text. A page with enough drawn paths for
a ruled table (`MIN_RULES`) is read again by pdfplumber in reading order: its text lines outside
the tables, and each table as rows that carry their header (`index/tables.py`) where it stands.
Only a page with a picture on it is a candidate for OCR.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import NamedTuple

import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_c

from index.ocr import PDFIUM
from index.tables import ROW_SEPARATOR, rows_with_header

__all__ = ["MIN_RULES", "PageLayout", "RuledPages", "page_layout", "text_with_tables"]

MIN_RULES = 4  # drawn paths on a page before it may hold a ruled table


class PageLayout(NamedTuple):
    ruled: set[int]  # 0-based indexes of pages with enough drawn paths for a ruled table
    pictured: set[int]  # … of pages with at least one picture (a scan is one)


def page_layout(path: Path) -> PageLayout:
    with PDFIUM:
        document = pypdfium2.PdfDocument(path)
        try:
            layout = PageLayout(set(), set())
            for index in range(len(document)):
                page = document[index]
                paths = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,), max_depth=2)
                if len(list(islice(paths, MIN_RULES))) == MIN_RULES:
                    layout.ruled.add(index)
                pictures = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2)
                if next(pictures, None) is not None:
                    layout.pictured.add(index)
            return layout
        finally:
            document.close()


class RuledPages:
    """The ruled pages of one PDF, read by pdfplumber: the file is opened (and parsed whole)
    once, by the first page read, not once a page."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._document: pdfplumber.pdf.PDF | None = None

    def text(self, index: int) -> str | None:
        """`text_with_tables` of page `index` (0-based)."""
        if self._document is None:
            self._document = pdfplumber.open(self.path)
        page = self._document.pages[index]
        try:
            return text_with_tables(page)
        finally:
            page.close()  # its parsed characters are not needed again

    def close(self) -> None:
        if self._document is not None:
            self._document.close()


def text_with_tables(page: pdfplumber.page.Page) -> str | None:
    """The page with its tables as rows with their header, in reading order; None when
    pdfplumber finds no table with a header and a row on it."""
    tables = [t for t in page.find_tables() if len(t.rows) >= 2]
    if not tables:
        return None
    outside = page
    for table in tables:
        outside = outside.outside_bbox(table.bbox)
    blocks: list[tuple[float, str]] = [
        (line["top"], line["text"]) for line in outside.extract_text_lines(return_chars=False)
    ]
    for table in tables:
        rows = ROW_SEPARATOR.join(rows_with_header(table.extract()))
        blocks.append((table.bbox[1], f"\n{rows}\n"))
    text = "\n".join(text for _, text in sorted(blocks, key=lambda block: block[0]))
    return text.replace("\n\n\n", "\n\n").strip()
