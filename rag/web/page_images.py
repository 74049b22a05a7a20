"""The cited page as a picture: a PDF page (or a scanned image) rendered with the cited
sentences highlighted, so a reader sees the passage where it stands.

Words and their boxes come from the PDF's text layer (PDFium) or, for a scan (a page with less
text than the loader reads by OCR), from Tesseract; a cited sentence is found among them word
by word (case, punctuation and line breaks ignored), and the longest run of its words gets a
translucent mark, line by line.

Two steps, so that the one PDFium lock is held only while PDFium works: `PageRenderer.read`
draws the page and places its words (PDFium under `ocr.PDFIUM`, Tesseract under a semaphore of
`PARALLEL`), and keeps the reading in a cache bounded in bytes; `highlighted_png` then finds
the sentences and marks them, taking no lock, in time linear in the page's words and the
sentences' (`RunIndex`).

Bounded: a page shows at most `MAX_WIDTH` pixels wide and `MAX_SHOWN_PIXELS` in all; at most
`PageLimits.max_words` words of a page are read; a request marks at most `MAX_SENTENCES`
sentences, each on its first `MAX_SENTENCE_WORDS` words; a scan larger than
`PageLimits.max_pixels` is refused from its header, before it is decoded (a JPEG is decoded at
1/2, 1/4 or 1/8 of its size when that is enough), and Tesseract reads at most `READ_PIXELS`.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytesseract
from PIL import Image, ImageDraw

from index import ocr
from index.loaders import MIN_TEXT_LAYER_CHARS
from rag.errors import InputError

__all__ = [
    "PAGED_SUFFIXES",
    "PageLimits",
    "PageReading",
    "PageRenderer",
    "RunIndex",
    "cited_page_png",
    "highlighted_png",
]

PAGED_SUFFIXES = frozenset({".pdf"}) | ocr.IMAGE_SUFFIXES
MAX_WIDTH = 900  # pixels: readable beside the chat
MAX_SHOWN_PIXELS = 4_000_000  # a page picture: 900 wide and up to ~4,400 tall
MAX_SENTENCES = 10  # sentences marked in one request (the route's limit of spans)
MAX_SENTENCE_WORDS = 80
READ_PIXELS = 12_000_000  # what Tesseract reads of a scan: an A4 page at ~350 dpi
PARALLEL = 2  # scans decoded and read by OCR at once
_DPI = 110
_CHARS_PER_WORD = 8  # text-layer characters looked at per word of the cap
_WORD_BYTES = 300  # memory of one word and its box in the cache, about
_MARK = (250, 204, 21, 110)  # translucent yellow
_WORD = re.compile(r"\w+")

Box = tuple[float, float, float, float]  # left, top, right, bottom in image pixels
Words = list[tuple[str, Box]]

_reading = threading.BoundedSemaphore(PARALLEL)


@dataclass(frozen=True)
class PageLimits:
    """What one page view may cost (settings `page_max_words`, `page_max_pixels`,
    `page_cache_mb`)."""

    max_words: int = 10_000
    max_pixels: int = 25_000_000
    cache_bytes: int = 64 * 2**20


@dataclass(frozen=True)
class PageReading:
    """A page as shown (an image at most MAX_WIDTH wide), its words placed on it (at most
    `PageLimits.max_words`), and the size it was decoded or rendered at to be read."""

    image: Image.Image
    words: Words
    decoded: tuple[int, int]

    @property
    def size_bytes(self) -> int:
        return (
            self.image.width * self.image.height * len(self.image.getbands())
            + len(self.words) * _WORD_BYTES
        )


class RunIndex:
    """Every run of consecutive words of a page, as a suffix automaton: built in time linear in
    the page's words, it finds the longest run of a sentence's words on the page in time
    linear in the sentence (what difflib's `find_longest_match` finds, without its cost of
    page words × sentence words)."""

    def __init__(self, words: Sequence[str]) -> None:
        self._moves: list[dict[str, int]] = []
        self._link: list[int] = []
        self._length: list[int] = []
        self._first_end: list[int] = []  # where on the page the state's runs first end
        last = self._state(0, -1, {})
        for position, word in enumerate(words):
            current = self._state(self._length[last] + 1, position, {})
            state = last
            while state != -1 and word not in self._moves[state]:
                self._moves[state][word] = current
                state = self._link[state]
            if state == -1:
                self._link[current] = 0
            else:
                target = self._moves[state][word]
                if self._length[state] + 1 == self._length[target]:
                    self._link[current] = target
                else:
                    clone = self._state(
                        self._length[state] + 1, self._first_end[target], dict(self._moves[target])
                    )
                    self._link[clone] = self._link[target]
                    while state != -1 and self._moves[state].get(word) == target:
                        self._moves[state][word] = clone
                        state = self._link[state]
                    self._link[target] = self._link[current] = clone
            last = current

    def _state(self, length: int, first_end: int, moves: dict[str, int]) -> int:
        self._moves.append(moves)
        self._link.append(-1)
        self._length.append(length)
        self._first_end.append(first_end)
        return len(self._length) - 1

    def longest_run(self, sentence: Sequence[str]) -> range:
        """The page positions of the longest run of `sentence`'s words found on the page, the
        one that starts first when several are as long (empty when no word is there)."""
        state = length = 0
        best = range(0)
        for word in sentence:
            while state and word not in self._moves[state]:
                state = self._link[state]
                length = self._length[state]
            if word in self._moves[state]:
                state = self._moves[state][word]
                length += 1
            start = self._first_end[state] - length + 1
            if length > len(best) or (length and length == len(best) and start < best.start):
                best = range(start, start + length)
        return best


def _norm(word: str) -> str:
    return "".join(_WORD.findall(word.lower()))


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _find(index: RunIndex, sentence: Sequence[str]) -> range | None:
    """Where `sentence` (its first MAX_SENTENCE_WORDS words) stands on the page: the whole
    sentence when it is there, else its longest run of five words or more."""
    sentence = sentence[:MAX_SENTENCE_WORDS]
    found = index.longest_run(sentence) if sentence else range(0)
    return found if found and (len(found) == len(sentence) or len(found) >= 5) else None


def highlighted_png(reading: PageReading, sentences: Sequence[str]) -> bytes:
    """The page of `reading` as a PNG, each of `sentences` (at most MAX_SENTENCES) marked.
    Takes no lock: it works on what `PageRenderer.read` placed."""
    if len(sentences) > MAX_SENTENCES:
        raise InputError(f"at most {MAX_SENTENCES} sentences can be marked on a page")
    words = reading.words
    index = RunIndex([_norm(w) for w, _ in words]) if sentences else None
    overlay = Image.new("RGBA", reading.image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for sentence in dict.fromkeys(sentences):  # a sentence cited twice is found once
        wanted = [_norm(w) for w in _WORD.findall(sentence[: MAX_SENTENCE_WORDS * 40])]
        found = _find(index, wanted) if index else None
        lines: list[Box] = []  # the found words, merged line by line
        for position in found or ():
            box = words[position][1]
            if lines and box[1] < lines[-1][3] and box[3] > lines[-1][1]:  # same line
                lines[-1] = _union(lines[-1], box)
            else:
                lines.append(box)
        for left, top, right, bottom in lines:
            draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=_MARK)
    picture = Image.alpha_composite(reading.image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _pdf_words(
    page: pypdfium2.PdfPage, text_page: pypdfium2.PdfTextPage, scale: float, max_words: int
) -> tuple[Words, str]:
    """The first `max_words` words of a page's text layer with their boxes in pixels of an
    image at `scale` (an unrotated page; PDF coordinates start at the crop box's lower left
    corner), and the text they were read from. A word's box joins its first and last
    characters' boxes; at most `_CHARS_PER_WORD` characters a word are looked at."""
    left_edge, _, _, top_edge = page.get_bbox()  # the visible box (a missing CropBox is not Letter)
    count = min(text_page.count_chars(), max_words * _CHARS_PER_WORD)
    codes = [pdfium_c.FPDFText_GetUnicode(text_page.raw, at) for at in range(count)]
    text = "".join(chr(code) if code < 0x110000 else " " for code in codes)

    def pixels(at: int) -> Box:
        left, bottom, right, top = text_page.get_charbox(at)
        return (
            (left - left_edge) * scale,
            (top_edge - top) * scale,
            (right - left_edge) * scale,
            (top_edge - bottom) * scale,
        )

    words: Words = []
    for match in _WORD.finditer(text):
        if len(words) == max_words:
            break
        words.append((match[0], _union(pixels(match.start()), pixels(match.end() - 1))))
    return words, text


