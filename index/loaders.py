"""Turn a file into plain text with a title and, for paged formats, where each page (slide,
sheet) starts.

Every reader returns the document's full text; chunk offsets index into exactly that text.
Any failure becomes a `LoadError` with a short human reason.

Formats: text, Markdown, HTML, PDF (a page without a text layer is read by OCR, `index/ocr.py`;
ruled tables are kept as rows with their header, `index/pdf_tables.py`), images (.png .jpg
.tiff, by OCR), and in `index/office.py` .docx, .pptx, .xlsx and .csv.

Inputs are bounded before the work (`index/document.py`): a file larger than MAX_FILE_BYTES, an
Office file whose parts unpack to more than MAX_UNPACKED_BYTES (or any part compressed more than
MAX_COMPRESSION times), more than MAX_PAGES pages, slides or sheets, an image of more than
`ocr.MAX_PIXELS` pixels, a PDF part that decompresses past pypdf's limits, a PDF whose text takes
more than MAX_PDF_SECONDS to read (OCR aside), or more than MAX_CHARS characters of text is
refused; a title is cut to MAX_TITLE_CHARS. A parser failing in any other way fails that file
only. OCR is bounded by an `ocr.OcrBudget` (pages and seconds, per document and per job): when
it runs out, a scanned PDF or a multi-frame image keeps the pages read before it, and its
`LoadedDocument.note` says where it stopped.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError
from pypdfium2 import PdfiumError

from index import ocr, pdf_tables
from index.document import (
    MAX_CHARS,
    MAX_COMPRESSION,
    MAX_FILE_BYTES,
    MAX_PAGES,
    MAX_TITLE_CHARS,
    MAX_UNPACKED_BYTES,
    LoadedDocument,
    PageProgress,
    first_line_title,
    join_pages,
    make_title,
)
from index.errors import LoadError
from index.ocr import DocumentOcr, OcrBudget, OcrBudgetSpent, OcrLimits
from index.office import load_csv, load_docx, load_pptx, load_xlsx

MAX_PDF_SECONDS = 120  # a small PDF can make every page decode the same huge stream
MIN_TEXT_LAYER_CHARS = 20  # a page with a picture and less text than this is read by OCR

log = logging.getLogger(__name__)

__all__ = [
    "MAX_CHARS",
    "MAX_COMPRESSION",
    "MAX_FILE_BYTES",
    "MAX_PAGES",
    "MAX_TITLE_CHARS",
    "MAX_UNPACKED_BYTES",
    "SUPPORTED_SUFFIXES",
    "LoadedDocument",
    "OcrBudget",
    "OcrLimits",
    "PageProgress",
    "is_soft_wrap",
    "load_document",
]


_BLOCK_TAGS = [
    "p",
    "div",
    "li",
    "tr",
    "br",
    "pre",
    "table",
    "ul",
    "ol",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dt",
    "dd",
]


def _read_text_file(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise LoadError(path, "binary content, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = from_bytes(raw).best()
        if best is None:
            raise LoadError(path, "binary content, not text") from None
        return str(best)


def _load_txt(path: Path) -> LoadedDocument:
    text = _read_text_file(path)
    return LoadedDocument(path, make_title(first_line_title(text, path), path), text)


def _load_md(path: Path) -> LoadedDocument:
    text = _read_text_file(path)
    heading = re.search(r"^#[ \t]+(.+)$", text, flags=re.MULTILINE)
    title = heading.group(1).strip() if heading else first_line_title(text, path)
    return LoadedDocument(path, make_title(title, path), text)


def _load_html(path: Path) -> LoadedDocument:
    soup = BeautifulSoup(_read_text_file(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(["td", "th"]):
        tag.append(" ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append("\n")
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in soup.get_text().splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    heading = soup.title or soup.find("h1")
    title = heading.get_text(" ", strip=True) if heading else ""
    return LoadedDocument(path, make_title(title or first_line_title(text, path), path), text)


_LINE_START_BLOCK = re.compile(r"\s*(?:[-•*|#>]|\d+[.)]\s)")  # list item, table, heading, quote


def is_soft_wrap(line: str, following: str) -> bool:
    """Whether the line break after `line` only wraps a paragraph: `line` is long (or the
    next line goes on in lower case, as in a scan's short lines), ends no sentence, is no table
    row, and `following` starts no list item, table row or heading."""
    line = line.rstrip()
    return (
        (len(line) >= 50 or following.lstrip()[:1].islower())
        and line[-1:] not in ".!?:"
        and not line.lstrip().startswith("|")
        and not _LINE_START_BLOCK.match(following)
    )


def _unwrap(page_text: str) -> str:
    """Join the lines that PDF layout wrapped mid-sentence, so sentences stay whole."""
    lines = page_text.splitlines()
    out = lines[:1]
    for line in lines[1:]:
        if is_soft_wrap(out[-1], line):
            out[-1] = f"{out[-1].rstrip()} {line.lstrip()}"
        else:
            out.append(line)
    return "\n".join(out)


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


def _load_pdf(path: Path, on_page: PageProgress | None, ocr_budget: DocumentOcr) -> LoadedDocument:
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
                    pages.append(_unwrap(_page_text(path, page, index, layout, ruled, ocr_budget)))
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


def _load_image(
    path: Path, on_page: PageProgress | None, ocr_budget: DocumentOcr
) -> LoadedDocument:
    """A scan or photo of text, read by OCR; each frame of a multi-page TIFF (or animated
    image) is a page, and costs the OCR budget one."""
    pages, note = [], ""
    for frames, frame in ocr.image_pages(path):
        try:
            pages.append(_unwrap(ocr_budget.read(path, frame)))
        except OcrBudgetSpent as spent:
            note = spent.note(len(pages), frames)
            break
        if on_page:
            on_page(len(pages), frames)
    text, starts = join_pages(pages)
    title = make_title(first_line_title(text, path), path)
    return LoadedDocument(path, title, text, starts, note)


def _load_csv(path: Path) -> LoadedDocument:
    return load_csv(path, _read_text_file(path))


Reader = Callable[[Path, PageProgress | None, DocumentOcr], LoadedDocument]


def _unpaged(read: Callable[[Path], LoadedDocument]) -> Reader:
    return lambda path, on_page, ocr_budget: read(path)


def _paged(read: Callable[[Path, PageProgress | None], LoadedDocument]) -> Reader:
    return lambda path, on_page, ocr_budget: read(path, on_page)


_READERS: dict[str, Reader] = {
    ".txt": _unpaged(_load_txt),
    ".md": _unpaged(_load_md),
    ".markdown": _unpaged(_load_md),
    ".html": _unpaged(_load_html),
    ".htm": _unpaged(_load_html),
    ".pdf": _load_pdf,
    ".docx": _unpaged(load_docx),
    ".pptx": _paged(load_pptx),
    ".xlsx": _paged(load_xlsx),
    ".csv": _unpaged(_load_csv),
    **dict.fromkeys(ocr.IMAGE_SUFFIXES, _load_image),
}

SUPPORTED_SUFFIXES = frozenset(_READERS)


def load_document(
    path: Path, on_page: PageProgress | None = None, ocr_budget: OcrBudget | None = None
) -> LoadedDocument:
    """Read `path` into a `LoadedDocument`, or raise `LoadError` saying why not; `on_page`
    hears (pages read, pages) as a paged file (PDF, scan, slides, sheets) is read. OCR draws
    on `ocr_budget`, the job's (shared by the documents of one ingest), within a document's
    share (`OcrLimits`); without one, the document has a job's default budget to itself."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise LoadError(path, f"unsupported file type '{path.suffix or '(none)'}'")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(path, f"larger than {MAX_FILE_BYTES // 2**20} MB")
        document = reader(path, on_page, (ocr_budget or OcrBudget()).for_document())
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(path, f"cannot be read ({exc.strerror or exc})") from exc
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
