"""What one page view may cost (rag/web/page_images.py), on real PDFs, scans, PDFium, Pillow and
Tesseract: a crafted page is read only up to the word cap and matched in linear time, the
matching takes no PDFium lock, a huge scan is decoded at a bounded size and one past the pixel
cap is refused from its header, and what is kept for the next view is bounded in bytes."""

from __future__ import annotations

import difflib
import io
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from index import ocr
from rag.errors import InputError
from rag.web.page_images import (
    MAX_SENTENCES,
    MAX_SHOWN_PIXELS,
    MAX_WIDTH,
    READ_PIXELS,
    PageLimits,
    PageReading,
    PageRenderer,
    RunIndex,
    highlighted_png,
)
from tests.made_files import dense_pdf, large_scan, text_pdf

NOTICE = "Forklifts may only be driven by staff"
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")

LAST = "Depot keys are kept in the red cabinet by the north door."


def _yellow(png: bytes) -> int:
    """Pixels of the highlight's colour."""
    rgb = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in rgb.get_flattened_data() if r > 235 and 200 < g < 240 and b < 180)


@settings(max_examples=400, deadline=None)
@given(
    page=st.lists(st.sampled_from("abcd"), max_size=40),
    sentence=st.lists(st.sampled_from("abcde"), max_size=15),
)
def test_the_matcher_finds_the_run_difflib_finds(page: list[str], sentence: list[str]) -> None:
    """The longest common run, the first on the page of those as long (difflib's answer)."""
    match = difflib.SequenceMatcher(None, page, sentence, autojunk=False).find_longest_match(
        0, len(page), 0, len(sentence)
    )
    found = RunIndex(page).longest_run(sentence)
    assert len(found) == match.size
    if match.size:
        assert found.start == match.a
        assert page[found.start : found.stop] == sentence[match.b : match.b + match.size]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A page of 60,000 words, all the same, and one sentence after them."""
    return dense_pdf(tmp_path_factory.mktemp("dense") / "dense.pdf", last=LAST).read_bytes()


def test_a_crafted_page_is_read_up_to_the_word_cap_and_still_marked(crafted: bytes) -> None:
    reading = PageRenderer(PageLimits(max_words=5_000)).read(crafted, "dense.pdf", 1)
    assert len(reading.words) == 5_000  # the page holds 60,012
    assert {word for word, _ in reading.words} == {"travel"}
    assert PageRenderer().read(crafted, "dense.pdf", 1).words[-1][0] == "travel"  # default cap
    repeated = " ".join(["travel"] * 120)
    assert _yellow(highlighted_png(reading, [repeated] * MAX_SENTENCES)) > 100  # 1-point print
    assert _yellow(highlighted_png(reading, [LAST])) == 0  # past the cap: shown unmarked


def test_a_request_marks_at_most_ten_sentences(crafted: bytes) -> None:
    with pytest.raises(InputError, match="at most 10 sentences"):
        PageRenderer().png(crafted, "dense.pdf", 1, ["travel"] * (MAX_SENTENCES + 1))


def test_marking_takes_no_pdf_lock_and_a_kept_page_needs_none(crafted: bytes) -> None:
    """While another thread holds PDFium's lock, a page read before is marked in full."""
    renderer = PageRenderer()
    reading = renderer.read(crafted, "dense.pdf", 1)
    held, release = threading.Event(), threading.Event()

    def hold_pdfium() -> None:
        with ocr.PDFIUM:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold_pdfium)
    holder.start()
    pngs: list[bytes] = []
    try:
        assert held.wait(60)
        marking = threading.Thread(
            target=lambda: pngs.append(
                renderer.png(crafted, "dense.pdf", 1, [" ".join(["travel"] * 80)] * 10)
            )
        )
        marking.start()
        marking.join(120)  # a guard against a deadlock, not a measure of speed
        assert not marking.is_alive(), "marking waited for the PDFium lock"
    finally:
        release.set()
        holder.join()
    assert _yellow(pngs[0]) > 100
    assert renderer.read(crafted, "dense.pdf", 1) is reading


def test_a_huge_jpeg_scan_is_decoded_small_and_still_marked(tmp_path: Path) -> None:
    """10,000 × 8,000 pixels (80 M) is decoded by libjpeg at 1/4 (5 M): within READ_PIXELS,
    the picture within MAX_WIDTH, and Tesseract still finds the cited words."""
    scan = large_scan(tmp_path / "huge.jpg").read_bytes()
    renderer = PageRenderer()
    reading = renderer.read(scan, "huge.jpg", 1)
    assert reading.decoded == (2_500, 2_000)
    assert reading.image.width <= MAX_WIDTH
    assert reading.image.width * reading.image.height <= MAX_SHOWN_PIXELS
    png = renderer.png(scan, "huge.jpg", 1, [NOTICE])
    assert Image.open(io.BytesIO(png)).size == reading.image.size
    assert _yellow(png) > 1000


def test_a_png_scan_is_read_at_most_read_pixels(tmp_path: Path) -> None:
    scan = large_scan(tmp_path / "big.png", size=(5_000, 4_000)).read_bytes()  # 20 M: kept
    reading = PageRenderer().read(scan, "big.png", 1)
    assert reading.decoded[0] * reading.decoded[1] <= READ_PIXELS
    assert reading.image.width <= MAX_WIDTH


def test_a_scan_past_the_pixel_cap_is_refused_from_its_header(tmp_path: Path) -> None:
    """A PNG whose header says 7,000 × 7,000 (49 M, under the 60 M indexing cap) with its
    pixel data cut off: decoding it would fail, so the refusal came before any decoding."""
    Image.new("L", (7_000, 7_000), 255).save(tmp_path / "tall.png")
    header_only = (tmp_path / "tall.png").read_bytes()[:200]
    with pytest.raises(InputError, match=r"too large to show \(more than 25,000,000 pixels\)"):
        PageRenderer().read(header_only, "tall.png", 1)
    with pytest.raises(InputError, match="too large to show"):  # a JPEG past it even at 1/8
        PageRenderer(PageLimits(max_pixels=1_000_000)).read(
            large_scan(tmp_path / "huge.jpg").read_bytes(), "huge.jpg", 1
        )


def test_pages_kept_for_the_next_view_stay_within_their_bytes(tmp_path: Path) -> None:
    pdf = text_pdf(
        tmp_path / "memo.pdf", [f"Memo {n}: the depot opens at 0{n}:00." for n in range(1, 7)]
    )
    content = pdf.read_bytes()
    one_page = PageRenderer().read(content, "memo.pdf", 1).size_bytes
    renderer = PageRenderer(PageLimits(cache_bytes=3 * one_page))
    readings = [renderer.read(content, "memo.pdf", page) for page in range(1, 7)]
    assert renderer.cache.used_bytes <= 3 * one_page
    assert renderer.read(content, "memo.pdf", 6) is readings[5]  # the latest are kept
    assert renderer.read(content, "memo.pdf", 1) is not readings[0]  # the oldest went
    assert isinstance(readings[0], PageReading)
