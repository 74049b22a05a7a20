"""Text from pictures of text: scanned PDF pages and image files, read by Tesseract
(Debian `tesseract-ocr`, `make setup` installs it) through pytesseract; and the one lock every
use of PDFium takes (`PDFIUM`: PDFium may never run on two threads at once).

Bounded: each image or TIFF frame of more than MAX_PIXELS pixels is refused before it is
decoded, a PDF page is rendered at OCR_DPI (enough for 10-point print) or smaller so as not to
pass MAX_PIXELS, and Tesseract gets OCR_PAGE_SECONDS a page.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pypdfium2
from PIL import Image, UnidentifiedImageError

from index.document import MAX_PAGES
from index.errors import LoadError

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "PDFIUM",
    "image_pages",
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

# Opening reads only the header; `image_pages` refuses a frame of more than MAX_PIXELS before
# decoding it (Pillow refuses twice that by itself), so Pillow's warning says nothing new.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def recognise(image: Image.Image, path: Path) -> str:
    """The text Tesseract reads in `image` (empty when it finds none)."""
    import pytesseract  # it imports pandas: loaded by the first page to read, not at start-up

    try:
        text = pytesseract.image_to_string(
            image.convert("L"), lang=OCR_LANGUAGE, timeout=OCR_PAGE_SECONDS
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise LoadError(path, "needs OCR, but Tesseract is not installed (make setup)") from exc
    except pytesseract.TesseractError as exc:  # its message may name server paths: not shown
        raise LoadError(path, "OCR failed (Tesseract could not read a page)") from exc
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout"
        raise LoadError(path, f"OCR of a page took over {OCR_PAGE_SECONDS} s") from exc
    return str(text).strip()


def render_scale(page: pypdfium2.PdfPage, dpi: int) -> float:
    """The scale that renders `page` at `dpi`, or smaller if that would pass MAX_PIXELS (a
    page can be declared metres wide)."""
    width, height = page.get_size()
    pixels_per_point = (MAX_PIXELS / max(width * height, 1.0)) ** 0.5
    return float(min(dpi / 72, pixels_per_point))


def render_pdf_page(path: Path, index: int, dpi: int = OCR_DPI) -> Image.Image:
    """Page `index` (0-based) of the PDF as an image."""
    with PDFIUM:
        document = pypdfium2.PdfDocument(path)
        try:
            page = document[index]
            image: Image.Image = page.render(scale=render_scale(page, dpi)).to_pil()
            return image
        finally:
            document.close()


def image_pages(path: Path) -> Iterator[tuple[int, Image.Image]]:
    """(frames, frame) for each frame of an image file (a multi-page TIFF has several), each
    checked for its size before it is decoded."""
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_PAGES:
                raise LoadError(path, f"more than {MAX_PAGES:,} pages")
            for index in range(frames):
                image.seek(index)
                if image.width * image.height > MAX_PIXELS:
                    raise LoadError(path, f"more than {MAX_PIXELS // 1_000_000} million pixels")
                yield frames, image.copy()
    except Image.DecompressionBombError as exc:
        raise LoadError(path, f"more than {MAX_PIXELS // 1_000_000} million pixels") from exc
    except (UnidentifiedImageError, EOFError) as exc:
        raise LoadError(path, "not a readable image") from exc