def _ocr_words(image: Image.Image, scale: float, max_words: int) -> Words:
    """Tesseract's first `max_words` words of a scan with their boxes, scaled by `scale`."""
    data = pytesseract.image_to_data(
        image.convert("L"),
        lang=ocr.OCR_LANGUAGE,
        output_type=pytesseract.Output.DICT,
        timeout=ocr.OCR_PAGE_SECONDS,
    )
    words: Words = []
    for text, left, top, width, height in zip(
        data["text"], data["left"], data["top"], data["width"], data["height"], strict=True
    ):
        for part in _WORD.findall(str(text)):
            box = (left * scale, top * scale, (left + width) * scale, (top + height) * scale)
            words.append((part, box))
    return words[:max_words]


def _scale_within(page: pypdfium2.PdfPage, dpi: float, width: float, pixels: float) -> float:
    """The scale that renders `page` at `dpi`, or smaller to stay within `width` and `pixels`
    (a page can be declared metres wide or tall)."""
    page_width, page_height = page.get_size()
    fits = (pixels / max(page_width * page_height, 1.0)) ** 0.5
    return float(min(dpi / 72, width / max(page_width, 1.0), fits))


def _shown(image: Image.Image) -> Image.Image:
    """`image` made at most MAX_WIDTH wide and MAX_SHOWN_PIXELS in all, as a new image (one
    that holds no decoder's or PDFium's buffer)."""
    scale = min(
        1.0, MAX_WIDTH / image.width, (MAX_SHOWN_PIXELS / (image.width * image.height)) ** 0.5
    )
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size) if size != image.size else image.copy()  # its own pixels


