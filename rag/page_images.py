"""The cited page as a picture: a PDF page (or a scanned image) rendered with the cited
sentences highlighted, so a reader sees the passage where it stands.

Words and their boxes come from the PDF's text layer (pdfium) or, for a scan, from Tesseract;
a cited sentence is found among them word by word (case, punctuation and line breaks ignored)
and each of its words gets a translucent mark.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

import pypdfium2
import pytesseract
from PIL import Image, ImageDraw

from index import ocr
from rag.errors import InputError

__all__ = ["PAGED_SUFFIXES", "cited_page_png"]

PAGED_SUFFIXES = frozenset({".pdf"}) | ocr.IMAGE_SUFFIXES
_DPI = 110  # a page about 900 pixels wide: readable beside the chat
_MARK = (250, 204, 21, 110)  # translucent yellow
_WORD = re.compile(r"\w+")

Box = tuple[float, float, float, float]  # left, top, right, bottom in image pixels


def _norm(word: str) -> str:
    return "".join(_WORD.findall(word.lower()))


def _pdf_words(page: pypdfium2.PdfPage, scale: float) -> list[tuple[str, Box]]:
    """The words of a page's text layer with their boxes in pixels of an image at `scale`."""
    text_page = page.get_textpage()
    height = page.get_height()
    words: list[tuple[str, Box]] = []
    current, box = "", None
    for index in range(text_page.count_chars()):
        char = text_page.get_text_range(index, 1)
        if not char or not (char.isalnum() or char == "_"):
            if current and box:
                words.append((current, box))
            current, box = "", None
            continue
        left, bottom, right, top = text_page.get_charbox(index)
        pixels = (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
        current += char
        box = pixels if box is None else _union(box, pixels)
    if current and box:
        words.append((current, box))
    return words


def _ocr_words(image: Image.Image, scale: float) -> list[tuple[str, Box]]:
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


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _find(words: Sequence[str], sentence: Sequence[str]) -> range | None:
    """Where `sentence` occurs in `words`, or else its longest run of five or more words."""
    n = len(sentence)
    if not n:
        return None
    for start in range(len(words) - n + 1):
        if list(words[start : start + n]) == list(sentence):
            return range(start, start + n)
    best: range | None = None
    for start in range(len(words)):
        for offset in range(n):
            length = 0
            while (
                start + length < len(words)
                and offset + length < n
                and words[start + length] == sentence[offset + length]
            ):
                length += 1
            if length >= 5 and (best is None or length > len(best)):
                best = range(start, start + length)
    return best


def _marked(image: Image.Image, words: list[tuple[str, Box]], sentences: Sequence[str]) -> bytes:
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
    picture.save(out, "PNG", optimize=True)
    return out.getvalue()


def cited_page_png(content: bytes, name: str, page: int, sentences: Sequence[str]) -> bytes:
    """Page `page` (1-based) of the document `content` (named `name`, which says its type)
    as a PNG, each of `sentences` highlighted."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in PAGED_SUFFIXES:
        raise InputError(f"{name} has no pages to show")
    if suffix == ".pdf":
        document = pypdfium2.PdfDocument(content)
        try:
            if not 1 <= page <= len(document):
                raise InputError(f"{name} has no page {page}")
            pdf_page = document[page - 1]
            scale = ocr.render_scale(pdf_page, _DPI)
            image = pdf_page.render(scale=scale).to_pil()
            words = _pdf_words(pdf_page, scale)
            if not words:  # a scan: Tesseract's words, read at its own resolution
                sharp_scale = ocr.render_scale(pdf_page, ocr.OCR_DPI)
                sharp = pdf_page.render(scale=sharp_scale).to_pil()
                words = _ocr_words(sharp, scale / sharp_scale)
        finally:
            document.close()
        return _marked(image, words, sentences)
    with Image.open(io.BytesIO(content)) as scan:
        if scan.width * scan.height > ocr.MAX_PIXELS:
            raise InputError(f"{name} is too large to show")
        if not 1 <= page <= getattr(scan, "n_frames", 1):
            raise InputError(f"{name} has no page {page}")
        scan.seek(page - 1)
        frame = scan.convert("RGB")
    scale = min(1.0, 900 / frame.width)
    shown = frame.resize((round(frame.width * scale), round(frame.height * scale)))
    return _marked(shown, _ocr_words(frame, scale), sentences)
