"""Text from pictures of text: scanned PDF pages and image files, read by Tesseract
(Debian `tesseract-ocr`, `make setup` installs it) through pytesseract; and the one lock every
use of PDFium takes (`PDFIUM`: PDFium may never run on two threads at once).

Bounded: each image or TIFF frame of more than MAX_PIXELS pixels is refused before it is
decoded, a PDF page is rendered at OCR_DPI (enough for 10-point print) or smaller so as not to
pass MAX_PIXELS, and Tesseract gets OCR_PAGE_SECONDS a page. Above that, an `OcrBudget` bounds
the pages and seconds of OCR of one job (one ingest call) and of each of its documents
(`OcrLimits`): a scanned PDF of 2,000 blank pages or a TIFF of 2,000 frames costs at most a
document's share, and the reader keeps the pages read before the budget ran out.

Light to import (the read path imports it for `OcrLimits` and `PDFIUM`): Pillow, PDFium and
pytesseract load with the first page read, rendered or decoded.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.document import MAX_PAGES
from index.errors import LoadError

if TYPE_CHECKING:
    import pypdfium2
    from PIL import Image

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "PDFIUM",
    "DocumentOcr",
    "OcrBudget",
    "OcrBudgetSpent",
    "OcrLimits",
    "PageTimeout",
    "image_pages",
    "pillow_limits",
    "recognise",
    "render_pdf_page",
    "render_scale",
]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
MAX_PIXELS = 60_000_000  # a 600-dpi A3 scan is ~70 M: more is a decompression bomb, not a page
OCR_DPI = 200
OCR_PAGE_SECONDS = 120
OCR_LANGUAGE = "eng"
PDFIUM = threading.RLock()


def pillow_limits() -> None:
    """Set Pillow's limits (process-wide) before an image file is opened: opening reads only
    the header; `image_pages` refuses a frame of more than MAX_PIXELS before decoding it
    (Pillow refuses twice that by itself), so Pillow's warning says nothing new."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class PageTimeout(LoadError):
    """Tesseract was stopped: the page took longer than it was given."""


