"""The cited page as a picture: a PDF page (or a scanned image) rendered with the cited
sentences highlighted, so a reader sees the passage where it stands.

Words and their boxes come from the PDF's text layer (PDFium) or, for a scan (a page with less
text than the loader reads by OCR), from Tesseract, whose reading of a page is cached; a cited
sentence is found among them word by word (case, punctuation and line breaks ignored), and the
longest run of its words gets a translucent mark, line by line. Bounded: pages render at most
`MAX_WIDTH` pixels wide, a sentence is matched on its first `MAX_SENTENCE_WORDS` words, and at
most `PARALLEL` pages are read by OCR at once (PDFium itself runs on one thread at a time).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import PurePosixPath

import pypdfium2
import pytesseract
from PIL import Image, ImageDraw

from index import ocr
from index.loaders import MIN_TEXT_LAYER_CHARS
from rag.errors import InputError

__all__ = ["PAGED_SUFFIXES", "cited_page_png"]

PAGED_SUFFIXES = frozenset({".pdf"}) | ocr.IMAGE_SUFFIXES
MAX_WIDTH = 900  # pixels: readable beside the chat
MAX_SENTENCE_WORDS = 80
PARALLEL = 2
_DPI = 110
_MARK = (250, 204, 21, 110)  # translucent yellow
_WORD = re.compile(r"\w+")
_CACHED_PAGES = 32

Box = tuple[float, float, float, float]  # left, top, right, bottom in image pixels
Words = list[tuple[str, Box]]

_reading = threading.BoundedSemaphore(PARALLEL)
_ocr_cache: OrderedDict[tuple[str, int], Words] = OrderedDict()  # (content hash, page) → words
_cache_lock = threading.Lock()


def _norm(word: str) -> str:
    return "".join(_WORD.findall(word.lower()))


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _pdf_words(page: pypdfium2.PdfPage, text_page: pypdfium2.PdfTextPage, scale: float) -> Words:
    """The words of a page's text layer with their boxes in pixels of an image at `scale`
    (an unrotated page; PDF coordinates start at the crop box's lower left corner)."""
    left_edge, _, _, top_edge = page.get_bbox()  # the visible box (a missing CropBox is not Letter)
    words: Words = []
    current, box = "", None
    for index in range(text_page.count_chars()):
        char = text_page.get_text_range(index, 1)
        if not char or not (char.isalnum() or char == "_"):
            if current and box:
                words.append((current, box))
            current, box = "", None
            continue
        left, bottom, right, top = text_page.get_charbox(index)
        pixels = (
            (left - left_edge) * scale,
            (top_edge - top) * scale,
            (right - left_edge) * scale,
            (top_edge - bottom) * scale,
        )
        current += char
        box = pixels if box is None else _union(box, pixels)
    if current and box:
        words.append((current, box))
    return words


def _ocr_words(image: Image.Image, scale: float) -> Words:
    """Tesseract's words of a scan with their boxes, scaled by `scale`."""
    data = pytesseract.image_to_data(
        image.convert("L"),
        lang=ocr.OCR_LANGUAGE,
        output_type=pytesseract.Output.DICT,
        timeout=ocr.OCR_PAGE_SECONDS,
    )
    words = []
    for text, left, top, width, height in zip(
        data["text"], data["left"], data["top"], data["width"], data["height"], strict=True
    ):
        for part in _WORD.findall(str(text)):
            box = (left * scale, top * scale, (left + width) * scale, (top + height) * scale)
            words.append((part, box))
    return words


def _cached(key: tuple[str, int]) -> Words | None:
    with _cache_lock:
        if key in _ocr_cache:
            _ocr_cache.move_to_end(key)
            return _ocr_cache[key]
    return None


def _read_scan(key: tuple[str, int], image: Image.Image, scale: float) -> Words:
    """Tesseract's words of a scan, kept for the next request of the same page."""
    with _reading:
        words = _ocr_words(image, scale)
    with _cache_lock:
        _ocr_cache[key] = words
        while len(_ocr_cache) > _CACHED_PAGES:
            _ocr_cache.popitem(last=False)
    return words


def _find(words: Sequence[str], sentence: Sequence[str]) -> range | None:
    """The longest run of `sentence` (its first MAX_SENTENCE_WORDS words) in `words`: the whole
    sentence when it is there, else a run of five words or more."""
    sentence = list(sentence[:MAX_SENTENCE_WORDS])
    if not sentence:
        return None
    matcher = difflib.SequenceMatcher(None, list(words), sentence, autojunk=False)
    match = matcher.find_longest_match(0, len(words), 0, len(sentence))
    if match.size == len(sentence) or match.size >= 5:
        return range(match.a, match.a + match.size)
    return None


def _marked(image: Image.Image, words: Words, sentences: Sequence[str]) -> bytes:
    normalised = [_norm(w) for w, _ in words]
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for sentence in sentences:
        found = _find(normalised, [_norm(w) for w in _WORD.findall(sentence)])
        lines: list[Box] = []  # the found words, merged line by line
        for index in found or ():
            box = words[index][1]
            if lines and box[1] < lines[-1][3] and box[3] > lines[-1][1]:  # same line
                lines[-1] = _union(lines[-1], box)
            else:
                lines.append(box)
        for left, top, right, bottom in lines:
            draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=_MARK)
    picture = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _pdf_page(content: bytes, digest: str, name: str, page: int) -> tuple[Image.Image, Words]:
    """The page as an image at most MAX_WIDTH wide, and its words placed on it."""
    with ocr.PDFIUM:
        document = pypdfium2.PdfDocument(content)
        try:
            if not 1 <= page <= len(document):
                raise InputError(f"{name} has no page {page}")
            pdf_page = document[page - 1]
            scale = min(ocr.render_scale(pdf_page, _DPI), MAX_WIDTH / max(pdf_page.get_width(), 1))
            image = pdf_page.render(scale=scale).to_pil()
            text_page = pdf_page.get_textpage()
            scanned = len(text_page.get_text_range().strip()) < MIN_TEXT_LAYER_CHARS
            if pdf_page.get_rotation() != 0:  # boxes would need turning: shown unmarked
                return image, []
            if not scanned:
                return image, _pdf_words(pdf_page, text_page, scale)
            if (words := _cached((digest, page))) is not None:
                return image, words
            sharp_scale = ocr.render_scale(pdf_page, ocr.OCR_DPI)
            sharp = pdf_page.render(scale=sharp_scale).to_pil()
        finally:
            document.close()
    # a scan: Tesseract's words, read at its own resolution (outside the PDFium lock)
    words = _read_scan((digest, page), sharp, scale / sharp_scale)
    return image, words


