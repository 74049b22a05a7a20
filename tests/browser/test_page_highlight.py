"""The cited page as a person sees it in Chromium: the yellow band lies on the cited sentence's
words (their boxes by pdfplumber, an independent reader of the PDF), not lines above it; and a
passage that runs across pages cites, shows and highlights the page its sentence is on."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from index.embeddings import Encoder
from rag.runtime import build_runtime
from rag.web.app import create_app
from tests.helpers import SAMPLES, ask, make_settings, serving
from tests.made_files import text_pdf

pytestmark = pytest.mark.browser

SENTENCE = (
    "All flights, trains, hotels and rental cars are booked through our travel management "
    "company, Meridian Travel."
)
# Page 1 ends a few lines in, so one passage holds the end of page 1 and all of page 2.
DEPOT = [
    "Depot rules. The depot gate opens at 07:00 on weekdays.",
    "Forklift batteries are charged overnight in bay 9 next to the wash area.",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, embeddings: Encoder) -> Iterator[str]:
    root = tmp_path_factory.mktemp("highlight")
    (root / "docs").mkdir()
    shutil.copy(SAMPLES / "travel-policy.pdf", root / "docs")
    text_pdf(root / "docs" / "depot-rules.pdf", DEPOT)
    runtime = build_runtime(make_settings(root / "data"), embeddings=embeddings)
    assert not runtime.ingestor.ingest([root / "docs"]).failed
    with serving(create_app(runtime)) as url:
        yield url


@pytest.fixture
def chat_server(server: str) -> str:
    return server


def _shown_page(page: Page, question: str, expected_card: str) -> Image.Image:
    """Ask, open the first source card's page view, and return the picture as shown."""
    ask(page, question)
    card = page.locator("#docent-sources .docent-card").first
    expect(card).to_contain_text(expected_card, timeout=60_000)
    card.locator("details.docent-page summary").click()
    picture = card.locator("details.docent-page img")
    expect(picture).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 500", arg=picture.element_handle()
    )
    return Image.open(io.BytesIO(picture.screenshot(animations="disabled"))).convert("RGB")


def _yellow_rows(image: Image.Image) -> list[int]:
    """Rows holding the highlight's translucent yellow (over white paper)."""
    pixels = image.load()
    rows = []
    for y in range(image.height):
        if any(
            r > 235 and 205 < g < 245 and 120 < b < 190
            for r, g, b in (pixels[x, y] for x in range(0, image.width, 3))
        ):
            rows.append(y)
    return rows


def _line_boxes(pdf: Path, page_number: int, text: str, scale: float) -> list[tuple[float, float]]:
    """Top and bottom, in pixels at `scale`, of each line holding the words of `text`."""
    with pdfplumber.open(pdf) as document:
        words = document.pages[page_number - 1].extract_words()
    wanted = [w.strip(".,") for w in text.split()]
    tokens = [w["text"].strip(".,") for w in words]
    for at in range(len(tokens) - len(wanted) + 1):
        if tokens[at : at + len(wanted)] == wanted:
            found = words[at : at + len(wanted)]
            break
    else:
        raise AssertionError(f"{text!r} not on page {page_number}")
    lines: dict[int, tuple[float, float]] = {}
    for word in found:
        key = round(word["top"])
        top, bottom = lines.get(key, (word["top"], word["bottom"]))
        lines[key] = (min(top, word["top"]), max(bottom, word["bottom"]))
    return [(top * scale, bottom * scale) for top, bottom in sorted(lines.values())]


def _page_width(pdf: Path, page_number: int) -> float:
    with pdfplumber.open(pdf) as document:
        return float(document.pages[page_number - 1].width)


def test_the_highlight_covers_the_cited_words_and_nothing_lines_above(page: Page) -> None:
    shown = _shown_page(page, "Which travel agency books our flights?", "travel-policy.pdf, page 1")
    pdf = SAMPLES / "travel-policy.pdf"
    scale = shown.width / _page_width(pdf, 1)
    lines = _line_boxes(pdf, 1, SENTENCE, scale)
    rows = _yellow_rows(shown)
    assert rows, "the page shows a highlight"
    line_height = lines[0][1] - lines[0][0]
    for top, bottom in lines:  # every line of the sentence is marked
        middle = (top + bottom) / 2
        assert any(abs(y - middle) < line_height / 2 for y in rows), (top, bottom, rows[:5])
    # nothing marked a line or more above the sentence or below it
    assert min(rows) > lines[0][0] - line_height, (min(rows), lines[0])
    assert max(rows) < lines[-1][1] + line_height, (max(rows), lines[-1])


def test_a_sentence_on_the_second_page_cites_and_shows_that_page(page: Page) -> None:
    shown = _shown_page(page, "Where are forklift batteries charged?", "depot-rules.pdf, page 2")
    assert "page 2" in page.locator("#docent-sources .docent-card").first.inner_text()
    # the picture is page 2: the band sits where its only sentence is
    pdf_width = 210 / 25.4 * 72  # A4, fpdf2's default
    scale = shown.width / pdf_width
    rows = _yellow_rows(shown)
    assert rows and min(rows) < 60 * scale + 40, "page 2's sentence is at its top"