def recognise(image: Image.Image, path: Path, seconds: float = OCR_PAGE_SECONDS) -> str:
    """The text Tesseract reads in `image` (empty when it finds none) within `seconds`."""
    import pytesseract  # it imports pandas: loaded by the first page to read, not at start-up

    try:
        text = pytesseract.image_to_string(
            image.convert("L"),
            lang=OCR_LANGUAGE,
            timeout=max(seconds, 0.01),  # 0: no limit
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise LoadError(path, "needs OCR, but Tesseract is not installed (make setup)") from exc
    except pytesseract.TesseractError as exc:  # its message may name server paths: not shown
        raise LoadError(path, "OCR failed (Tesseract could not read a page)") from exc
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout"
        raise PageTimeout(path, f"OCR of a page took over {seconds:.0f} s") from exc
    return str(text).strip()


@dataclass(frozen=True)
class OcrLimits:
    """The most OCR (pages read by Tesseract: scanned PDF pages, image frames, and the seconds
    spent rendering and reading them) that one document and one job may cost. A job is one
    ingest call: an upload, a folder, a watcher's sync, a queued job."""

    document_pages: int = 300
    document_seconds: float = 600.0
    job_pages: int = 1000
    job_seconds: float = 1800.0


class OcrBudgetSpent(Exception):
    """No OCR is left for the next page; the reader keeps the pages read before it."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit  # e.g. "the document's OCR budget (300 pages)"

    def note(self, pages_read: int, pages: int) -> str:
        """What a partly read document says of itself."""
        return (
            f"read {pages_read:,} of {pages:,} pages, stopped at page {pages_read + 1:,}: "
            f"{self.limit} is spent"
        )


class _Allowance:
    """Pages and seconds one budget (a job's, a document's) has left; guarded by its job's
    lock."""

    def __init__(self, whose: str, pages: int, seconds: float) -> None:
        self.whose = whose
        self.pages_limit, self.seconds_limit = pages, seconds
        self.pages, self.seconds = pages, seconds

    def limit(self, pages: bool) -> str:
        """Its limit in words: of pages, or of seconds."""
        amount = f"{self.pages_limit:,} pages" if pages else f"{self.seconds_limit:,g} s"
        return f"the {self.whose}'s OCR budget ({amount})"

    def spent(self) -> str | None:
        """Which of its limits is spent, in words, or None while a page may be read."""
        if self.pages <= 0:
            return self.limit(pages=True)
        if self.seconds <= 0:
            return self.limit(pages=False)
        return None


class OcrBudget:
    """The OCR one job may still spend, shared by its documents and by the threads that read
    them; each document draws on it through `for_document`, within its own share."""

    def __init__(self, limits: OcrLimits | None = None) -> None:
        self.limits = limits or OcrLimits()
        self.lock = threading.Lock()
        self.job = _Allowance("job", self.limits.job_pages, self.limits.job_seconds)

    @property
    def pages_left(self) -> int:
        with self.lock:
            return max(self.job.pages, 0)

    def for_document(self) -> DocumentOcr:
        limits = self.limits
        return DocumentOcr(
            self, _Allowance("document", limits.document_pages, limits.document_seconds)
        )


class DocumentOcr:
    """One document's OCR: a page is read only while both its own share and its job's budget
    allow one, and Tesseract is stopped when the seconds left of either run out."""

    def __init__(self, budget: OcrBudget, document: _Allowance) -> None:
        self.budget = budget
        self.allowances = (document, budget.job)
        self.seconds_spent = 0.0  # this document's OCR so far

    def read(self, path: Path, image: Callable[[], Image.Image]) -> str:
        """The text of one page, `image()` (rendered or decoded only if the budget allows a
        page), charged to the budgets. Raises `OcrBudgetSpent` when none is left for it."""
        with self.budget.lock:
            for allowance in self.allowances:
                if (limit := allowance.spent()) is not None:
                    raise OcrBudgetSpent(limit)
            for allowance in self.allowances:
                allowance.pages -= 1
            tightest = min(self.allowances, key=lambda allowance: allowance.seconds)
            seconds = min(tightest.seconds, OCR_PAGE_SECONDS)
        began = time.monotonic()
        try:
            return recognise(image(), path, seconds)
        except PageTimeout:
            if seconds >= OCR_PAGE_SECONDS:  # the page's own limit, not the budget's
                raise
        finally:
            elapsed = time.monotonic() - began
            self.seconds_spent += elapsed
            with self.budget.lock:
                for allowance in self.allowances:
                    allowance.seconds -= elapsed
        raise OcrBudgetSpent(tightest.limit(pages=False))


def render_scale(page: pypdfium2.PdfPage, dpi: int) -> float:
    """The scale that renders `page` at `dpi`, or smaller if that would pass MAX_PIXELS (a
    page can be declared metres wide)."""
    width, height = page.get_size()
    pixels_per_point = (MAX_PIXELS / max(width * height, 1.0)) ** 0.5
    return float(min(dpi / 72, pixels_per_point))


def render_pdf_page(path: Path, index: int, dpi: int = OCR_DPI) -> Image.Image:
    """Page `index` (0-based) of the PDF as an image."""
    import pypdfium2

    with PDFIUM:
        document = pypdfium2.PdfDocument(path)
        try:
            page = document[index]
            image: Image.Image = page.render(scale=render_scale(page, dpi)).to_pil()
            return image
        finally:
            document.close()


def image_pages(path: Path) -> Iterator[tuple[int, Callable[[], Image.Image]]]:
    """(frames, decode) for each frame of an image file (a multi-page TIFF or an animated PNG
    has several): `decode()`, called before the next frame is asked for, checks the frame's
    size and decodes it."""
    from PIL import Image

    pillow_limits()
    with _readable(path), Image.open(path) as image:
        frames = getattr(image, "n_frames", 1)
        if frames > MAX_PAGES:
            raise LoadError(path, f"more than {MAX_PAGES:,} pages")
        for index in range(frames):
            yield frames, functools.partial(_frame, path, image, index)


def _frame(path: Path, image: Image.Image, index: int) -> Image.Image:
    with _readable(path):
        image.seek(index)
        if image.width * image.height > MAX_PIXELS:
            raise LoadError(path, f"more than {MAX_PIXELS // 1_000_000} million pixels")
        return image.copy()


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Pillow's refusals as `LoadError`s."""
    from PIL import Image, UnidentifiedImageError

    try:
        yield
    except Image.DecompressionBombError as exc:
        raise LoadError(path, f"more than {MAX_PIXELS // 1_000_000} million pixels") from exc
    except (UnidentifiedImageError, EOFError) as exc:
        raise LoadError(path, "not a readable image") from exc
