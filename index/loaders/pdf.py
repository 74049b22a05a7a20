"""PDF (.pdf), read by pypdf page by page: each page's text layer, its ruled tables as rows with
their header (PDFium and pdfplumber, `index/pdf_tables.py`), and a scanned page (a picture and
almost no text) by OCR (`index/ocr.py`), until the OCR budget runs out. An encrypted file, more
than MAX_PAGES pages, a part past pypdf's decompression limits or text that takes more than
MAX_PDF_SECONDS to read (OCR aside) is refused."""

from __future__ import annotations

import logging
import time
from contextlib import closing
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError
from pypdfium2 import PdfiumError

from index import ocr, pdf_tables
from index.document import (
    MAX_CHARS,
    MAX_PAGES,
    LoadedDocument,
    PageProgress,
    first_line_title,
    join_pages,
    make_title,
)
from index.errors import LoadError
from index.loaders.common import MIN_TEXT_LAYER_CHARS, unwrap
from index.ocr import DocumentOcr, OcrBudgetSpent

__all__ = ["MAX_PDF_SECONDS", "read"]

MAX_PDF_SECONDS = 120  # a small PDF can make every page decode the same huge stream

log = logging.getLogger(__name__)


def _page_text(
    path: Path,
    page: PageObject,
    index: int,
    layout: pdf_tables.PageLayout,
    ruled: pdf_tables.RuledPages,
    ocr_budget: DocumentOcr,
) -> str:
    """The text of one PDF page: its text layer (ruled tables as rows with their header), or
    for a scan (a page with a picture and almost no text) what OCR reads (`OcrBudgetSpent`
    when the budget allows no more)."""
    text = (page.extract_text() or "").strip()
    if index in layout.ruled and text:
        try:
            text = ruled.text(index) or text
        except Exception as exc:  # pdfplumber failing on a page: its text layer will do
            log.warning("tables of page %d of %s unread: %r", index + 1, path.name, exc)
    if len(text) >= MIN_TEXT_LAYER_CHARS or index not in layout.pictured:
        return text
    try:
        return ocr_budget.read(path, lambda: ocr.render_pdf_page(path, index)) or text
    except LoadError:
        if text:  # a short text layer beats no page (Tesseract missing or failing)
            log.warning("page %d of %s kept without OCR", index + 1, path.name)
            return text
        raise


def read(path: Path, on_page: PageProgress | None, ocr_budget: DocumentOcr) -> LoadedDocument:
    """Each page's text layer, or OCR for a scanned page (`_page_text`), up to the page the
    OCR budget runs out at."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(path, "encrypted PDF (a password is required)")
        if len(reader.pages) > MAX_PAGES:
            raise LoadError(path, f"more than {MAX_PAGES:,} pages")
        began = time.monotonic()
        layout = pdf_tables.page_layout(path)
        pages, size, reading, note = [], 0, time.monotonic() - began, ""
        with closing(pdf_tables.RuledPages(path)) as ruled:
            for index, page in enumerate(reader.pages):
                began = time.monotonic()
                try:
                    pages.append(unwrap(_page_text(path, page, index, layout, ruled, ocr_budget)))
                except OcrBudgetSpent as spent:
                    note = spent.note(len(pages), len(reader.pages))
                    break
                reading += time.monotonic() - began
                if reading > MAX_PDF_SECONDS + ocr_budget.seconds_spent:  # OCR: its own budget
                    raise LoadError(path, f"reading its text took over {MAX_PDF_SECONDS} s")
                size += len(pages[-1])
                if size > MAX_CHARS:
                    raise LoadError(path, f"more than {MAX_CHARS:,} characters of text")
                if on_page:
                    on_page(len(pages), len(reader.pages))
        meta_title = str((reader.metadata.title if reader.metadata else None) or "")
    except LoadError:
        raise
    except (PyPdfError, PdfiumError, ValueError, KeyError, TypeError) as exc:  # bombs too
        raise LoadError(path, f"not a readable PDF ({exc})") from exc
    text, starts = join_pages(pages)
    title = make_title(meta_title or first_line_title(text, path), path)
    return LoadedDocument(path, title, text, starts, note)
