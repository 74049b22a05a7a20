"""Turn a file into plain text with a title and, for paged formats, where each page (slide,
sheet) starts.

Every reader returns the document's full text; chunk offsets index into exactly that text.
Any failure becomes a `LoadError` with a short human reason.

One module per format, each imported by the first file of its format (`load_document`), so
that importing this package (as the read path does, for its names) loads no parser:

- `text`: .txt, .md, .markdown (no parser; charset_normalizer only for a file not in UTF-8)
- `html`: .html, .htm (BeautifulSoup)
- `pdf`: .pdf (pypdf; PDFium and pdfplumber for drawn rules and tables, `index/pdf_tables.py`;
  a page without a text layer is read by OCR, `index/ocr.py`)
- `image`: .png, .jpg, .jpeg, .tif, .tiff (Pillow and Tesseract, by OCR)
- `docx`, `pptx`, `xlsx`: Word, PowerPoint and Excel (python-docx, python-pptx, openpyxl)
- `csv`: .csv (the standard library's csv, with its own delimiter guess)

Each has `read(path, on_page, ocr)` (`common.Reader`). What they share is in `common` (text
decoding, unwrapping soft line breaks, tables as lines) and in `index/document.py` (the
document, the limits, the zip guard and the title helpers).

Inputs are bounded before the work (`index/document.py`): a file larger than MAX_FILE_BYTES, an
Office file whose parts unpack to more than MAX_UNPACKED_BYTES (or any part compressed more than
MAX_COMPRESSION times), more than MAX_PAGES pages, slides or sheets, an image of more than
`ocr.MAX_PIXELS` pixels, a PDF part that decompresses past pypdf's limits, a PDF whose text takes
more than `pdf.MAX_PDF_SECONDS` to read (OCR aside), or more than MAX_CHARS characters of text
is refused; a title is cut to MAX_TITLE_CHARS. A parser failing in any other way fails that file
only. OCR is bounded by an `ocr.OcrBudget` (pages and seconds, per document and per job): when
it runs out, a scanned PDF or a multi-frame image keeps the pages read before it, and its
`LoadedDocument.note` says where it stopped.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from index.document import (
    MAX_CHARS,
    MAX_COMPRESSION,
    MAX_FILE_BYTES,
    MAX_PAGES,
    MAX_TITLE_CHARS,
    MAX_UNPACKED_BYTES,
    LoadedDocument,
    PageProgress,
)
from index.errors import LoadError
from index.loaders.common import MIN_TEXT_LAYER_CHARS, Reader, is_soft_wrap
from index.ocr import IMAGE_SUFFIXES, OcrBudget, OcrLimits

log = logging.getLogger(__name__)

__all__ = [
    "MAX_CHARS",
    "MAX_COMPRESSION",
    "MAX_FILE_BYTES",
    "MAX_PAGES",
    "MAX_TITLE_CHARS",
    "MAX_UNPACKED_BYTES",
    "MIN_TEXT_LAYER_CHARS",
    "SUPPORTED_SUFFIXES",
    "LoadedDocument",
    "OcrBudget",
    "OcrLimits",
    "PageProgress",
    "is_soft_wrap",
    "load_document",
]

# The module of this package that reads each suffix.
_FORMATS: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    **dict.fromkeys(IMAGE_SUFFIXES, "image"),
}

SUPPORTED_SUFFIXES = frozenset(_FORMATS)


def _reader(format_name: str) -> Reader:
    """The `read` of the format's module, imported (with its parser) by its first file."""
    reader: Reader = importlib.import_module(f"{__name__}.{format_name}").read
    return reader


def _unreadable(path: Path, exc: OSError) -> LoadError:
    return LoadError(path, f"cannot be read ({exc.strerror or exc})")


def load_document(
    path: Path, on_page: PageProgress | None = None, ocr_budget: OcrBudget | None = None
) -> LoadedDocument:
    """Read `path` into a `LoadedDocument`, or raise `LoadError` saying why not; `on_page`
    hears (pages read, pages) as a paged file (PDF, scan, slides, sheets) is read. OCR draws
    on `ocr_budget`, the job's (shared by the documents of one ingest), within a document's
    share (`OcrLimits`); without one, the document has a job's default budget to itself."""
    format_name = _FORMATS.get(path.suffix.lower())
    if format_name is None:
        raise LoadError(path, f"unsupported file type '{path.suffix or '(none)'}'")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if size > MAX_FILE_BYTES:
        raise LoadError(path, f"larger than {MAX_FILE_BYTES // 2**20} MB")
    read = _reader(format_name)  # not under the parser's guard: a missing parser is no bad file
    try:
        document = read(path, on_page, (ocr_budget or OcrBudget()).for_document())
    except LoadError:
        raise
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except Exception as exc:  # a parser meeting hostile input: this file fails, not the batch
        log.warning("parser failure on %s", path.name, exc_info=exc)
        raise LoadError(path, f"could not be parsed ({type(exc).__name__})") from exc
    if len(document.text) > MAX_CHARS:
        raise LoadError(path, f"more than {MAX_CHARS:,} characters of text")
    if not document.text.strip():
        raise LoadError(
            path,
            document.note or "no text found (an empty file, or a picture without legible text)",
        )
    return document