def _scan_frame(content: bytes, digest: str, name: str, page: int) -> tuple[Image.Image, Words]:
    with Image.open(io.BytesIO(content)) as scan:
        if not 1 <= page <= getattr(scan, "n_frames", 1):
            raise InputError(f"{name} has no page {page}")
        scan.seek(page - 1)
        if scan.width * scan.height > ocr.MAX_PIXELS:
            raise InputError(f"{name} is too large to show")
        frame = scan.convert("RGB")
    scale = min(1.0, MAX_WIDTH / frame.width)
    shown = frame.resize((max(1, round(frame.width * scale)), max(1, round(frame.height * scale))))
    words = _cached((digest, page))
    return shown, words if words is not None else _read_scan((digest, page), frame, scale)


def cited_page_png(
    content: bytes, name: str, page: int, sentences: Sequence[str], digest: str | None = None
) -> bytes:
    """Page `page` (1-based) of the document `content` (named `name`, which says its type)
    as a PNG, each of `sentences` highlighted. `digest`, the SHA-256 of `content` when the
    caller has it, keys the OCR cache."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in PAGED_SUFFIXES:
        raise InputError(f"{name} has no pages to show")
    digest = digest or hashlib.sha256(content).hexdigest()
    read = _pdf_page if suffix == ".pdf" else _scan_frame
    image, words = read(content, digest, name, page)
    return _marked(image, words, sentences)