def _draft_size(size: tuple[int, int], pixels: int) -> tuple[int, int]:
    """The size to ask of a JPEG decoder (it scales by 1/2, 1/4 or 1/8 as it decodes) for the
    largest of its scales that fits in `pixels` (1/8 when none does)."""
    width, height = size
    scale = 1
    while scale < 8 and math.ceil(width / scale) * math.ceil(height / scale) > pixels:
        scale *= 2
    return max(1, width // scale), max(1, height // scale)


class _Cache:
    """Pages read lately, within `budget` bytes; the least recently used go first."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._used = 0
        self._pages: OrderedDict[tuple[str, int], PageReading] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> PageReading | None:
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        return None

    def put(self, key: tuple[str, int], reading: PageReading) -> None:
        size = reading.size_bytes
        if size > self._budget:
            return
        with self._lock:
            if key in self._pages:
                self._used -= self._pages.pop(key).size_bytes
            self._pages[key] = reading
            self._used += size
            while self._used > self._budget:
                self._used -= self._pages.popitem(last=False)[1].size_bytes

    @property
    def used_bytes(self) -> int:
        return self._used


class PageRenderer:
    """Reads pages for page views within `limits`, keeping what it read for the next view."""

    def __init__(self, limits: PageLimits | None = None) -> None:
        self.limits = limits or PageLimits()
        self.cache = _Cache(self.limits.cache_bytes)

    def png(
        self,
        content: bytes,
        name: str,
        page: int,
        sentences: Sequence[str],
        digest: str | None = None,
    ) -> bytes:
        """Page `page` (1-based) of the document `content` (named `name`, which says its type)
        as a PNG, each of `sentences` highlighted."""
        if len(sentences) > MAX_SENTENCES:  # refused before the page is read
            raise InputError(f"at most {MAX_SENTENCES} sentences can be marked on a page")
        return highlighted_png(self.read(content, name, page, digest), sentences)

    def read(self, content: bytes, name: str, page: int, digest: str | None = None) -> PageReading:
        """The page drawn and its words placed; `digest`, the SHA-256 of `content` when the
        caller has it, keys the cache."""
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in PAGED_SUFFIXES:
            raise InputError(f"{name} has no pages to show")
        key = (digest or hashlib.sha256(content).hexdigest(), page)
        if (cached := self.cache.get(key)) is not None:
            return cached
        read = self._read_pdf if suffix == ".pdf" else self._read_scan
        reading = read(content, name, page, key)
        self.cache.put(key, reading)
        return reading

    def _read_pdf(self, content: bytes, name: str, page: int, key: tuple[str, int]) -> PageReading:
        with ocr.PDFIUM:
            if (cached := self.cache.get(key)) is not None:  # read while this view waited
                return cached
            document = pypdfium2.PdfDocument(content)
            try:
                if not 1 <= page <= len(document):
                    raise InputError(f"{name} has no page {page}")
                pdf_page = document[page - 1]
                scale = _scale_within(pdf_page, _DPI, MAX_WIDTH, MAX_SHOWN_PIXELS)
                image = _shown(pdf_page.render(scale=scale).to_pil())
                if pdf_page.get_rotation() != 0:  # boxes would need turning: shown unmarked
                    return PageReading(image, [], image.size)
                words, text = _pdf_words(
                    pdf_page, pdf_page.get_textpage(), scale, self.limits.max_words
                )
                if len(text.strip()) >= MIN_TEXT_LAYER_CHARS:
                    return PageReading(image, words, image.size)
                read_scale = _scale_within(
                    pdf_page, ocr.OCR_DPI, math.inf, min(READ_PIXELS, self.limits.max_pixels)
                )
                sharp = pdf_page.render(scale=read_scale).to_pil()
            finally:
                document.close()
        # a scan: Tesseract's words, read at its own resolution (outside the PDFium lock)
        with _reading:
            words = _ocr_words(sharp, scale / read_scale, self.limits.max_words)
        return PageReading(image, words, sharp.size)

    def _read_scan(self, content: bytes, name: str, page: int, key: tuple[str, int]) -> PageReading:
        with _reading:
            if (cached := self.cache.get(key)) is not None:  # read while this view waited
                return cached
            sharp = self._decode(content, name, page)
            image = _shown(sharp)
            words = _ocr_words(sharp, image.width / sharp.width, self.limits.max_words)
        return PageReading(image, words, sharp.size)

    def _decode(self, content: bytes, name: str, page: int) -> Image.Image:
        """Frame `page` of a scan at most READ_PIXELS large, decoded only if its header says
        it fits in `max_pixels` (a JPEG as scaled down by its decoder)."""
        too_large = f"{name} is too large to show (more than {self.limits.max_pixels:,} pixels)"
        ocr.pillow_limits()  # as when a scan is ingested
        try:
            scan = Image.open(io.BytesIO(content))
            scan.seek(page - 1)
        except Image.DecompressionBombError as exc:  # past Pillow's own limit
            raise InputError(too_large) from exc
        except EOFError:
            raise InputError(f"{name} has no page {page}") from None
        scan.draft(None, _draft_size(scan.size, READ_PIXELS))  # JPEG only; nothing decoded yet
        if scan.width * scan.height > self.limits.max_pixels:
            raise InputError(too_large)
        base = Image.getmodebase(scan.mode)  # "L" or "RGB": what Tesseract and PNG take
        frame = scan.convert(base) if scan.mode != base else scan
        factor = math.ceil((frame.width * frame.height / READ_PIXELS) ** 0.5)
        return frame.reduce(factor) if factor > 1 else frame


_default = PageRenderer()


def cited_page_png(
    content: bytes, name: str, page: int, sentences: Sequence[str], digest: str | None = None
) -> bytes:
    """`PageRenderer.png` with the default limits (for callers without settings)."""
    return _default.png(content, name, page, sentences, digest)
