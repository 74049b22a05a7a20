"""Tables inside PDFs, kept as rows with their header instead of run-together text.

A page is looked at only when pdfium counts enough drawn paths on it for a ruled table
(`MIN_RULES`: cheap, so plain pages keep pypdf's fast text); pdfplumber then finds the tables,
and the page is read again in reading order: its text lines outside the tables, and each table
as rows that carry their header (`index/tables.py`) where it stands.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_c

from index.tables import ROW_SEPARATOR, rows_with_header

__all__ = ["MIN_RULES", "ruled_pages", "text_with_tables"]

MIN_RULES = 4  # drawn paths on a page before it may hold a ruled table


def ruled_pages(path: Path) -> set[int]:
    """0-based indexes of the pages with enough drawn paths to hold a ruled table."""
    document = pypdfium2.PdfDocument(path)
    try:
        ruled = set()
        for index in range(len(document)):
            paths = document[index].get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,))
            if len(list(islice(paths, MIN_RULES))) == MIN_RULES:
                ruled.add(index)
        return ruled
    finally:
        document.close()


def text_with_tables(path: Path, index: int) -> str | None:
    """Page `index` with its tables as rows with their header, in reading order; None when
    pdfplumber finds no table with a header and a row on it."""
    with pdfplumber.open(path, pages=[index + 1]) as document:
        page = document.pages[0]
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
